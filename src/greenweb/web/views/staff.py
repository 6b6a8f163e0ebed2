"""The staff's way in and out: the login page, the login and the logout.

One login for every staff area: the moderation of the board and the bulletin's newsroom.
The session itself (its cookies, the guard of every staff page) is web/session.py.
A login is throttled per client and per name; see ``login_POST``.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb import security, staff
from greenweb.board.text import clean_line
from greenweb.staff import StaffMember
from greenweb.web import forms
from greenweb.web.session import (
    AREAS,
    admit_staff_form,
    current_session,
    delete_session_cookie,
    landing_page,
    set_session_cookie,
)
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from greenweb.web.templating import render
from greenweb.web.urls import url_for

LOGIN_FORM = "login"


# A path in one of the staff areas: plain segments under /moderazione or /redazione.
STAFF_PATH = re.compile(
    "(?:" + "|".join(re.escape(area.prefix) for area in AREAS.values()) + r")(?:/[A-Za-z0-9_-]+)*/?"
)


def safe_next(value: str | None) -> str | None:
    """A staff page to go to after login; anything else (another site, a scheme, //host,
    backslashes, a public page) is dropped, so the login page is no open redirect."""
    if not value or len(value) > 200:
        return None
    if not STAFF_PATH.fullmatch(value):
        return None
    return value


async def render_login(
    request: Request,
    *,
    name: str = "",
    next_url: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    shows(request)  # a form with a token: never kept, declared all the same
    return render(
        request,
        "moderation/login.html",
        {
            "name": name,
            "next": next_url or "",
            "error": error,
            "token": forms.Tokens.of(request)(LOGIN_FORM),
        },
        status_code=status_code,
        headers=forms.NO_STORE,
    )


def _after_login(request: Request, member: StaffMember, next_url: str | None) -> Response:
    target = landing_page(request, member, next_url)
    return RedirectResponse(target, status_code=303, headers=forms.NO_STORE)


async def login_GET(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    session = await current_session(request)
    if session is not None:
        return _after_login(request, session.staff, next_url)
    return await render_login(request, next_url=next_url)


def _login_fields(form: forms.Form) -> tuple[str, str | None]:
    """The name (cleaned, as shown again) and the page to go to afterwards."""
    return clean_line(form.get("nome") or "")[:100], safe_next(form.get("next"))


async def login_POST(request: Request) -> Response:
    site = site_of(request)
    settings = site.settings
    try:
        admitted = await forms.admit(request, forms.TokenRules.login(settings), LOGIN_FORM)
    except forms.Recoverable as again:
        name, next_url = _login_fields(again.form)
        return await render_login(
            request,
            name=name,
            next_url=next_url,
            error=again.message,
            status_code=again.status_code,
        )
    name, next_url = _login_fields(admitted.form)
    password = admitted.form.get("password") or ""
    moment = admitted.moment
    keys = [forms.client_hash(request, "login"), security.name_hash(settings.secret_bytes, name)]
    # The throttle is checked and this attempt counted as a failure in one write
    # transaction, before the password is verified: concurrent attempts are serialised
    # here, so 30 guesses sent at once meet the same lockout as 30 sent one by one
    # (checked on the reader, they all passed before any was counted). A right password
    # then clears the failures.
    async with site.db.transaction() as conn:
        wait = await security.login_retry_after(
            conn,
            keys,
            moment,
            max_failures=settings.login_max_failures,
            lockout=settings.login_lockout,
        )
        if wait is None:
            await admitted.consume(conn)
            await security.record_login_failure(conn, keys, moment, lockout=settings.login_lockout)
    if wait is not None:
        forms.too_many(wait, "Troppi tentativi di accesso non riusciti.")
    member = await staff.authenticate(site.db.reader, name, password)
    if member is None:
        return await render_login(
            request,
            name=name,
            next_url=next_url,
            error="Nome o password non corretti.",
            status_code=403,
        )
    async with site.db.transaction() as conn:
        await security.clear_login_failures(conn, keys)
        await staff.rehash_if_needed(conn, member.id, password)
        session_id, expires = await staff.open_session(
            conn, member.id, moment, settings.session_max_age
        )
    response = _after_login(request, member, next_url)
    set_session_cookie(request, response, session_id, expires)
    return response


async def logout_POST(request: Request) -> Response:
    session = await current_session(request)
    if session is not None:
        admitted = await admit_staff_form(request, session, "logout")
        async with site_of(request).db.transaction() as conn:
            await admitted.consume(conn)
            await staff.close_session(conn, session.session_id)
    else:
        await forms.read_same_origin_form(request)
    response = RedirectResponse(url_for(request, "login"), status_code=303, headers=forms.NO_STORE)
    delete_session_cookie(request, response)
    return response


routes = [
    Route("/moderazione/accesso", login_GET, name="login", methods=["GET"]),
    Route("/moderazione/accesso", login_POST, methods=["POST"]),
    Route("/moderazione/esci", logout_POST, name="logout", methods=["POST"]),
]
