"""The one URL builder: a route's path, with a canonical query, or its absolute address.

Templates use it as ``url(name, query, **path_params)`` (``templating.py``), views as
:func:`url_for` and :func:`absolute_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, NoMatchFound, Route, Router

from greenweb.web.site import site_of

# Each router's routes by name, and how many routes it had when they were indexed: kept on
# the router itself (Starlette's Router defines __eq__, so it cannot key a dict).
_INDEX = "_greenweb_routes_by_name"


def _routes_named(router: Router, name: str) -> list[BaseRoute]:
    indexed: tuple[int, dict[str, list[BaseRoute]]] | None = getattr(router, _INDEX, None)
    if indexed is None or indexed[0] != len(router.routes):
        by_name: dict[str, list[BaseRoute]] = {}
        for route in router.routes:
            if isinstance(route, Route):
                by_name.setdefault(route.name, []).append(route)
        indexed = (len(router.routes), by_name)
        setattr(router, _INDEX, indexed)
    return indexed[1].get(name, [])


def _route_path(router: Router, name: str, params: dict[str, Any]) -> str:
    """Starlette's ``url_path_for``, without its walk through every route: a page builds
    dozens of links, and with a hundred routes the walk took a third of an uncached
    /domande (benchmarks/README.md). Mounts and unknown names take Starlette's own way."""
    for route in _routes_named(router, name):
        try:
            return str(route.url_path_for(name, **params))
        except NoMatchFound:
            continue
    return str(router.url_path_for(name, **params))


def path_for(
    router: Router | Starlette, name: str, query: dict[str, Any] | None = None, **params: Any
) -> str:
    """The path of route ``name`` (in a router, or an app's), then ``query``.

    Page 1 and empty filters are left out so each list has one canonical address.
    """
    path = _route_path(router.router if isinstance(router, Starlette) else router, name, params)
    kept = {k: v for k, v in (query or {}).items() if v not in (None, "") and (k, v) != ("page", 1)}
    return f"{path}?{urlencode(kept)}" if kept else path


def url_for(request: Request, name: str, query: dict[str, Any] | None = None, **params: Any) -> str:
    """The path (and query) of route ``name`` in the app serving ``request``."""
    return path_for(request.app.router, name, query, **params)


def absolute_url(request: Request, name: str, **params: Any) -> str:
    """The address of route ``name`` under the site's public base URL (feeds, sitemap)."""
    return site_of(request).settings.base_url + url_for(request, name, **params)


def url_pattern(request: Request, name: str, param: str, sample: str | int) -> str:
    """The absolute URL of route ``name`` with ``{param}`` where its one path parameter goes,
    for ``str.format``: one route look-up for a list of thousands of links. ``sample`` is a
    value the parameter accepts that appears nowhere else in the URL."""
    return absolute_url(request, name, **{param: sample}).replace(str(sample), f"{{{param}}}")
