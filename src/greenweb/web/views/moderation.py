"""The moderators' queue and what they do to one question: approve, reject, unpublish,
restore, correct the text, answer, mark a theatre piece, merge it into the question it
repeats.

Every page here goes through the staff guard of web/session.py with the moderatore role
(an editor who is not a moderator gets 403; login: views/staff.py;
the resources admin: views/moderation_resources.py). The public log
(/moderazione/registro) lives in views/board.py: it needs no session and is cacheable.
Every action is a POST that changes the question in one transaction, then a 303 to the
page that says what was done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiosqlite
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb.board import counters, duplicates, moderation, moderation_log, questions, resources
from greenweb.board.text import check_text, clean_text
from greenweb.board.voters import VoterKeys
from greenweb.markup import render_markdown
from greenweb.staff import MODERATORE
from greenweb.web.errors import bad_request
from greenweb.web.forms import NO_STORE, Admitted, refuse
from greenweb.web.params import ROW_ID, page_number
from greenweb.web.session import (
    Session,
    admit_staff_form,
    render_staff_page,
    staff_page,
)
from greenweb.web.site import site_of
from greenweb.web.urls import url_for

QUEUE_VIEWS = {
    # ?stato= value: (label, states listed)
    "da-moderare": ("Da moderare", ("ricevuta", "segnalata")),
    "pubblicate": ("Pubblicate", ("pubblicata",)),
    "nascoste": ("Nascoste", ("nascosta",)),
    "respinte": ("Respinte", ("respinta",)),
}
NO_QUESTION = "Questa domanda non esiste."

# --- the queue ------------------------------------------------------------------------------


@staff_page(MODERATORE)
async def queue_GET(request: Request, session: Session) -> Response:
    view = request.query_params.get("stato") or "da-moderare"
    if view not in QUEUE_VIEWS:
        raise bad_request("Elenco sconosciuto.")
    conn = site_of(request).db.reader
    page = await questions.moderation_queue(conn, QUEUE_VIEWS[view][1], page=page_number(request))
    return render_staff_page(
        request,
        session,
        "moderation/queue.html",
        {
            "page": page,
            "view": view,
            "views": QUEUE_VIEWS,
            "counts": await questions.state_counts(conn),
            "preview_joins": await counters.value(conn, counters.PREVIEW_JOINS),
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
        KEPT_FIELD: "",
        MERGE_REASON_FIELD: "",
    }


async def render_question(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    preview_html: str | None = None,
    status_code: int = 200,
) -> Response:
    """The question of the address, ``values`` shown instead of its own where given."""
    question_id: int = request.path_params["id"]
    site = site_of(request)
    conn = site.db.reader
    question = await questions.get_question(conn, question_id)
    if question is None:
        refuse(404, NO_QUESTION)
    linked = [r.id for r in await resources.resources_for_question(conn, question_id)]
    shown = question_values(question, linked)
    shown.update(values or {})
    history = await moderation_log.log_entries(conn, question_id=question_id, per_page=100)
    return render_staff_page(
        request,
        session,
        "moderation/question.html",
        {
            "question": question,
            "values": shown,
            "errors": errors or {},
            "notice": notice,
            "preview_html": preview_html,
            "all_resources": await resources.all_resources(conn),
            "history": history.items,
            "reports": await moderation.report_summary(conn, question_id),
            "limits": site.question_limits,
            "max_answer": moderation.MAX_ANSWER_CHARS,
        },
        status_code=status_code,
    )


@staff_page(MODERATORE)
async def moderate_question_GET(request: Request, session: Session) -> Response:
    return await render_question(request, session)


class Change(Protocol):
    """One change to a question, called as the board's moderation functions are."""

    def __call__(
        self, conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
    ) -> Awaitable[object]: ...


class ReasonedChange(Protocol):
    """A change that the moderator gives a reason for (``moderation.reject``, ...)."""

    def __call__(
        self,
        conn: aiosqlite.Connection,
        question_id: int,
        reason: str,
        now: float,
        *,
        moderator: str,
    ) -> Awaitable[object]: ...


