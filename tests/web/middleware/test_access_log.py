"""The access log: one line per request, route pattern, status, bytes, time; no address.
Lines are kept and written in batches: within a second, and all of them at shutdown."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.middleware import access_log
from greenweb.web.middleware.access_log import (
    ACCESS_LOGGER,
    LINE_FORMAT,
    AccessLogHandler,
    batching_handler,
    format_lines,
    loggable_path,
    logging_config,
)
from support.servers import wait_until

CLIENT_ADDRESS = "203.0.113.77"
FORWARDED_ADDRESS = "198.51.100.23"


async def boom_GET(request: Request) -> Response:
    raise RuntimeError("a bug")


@pytest.fixture
def logged(
    seeded_settings: Settings, caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[TestClient, pytest.LogCaptureFixture]]:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    app = create_app(seeded_settings)
    app.router.routes.append(Route("/boom", boom_GET))
    with TestClient(
        app, client=(CLIENT_ADDRESS, 40000), raise_server_exceptions=False
    ) as test_client:
        yield test_client, caplog


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_line_per_request_with_route_status_and_bytes(
    logged: tuple[TestClient, pytest.LogCaptureFixture],
) -> None:
    client, caplog = logged
    response = client.get("/bollettino/horizon-europe")
    (record,) = access_records(caplog)
    assert record.levelno == logging.INFO
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["route"] == "/bollettino/{slug}"
    assert record.__dict__["status"] == 200
    sent = int(response.headers["content-length"])  # compressed: the client decoded it
    assert record.__dict__["bytes"] == sent
    assert record.__dict__["duration_ms"] >= 0
    message = record.getMessage()
    assert message.startswith(f"GET /bollettino/{{slug}} 200 {sent}B ")
    assert message.endswith("ms")


def test_no_address_query_or_header_reaches_the_log(
    logged: tuple[TestClient, pytest.LogCaptureFixture],
) -> None:
    client, caplog = logged
    client.get(
        "/cerca?q=mario+rossi+diabete",
        headers={
            "X-Forwarded-For": FORWARDED_ADDRESS,
            "X-Real-IP": FORWARDED_ADDRESS,
            "User-Agent": "agente-segreto",
        },
    )
    client.get("/non-esiste")
    client.post("/cerca", content=b"x" * 40_000)
    client.get("/boom")
    records = access_records(caplog)
    assert len(records) == 4
    # The message and every field greenweb adds (not the record's own timestamps and ids,
    # whose digits could hold anything).
    text = "\n".join(
        f"{r.getMessage()} {r.__dict__['method']} {r.__dict__['route']}" for r in records
    )
    for secret in (CLIENT_ADDRESS, FORWARDED_ADDRESS, "mario", "agente-segreto"):
        assert secret not in text
    assert [r.__dict__["status"] for r in records] == [200, 404, 413, 500]


def test_unmatched_path_is_logged_escaped(
    logged: tuple[TestClient, pytest.LogCaptureFixture],
) -> None:
    client, caplog = logged
    client.get("/x%0D%0AGET%20/falso%20200")
    (record,) = access_records(caplog)
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message
    assert "/x\\r\\nGET /falso 200" in message
    assert record.__dict__["status"] == 400


def test_silent_logger_logs_nothing(
    seeded_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=ACCESS_LOGGER)
    with TestClient(create_app(seeded_settings)) as client:
        assert client.get("/").status_code == 200
    assert access_records(caplog) == []


def test_loggable_path_is_short_and_printable() -> None:
    assert loggable_path("/bollettino") == "/bollettino"
    assert loggable_path("/a\u202eb\x1b") == "/a\\u202eb\\x1b"
    long = loggable_path("/" + "a" * 1000)
    assert len(long) == 201 and long.endswith("…")


def test_logging_config_adds_greenweb_loggers_to_uvicorns() -> None:
    base = {"version": 1, "formatters": {}, "handlers": {}, "loggers": {"uvicorn": {}}}
    config = logging_config(base, "info")
    assert config["loggers"]["uvicorn"] == {}
    assert config["loggers"][ACCESS_LOGGER]["level"] == "INFO"
    assert config["handlers"]["greenweb.access"]["stream"] == "ext://sys.stdout"
    assert config["handlers"]["greenweb.access"]["class"].endswith(".AccessLogHandler")
    assert base["loggers"] == {"uvicorn": {}}  # the base is not modified
    quiet = logging_config(base, "info", access_log=False)
    assert quiet["loggers"][ACCESS_LOGGER]["level"] == "CRITICAL"


# --- the batched writes `greenweb serve` uses -------------------------------------------


class Batched:
    """The access logger as `greenweb serve` configures it, writing into ``stream``."""

    def __init__(self, interval: float) -> None:
        self.stream = io.StringIO()
        self.handler = AccessLogHandler(self.stream, interval=interval)

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


@pytest.fixture
def batched(request: pytest.FixtureRequest) -> Iterator[Batched]:
    """The real access logger with one AccessLogHandler; ``interval`` from the test's
    ``indirect`` parameter (default: an hour, so nothing is written unless flushed)."""
    interval = getattr(request, "param", 3600.0)
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    log = Batched(interval)
    logger.handlers[:] = [log.handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield log
    finally:
        log.handler.close()
        logger.handlers[:], logger.level, logger.propagate = saved


def test_served_lines_wait_for_the_flush_and_keep_their_content(
    seeded_settings: Settings, batched: Batched
) -> None:
    app = create_app(seeded_settings)
    with TestClient(app, client=(CLIENT_ADDRESS, 40000)) as client:
        page = client.get("/bollettino/horizon-europe")
        client.get("/cerca?q=mario+rossi", headers={"X-Forwarded-For": FORWARDED_ADDRESS})
        assert batched.lines() == []  # kept, not written per request
        batched.handler.flush()
        first, second = batched.lines()
    sent = int(page.headers["content-length"])
    assert first.split(" ", 2)[2].startswith(f"GET /bollettino/{{slug}} 200 {sent}B ")
    assert second.split(" ", 2)[2].startswith("GET /cerca 200 ")
    for secret in (CLIENT_ADDRESS, FORWARDED_ADDRESS, "mario"):
        assert secret not in batched.stream.getvalue()


def test_app_shutdown_writes_every_kept_line(seeded_settings: Settings, batched: Batched) -> None:
    with TestClient(create_app(seeded_settings)) as client:
        for _ in range(5):
            client.get("/")
        assert batched.lines() == []
    # Leaving the client runs the lifespan shutdown, as a graceful stop of the server does.
    assert len(batched.lines()) == 5


@pytest.mark.parametrize("batched", [0.05], indirect=True)
def test_kept_lines_are_written_without_a_flush(
    seeded_settings: Settings, batched: Batched
) -> None:
    with TestClient(create_app(seeded_settings)) as client:
        client.get("/")
        wait_until(lambda: len(batched.lines()) == 1, 30, "the writer thread")


def test_close_writes_the_kept_lines() -> None:
    log = Batched(3600.0)
    log.handler.add((time.time(), "GET", "/", 200, 10, 0.14))
    log.handler.add((time.time(), "GET", "/x", 404, 5, 0.2))
    assert log.lines() == []
    log.handler.close()
    assert [line.split(" ", 2)[2] for line in log.lines()] == [
        "GET / 200 10B 0.1ms",
        "GET /x 404 5B 0.2ms",
    ]


def test_an_idle_handler_starts_no_thread() -> None:
    log = Batched(3600.0)
    assert log.handler.writer is None
    log.handler.add((time.time(), "GET", "/", 200, 10, 0.1))
    writer = log.handler.writer
    assert writer is not None and writer.is_alive()
    log.handler.close()
    writer.join(timeout=30)
    assert not writer.is_alive()


def test_a_line_reads_as_the_logging_formatter_would_write_it() -> None:
    formatter = logging.Formatter(LINE_FORMAT)
    times = (0.0, 1_764_000_000.0, 1_764_000_000.999, 1_764_000_001.0005, 1_764_086_399.5)
    entries = [(created, "GET", "/x/{slug}", 404, 12, 0.04) for created in times]
    expected = []
    for created in times:
        record = logging.makeLogRecord({"msg": "GET /x/{slug} 404 12B 0.0ms", "created": created})
        record.msecs = int((created - int(created)) * 1000) + 0.0
        expected.append(formatter.format(record) + "\n")
    assert format_lines([*entries, "a line as it is\n"]) == "".join(expected) + "a line as it is\n"


def test_records_from_elsewhere_reach_the_batch_formatted() -> None:
    log = Batched(3600.0)
    logger = logging.getLogger("greenweb.test.batched")
    logger.addHandler(log.handler)
    logger.propagate = False
    logger.warning("a record, not a finished line")
    log.handler.flush()
    (line,) = log.lines()
    assert line.endswith(" a record, not a finished line")
    logger.removeHandler(log.handler)
    log.handler.close()


def test_only_a_lone_batching_handler_takes_finished_lines() -> None:
    logger = logging.getLogger("greenweb.test.lone")
    logger.propagate = False
    handler = AccessLogHandler(io.StringIO())
    logger.addHandler(handler)
    assert batching_handler(logger) is handler
    other = logging.StreamHandler(io.StringIO())
    logger.addHandler(other)
    assert batching_handler(logger) is None  # the other handler wants records
    logger.removeHandler(other)
    logger.propagate = True
    assert batching_handler(logger) is None  # so do the ancestors' handlers
    logger.removeHandler(handler)
    handler.close()


@pytest.mark.parametrize(("recheck_seconds", "logged"), [(3600.0, 0), (0.0, 2)])
def test_a_logging_change_is_followed_at_the_next_check(
    seeded_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    recheck_seconds: float,
    logged: int,
) -> None:
    monkeypatch.setattr(access_log, "RECHECK_SECONDS", recheck_seconds)
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    log = Batched(3600.0)
    logger.handlers[:] = []
    logger.setLevel(logging.CRITICAL)
    try:
        with TestClient(create_app(seeded_settings)) as client:
            client.get("/")  # decided: off
            logger.handlers[:] = [log.handler]
            logger.setLevel(logging.INFO)
            logger.propagate = False
            client.get("/")
            client.get("/")
            log.handler.flush()
        assert len(log.lines()) == logged
    finally:
        log.handler.close()
        logger.handlers[:], logger.level, logger.propagate = saved
