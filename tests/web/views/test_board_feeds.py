"""The board's feeds over HTTP: a question's story, a topic's questions, every answer, and
the asker's private feed; each parses back with ids, dates and absolute links, the public
ones are cached, 304-able and re-made after an answer, the private one is never kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from greenweb.board.following import follow_token
from greenweb.config import Settings
from support.atom import parse_feed
from support.board import ask, publish_directly, query, row_counts
from support.moderation import Desk, moderator_desk

BR = {"Accept-Encoding": "br"}


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


def answer(desk: Desk, question_id: int, text: str) -> None:
    desk.clock.advance(60)
    assert desk.act(question_id, "rispondi", risposta=text).status_code == 303


def test_a_questions_feed_tells_its_story_newest_first(desk: Desk) -> None:
    qid = desk.pending
    assert desk.act(qid, "approva").status_code == 303
    answer(desk, qid, "La prima risposta.")
    answer(desk, qid, "La risposta **corretta**.")
    desk.clock.advance(60)
    piece = {"titolo": "Il caldo in scena", "indirizzo": "https://example.org/pillola"}
    assert desk.act(qid, "pillola", **piece).status_code == 303
    response = desk.client.get(f"/domande/{qid}/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = parse_feed(response.content)
    assert feed.self_link == f"http://testserver/domande/{qid}/feed.xml" == feed.id
    assert feed.alternate == f"http://testserver/domande/{qid}"
    assert [e.title for e in feed.entries] == [
        "Diventata pillola teatrale: Il caldo in scena",
        "Risposta aggiornata",
        "Risposta pubblicata",
        "Pubblicata",
    ]
    assert all(e.link == f"http://testserver/domande/{qid}" for e in feed.entries)
    assert all(e.id.startswith(f"http://testserver/domande/{qid}#voce-") for e in feed.entries)
    assert feed.updated == feed.entries[0].updated
    assert "<strong>corretta</strong>" in feed.entries[1].content
    assert "corretta" not in feed.entries[2].content  # the older answer is not repeated
    assert b"anna" not in response.content  # never the moderator's name


def test_a_question_that_is_not_public_has_no_public_feed(desk: Desk) -> None:
    response = desk.client.get(f"/domande/{desk.pending}/feed.xml")
    assert response.status_code == 404
    assert "non è pubblicata" in response.text
    assert desk.client.get("/domande/999999/feed.xml").status_code == 404


def test_a_topic_feed_holds_that_topics_published_questions(desk: Desk) -> None:
    (energy,) = publish_directly(desk.settings, topic="energia", text="Il nucleare aiuta?")
    (other,) = publish_directly(desk.settings, topic="clima", text="Perché piove meno?")
    publish_directly(desk.settings, topic="energia", state="ricevuta", published_at=None)
    feed = parse_feed(desk.client.get("/domande/temi/energia/feed.xml").content)
    assert [e.link for e in feed.entries] == [f"http://testserver/domande/{energy}"]
    assert feed.alternate == "http://testserver/domande?tema=energia"
    assert feed.self_link == "http://testserver/domande/temi/energia/feed.xml"
    assert "Il nucleare aiuta?" in feed.entries[0].content
    assert f"/domande/{other}" not in str(feed)


def test_an_unknown_topic_has_no_feed(desk: Desk) -> None:
    response = desk.client.get("/domande/temi/astrologia/feed.xml")
    assert response.status_code == 404
    assert "Tema sconosciuto" in response.text


def test_the_answers_feed_holds_the_answered_questions(desk: Desk) -> None:
    answer(desk, desk.public, "Perché la CO2 trattiene il calore.")
    feed = parse_feed(desk.client.get("/domande/risposte.xml").content)
    assert [e.link for e in feed.entries] == [f"http://testserver/domande/{desk.public}"]
    assert "trattiene il calore" in feed.entries[0].content
    assert feed.alternate == "http://testserver/domande?ordine=con-risposta"


def test_pages_link_their_feeds_for_browsers_and_people(desk: Desk) -> None:
    (qid,) = publish_directly(desk.settings, topic="energia")
    alternate = '<link rel="alternate" type="application/atom+xml"'
    question = desk.client.get(f"/domande/{qid}").text
    assert (
        f'{alternate} title="Domanda n. {qid}: la sua storia" href="/domande/{qid}/feed.xml">'
        in (question)
    )
    assert f'href="/domande/{qid}/feed.xml">Segui questa domanda' in question
    topic = desk.client.get("/domande?tema=energia").text
    assert (
        f'{alternate} title="Dubbi sul clima: Energia" href="/domande/temi/energia/feed.xml"'
        in (topic)
    )
    assert topic.count('href="/domande/temi/energia/feed.xml"') == 2
    answers = desk.client.get("/domande?ordine=con-risposta").text
    assert answers.count('href="/domande/risposte.xml"') == 2
    assert "risposte.xml" not in desk.client.get("/domande").text


def test_public_feeds_are_cached_304_able_and_remade_after_an_answer(desk: Desk) -> None:
    client = desk.client
    paths = [f"/domande/{desk.public}/feed.xml", "/domande/risposte.xml"]
    first = {path: client.get(path, headers=BR) for path in paths}
    for path, response in first.items():
        assert response.headers["etag"]
        again = client.get(path, headers={**BR, "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304, path
    answer(desk, desk.public, "Una risposta nuova di zecca.")
    for path, response in first.items():
        changed = client.get(path, headers={**BR, "If-None-Match": response.headers["etag"]})
        assert changed.status_code == 200, path
        assert "nuova di zecca" in parse_feed(changed.content).entries[0].content, path


# --- the asker's private feed ----------------------------------------------------------------


def asked(desk: Desk) -> tuple[int, str]:
    """Ask a question as a visitor; return its id and the thank-you page's feed address."""
    sent = ask(desk.client, desk.clock)
    assert sent.status_code == 303
    thanks = desk.client.get(sent.headers["location"])
    assert thanks.status_code == 200
    assert thanks.headers["cache-control"] == "no-store"
    assert thanks.headers["x-robots-tag"] == "noindex"
    (qid,) = query(desk.settings, "SELECT max(id) FROM questions")[0]
    start = thanks.text.index('<a href="http://testserver/domande/seguo/')
    address = thanks.text[start + 9 : thanks.text.index('"', start + 9)]
    return qid, address