async def apply(
    request: Request,
    session: Session,
    admitted: Admitted,
    change: Change,
    *,
    done: str,
    to_queue: bool = False,
) -> Response:
    """Run one moderation change with the token's nonce, in one transaction, then 303.

    A change that returns False changed nothing: the page then says so ("invariata").
    """
    question_id: int = request.path_params["id"]
    moderator = session.staff.name
    try:
        async with site_of(request).db.transaction() as conn:
            await admitted.consume(conn)
            result = await change(conn, question_id, admitted.moment, moderator=moderator)
    except moderation.ModerationError as error:
        return await render_question(request, session, notice=str(error), status_code=409)
    except LookupError:
        refuse(404, NO_QUESTION)
    query = {"fatto": "invariata" if result is False else done}
    if to_queue:
        target = url_for(request, "moderation", query)
    else:
        target = url_for(request, "moderate_question", query, id=question_id)
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


async def admit_action(request: Request, session: Session, action: str) -> Admitted:
    """The gate for the form of ``action`` on this question (``mod-approva-12``)."""
    form_name = f"mod-{action}-{request.path_params['id']}"
    return await admit_staff_form(request, session, form_name)


Endpoint = Callable[[Request], Awaitable[Response]]


def state_change(action: str, change: Change, *, done: str, to_queue: bool = False) -> Endpoint:
    """The endpoint of a change of state that needs nothing but the form's token."""

    @staff_page(MODERATORE)
    async def endpoint(request: Request, session: Session) -> Response:
        admitted = await admit_action(request, session, action)
        return await apply(request, session, admitted, change, done=done, to_queue=to_queue)

    return endpoint


def reasoned_state_change(
    action: str, change: ReasonedChange, field: str, *, done: str, to_queue: bool = False
) -> Endpoint:
    """The endpoint of a change of state with a reason, read from ``field`` (the form is
    shown again with the problem when the reason is missing or too long)."""

    @staff_page(MODERATORE)
    async def endpoint(request: Request, session: Session) -> Response:
        admitted = await admit_action(request, session, action)
        reason, problem = moderation.check_reason(admitted.form.get(field))
        if problem:
            return await render_question(
                request, session, values={field: reason}, errors={field: problem}, status_code=422
            )

        async def with_reason(
            conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
        ) -> object:
            return await change(conn, question_id, reason, now, moderator=moderator)

        return await apply(request, session, admitted, with_reason, done=done, to_queue=to_queue)

    return endpoint


approve_POST = state_change("approva", moderation.approve, done="approvata", to_queue=True)
restore_POST = state_change("ripristina", moderation.restore, done="ripristinata")
reject_POST = reasoned_state_change(
    "respingi", moderation.reject, "motivo_respingi", done="respinta", to_queue=True
)
unpublish_POST = reasoned_state_change(
    "ritira", moderation.unpublish, "motivo_ritira", done="ritirata"
)


@staff_page(MODERATORE)
async def edit_POST(request: Request, session: Session) -> Response:
    admitted = await admit_action(request, session, "modifica")
    form = admitted.form
    limits = site_of(request).question_limits
    text = clean_text(form.get("testo") or "")
    reason, reason_problem = moderation.check_reason(form.get("motivo_modifica"), required=False)
    errors = {}
    problem = check_text(text, limits.text_min, limits.text_max)
    if problem:
        errors["testo"] = problem
    if reason_problem:
        errors["motivo_modifica"] = reason_problem
    if errors:
        return await render_question(
            request,
            session,
            values={"testo": text, "motivo_modifica": reason},
            errors=errors,
            status_code=422,
        )

    async def edit(
        conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
    ) -> bool:
        return await moderation.edit_text(
            conn, question_id, text, now, moderator=moderator, reason=reason
        )

    return await apply(request, session, admitted, edit, done="modificata")


