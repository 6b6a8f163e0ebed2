"""One line per request on the ``greenweb.access`` logger, with no address in it.

The line holds the method, the route (its pattern, such as ``/bollettino/{slug}``, so
the log shows which page was used, not which item a reader looked at), the status, the
body bytes as sent and the duration. It never holds the client address, the query
string (search words are personal) or any header. A path that matched no route is
logged as sent, cut short and with anything unprintable escaped, so a hostile URL cannot
forge a line of its own.

With the logger off (tests, benchmarks) a request costs a clock read and a comparison.

Cost. ``greenweb serve`` gives the logger one :class:`AccessLogHandler`, and the
middleware hands that handler the line's values directly: no ``LogRecord``, no
formatter, no write per request. The handler keeps them and writes the lines in one
``write`` at most :data:`FLUSH_SECONDS` after the first of them, and all of them when the
app shuts down (the middleware sees ``lifespan.shutdown``) or the handler is closed. A
``LogRecord`` per request through a ``StreamHandler`` cost about 40 % of a cached page's
throughput (issue 11); ``benchmarks/serving/load.py --compare access-log`` measures
what is left. Any other handler (pytest's ``caplog``, a hand-made logging configuration)
gets ordinary records with the fields as ``extra``.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "greenweb.access"
MAX_LOGGED_PATH = 200
# The longest a line waits in memory before it is written (a graceful stop writes it at once).
FLUSH_SECONDS = 1.0
# How often the middleware asks the logger again where lines go.
RECHECK_SECONDS = 1.0
LINE_FORMAT = "%(asctime)s %(message)s"

_SHUTDOWN_ENDS = frozenset({"lifespan.shutdown.complete", "lifespan.shutdown.failed"})


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


# What a request leaves for the log: (Unix time, method, route, status, bytes, milliseconds).
Entry = tuple[float, str, str, int, int, float]
_MILLISECONDS = tuple(f"{n:03d}" for n in range(1000))


def format_lines(items: Iterable[Entry | str]) -> str:
    """The text of a batch: each entry as ``LINE_FORMAT`` with logging's default
    ``asctime`` would write it (local time, ``2026-12-02 09:15:04,123``), strings as
    they are. One loop with the date made once per second: this runs for every request."""
    out: list[str] = []
    second = -1
    prefix = ""
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        created, method, route, status, sent, duration_ms = item
        if int(created) != second:
            second = int(created)
            prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        # The milliseconds truncated, as logging does.
        milliseconds = _MILLISECONDS[int((created - second) * 1000)]
        out.append(
            f"{prefix},{milliseconds} {method} {route} {status} {sent}B {duration_ms:.1f}ms\n"
        )
    return "".join(out)


class AccessLogHandler(logging.Handler):
    """Writes lines in batches: at most ``interval`` seconds after the first unwritten one,
    and every unwritten one on :meth:`flush` and :meth:`close`.

    A request leaves its :data:`Entry` in a ``deque`` (appends and pops are atomic, so the
    request path takes no lock) and the batch is formatted when it is written, all at
    once. One daemon thread writes the batches; it sleeps while nothing waits, so an idle
    server is never woken. A forked worker starts its own thread on its first line.
    """

    def __init__(self, stream: TextIO | None = None, interval: float | None = None) -> None:
        super().__init__()
        self.stream: TextIO = stream if stream is not None else sys.stdout
        self.interval = FLUSH_SECONDS if interval is None else interval
        self.setFormatter(logging.Formatter(LINE_FORMAT))
        # Entries, and the lines of records from other loggers, formatted already.
        self.pending: deque[Entry | str] = deque()
        self._armed = False
        self._wake = threading.Event()
        self._closing = threading.Event()
        self.writer: threading.Thread | None = None
        self._writer_pid: int | None = None

    def add(self, entry: Entry) -> None:
        """Keep one request's line, to be written with the next batch."""
        self.pending.append(entry)
        if not self._armed:
            self._arm()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.pending.append(self.format(record) + "\n")
        except Exception:
            self.handleError(record)
            return
        if not self._armed:
            self._arm()

    def _arm(self) -> None:
        self._armed = True
        if self._writer_pid != os.getpid():
            self._writer_pid = os.getpid()
            self.writer = threading.Thread(
                target=self._write_batches, name="access-log", daemon=True
            )
            self.writer.start()
        self._wake.set()

    def _write_batches(self) -> None:
        while True:
            self._wake.wait()
            if self._closing.wait(self.interval):
                return
            # Disarmed before writing: a line added from here on either makes this batch or
            # arms the next one.
            self._wake.clear()
            self._armed = False
            self.flush()

    def flush(self) -> None:
        """Write every line kept so far, in one ``write``."""
        with self.lock:  # type: ignore[union-attr]  # Handler.createLock() made it
            count = len(self.pending)
            if not count:
                return
            text = format_lines([self.pending.popleft() for _ in range(count)])
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                # The stream is gone (closed pipe, interpreter shutting down): nothing can
                # take the lines any more, and the requests they describe were answered.
                pass

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self.flush()
        super().close()


