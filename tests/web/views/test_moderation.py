"""The moderators' queue and every action on a question."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from greenweb.config import Settings
from support.board import publish_directly, query, row_counts
from support.moderation import Desk, moderator_desk


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


def state_of(desk: Desk, question_id: int) -> str:
    return str(
        query(desk.settings, "SELECT state FROM questions WHERE id = ?", (question_id,))[0][0]
    )


def test_reject_needs_a_reason_which_the_public_log_shows(desk: Desk) -> None:
    before = row_counts(desk.settings)
    empty = desk.act(desk.pending, "respingi", motivo_respingi="  ")
    assert empty.status_code == 422
    assert 'id="motivo_respingi-errore"' in empty.text
    assert row_counts(desk.settings) == before
    done = desk.act(desk.pending, "respingi", motivo_respingi="Contiene insulti")
    assert done.status_code == 303 and done.headers["location"].startswith("/moderazione?")
    assert state_of(desk, desk.pending) == "respinta"
    log = desk.client.get("/moderazione/registro").text
    assert "respinta (Contiene insulti)" in log
    assert "anna" not in log
    history = desk.page(f"/moderazione/domande/{desk.pending}")
    assert "respinta (Contiene insulti) · anna" in history


def test_approving_twice_is_a_clear_conflict(desk: Desk) -> None:
    assert desk.act(desk.pending, "approva").status_code == 303
    assert "/approva" not in desk.page(f"/moderazione/domande/{desk.pending}")  # not offered
    # A second approval (say, from a page opened before the first) changes nothing.
    before = row_counts(desk.settings)
    stale = desk.client.post(
        f"/moderazione/domande/{desk.pending}/approva",
        data={"token": desk.token(desk.pending, "approva")},
    )
    assert stale.status_code == 409
    assert "Si possono approvare solo le domande ricevute" in stale.text
    assert row_counts(desk.settings) == before


def test_edit_keeps_the_original_and_says_so_in_public(desk: Desk) -> None:
    original = query(desk.settings, "SELECT text FROM questions WHERE id = ?", (desk.public,))[0][0]
    short = desk.act(desk.public, "modifica", testo="corta")
    assert short.status_code == 422 and "troppo breve" in short.text
    fixed = "Il clima cambia davvero? Ecco la domanda senza refusi."
    assert (
        desk.act(desk.public, "modifica", testo=fixed, motivo_modifica="refuso").status_code == 303
    )
    assert query(
        desk.settings, "SELECT text, original_text FROM questions WHERE id = ?", (desk.public,)
    ) == [(fixed, original)]
    public = desk.client.get(f"/domande/{desk.public}").text
    assert fixed in public and "testo corretto dalla moderazione" in public
    assert original not in public
    again = "Il clima cambia davvero? Seconda correzione del testo."
    assert desk.act(desk.public, "modifica", testo=again).status_code == 303
    assert query(
        desk.settings, "SELECT original_text FROM questions WHERE id = ?", (desk.public,)
    ) == [(original,)]
    unchanged = desk.act(desk.public, "modifica", testo=again)
    assert unchanged.headers["location"].endswith("fatto=invariata")


def test_answer_preview_stores_nothing_and_markdown_is_safe(desk: Desk) -> None:
    before = row_counts(desk.settings)
    preview = desk.act(
        desk.public,
        "rispondi",
        risposta="Vedi [qui](javascript:alert(1)) e **qui**.\n\n<b>grassetto?</b>",
        anteprima="1",
    )
    assert preview.status_code == 200
    assert "<strong>qui</strong>" in preview.text
    assert 'href="javascript:' not in preview.text and "<b>grassetto" not in preview.text
    assert row_counts(desk.settings) == before


def test_answer_with_a_missing_resource_changes_nothing(desk: Desk) -> None:
    before = row_counts(desk.settings)
    response = desk.act(desk.public, "rispondi", risposta="Risposta.", risorse="99999")
    assert response.status_code == 409
    assert "non esiste più" in response.text
    assert row_counts(desk.settings) == before
    bad = desk.act(desk.public, "rispondi", risposta="Risposta.", risorse="uno")
    assert bad.status_code == 422
    assert row_counts(desk.settings) == before


@pytest.mark.parametrize("digits", ["²", "١", "１", "٣٤"])
def test_answer_with_non_ascii_digits_as_resource_is_refused(desk: Desk, digits: str) -> None:
    # str.isdigit() accepts these; int() refuses "²" (it was a 500).
    before = row_counts(desk.settings)
    response = desk.act(desk.public, "rispondi", risposta="Risposta.", risorse=digits)
    assert response.status_code == 422
    assert "Scegli le risorse dall" in response.text
    assert row_counts(desk.settings) == before


def test_theatre_piece_appears_on_the_pieces_page(desk: Desk) -> None:
    bad = desk.act(desk.public, "pillola", titolo="Caldo", indirizzo="javascript:alert(1)")
    assert bad.status_code == 422 and 'id="indirizzo-errore"' in bad.text
    assert desk.client.get("/pillole").text.count('<article class="card">') == 0
    done = desk.act(
        desk.public,
        "pillola",
        titolo="Il termometro impazzito",
        indirizzo="https://example.org/pillole/termometro",
        testo_pillola="Scena unica.\nDue attori.",
    )
    assert done.status_code == 303
    pieces = desk.client.get("/pillole").text
    assert "Il termometro impazzito" in pieces
    assert 'href="https://example.org/pillole/termometro"' in pieces
    question = desk.client.get(f"/domande/{desk.public}").text
    assert 'aria-current="step">Diventata pillola teatrale' in question
    assert "Scena unica.\nDue attori." in question
    assert (
        "diventata pillola teatrale (Il termometro impazzito)"
        in desk.client.get("/moderazione/registro").text
    )
    # Only a published question can become a piece.
    assert "/pillola" not in desk.page(f"/moderazione/domande/{desk.pending}")


def test_unpublish_hides_with_a_reason_and_restore_brings_back(desk: Desk) -> None:
    missing = desk.act(desk.public, "ritira", motivo_ritira="")
    assert missing.status_code == 422
    assert desk.act(desk.public, "ritira", motivo_ritira="Dati personali").status_code == 303
    assert desk.client.get(f"/domande/{desk.public}").status_code == 404
    assert "ritirata (Dati personali)" in desk.client.get("/moderazione/registro").text
    assert desk.act(desk.public, "ripristina").status_code == 303
    assert desk.client.get(f"/domande/{desk.public}").status_code == 200


def test_queue_lists_pending_and_reported_oldest_first(desk: Desk) -> None:
    newer = publish_directly(
        desk.settings, state="ricevuta", published_at=None, created_at=2_000_000_000
    )[0]
    reported = publish_directly(desk.settings, state="segnalata", created_at=1)[0]
    queue = desk.page("/moderazione")
    positions = [
        queue.index(f'/moderazione/domande/{qid}"') for qid in (reported, desk.pending, newer)
    ]
    assert positions == sorted(positions)
    assert f'/moderazione/domande/{desk.public}"' not in queue
    published = desk.page("/moderazione?stato=pubblicate")
    assert f'/moderazione/domande/{desk.public}"' in published
    assert desk.client.get("/moderazione?stato=tutte").status_code == 400
