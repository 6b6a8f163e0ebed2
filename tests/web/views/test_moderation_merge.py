"""Merging a duplicate over HTTP: the moderation form, the 301s, each person counted once,
the public log, and the duplicate's private feed saying where it went; refusals are 409s
or 422s with an Italian message and change nothing."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from greenweb.config import Settings
from support.atom import parse_feed
from support.board import as_client, ask, query, row_counts, token_for
from support.moderation import Desk, moderator_desk


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


def say_anchio(desk: Desk, question_id: int, address: str) -> None:
    visitor = as_client(address)
    action = f"/domande/{question_id}/anchio"
    page = desk.client.get(f"/domande/{question_id}", headers=visitor)
    desk.clock.advance(10)
    response = desk.client.post(
        action,
        data={"token": token_for(page.text, action)},
        headers=visitor,
        follow_redirects=False,
    )
    assert response.status_code == 303


def counts(desk: Desk, question_id: int) -> tuple[int, int]:
    ((me_too, rows),) = query(
        desk.settings,
        "SELECT me_too, (SELECT count(*) FROM votes WHERE question_id = q.id) "
        "FROM questions q WHERE id = ?",
        (question_id,),
    )
    return me_too, rows


def test_a_duplicate_is_merged_into_the_question_it_repeats(desk: Desk) -> None:
    kept = desk.public
    sent = ask(desk.client, desk.clock, "Il clima cambia davvero più in fretta di prima?")
    thanks = desk.client.get(sent.headers["location"]).text
    private = thanks[thanks.index("http://testserver/domande/seguo/") :].split('"')[0]
    (duplicate,) = query(desk.settings, "SELECT max(id) FROM questions")[0]
    assert desk.act(duplicate, "approva").status_code == 303
    say_anchio(desk, kept, "192.0.2.1")
    say_anchio(desk, kept, "192.0.2.2")
    say_anchio(desk, duplicate, "192.0.2.2")  # said on both: counted once
    say_anchio(desk, duplicate, "192.0.2.3")

    merged = desk.act(duplicate, "unisci", doppione_di=str(kept), motivo_unisci="Stessa domanda")
    assert merged.status_code == 303
    page = desk.client.get(merged.headers["location"]).text
    assert "Domanda unita come doppione" in page
    assert f'Doppione unito alla <a href="/moderazione/domande/{kept}">' in page

    assert counts(desk, kept) == (3, 3)
    assert counts(desk, duplicate) == (0, 0)
    moved = desk.client.get(f"/domande/{duplicate}", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == f"/domande/{kept}"
    feed = desk.client.get(f"/domande/{duplicate}/feed.xml", follow_redirects=False)
    assert feed.status_code == 301 and feed.headers["location"] == f"/domande/{kept}/feed.xml"
    # The people who voted on the duplicate find their "anch'io" on the kept question.
    page = desk.client.get(f"/domande/{kept}", headers=as_client("192.0.2.3")).text
    assert "Ritira il mio «anch'io»" in page and "con te sono 3 persone" in page

    log = html.unescape(desk.client.get("/moderazione/registro").text)
    assert f"domanda n. {duplicate}: unita come doppione a un'altra domanda, la " in log
    assert f'<a href="/domande/{kept}">n. {kept}</a> (Stessa domanda)' in log
    assert "anna" not in log.split("<main")[1]

    story = parse_feed(desk.client.get(private).content)
    assert story.entries[0].title == f"Unita alla domanda n. {kept}, di cui era un doppione"
    assert story.entries[0].link == f"http://testserver/domande/{kept}"
    assert "Stessa domanda" in story.entries[0].content
    assert f"http://testserver/domande/{kept}" in story.entries[0].content


@pytest.mark.parametrize(
    ("kept", "reason", "status", "message"),
    [
        ("", "Stessa domanda", 422, "Scrivi il numero"),
        ("dodici", "Stessa domanda", 422, "Scrivi il numero"),
        ("²", "Stessa domanda", 422, "Scrivi il numero"),
        ("1" * 30, "Stessa domanda", 422, "Scrivi il numero"),
        ("{public}", "", 422, "Scrivi il motivo"),
        ("{self}", "Stessa domanda", 409, "sé stessa"),
        ("{pending_other}", "Stessa domanda", 409, "è ricevuta"),
        ("999999", "Stessa domanda", 409, "non esiste"),
    ],
)
def test_merges_that_do_not_apply_are_refused_and_change_nothing(
    desk: Desk, kept: str, reason: str, status: int, message: str
) -> None:
    (other,) = query(desk.settings, "SELECT max(id) FROM questions")[0]
    ask(desk.client, desk.clock)
    (duplicate,) = query(desk.settings, "SELECT max(id) FROM questions")[0]
    typed = kept.format(public=desk.public, self=duplicate, pending_other=desk.pending)
    before = row_counts(desk.settings)
    response = desk.act(duplicate, "unisci", doppione_di=typed, motivo_unisci=reason)
    assert response.status_code == status
    assert message in response.text
    assert row_counts(desk.settings) == before
    assert other


def test_a_chain_of_duplicates_is_refused(desk: Desk) -> None:
    first = desk.pending
    assert (
        desk.act(first, "unisci", doppione_di=str(desk.public), motivo_unisci="x").status_code
        == 303
    )
    ask(desk.client, desk.clock)
    (another,) = query(desk.settings, "SELECT max(id) FROM questions")[0]
    before = row_counts(desk.settings)
    response = desk.act(another, "unisci", doppione_di=str(first), motivo_unisci="Catena")
    assert response.status_code == 409
    assert "a sua volta un doppione" in response.text
    assert row_counts(desk.settings) == before


def test_the_queue_of_rejected_questions_says_which_are_duplicates(desk: Desk) -> None:
    assert desk.act(desk.pending, "unisci", doppione_di=str(desk.public), motivo_unisci="x")
    queue = desk.page("/moderazione?stato=respinte")
    assert f"Respinta · doppione della n. {desk.public}" in queue


def test_a_merged_question_has_no_merge_form_left(desk: Desk) -> None:
    assert desk.act(desk.pending, "unisci", doppione_di=str(desk.public), motivo_unisci="x")
    page = desk.page(f"/moderazione/domande/{desk.pending}")
    assert "/unisci" not in page and "Doppione unito alla" in page
    again = desk.client.post(
        f"/moderazione/domande/{desk.pending}/unisci",
        data={
            "token": desk.token(desk.pending, "unisci"),
            "doppione_di": str(desk.public),
            "motivo_unisci": "Di nuovo",
        },
        follow_redirects=False,
    )
    assert again.status_code == 409 and "già stata unita" in again.text