def batching_handler(logger: logging.Logger) -> AccessLogHandler | None:
    """The one handler that takes the lines' values directly, when it is all ``logger``
    writes to."""
    handlers = logger.handlers
    if len(handlers) == 1 and not logger.propagate:
        handler = handlers[0]
        if isinstance(handler, AccessLogHandler) and handler.level <= logging.INFO:
            return handler
    return None


def flush_handlers(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        handler.flush()


class AccessLogMiddleware:
    """Logs each HTTP request's line once it is answered.

    Where the line goes is decided from the logger's configuration at the first request
    and again at most once every :data:`RECHECK_SECONDS` (asked per request, the logger's
    two method calls cost as much as the rest of the line): off, the batching handler, or
    ordinary records. A logging
    configuration changed while requests arrive is followed within that time.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self.enabled = False
        self.handler: AccessLogHandler | None = None
        self.recheck_at = -math.inf

    def choose(self, now: float) -> None:
        self.enabled = self.logger.isEnabledFor(logging.INFO)
        self.handler = batching_handler(self.logger) if self.enabled else None
        self.recheck_at = now + RECHECK_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = self.flushing_at_shutdown(send)
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if started >= self.recheck_at:
            self.choose(started)
        if not self.enabled:
            await self.app(scope, receive, send)
            return

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
            duration_ms = (time.perf_counter() - started) * 1000
            if self.handler is not None:
                entry = (time.time(), scope["method"], route_of(scope), status, sent, duration_ms)
                self.handler.add(entry)
            else:
                self.log(scope, status, sent, duration_ms)

    def flushing_at_shutdown(self, send: Send) -> Send:
        """``send`` for the lifespan: the kept lines are written before the server is told
        the app has shut down, so a graceful stop loses none (a worker process ends
        without running ``atexit``, which would flush the handlers otherwise)."""

        async def send_after_flushing(message: Message) -> None:
            if message["type"] in _SHUTDOWN_ENDS:
                flush_handlers(self.logger)
            await send(message)

        return send_after_flushing

    def log(self, scope: Scope, status: int, sent: int, duration_ms: float) -> None:
        """The line as an ordinary record, with its fields as ``extra``."""
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
    """The server's logging configuration (``base``) plus greenweb's loggers.

    ``greenweb`` (errors) writes to stderr like the server's own messages,
    ``greenweb.access`` to stdout through one :class:`AccessLogHandler`;
    ``access_log=False`` silences it.
    """
    config = copy.deepcopy(base)
    config.setdefault("formatters", {})["greenweb"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config.setdefault("handlers", {})["greenweb"] = {
        "class": "logging.StreamHandler",
        "formatter": "greenweb",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["greenweb.access"] = {
        "class": f"{__name__}.AccessLogHandler",
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
