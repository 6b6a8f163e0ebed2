"""kill -9 in the middle of work: the database stays sound and nothing acknowledged is lost.

Two halves of what the board's crash test combines (tests/test_board_load.py: real
questions and "anch'io" posted by 64 clients, the server killed mid-load): a server
killed under load and restarted on the same database, and a writer using greenweb's own
write path (``Database.transaction``) killed between acknowledged writes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx2
import pytest

from greenweb.db import Database
from greenweb.staff import REDATTORE
from support import import_seed, make_settings
from support.board import PASSWORD, add_staff, token_for
from support.hostile import table_counts
from support.load import assert_no_server_errors, run_load
from support.servers import LiveServer, integrity_check, python_command, read_only, wait_until

pytestmark = pytest.mark.slow

PAGES = ("/", "/bollettino", "/bollettino/horizon-europe", "/cerca?q=clima", "/calendario.ics")


def read_page(client: httpx2.Client, index: int) -> httpx2.Response:
    return client.get(PAGES[index % len(PAGES)])


def kill_under_load_and_restart(server: LiveServer, count: int, clients: int) -> None:
    before = table_counts(server.db_path)
    result = run_load(
        server, read_page, count=count, clients=clients, deadline=120, at=(count // 4, server.kill)
    )
    assert not server.running
    assert_no_server_errors(result)
    assert result.statuses()[200] >= count // 4
    assert set(result.statuses()) <= {200, None}  # answered in full, or not at all

    assert integrity_check(server.db_path) == ["ok"]
    server.start()
    assert table_counts(server.db_path) == before
    after = run_load(server, read_page, count=50, clients=4, deadline=60)
    assert after.statuses() == {200: 50}


def test_server_killed_under_load_restarts_on_a_sound_database(live_server: LiveServer) -> None:
    kill_under_load_and_restart(live_server, count=200, clients=8)
    assert live_server.starts == 2


@pytest.mark.stress
def test_server_killed_under_heavy_load_restarts_on_a_sound_database(
    live_server: LiveServer,
) -> None:
    for _ in range(3):
        kill_under_load_and_restart(live_server, count=4000, clients=64)


# --- a writer killed between acknowledged writes -------------------------------------------

MAX_WRITES = 100_000  # the writer's own bound


def writer_main() -> None:
    """Insert rows through greenweb's write path, printing each id once committed."""
    path = Path(sys.argv[1])

    async def write() -> None:
        db = Database(path)
        await db.open()
        try:
            for number in range(1, MAX_WRITES + 1):
                async with db.transaction() as conn:
                    await conn.execute(
                        "INSERT INTO probe (id, payload) VALUES (?, ?)", (number, "x" * 500)
                    )
                # Acknowledged only after COMMIT returned, like a 303 after the transaction.
                print(number, flush=True)
        finally:
            await db.close()

    asyncio.run(write())


def acknowledged(stdout: Path) -> list[int]:
    lines = stdout.read_text().splitlines()
    # The last line may be cut by the kill: only whole lines count.
    complete = lines if stdout.read_bytes().endswith(b"\n") else lines[:-1]
    return [int(line) for line in complete]


def kill_writer(tmp_path: Path, at_least: int) -> tuple[Path, list[int]]:
    settings = make_settings(tmp_path)
    import_seed(settings)
    with closing(sqlite3.connect(settings.db_path, isolation_level=None)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    stdout = tmp_path / "acks.txt"
    with stdout.open("wb") as out, (tmp_path / "writer.err").open("wb") as err:
        writer = subprocess.Popen(
            python_command(__file__, "writer_main", str(settings.db_path)),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: stdout.stat().st_size > 0 and len(acknowledged(stdout)) >= at_least,
            60,
            f"{at_least} acknowledged writes",
        )
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        if writer.poll() is None:
            os.killpg(writer.pid, signal.SIGKILL)
        writer.wait(30)
    assert writer.returncode == -signal.SIGKILL, (tmp_path / "writer.err").read_text()
    return settings.db_path, acknowledged(stdout)


def assert_every_acknowledged_write_is_there(db_path: Path, acks: list[int]) -> None:
    assert integrity_check(db_path) == ["ok"]
    with closing(read_only(db_path)) as conn:
        stored = [row[0] for row in conn.execute("SELECT id FROM probe ORDER BY id")]
    assert acks == list(range(1, len(acks) + 1))
    # Every acknowledged row, once; at most one more, committed but killed before its ack.
    assert stored[: len(acks)] == acks
    assert len(stored) - len(acks) in {0, 1}


def test_writer_killed_mid_stream_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db_path, acks = kill_writer(tmp_path, at_least=100)
    assert_every_acknowledged_write_is_there(db_path, acks)


@pytest.mark.stress
def test_writer_killed_after_many_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db_path, acks = kill_writer(tmp_path, at_least=5000)
    assert_every_acknowledged_write_is_there(db_path, acks)


# --- an editor's draft, acknowledged by its 303 ---------------------------------------------


def test_a_draft_acknowledged_by_its_303_survives_kill_9(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    assert add_staff(monkeypatch, settings, "bea", REDATTORE) == 0
    server = LiveServer.greenweb(tmp_path / "server", settings.db_path)
    with server, httpx2.Client(base_url=server.base_url, trust_env=False) as client:
        login_page = client.get("/moderazione/accesso").text
        login = {"token": token_for(login_page, "/moderazione/accesso")}
        answer = client.post(
            "/moderazione/accesso", data={**login, "nome": "bea", "password": PASSWORD}
        )
        assert answer.status_code == 303, answer.text[-300:]
        form = client.get("/redazione/nuova").text
        draft = {
            "token": token_for(form, "/redazione/nuova"),
            "azione": "bozza",
            "title": "Bozza da non perdere",
            "kind": "notizia",
            "body": "Scritta poco prima del guasto.",
        }
        saved = client.post("/redazione/nuova", data=draft)
        assert saved.status_code == 303, saved.text[-300:]
        server.kill()  # right after the acknowledgement, before anything else can happen
    assert integrity_check(settings.db_path) == ["ok"]
    with closing(sqlite3.connect(settings.db_path)) as conn:
        stored = conn.execute(
            "SELECT i.title, i.state, r.action FROM bulletin_item i "
            "JOIN bulletin_revision r ON r.item_id = i.id WHERE i.slug = 'bozza-da-non-perdere'"
        ).fetchall()
    assert stored == [("Bozza da non perdere", "draft", "bozza")]
