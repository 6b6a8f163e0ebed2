"""The curated resources (greenweb.board.resources) as visitors see them: the /risorse
page, its filters and its weight."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from greenweb.board.data_files import read_tables
from greenweb.config import Settings
from support.board import Clock, board_client, brotli_size, data_dir, dom_elements


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with board_client(settings) as test_client:
        yield test_client


# --- the page ------------------------------------------------------------------------------


def test_resources_page_lists_every_resource_with_its_facts(client: TestClient) -> None:
    page = client.get("/risorse")
    assert page.status_code == 200
    for entry in read_tables(data_dir() / "resources.toml", "resource"):
        assert f'href="{entry["url"]}"' in page.text
    assert "Da ascoltare" in page.text and "inglese" in page.text
    assert "13 risorse" in page.text


def test_resources_page_filters_by_kind_and_topic(client: TestClient) -> None:
    listening = client.get("/risorse", params={"tipo": "ascoltare"})
    assert listening.text.count('<article class="card">') == 4
    assert "Radio3 Scienza" in listening.text and "NASA Climate Spiral" not in listening.text
    food = client.get("/risorse", params={"tema": "cibo"})
    assert food.text.count('<article class="card">') == 3
    both = client.get("/risorse", params={"tipo": "ascoltare", "tema": "cibo"})
    assert both.text.count('<article class="card">') == 1
    assert "Ci vuole una scienza" in both.text
    circular = client.get("/risorse", params={"tema": "economia-circolare"})
    assert circular.status_code == 200 and "Nessuna risorsa" in circular.text


@pytest.mark.parametrize("params", [{"tipo": "leggereX"}, {"tema": "nessuno"}, {"page": "0"}])
def test_unknown_filter_is_a_clear_400(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/risorse", params=params)
    assert response.status_code == 400
    assert "<h1>Richiesta non valida</h1>" in response.text


def test_resources_page_is_within_budget_and_cacheable(client: TestClient) -> None:
    page = client.get("/risorse")
    assert brotli_size(page.content) <= 14_600
    assert dom_elements(page.text) <= 300
    assert "no-store" not in page.headers.get("cache-control", "")
    assert "set-cookie" not in page.headers
    assert 'name="token"' not in page.text


def test_resources_page_works_with_a_fixed_clock(settings: Settings) -> None:
    with board_client(settings, Clock(1_000_000_000)) as test_client:
        assert test_client.get("/risorse").status_code == 200
