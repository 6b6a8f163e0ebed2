"""The staff's session, and the guard every staff page goes through.

Only staff get a cookie: after a successful login, a signed session value, HttpOnly,
SameSite=Strict, Secure when the site is served over https, and limited to the staff's
areas. A cookie has one path, so the same session goes out as one cookie per area
(``AREAS``): the moderators' cookie is exactly what it was before the newsroom, and the
newsroom's twin carries the same value under /redazione. Public pages never see either.

Every staff page needs a valid session holding its role (:func:`require_role`): without a
session a GET goes to the login page and a POST gets 403; with a session but not the role,
403 with an Italian page that links to what the account can use. Staff pages are sent with
``Cache-Control: no-store``, and their forms carry tokens bound to the session, so a token
copied from one person's page is worthless in another session.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from greenweb import security, staff
from greenweb.staff import MODERATORE, REDATTORE, StaffMember
from greenweb.web.errors import TITLES
from greenweb.web.forms import NO_STORE, Admitted, TokenRules, Tokens, admit, refuse
from greenweb.web.site import site_of
from greenweb.web.templating import render
from greenweb.web.urls import url_for


@dataclass(frozen=True)
class Area:
    """The pages one role opens."""

    prefix: str  # every page of the area is under it, and so is its cookie
    cookie: str  # the session cookie's name under ``prefix``
    reserved_for: str  # "Questa pagina è riservata ..."
    label: str  # its link on the 403 page


AREAS: Final = {
    MODERATORE: Area("/moderazione", "greenweb_moderazione", "ai moderatori", "Moderazione"),
    REDATTORE: Area("/redazione", "greenweb_redazione", "alla redazione", "Redazione"),
}
COOKIE: Final = AREAS[MODERATORE].cookie  # the moderators' cookie, as it always was

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
    "unita": "Domanda unita come doppione: i suoi «anch'io» contano ora sulla domanda tenuta.",
    "risorsa": "Risorsa salvata.",
}


@dataclass(frozen=True)
class Session:
    staff: StaffMember
    session_id: str


async def current_session(request: Request) -> Session | None:
    site = site_of(request)
    moment = site.clock()
    cookie = next(
        (request.cookies[a.cookie] for a in AREAS.values() if a.cookie in request.cookies), None
    )
    session_id = security.read_session(site.settings.secret_bytes, cookie, moment)
    if session_id is None:
        return None
    member = await staff.session_member(site.db.reader, session_id, moment)
    return None if member is None else Session(member, session_id)


def set_session_cookie(request: Request, response: Response, session_id: str, expires: int) -> None:
    settings = site_of(request).settings
    value = security.sign_session(settings.secret_bytes, session_id, expires)
    for area in AREAS.values():
        response.set_cookie(
            area.cookie,
            value,
            max_age=settings.session_max_age,
            path=area.prefix,
            secure=settings.https,
            httponly=True,
            samesite="strict",
        )


def delete_session_cookie(request: Request, response: Response) -> None:
    for area in AREAS.values():
        response.delete_cookie(
            area.cookie,
            path=area.prefix,
            secure=site_of(request).settings.https,
            httponly=True,
            samesite="strict",
        )


# --- where an account may go ------------------------------------------------------------


def area_home(request: Request, role: str) -> str:
    """The first page of the area ``role`` opens."""
    return url_for(request, "moderation" if role == MODERATORE else "newsroom")


def role_for_path(path: str) -> str | None:
    """The role a staff page's path needs (None: not a staff area)."""
    for role, area in AREAS.items():
        if path == area.prefix or path.startswith(area.prefix + "/"):
            return role
    return None


def landing_page(request: Request, member: StaffMember, wanted: str | None) -> str:
    """Where to go after login: ``wanted`` (already checked to be a staff path) when the
    account may see it, else the first area it can use (the moderation queue first).

    Never a page the account would be refused: a login then a 403 reads as a failed login.
    """
    if wanted is not None:
        role = role_for_path(wanted)
        if role is not None and member.can(role):
            return wanted
    for role in AREAS:
        if member.can(role):
            return area_home(request, role)
    return url_for(request, "moderation")  # no role at all: its 403 page says so


def usable_areas(request: Request, member: StaffMember) -> list[tuple[str, str]]:
    """(label, link) of each area the account may use, for the 403 page."""
    return [(a.label, area_home(request, role)) for role, a in AREAS.items() if member.can(role)]


# --- the guard ----------------------------------------------------------------------------


def _forbidden(request: Request, session: Session, role: str) -> Response:
    """403: logged in, but without ``role``. A page, not a redirect: sending the person to
    the login page they are already past would loop."""
    what = "pagina" if request.method in {"GET", "HEAD"} else "azione"
    message = f"Questa {what} è riservata {AREAS[role].reserved_for}."
    return render_staff_page(
        request,
        session,
        "staff/forbidden.html",
        {
            "title": TITLES[403],
            "message": message,
            "areas": usable_areas(request, session.staff),
        },
        status_code=403,
    )


async def staff_session(request: Request, role: str) -> Session | Response:
    """The session of a staff page that needs ``role``, or the answer to send instead.

    Not logged in: a GET or HEAD goes to the login page (coming back here afterwards), a
    POST is refused with 403. Logged in without ``role``: 403 with an Italian page.
    """
    session = await current_session(request)
    if session is None:
        if request.method in {"GET", "HEAD"}:
            target = url_for(request, "login", {"next": request.url.path})
            return RedirectResponse(target, status_code=303, headers=NO_STORE)
        refuse(403, f"Questa azione è riservata {AREAS[role].reserved_for}: accedi e riprova.")
    if not session.staff.can(role):
        return _forbidden(request, session, role)
    return session


async def require_role(request: Request, role: str) -> StaffMember | Response:
    """Who is asking, when they are logged in and hold ``role``; otherwise the response to
    send (the login page, or 403). The same guard as :func:`staff_page`, for a view that
    needs only who is asking (a form needs the session: use ``staff_page``)."""
    found = await staff_session(request, role)
    return found.staff if isinstance(found, Session) else found


Handler = Callable[[Request, Session], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def staff_page(role: str) -> Callable[[Handler], Endpoint]:
    """Run the handler with the session of an account holding ``role``; anyone else gets
    what :func:`staff_session` answers. Every answer is ``Cache-Control: no-store``."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            found = await staff_session(request, role)
            response = found if isinstance(found, Response) else await handler(request, found)
            response.headers["Cache-Control"] = "no-store"
            return response

        return endpoint

    return decorate


async def admit_staff_form(request: Request, session: Session, form_name: str) -> Admitted:
    """The form gate with the staff's rules and a token bound to ``session``."""
    rules = TokenRules.moderators(site_of(request).settings)
    return await admit(request, rules, form_name, binding=session.session_id)


def render_staff_page(
    request: Request,
    session: Session,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    """A staff page: the session, its form tokens and the notice of the last action."""
    shared = {
        "session": session,
        "token": Tokens.of(request, binding=session.session_id),
        "done": DONE.get(request.query_params.get("fatto", "")),
    }
    return render(
        request, template, {**shared, **context}, status_code=status_code, headers=NO_STORE
    )
