"""The whole life of a question, over HTTP: a visitor asks, a moderator publishes and
answers, visitors say "anch'io" and report, and the public log tells every step."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import (
    PASSWORD,
    Clock,
    add_moderator,
    as_client,
    board_client,
    cheap_password_hashing,
    db_text,
    login,
    query,
    row_counts,
    token_for,
)

QUESTION = "Se il clima è sempre cambiato, perché dovremmo preoccuparci proprio adesso?"
VISITOR = "198.51.100.23"
REPORTERS = ["203.0.113.1", "203.0.113.2", "2001:db8:aa:1::5"]


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


def test_a_question_from_preview_to_answer_to_review(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    assert add_moderator(monkeypatch, settings) == 0
    with board_client(settings, clock) as client:
        visitor = as_client(VISITOR)

        # --- a visitor previews, then sends -------------------------------------------------
        form = client.get("/domande/nuova", headers=visitor)
        assert form.status_code == 200
        assert form.headers["cache-control"] == "no-store"
        token = token_for(form.text, "/domande/nuova")
        clock.advance(30)
        fields = {"token": token, "testo": QUESTION, "nome": "Giulia", "tema": "clima"}
        before = row_counts(settings)
        preview = client.post("/domande/nuova", data={**fields, "anteprima": "1"}, headers=visitor)
        assert preview.status_code == 200
        assert '<h2 id="h-anteprima">Anteprima</h2>' in preview.text
        assert QUESTION.replace("'", "&#39;") in preview.text
        assert row_counts(settings) == before, "a preview stores nothing"
        assert token_for(preview.text, "/domande/nuova") == token

        sent = client.post("/domande/nuova", data=fields, headers=visitor, follow_redirects=False)
        assert sent.status_code == 303
        assert sent.headers["location"].startswith("/domande/grazie?t=")
        assert "set-cookie" not in sent.headers
        thanks = client.get(sent.headers["location"], headers=visitor)
        assert "dopo la moderazione" in thanks.text
        assert thanks.headers["cache-control"] == "no-store"
        question_id = query(settings, "SELECT id FROM questions")[0][0]
        assert query(settings, "SELECT state, topic, display_name FROM questions") == [
            ("ricevuta", "clima", "Giulia")
        ]

        # Pending: not on the public pages yet.
        assert QUESTION not in client.get("/domande").text
        assert client.get(f"/domande/{question_id}").status_code == 404

        # --- a moderator logs in, approves and answers --------------------------------------
        gate = client.get("/moderazione", follow_redirects=False)
        assert gate.status_code == 303
        assert gate.headers["location"].startswith("/moderazione/accesso")
        logged = login(client, clock)
        assert logged.status_code == 303 and logged.headers["location"] == "/moderazione"
        cookie = logged.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/moderazione" in cookie and "Max-Age=28800" in cookie
        assert "Secure" not in cookie  # the test site is http

        queue = client.get("/moderazione")
        assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
        assert f"/moderazione/domande/{question_id}" in queue.text
        page = client.get(f"/moderazione/domande/{question_id}")
        approved = client.post(
            f"/moderazione/domande/{question_id}/approva",
            data={"token": token_for(page.text, f"/moderazione/domande/{question_id}/approva")},
            follow_redirects=False,
        )
        assert approved.status_code == 303

        ipcc = query(settings, "SELECT id, url FROM resources WHERE slug = 'ipcc-ar6-sintesi'")[0]
        page = client.get(f"/moderazione/domande/{question_id}")
        answer = (
            "Il clima è cambiato anche in passato, ma **mai così in fretta** da quando "
            "esistono le società umane. Lo spiega il [rapporto IPCC](" + ipcc[1] + ").\n\n"
            "<script>alert('no')</script>"
        )
        answered = client.post(
            f"/moderazione/domande/{question_id}/rispondi",
            data={
                "token": token_for(page.text, f"/moderazione/domande/{question_id}/rispondi"),
                "risposta": answer,
                "risorse": str(ipcc[0]),
            },
            follow_redirects=False,
        )
        assert answered.status_code == 303

        # --- the visitor sees the answer and says "anch'io" twice ---------------------------
        public = client.get(f"/domande/{question_id}", headers=visitor)
        assert public.status_code == 200
        assert public.headers["cache-control"] == "no-store"
        assert "set-cookie" not in public.headers
        assert "<strong>mai così in fretta</strong>" in public.text
        assert "&lt;script&gt;" in public.text and "<script>" not in public.text
        assert f'href="{ipcc[1]}"' in public.text  # the linked source
        assert 'aria-current="step">Con risposta' in public.text
        assert "Dillo per prima o per primo" in public.text

        vote_url = f"/domande/{question_id}/anchio"
        for attempt in range(2):
            # The second time the page no longer offers the button to this visitor, so the
            # token comes from another visitor's page: the vote still counts once.
            page = client.get(
                f"/domande/{question_id}", headers=visitor if attempt == 0 else as_client("x")
            )
            clock.advance(5)
            vote = client.post(
                vote_url,
                data={"token": token_for(page.text, vote_url), "sito_web": ""},
                headers=visitor,
                follow_redirects=False,
            )
            assert vote.status_code == 303
            assert vote.headers["location"] == f"/domande/{question_id}#anchio"
        assert query(settings, "SELECT me_too FROM questions") == [(1,)]
        assert query(settings, "SELECT count(*) FROM votes") == [(1,)]
        assert "Hai detto «anch'io»" in client.get(f"/domande/{question_id}", headers=visitor).text
        assert "1 anch'io" in client.get("/domande").text

        # --- three different people report: hidden until reviewed ---------------------------
        for number, address in enumerate(REPORTERS, start=1):
            page = client.get(f"/domande/{question_id}", headers=as_client(address))
            assert page.status_code == 200
            clock.advance(5)
            reported = client.post(
                f"/domande/{question_id}/segnala",
                data={
                    "token": token_for(page.text, f"/domande/{question_id}/segnala"),
                    "motivo": "fuori-tema",
                    "sito_web": "",
                },
                headers=as_client(address),
                follow_redirects=False,
            )
            assert reported.status_code == 303
            assert reported.headers["location"] == "/domande/segnalazione-ricevuta"
            visible = client.get(f"/domande/{question_id}").status_code
            assert visible == (200 if number < 3 else 404)
        assert QUESTION not in client.get("/domande").text
        assert query(settings, "SELECT state FROM questions") == [("segnalata",)]

        queue = client.get("/moderazione")
        assert "3 segnalazioni da rivedere" in queue.text
        page = client.get(f"/moderazione/domande/{question_id}")
        assert "Fuori tema: 3, 3 da rivedere" in page.text
        restored = client.post(
            f"/moderazione/domande/{question_id}/ripristina",
            data={"token": token_for(page.text, f"/moderazione/domande/{question_id}/ripristina")},
            follow_redirects=False,
        )
        assert restored.status_code == 303
        assert client.get(f"/domande/{question_id}").status_code == 200

        # --- the public log shows each step, and nobody ---------------------------------------
        log = client.get("/moderazione/registro")
        assert log.status_code == 200
        assert "no-store" not in log.headers.get("cache-control", "")
        steps = re.findall(r"domanda n\. \d+</a>: ([^<(]+)", log.text)
        assert [s.strip() for s in steps] == [
            "ripubblicata dopo la revisione",
            "nascosta in attesa di revisione dopo le segnalazioni",
            "risposta pubblicata",
            "pubblicata",
            "ricevuta",
        ]
        for private in [VISITOR, *REPORTERS, "Giulia", "anna", "fuori-tema", QUESTION]:
            assert private not in log.text
        stored = db_text(settings)
        for address in [VISITOR, *REPORTERS, "testclient"]:
            assert address not in stored, "no client address is ever stored"
        assert PASSWORD not in stored

        # --- logout ends the session ----------------------------------------------------------
        page = client.get("/moderazione")
        out = client.post(
            "/moderazione/esci",
            data={"token": token_for(page.text, "/moderazione/esci")},
            follow_redirects=False,
        )
        assert out.status_code == 303
        assert (
            "Max-Age=0" in out.headers["set-cookie"]
            or "expires=" in out.headers["set-cookie"].lower()
        )
        assert query(settings, "SELECT count(*) FROM moderator_sessions") == [(0,)]
        assert client.get("/moderazione", follow_redirects=False).status_code == 303

    # --- the theatre writers' export ------------------------------------------------------------
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", settings.secret)
    capsys.readouterr()
    assert cli.main(["questions", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out.removeprefix("\ufeff"))))
    assert len(rows) == 1
    assert rows[0]["text"] == QUESTION
    assert rows[0]["me_too"] == "1"
    assert rows[0]["resource_urls"] == ipcc[1]
    assert rows[0]["state"] == "pubblicata"
    assert cli.main(["questions", "export", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)["questions"]
    assert records[0]["answer_md"] == answer
    assert [r["url"] for r in records[0]["resources"]] == [ipcc[1]]
    assert records[0]["display_name"] == "Giulia"
    assert not any("hash" in key for key in records[0])


def test_a_visitor_finds_an_answer_joins_a_similar_question_and_never_a_withdrawn_one(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    assert add_moderator(monkeypatch, settings) == 0
    with board_client(settings, clock) as client:

        def ask_as(address: str, text: str) -> int:
            form = client.get("/domande/nuova", headers=as_client(address))
            clock.advance(30)
            data = {"token": token_for(form.text, "/domande/nuova"), "testo": text}
            sent = client.post(
                "/domande/nuova", data=data, headers=as_client(address), follow_redirects=False
            )
            assert sent.status_code == 303
            return int(query(settings, "SELECT max(id) FROM questions")[0][0])

        def moderate(question_id: int, action: str, **fields: str) -> None:
            base = f"/moderazione/domande/{question_id}"
            page = client.get(base)
            token = token_for(page.text, f"{base}/{action}")
            done = client.post(
                f"{base}/{action}", data={"token": token, **fields}, follow_redirects=False
            )
            assert done.status_code == 303, done.text[-300:]

        asked = ask_as("198.51.100.1", "Il permafrost che si scioglie libera davvero metano?")
        rejected = ask_as("198.51.100.2", "Il permafrost e i clatrati: una domanda da respingere")
        withdrawn = ask_as("198.51.100.3", "Il permafrost e i clatrati: una domanda da ritirare")
        assert login(client, clock).status_code == 303
        moderate(asked, "approva")
        moderate(asked, "rispondi", risposta="Sì: la *tundra* che si scalda libera metano.")
        moderate(rejected, "respingi", motivo_respingi="Doppione dei clatrati")
        moderate(withdrawn, "approva")
        moderate(withdrawn, "ritira", motivo_ritira="Contiene dati personali")

        # --- a visitor searches from the header's box, by a word only in the answer -----
        visitor = as_client("203.0.113.40")
        home = client.get("/", headers=visitor)
        assert '<form role="search" action="/cerca">' in home.text
        found = client.get("/cerca", params={"q": "tundra"}, headers=visitor)
        assert found.status_code == 200
        assert f'<a href="/domande/{asked}">' in found.text
        assert "la <mark>tundra</mark> che si scalda libera metano." in found.text
        # Nor the rejected nor the withdrawn one, nor a moderator's reason.
        for words in ("clatrati", "doppione", "personali"):
            for where in ({}, {"in": "domande"}):
                nothing = client.get("/cerca", params={"q": words, **where}, headers=visitor)
                assert f"Nessun risultato per «{words}»." in nothing.text

        # --- another visitor previews a similar question and says "anch'io" there -------
        form = client.get("/domande/nuova", headers=visitor)
        clock.advance(30)
        draft = {
            "token": token_for(form.text, "/domande/nuova"),
            "testo": "Quanto metano libera il permafrost quando si scioglie?",
            "anteprima": "1",
        }
        preview = client.post("/domande/nuova", data=draft, headers=visitor)
        assert "Forse è già stata fatta" in preview.text
        assert f'<a href="/domande/{asked}">' in preview.text
        assert "Con risposta" in preview.text
        assert f"/domande/{rejected}" not in preview.text
        assert f"/domande/{withdrawn}" not in preview.text
        before = query(settings, "SELECT me_too FROM questions WHERE id = ?", (asked,))[0][0]
        clock.advance(30)
        joined = client.post(
            f"/domande/{asked}/anchio",
            data={
                "token": token_for(preview.text, f"/domande/{asked}/anchio"),
                "da": "anteprima",
            },
            headers=visitor,
            follow_redirects=False,
        )
        assert joined.status_code == 303
        assert joined.headers["location"] == f"/domande/{asked}#anchio"
        page = client.get(joined.headers["location"], headers=visitor)
        assert "Hai detto «anch'io»" in page.text
        assert query(settings, "SELECT me_too FROM questions WHERE id = ?", (asked,)) == [
            (before + 1,)
        ]
        assert query(settings, "SELECT name, value FROM board_counters") == [
            ("anchio_da_anteprima", 1)
        ]
        queue = client.get("/moderazione")
        assert "Domande simili: 1 persona ha detto «anch'io» invece di scriverne una nuova." in (
            queue.text
        )
        assert query(settings, "SELECT count(*) FROM questions") == [(3,)], "no copy was sent"
