"""SIGTERM lets the request in flight finish with 200, then the server exits 0, and every
access log line kept in memory is written before it does.

The server is `greenweb serve` itself (its uvicorn options, logging and signal handling),
with one change made here only: uvicorn is handed greenweb's app plus a test route,
``/lento``, that holds its request open until the test releases it. The route is added
to greenweb's own app, so its answer passes through all of greenweb's middleware.
Nothing here is timed: the test waits for files and for the port to close.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from support.servers import LiveServer, python_command, wait_until

pytestmark = pytest.mark.slow

GATE_ENV = "GREENWEB_TEST_GATE"
MAX_HOLD_SECONDS = 60  # /lento gives up waiting after this, so no test can hang on it


async def lento_GET(request: Request) -> Response:
    gate = Path(os.environ[GATE_ENV])
    (gate / "started").touch()
    for _ in range(MAX_HOLD_SECONDS * 20):
        if (gate / "release").exists():
            return PlainTextResponse("finito")
        await asyncio.sleep(0.05)
    return PlainTextResponse("nessuno mi ha liberato", status_code=504)


def slow_app() -> Starlette:
    """uvicorn's app factory in the server process: greenweb plus /lento."""
    from greenweb.config import Settings
    from greenweb.web.app import create_app

    app = create_app(Settings.from_env())
    app.router.routes.append(Route("/lento", lento_GET))
    return app


def serve_slow() -> None:
    """`greenweb serve ARGS`, with uvicorn told to build ``slow_app`` instead."""
    import uvicorn

    from greenweb import cli

    real_run = uvicorn.run

    def run(app: Any, **options: Any) -> None:
        real_run(f"{__name__}:slow_app", factory=True, **options)

    uvicorn.run = run
    sys.exit(cli.main(sys.argv[1:]))


def slow_serve_command(port: int) -> list[str]:
    return python_command(
        __file__, "serve_slow", "serve", "--host", "127.0.0.1", "--port", str(port)
    )


def test_sigterm_finishes_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    server = LiveServer(
        db_path=tmp_path / "greenweb.db",
        workdir=tmp_path,
        command=slow_serve_command,
        settings={GATE_ENV: str(gate)},
    )
    answers: list[httpx2.Response | BaseException] = []

    def ask() -> None:
        try:
            with server.client(timeout=MAX_HOLD_SECONDS + 10) as client:
                answers.append(client.get("/lento"))
        except BaseException as error:
            answers.append(error)

    with server:
        request = threading.Thread(target=ask)
        request.start()
        wait_until((gate / "started").exists, 30, "the slow request to reach the app")

        server.signal(signal.SIGTERM)
        # Shutting down: new connections are refused while the request is still held.
        wait_until(lambda: not server.accepts_connections(), 30, "the port to close")
        assert server.running
        assert not answers

        (gate / "release").touch()
        request.join(timeout=30)
        assert server.wait() == 0, server.output()

    assert len(answers) == 1, answers
    response = answers[0]
    assert isinstance(response, httpx2.Response), response
    assert response.status_code == 200
    assert response.text == "finito"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Shutting down" in server.stderr()
    assert "Application shutdown complete" in server.stderr()


def test_sigterm_on_an_idle_server_exits_0(tmp_path: Path) -> None:
    with LiveServer.greenweb(tmp_path) as server:
        assert server.terminate() == 0, server.output()
    assert "Finished server process" in server.stderr()


def serve_keeping_lines() -> None:
    """`greenweb serve ARGS` with the access log's lines kept for an hour: only a stop can
    write them."""
    from greenweb import cli
    from greenweb.web.middleware import access_log

    access_log.FLUSH_SECONDS = 3600.0
    sys.exit(cli.main(sys.argv[1:]))


def count_home_lines(server: LiveServer) -> int:
    return sum(" GET / 200 " in line for line in server.access_log())


def test_sigterm_writes_every_kept_access_line(tmp_path: Path) -> None:
    def command(port: int) -> list[str]:
        return python_command(
            __file__, "serve_keeping_lines", "serve", "--host", "127.0.0.1", "--port", str(port)
        )

    server = LiveServer(db_path=tmp_path / "greenweb.db", workdir=tmp_path, command=command)
    with server:
        with server.client() as client:
            for _ in range(20):
                assert client.get("/").status_code == 200
        assert count_home_lines(server) == 0  # kept in memory, not written per request
        assert server.terminate() == 0, server.output()
    assert count_home_lines(server) == 20


def test_sigterm_with_two_workers_loses_no_access_line(tmp_path: Path) -> None:
    with LiveServer.greenweb(tmp_path, args=["--workers", "2"]) as server:
        for _ in range(40):
            # A connection each, so both workers take some of them.
            assert server.get("/").status_code == 200
        assert server.terminate() == 0, server.output()
    assert count_home_lines(server) == 40
