"""One bulletin file read and validated: any value in any field is accepted or refused by
name, line ends and offsets read the same, and Markdown cannot smuggle markup."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from greenweb.bulletin.files import FIELDS, BulletinFileError, parse_item
from support import SEED_DIR
from support.factory import item_text, write_item

BOTTEGA = "08-bottega-digitale-per-la-pmi.md"


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    item = parse_item(tmp_path / "x.md", "\ufeff" + item_text(slug="bom"))
    assert item.slug == "bom"


TOML_VALUES = [
    "1",
    "-1",
    "1.5",
    "true",
    '"testo"',
    '""',
    "[]",
    '["testo"]',
    "[1]",
    "[[1]]",
    "{a = 1}",
    "2021-09-06",
    "2021-09-06T10:00:00",
    "2021-09-06T10:00:00+02:00",
    "10:00:00",
]


@pytest.mark.parametrize("value", TOML_VALUES)
@pytest.mark.parametrize("name", sorted(FIELDS))
def test_any_value_in_any_field_is_accepted_or_refused_naming_it(
    tmp_path: Path, name: str, value: str
) -> None:
    meta = {
        "title": '"Titolo"',
        "slug": '"prova"',
        "kind": '"evento"',
        "position": "1",
        "starts": "2021-09-06T09:00:00",
    }
    meta[name] = value
    if name == "ends" and value not in {"2021-09-06T10:00:00", "2021-09-06T10:00:00+02:00"}:
        meta.pop("starts")
    text = "+++\n" + "".join(f"{k} = {v}\n" for k, v in meta.items()) + "+++\nTesto.\n"
    try:
        parse_item(tmp_path / "x.md", text)
    except BulletinFileError as error:
        assert error.field == name, str(error)


def test_windows_line_endings_read_the_same(tmp_path: Path) -> None:
    text = (SEED_DIR / BOTTEGA).read_text(encoding="utf-8")
    unix = parse_item(tmp_path / "x.md", text)
    windows = parse_item(tmp_path / "x.md", text.replace("\n", "\r\n"))
    assert (windows.body_html, windows.summary, windows.starts, windows.tags) == (
        unix.body_html,
        unix.summary,
        unix.starts,
        unix.tags,
    )


def test_a_toml_error_points_at_the_line_of_the_file(tmp_path: Path) -> None:
    text = item_text(slug="riga").replace("position = 1", "position = 1\ndeadline = 2021-13-01")
    with pytest.raises(BulletinFileError) as caught:
        parse_item(tmp_path / "x.md", text)
    assert caught.value.field == "deadline"
    assert "line 6" in caught.value.problem  # +++, title, slug, kind, position, deadline


def test_times_with_an_offset_are_stored_as_rome_wall_clock(tmp_path: Path) -> None:
    text = item_text(slug="utc", kind="evento").replace(
        "position = 1", "position = 1\nstarts = 2021-05-20T15:00:00Z"
    )
    item = parse_item(tmp_path / "x.md", text)
    assert item.starts == datetime(2021, 5, 20, 17, 0)


def test_tags_are_lowercased_and_deduplicated(tmp_path: Path) -> None:
    item = parse_item(
        tmp_path / "x.md", item_text(slug="t", tags=["Clima", "clima", "Città", "non profit"])
    )
    assert item.tags == ("clima", "città", "non profit")


# --- Markdown is rendered safely --------------------------------------------------------------


def render(tmp_path: Path, body: str) -> str:
    return parse_item(tmp_path / "x.md", item_text(slug="md", body=body)).body_html


def test_raw_html_in_a_body_is_escaped(tmp_path: Path) -> None:
    html = render(
        tmp_path, 'Prima <script>alert("x")</script> dopo\n\n<div onclick="x">blocco</div>'
    )
    assert "<script" not in html and "<div" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;div onclick=" in html


def test_javascript_links_are_not_rendered_as_links(tmp_path: Path) -> None:
    html = render(
        tmp_path,
        "[clicca](javascript:alert(1)) e [anche](JAVASCRIPT:alert(1)) e <javascript:alert(1)>"
        " e [dati](data:text/html;base64,PHNjcmlwdD4=) e [vb](vbscript:msgbox)",
    )
    assert "href" not in html
    assert "<a" not in html


def test_ordinary_links_are_rendered(tmp_path: Path) -> None:
    html = render(tmp_path, "[sito](https://example.org/a?b=1&c=2) e <https://example.org>")
    assert '<a href="https://example.org/a?b=1&amp;c=2">sito</a>' in html
    assert '<a href="https://example.org">https://example.org</a>' in html


def test_a_markdown_image_costs_no_request(tmp_path: Path) -> None:
    # A picture from another site would be a third-party request on every view.
    html = render(tmp_path, "![logo](https://tracker.example/pixel.png)")
    assert "<img" not in html
    assert 'href="https://tracker.example/pixel.png"' in html


def test_a_summary_is_the_first_paragraph_in_plain_text(tmp_path: Path) -> None:
    item = parse_item(
        tmp_path / "x.md",
        item_text(slug="s", body="Primo *paragrafo* con &amp; e <b>.\n\nSecondo paragrafo."),
    )
    assert item.summary == "Primo paragrafo con & e <b>."
    assert item.body_html.startswith("<p>Primo <em>paragrafo</em> con &amp; e &lt;b&gt;.</p>")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "http://[", "https://", "ftp://x.org"])
def test_a_link_that_is_no_http_address_with_a_host_is_refused(tmp_path: Path, link: str) -> None:
    path = write_item(tmp_path, "a.md", links=[link])
    with pytest.raises(BulletinFileError) as refused:
        parse_item(path, path.read_text(encoding="utf-8"))
    assert refused.value.field == "links"
    assert refused.value.italian.startswith("Non è un indirizzo http(s)")


def test_a_slug_that_is_another_pages_address_is_refused(tmp_path: Path) -> None:
    path = write_item(tmp_path, "a.md", slug="numeri")
    with pytest.raises(BulletinFileError) as refused:
        parse_item(path, path.read_text(encoding="utf-8"))
    assert refused.value.field == "slug"
