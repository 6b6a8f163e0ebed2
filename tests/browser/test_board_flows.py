"""The question board as people use it, in a real Chromium with JavaScript disabled.

A visitor asks (after a preview), a moderator logs in, approves, answers and makes the
question a theatre piece, the visitor reads it all and says "anch'io" (twice: counted once),
and the public log tells each step. Every step is a click, a key press or a form a person
could send; the assertions read what the page shows, and the database only where a page
cannot tell (that a preview stored nothing).
"""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from support.board_seed import MODERATOR, MODERATOR_PASSWORD, PLAIN_ID

if TYPE_CHECKING:  # playwright may be missing: the fixtures then skip (or fail in CI)
    from playwright.sync_api import Page, Response

pytestmark = pytest.mark.browser

QUESTION = (
    "Se piantiamo abbastanza alberi, possiamo continuare a usare l'auto come prima?\n\n"
    "Me lo chiedo ogni mattina in coda in corso Regina."
)
NAME = "Teresa"
ANSWER = (
    "Gli alberi aiutano, ma **non bastano**: assorbono una parte piccola di quello che "
    "emettiamo. Lo spiega il [rapporto di sintesi dell'IPCC]"
    "(https://www.ipcc.ch/report/sixth-assessment-report-cycle/).\n\n"
    "- prima si riducono le emissioni;\n"
    "- poi si assorbe quello che resta."
)
IPCC_TITLE = "Sixth Assessment Report cycle – AR6 Synthesis Report: Climate Change 2023"
IPCC_URL = "https://www.ipcc.ch/report/sixth-assessment-report-cycle/"
PIECE_TITLE = "Gli alberi non bastano"
PIECE_TEXT = "Due amiche piantano un albero in corso Regina e poi aspettano l'autobus."
TOO_YOUNG = "Invio troppo rapido: attendi qualche secondo e invia di nuovo."
# The production default of GREENWEB_TOKEN_MIN_AGE (config.py).
DEFAULT_MIN_AGE = 3


