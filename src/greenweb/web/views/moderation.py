"""The moderators' side: login, logout, the queue, the actions on a question, resources.

Only moderators get a cookie: after a successful login, a signed session value, HttpOnly,
SameSite=Strict, limited to /moderazione, Secure when the site is served over https.
Every page here needs a valid session (GET without one: 303 to the login page; POST: 403)
and is sent with ``Cache-Control: no-store``. Forms carry tokens bound to the session, so
a token copied from one moderator's page is worthless in another session. The public log
(/moderazione/registro) lives in web/board.py: it needs no session and is cacheable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb import security
from greenweb.board import moderation, moderation_log, moderators, questions, resources
from greenweb.board.moderators import Moderator
from greenweb.board.text import check_text, clean_line, clean_text
from greenweb.board.topics import list_topics
from greenweb.markup import render_markdown
from greenweb.security import TokenError, TokenProblem
from greenweb.web.errors import bad_request
from greenweb.web.forms import (
    NO_STORE,
    TOKEN_FIELD,
    Form,
    Tokens,
    check_same_origin,
    client_address,
    now,
    read_form,
    refuse,
    too_many,
)
from greenweb.web.templating import render
from greenweb.web.views.board import database, limits, settings_of, url_for
from greenweb.web.views.bulletin import page_number

COOKIE = "greenweb_moderazione"
COOKIE_PATH = "/moderazione"
LOGIN_FORM = "login"

QUEUE_VIEWS = {
    # ?stato= value: (label, states listed)
    "da-moderare": ("Da moderare", ("ricevuta", "segnalata")),
    "pubblicate": ("Pubblicate", ("pubblicata",)),
    "nascoste": ("Nascoste", ("nascosta",)),
    "respinte": ("Respinte", ("respinta",)),
}
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
    settings = settings_of(request)
    moment = now(request)
    session_id = security.read_session(settings.secret_bytes, request.cookies.get(COOKIE), moment)
    if session_id is None:
        return None
    moderator = await moderators.session_moderator(database(request).reader, session_id, moment)
    return None if moderator is None else Session(moderator, session_id)


Handler = Callable[[Request, Session], Awaitable[Response]]


def moderator_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` with the session, or send the visitor to the login page."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        session = await current_session(request)
        if session is None:
            if request.method in {"GET", "HEAD"}:
                query = urlencode({"next": request.url.path})
                return RedirectResponse(
                    f"{url_for(request, 'login')}?{query}", status_code=303, headers=NO_STORE
                )
            refuse(403, "Questa azione è riservata alla moderazione: accedi e riprova.")
        response = await handler(request, session)
        response.headers["Cache-Control"] = "no-store"
        return response

    return endpoint


def session_tokens(request: Request, session: Session) -> Tokens:
    return Tokens(settings_of(request).secret_bytes, now(request), binding=session.session_id)


async def read_moderator_form(
    request: Request, session: Session, form_name: str
) -> tuple[Form, security.FormToken]:
    """Body, origin and a session-bound token; refuses with 4xx when any is wrong."""
    settings = settings_of(request)
    form = await read_form(request)
    check_same_origin(request, settings)
    try:
        token = security.verify_token(
            settings.secret_bytes,
            form.get(TOKEN_FIELD),
            form_name,
            now(request),
            # Moderators are people behind a login, not bots: no minimum age. A token lives
            # as long as a session can, so a long answer is never lost to an expired form.
            min_age=0,
            max_age=settings.session_max_age,
            binding=session.session_id,
        )
        if await security.nonce_used(database(request).reader, token.nonce):
            raise TokenError(TokenProblem.USED)
    except TokenError as error:
        if error.problem is TokenProblem.USED:
            refuse(409, "Questo modulo è già stato inviato: ricarica la pagina.")
        refuse(403, error.message)
    return form, token


def safe_next(value: str | None) -> str | None:
    """A place under /moderazione to go after login; anything else (another site, a
    scheme, //host, backslashes) is dropped, so the login page is no open redirect."""
    if not value or len(value) > 200:
        return None
    if not re.fullmatch(r"/moderazione(/[A-Za-z0-9_-]+)*/?", value):
        return None
    return value


# --- login and logout ------------------------------------------------------------------------


async def render_login(
    request: Request,
    *,
    name: str = "",
    next_url: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    settings = settings_of(request)
    return render(
        request,
        "moderation/login.html",
        {
            "name": name,
            "next": next_url or "",
            "error": error,
            "token": Tokens(settings.secret_bytes, now(request))(LOGIN_FORM),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def login_GET(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if await current_session(request) is not None:
        return RedirectResponse(
            next_url or url_for(request, "moderation"), status_code=303, headers=NO_STORE
        )
    return await render_login(request, next_url=next_url)


async def login_POST(request: Request) -> Response:
    settings = settings_of(request)
    form = await read_form(request)
    check_same_origin(request, settings)
    name = clean_line(form.get("nome") or "")[:100]
    password = form.get("password") or ""
    next_url = safe_next(form.get("next"))
    moment = now(request)
    try:
        token = security.verify_token(
            settings.secret_bytes,
            form.get(TOKEN_FIELD),
            LOGIN_FORM,
            moment,
            min_age=0,
            max_age=settings.token_max_age,
        )
        if await security.nonce_used(database(request).reader, token.nonce):
            raise TokenError(TokenProblem.USED)
    except TokenError as error:
        return await render_login(
            request, name=name, next_url=next_url, error=error.message, status_code=403
        )
    secret = settings.secret_bytes
    keys = [
        security.client_hash(secret, client_address(request), "login"),
        security.name_hash(secret, name),
    ]
    db = database(request)
    try:
        # The throttle is checked and this attempt counted as a failure in one write
        # transaction, before the password is verified: concurrent attempts are
        # serialised here, so 30 guesses sent at once meet the same lockout as 30 sent
        # one by one (checked on the reader, they all passed before any was counted).
        # A right password then clears the failures.
        async with db.transaction() as conn:
            wait = await security.login_retry_after(
                conn,
                keys,
                moment,
                max_failures=settings.login_max_failures,
                lockout=settings.login_lockout,
            )
            if wait is None:
                await security.consume_nonce(conn, token, moment, max_age=settings.token_max_age)
                await security.record_login_failure(
                    conn, keys, moment, lockout=settings.login_lockout
                )
    except TokenError:
        refuse(409, "Questo modulo è già stato inviato: ricarica la pagina.")
    if wait is not None:
        too_many(wait, "Troppi tentativi di accesso non riusciti.")
    moderator = await moderators.authenticate(db.reader, name, password)
    if moderator is None:
        return await render_login(
            request,
            name=name,
            next_url=next_url,
            error="Nome o password non corretti.",
            status_code=403,
        )
    async with db.transaction() as conn:
        await security.clear_login_failures(conn, keys)
        await moderators.rehash_if_needed(conn, moderator.id, password)
        session_id, expires = await moderators.open_session(
            conn, moderator.id, moment, settings.session_max_age
        )
    response = RedirectResponse(
        next_url or url_for(request, "moderation"), status_code=303, headers=NO_STORE
    )
    response.set_cookie(
        COOKIE,
        security.sign_session(secret, session_id, expires),
        max_age=settings.session_max_age,
        path=COOKIE_PATH,
        secure=settings.https,
        httponly=True,
        samesite="strict",
    )
    return response


async def logout_POST(request: Request) -> Response:
    settings = settings_of(request)
    session = await current_session(request)
    if session is not None:
        _, token = await read_moderator_form(request, session, "logout")
        async with database(request).transaction() as conn:
            await security.consume_nonce(
                conn, token, now(request), max_age=settings.session_max_age
            )
            await moderators.close_session(conn, session.session_id)
    else:
        await read_form(request)
        check_same_origin(request, settings)
    response = RedirectResponse(url_for(request, "login"), status_code=303, headers=NO_STORE)
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, secure=settings.https, httponly=True, samesite="strict"
    )
    return response


# --- the queue ------------------------------------------------------------------------------


@moderator_only
async def queue_GET(request: Request, session: Session) -> Response:
    view = request.query_params.get("stato") or "da-moderare"
    if view not in QUEUE_VIEWS:
        raise bad_request("Elenco sconosciuto.")
    conn = database(request).reader
    page = await questions.moderation_queue(conn, QUEUE_VIEWS[view][1], page=page_number(request))
    return render(
        request,
        "moderation/queue.html",
        {
            "session": session,
            "token": session_tokens(request, session),
            "page": page,
            "view": view,
            "views": QUEUE_VIEWS,
            "counts": await questions.state_counts(conn),
            "done": DONE.get(request.query_params.get("fatto", "")),
        },
    )


# --- one question ---------------------------------------------------------------------------


def question_values(question: questions.Question, linked: list[int]) -> dict[str, Any]:
    return {
        "testo": question.text,
        "risposta": question.answer_md or "",
        "risorse": [str(rid) for rid in linked],
        "titolo": question.piece_title or "",
        "indirizzo": question.piece_url or "",
        "testo_pillola": question.piece_text or "",
        "motivo_respingi": "",
        "motivo_ritira": "",
        "motivo_modifica": "",
    }


async def render_question(
    request: Request,
    session: Session,
    question_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    preview_html: str | None = None,
    status_code: int = 200,
) -> Response:
    conn = database(request).reader
    question = await questions.get_question(conn, question_id)
    if question is None:
        refuse(404, "Questa domanda non esiste.")
    linked = [r.id for r in await resources.resources_for_question(conn, question_id)]
    shown = question_values(question, linked)
    shown.update(values or {})
    return render(
        request,
        "moderation/question.html",
        {
            "session": session,
            "token": session_tokens(request, session),
            "question": question,
            "values": shown,
            "errors": errors or {},
            "notice": notice,
            "done": DONE.get(request.query_params.get("fatto", "")),
            "preview_html": preview_html,
            "all_resources": await resources.all_resources(conn),
            "history": (
                await moderation_log.log_entries(conn, question_id=question_id, per_page=100)
            ).items,
            "reports": await moderation.report_summary(conn, question_id),
            "limits": limits(settings_of(request)),
            "max_answer": moderation.MAX_ANSWER_CHARS,
        },
        status_code=status_code,
    )


@moderator_only
async def moderate_question_GET(request: Request, session: Session) -> Response:
    return await render_question(request, session, request.path_params["id"])


Change = Callable[[Any, float], Awaitable[Any]]


async def apply(
    request: Request,
    session: Session,
    token: security.FormToken,
    change: Change,
    *,
    done: str,
    to_queue: bool = False,
) -> Response:
    """Run one moderation change with the token's nonce, in one transaction, then 303."""
    question_id: int = request.path_params["id"]
    moment = now(request)
    try:
        async with database(request).transaction() as conn:
            await security.consume_nonce(
                conn, token, moment, max_age=settings_of(request).session_max_age
            )
            result = await change(conn, moment)
    except moderation.ModerationError as error:
        return await render_question(
            request, session, question_id, notice=str(error), status_code=409
        )
    except LookupError:
        refuse(404, "Questa domanda non esiste.")
    except TokenError:
        refuse(409, "Questo modulo è già stato inviato: ricarica la pagina.")
    if result is False:
        done = "invariata"
    if to_queue:
        target = url_for(request, "moderation") + "?" + urlencode({"fatto": done})
    else:
        target = url_for(request, "moderate_question", id=question_id) + f"?fatto={done}"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def form_name(request: Request, action: str) -> str:
    return f"mod-{action}-{request.path_params['id']}"


@moderator_only
async def approve_POST(request: Request, session: Session) -> Response:
    _, token = await read_moderator_form(request, session, form_name(request, "approva"))
    qid: int = request.path_params["id"]
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.approve(conn, qid, t, moderator=name),
        done="approvata",
        to_queue=True,
    )


async def _with_reason(
    request: Request, session: Session, action: str, field: str
) -> tuple[security.FormToken, str] | Response:
    form, token = await read_moderator_form(request, session, form_name(request, action))
    reason, problem = moderation.check_reason(form.get(field))
    if problem:
        return await render_question(
            request,
            session,
            request.path_params["id"],
            values={field: reason},
            errors={field: problem},
            status_code=422,
        )
    return token, reason


@moderator_only
async def reject_POST(request: Request, session: Session) -> Response:
    checked = await _with_reason(request, session, "respingi", "motivo_respingi")
    if isinstance(checked, Response):
        return checked
    token, reason = checked
    qid: int = request.path_params["id"]
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.reject(conn, qid, reason, t, moderator=name),
        done="respinta",
        to_queue=True,
    )


@moderator_only
async def unpublish_POST(request: Request, session: Session) -> Response:
    checked = await _with_reason(request, session, "ritira", "motivo_ritira")
    if isinstance(checked, Response):
        return checked
    token, reason = checked
    qid: int = request.path_params["id"]
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.unpublish(conn, qid, reason, t, moderator=name),
        done="ritirata",
    )


@moderator_only
async def restore_POST(request: Request, session: Session) -> Response:
    _, token = await read_moderator_form(request, session, form_name(request, "ripristina"))
    qid: int = request.path_params["id"]
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.restore(conn, qid, t, moderator=name),
        done="ripristinata",
    )


