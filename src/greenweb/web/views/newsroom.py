"""/redazione: the editors' lists and the item form (preview, draft, publish, schedule,
edit, withdraw) and each item's revisions.

Behind the staff session with the *redattore* role, like every newsroom page. The form's
buttons share one field, ``azione``; *Anteprima* saves nothing and shows the item as
visitors will see it above the form.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb.bulletin import newsroom
from greenweb.bulletin.items import KINDS, Item, ItemFacts
from greenweb.bulletin.newsroom import EditorItem, NewsroomError, StaleRevision
from greenweb.italian import ROME
from greenweb.staff import REDATTORE
from greenweb.web.forms import NO_STORE, Form, refuse
from greenweb.web.params import ROW_ID, existing_page, page_number, small_number
from greenweb.web.session import Session, admit_staff_form, render_staff_page, staff_page
from greenweb.web.site import site_of
from greenweb.web.urls import url_for

NO_ITEM = "Questa notizia non esiste."
# ?stato=...: the lists, by the state they show.
LISTS = {
    "bozze": (newsroom.DRAFT, "Bozze"),
    "programmate": (newsroom.SCHEDULED, "Programmate"),
    "pubblicate": (newsroom.PUBLISHED, "Pubblicate"),
    "ritirate": (newsroom.WITHDRAWN, "Ritirate"),
}
STATE_LABELS = {state: label for state, label in LISTS.values()}
BUTTONS = {
    "anteprima": "Anteprima",
    "bozza": "Salva bozza",
    "pubblica": "Pubblica ora",
    "programma": "Programma",
    "modifica": "Salva modifiche",
    "ritira": "Ritira",
}
DONE = {
    "bozza": "Bozza salvata.",
    "programma": "Pubblicazione programmata.",
    "pubblica": "Notizia pubblicata.",
    "modifica": "Modifiche pubblicate.",
    "ritira": "Notizia ritirata: il suo indirizzo risponde 410.",
}


@staff_page(REDATTORE)
async def newsroom_GET(request: Request, session: Session) -> Response:
    conn = site_of(request).db.reader
    chosen = request.query_params.get("stato", "bozze")
    if chosen not in LISTS:
        refuse(400, "Elenco sconosciuto: scegli tra bozze, programmate, pubblicate e ritirate.")
    state, label = LISTS[chosen]
    page = existing_page(
        await newsroom.list_items(conn, state, page_number(request)), "della redazione"
    )
    return render_staff_page(
        request,
        session,
        "newsroom/list.html",
        {
            "page": page,
            "chosen": chosen,
            "label": label,
            "lists": LISTS,
            "counts": await newsroom.state_counts(conn),
            "kinds": KINDS,
        },
    )


def _schedule_values(item: EditorItem | None) -> dict[str, str]:
    if item is None or item.publish_at is None or item.state != newsroom.SCHEDULED:
        return {"publish_day": "", "publish_time": ""}
    local = item.publish_at.astimezone(ROME)
    return {"publish_day": local.date().isoformat(), "publish_time": local.strftime("%H:%M")}


async def render_form(
    request: Request,
    session: Session,
    *,
    item: EditorItem | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    preview: Item | None = None,
    status_code: int = 200,
) -> Response:
    return render_staff_page(
        request,
        session,
        "newsroom/form.html",
        {
            "item": item,
            "values": values,
            "errors": errors or {},
            "notice": notice,
            "preview": preview,
            "kinds": KINDS,
            "actions": ("anteprima", *newsroom.allowed_actions(item)),
            "buttons": BUTTONS,
            "state_labels": STATE_LABELS,
            "form_name": _form_name(item),
            "today": site_of(request).today(),
            "done": DONE.get(request.query_params.get("fatto", "")),
        },
        status_code=status_code,
    )


def _form_name(item: EditorItem | None) -> str:
    return "newsroom-new" if item is None else f"newsroom-{item.id}"


@staff_page(REDATTORE)
async def new_item_GET(request: Request, session: Session) -> Response:
    values = {**newsroom.empty_form(), **_schedule_values(None)}
    return await render_form(request, session, item=None, values=values)


async def _item_or_404(request: Request) -> EditorItem:
    item = await newsroom.get_item(site_of(request).db.reader, request.path_params["id"])
    if item is None:
        refuse(404, NO_ITEM)
    return item


@staff_page(REDATTORE)
async def edit_item_GET(request: Request, session: Session) -> Response:
    item = await _item_or_404(request)
    stored = await newsroom.stored_form(site_of(request).db.reader, item.id)
    if stored is None:
        refuse(
            409,
            "Il testo Markdown di questa notizia non è nel database: esegui `greenweb import` "
            "e riprova.",
        )
    values = {**stored, **_schedule_values(item), "revision": str(item.revision)}
    return await render_form(request, session, item=item, values=values)


def _publish_at(values: dict[str, str]) -> datetime | None:
    """The form's day and time in Rome, as a UTC moment; NewsroomError when malformed."""
    day, clock = values.get("publish_day", "").strip(), values.get("publish_time", "").strip()
    if not day and not clock:
        return None
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        raise NewsroomError(
            "publish_at", "Indica il giorno (2026-12-24) e l'ora (09:30) della pubblicazione."
        ) from None
    return local.replace(tzinfo=ROME).astimezone(UTC)


