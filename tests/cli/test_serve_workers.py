"""Several worker processes: start-up, invalidation across workers, and the footer's
weight checked against the bytes a real server puts on the wire."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from greenweb.config import load_or_create_secret, secret_path
from greenweb.web.http import compression
from support import import_seed, make_settings
from support.raw_http import raw_get
from support.servers import LiveServer

pytestmark = pytest.mark.slow

# Bounds, not pauses: the loops stop as soon as both workers answered. A worker still
# starting on a busy machine (the suite runs in two processes) gets up to a minute.
POLL_SECONDS = 60.0
POLL_REQUESTS = 6_000  # with POLL_PAUSE: about POLL_SECONDS
POLL_PAUSE = 0.01


def serve(tmp_path: Path, db: Path, *args: str) -> LiveServer:
    # No GREENWEB_SECRET: the workers must share the one generated file.
    return LiveServer.greenweb(
        tmp_path / "server", db, args=args, GREENWEB_SECRET="", GREENWEB_BASE_URL="http://t"
    )


def worker_and_home(port: int) -> tuple[int, str]:
    """One fresh connection: which worker took it, and the home page it served."""
    # Keep-alive: both requests of this call go to the worker that accepted the connection.
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")

        def get(path: str) -> bytes:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            return reader.read(length)

        pid = json.loads(get("/healthz"))["pid"]
        return int(pid), get("/").decode()


def test_two_workers_share_invalidation_with_no_stale_page(tmp_path: Path, seed_copy: Path) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    with serve(tmp_path, settings.db_path, "--workers", "2") as server:
        port = server.port
        # Warm both workers' caches with the old home page.
        seen: dict[int, str] = {}
        deadline = time.monotonic() + POLL_SECONDS
        for _ in range(POLL_REQUESTS):
            pid, home = worker_and_home(port)
            seen[pid] = home
            if len(seen) == 2 or time.monotonic() > deadline:
                break
            time.sleep(POLL_PAUSE)
        assert len(seen) == 2, "the kernel never gave a connection to the second worker"
        assert all("Titolo dopo l'import" not in home for home in seen.values())

        item = sorted(seed_copy.glob("*.md"))[0]
        item.write_text(
            re.sub(
                r'^title = ".*"$',
                'title = "Titolo dopo l\'import"',
                item.read_text(),
                count=1,
                flags=re.M,
            )
        )
        import_seed(settings, seed_copy)  # another process writes, as `greenweb import` does

        # From the commit on, every response from every worker is fresh: no stale page at all.
        fresh: set[int] = set()
        deadline = time.monotonic() + POLL_SECONDS
        for _ in range(POLL_REQUESTS):
            pid, home = worker_and_home(port)
            assert "Titolo dopo l&#39;import" in home, f"worker {pid} served a stale page"
            fresh.add(pid)
            if fresh == set(seen) or time.monotonic() > deadline:
                break
            time.sleep(POLL_PAUSE)
        assert fresh == set(seen)
    # One secret, made before the workers started, shared by both.
    assert len(secret_path(settings.db_path).read_text().strip()) >= 32


@pytest.mark.parametrize("path", ["/", "/bollettino", "/scadenze"])
def test_footer_weight_matches_the_bytes_on_the_wire(tmp_path: Path, path: str) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    with serve(tmp_path, settings.db_path) as server:
        port = server.port
        for attempt in ("kept", "from the cache"):
            for coding, header in (("br", "br"), ("gzip", "gzip"), ("identity", "")):
                raw = raw_get(port, path, {"Accept-Encoding": header} if header else {})
                assert raw.header("content-encoding") == (None if coding == "identity" else coding)
                html = compression.decode_body(raw.body, coding).decode()
                stated = int(re.search(r'<data value="(\d+)">', html).group(1))  # type: ignore[union-attr]
                assert abs(raw.size - stated) <= 2, (attempt, coding, raw.size, stated)


def test_workers_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    db = tmp_path / "greenweb.db"
    results: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(load_or_create_secret(db))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 8
    assert len(set(results)) == 1
    assert results[0] == secret_path(db).read_text().strip()
    assert [p.name for p in tmp_path.iterdir()] == [secret_path(db).name]