@moderator_only
async def edit_POST(request: Request, session: Session) -> Response:
    form, token = await read_moderator_form(request, session, form_name(request, "modifica"))
    qid: int = request.path_params["id"]
    settings = settings_of(request)
    text = clean_text(form.get("testo") or "")
    reason, reason_problem = moderation.check_reason(form.get("motivo_modifica"), required=False)
    errors = {}
    problem = check_text(text, settings.question_min_chars, settings.question_max_chars)
    if problem:
        errors["testo"] = problem
    if reason_problem:
        errors["motivo_modifica"] = reason_problem
    if errors:
        return await render_question(
            request,
            session,
            qid,
            values={"testo": text, "motivo_modifica": reason},
            errors=errors,
            status_code=422,
        )
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.edit_text(conn, qid, text, t, moderator=name, reason=reason),
        done="modificata",
    )


@moderator_only
async def answer_POST(request: Request, session: Session) -> Response:
    form, token = await read_moderator_form(request, session, form_name(request, "rispondi"))
    qid: int = request.path_params["id"]
    markdown, problem = moderation.validate_answer(form.get("risposta"))
    chosen = form.getlist("risorse")
    errors = {}
    if problem:
        errors["risposta"] = problem
    # ASCII digits only: "²".isdigit() is true too, and int("²") raises (once a 500).
    if not all(value.isascii() and value.isdigit() and len(value) < 10 for value in chosen):
        errors["risorse"] = "Scegli le risorse dall'elenco."
        chosen = []
    values = {"risposta": markdown, "risorse": chosen}
    if errors or "anteprima" in form:
        return await render_question(
            request,
            session,
            qid,
            values=values,
            errors=errors,
            preview_html=None if errors else render_markdown(markdown),
            status_code=422 if errors else 200,
        )
    ids = [int(value) for value in chosen]
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.answer(conn, qid, markdown, ids, t, moderator=name),
        done="risposta",
    )


