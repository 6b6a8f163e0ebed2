"""One line per request on the ``greenweb.access`` logger, with no address in it.

The line holds the method, the route (its pattern, such as ``/bollettino/{slug}``, so
the log shows which page was used, not which item a reader looked at), the status, the
body bytes as sent and the duration. It never holds the client address, the query
string (search words are personal) or any header. A path that matched no route is
logged as sent, cut short and with anything unprintable escaped, so a hostile URL cannot
forge a line of its own.

The middleware asks the logger first: with the logger off (tests, benchmarks) a request
costs one ``isEnabledFor`` call.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "greenweb.access"
MAX_LOGGED_PATH = 200


def loggable_path(path: str) -> str:
    """``path`` as one printable line of bounded length."""
    if len(path) > MAX_LOGGED_PATH:
        path = path[:MAX_LOGGED_PATH] + "…"
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in path)


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    pattern = getattr(route, "path", None)
    if isinstance(pattern, str):
        return pattern
    return loggable_path(scope.get("path", ""))


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        status = 0
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except BaseException:
            # The error page comes from the layer outside this one; what we know is 500.
            status = status or 500
            raise
        finally:
            self.log(scope, status, sent, (time.perf_counter() - started) * 1000)

    def log(self, scope: Scope, status: int, sent: int, duration_ms: float) -> None:
        method = scope.get("method", "")
        route = route_of(scope)
        self.logger.info(
            "%s %s %d %dB %.1fms",
            method,
            route,
            status,
            sent,
            duration_ms,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "bytes": sent,
                "duration_ms": duration_ms,
            },
        )


def logging_config(base: dict[str, Any], level: str, *, access_log: bool = True) -> dict[str, Any]:
    """uvicorn's logging configuration plus greenweb's loggers.

    ``greenweb`` (errors) writes to stderr like uvicorn's own messages, ``greenweb.access``
    to stdout like uvicorn's access log would; ``access_log=False`` silences it.
    """
    config = copy.deepcopy(base)
    config.setdefault("formatters", {})["greenweb"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["formatters"]["greenweb.access"] = {"format": "%(asctime)s %(message)s"}
    config.setdefault("handlers", {})["greenweb"] = {
        "class": "logging.StreamHandler",
        "formatter": "greenweb",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["greenweb.access"] = {
        "class": "logging.StreamHandler",
        "formatter": "greenweb.access",
        "stream": "ext://sys.stdout",
    }
    loggers = config.setdefault("loggers", {})
    loggers["greenweb"] = {"handlers": ["greenweb"], "level": level.upper(), "propagate": False}
    loggers[ACCESS_LOGGER] = {
        "handlers": ["greenweb.access"],
        "level": level.upper() if access_log else "CRITICAL",
        "propagate": False,
    }
    return config
