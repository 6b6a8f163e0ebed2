"""The access log: one line per request, route pattern, status, bytes, time; no address."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.middleware.access_log import ACCESS_LOGGER, loggable_path, logging_config

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
    assert base["loggers"] == {"uvicorn": {}}  # the base is not modified
    quiet = logging_config(base, "info", access_log=False)
    assert quiet["loggers"][ACCESS_LOGGER]["level"] == "CRITICAL"
