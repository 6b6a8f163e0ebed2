"""The public pages of the e-mail bulletin: subscribe, confirm, unsubscribe, manage.

The two address forms (/iscriviti and /iscriviti/gestisci) pass the visitors' form gate
and a rate limit per client; both then answer with the same "controlla la tua casella"
page whatever the address was, so they never tell who is subscribed. The links of the
e-mails carry a signed token that is their only authority: GET on them shows a page with
a button and changes nothing (mail scanners fetch every link), only the POST acts. The
one-click unsubscribe (RFC 8058) is a POST from a mail client, with no session, origin or
form token. Pages with a token or a subscription's state are sent with
``Cache-Control: no-store``; none sets a cookie.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

import aiosqlite
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb.bulletin.items import KINDS
from greenweb.footprint.measure import Skipped, Target
from greenweb.newsletter import links, tokens
from greenweb.newsletter.addresses import AddressError, clean_address
from greenweb.newsletter.announce import letterhead_for
from greenweb.newsletter.links import LinkError, LinkProblem
from greenweb.newsletter.messages import Letterhead
from greenweb.newsletter.subscribers import CHOICES, Choice, Subscriber, clean_kinds
from greenweb.security import RateLimited, RateRule, TokenProblem
from greenweb.web.forms import (
    NO_STORE,
    Admitted,
    Form,
    Recoverable,
    TokenRules,
    Tokens,
    admit,
    too_many,
    visitor_write,
)
from greenweb.web.shows import shows
from greenweb.web.site import Site, site_of
from greenweb.web.templating import render
from greenweb.web.urls import path_for, url_for

SUBSCRIBE_FORM: Final = "subscribe"
MANAGE_FORM: Final = "manage"
CHOICE_LABELS: Final[dict[Choice, str]] = {
    "numero": "Ogni numero, appena è pubblicato",
    "settimanale": "Un riepilogo settimanale delle novità",
}
# A forged link is a bad request; an expired or used one is gone for good.
LINK_STATUS: Final = {LinkProblem.FORGED: 400, LinkProblem.EXPIRED: 410, LinkProblem.DONE: 410}
TOO_OFTEN: Final = "Hai inviato questo modulo molte volte in poco tempo: non è stato salvato."
UNAVAILABLE: Final = 503


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(site_of(request).clock(), UTC)


def _page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        f"subscription/{template}",
        context or {},
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


def _link_error(request: Request, error: LinkError) -> Response:
    return _page(
        request,
        "link_error.html",
        {"message": error.message},
        status_code=LINK_STATUS[error.problem],
    )


# --- the address forms -------------------------------------------------------------------

# Each address form: its token's name, its template and its fields when first shown.
FORMS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    SUBSCRIBE_FORM: ("subscribe.html", {"indirizzo": "", "scelta": "numero", "tipi": []}),
    MANAGE_FORM: ("manage.html", {"indirizzo": ""}),
}


def _render_form(
    request: Request,
    form_name: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The form, or without an SMTP host the page saying e-mail is not available (503 to
    a POST, which then reads and stores nothing)."""
    available = letterhead_for(site_of(request).settings) is not None
    template, blank = FORMS[form_name]
    return _page(
        request,
        template,
        {
            "available": available,
            "values": values or blank,
            "errors": errors or {},
            "token": token or Tokens.of(request)(form_name),
            "notice": notice,
            "choices": CHOICE_LABELS,
            "kinds": {kind: labels[1] for kind, labels in KINDS.items()},
        },
        status_code=UNAVAILABLE if not available and request.method == "POST" else status_code,
    )


def _values(form: Form) -> dict[str, Any]:
    return {
        "indirizzo": form.get("indirizzo") or "",
        "scelta": form.get("scelta") or "",
        "tipi": form.getlist("tipi"),
    }


