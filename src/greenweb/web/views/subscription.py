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

from datetime import UTC, datetime
from typing import Any, Final, cast

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


def _render_subscribe(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    available = letterhead_for(site_of(request).settings) is not None
    return _page(
        request,
        "subscribe.html",
        {
            "available": available,
            "values": values or {"indirizzo": "", "scelta": "numero", "tipi": []},
            "errors": errors or {},
            "token": token or Tokens.of(request)(SUBSCRIBE_FORM),
            "notice": notice,
            "choices": CHOICE_LABELS,
            "kinds": {kind: labels[1] for kind, labels in KINDS.items()},
        },
        status_code=UNAVAILABLE if not available and request.method == "POST" else status_code,
        headers=headers,
    )


def _subscribe_values(form: Form) -> dict[str, Any]:
    return {
        "indirizzo": form.get("indirizzo") or "",
        "scelta": form.get("scelta") or "",
        "tipi": form.getlist("tipi"),
    }


def _check_address(raw: str, errors: dict[str, str]) -> str | None:
    try:
        return clean_address(raw)
    except AddressError as error:
        errors["indirizzo"] = error.message
        return None


async def subscribe_GET(request: Request) -> Response:
    return _render_subscribe(request)


async def subscribe_POST(request: Request) -> Response:
    settings = site_of(request).settings
    letterhead = letterhead_for(settings)
    if letterhead is None:
        return _render_subscribe(request)  # says e-mail is not available; reads nothing
    try:
        admitted = await admit(request, TokenRules.visitors(settings), SUBSCRIBE_FORM)
    except Recoverable as again:
        kept = again.sent_token if again.problem is TokenProblem.TOO_YOUNG else None
        return _render_subscribe(
            request,
            values=_subscribe_values(again.form),
            token=kept,
            notice=again.message,
            status_code=again.status_code,
        )
    values = _subscribe_values(admitted.form)
    errors: dict[str, str] = {}
    address = _check_address(values["indirizzo"], errors)
    choice = values["scelta"]
    if choice not in CHOICES:
        errors["scelta"] = "Scegli che cosa ricevere: ogni numero o il riepilogo settimanale."
    kinds: tuple[str, ...] = ()
    try:
        kinds = clean_kinds(values["tipi"])
    except ValueError:
        errors["tipi"] = "Scegli i tipi tra quelli elencati."
    if address is None or errors:
        return _render_subscribe(
            request, values=values, errors=errors, token=admitted.sent_token, status_code=422
        )
    rule = RateRule("subscription", settings.rate_subscriptions_per_hour)
    try:
        async with visitor_write(request, admitted, rule) as conn:
            await links.request_subscription(
                conn, letterhead, address, cast(Choice, choice), kinds, _moment(admitted)
            )
    except RateLimited as limited:
        too_many(limited.retry_after, TOO_OFTEN)
    return _to_check(request)


def _moment(admitted: Admitted) -> datetime:
    return datetime.fromtimestamp(admitted.moment, UTC)


def _to_check(request: Request) -> Response:
    return RedirectResponse(
        url_for(request, "subscription_check"), status_code=303, headers=NO_STORE
    )


async def check_GET(request: Request) -> Response:
    # The same bytes for everyone, whatever the form did: no state, so the cache may keep it.
    shows(request)
    return render(request, "subscription/check.html", {})


def _render_manage(
    request: Request,
    *,
    address: str = "",
    error: str | None = None,
    token: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    available = letterhead_for(site_of(request).settings) is not None
    return _page(
        request,
        "manage.html",
        {
            "available": available,
            "address": address,
            "errors": {"indirizzo": error} if error else {},
            "token": token or Tokens.of(request)(MANAGE_FORM),
            "notice": notice,
        },
        status_code=UNAVAILABLE if not available and request.method == "POST" else status_code,
    )


async def manage_GET(request: Request) -> Response:
    return _render_manage(request)


async def manage_POST(request: Request) -> Response:
    settings = site_of(request).settings
    letterhead = letterhead_for(settings)
    if letterhead is None:
        return _render_manage(request)
    try:
        admitted = await admit(request, TokenRules.visitors(settings), MANAGE_FORM)
    except Recoverable as again:
        kept = again.sent_token if again.problem is TokenProblem.TOO_YOUNG else None
        return _render_manage(
            request,
            address=again.form.get("indirizzo") or "",
            token=kept,
            notice=again.message,
            status_code=again.status_code,
        )
    raw = admitted.form.get("indirizzo") or ""
    errors: dict[str, str] = {}
    address = _check_address(raw, errors)
    if address is None:
        return _render_manage(
            request,
            address=raw,
            error=errors["indirizzo"],
            token=admitted.sent_token,
            status_code=422,
        )
    rule = RateRule("subscription", settings.rate_subscriptions_per_hour)
    try:
        async with visitor_write(request, admitted, rule) as conn:
            await links.request_management(conn, letterhead, address, _moment(admitted))
    except RateLimited as limited:
        too_many(limited.retry_after, TOO_OFTEN)
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
    """The forms and the "controlla" page; the token pages differ only by a sentence."""
    return [
        Target("subscribe", path_for(app, "subscribe"), "Ricevi il bollettino per e-mail"),
        Target("subscription_check", path_for(app, "subscription_check"), "Controlla la casella"),
        Target("manage", path_for(app, "manage"), "Gestisci l'iscrizione"),
    ]


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