def rows(server: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the server's database (read-only, beside the running server)."""
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def question_count(server: Any) -> int:
    count: int = rows(server, "SELECT count(*) FROM questions")[0][0]
    return count


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def press(page: Page, button: str) -> Response:
    """Press a submit button; the server's answer to the POST (303 when it redirects, and
    the page then shows where it led)."""
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    response: Response = sent.value
    return response


def status_message(page: Page) -> str:
    return page.get_by_role("status").inner_text()


def test_a_question_goes_from_preview_to_answer_theatre_piece_and_me_too(
    new_context: Any, server: Any
) -> None:
    visitor = new_context().new_page()

    # --- a visitor previews the question, then sends it ---------------------------------
    visitor.goto("/domande")
    visitor.get_by_role("link", name="Fai una domanda").click()
    assert path_of(visitor) == "/domande/nuova"
    visitor.get_by_label("La tua domanda").fill(QUESTION)
    visitor.get_by_label("Nome da mostrare").fill(NAME)
    visitor.get_by_label("Tema").select_option(label="Mobilità")
    before = question_count(server)

    preview = press(visitor, "Anteprima")
    assert preview.status == 200
    shown = visitor.get_by_role("region", name="Anteprima")
    assert shown.locator("blockquote").inner_text() == QUESTION
    assert shown.locator(".meta").inner_text() == f"{NAME} · Mobilità"
    # The form is still there, filled in, and nothing was stored.
    assert visitor.get_by_label("La tua domanda").input_value() == QUESTION
    assert visitor.get_by_label("Nome da mostrare").input_value() == NAME
    assert question_count(server) == before, "a preview must store nothing"

    thanks = press(visitor, "Invia la domanda")
    assert thanks.status == 303
    assert path_of(visitor) == "/domande/grazie"
    assert visitor.locator("h1").inner_text() == "Grazie per la tua domanda"
    assert (
        "Apparirà tra i dubbi sul clima dopo la moderazione" in visitor.locator("main").inner_text()
    )
    assert question_count(server) == before + 1
    (question_id,) = rows(server, "SELECT id FROM questions WHERE text = ?", (QUESTION,))[0]
    assert visitor.context.cookies() == []
    # Waiting for moderation: not public yet.
    pending = visitor.goto(f"/domande/{question_id}")
    assert pending is not None and pending.status == 404

    # --- a moderator logs in, finds it in the queue and approves it ----------------------
    moderator = new_context().new_page()
    moderator.goto("/moderazione")
    assert path_of(moderator) == "/moderazione/accesso"
    assert parse_qs(urlsplit(moderator.url).query) == {"next": ["/moderazione"]}
    moderator.get_by_label("Nome").fill(MODERATOR)
    moderator.get_by_label("Password").fill(MODERATOR_PASSWORD)
    press(moderator, "Entra")
    assert path_of(moderator) == "/moderazione"
    cookies = moderator.context.cookies()
    # One session, sent to each staff area under its own path (web/session.py).
    assert sorted((c["name"], c["path"], c["httpOnly"], c["sameSite"]) for c in cookies) == [
        ("greenweb_moderazione", "/moderazione", True, "Strict"),
        ("greenweb_redazione", "/redazione", True, "Strict"),
    ]
    assert len({c["value"] for c in cookies}) == 1

    queue = moderator.get_by_role("article").filter(has_text=f"n. {question_id}: ")
    assert queue.locator(".kind").text_content() == "Ricevuta · Mobilità"
    queue.get_by_role("link").click()
    assert path_of(moderator) == f"/moderazione/domande/{question_id}"
    assert moderator.locator("h1").inner_text() == f"Domanda n. {question_id}"
    assert moderator.locator("main blockquote").first.inner_text() == QUESTION
    press(moderator, "Approva e pubblica")
    assert path_of(moderator) == "/moderazione"
    assert status_message(moderator) == "Domanda pubblicata."

    # --- ... answers it in Markdown, linking a resource (after a preview) -----------------
    moderator.goto(f"/moderazione/domande/{question_id}")
    moderator.get_by_label("Testo della risposta").fill(ANSWER)
    moderator.get_by_label(IPCC_TITLE).check()
    press(moderator, "Anteprima")
    preview_answer = moderator.get_by_role("region", name="Anteprima della risposta")
    assert preview_answer.locator("strong").inner_text() == "non bastano"
    assert moderator.get_by_label(IPCC_TITLE).is_checked(), "the preview keeps the choice"
    press(moderator, "Salva la risposta")
    assert status_message(moderator) == "Risposta salvata."

    # --- ... and marks it as a theatre piece ---------------------------------------------
    moderator.get_by_label("Titolo").fill(PIECE_TITLE)
    moderator.locator("#testo_pillola").fill(PIECE_TEXT)
    press(moderator, "Segna come pillola teatrale")
    assert status_message(moderator) == "Pillola teatrale salvata."
    history = moderator.get_by_role("list").filter(has_text="ricevuta").last.inner_text()
    for step in ["ricevuta", "pubblicata", "risposta pubblicata", "diventata pillola teatrale"]:
        assert step in history

    # --- the visitor reads the answer, its source and the theatre piece -----------------
    page = visitor.goto(f"/domande/{question_id}")
    assert page is not None and page.status == 200
    assert visitor.locator("h1").inner_text() == f"Il dubbio di {NAME}"
    assert visitor.locator("main blockquote").first.inner_text() == QUESTION
    answer = visitor.get_by_role("region", name="La risposta")
    assert answer.locator("strong").inner_text() == "non bastano"
    link = answer.get_by_role("link", name="rapporto di sintesi dell'IPCC")
    assert link.get_attribute("href") == IPCC_URL
    source = answer.get_by_role("link", name=IPCC_TITLE)
    assert source.get_attribute("href") == IPCC_URL
    piece = visitor.get_by_role("region", name=f"Pillola teatrale: {PIECE_TITLE}")
    assert piece.inner_text().endswith(PIECE_TEXT)
    steps = visitor.get_by_role("list", name="A che punto è")
    assert steps.locator("[aria-current=step]").inner_text() == "Diventata pillola teatrale"

    # /pillole lists it and leads back to the question.
    visitor.goto("/pillole")
    card = visitor.get_by_role("article").filter(has_text=PIECE_TITLE)
    assert card.get_by_role("heading").inner_text() == PIECE_TITLE
    card.get_by_role("link").first.click()
    assert path_of(visitor) == f"/domande/{question_id}"

    # --- "anch'io": pressed once it counts; pressed again (from a second tab that still
    # shows the button) it still counts once, and the page says so -----------------------
    second_tab = visitor.context.new_page()
    second_tab.goto(f"/domande/{question_id}")
    me_too = visitor.locator("#anchio")
    assert "Hai lo stesso dubbio? Dillo per prima o per primo." in me_too.inner_text()
    press(visitor, "Anch'io")
    assert urlsplit(visitor.url).fragment == "anchio"
    said = "Hai detto «anch'io»: sei l'unica persona con questo dubbio."
    assert visitor.locator("#anchio").locator("p").inner_text() == said
    # The one button left takes it back (tests/browser/test_following_flows.py presses it).
    buttons = visitor.locator("#anchio").get_by_role("button")
    assert buttons.all_inner_texts() == ["Ritira il mio «anch'io»"]

    press(second_tab, "Anch'io")
    assert second_tab.locator("#anchio").locator("p").first.inner_text() == said
    assert rows(server, "SELECT me_too FROM questions WHERE id = ?", (question_id,)) == [(1,)]
    # The list (a page this visitor has not opened yet) shows the count and the stage.
    visitor.goto("/domande?tema=mobilita")
    newest = visitor.get_by_role("article").first
    assert newest.locator(".kind").text_content() == "Diventata pillola teatrale · Mobilità"
    assert newest.locator(".meta").inner_text().endswith("1 anch'io")

    # --- the public log shows each step, and no person -----------------------------------
    visitor.goto("/moderazione/registro")
    entries = visitor.locator("ol.log li").all_inner_texts()
    ours = [e.split(": ", 1)[1] for e in entries if f"domanda n. {question_id}:" in e]
    assert ours == [
        f"diventata pillola teatrale ({PIECE_TITLE})",
        "risposta pubblicata",
        "pubblicata",
        "ricevuta",
    ]
    log_text = visitor.locator("main").inner_text()
    assert NAME not in log_text and MODERATOR not in log_text
    assert visitor.context.cookies() == []

    # --- the moderator logs out: the cookies are gone ---------------------------------------
    press(moderator, f"Esci ({MODERATOR})")
    assert path_of(moderator) == "/moderazione/accesso"
    assert moderator.context.cookies() == []


def test_an_invalid_question_shows_the_error_beside_the_field_and_keeps_the_text(
    visitor: Page, server: Any
) -> None:
    visitor.goto("/domande/nuova")
    # Enough characters for the browser's minlength, too few once the server trims them.
    visitor.get_by_label("La tua domanda").fill("Fa caldo?" + "\n" * 7)
    visitor.get_by_label("Nome da mostrare").fill(NAME)
    before = question_count(server)

    refused = press(visitor, "Invia la domanda")
    assert refused.status == 422
    assert path_of(visitor) == "/domande/nuova"
    assert question_count(server) == before
    assert visitor.get_by_role("alert").inner_text() == "Controlla il campo segnalato qui sotto."
    field = visitor.get_by_label("La tua domanda")
    assert field.input_value() == "Fa caldo?"
    assert visitor.get_by_label("Nome da mostrare").input_value() == NAME
    message = "La domanda è troppo breve: scrivi almeno 15 caratteri (ora sono 9)."
    # Beside the field: in the same paragraph, right after it, and tied to it for screen
    # readers (aria-invalid, aria-describedby).
    paragraph = visitor.locator("main form p").filter(has=visitor.locator("#testo"))
    assert paragraph.locator(".error").inner_text() == message
    assert field.get_attribute("aria-invalid") == "true"
    described_by = (field.get_attribute("aria-describedby") or "").split()
    assert "testo-errore" in described_by
    assert visitor.locator("#testo-errore").inner_text() == message
    # The other fields are not marked.
    assert visitor.get_by_label("Nome da mostrare").get_attribute("aria-invalid") is None


def test_with_the_real_three_second_minimum_a_hasty_send_is_refused_and_the_text_kept(
    start_server: Any, new_context: Any
) -> None:
    """The production default of GREENWEB_TOKEN_MIN_AGE, on a server of its own."""
    production = start_server()
    page = new_context(base_url=production.base_url).new_page()
    asked = time.monotonic()  # before the server makes the token
    page.goto("/domande/nuova")
    opened = time.monotonic()  # after it
    page.get_by_label("La tua domanda").fill(QUESTION)

    hasty = press(page, "Invia la domanda")
    # The answer picks the branch, checked against the clock: a stalled machine may take
    # longer than the minimum from opening the form to sending it, and only then may the
    # first send pass.
    if hasty.status != 303 or time.monotonic() - asked < DEFAULT_MIN_AGE:
        assert hasty.status == 403
        assert page.get_by_role("alert").inner_text() == TOO_YOUNG
        assert page.get_by_label("La tua domanda").input_value() == QUESTION
        assert rows(production, "SELECT count(*) FROM questions WHERE text = ?", (QUESTION,)) == [
            (0,)
        ]
        # A person reads the message, waits a moment and sends again (bounded wait).
        page.wait_for_timeout(max(0.0, DEFAULT_MIN_AGE + 0.2 - (time.monotonic() - opened)) * 1000)
        sent = press(page, "Invia la domanda")
    else:
        sent = hasty
    assert sent.status == 303
    assert path_of(page) == "/domande/grazie"
    assert rows(production, "SELECT count(*) FROM questions WHERE text = ?", (QUESTION,)) == [(1,)]


def tab_stops(page: Page, limit: int) -> list[dict[str, str | None]]:
    """Tab from the top until focus leaves the page (bounded); each stop's name and role."""
    stops: list[dict[str, str | None]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if focused.count() == 0:
            break
        stop = {"name": focused.get_attribute("name"), "aria": focused.aria_snapshot()}
        if stops and stop == stops[0]:
            break
        stops.append(stop)
    return stops


def test_keyboard_alone_fills_the_question_form_and_previews_it(visitor: Page, server: Any) -> None:
    visitor.goto("/domande/nuova")
    stops = tab_stops(visitor, limit=40)
    names = [s["name"] for s in stops]
    # Every control of the form, in reading order; the honeypot is never one of them.
    form = [n for n in names if n in {"testo", "nome", "tema", "anteprima", "invia"}]
    assert form == ["testo", "nome", "tema", "anteprima", "invia"]
    assert "sito_web" not in names
    roles = {s["name"]: (s["aria"] or "").split('"')[0].strip("- ") for s in stops}
    assert roles["testo"].startswith("textbox") and roles["nome"].startswith("textbox")
    assert roles["tema"].startswith("combobox")
    assert roles["anteprima"] == roles["invia"] == "button"

    # The same walk types the question and presses Anteprima with the keyboard alone.
    visitor.goto("/domande/nuova")
    for _ in range(40):
        visitor.keyboard.press("Tab")
        if visitor.locator(":focus").get_attribute("name") == "testo":
            break
    visitor.keyboard.type("Perché le estati sono sempre più lunghe?")
    visitor.keyboard.press("Tab")
    visitor.keyboard.type(NAME)
    visitor.keyboard.press("Tab")  # the topic: left as it is
    visitor.keyboard.press("Tab")
    assert visitor.locator(":focus").get_attribute("name") == "anteprima"
    with visitor.expect_response(lambda r: r.request.method == "POST") as sent:
        visitor.keyboard.press("Enter")
    assert sent.value.status == 200
    preview = visitor.get_by_role("region", name="Anteprima")
    assert preview.locator("blockquote").inner_text() == "Perché le estati sono sempre più lunghe?"


@pytest.mark.parametrize("path", ["/domande/nuova", f"/domande/{PLAIN_ID}"])
def test_the_honeypot_is_hidden_from_people_screen_readers_and_the_tab_order(
    visitor: Page, server: Any, path: str
) -> None:
    visitor.goto(path)
    traps = visitor.locator("input[name=sito_web]")
    assert traps.count() >= 1
    for trap in traps.all():
        assert trap.get_attribute("aria-hidden") == "true"
        assert trap.get_attribute("tabindex") == "-1"
        # Drawn off-screen (or not at all, inside the folded report form).
        box = trap.bounding_box()
        assert box is None or box["width"] * box["height"] == 0 or box["x"] + box["width"] <= 0
    # Not in the accessibility tree: the only text boxes a screen reader finds are the
    # labelled ones (the honeypot is unlabelled on purpose).
    exposed = visitor.get_by_role("textbox")
    everything = visitor.get_by_role("textbox", include_hidden=True)
    assert everything.count() - exposed.count() == traps.count()
    for box_name in exposed.all():
        assert box_name.get_attribute("name") != "sito_web"


def test_tab_reaches_the_me_too_button_but_never_a_honeypot(visitor: Page, server: Any) -> None:
    visitor.goto(f"/domande/{PLAIN_ID}")
    stops = tab_stops(visitor, limit=60)
    assert not any(s["name"] == "sito_web" for s in stops)
    # Right after it, the folded report form's summary: its fields stay out of the way.
    labels = [s["aria"] for s in stops]
    button = labels.index('- button "Anch\'io"')
    assert labels[button + 1] == "- text: Segnala questa domanda"