@staff_page(MODERATORE)
async def answer_POST(request: Request, session: Session) -> Response:
    admitted = await admit_action(request, session, "rispondi")
    form = admitted.form
    markdown, problem = moderation.validate_answer(form.get("risposta"))
    chosen = form.getlist("risorse")
    errors = {}
    if problem:
        errors["risposta"] = problem
    # ASCII digits only: "²".isdigit() is true too, and int("²") raises (once a 500).
    if not all(value.isascii() and value.isdigit() and len(value) < 10 for value in chosen):
        errors["risorse"] = "Scegli le risorse dall'elenco."
        chosen = []
    if errors or "anteprima" in form:
        return await render_question(
            request,
            session,
            values={"risposta": markdown, "risorse": chosen},
            errors=errors,
            preview_html=None if errors else render_markdown(markdown),
            status_code=422 if errors else 200,
        )
    ids = [int(value) for value in chosen]

    async def answer(
        conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
    ) -> None:
        await moderation.answer(conn, question_id, markdown, ids, now, moderator=moderator)

    return await apply(request, session, admitted, answer, done="risposta")


@staff_page(MODERATORE)
async def piece_POST(request: Request, session: Session) -> Response:
    admitted = await admit_action(request, session, "pillola")
    form = admitted.form
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
            request, session, values=values, errors=errors, status_code=422
        )
    marked = piece

    async def mark(
        conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
    ) -> None:
        await moderation.mark_piece(conn, question_id, marked, now, moderator=moderator)

    return await apply(request, session, admitted, mark, done="pillola")


KEPT_FIELD = "doppione_di"
MERGE_REASON_FIELD = "motivo_unisci"


def parse_kept_id(raw: str | None) -> int | None:
    """The kept question's number as typed ("12", "n. 12"); None when it is not one."""
    text = (raw or "").strip().removeprefix("n.").strip()
    # ASCII digits only, no leading zero, within a row id: int() takes "²" and "٣".
    if not (text.isascii() and text.isdigit() and not text.startswith("0") and len(text) < 19):
        return None
    return int(text)


@staff_page(MODERATORE)
async def merge_POST(request: Request, session: Session) -> Response:
    admitted = await admit_action(request, session, "unisci")
    form = admitted.form
    raw_kept = form.get(KEPT_FIELD) or ""
    kept_id = parse_kept_id(raw_kept)
    reason, problem = moderation.check_reason(form.get(MERGE_REASON_FIELD))
    errors = {}
    if kept_id is None:
        errors[KEPT_FIELD] = "Scrivi il numero della domanda pubblicata da tenere, per esempio 12."
    if problem:
        errors[MERGE_REASON_FIELD] = problem
    if errors or kept_id is None:
        return await render_question(
            request,
            session,
            values={KEPT_FIELD: raw_kept[:40], MERGE_REASON_FIELD: reason},
            errors=errors,
            status_code=422,
        )
    keys = VoterKeys(site_of(request).settings.secret_bytes)
    kept = kept_id

    async def merge(
        conn: aiosqlite.Connection, question_id: int, now: float, *, moderator: str
    ) -> None:
        await duplicates.merge(conn, question_id, kept, reason, now, keys=keys, moderator=moderator)

    return await apply(request, session, admitted, merge, done="unita")


Q = f"/moderazione/domande/{ROW_ID}"

routes = [
    Route("/moderazione", queue_GET, name="moderation"),
    Route(Q, moderate_question_GET, name="moderate_question"),
    Route(Q + "/approva", approve_POST, name="approve", methods=["POST"]),
    Route(Q + "/respingi", reject_POST, name="reject", methods=["POST"]),
    Route(Q + "/ritira", unpublish_POST, name="unpublish", methods=["POST"]),
    Route(Q + "/ripristina", restore_POST, name="restore", methods=["POST"]),
    Route(Q + "/modifica", edit_POST, name="edit_question", methods=["POST"]),
    Route(Q + "/rispondi", answer_POST, name="answer", methods=["POST"]),
    Route(Q + "/pillola", piece_POST, name="mark_piece", methods=["POST"]),
    Route(Q + "/unisci", merge_POST, name="merge", methods=["POST"]),
]
