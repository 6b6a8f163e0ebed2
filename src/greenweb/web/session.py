"""The moderators' session, and what every moderator page builds on it.

Only moderators get a cookie: after a successful login, a signed session value, HttpOnly,
SameSite=Strict, limited to /moderazione, Secure when the site is served over https.
Every moderator page needs a valid session (GET without one: 303 to the login page; POST:
403) and is sent with ``Cache-Control: no-store``. Their forms carry tokens bound to the
session, so a token copied from one moderator's page is worthless in another session.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from greenweb import security
from greenweb.board import moderators
from greenweb.board.moderators import Moderator
from greenweb.web.forms import NO_STORE, Admitted, TokenRules, Tokens, admit, refuse
from greenweb.web.site import site_of
from greenweb.web.templating import render
from greenweb.web.urls import url_for

COOKIE = "greenweb_moderazione"
# One login for both staff areas: the cookie is set for each area's path and for no other,
# so no public page ever receives it.
COOKIE_PATHS = ("/moderazione", "/redazione")

# ?fatto=...: what the action a moderator just took did, said on the page it leads to.
DONE = {
    "approvata": "Domanda pubblicata.",
    "respinta": "Domanda respinta.",
    "ritirata": "Domanda ritirata dalla pubblicazione.",
    "ripristinata": "Domanda ripubblicata.",
    "modificata": "Testo corretto.",
    "invariata": "Il testo era già questo: nulla da salvare.",
    "risposta": "Risposta salvata.",
    "pillola": "Pillola teatrale salvata.",
    "risorsa": "Risorsa salvata.",
}


@dataclass(frozen=True)
class Session:
    moderator: Moderator
    session_id: str


async def current_session(request: Request) -> Session | None:
    site = site_of(request)
    moment = site.clock()
    cookie = request.cookies.get(COOKIE)
    session_id = security.read_session(site.settings.secret_bytes, cookie, moment)
    if session_id is None:
        return None
    moderator = await moderators.session_moderator(site.db.reader, session_id, moment)
    return None if moderator is None else Session(moderator, session_id)


def set_session_cookie(request: Request, response: Response, session_id: str, expires: int) -> None:
    settings = site_of(request).settings
    value = security.sign_session(settings.secret_bytes, session_id, expires)
    for path in COOKIE_PATHS:
        response.set_cookie(
            COOKIE,
            value,
            max_age=settings.session_max_age,
            path=path,
            secure=settings.https,
            httponly=True,
            samesite="strict",
        )


def delete_session_cookie(request: Request, response: Response) -> None:
    for path in COOKIE_PATHS:
        response.delete_cookie(
            COOKIE,
            path=path,
            secure=site_of(request).settings.https,
            httponly=True,
            samesite="strict",
        )


Handler = Callable[[Request, Session], Awaitable[Response]]


def moderator_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` with the session, or send the visitor to the login page."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            if request.method in {"GET", "HEAD"}:
                target = url_for(request, "login", {"next": request.url.path})
                return RedirectResponse(target, status_code=303, headers=NO_STORE)
            refuse(403, "Questa azione è riservata alla moderazione: accedi e riprova.")
        response = await handler(request, session)
        response.headers["Cache-Control"] = "no-store"
        return response

    return endpoint


def editor_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The newsroom's guard: :func:`moderator_only` for the editors' pages."""
    return moderator_only(handler)


async def admit_moderator_form(request: Request, session: Session, form_name: str) -> Admitted:
    """The form gate with the moderators' rules and a token bound to ``session``."""
    rules = TokenRules.moderators(site_of(request).settings)
    return await admit(request, rules, form_name, binding=session.session_id)


def render_moderator_page(
    request: Request,
    session: Session,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A moderator page: the session, its form tokens and the notice of the last action."""
    shared = {
        "session": session,
        "token": Tokens.of(request, binding=session.session_id),
        "done": DONE.get(request.query_params.get("fatto", "")),
    }
    return render(request, template, {**shared, **context}, status_code=status_code)
