"""``/static/{name}``: the fingerprinted static files (``web/static_files.py``), served
from memory with a year-long immutable cache lifetime, in the coding the client accepts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.web.http.etag import none_match
from greenweb.web.http.headers import header_value
from greenweb.web.http.negotiation import choose_coding
from greenweb.web.shows import shows
from greenweb.web.site import site_of

IMMUTABLE = "max-age=31536000, immutable"


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