def _preview(values: dict[str, str], item: EditorItem | None, now: datetime) -> Item:
    """The item as its page would show it; the position plays no part on the page."""
    source = newsroom.check_form(values, position=1)
    facts = {name: getattr(source, name) for name in ItemFacts.__dataclass_fields__}
    return Item(**facts, id=0 if item is None else item.id, updated_at=now)


def _read_values(form: Form) -> dict[str, str]:
    values = newsroom.form_values({name: form.get(name) for name in newsroom.FORM_FIELDS})
    for name in ("publish_day", "publish_time", "revision"):
        values[name] = (form.get(name) or "").strip()
    return values


async def _save(request: Request, session: Session, item: EditorItem | None) -> Response:
    admitted = await admit_staff_form(request, session, _form_name(item))
    form = admitted.form
    action = form.get("azione") or ""
    values = _read_values(form)
    if action not in BUTTONS or (
        action != "anteprima" and action not in newsroom.allowed_actions(item)
    ):
        refuse(400, "Azione sconosciuta per questa notizia.")
    site = site_of(request)
    now = datetime.fromtimestamp(admitted.moment, UTC).replace(microsecond=0)
    # The revision the form was made from; no number is stale for any item.
    expected = small_number(values["revision"], 9)
    try:
        if action == "anteprima":
            preview = _preview(values, item, now)
            return await render_form(request, session, item=item, values=values, preview=preview)
        publish_at = _publish_at(values) if action == "programma" else None
        async with site.db.transaction() as conn:
            await admitted.consume(conn)
            if action == "ritira":
                assert item is not None
                await newsroom.withdraw(
                    conn,
                    item.id,
                    expected_revision=expected or 0,
                    editor=session.staff.name,
                    now=now,
                )
                item_id = item.id
            else:
                item_id = await newsroom.save(
                    conn,
                    item_id=None if item is None else item.id,
                    expected_revision=expected,
                    values=values,
                    action=action,
                    editor=session.staff.name,
                    now=now,
                    publish_at=publish_at,
                )
    except StaleRevision as stale:
        return await render_form(
            request, session, item=item, values=values, notice=stale.message, status_code=409
        )
    except NewsroomError as error:
        errors = {error.field: error.message} if error.field else {}
        return await render_form(
            request,
            session,
            item=item,
            values=values,
            errors=errors,
            notice=None if error.field else error.message,
            status_code=422,
        )
    target = url_for(request, "newsroom_item", {"fatto": action}, id=item_id)
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@staff_page(REDATTORE)
async def new_item_POST(request: Request, session: Session) -> Response:
    return await _save(request, session, None)


@staff_page(REDATTORE)
async def edit_item_POST(request: Request, session: Session) -> Response:
    return await _save(request, session, await _item_or_404(request))


@staff_page(REDATTORE)
async def revisions_GET(request: Request, session: Session) -> Response:
    item = await _item_or_404(request)
    kept = await newsroom.revisions(site_of(request).db.reader, item.id)
    return render_staff_page(
        request,
        session,
        "newsroom/revisions.html",
        {"item": item, "revisions": kept, "state_labels": STATE_LABELS},
    )


ITEM = f"/redazione/{ROW_ID}"

routes = [
    Route("/redazione", newsroom_GET, name="newsroom"),
    Route("/redazione/nuova", new_item_GET, name="newsroom_new", methods=["GET"]),
    Route("/redazione/nuova", new_item_POST, methods=["POST"]),
    Route(ITEM, edit_item_GET, name="newsroom_item", methods=["GET"]),
    Route(ITEM, edit_item_POST, methods=["POST"]),
    Route(f"{ITEM}/revisioni", revisions_GET, name="newsroom_revisions"),
]
