"""Real servers for tests: free ports on 127.0.0.1, bounded waits, clean shutdown."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The greenweb script installed beside the Python running the tests (the venv's).
GREENWEB = Path(sys.executable).parent / "greenweb"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Raw:
    """One HTTP/1.1 response exactly as it came over the socket."""

    head: bytes
    body: bytes

    @property
    def size(self) -> int:
        return len(self.head) + len(self.body)

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    def header(self, name: str) -> str | None:
        found = re.search(
            rb"\r\n" + re.escape(name.encode()) + rb": ([^\r]*)\r\n", self.head, re.IGNORECASE
        )
        return found.group(1).decode("latin-1") if found else None


def raw_get(
    port: int, target: str, headers: dict[str, str] | None = None, *, timeout: float = 10.0
) -> Raw:
    """GET over a fresh connection; reads exactly the head and Content-Length bytes."""
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed after {data!r}")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        head += b"\r\n\r\n"
        length = re.search(rb"\r\ncontent-length: (\d+)\r\n", head, re.IGNORECASE)
        wanted = int(length.group(1)) if length else 0
        while len(body) < wanted:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return Raw(head, body)


def wait_until_up(port: int, process: subprocess.Popen[bytes], path: str = "/healthz") -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if raw_get(port, path, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server on port {port} did not answer within {START_TIMEOUT}s")


@contextmanager
def greenweb_serve(
    env: dict[str, str], args: Sequence[str] = (), *, log: Path
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``greenweb serve`` on a free 127.0.0.1 port; stopped (by its pid) afterwards."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(GREENWEB), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(port, process)
            yield port, process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
