"""The hostile-input checks themselves catch what they claim to catch."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from support.hostile import (
    HOSTILE,
    MAX_BODY_BYTES,
    Hostile,
    active_content,
    assert_escaped,
    assert_local_redirect,
    assert_unchanged,
    by_kind,
    form_body,
    form_refusal,
    hidden_fields,
    table_counts,
    unknown_markup,
)
from support.load import client_address


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


def test_hidden_fields_of_the_right_form() -> None:
    html = (
        '<form action="/cerca"><input name="q"></form>'
        '<form method="post" action="/domande/nuova">'
        '<input type="hidden" name="token" value="a&amp;b">'
        '<input type="hidden" name="aperto_il" value="123">'
        '<textarea name="testo"></textarea><button name="anteprima">A</button></form>'
    )
    fields = hidden_fields(html, "/domande/nuova")
    assert fields["token"] == "a&b" and fields["aperto_il"] == "123"
    assert set(fields) == {"token", "aperto_il"}  # not the textarea, not the preview button
    with pytest.raises(AssertionError):
        hidden_fields(html, "/altrove")


def test_form_refusal_predicts_the_request_limits() -> None:
    small = form_body({"testo": "ciao"})
    assert form_refusal(small) is None
    assert form_refusal(form_body({"testo": "a" * MAX_BODY_BYTES})) == 413
    nul = Hostile("nul", "a\x00b", "control")
    assert form_refusal(form_body({"testo": nul.raw}), nul) == 400
    newline = Hostile("nl", "a\nb", "control")
    assert form_refusal(form_body({"testo": newline.raw}), newline) is None


def test_client_addresses_are_distinct_and_reserved_for_benchmarks() -> None:
    addresses = {client_address(i) for i in range(0, 2**17, 97)}
    assert len(addresses) == len(range(0, 2**17, 97))
    assert client_address(0) == "198.18.0.0" and client_address(2**17 - 1) == "198.19.255.255"


@pytest.mark.parametrize(
    ("location", "safe"),
    [
        ("/domande/12", True),
        ("http://testserver/domande?page=2", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        (" //evil.example", False),
    ],
)
def test_assert_local_redirect(location: str, safe: bool) -> None:
    import httpx2

    response = httpx2.Response(303, headers={"Location": location})
    if safe:
        assert_local_redirect(response, "http://testserver")
    else:
        with pytest.raises(AssertionError):
            assert_local_redirect(response, "http://testserver")


@pytest.mark.parametrize(
    "html",
    [
        "<p><img src=x></p>",
        "<svg></svg>",
        '<svg role="img"><rect width="1"/></svg>',
        '<p><rect y="1"/><text x="0">x</text></p>',
        '<svg class="chart"><image href="x"/></svg>',
        '<svg class="chart"><rect style="fill:red"/></svg>',
        '<svg class="chart"></svg><rect width="1"/>',
        "<math><mtext></mtext></math>",
        '<input value="" autofocus>',
        '<p style="color:red">x</p>',
        '<td style="background:url(x)">x</td>',
        '<a href="/" x="1">x</a>',
    ],
)
def test_markup_greenweb_never_writes_is_found(html: str) -> None:
    assert unknown_markup(html)


@pytest.mark.parametrize(
    "html",
    [
        '<p class="meta"><a href="/domande" rel="noopener">x</a></p>',
        '<th style="text-align:right">a</th>',
        '<ol start="3"><li>x</li></ol>',
        '<input id="nome" name="nome" value="&#34; autofocus x=&#34;" maxlength="40">',
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>",
        '<svg class="chart" role="img" aria-labelledby="t" width="100%" height="22">'
        '<title id="t">x</title><desc>y</desc><rect class="ref" y="3" width="100.0%" '
        'height="16"/><text x="0.0%" dx="6" y="15">z</text></svg>',
    ],
)
def test_markup_greenweb_writes_and_escaped_text_pass(html: str) -> None:
    assert unknown_markup(html) == []
