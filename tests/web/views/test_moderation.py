"""Moderators: the CLI, login and its throttle, the session cookie, every action, resources."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from greenweb import cli
from greenweb.config import Settings
from support import make_settings
from support.board import (
    PASSWORD,
    Clock,
    add_moderator,
    as_client,
    board_client,
    cheap_password_hashing,
    login,
    publish_directly,
    query,
    row_counts,
    token_for,
)


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


@dataclass
class Desk:
    client: TestClient
    clock: Clock
    settings: Settings
    pending: int
    public: int

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text[-300:]
        return response.text

    def act(self, question_id: int, action: str, **fields: Any) -> Any:
        base = f"/moderazione/domande/{question_id}"
        token = token_for(self.page(base), f"{base}/{action}")
        return self.client.post(
            f"{base}/{action}", data={"token": token, **fields}, follow_redirects=False
        )


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    assert add_moderator(monkeypatch, settings) == 0
    clock = Clock()
    with board_client(settings, clock) as client:
        pending = publish_directly(settings, state="ricevuta", published_at=None)[0]
        public = publish_directly(settings)[0]
        assert login(client, clock).status_code == 303
        yield Desk(client, clock, settings, pending, public)


def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, stdin: str = "") -> None:
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", settings.secret)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))


# --- the command line ---------------------------------------------------------------------


def test_moderator_add_list_remove(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    assert add_moderator(monkeypatch, settings, "bruno.r") == 0
    stored = query(settings, "SELECT name, password_hash FROM moderators ORDER BY name")
    assert [name for name, _ in stored] == ["anna", "bruno.r"]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for _, h in stored)
    capsys.readouterr()
    assert cli.main(["moderator", "list"]) == 0
    listing = capsys.readouterr().out
    assert "anna\tsince " in listing and "bruno.r" in listing
    assert cli.main(["moderator", "remove", "bruno.r"]) == 0
    assert query(settings, "SELECT name FROM moderators") == [("anna",)]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["moderator", "add", "anna"], "corta\n", "password: too short"),
        (["moderator", "add", "anna"], "", "no password on stdin"),
        (["moderator", "add", "anna"], " spazi intorno \n", "must not start or end with spaces"),
        (["moderator", "add", "_x"], PASSWORD + "\n", "name"),
        (["moderator", "add", "nome con spazi"], PASSWORD + "\n", "name"),
        (["moderator", "add", "ANNA"], PASSWORD + "\n", "already exists"),
        (["moderator", "remove", "nessuno"], "", "no such moderator"),
    ],
)
def test_moderator_command_errors_go_to_stderr_and_change_nothing(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    capsys.readouterr()
    before = query(settings, "SELECT name, password_hash FROM moderators")
    cli_env(monkeypatch, settings, stdin)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("greenweb moderator: ") and message in err
    assert query(settings, "SELECT name, password_hash FROM moderators") == before


def test_moderator_add_asks_twice_on_a_terminal(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    cli_env(monkeypatch, settings)
    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["moderator", "add", "anna"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert cli.main(["moderator", "add", "anna"]) == 0


def test_export_to_a_file_by_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with board_client(settings):
        pass
    publish_directly(settings, 2)
    publish_directly(settings, state="respinta", published_at=None)
    cli_env(monkeypatch, settings)
    out = tmp_path / "domande.json"
    assert cli.main(["questions", "export", "--format", "json", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('"state": "pubblicata"') == 2
    assert cli.main(["questions", "export", "--all", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4  # header and 3 rows
    assert cli.main(["questions", "export", "--state", "respinta", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


# --- login, throttle, session --------------------------------------------------------------


@pytest.fixture
def gate(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    assert add_moderator(monkeypatch, settings) == 0
    clock = Clock()
    with board_client(settings, clock) as client:
        yield Desk(client, clock, settings, 0, 0)


def attempt(gate: Desk, password: str, name: str = "anna", client: str = "192.0.2.50") -> Any:
    page = gate.client.get("/moderazione/accesso", headers=as_client(client))
    return gate.client.post(
        "/moderazione/accesso",
        data={
            "token": token_for(page.text, "/moderazione/accesso"),
            "nome": name,
            "password": password,
        },
        headers=as_client(client),
        follow_redirects=False,
    )


def test_wrong_password_and_unknown_name_get_the_same_answer(gate: Desk) -> None:
    wrong = attempt(gate, "sbagliata sbagliata")
    gate.clock.advance(60)
    unknown = attempt(gate, PASSWORD, name="nessuno")
    for response in (wrong, unknown):
        assert response.status_code == 403
        assert "Nome o password non corretti." in response.text
        assert "set-cookie" not in response.headers
        assert response.headers["cache-control"] == "no-store"


def test_failed_logins_slow_down_then_lock_out_per_client_and_per_name(gate: Desk) -> None:
    assert attempt(gate, "sbagliata 1").status_code == 403
    hurried = attempt(gate, PASSWORD)
    assert hurried.status_code == 429
    assert hurried.headers["retry-after"] == "1"
    for n in range(2, 6):
        gate.clock.advance(20)
        assert attempt(gate, f"sbagliata {n}").status_code == 403
    gate.clock.advance(20)
    locked = attempt(gate, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert "Troppi tentativi di accesso" in locked.text
    assert 700 < int(locked.headers["retry-after"]) <= 900
    assert "set-cookie" not in locked.headers
    # The same name from elsewhere, and another name from here, are locked too.
    assert attempt(gate, PASSWORD, client="198.51.100.1").status_code == 429
    assert attempt(gate, PASSWORD, name="bruno").status_code == 429
    gate.clock.advance(900)
    assert attempt(gate, PASSWORD).status_code == 303


def test_successful_login_sets_a_strict_session_cookie(gate: Desk) -> None:
    response = attempt(gate, PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("greenweb_moderazione=")
    for part in ("HttpOnly", "Max-Age=28800", "Path=/moderazione", "SameSite=strict"):
        assert part in cookie
    assert query(gate.settings, "SELECT count(*) FROM moderator_sessions") == [(1,)]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value not in str(query(gate.settings, "SELECT * FROM moderator_sessions"))


def test_cookie_is_secure_when_the_site_is_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, base_url="https://greenweb.example")
    assert add_moderator(monkeypatch, settings) == 0
    clock = Clock()
    with board_client(settings, clock) as client:
        response = login(client, clock)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_session_expires_after_eight_hours(desk: Desk) -> None:
    assert desk.client.get("/moderazione").status_code == 200
    desk.clock.advance(8 * 3600 - 10)
    assert desk.client.get("/moderazione").status_code == 200
    desk.clock.advance(11)
    assert desk.client.get("/moderazione", follow_redirects=False).status_code == 303


def test_tampered_cookie_gives_no_data(desk: Desk) -> None:
    value = desk.client.cookies.get("greenweb_moderazione")
    assert value
    desk.client.cookies.clear()
    forged = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    desk.client.cookies.set("greenweb_moderazione", forged, path="/moderazione")
    response = desk.client.get("/moderazione", follow_redirects=False)
    assert response.status_code == 303
    assert "Domanda pubblicata numero" not in response.text


def test_removing_a_moderator_ends_their_session(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env(monkeypatch, desk.settings)
    assert cli.main(["moderator", "remove", "anna"]) == 0
    assert desk.client.get("/moderazione", follow_redirects=False).status_code == 303


def test_login_page_sends_a_logged_in_moderator_on(desk: Desk) -> None:
    response = desk.client.get("/moderazione/accesso", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/moderazione"


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("/moderazione/domande/1", "/moderazione/domande/1"),
        ("//evil.example/moderazione", "/moderazione"),
        ("https://evil.example/", "/moderazione"),
        ("/moderazione/../domande", "/moderazione"),
        ("/moderazione\\@evil.example", "/moderazione"),
        ("/domande", "/moderazione"),
    ],
)
def test_login_goes_back_only_to_moderation_pages(
    gate: Desk, next_value: str, location: str
) -> None:
    page = gate.client.get("/moderazione/accesso", params={"next": next_value})
    response = gate.client.post(
        "/moderazione/accesso",
        data={
            "token": token_for(page.text, "/moderazione/accesso"),
            "nome": "anna",
            "password": PASSWORD,
            "next": next_value,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == location


MODERATOR_GETS = [
    "/moderazione",
    "/moderazione/domande/1",
    "/moderazione/risorse",
    "/moderazione/risorse/nuova",
    "/moderazione/risorse/1",
]
MODERATOR_POSTS = [
    f"/moderazione/domande/1/{action}"
    for action in ("approva", "respingi", "ritira", "ripristina", "modifica", "rispondi", "pillola")
] + ["/moderazione/risorse/nuova", "/moderazione/risorse/1"]


@pytest.mark.parametrize("path", MODERATOR_GETS)
def test_moderator_pages_without_a_session_redirect_to_login(gate: Desk, path: str) -> None:
    publish_directly(gate.settings, state="ricevuta", published_at=None, text="SEGRETO in coda")
    response = gate.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/moderazione/accesso?next=")
    assert response.headers["cache-control"] == "no-store"
    assert "SEGRETO" not in response.text


@pytest.mark.parametrize("path", MODERATOR_POSTS)
def test_moderator_actions_without_a_session_are_forbidden(gate: Desk, path: str) -> None:
    publish_directly(gate.settings, state="ricevuta", published_at=None)
    before = row_counts(gate.settings)
    response = gate.client.post(path, data={"token": "x", "motivo_respingi": "x"})
    assert response.status_code == 403
    assert row_counts(gate.settings) == before


def test_token_from_another_session_is_refused(desk: Desk) -> None:
    base = f"/moderazione/domande/{desk.pending}"
    token = token_for(desk.page(base), f"{base}/approva")
    # Log in again: a new session, so the old page's token no longer matches.
    desk.client.cookies.clear()
    assert login(desk.client, desk.clock).status_code == 303
    before = row_counts(desk.settings)
    response = desk.client.post(f"{base}/approva", data={"token": token})
    assert response.status_code == 403
    assert row_counts(desk.settings) == before


def test_moderation_post_from_another_site_is_refused(desk: Desk) -> None:
    base = f"/moderazione/domande/{desk.pending}"
    token = token_for(desk.page(base), f"{base}/approva")
    response = desk.client.post(
        f"{base}/approva", data={"token": token}, headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 403
    assert query(desk.settings, "SELECT state FROM questions WHERE id = ?", (desk.pending,)) == [
        ("ricevuta",)
    ]


# --- actions ----------------------------------------------------------------------------------


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
        data={"token": desk_token(desk, desk.pending, "approva")},
    )
    assert stale.status_code == 409
    assert "Si possono approvare solo le domande ricevute" in stale.text
    assert row_counts(desk.settings) == before


def desk_token(desk: Desk, question_id: int, action: str) -> str:
    from greenweb import security

    session = desk.client.cookies.get("greenweb_moderazione")
    assert session
    session_id = session.split(".")[0]
    return security.issue_token(
        desk.settings.secret_bytes, f"mod-{action}-{question_id}", desk.clock(), binding=session_id
    )


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


def test_logout_needs_the_session_token(desk: Desk) -> None:
    refused = desk.client.post("/moderazione/esci", data={"token": "x"})
    assert refused.status_code == 403
    assert query(desk.settings, "SELECT count(*) FROM moderator_sessions") == [(1,)]


# --- resources -----------------------------------------------------------------------------


def resource_form(desk: Desk, path: str, **fields: Any) -> Any:
    token = token_for(desk.page(path), path)
    data = {
        "token": token,
        "titolo": "Atlante del clima",
        "indirizzo": "https://example.org/atlante",
        "tipo": "guardare",
        "fonte": "Redazione",
        "lingua": "it",
        "sintesi": "Una sintesi nostra, breve.",
        "temi": ["clima", "energia"],
    }
    data.update(fields)
    return desk.client.post(path, data=data, follow_redirects=False)


def test_moderator_edits_a_resource_and_the_seed_no_longer_overwrites_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_id = query(desk.settings, "SELECT id FROM resources WHERE slug = 'radio3-scienza'")[0][
        0
    ]
    path = f"/moderazione/risorse/{resource_id}"
    page = desk.page(path)
    assert 'value="Radio3 Scienza"' in page
    done = resource_form(desk, path, titolo="Radio3 Scienza (podcast)", temi="clima")
    assert done.status_code == 303
    assert "Radio3 Scienza (podcast)" in desk.client.get("/risorse").text
    assert query(
        desk.settings, "SELECT topic FROM resource_topics WHERE resource_id = ?", (resource_id,)
    ) == [("clima",)]
    assert "risorsa modificata" in desk.client.get("/moderazione/registro").text
    # The seed file is loaded again (as at every start): the moderator's edit stays.
    cli_env(monkeypatch, desk.settings)
    assert cli.main(["migrate"]) == 0
    assert "Radio3 Scienza (podcast)" in desk.client.get("/risorse").text


def test_moderator_adds_a_resource(desk: Desk) -> None:
    assert resource_form(desk, "/moderazione/risorse/nuova").status_code == 303
    assert query(
        desk.settings, "SELECT slug, kind FROM resources WHERE title = ?", ("Atlante del clima",)
    ) == [("atlante-del-clima", "guardare")]
    listing = desk.client.get("/risorse", params={"tipo": "guardare"}).text
    assert "Atlante del clima" in listing


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("indirizzo", "javascript:alert(1)"),
        ("indirizzo", ""),
        ("titolo", ""),
        ("tipo", "mangiare"),
        ("lingua", "xx"),
        ("sintesi", "s" * 401),
        ("temi", "astrologia"),
    ],
)
def test_invalid_resource_is_refused_with_the_field_marked(
    desk: Desk, field: str, value: str
) -> None:
    before = row_counts(desk.settings)
    response = resource_form(desk, "/moderazione/risorse/nuova", **{field: value})
    assert response.status_code == 422
    assert f'id="{field}-errore"' in response.text
    assert row_counts(desk.settings) == before


def test_missing_resource_is_404(desk: Desk) -> None:
    assert desk.client.get("/moderazione/risorse/9999").status_code == 404
