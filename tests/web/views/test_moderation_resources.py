"""The moderators' resources admin: add, correct, refuse what is invalid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import query, row_counts, token_for
from support.moderation import Desk, cli_env, moderator_desk


@pytest.fixture
def desk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    with moderator_desk(settings, monkeypatch) as desk:
        yield desk


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
