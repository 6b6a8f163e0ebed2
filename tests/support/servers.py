"""Real greenweb servers for tests: a subprocess on 127.0.0.1, a free port, bounded waits.

Generic on purpose: hostile-input, load, crash (``kill -9``) and browser tests all use it.

    with LiveServer.greenweb(tmp_path, db_path) as server:   # `greenweb serve` + /healthz
        server.get("/healthz")
        result = run_load(server, lambda client, i: client.get("/"), count=200, clients=8)
        server.kill()                                         # SIGKILL, the whole group
        server.start()                                        # same database, same port
        assert integrity_check(db_path) == ["ok"]

Every wait is bounded (``START_TIMEOUT``, ``STOP_TIMEOUT``, ``run_load(deadline=...)``),
and ``__exit__`` kills whatever is still running. Output goes to files, not pipes, so a
chatty server can never block on a full pipe; ``server.stdout()`` / ``stderr()`` read it.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx2

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
REQUEST_TIMEOUT = 15.0
TEST_SECRET = "test-secret-not-for-production"

CommandFor = Callable[[int], list[str]]


def free_port() -> int:
    """A port nobody listens on right now (the server may still lose a race for it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def greenweb_serve(*extra: str) -> CommandFor:
    """The command line of ``greenweb serve`` on a given port, from this interpreter."""

    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "greenweb",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            *extra,
        ]

    return command


def python_command(test_file: str, function: str, *args: str) -> list[str]:
    """The command line that runs ``function()`` of the test module at ``test_file`` in a
    fresh interpreter with ``sys.argv[1:] == args``: for servers and writers that need a
    test-only twist (an extra route, acknowledgements on stdout)."""
    tests = Path(__file__).resolve().parents[1]
    relative = Path(test_file).resolve().relative_to(tests.parent).with_suffix("")
    module = ".".join(relative.parts)
    paths = [str(tests.parent), str(tests)]
    script = (
        f"import importlib, sys; sys.path[:0] = {paths!r}; "
        f"importlib.import_module({module!r}).{function}()"
    )
    return [sys.executable, "-c", script, *args]


def server_env(db_path: Path, **settings: str) -> dict[str, str]:
    """The process environment without any GREENWEB_* of the caller's, plus ``settings``.

    ``settings`` use environment names: ``GREENWEB_SECURITY_CONTACT="mailto:..."``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENWEB_")}
    env.update(
        {
            "GREENWEB_DB": str(db_path),
            "GREENWEB_SECRET": TEST_SECRET,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(settings)
    return env


class ServerError(AssertionError):
    """The server did not start, answer or stop in time; the message has its output."""


@dataclass
class LiveServer:
    db_path: Path
    workdir: Path
    command: CommandFor = field(default_factory=greenweb_serve)
    settings: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @classmethod
    def greenweb(
        cls,
        workdir: Path,
        db_path: Path | None = None,
        *,
        args: Sequence[str] = (),
        **settings: str,
    ) -> LiveServer:
        """A ``greenweb serve`` (not started yet) over ``db_path`` (default: a new one)."""
        workdir.mkdir(parents=True, exist_ok=True)
        return cls(
            db_path=db_path or workdir / "greenweb.db",
            workdir=workdir,
            command=greenweb_serve(*args),
            settings=dict(settings),
        )

    # --- life cycle -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "server.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "server.stderr"

    def start(self, timeout: float = START_TIMEOUT) -> LiveServer:
        """Start (or restart) the server and wait until /healthz answers 200."""
        if self.running:
            raise ServerError("server already running")
        for _attempt in range(3):
            self.port = self.port or free_port()
            self._spawn()
            try:
                self.wait_healthy(timeout)
                return self
            except ServerError:
                lost_port = "address already in use" in self.stderr().lower()
                self.kill()
                if not lost_port:
                    raise
                self.port = 0  # another process took the port: try a new one
        raise ServerError(f"could not find a free port\n{self.output()}")

    def _spawn(self) -> None:
        env = server_env(self.db_path, GREENWEB_BASE_URL=f"http://{HOST}:{self.port}")
        env.update(self.settings)
        self.starts += 1
        with (
            self.stdout_path.open("ab") as out,
            self.stderr_path.open("ab") as err,
        ):
            for stream in (out, err):
                stream.write(f"--- start {self.starts} on port {self.port}\n".encode())
                stream.flush()
            self.process = subprocess.Popen(
                self.command(self.port),
                env=env,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                # Its own process group: kill() reaches workers too, and nothing else.
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with httpx2.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServerError(f"server exited with {self.returncode}\n{self.output()}")
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                time.sleep(0.05)
        raise ServerError(f"no healthy answer within {timeout} s\n{self.output()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the server's main process only."""
        if self.process is None:
            raise ServerError("server not started")
        self.process.send_signal(signum)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        if self.process is None:
            raise ServerError("server not started")
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ServerError(f"server did not exit within {timeout} s\n{self.output()}") from None

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM (graceful shutdown) and wait; returns the exit code."""
        if not self.running:
            return self.returncode or 0
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> int:
        """SIGKILL the server's whole process group (``kill -9``) and reap it."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self.process.wait(STOP_TIMEOUT)

    def restart(self, timeout: float = START_TIMEOUT) -> LiveServer:
        self.terminate()
        return self.start(timeout)

    def __enter__(self) -> LiveServer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.running:
            try:
                self.terminate(timeout=5)
            except ServerError:
                pass
        self.kill()

    # --- talking to it ----------------------------------------------------------------

    def client(self, **kwargs: Any) -> httpx2.Client:
        options: dict[str, Any] = {"base_url": self.base_url, "timeout": REQUEST_TIMEOUT}
        options.update(kwargs)
        return httpx2.Client(**options)

    def get(self, path: str, **kwargs: Any) -> httpx2.Response:
        with self.client() as client:
            return client.get(path, **kwargs)

    def raw(self, request: bytes, timeout: float = REQUEST_TIMEOUT) -> RawResponse:
        return raw_http(self.port, request, timeout)

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output(self) -> str:
        return f"--- stdout\n{self.stdout()[-4000:]}\n--- stderr\n{self.stderr()[-4000:]}"

    def accepts_connections(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# --- raw HTTP, for what clients refuse to send -------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    status: int  # 0 when the server closed the connection without answering
    headers: dict[str, str]
    body: bytes
    raw: bytes


def http_request(
    request_line: bytes, *headers: bytes, body: bytes = b"", close: bool = True
) -> bytes:
    """``http_request(b"GET /x", b"Content-Length: 3", body=b"abc")``: the bytes of a
    request, with ``Host`` and (unless ``close=False``) ``Connection: close`` added."""
    lines = [request_line + b" HTTP/1.1", b"Host: greenweb.test", *headers]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def raw_http(port: int, request: bytes, timeout: float = REQUEST_TIMEOUT) -> RawResponse:
    """Send ``request`` bytes as they are and read until the server closes.

    Add ``Connection: close`` to the request so the server ends the exchange.
    """
    chunks: list[bytes] = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may answer and close before reading all of it
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return RawResponse(0, {}, b"", raw)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(status, headers, body, raw)


# --- load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    index: int
    status: int | None  # None: no answer (refused, reset, timed out)
    error: str | None = None
    location: str | None = None
    body: bytes = b""


@dataclass
class LoadResult:
    outcomes: list[Outcome]
    skipped: int  # requests not sent because the deadline passed

    def statuses(self) -> Counter[int | None]:
        return Counter(o.status for o in self.outcomes)

    def answered(self, status: int) -> list[Outcome]:
        """The requests the server acknowledged with ``status`` (e.g. 303 for a post)."""
        return [o for o in self.outcomes if o.status == status]

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is None]

    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is not None and o.status >= 500]


