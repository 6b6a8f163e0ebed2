"""The form gate on its own: origin, token, single use, honeypot, and which problems give
the form back (recoverable) rather than a 4xx page (refused), for each family of forms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb import security
from greenweb.config import Settings
from greenweb.security import TOKEN_MESSAGES, TokenProblem
from greenweb.web.app import create_app
from greenweb.web.forms import RESUBMITTED, Recoverable, TokenRules, admit
from greenweb.web.site import site_of
from support.board import Clock

RULES = {"visitors": TokenRules.visitors, "moderators": TokenRules.moderators}
BINDING = "sessione-di-prova"


async def gate_POST(request: Request) -> Response:
    """Admits the form with the rules named in the path, and spends its token."""
    site = site_of(request)
    family = request.path_params["family"]
    rules = TokenRules.login(site.settings) if family == "login" else RULES[family](site.settings)
    binding = BINDING if family == "moderators" else ""
    try:
        admitted = await admit(request, rules, "prova", binding=binding)
    except Recoverable as again:
        return PlainTextResponse(f"di nuovo: {again.message}", status_code=again.status_code)
    async with site.db.transaction() as conn:
        await admitted.consume(conn)
    return PlainTextResponse(f"ammesso: {admitted.form.get('testo')}")


@dataclass
class Gate:
    client: TestClient
    clock: Clock
    settings: Settings

    def token(self, *, binding: str = "", form: str = "prova") -> str:
        return security.issue_token(self.settings.secret_bytes, form, self.clock(), binding=binding)

    def post(self, family: str, **fields: str) -> Any:
        return self.client.post(f"/prova/{family}", data=fields)


@pytest.fixture
def gate(settings: Settings) -> Iterator[Gate]:
    clock = Clock()
    app = create_app(settings, clock=clock)
    app.router.routes.insert(0, Route("/prova/{family}", gate_POST, methods=["POST"]))
    with TestClient(app) as client:
        yield Gate(client, clock, settings)


def test_a_visitors_form_old_enough_is_admitted_once(gate: Gate) -> None:
    token = gate.token()
    gate.clock.advance(gate.settings.token_min_age)
    first = gate.post("visitors", token=token, testo="ciao")
    assert (first.status_code, first.text) == (200, "ammesso: ciao")
    again = gate.post("visitors", token=token, testo="ciao")
    assert again.status_code == 409
    assert TOKEN_MESSAGES[TokenProblem.USED] in again.text


@pytest.mark.parametrize(
    ("wait", "problem"),
    [(0, TokenProblem.TOO_YOUNG), (10**6, TokenProblem.EXPIRED)],
)
def test_a_visitors_token_too_young_or_too_old_gives_the_form_back(
    gate: Gate, wait: int, problem: TokenProblem
) -> None:
    token = gate.token()
    gate.clock.advance(wait)
    response = gate.post("visitors", token=token)
    assert response.status_code == 403
    assert response.text == f"di nuovo: {TOKEN_MESSAGES[problem]}"


@pytest.mark.parametrize("family", ["visitors", "moderators"])
def test_a_missing_or_forged_token_is_refused_with_a_page(gate: Gate, family: str) -> None:
    for fields in ({"testo": "senza gettone"}, {"token": "1.prova.abc.def"}):
        response = gate.post(family, **fields)
        assert response.status_code == 403
        assert not response.text.startswith("di nuovo")


def test_the_login_form_comes_back_whatever_the_token_problem(gate: Gate) -> None:
    response = gate.post("login", token="1.prova.abc.def")
    assert response.status_code == 403
    assert response.text == f"di nuovo: {TOKEN_MESSAGES[TokenProblem.FORGED]}"


def test_a_moderators_token_needs_their_session_and_no_minimum_age(gate: Gate) -> None:
    assert gate.post("moderators", token=gate.token()).status_code == 403
    token = gate.token(binding=BINDING)
    assert gate.post("moderators", token=token, testo="subito").text == "ammesso: subito"
    again = gate.post("moderators", token=token)
    assert again.status_code == 409
    assert RESUBMITTED in again.text


def test_the_honeypot_is_checked_on_visitors_forms_only(gate: Gate) -> None:
    visitor, moderator = gate.token(), gate.token(binding=BINDING)
    gate.clock.advance(gate.settings.token_min_age)
    assert gate.post("visitors", token=visitor, sito_web="http://spam.example").status_code == 400
    assert gate.post("moderators", token=moderator, sito_web="x").status_code == 200


def test_a_form_from_another_site_is_refused_before_its_token(gate: Gate) -> None:
    token = gate.token(binding=BINDING)
    response = gate.client.post(
        "/prova/moderators", data={"token": token}, headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 403
    assert "solo da una pagina di questo sito" in response.text
    # Refused before the token was looked at: it is still good.
    assert gate.post("moderators", token=token).status_code == 200