@moderator_only
async def piece_POST(request: Request, session: Session) -> Response:
    form, token = await read_moderator_form(request, session, form_name(request, "pillola"))
    qid: int = request.path_params["id"]
    checked, piece = moderation.validate_piece(
        form.get("titolo"), form.get("indirizzo"), form.get("testo_pillola")
    )
    if piece is None:
        values = {
            "titolo": checked.values["titolo"],
            "indirizzo": checked.values["indirizzo"],
            "testo_pillola": checked.values["testo"],
        }
        errors = {("testo_pillola" if k == "testo" else k): v for k, v in checked.errors.items()}
        return await render_question(
            request, session, qid, values=values, errors=errors, status_code=422
        )
    name = session.moderator.name
    return await apply(
        request,
        session,
        token,
        lambda conn, t: moderation.mark_piece(conn, qid, piece, t, moderator=name),
        done="pillola",
    )


# --- resources ------------------------------------------------------------------------------


@moderator_only
async def moderate_resources_GET(request: Request, session: Session) -> Response:
    conn = database(request).reader
    return render(
        request,
        "moderation/resources.html",
        {
            "session": session,
            "token": session_tokens(request, session),
            "resources": await resources.all_resources(conn),
            "done": DONE.get(request.query_params.get("fatto", "")),
        },
    )