RequestFn = Callable[[httpx2.Client, int], httpx2.Response]


def run_load(
    server: LiveServer,
    request: RequestFn,
    *,
    count: int,
    clients: int,
    deadline: float = 120.0,
    keep_body: bool = False,
    at: tuple[int, Callable[[], None]] | None = None,
) -> LoadResult:
    """Send ``count`` requests from ``clients`` concurrent clients, each with its own
    connection pool; ``request(client, i)`` sends request number ``i``.

    Bounded: no request starts after ``deadline`` seconds (they count as ``skipped``).
    ``at=(n, action)`` runs ``action`` once, when ``n`` requests have finished (kill the
    server mid-load, for instance); requests failing after it are recorded, not raised.
    """
    local = threading.local()
    pools: list[httpx2.Client] = []
    pools_lock = threading.Lock()
    done = 0
    done_lock = threading.Lock()
    fired = threading.Event()
    ends = time.monotonic() + deadline
    skipped = 0

    def client() -> httpx2.Client:
        if not hasattr(local, "client"):
            local.client = server.client(follow_redirects=False)
            with pools_lock:
                pools.append(local.client)
        pool: httpx2.Client = local.client
        return pool

    def one(index: int) -> Outcome | None:
        nonlocal done, skipped
        if time.monotonic() > ends:
            with done_lock:
                skipped += 1
            return None
        try:
            response = request(client(), index)
            outcome = Outcome(
                index,
                response.status_code,
                location=response.headers.get("location"),
                body=response.content if keep_body else b"",
            )
        except httpx2.TransportError as error:
            outcome = Outcome(index, None, error=f"{type(error).__name__}: {error}")
        with done_lock:
            done += 1
            trigger = at is not None and done >= at[0] and not fired.is_set()
            if trigger:
                fired.set()
        if trigger and at is not None:
            at[1]()
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(one, range(count)))
    finally:
        for pool_client in pools:
            pool_client.close()
    return LoadResult([r for r in results if r is not None], skipped)


def client_address(index: int) -> str:
    """A distinct address per simulated client, from 198.18.0.0/15 (RFC 2544, benchmarks).

    Send it as ``X-Forwarded-For`` to a server started with ``args=["--proxy-headers"]``
    (uvicorn trusts that header from 127.0.0.1) so per-client limits and "anch'io"
    counting see many people instead of one.
    """
    if not 0 <= index < 2**17:
        raise ValueError(index)
    return f"198.{18 + (index >> 16)}.{(index >> 8) & 255}.{index & 255}"


def assert_no_server_errors(result: LoadResult) -> None:
    errors = result.server_errors()
    assert not errors, f"{len(errors)} answers >= 500, first: {errors[:3]}"


# --- the database, from outside the server -------------------------------------------


def read_only(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db_path.resolve()))}?mode=ro", uri=True)


def integrity_check(db_path: Path) -> list[str]:
    """``PRAGMA integrity_check`` rows: ``["ok"]`` for a sound database."""
    with closing(read_only(db_path)) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