async def _admit(request: Request, form_name: str) -> tuple[Letterhead, Admitted] | Response:
    """The letterhead and the admitted form, or the page to answer with instead."""
    settings = site_of(request).settings
    letterhead = letterhead_for(settings)
    if letterhead is None:
        return _render_form(request, form_name)
    try:
        return letterhead, await admit(request, TokenRules.visitors(settings), form_name)
    except Recoverable as again:
        # What was typed stays; a too-young token stays too (it ages while they wait).
        kept = again.sent_token if again.problem is TokenProblem.TOO_YOUNG else None
        return _render_form(
            request,
            form_name,
            values=_values(again.form),
            token=kept,
            notice=again.message,
            status_code=again.status_code,
        )


@asynccontextmanager
async def _request_write(
    request: Request, admitted: Admitted
) -> AsyncIterator[aiosqlite.Connection]:
    """The form's transaction, counted by the subscription forms' rate limit (429)."""
    rule = RateRule("subscription", site_of(request).settings.rate_subscriptions_per_hour)
    try:
        async with visitor_write(request, admitted, rule) as conn:
            yield conn
    except RateLimited as limited:
        too_many(limited.retry_after, TOO_OFTEN)


def _check_address(raw: str, errors: dict[str, str]) -> str | None:
    try:
        return clean_address(raw)
    except AddressError as error:
        errors["indirizzo"] = error.message
        return None


def _moment(admitted: Admitted) -> datetime:
    return datetime.fromtimestamp(admitted.moment, UTC)


def _to_check(request: Request) -> Response:
    return RedirectResponse(
        url_for(request, "subscription_check"), status_code=303, headers=NO_STORE
    )


async def subscribe_GET(request: Request) -> Response:
    return _render_form(request, SUBSCRIBE_FORM)


@dataclass
class Sent:
    """An address form through the gate: what was typed, its address if it is one, and
    the errors found so far (beside each field)."""

    letterhead: Letterhead
    admitted: Admitted
    values: dict[str, Any]
    address: str | None
    errors: dict[str, str]

    def again(self, request: Request, form_name: str) -> Response:
        """The form with the errors beside the fields, text and token kept: 422."""
        return _render_form(
            request,
            form_name,
            values=self.values,
            errors=self.errors,
            token=self.admitted.sent_token,
            status_code=422,
        )


async def _sent(request: Request, form_name: str) -> Sent | Response:
    checked = await _admit(request, form_name)
    if isinstance(checked, Response):
        return checked
    letterhead, admitted = checked
    values = _values(admitted.form)
    errors: dict[str, str] = {}
    address = _check_address(values["indirizzo"], errors)
    return Sent(letterhead, admitted, values, address, errors)


async def subscribe_POST(request: Request) -> Response:
    sent = await _sent(request, SUBSCRIBE_FORM)
    if isinstance(sent, Response):
        return sent
    choice = sent.values["scelta"]
    if choice not in CHOICES:
        sent.errors["scelta"] = "Scegli che cosa ricevere: ogni numero o il riepilogo settimanale."
    kinds: tuple[str, ...] = ()
    try:
        kinds = clean_kinds(sent.values["tipi"])
    except ValueError:
        sent.errors["tipi"] = "Scegli i tipi tra quelli elencati."
    if sent.address is None or sent.errors:
        return sent.again(request, SUBSCRIBE_FORM)
    async with _request_write(request, sent.admitted) as conn:
        await links.request_subscription(
            conn, sent.letterhead, sent.address, cast(Choice, choice), kinds, _moment(sent.admitted)
        )
    return _to_check(request)


async def check_GET(request: Request) -> Response:
    # The same bytes for everyone, whatever the form did: no state, so the cache may keep it.
    shows(request)
    return render(request, "subscription/check.html", {})


async def manage_GET(request: Request) -> Response:
    return _render_form(request, MANAGE_FORM)


async def manage_POST(request: Request) -> Response:
    sent = await _sent(request, MANAGE_FORM)
    if isinstance(sent, Response):
        return sent
    if sent.address is None:
        return sent.again(request, MANAGE_FORM)
    async with _request_write(request, sent.admitted) as conn:
        await links.request_management(conn, sent.letterhead, sent.address, _moment(sent.admitted))
    return _to_check(request)


# --- the links of the e-mails --------------------------------------------------------------


