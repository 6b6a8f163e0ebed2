"""Pages of the question board: lists, a question, the question form, "anch'io", reports,
the resources, the theatre pieces and the public moderation log.

Caching: the lists (/domande, /risorse, /pillole, /moderazione/registro) and the thank-you
pages are the same for everyone and carry no form token, so the page cache may keep them.
The question page and the question form carry tokens (and the question page knows whether
this visitor already said "anch'io"): they are sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb import security
from greenweb.board import moderation_log, questions, resources, visitors
from greenweb.board.questions import Question
from greenweb.board.text import Checked
from greenweb.board.topics import Topic, list_topics
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.security import RateLimited, RateRule, TokenError, TokenProblem
from greenweb.web.errors import bad_request, not_found
from greenweb.web.forms import (
    NO_STORE,
    TOKEN_FIELD,
    Form,
    Tokens,
    check_honeypot,
    check_same_origin,
    client_address,
    now,
    read_form,
    refuse,
    too_many,
    wait_phrase,
)
from greenweb.web.templating import render
from greenweb.web.views.bulletin import page_number

QUESTION_FORM = "question"
RECOVERABLE = {TokenProblem.EXPIRED, TokenProblem.TOO_YOUNG}


class RowId(Convertor[int]):
    """A row id in a URL: no sign, no leading zero, at most 18 digits.

    Starlette's ``int`` accepts any length, and a number past 2**63 makes SQLite raise
    OverflowError (a 500); "007" would be a second address of question 7. Such paths
    simply do not match, so they are 404s.
    """

    regex = "[1-9][0-9]{0,17}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 < int(value) < 10**18:
            raise ValueError(f"not a row id: {value!r}")
        return str(int(value))


# Routes are compiled when built, so the convertor is registered before the route lists.
register_url_convertor("rowid", RowId())


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def limits(settings: Settings) -> visitors.Limits:
    return visitors.Limits(
        text_min=settings.question_min_chars,
        text_max=settings.question_max_chars,
        name_max=settings.name_max_chars,
    )


def url_for(request: Request, name: str, **params: Any) -> str:
    return str(request.app.url_path_for(name, **params))


def verify_public_token(request: Request, form: str, value: str | None) -> security.FormToken:
    """verify_token with the visitor settings (minimum and maximum age)."""
    settings = settings_of(request)
    return security.verify_token(
        settings.secret_bytes,
        value,
        form,
        now(request),
        min_age=settings.token_min_age,
        max_age=settings.token_max_age,
    )


async def check_unused(request: Request, token: security.FormToken) -> None:
    # A cheap early answer for a resubmitted form; the nonce insert in the write
    # transaction is what really guarantees one use.
    if await security.nonce_used(database(request).reader, token.nonce):
        raise TokenError(TokenProblem.USED)


def rate_client(request: Request) -> str:
    return security.client_hash(settings_of(request).secret_bytes, client_address(request), "rate")


# --- lists -----------------------------------------------------------------------------------


async def _topic_param(request: Request) -> tuple[list[Topic], str | None]:
    topics = await list_topics(database(request).reader)
    topic = request.query_params.get("tema") or None
    if topic is not None and topic not in {t.slug for t in topics}:
        raise bad_request("Tema sconosciuto: scegli un tema dall'elenco.")
    return topics, topic


async def questions_GET(request: Request) -> Response:
    sort = request.query_params.get("ordine") or questions.DEFAULT_SORT
    if sort not in questions.SORTS:
        raise bad_request(
            "Ordine sconosciuto: scegli tra più recenti, più condivise, con risposta."
        )
    topics, topic = await _topic_param(request)
    number = page_number(request)
    page = await questions.list_questions(
        database(request).reader, sort=sort, topic=topic, page=number
    )
    if not page.exists:
        raise not_found("Questa pagina delle domande non esiste.")
    return render(
        request,
        "board/list.html",
        {
            "page": page,
            "sort": sort,
            "sorts": questions.SORTS,
            "topic": topic,
            "topics": topics,
            "topic_label": next((t.label for t in topics if t.slug == topic), None),
        },
    )


async def pieces_GET(request: Request) -> Response:
    page = await questions.list_pieces(database(request).reader, page=page_number(request))
    if not page.exists:
        raise not_found("Questa pagina delle pillole non esiste.")
    return render(request, "board/pieces.html", {"page": page})


async def resources_GET(request: Request) -> Response:
    kind = request.query_params.get("tipo") or None
    if kind is not None and kind not in resources.KINDS:
        raise bad_request("Tipo sconosciuto: scegli tra leggere, ascoltare e guardare.")
    topics, topic = await _topic_param(request)
    page = await resources.list_resources(
        database(request).reader, kind=kind, topic=topic, page=page_number(request)
    )
    if not page.exists:
        raise not_found("Questa pagina delle risorse non esiste.")
    return render(
        request,
        "board/resources.html",
        {
            "page": page,
            "kind": kind,
            "kinds": resources.KINDS,
            "topic": topic,
            "topics": topics,
            "topic_labels": {t.slug: t.label for t in topics},
        },
    )


async def log_GET(request: Request) -> Response:
    page = await moderation_log.log_entries(database(request).reader, page=page_number(request))
    if not page.exists:
        raise not_found("Questa pagina del registro non esiste.")
    return render(request, "board/log.html", {"page": page})


# --- one question ----------------------------------------------------------------------------


async def render_question(
    request: Request,
    question: Question,
    *,
    status_code: int = 200,
    vote_notice: str | None = None,
    report_notice: str | None = None,
    report_error: str | None = None,
) -> Response:
    settings = settings_of(request)
    conn = database(request).reader
    voter = security.client_hash(
        settings.secret_bytes, client_address(request), f"vote:{question.id}"
    )
    tokens = Tokens(settings.secret_bytes, now(request))
    return render(
        request,
        "board/question.html",
        {
            "question": question,
            "links": await resources.resources_for_question(conn, question.id),
            "voted": await visitors.has_voted(conn, question.id, voter),
            "vote_token": tokens(f"vote-{question.id}"),
            "report_token": tokens(f"report-{question.id}"),
            "reasons": visitors.REPORT_REASONS,
            "vote_notice": vote_notice,
            "report_notice": report_notice,
            "report_error": report_error,
            "stages": questions.STAGES,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def _public_question(request: Request) -> Question:
    question = await questions.get_public_question(
        database(request).reader, request.path_params["id"]
    )
    if question is None:
        refuse(404, "Questa domanda non esiste o non è pubblicata.")
    return question


async def question_GET(request: Request) -> Response:
    return await render_question(request, await _public_question(request))


async def _question_form_token(
    request: Request, form: Form, form_name: str, notice: str
) -> security.FormToken | Response:
    """The checked token of a form on the question page ("anch'io", "segnala").

    A token the visitor can recover from (too old, too young) gives the question page back
    with ``notice`` saying what happened; any other token problem is refused.
    """
    try:
        token = verify_public_token(request, form_name, form.get(TOKEN_FIELD))
        await check_unused(request, token)
    except TokenError as error:
        if error.problem in RECOVERABLE:
            question = await _public_question(request)
            return await render_question(
                request, question, status_code=403, **{notice: error.message}
            )
        refuse(409 if error.problem is TokenProblem.USED else 403, error.message)
    return token


async def vote_POST(request: Request) -> Response:
    settings = settings_of(request)
    question_id: int = request.path_params["id"]
    form = await read_form(request)
    check_same_origin(request, settings)
    token = await _question_form_token(request, form, f"vote-{question_id}", "vote_notice")
    if isinstance(token, Response):
        return token
    check_honeypot(form)
    await _public_question(request)
    moment = now(request)
    voter = security.client_hash(
        settings.secret_bytes, client_address(request), f"vote:{question_id}"
    )
    try:
        async with database(request).transaction() as conn:
            await security.hit_rate(
                conn, rate_client(request), RateRule("vote", settings.rate_votes_per_hour), moment
            )
            await security.consume_nonce(conn, token, moment, max_age=settings.token_max_age)
            await visitors.add_vote(conn, question_id, voter, moment)
    except RateLimited as limited:
        too_many(limited.retry_after, "Hai detto «anch'io» molte volte in poco tempo.")
    except TokenError as error:
        refuse(409, error.message)
    except visitors.NotPublic:
        refuse(404, "Questa domanda non esiste o non è pubblicata.")
    target = url_for(request, "question", id=question_id) + "#anchio"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


async def report_POST(request: Request) -> Response:
    settings = settings_of(request)
    question_id: int = request.path_params["id"]
    form = await read_form(request)
    check_same_origin(request, settings)
    token = await _question_form_token(request, form, f"report-{question_id}", "report_notice")
    if isinstance(token, Response):
        return token
    check_honeypot(form)
    question = await _public_question(request)
    reason = form.get("motivo") or ""
    if reason not in visitors.REPORT_REASONS:
        return await render_question(
            request,
            question,
            status_code=422,
            report_error="Scegli il motivo della segnalazione dall'elenco.",
        )
    moment = now(request)
    reporter = security.client_hash(
        settings.secret_bytes, client_address(request), f"report:{question_id}"
    )
    try:
        async with database(request).transaction() as conn:
            await security.hit_rate(
                conn,
                rate_client(request),
                RateRule("report", settings.rate_reports_per_hour),
                moment,
            )
            await security.consume_nonce(conn, token, moment, max_age=settings.token_max_age)
            await visitors.add_report(
                conn,
                question_id,
                reporter,
                reason,
                moment,
                threshold=settings.report_threshold,
            )
    except RateLimited as limited:
        too_many(limited.retry_after, "Hai inviato molte segnalazioni in poco tempo.")
    except TokenError as error:
        refuse(409, error.message)
    except visitors.NotPublic:
        refuse(404, "Questa domanda non esiste o non è pubblicata.")
    return RedirectResponse(url_for(request, "report_thanks"), status_code=303, headers=NO_STORE)


async def report_thanks_GET(request: Request) -> Response:
    return render(request, "board/report_thanks.html")


# --- the question form -----------------------------------------------------------------------


async def render_new(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    preview: visitors.QuestionDraft | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    settings = settings_of(request)
    topics = await list_topics(database(request).reader)
    return render(
        request,
        "board/new.html",
        {
            "values": values or {"testo": "", "nome": "", "tema": ""},
            "errors": errors or {},
            "token": token or Tokens(settings.secret_bytes, now(request))(QUESTION_FORM),
            "preview": preview,
            "notice": notice,
            "topics": topics,
            "topic_labels": {t.slug: t.label for t in topics},
            "limits": limits(settings),
            "premoderation": settings.premoderation,
        },
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


async def new_question_GET(request: Request) -> Response:
    topics = await list_topics(database(request).reader)
    topic = request.query_params.get("tema") or ""
    if topic not in {t.slug for t in topics}:
        topic = ""
    return await render_new(request, values={"testo": "", "nome": "", "tema": topic})


async def new_question_POST(request: Request) -> Response:
    settings = settings_of(request)
    form = await read_form(request)
    check_same_origin(request, settings)
    conn = database(request).reader
    topic_slugs = {t.slug for t in await list_topics(conn)}

    def checked() -> tuple[Checked, visitors.QuestionDraft | None]:
        return visitors.validate_question(
            form.get("testo"),
            form.get("nome"),
            form.get("tema"),
            limits=limits(settings),
            topics=topic_slugs,
        )

    submitted = form.get(TOKEN_FIELD)
    try:
        token = verify_public_token(request, QUESTION_FORM, submitted)
        await check_unused(request, token)
    except TokenError as error:
        if error.problem in RECOVERABLE:
            # Keep what the person wrote. A too-young token stays (it ages while they
            # wait); an expired one is replaced.
            kept = submitted if error.problem is TokenProblem.TOO_YOUNG else None
            return await render_new(
                request,
                values=checked()[0].values,
                token=kept,
                notice=error.message,
                status_code=403,
            )
        refuse(409 if error.problem is TokenProblem.USED else 403, error.message)
    check_honeypot(form)
    result, draft = checked()
    if draft is None:
        return await render_new(
            request, values=result.values, errors=result.errors, token=submitted, status_code=422
        )
    if "anteprima" in form:
        return await render_new(request, values=result.values, token=submitted, preview=draft)
    moment = now(request)
    try:
        async with database(request).transaction() as write:
            await security.hit_rate(
                write,
                rate_client(request),
                RateRule("question", settings.rate_questions_per_hour),
                moment,
            )
            await security.consume_nonce(write, token, moment, max_age=settings.token_max_age)
            await visitors.create_question(write, draft, moment, publish=not settings.premoderation)
    except RateLimited as limited:
        wait = limited.retry_after
        return await render_new(
            request,
            values=result.values,
            token=submitted,
            notice="Hai inviato molte domande in poco tempo: la tua domanda non è stata salvata. "
            f"Riprova tra {wait_phrase(wait)}; il testo resta qui.",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    except TokenError as error:
        refuse(409, error.message)
    return RedirectResponse(url_for(request, "question_thanks"), status_code=303, headers=NO_STORE)


async def question_thanks_GET(request: Request) -> Response:
    return render(
        request, "board/thanks.html", {"premoderation": settings_of(request).premoderation}
    )


# --- sitemap ----------------------------------------------------------------------------------


async def sitemap_urls(request: Request) -> list[tuple[str, datetime | None]]:
    # One URL pattern instead of a route look-up per question (as the bulletin's items do):
    # 8,900 questions took 390 ms of url_path_for.
    sentinel = 10**17 + 7
    pattern = settings_of(request).base_url + url_for(request, "question", id=sentinel)
    pattern = pattern.replace(str(sentinel), "{id}")
    published = await questions.published_for_sitemap(database(request).reader)
    return [(pattern.format(id=question_id), updated) for question_id, updated in published]


SITEMAP_PAGES = ["questions", "resources", "pieces"]

routes = [
    Route("/domande", questions_GET, name="questions"),
    Route("/domande/nuova", new_question_GET, name="new_question", methods=["GET"]),
    Route("/domande/nuova", new_question_POST, methods=["POST"]),
    Route("/domande/grazie", question_thanks_GET, name="question_thanks"),
    Route("/domande/segnalazione-ricevuta", report_thanks_GET, name="report_thanks"),
    Route("/domande/{id:rowid}", question_GET, name="question"),
    Route("/domande/{id:rowid}/anchio", vote_POST, name="vote", methods=["POST"]),
    Route("/domande/{id:rowid}/segnala", report_POST, name="report", methods=["POST"]),
    Route("/pillole", pieces_GET, name="pieces"),
    Route("/risorse", resources_GET, name="resources"),
    Route("/moderazione/registro", log_GET, name="moderation_log"),
]
