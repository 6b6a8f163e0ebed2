"""Static files, fingerprinted: ``style.css`` is served as ``/static/style.<hash>.css``.

The files are small and few, so they are read once at start-up and served from memory
with a year-long immutable cache lifetime; a changed file gets a new address.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.paths import static_dir

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str  # as written in templates: "style.css"
    served_name: str  # "style.0123456789.css"
    body: bytes
    media_type: str
    etag: str


def fingerprint(name: str, body: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(body).hexdigest()[:10]
    stem, dot, suffix = name.rpartition(".")
    served = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
    return served, digest


def load_assets(folder: Path | None = None) -> dict[str, Asset]:
    """Every regular file of the static folder, keyed by its plain name."""
    folder = folder or static_dir()
    assets = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        body = path.read_bytes()
        served, digest = fingerprint(path.name, body)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type == "image/svg+xml":
            media_type += "; charset=utf-8"
        assets[path.name] = Asset(path.name, served, body, media_type, f'"{digest}"')
    return assets


class AssetRegistry:
    def __init__(self, assets: dict[str, Asset]) -> None:
        self.by_name = assets
        self.by_served_name = {asset.served_name: asset for asset in assets.values()}

    def url(self, name: str) -> str:
        """The fingerprinted path of a static file, for templates."""
        return f"/static/{self.by_name[name].served_name}"


async def asset_GET(request: Request) -> Response:
    registry: AssetRegistry = request.app.state.assets
    asset = registry.by_served_name.get(request.path_params["name"])
    if asset is None:
        return Response(
            "File non trovato.", status_code=404, media_type="text/plain; charset=utf-8"
        )
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


routes = [Route("/static/{name}", asset_GET, name="static")]
