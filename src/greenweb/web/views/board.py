"""Pages of the question board: lists, a question, the question form, "anch'io" and its
take-back, reports, the resources, the theatre pieces and the public moderation log (the
feeds are in views/board_feeds.py).

Caching: the lists (/domande, /risorse, /pillole, /moderazione/registro) and the thank-you
pages are the same for everyone and carry no form token, so the page cache may keep them;
but the thank-you page that gives the asker their private feed address (``?t=``) is sent
``no-store``. The question page and the question form carry tokens (and the question page
knows whether this visitor already said "anch'io"): they are sent with
``Cache-Control: no-store``. A merged duplicate's page answers 301 to the kept question.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import aiosqlite
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb import changes
from greenweb.board import (
    counters,
    moderation_log,
    questions,
    resources,
    visitors,
)
from greenweb.board.following import follow_token, followed_question
from greenweb.board.questions import Question
from greenweb.board.text import Checked
from greenweb.board.topics import Topic, list_topics
from greenweb.board.voters import Voter, VoterKeys
from greenweb.search import similar_questions
from greenweb.security import RateLimited, RateRule, TokenProblem
from greenweb.web.errors import bad_request
from greenweb.web.forms import (
    NO_STORE,
    Admitted,
    Form,
    Recoverable,
    TokenRules,
    Tokens,
    admit,
    client_address,
    client_hash,
    refuse,
    too_many,
    visitor_write,
    wait_phrase,
)
from greenweb.web.params import ROW_ID, existing_page, page_number
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from greenweb.web.templating import render
from greenweb.web.urls import absolute_url, url_for, url_pattern
from greenweb.web.views.board_feeds import NO_PRIVATE_FEED, PRIVATE

QUESTION_FORM = "question"
NOT_PUBLISHED = "Questa domanda non esiste o non è pubblicata."
NO_VOTE = "Non avevi detto «anch'io» per questa domanda: non è cambiato nulla."
# The "anch'io" forms of the question form's preview say where they come from (``da``).
FROM_PREVIEW = "anteprima"
SIMILAR_SHOWN = 3


# --- lists -----------------------------------------------------------------------------------


async def _topic_param(request: Request) -> tuple[list[Topic], str | None]:
    topics = await list_topics(site_of(request).db.reader)
    topic = request.query_params.get("tema") or None
    if topic is not None and topic not in {t.slug for t in topics}:
        raise bad_request("Tema sconosciuto: scegli un tema dall'elenco.")
    return topics, topic


async def questions_GET(request: Request) -> Response:
    shows(request, changes.QUESTIONS, changes.COUNTS)
    sort = request.query_params.get("ordine") or questions.DEFAULT_SORT
    if sort not in questions.SORTS:
        raise bad_request(
            "Ordine sconosciuto: scegli tra più recenti, più condivise, con risposta."
        )
    topics, topic = await _topic_param(request)
    number = page_number(request)
    page = existing_page(
        await questions.list_questions(
            site_of(request).db.reader, sort=sort, topic=topic, page=number
        ),
        "delle domande",
    )
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
    shows(request, changes.QUESTIONS)
    pieces = await questions.list_pieces(site_of(request).db.reader, page=page_number(request))
    page = existing_page(pieces, "delle pillole")
    return render(request, "board/pieces.html", {"page": page})


async def resources_GET(request: Request) -> Response:
    shows(request, changes.RESOURCES)
    kind = request.query_params.get("tipo") or None
    if kind is not None and kind not in resources.KINDS:
        raise bad_request("Tipo sconosciuto: scegli tra leggere, ascoltare e guardare.")
    topics, topic = await _topic_param(request)
    found = await resources.list_resources(
        site_of(request).db.reader, kind=kind, topic=topic, page=page_number(request)
    )
    page = existing_page(found, "delle risorse")
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
    shows(request, changes.LOG)
    conn = site_of(request).db.reader
    page = existing_page(
        await moderation_log.log_entries(conn, page=page_number(request)), "del registro"
    )
    return render(request, "board/log.html", {"page": page})


def voter_of(request: Request) -> Voter:
    """The person behind the request, as the board's votes know them (board/voters.py)."""
    return VoterKeys(site_of(request).settings.secret_bytes).voter(client_address(request))


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
    # Never kept (a token, and whether this visitor said "anch'io"), declared all the same.
    shows(request, changes.question(question.id))
    conn = site_of(request).db.reader
    voted = await visitors.has_voted(conn, question.id, voter_of(request))
    tokens = Tokens.of(request)
    return render(
        request,
        "board/question.html",
        {
            "question": question,
            "links": await resources.resources_for_question(conn, question.id),
            "voted": voted,
            "vote_token": tokens(f"{'unvote' if voted else 'vote'}-{question.id}"),
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
        site_of(request).db.reader, request.path_params["id"]
    )
    if question is None:
        refuse(404, NOT_PUBLISHED)
    return question


async def question_GET(request: Request) -> Response:
    question = await questions.get_question(site_of(request).db.reader, request.path_params["id"])
    if question is not None and question.duplicate_of is not None:
        # Merged into the question it repeated: for good, so permanently.
        kept = url_for(request, "question", id=question.duplicate_of)
        return RedirectResponse(kept, status_code=301, headers=NO_STORE)
    if question is None or not question.is_public:
        refuse(404, NOT_PUBLISHED)
    return await render_question(request, question)


async def _admit_question_form(
    request: Request, action: str, notice: str
) -> tuple[Admitted, Question] | Response:
    """A form of the question page ("anch'io", "segnala") through the gate, and its question.

    A token the visitor can recover from (too old, too young) gives the question page back
    with ``notice`` saying what happened.
    """
    form_name = f"{action}-{request.path_params['id']}"
    try:
        admitted = await admit(request, TokenRules.visitors(site_of(request).settings), form_name)
    except Recoverable as again:
        question = await _public_question(request)
        return await render_question(
            request, question, status_code=again.status_code, **{notice: again.message}
        )
    return admitted, await _public_question(request)


@asynccontextmanager
async def _question_write(
    request: Request, admitted: Admitted, rule: RateRule, too_often: str
) -> AsyncIterator[aiosqlite.Connection]:
    """:func:`visitor_write` for a question page's form: 429 saying ``too_often`` when the
    rate limit says so, 404 when the question stopped being public meanwhile."""
    try:
        async with visitor_write(request, admitted, rule) as conn:
            yield conn
    except RateLimited as limited:
        too_many(limited.retry_after, too_often)
    except visitors.NotPublic:
        refuse(404, NOT_PUBLISHED)


def _me_too_rule(request: Request) -> RateRule:
    """Saying and taking back "anch'io" share one rate limit."""
    return RateRule("vote", site_of(request).settings.rate_votes_per_hour)


def _back_to_me_too(request: Request, question: Question) -> Response:
    target = url_for(request, "question", id=question.id) + "#anchio"
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


async def vote_POST(request: Request) -> Response:
    checked = await _admit_question_form(request, "vote", "vote_notice")
    if isinstance(checked, Response):
        return checked
    admitted, question = checked
    from_preview = _from_preview(admitted.form)
    too_often = "Hai detto «anch'io» molte volte in poco tempo."
    async with _question_write(request, admitted, _me_too_rule(request), too_often) as conn:
        counted = await visitors.add_vote(conn, question.id, voter_of(request), admitted.moment)
        if counted and from_preview:
            await counters.bump(conn, counters.PREVIEW_JOINS)
    return _back_to_me_too(request, question)


async def unvote_POST(request: Request) -> Response:
    """Take back an "anch'io": the same gate and rate limit as saying it."""
    checked = await _admit_question_form(request, "unvote", "vote_notice")
    if isinstance(checked, Response):
        return checked
    admitted, question = checked
    too_often = "Hai detto o ritirato «anch'io» molte volte in poco tempo."
    async with _question_write(request, admitted, _me_too_rule(request), too_often) as conn:
        voter = voter_of(request)
        if not await visitors.take_back_vote(conn, question.id, voter, admitted.moment):
            # Raised inside the transaction: the token and the rate count roll back too.
            refuse(409, NO_VOTE)
    return _back_to_me_too(request, question)


def _from_preview(form: Form) -> bool:
    """Whether an "anch'io" came from the similar questions of the question form's preview
    (``da=anteprima``); any other ``da`` is refused before anything is written."""
    origin = form.get("da")
    if origin not in (None, "", FROM_PREVIEW):
        refuse(400, "Il modulo «anch'io» indica una provenienza sconosciuta: ricarica la pagina.")
    return origin == FROM_PREVIEW


async def report_POST(request: Request) -> Response:
    checked = await _admit_question_form(request, "report", "report_notice")
    if isinstance(checked, Response):
        return checked
    admitted, question = checked
    reason = admitted.form.get("motivo") or ""
    if reason not in visitors.REPORT_REASONS:
        return await render_question(
            request,
            question,
            status_code=422,
            report_error="Scegli il motivo della segnalazione dall'elenco.",
        )
    settings = site_of(request).settings
    reporter = client_hash(request, f"report:{question.id}")
    rule = RateRule("report", settings.rate_reports_per_hour)
    too_often = "Hai inviato molte segnalazioni in poco tempo."
    async with _question_write(request, admitted, rule, too_often) as conn:
        await visitors.add_report(
            conn,
            question.id,
            reporter,
            reason,
            admitted.moment,
            threshold=settings.report_threshold,
        )
    return RedirectResponse(url_for(request, "report_thanks"), status_code=303, headers=NO_STORE)


async def report_thanks_GET(request: Request) -> Response:
    shows(request)
    return render(request, "board/report_thanks.html")


# --- the question form -----------------------------------------------------------------------


async def render_new(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    token: str | None = None,
    preview: visitors.QuestionDraft | None = None,
    similar: list[SimilarQuestion] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    shows(request)  # the topics (see greenweb.changes) and the settings; never kept anyway
    site = site_of(request)
    topics = await list_topics(site.db.reader)
    return render(
        request,
        "board/new.html",
        {
            "values": values or {"testo": "", "nome": "", "tema": ""},
            "errors": errors or {},
            "token": token or Tokens.of(request)(QUESTION_FORM),
            "preview": preview,
            "similar": similar or [],
            "from_preview": FROM_PREVIEW,
            "notice": notice,
            "topics": topics,
            "topic_labels": {t.slug: t.label for t in topics},
            "limits": site.question_limits,
            "premoderation": site.settings.premoderation,
        },
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
    )


@dataclass(frozen=True)
class SimilarQuestion:
    """A published question like the draft, with this visitor's "anch'io" form for it."""

    question: Question
    vote_token: str
    voted: bool


async def _similar_to(request: Request, draft: visitors.QuestionDraft) -> list[SimilarQuestion]:
    """«Forse è già stata fatta»: the published questions most like the draft."""
    conn = site_of(request).db.reader
    tokens = Tokens.of(request)
    voter = voter_of(request)
    found = await similar_questions(conn, draft.text, limit=SIMILAR_SHOWN)
    return [
        SimilarQuestion(
            question,
            tokens(f"vote-{question.id}"),
            await visitors.has_voted(conn, question.id, voter),
        )
        for question in found
    ]


async def new_question_GET(request: Request) -> Response:
    topics = await list_topics(site_of(request).db.reader)
    topic = request.query_params.get("tema") or ""
    if topic not in {t.slug for t in topics}:
        topic = ""
    return await render_new(request, values={"testo": "", "nome": "", "tema": topic})


async def _check_question(
    request: Request, form: Form
) -> tuple[Checked, visitors.QuestionDraft | None]:
    site = site_of(request)
    return visitors.validate_question(
        form.get("testo"),
        form.get("nome"),
        form.get("tema"),
        limits=site.question_limits,
        topics={t.slug for t in await list_topics(site.db.reader)},
    )


async def new_question_POST(request: Request) -> Response:
    settings = site_of(request).settings
    try:
        admitted = await admit(request, TokenRules.visitors(settings), QUESTION_FORM)
    except Recoverable as again:
        # Keep what the person wrote. A too-young token stays (it ages while they wait);
        # an expired one is replaced.
        kept = again.sent_token if again.problem is TokenProblem.TOO_YOUNG else None
        checked, _ = await _check_question(request, again.form)
        return await render_new(
            request,
            values=checked.values,
            token=kept,
            notice=again.message,
            status_code=again.status_code,
        )
    sent = admitted.sent_token
    result, draft = await _check_question(request, admitted.form)
    if draft is None:
        return await render_new(
            request, values=result.values, errors=result.errors, token=sent, status_code=422
        )
    if "anteprima" in admitted.form:
        similar = await _similar_to(request, draft)
        return await render_new(
            request, values=result.values, token=sent, preview=draft, similar=similar
        )
    rule = RateRule("question", settings.rate_questions_per_hour)
    try:
        async with visitor_write(request, admitted, rule) as conn:
            publish = not settings.premoderation
            question_id = await visitors.create_question(
                conn, draft, admitted.moment, publish=publish
            )
    except RateLimited as limited:
        wait = limited.retry_after
        return await render_new(
            request,
            values=result.values,
            token=sent,
            notice="Hai inviato molte domande in poco tempo: la tua domanda non è stata salvata. "
            f"Riprova tra {wait_phrase(wait)}; il testo resta qui.",
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    # The thank-you page carries the private feed's address: only in this 303's target,
    # which nobody else is sent to, and on a page no cache keeps.
    token = follow_token(settings.secret_bytes, question_id)
    target = url_for(request, "question_thanks", {"t": token})
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


async def question_thanks_GET(request: Request) -> Response:
    shows(request)  # the settings only
    site = site_of(request)
    context: dict[str, object] = {
        "premoderation": site.settings.premoderation,
        "private_feed": None,
    }
    token = request.query_params.get("t")
    if token is None:  # the page without the address: the same for everyone, cacheable
        return render(request, "board/thanks.html", context)
    if followed_question(site.settings.secret_bytes, token) is None:
        refuse(404, NO_PRIVATE_FEED, {"X-Robots-Tag": "noindex"})
    context["private_feed"] = absolute_url(request, "private_feed", token=token)
    return render(request, "board/thanks.html", context, headers=PRIVATE)


# --- sitemap ----------------------------------------------------------------------------------


async def sitemap_urls(request: Request) -> list[tuple[str, datetime | None]]:
    # One URL pattern instead of a route look-up per question (as the bulletin's items do):
    # 8,900 questions took 390 ms of url_path_for.
    shows(request, changes.QUESTIONS)
    pattern = url_pattern(request, "question", "id", 10**17 + 7)
    published = await questions.published_for_sitemap(site_of(request).db.reader)
    return [(pattern.format(id=question_id), updated) for question_id, updated in published]


SITEMAP_PAGES = ["questions", "resources", "pieces"]

routes = [
    Route("/domande", questions_GET, name="questions"),
    Route("/domande/nuova", new_question_GET, name="new_question", methods=["GET"]),
    Route("/domande/nuova", new_question_POST, methods=["POST"]),
    Route("/domande/grazie", question_thanks_GET, name="question_thanks"),
    Route("/domande/segnalazione-ricevuta", report_thanks_GET, name="report_thanks"),
    Route(f"/domande/{ROW_ID}", question_GET, name="question"),
    Route(f"/domande/{ROW_ID}/anchio", vote_POST, name="vote", methods=["POST"]),
    Route(f"/domande/{ROW_ID}/anchio/ritira", unvote_POST, name="unvote", methods=["POST"]),
    Route(f"/domande/{ROW_ID}/segnala", report_POST, name="report", methods=["POST"]),
    Route("/pillole", pieces_GET, name="pieces"),
    Route("/risorse", resources_GET, name="resources"),
    Route("/moderazione/registro", log_GET, name="moderation_log"),
]
