"""What the page being rendered shows, declared by its view for the page cache.

A view (or a helper it calls) names what its page shows with :func:`shows`, using the
names of :mod:`greenweb.changes`; the declarations of one request add up in its ASGI
scope, where the page cache reads them after the render, as it reads ``route``. A page
whose view declares nothing shows everything, as far as the cache knows: any write makes
it stale. ``shows(request)`` with no names declares a page that no write changes (robots.txt).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import HTTPConnection

SCOPE_KEY: Final = "greenweb.shows"


def shows(request: HTTPConnection, *names: str) -> None:
    """Declare that the page of ``request`` shows ``names`` (and what it declared before)."""
    scope = request.scope
    declared: frozenset[str] | None = scope.get(SCOPE_KEY)
    scope[SCOPE_KEY] = frozenset(names) if declared is None else declared.union(names)


def shown(scope: Mapping[str, Any]) -> frozenset[str] | None:
    """What the page rendered for ``scope`` declared it shows; None: undeclared, everything."""
    declared: frozenset[str] | None = scope.get(SCOPE_KEY)
    return declared
