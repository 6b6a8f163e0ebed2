"""Following the board in a real browser, JavaScript off: a visitor says "anch'io" and takes
it back with the same button, a moderator merges a duplicate with the question page's form
and its old address leads to the kept question; the voted page passes axe and the Nu
checker (the catalogue sees every page as a visitor who has not voted)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pytest

from support.axe import violations

if TYPE_CHECKING:  # playwright may be missing: the fixtures then skip (or fail in CI)
    from playwright.sync_api import Page, Response

pytestmark = pytest.mark.browser


def published(server: Any, text: str) -> int:
    """A published question written beside the running server (its page is never cached)."""
    now = int(time.time())
    with sqlite3.connect(server.db_path, timeout=10) as conn:
        cursor = conn.execute(
            "INSERT INTO questions (text, state, created_at, published_at, updated_at) "
            "VALUES (?, 'pubblicata', ?, ?, ?)",
            (text, now, now, now),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def me_too(server: Any, question_id: int) -> tuple[int, int]:
    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT me_too, (SELECT count(*) FROM votes WHERE question_id = q.id) "
            "FROM questions q WHERE id = ?",
            (question_id,),
        ).fetchone()
    return int(row[0]), int(row[1])


def press(page: Page, button: str) -> Response:
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()
    response: Response = sent.value
    return response


def nu_errors(vnu_jar: Path, html_file: Path) -> list[str]:
    """The Nu Html Checker's errors on one file (warnings are not errors)."""
    done = subprocess.run(
        ["java", "-jar", str(vnu_jar), "--format", "json", "--stdout", str(html_file)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(done.stdout).get("messages", [])
    return [
        f"line {m.get('lastLine')}: {m.get('message')}"
        for m in messages
        if m.get("type") == "error" or m.get("type") == "non-document-error"
    ]


def test_the_me_too_button_says_it_and_takes_it_back(
    new_context: Any, server: Any, axe_source: str, vnu_jar: Path, tmp_path: Path
) -> None:
    question = published(server, "Le pompe di calore funzionano anche a Torino d'inverno?")
    visitor = new_context().new_page()
    visitor.goto(f"/domande/{question}")
    assert press(visitor, "Anch'io").status == 303
    assert me_too(server, question) == (1, 1)
    assert "Hai detto «anch'io»" in visitor.locator("#anchio").inner_text()
    assert press(visitor, "Ritira il mio «anch'io»").status == 303
    assert me_too(server, question) == (0, 0)
    assert visitor.get_by_role("button", name="Anch'io", exact=True).count() == 1
    assert press(visitor, "Anch'io").status == 303  # said again: the button turns again
    assert visitor.context.cookies() == []

    # The page as its voter sees it, with the take-back button, through axe.
    measured = new_context(javascript=True).new_page()
    measured.goto(f"/domande/{question}")
    assert measured.get_by_role("button", name="Ritira il mio «anch'io»").count() == 1
    measured.add_script_tag(content=axe_source)
    found = violations(measured)
    assert not found, "\n".join(found)
    # And through the Nu checker, fetched from the same address (so still voted).
    with httpx2.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        voted = client.get(f"/domande/{question}")
    assert "Ritira il mio «anch'io»" in voted.text
    (tmp_path / "voted.html").write_bytes(voted.content)
    errors = nu_errors(vnu_jar, tmp_path / "voted.html")
    assert not errors, "\n".join(errors)


def test_a_moderator_merges_a_duplicate_with_the_question_pages_form(
    new_context: Any, server: Any, moderator_state: dict[str, Any]
) -> None:
    kept = published(server, "Quanto consuma davvero un'auto elettrica in città?")
    duplicate = published(server, "Un'auto elettrica in città consuma davvero poco?")
    visitor = new_context().new_page()
    visitor.goto(f"/domande/{duplicate}")
    press(visitor, "Anch'io")

    moderator = new_context(storage_state=moderator_state).new_page()
    moderator.goto(f"/moderazione/domande/{duplicate}")
    moderator.get_by_label("Doppione della domanda pubblicata n.").fill(str(kept))
    moderator.get_by_label("Motivo dell'unione").fill("Chiede la stessa cosa")
    assert press(moderator, "Unisci").status == 303
    assert "Domanda unita come doppione" in moderator.get_by_role("status").inner_text()
    assert me_too(server, kept) == (1, 1)

    visitor.goto(f"/domande/{duplicate}")
    assert visitor.url.endswith(f"/domande/{kept}")
    assert "Hai detto «anch'io»" in visitor.locator("#anchio").inner_text()