def private(desk: Desk, address: str) -> list[str]:
    response = desk.client.get(address)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-robots-tag"] == "noindex"
    feed = parse_feed(response.content)
    assert feed.self_link == address
    return [e.title for e in feed.entries]


def test_the_asker_follows_a_pending_question_until_it_is_answered(desk: Desk) -> None:
    qid, address = asked(desk)
    assert private(desk, address) == ["Ricevuta"]
    assert desk.act(qid, "approva").status_code == 303
    assert private(desk, address) == ["Pubblicata", "Ricevuta"]
    answer(desk, qid, "Ecco la risposta, con le fonti.")
    titles = private(desk, address)
    assert titles == ["Risposta pubblicata", "Pubblicata", "Ricevuta"]
    feed = parse_feed(desk.client.get(address).content)
    assert "Ecco la risposta" in feed.entries[0].content
    assert feed.alternate == f"http://testserver/domande/{qid}"


def test_the_private_feed_tells_a_rejection_and_its_public_reason(desk: Desk) -> None:
    qid, address = asked(desk)
    refused = desk.act(qid, "respingi", motivo_respingi="Non riguarda il clima")
    assert refused.status_code == 303
    feed = parse_feed(desk.client.get(address).content)
    assert [e.title for e in feed.entries] == ["Respinta", "Ricevuta"]
    assert "Motivo: Non riguarda il clima" in feed.entries[0].content
    assert feed.alternate == "http://testserver/domande"  # not public: no page to link
    assert b"anna" not in desk.client.get(address).content


def test_the_private_feed_tells_a_withdrawal_and_its_reason(desk: Desk) -> None:
    qid, address = asked(desk)
    desk.act(qid, "approva")
    desk.act(qid, "ritira", motivo_ritira="Conteneva dati personali")
    feed = parse_feed(desk.client.get(address).content)
    assert feed.entries[0].title == "Ritirata"
    assert "Conteneva dati personali" in feed.entries[0].content


def test_the_private_feed_holds_no_personal_data(desk: Desk) -> None:
    sent = ask(desk.client, desk.clock, nome="Giulia Rossi")
    thanks = desk.client.get(sent.headers["location"]).text
    address = thanks[thanks.index("http://testserver/domande/seguo/") :].split('"')[0]
    body = desk.client.get(address).content
    assert b"Giulia" not in body
    for (voter_hash,) in query(desk.settings, "SELECT voter_hash FROM votes"):
        assert voter_hash.encode() not in body


def test_the_thank_you_page_without_an_address_stays_cacheable(desk: Desk) -> None:
    for _ in range(2):  # the second from the page cache
        page = desk.client.get("/domande/grazie")
        assert page.status_code == 200
        assert "no-store" not in page.headers.get("cache-control", "")
        assert "/domande/seguo/" not in page.text
    # The kept copy is never what an asker with an address gets, nor the other way round.
    qid, address = asked(desk)
    assert address.endswith(".xml")
    assert "/domande/seguo/" not in desk.client.get("/domande/grazie").text


def bad_tokens(settings: Settings, qid: int, other: int) -> list[tuple[str, str]]:
    good = follow_token(settings.secret_bytes, qid)
    value, signature = good.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        ("forged", f"{value}.{flipped}"),
        ("truncated", good[:-1]),
        ("no signature", value),
        ("other question", f"{other}.{signature}"),
        ("another purpose", follow_token(b"another secret", qid)),
        ("malformed", "%3Cscript%3E.x"),
        ("leading zero", f"0{value}.{signature}"),
        ("extra part", good + ".x"),
    ]


def test_forged_or_broken_private_feed_addresses_are_404_and_change_nothing(
    desk: Desk,
) -> None:
    qid, _ = asked(desk)
    before = row_counts(desk.settings)
    for name, token in bad_tokens(desk.settings, qid, desk.public):
        for path in (f"/domande/seguo/{token}.xml", f"/domande/grazie?t={token}"):
            response = desk.client.get(path)
            assert response.status_code == 404, (name, path)
            assert "non apre nessuna domanda" in response.text, (name, path)
            assert response.headers["cache-control"] == "no-store"
    assert row_counts(desk.settings) == before