async def _holder(request: Request, purpose: tokens.Purpose) -> Subscriber:
    site = site_of(request)
    token = request.path_params["token"]
    return await links.holder_of(
        site.db.reader, site.settings.secret_bytes, purpose, token, _now(request)
    )


async def confirm_GET(request: Request) -> Response:
    try:
        subscriber = await _holder(request, "conferma")
    except LinkError as error:
        return _link_error(request, error)
    if subscriber.state != "pending":
        return _link_error(request, LinkError(LinkProblem.DONE))
    return _page(request, "confirm.html", {"action": request.url.path})


async def confirm_POST(request: Request) -> Response:
    site = site_of(request)
    try:
        async with site.db.transaction() as conn:
            subscriber = await links.confirm(
                conn, site.settings.secret_bytes, request.path_params["token"], _now(request)
            )
    except LinkError as error:
        return _link_error(request, error)
    return _page(request, "confirmed.html", _choices_of(subscriber))


async def unsubscribe_GET(request: Request) -> Response:
    try:
        await _holder(request, "annulla")
    except LinkError as error:
        return _link_error(request, error)
    return _page(request, "unsubscribe.html", {"action": request.url.path})


async def unsubscribe_POST(request: Request) -> Response:
    """RFC 8058's one-click POST, and the button of the GET page: the signed token is the
    authority, so no origin check and no form token; the body is not needed."""
    site = site_of(request)
    try:
        async with site.db.transaction() as conn:
            await links.unsubscribe(
                conn, site.settings.secret_bytes, request.path_params["token"], _now(request)
            )
    except LinkError as error:
        return _link_error(request, error)
    return _page(request, "unsubscribed.html")


def _choices_of(subscriber: Subscriber) -> dict[str, Any]:
    chosen = subscriber.kinds or tuple(KINDS)
    return {
        "choice": CHOICE_LABELS[subscriber.choice],
        "kinds": [KINDS[kind][1] for kind in chosen],
    }


async def manage_token_GET(request: Request) -> Response:
    site = site_of(request)
    try:
        subscriber = await _holder(request, "gestisci")
    except LinkError as error:
        return _link_error(request, error)
    if subscriber.state != "confirmed":
        return _link_error(request, LinkError(LinkProblem.DONE))
    issued = int(site.clock())
    cancel = tokens.sign(
        site.settings.secret_bytes, "annulla", subscriber.id, subscriber.address, issued
    )
    return _page(
        request,
        "manage_link.html",
        {**_choices_of(subscriber), "unsubscribe": url_for(request, "unsubscribe", token=cancel)},
    )


async def footprint_targets(app: Starlette) -> list[Target | Skipped]:
    """The form only: /impronta lists every target, within its own DOM budget, and the
    other pages of the e-mail bulletin are smaller (tests/web/views/test_subscription.py)."""
    return [Target("subscribe", path_for(app, "subscribe"), "Ricevi il bollettino per e-mail")]


def register(site: Site) -> None:
    """Add the subscription pages to the footprint's targets."""
    site.footprint_targets.append(footprint_targets)


TOKEN: Final = "{token:str}"

routes = [
    Route("/iscriviti", subscribe_GET, name="subscribe", methods=["GET"]),
    Route("/iscriviti", subscribe_POST, methods=["POST"]),
    Route("/iscriviti/controlla", check_GET, name="subscription_check"),
    Route("/iscriviti/gestisci", manage_GET, name="manage", methods=["GET"]),
    Route("/iscriviti/gestisci", manage_POST, methods=["POST"]),
    Route(f"/iscriviti/gestisci/{TOKEN}", manage_token_GET, name="manage_link"),
    Route(f"/iscriviti/conferma/{TOKEN}", confirm_GET, name="confirm", methods=["GET"]),
    Route(f"/iscriviti/conferma/{TOKEN}", confirm_POST, methods=["POST"]),
    Route(f"/iscriviti/annulla/{TOKEN}", unsubscribe_GET, name="unsubscribe", methods=["GET"]),
    Route(f"/iscriviti/annulla/{TOKEN}", unsubscribe_POST, methods=["POST"]),
]
