"""Numbered pages: parse_page's edges, Page arithmetic, and the bulletin's pager."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.pagination import MAX_PAGE, Page, PageNumberError, offset_for, parse_page
from greenweb.web.app import create_app
from support import SEED_TODAY, import_seed, make_settings
from support.factory import write_generated


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 1), ("", 1), ("1", 1), ("2", 2), ("007", 7), (str(MAX_PAGE), MAX_PAGE)],
)
def test_parse_page_accepts_whole_numbers_from_one(raw: str | None, expected: int) -> None:
    assert parse_page(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "000",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x10",
        "abc",
        "１",  # fullwidth digit one
        "٣",  # Arabic-Indic three
        "²",
        str(MAX_PAGE + 1),
        "99999999",
        "9" * 5000,
    ],
)
def test_parse_page_refuses_anything_else(raw: str) -> None:
    with pytest.raises(PageNumberError):
        parse_page(raw)


def test_page_arithmetic() -> None:
    empty: Page[int] = Page(items=[], number=1, per_page=20, total=0)
    assert (empty.pages, empty.exists, empty.has_next, empty.has_previous) == (
        1,
        True,
        False,
        False,
    )
    last: Page[int] = Page(items=list(range(5)), number=3, per_page=20, total=45)
    assert (last.pages, last.offset, last.exists, last.has_next, last.has_previous) == (
        3,
        40,
        True,
        False,
        True,
    )
    exact: Page[int] = Page(items=[], number=2, per_page=20, total=40)
    assert exact.pages == 2 and exact.exists and not exact.has_next
    beyond: Page[int] = Page(items=[], number=4, per_page=20, total=45)
    assert not beyond.exists
    assert offset_for(1, 20) == 0 and offset_for(3, 20) == 40


# --- the bulletin with 45 items ------------------------------------------------------------


def pager_hrefs(html: str) -> dict[str, str]:
    """{'link prev': href, 'a next': href, ...} of the page's rel=prev/next elements."""
    found = {}
    for tag, rel, href in re.findall(r'<(link|a) rel="(prev|next)" href="([^"]*)"', html):
        found[f"{tag} {rel}"] = href.replace("&amp;", "&")
    return found


def test_first_page_has_twenty_items_and_a_next_link(generated_client: TestClient) -> None:
    response = generated_client.get("/bollettino")
    page = response.context["page"]
    assert (page.number, page.total, page.pages, len(page.items)) == (1, 45, 3, 20)
    assert [item.slug for item in page.items] == [f"elemento-{n:03d}" for n in range(1, 21)]
    assert pager_hrefs(response.text) == {
        "link next": "/bollettino?page=2",
        "a next": "/bollettino?page=2",
    }
    assert "Pagina 1 di 3" in response.text


def test_middle_page_links_both_ways_and_page_one_has_no_number(
    generated_client: TestClient,
) -> None:
    response = generated_client.get("/bollettino?page=2")
    assert [item.slug for item in response.context["page"].items] == [
        f"elemento-{n:03d}" for n in range(21, 41)
    ]
    assert pager_hrefs(response.text) == {
        "link prev": "/bollettino",
        "link next": "/bollettino?page=3",
        "a prev": "/bollettino",
        "a next": "/bollettino?page=3",
    }
    assert "<title>Bollettino · pagina 2 · greenweb</title>" in response.text


def test_last_page_has_the_remaining_five(generated_client: TestClient) -> None:
    response = generated_client.get("/bollettino?page=3")
    assert len(response.context["page"].items) == 5
    assert pager_hrefs(response.text) == {
        "link prev": "/bollettino?page=2",
        "a prev": "/bollettino?page=2",
    }


def test_the_pager_links_lead_through_every_item_once(generated_client: TestClient) -> None:
    path: str | None = "/bollettino"
    seen: list[str] = []
    for _ in range(10):  # bounded: three pages expected
        if path is None:
            break
        response = generated_client.get(path)
        assert response.status_code == 200
        seen += [item.slug for item in response.context["page"].items]
        path = pager_hrefs(response.text).get("a next")
    assert seen == [f"elemento-{n:03d}" for n in range(1, 46)]


def test_a_page_past_the_end_is_404(generated_client: TestClient) -> None:
    response = generated_client.get("/bollettino?page=4")
    assert response.status_code == 404
    assert "Questa pagina del bollettino non esiste." in response.text


def test_filters_are_kept_in_pager_links(generated_client: TestClient) -> None:
    response = generated_client.get("/bollettino?tag=dispari&page=2")
    page = response.context["page"]
    assert (page.total, page.pages, len(page.items)) == (23, 2, 3)
    assert pager_hrefs(response.text) == {
        "link prev": "/bollettino?tag=dispari",
        "a prev": "/bollettino?tag=dispari",
    }


def test_changing_the_filter_goes_back_to_page_one(generated_client: TestClient) -> None:
    html = generated_client.get("/bollettino?tag=generato&page=2").text
    filters = html.split('class="filters">', 1)[1].split("</nav>", 1)[0]
    assert "page=" not in filters
    assert 'href="/bollettino?tipo=bando&amp;tag=generato"' in filters


@pytest.fixture
def big_client(tmp_path: Path) -> Iterator[TestClient]:
    """90 generated items: 23 of each of two kinds, enough for two pages of one kind+tag."""
    folder = tmp_path / "big"
    write_generated(folder, 90)
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        yield client


def test_kind_and_tag_are_both_kept_in_pager_links(big_client: TestClient) -> None:
    first = big_client.get("/bollettino?tipo=bando&tag=generato")
    page = first.context["page"]
    assert (page.total, page.pages, len(page.items)) == (23, 2, 20)
    assert all(item.kind == "bando" for item in page.items)
    assert pager_hrefs(first.text) == {
        "link next": "/bollettino?tipo=bando&tag=generato&page=2",
        "a next": "/bollettino?tipo=bando&tag=generato&page=2",
    }
    second = big_client.get("/bollettino?tipo=bando&tag=generato&page=2")
    assert len(second.context["page"].items) == 3
    assert pager_hrefs(second.text)["a prev"] == "/bollettino?tipo=bando&tag=generato"
