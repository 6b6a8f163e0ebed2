"""Real servers for tests and benchmarks: a subprocess on 127.0.0.1, a free port, bounded waits.

One launcher for every kind of server the suite runs:

    with LiveServer.greenweb(tmp_path, db_path) as server:   # `greenweb serve` + /healthz
        server.get("/healthz")
        result = run_load(server, lambda c, i: c.get("/"), count=200, clients=8)  # support.load
        server.kill()                                         # SIGKILL, the whole group
        server.start()                                        # same database, same port
        assert integrity_check(db_path) == ["ok"]

    LiveServer.greenweb(tmp_path, db_path, args=["--workers", "2"])   # serve's options
    LiveServer.uvicorn(tmp_path, "ceiling_app:app", app_dir=folder)   # a bare ASGI app
    LiveServer.nginx(tmp_path, lambda port: nginx_conf(...))          # nginx on an export

Every wait is bounded (``START_TIMEOUT``, ``STOP_TIMEOUT``, ``wait_until(timeout=...)``),
and ``__exit__`` kills whatever is still running. Output goes to files, not pipes, so a
chatty server can never block on a full pipe; ``server.stdout()`` / ``stderr()`` read it
(greenweb's access log is on stdout: ``server.access_log()``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx2

from support.raw_http import HOST, REQUEST_TIMEOUT, RawResponse, raw_http

START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
TEST_SECRET = "test-secret-not-for-production"

CommandFor = Callable[[int], list[str]]


def free_port() -> int:
    """A port nobody listens on right now (the server may still lose a race for it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def greenweb_serve(*extra: str, host_option: bool = True) -> CommandFor:
    """The command line of ``greenweb serve`` on a given port, from this interpreter.

    ``host_option=False`` leaves ``--host`` out, so the server takes GREENWEB_HOST.
    """

    def command(port: int) -> list[str]:
        host = ["--host", HOST] if host_option else []
        return [sys.executable, "-m", "greenweb", "serve", *host, "--port", str(port), *extra]

    return command


def find_nginx() -> str | None:
    """nginx on PATH, or Debian's /usr/sbin/nginx (not on PATH for ordinary users)."""
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


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


def clean_env(**settings: str) -> dict[str, str]:
    """The process environment without any GREENWEB_* of the caller's (the Makefile
    exports GREENWEB_HOST/PORT), plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENWEB_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def server_env(db_path: Path, **settings: str) -> dict[str, str]:
    """``clean_env`` for greenweb over ``db_path`` with the tests' secret, plus ``settings``.

    ``settings`` use environment names: ``GREENWEB_SECURITY_CONTACT="mailto:..."``.
    """
    return clean_env(GREENWEB_DB=str(db_path), GREENWEB_SECRET=TEST_SECRET, **settings)


class ServerError(AssertionError):
    """The server did not start, answer or stop in time; the message has its output."""


@dataclass
class LiveServer:
    """One server process: started on a free port, answering ``ready_path`` with 200.

    ``db_path`` set: a greenweb server, run with ``server_env`` (the tests' secret, its
    own base URL). Otherwise the process gets ``clean_env``. ``settings`` come on top.
    """

    workdir: Path
    command: CommandFor = field(default_factory=greenweb_serve)
    db_path: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _stderr_offset: int = field(default=0, init=False, repr=False)

    @classmethod
    def greenweb(
        cls,
        workdir: Path,
        db_path: Path | None = None,
        *,
        args: Sequence[str] = (),
        **settings: str,
    ) -> LiveServer:
        """A ``greenweb serve ARGS`` (not started yet) over ``db_path`` (default: a new one)."""
        return cls(
            workdir=workdir,
            command=greenweb_serve(*args),
            db_path=db_path or workdir / "greenweb.db",
            settings=dict(settings),
        )

    @classmethod
    def uvicorn(
        cls,
        workdir: Path,
        app: str,
        *,
        app_dir: Path | None = None,
        args: Sequence[str] = (),
        ready_path: str = "/",
        **env: str,
    ) -> LiveServer:
        """uvicorn serving ``app`` (``module:attribute``, found in ``app_dir``)."""
        folder = ["--app-dir", str(app_dir)] if app_dir is not None else []

        def command(port: int) -> list[str]:
            return [
                *(sys.executable, "-m", "uvicorn", *folder, app),
                *("--host", HOST, "--port", str(port), *args),
            ]

        return cls(workdir=workdir, command=command, settings=dict(env), ready_path=ready_path)

    @classmethod
    def nginx(
        cls, workdir: Path, config: Callable[[int], str], *, ready_path: str = "/"
    ) -> LiveServer:
        """nginx in the foreground with ``config(port)`` as ``workdir/nginx.conf``.

        The configuration should keep its pid file and error log inside ``workdir``.
        """
        binary = find_nginx()
        if binary is None:
            raise ServerError("nginx is not installed")
        conf = workdir / "nginx.conf"

        def command(port: int) -> list[str]:
            conf.write_text(config(port))  # the port is only known now
            return [binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"]

        return cls(workdir=workdir, command=command, ready_path=ready_path)

    # --- life cycle -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, e.g. for a proxy's upstream."""
        return f"{HOST}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError("server not started")
        return self.process.pid

    @property
    def stdout_path(self) -> Path:
        return self.workdir / "server.stdout"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / "server.stderr"

    def start(self, timeout: float = START_TIMEOUT) -> LiveServer:
        """Start (or restart) the server and wait until ``ready_path`` answers 200."""
        if self.running:
            raise ServerError("server already running")
        for _attempt in range(3):
            self.port = self.port or free_port()
            self._spawn()
            try:
                self.wait_ready(timeout)
                return self
            except ServerError:
                this_start = self.stderr()[self._stderr_offset :]
                lost_port = "address already in use" in this_start.lower()
                self.kill()
                if not lost_port:
                    raise
                self.port = 0  # another process took the port: try a new one
        raise ServerError(f"could not find a free port\n{self.output()}")

    def _spawn(self) -> None:
        if self.db_path is not None:
            env = server_env(self.db_path, GREENWEB_BASE_URL=self.base_url)
        else:
            env = clean_env()
        env.update(self.settings)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self._stderr_offset = len(self.stderr())
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

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Poll ``ready_path`` until it answers 200; fail if the process exits first."""
        deadline = time.monotonic() + timeout
        with httpx2.Client(base_url=self.base_url, timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise ServerError(f"server exited with {self.returncode}\n{self.output()}")
                try:
                    if client.get(self.ready_path).status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                time.sleep(0.05)
        raise ServerError(f"no answer from {self.ready_path} within {timeout} s\n{self.output()}")

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

    def access_log(self) -> list[str]:
        """The lines the server wrote on stdout (greenweb's access log), without the
        ``--- start`` marks of each start."""
        return [line for line in self.stdout().splitlines() if line and not line.startswith("---")]

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


# --- the database, from outside the server -------------------------------------------


def read_only(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(db_path.resolve()))}?mode=ro", uri=True)


def integrity_check(db_path: Path) -> list[str]:
    """``PRAGMA integrity_check`` rows: ``["ok"]`` for a sound database."""
    with closing(read_only(db_path)) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