async def render_resource_form(
    request: Request,
    session: Session,
    *,
    resource_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "moderation/resource_form.html",
        {
            "session": session,
            "token": session_tokens(request, session),
            "resource_id": resource_id,
            "values": values,
            "errors": errors or {},
            "kinds": resources.KINDS,
            "languages": resources.LANGUAGES,
            "topics": await list_topics(database(request).reader),
        },
        status_code=status_code,
    )


EMPTY_RESOURCE = {
    "titolo": "",
    "indirizzo": "",
    "tipo": "leggere",
    "fonte": "",
    "lingua": "it",
    "sintesi": "",
    "temi": [],
}


@moderator_only
async def new_resource_GET(request: Request, session: Session) -> Response:
    return await render_resource_form(
        request, session, resource_id=None, values=dict(EMPTY_RESOURCE)
    )


@moderator_only
async def edit_resource_GET(request: Request, session: Session) -> Response:
    resource = await resources.get_resource(database(request).reader, request.path_params["id"])
    if resource is None:
        refuse(404, "Questa risorsa non esiste.")
    return await render_resource_form(
        request, session, resource_id=resource.id, values=dict(resources.form_values(resource))
    )


async def _save_resource(request: Request, session: Session, resource_id: int | None) -> Response:
    name = "mod-resource-new" if resource_id is None else f"mod-resource-{resource_id}"
    form, token = await read_moderator_form(request, session, name)
    if resource_id is not None and (
        await resources.get_resource(database(request).reader, resource_id) is None
    ):
        refuse(404, "Questa risorsa non esiste.")
    topics = {t.slug for t in await list_topics(database(request).reader)}
    chosen = form.getlist("temi")
    checked, draft = resources.validate_resource(
        form.get("titolo"),
        form.get("indirizzo"),
        form.get("tipo"),
        form.get("fonte"),
        form.get("lingua"),
        form.get("sintesi"),
        chosen,
        known_topics=topics,
    )
    if draft is None:
        values: dict[str, Any] = {**checked.values, "temi": [t for t in chosen if t in topics]}
        return await render_resource_form(
            request,
            session,
            resource_id=resource_id,
            values=values,
            errors=checked.errors,
            status_code=422,
        )
    moment = now(request)
    moderator = session.moderator.name
    try:
        async with database(request).transaction() as conn:
            await security.consume_nonce(
                conn, token, moment, max_age=settings_of(request).session_max_age
            )
            if resource_id is None:
                await resources.create_resource(conn, draft, moment, moderator=moderator)
            elif not await resources.update_resource(
                conn, resource_id, draft, moment, moderator=moderator
            ):
                raise LookupError(resource_id)
    except TokenError:
        refuse(409, "Questo modulo è già stato inviato: ricarica la pagina.")
    except LookupError:
        refuse(404, "Questa risorsa non esiste.")
    target = url_for(request, "moderate_resources") + "?fatto=risorsa"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@moderator_only
