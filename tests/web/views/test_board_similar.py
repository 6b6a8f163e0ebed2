"""«Forse è già stata fatta»: the question form's preview shows the published questions most
like the draft, each with its own "anch'io"; a vote from there counts in the aggregate
counter the moderators' queue shows, only when the vote itself counted."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from greenweb.config import Settings
from support.board import (
    Clock,
    as_client,
    board_client,
    cheap_password_hashing,
    publish_directly,
    query,
    row_counts,
    token_for,
)
from support.moderation import moderator_desk

DRAFT = "Quanto resisteranno ancora i ghiacciai delle Alpi con questo caldo?"
VISITOR = as_client("198.51.100.7")


@dataclass
class Board:
    client: TestClient
    clock: Clock
    settings: Settings
    alpine: list[int]  # published, like the draft
    pending: int  # like the draft too, but waiting

    def preview(self, text: str = DRAFT) -> Any:
        page = self.client.get("/domande/nuova", headers=VISITOR)
        self.clock.advance(10)
        data = {
            "token": token_for(page.text, "/domande/nuova"),
            "testo": text,
            "sito_web": "",
            "anteprima": "1",
        }
        response = self.client.post("/domande/nuova", data=data, headers=VISITOR)
        assert response.status_code == 200, response.text[-300:]
        return response

    def vote_from(self, preview: Any, question_id: int, **fields: str) -> Any:
        self.clock.advance(10)
        data = {
            "token": token_for(preview.text, f"/domande/{question_id}/anchio"),
            "da": "anteprima",
            "sito_web": "",
            **fields,
        }
        return self.client.post(
            f"/domande/{question_id}/anchio", data=data, headers=VISITOR, follow_redirects=False
        )

    def joins(self) -> int:
        rows = query(
            self.settings, "SELECT value FROM board_counters WHERE name = 'anchio_da_anteprima'"
        )
        return int(rows[0][0])

    def me_too(self, question_id: int) -> int:
        return int(
            query(self.settings, "SELECT me_too FROM questions WHERE id = ?", (question_id,))[0][0]
        )


@pytest.fixture
def board(settings: Settings) -> Iterator[Board]:
    clock = Clock()
    with board_client(settings, clock) as client:
        alpine = [
            *publish_directly(settings, text="I ghiacciai delle Alpi spariranno del tutto?"),
            *publish_directly(settings, text="Perché i ghiacciai alpini si ritirano?"),
            *publish_directly(settings, text="Le Alpi senza ghiacciai: che cosa cambia?"),
            *publish_directly(settings, text="Dei ghiacciai resterà qualcosa?"),
        ]
        publish_directly(settings, 3, text="Il mare di Genova si scalda davvero?")
        pending = publish_directly(
            settings, text="I ghiacciai delle Alpi? In attesa.", state="ricevuta", published_at=None
        )[0]
        yield Board(client, clock, settings, alpine, pending)


def similar_ids(html: str) -> list[int]:
    section = html.split('<section class="similar"', 1)[1].split("</section>", 1)[0]
    return [int(n) for n in re.findall(r'<h3 class="qh" id="simile-(\d+)">', section)]


def test_the_preview_shows_up_to_three_published_questions_like_the_draft(board: Board) -> None:
    before = row_counts(board.settings)
    preview = board.preview()
    html = preview.text
    assert '<h2 id="h-simili">Forse è già stata fatta</h2>' in html
    shown = similar_ids(html)
    assert len(shown) == 3 and set(shown) <= set(board.alpine)
    assert board.pending not in shown
    for question_id in shown:
        assert f'<a href="/domande/{question_id}">' in html
        assert f'<form method="post" action="/domande/{question_id}/anchio" class="metoo">' in html
        assert token_for(html, f"/domande/{question_id}/anchio")
    assert html.count('<input type="hidden" name="da" value="anteprima">') == 3
    assert html.count('<p class="kind">Pubblicata</p>') == 3
    assert preview.headers["cache-control"] == "no-store"
    assert row_counts(board.settings) == before, "a preview stores nothing"


def test_a_draft_like_no_question_shows_no_similar_ones(board: Board) -> None:
    html = board.preview("Le biciclette cargo convengono a una famiglia di Torino?").text
    assert "Forse è già stata fatta" not in html
    html = board.preview("Perché è così? E noi che cosa possiamo fare, adesso?").text
    assert "Forse è già stata fatta" not in html  # stop words only


def test_anchio_from_the_preview_counts_the_vote_and_the_join_once(board: Board) -> None:
    preview = board.preview()
    chosen = similar_ids(preview.text)[0]
    voted = board.vote_from(preview, chosen)
    assert voted.status_code == 303
    assert voted.headers["location"] == f"/domande/{chosen}#anchio"
    assert (board.me_too(chosen), board.joins()) == (1, 1)

    # The same person again, from a new preview: already said, so nothing counts.
    again = board.preview()
    assert "Hai già detto «anch'io» per questa domanda." in again.text
    other = next(qid for qid in similar_ids(again.text) if qid != chosen)
    assert board.vote_from(again, other).status_code == 303
    assert (board.me_too(other), board.joins()) == (1, 2)


def test_anchio_from_the_question_page_leaves_the_counter_alone(board: Board) -> None:
    qid = board.alpine[0]
    page = board.client.get(f"/domande/{qid}", headers=VISITOR)
    board.clock.advance(10)
    data = {"token": token_for(page.text, f"/domande/{qid}/anchio"), "sito_web": ""}
    voted = board.client.post(f"/domande/{qid}/anchio", data=data, headers=VISITOR)
    assert voted.status_code == 200
    assert (board.me_too(qid), board.joins()) == (1, 0)


@pytest.mark.parametrize("origin", ["altrove", "ANTEPRIMA", "anteprima ", "1"])
def test_an_unknown_origin_is_refused_and_changes_nothing(board: Board, origin: str) -> None:
    preview = board.preview()
    chosen = similar_ids(preview.text)[0]
    before = row_counts(board.settings)
    refused = board.vote_from(preview, chosen, da=origin)
    assert refused.status_code == 400
    assert "provenienza sconosciuta" in refused.text
    assert row_counts(board.settings) == before
    assert board.joins() == 0


def test_the_moderators_queue_shows_how_many_joined_from_the_preview(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with cheap_password_hashing(), moderator_desk(settings, monkeypatch) as desk:
        said = "detto «anch'io» invece di scriverne una nuova."
        assert f"Domande simili: 0 persone hanno {said}" in desk.page("/moderazione")
        for value, words in [(1, "1 persona ha"), (1234, "1.234 persone hanno")]:
            with sqlite3.connect(settings.db_path) as conn:
                conn.execute("UPDATE board_counters SET value = ?", (value,))
            assert f"Domande simili: {words} {said}" in desk.page("/moderazione")
