"""Two worker processes keep the page cache's guarantee: from the commit of a write on,
no worker serves a page older than it, and a write leaves the pages it did not change as
they were. A vote is counted on the page the 303 sends the voter to, and on every list
that shows counts; an import by another process reaches every worker at once."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from greenweb import security
from greenweb.bulletin import newsroom
from greenweb.config import Settings
from greenweb.db import Database, with_database
from support import import_seed, make_settings, retitle_first_item
from support.board import publish_directly
from support.raw_http import RawResponse, http_request, raw_gets, raw_http
from support.servers import TEST_SECRET, LiveServer

pytestmark = pytest.mark.slow

# Bounds, not pauses: each loop stops as soon as both workers answered. A worker still
# starting on a busy machine (the suite runs in two processes) gets up to a minute.
POLL_SECONDS = 60.0
POLL_CONNECTIONS = 3_000
POLL_PAUSE = 0.01


def visit(port: int, *paths: str) -> tuple[int, list[RawResponse]]:
    """``paths`` on one fresh connection: which worker answered, and its answers."""
    answers = raw_gets(port, ["/healthz", *paths])
    assert all(answer.status == 200 for answer in answers), [a.status for a in answers]
    return int(json.loads(answers[0].body)["pid"]), answers[1:]


def every_worker(
    port: int, workers: set[int] | None, paths: list[str], check: Callable[[list[str]], None]
) -> dict[int, list[RawResponse]]:
    """Visit ``paths`` on fresh connections until every worker (both of them when
    ``workers`` is None) answered, checking every answer of every visit."""
    seen: dict[int, list[RawResponse]] = {}
    deadline = time.monotonic() + POLL_SECONDS
    for _ in range(POLL_CONNECTIONS):
        pid, answers = visit(port, *paths)
        check([html.unescape(answer.body.decode()) for answer in answers])
        seen.setdefault(pid, answers)
        if (len(seen) == 2 if workers is None else set(seen) == workers) or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(POLL_PAUSE)
    return seen


def vote(port: int, question: int) -> str:
    """One "anch'io", its form token dated past the minimum age; the 303's Location."""
    token = security.issue_token(TEST_SECRET.encode(), f"vote-{question}", time.time() - 10)
    form = f"token={token}&sito_web=".encode()
    answer = raw_http(
        port,
        http_request(
            f"POST /domande/{question}/anchio".encode(),
            b"Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(form)}".encode(),
            body=form,
        ),
    )
    assert answer.status == 303, answer.raw[:300]
    location = answer.header("location")
    assert location is not None
    return location


def test_two_workers_show_a_vote_and_an_import_from_their_commit_on(
    tmp_path: Path, seed_copy: Path
) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    server = LiveServer.greenweb(tmp_path / "server", settings.db_path, args=["--workers", "2"])
    with server:
        question = publish_directly(settings, topic="clima")[0]
        lists = ["/domande", "/domande?tema=clima", "/domande?ordine=condivise"]

        def not_counted(pages: list[str]) -> None:
            assert all("0 anch'io" in page for page in pages[:-1])

        before = every_worker(server.port, None, [*lists, "/bollettino"], not_counted)
        assert len(before) == 2, "the kernel never gave a connection to the second worker"
        workers = set(before)

        # The voter is sent to the question's page, whichever worker answers it.
        target = vote(server.port, question)
        assert target == f"/domande/{question}#anchio"

        def counted(pages: list[str]) -> None:
            assert all("1 anch'io" in page for page in pages[: len(lists)]), "a stale list"
            assert "Hai detto «anch'io»: sei l'unica persona" in pages[-1]

        path = target.partition("#")[0]
        after = every_worker(server.port, workers, [*lists, "/bollettino", path], counted)
        assert set(after) == workers
        for pid, answers in after.items():
            # Nothing of the bulletin changed: the same bytes as before the vote.
            assert answers[len(lists)].header("etag") == before[pid][-1].header("etag")

        # And a write by another process (`greenweb import`) reaches both workers at once.
        retitle_first_item(seed_copy, "Dopo il voto")
        import_seed(settings, seed_copy)

        def imported(pages: list[str]) -> None:
            assert "Dopo il voto" in pages[0], "a stale bulletin page"
            assert "1 anch'io" in pages[1]

        assert set(every_worker(server.port, workers, ["/bollettino", "/domande"], imported)) == (
            workers
        )


def schedule_item(settings: Settings, title: str, at: datetime) -> None:
    """An editor's scheduled item, saved as the newsroom saves it."""

    async def work(db: Database) -> None:
        values = {
            **newsroom.empty_form(),
            "title": title,
            "slug": "programmata",
            "body": "Esce all'ora fissata.",
        }
        async with db.transaction() as conn:
            await newsroom.save(
                conn,
                item_id=None,
                expected_revision=None,
                values=values,
                action="programma",
                editor="bea",
                now=datetime.now(UTC),
                publish_at=at,
            )

    with_database(settings.db_path, work)


def test_two_workers_publish_a_scheduled_item_at_its_time_over_their_cached_pages(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    import_seed(settings)
    server = LiveServer.greenweb(tmp_path / "server", settings.db_path, args=["--workers", "2"])
    with server:

        def without(pages: list[str]) -> None:
            assert "Uscita programmata" not in pages[0]

        # Both workers keep /bollettino in their page cache before anything is scheduled.
        workers = set(every_worker(server.port, None, ["/bollettino"], without))
        assert len(workers) == 2, "the kernel never gave a connection to the second worker"

        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        schedule_item(settings, "Uscita programmata", due)
        while datetime.now(UTC) < due + timedelta(milliseconds=50):
            time.sleep(0.05)

        def published(pages: list[str]) -> None:
            assert "Uscita programmata" in pages[0], "a page from before the item was due"
            assert "Esce all'ora fissata." in pages[1]

        paths = ["/bollettino", "/bollettino/programmata"]
        assert set(every_worker(server.port, workers, paths, published)) == workers