async def new_resource_POST(request: Request, session: Session) -> Response:
    return await _save_resource(request, session, None)


@moderator_only
async def edit_resource_POST(request: Request, session: Session) -> Response:
    return await _save_resource(request, session, request.path_params["id"])


Q = "/moderazione/domande/{id:rowid}"

routes = [
    Route("/moderazione", queue_GET, name="moderation"),
    Route("/moderazione/accesso", login_GET, name="login", methods=["GET"]),
    Route("/moderazione/accesso", login_POST, methods=["POST"]),
    Route("/moderazione/esci", logout_POST, name="logout", methods=["POST"]),
    Route(Q, moderate_question_GET, name="moderate_question"),
    Route(Q + "/approva", approve_POST, name="approve", methods=["POST"]),
    Route(Q + "/respingi", reject_POST, name="reject", methods=["POST"]),
    Route(Q + "/ritira", unpublish_POST, name="unpublish", methods=["POST"]),
    Route(Q + "/ripristina", restore_POST, name="restore", methods=["POST"]),
    Route(Q + "/modifica", edit_POST, name="edit_question", methods=["POST"]),
    Route(Q + "/rispondi", answer_POST, name="answer", methods=["POST"]),
    Route(Q + "/pillola", piece_POST, name="mark_piece", methods=["POST"]),
    Route("/moderazione/risorse", moderate_resources_GET, name="moderate_resources"),
    Route("/moderazione/risorse/nuova", new_resource_GET, name="new_resource", methods=["GET"]),
    Route("/moderazione/risorse/nuova", new_resource_POST, methods=["POST"]),
    Route(
        "/moderazione/risorse/{id:rowid}", edit_resource_GET, name="edit_resource", methods=["GET"]
    ),
    Route("/moderazione/risorse/{id:rowid}", edit_resource_POST, methods=["POST"]),
]
