"""Static files, fingerprinted: ``style.css`` is served as ``/static/style.<hash>.css``.

The files are small and few, so they are read once at start-up, compressed once (brotli at
its best quality, gzip) and served from memory with a year-long immutable cache lifetime; a
changed file gets a new address. Each coding has its own strong ETag.
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
from greenweb.web.http import compression
from greenweb.web.http.etag import make_etag, none_match
from greenweb.web.http.headers import header_value
from greenweb.web.http.negotiation import Coding, choose_coding
from greenweb.web.shows import shows
from greenweb.web.site import site_of

IMMUTABLE = "max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    name: str  # as written in templates: "style.css"
    served_name: str  # "style.0123456789.css"
    body: bytes
    media_type: str
    etag: str
    # coding -> (bytes sent, ETag); "identity" always, br and gzip where they pay.
    variants: dict[str, tuple[bytes, str]]

    def variant(self, coding: Coding) -> tuple[Coding, bytes, str]:
        if coding in self.variants:
            body, etag = self.variants[coding]
            return coding, body, etag
        body, etag = self.variants["identity"]
        return "identity", body, etag

    @property
    def negotiated(self) -> bool:
        return len(self.variants) > 1


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
        served, _ = fingerprint(path.name, body)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type == "image/svg+xml":
            media_type += "; charset=utf-8"
        variants = precompress(body, media_type)
        assets[path.name] = Asset(
            path.name, served, body, media_type, variants["identity"][1], variants
        )
    return assets


def precompress(body: bytes, media_type: str) -> dict[str, tuple[bytes, str]]:
    variants = {"identity": (body, make_etag(body))}
    if compression.is_compressible(media_type) and len(body) >= compression.MIN_SIZE:
        coding: Coding
        for coding in ("br", "gzip"):
            encoded = compression.encode_body(body, coding, stored=True)
            if compression.pays(len(body), len(encoded), coding):
                variants[coding] = (encoded, make_etag(encoded, coding))
    return variants


class AssetRegistry:
    def __init__(self, assets: dict[str, Asset]) -> None:
        self.by_name = assets
        self.by_served_name = {asset.served_name: asset for asset in assets.values()}

    def url(self, name: str) -> str:
        """The fingerprinted path of a static file, for templates."""
        return f"/static/{self.by_name[name].served_name}"


async def asset_GET(request: Request) -> Response:
    shows(request)  # read at start-up; a changed file gets a new address
    asset = site_of(request).assets.by_served_name.get(request.path_params["name"])
    if asset is None:
        return Response(
            "File non trovato.", status_code=404, media_type="text/plain; charset=utf-8"
        )
    coding, body, etag = asset.variant(
        choose_coding(header_value(request.scope["headers"], b"accept-encoding"))
    )
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag}
    if asset.negotiated:
        headers["Vary"] = "Accept-Encoding"
    if coding != "identity":
        headers["Content-Encoding"] = coding
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and none_match(if_none_match, etag):
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=asset.media_type, headers=headers)


routes = [Route("/static/{name}", asset_GET, name="static")]
