"""``/bollettino/`` -> ``/bollettino``: the trailing-slash redirect, with a relative Location.

Starlette's own redirect (``Router.redirect_slashes``) builds an absolute URL from the
request's ``Host`` header, so ``GET /bollettino/`` with ``Host: evil.example`` answered
``307 Location: http://evil.example/bollettino``: anyone able to put a forged Host in
front of a shared cache could send readers elsewhere. ``create_app`` turns that redirect
off and puts ``routes`` last: a relative Location never names a host.

Only GET and HEAD are redirected (a link or a typed address); anything else that ends in
a slash is a 404, as are paths whose slashless form matches no route, starts with ``//``
(a protocol-relative address) or holds a backslash (which browsers read as a slash).
"""

from __future__ import annotations

from urllib.parse import quote, quote_from_bytes

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Route

from greenweb.web.errors import not_found

# Characters kept as they are: RFC 3986 pchar and "/" in the path (the path is decoded, so
# "%" is escaped again); the query is passed on as sent, its escapes included.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?%"


def matches_a_route(request: Request, path: str) -> bool:
    scope = {**request.scope, "path": path, "root_path": ""}
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) is slash_redirect:
            continue
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return True
    return False


async def slash_redirect(request: Request) -> Response:
    path = request.url.path
    stripped = path[:-1]
    if (
        request.method not in {"GET", "HEAD"}
        or not stripped
        or stripped.startswith("//")
        or "\\" in stripped
        or not matches_a_route(request, stripped)
    ):
        raise not_found()
    location = quote(stripped, safe=_PATH_SAFE)
    query: bytes = request.scope.get("query_string", b"")
    if query:
        location += "?" + quote_from_bytes(query, safe=_QUERY_SAFE)
    return RedirectResponse(location, status_code=308)


# Every method, so that a POST to "/domande/nuova/" is the 404 it is, not a 405.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

routes: list[BaseRoute] = [
    Route("/{path:path}/", slash_redirect, methods=METHODS, include_in_schema=False)
]
