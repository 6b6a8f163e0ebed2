"""The hostile-input checks themselves catch what they claim to catch."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from hostile import (
    HOSTILE,
    Hostile,
    active_content,
    assert_escaped,
    assert_unchanged,
    by_kind,
    form_body,
    table_counts,
)


@pytest.mark.parametrize(
    "html",
    [
        "<p><script>alert(1)</script></p>",
        "<img src=x onerror=alert(1)>",
        "<svg/onload=alert(1)>",
        '<a href=" java\tscript:alert(1)">x</a>',
        '<a href="JAVASCRIPT:alert(1)">x</a>',
        '<form action="data:text/html,x"></form>',
        '<iframe srcdoc="x"></iframe>',
        '<meta http-equiv="Refresh" content="0;url=//evil.example">',
        '<base href="//evil.example/">',
        "<input value=x autofocus onfocus=alert(1)>",
    ],
)
def test_active_content_is_found(html: str) -> None:
    assert active_content(html)


@pytest.mark.parametrize(
    "html",
    [
        '<input value="&lt;img src=x onerror=alert(1)&gt;">',
        '<input value="&#34; onmouseover=&#34;alert(1)">',
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
        '<link rel="icon" href="data:image/svg+xml,%3Csvg%3E">',
        '<a href="/bollettino?tag=javascript:x">ok</a>',
        "<p>one=1 onion=2</p>",
    ],
)
def test_harmless_markup_is_not_flagged(html: str) -> None:
    assert active_content(html) == []


def test_assert_escaped_catches_raw_echo() -> None:
    value = '"><script>alert(1)</script>'
    assert_escaped("<p>&#34;&gt;&lt;script&gt;</p>", value)
    with pytest.raises(AssertionError):
        assert_escaped(f"<p>{value}</p>", value)


def test_cases_encode_for_urls_and_forms() -> None:
    case = Hostile("x", "a b&c=d/..", "test")
    assert case.query() == "a%20b%26c%3Dd%2F.."
    assert case.segment() == "a%20b%26c%3Dd%2F%2E%2E"
    bad = Hostile("y", b"\xff", "test")
    assert bad.text is None and bad.refused_in_url and bad.refused_in_form
    newline = Hostile("z", "a\nb", "test")
    assert newline.refused_in_url and not newline.refused_in_form


def test_form_body_keeps_repeats_and_raw_bytes() -> None:
    body = form_body([("testo", "è & ="), ("testo", b"\xff"), ("nome", "")])
    assert body == b"testo=%C3%A8%20%26%20%3D&testo=%FF&nome="
    assert parse_qsl(body.decode(), keep_blank_values=True)[0] == ("testo", "è & =")


def test_every_case_is_named_and_categorised() -> None:
    assert len(HOSTILE) >= 60
    assert all(case.name and case.kind for case in HOSTILE)
    assert len(by_kind("encoding")) >= 5
    assert any(len(case.raw) >= 1024 * 1024 for case in HOSTILE)


def test_table_counts_sees_every_table_and_any_change(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE a (x)")
        conn.execute("CREATE TABLE b (x)")
        conn.execute("INSERT INTO a VALUES (1)")
    before = table_counts(path)
    assert before == {"a": 1, "b": 0}
    assert_unchanged(path, before)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO b VALUES (1)")
    with pytest.raises(AssertionError, match="'b': \\(0, 1\\)"):
        assert_unchanged(path, before)
