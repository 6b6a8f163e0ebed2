"""/redazione/numeri: the editors compose a numero (title, introduction, an ordered choice
of published items), save it as a draft, and publish it, which freezes it.

The choice needs no JavaScript: each candidate item has a checkbox and a place number;
the numero holds the ticked items by place, then in the list's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb.bulletin import numeri, queries
from greenweb.bulletin.items import Item
from greenweb.bulletin.numeri import Numero, NumeroError
from greenweb.newsletter import announce
from greenweb.staff import REDATTORE
from greenweb.web.forms import NO_STORE, Form, refuse
from greenweb.web.params import ROW_ID, existing_page, page_number, small_number
from greenweb.web.session import Session, admit_staff_form, render_staff_page, staff_page
from greenweb.web.site import site_of
from greenweb.web.urls import url_for

NO_NUMERO = "Questo numero non esiste."


@dataclass(frozen=True)
class NumeroForm:
    """What the form says: the title, the introduction, the chosen item ids in order."""

    title: str
    intro: str
    items: list[int]


# How many recent published items the form offers besides the default selection.
CANDIDATES = 40
DONE = {
    "salva": "Bozza del numero salvata.",
    "pubblica": "Numero pubblicato: da ora non cambia più.",
    "elimina": "Bozza del numero eliminata.",
}


@staff_page(REDATTORE)
async def numeri_GET(request: Request, session: Session) -> Response:
    conn = site_of(request).db.reader
    page = existing_page(
        await numeri.list_numeri(conn, page_number(request), published_only=False),
        "dei numeri",
    )
    return render_staff_page(
        request,
        session,
        "newsroom/numeri.html",
        {"page": page, "done": DONE.get(request.query_params.get("fatto", ""))},
    )


async def _candidates(request: Request, chosen: list[int]) -> list[Item]:
    """The items the form offers: the chosen ones first, in order, then recent ones."""
    conn = site_of(request).db.reader
    recent = await queries.latest_items(conn, CANDIDATES)
    default = await numeri.default_selection(conn)
    by_id = {item.id: item for item in [*default, *recent]}
    first = [by_id[i] for i in chosen if i in by_id]
    rest = [item for item in by_id.values() if item.id not in set(chosen)]
    return first + rest


async def render_numero_form(
    request: Request,
    session: Session,
    *,
    numero: Numero | None,
    values: NumeroForm,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    chosen = values.items
    return render_staff_page(
        request,
        session,
        "newsroom/numero_form.html",
        {
            "numero": numero,
            "values": values,
            "errors": errors or {},
            "candidates": await _candidates(request, chosen),
            "places": {item_id: place for place, item_id in enumerate(chosen, start=1)},
            "form_name": "numero-new" if numero is None else f"numero-{numero.number}",
            "done": DONE.get(request.query_params.get("fatto", "")),
        },
        status_code=status_code,
    )


async def _next_number(request: Request) -> int:
    page = await numeri.list_numeri(site_of(request).db.reader, 1, 1, published_only=False)
    return (page.items[0].number if page.items else 0) + 1


@staff_page(REDATTORE)
async def new_numero_GET(request: Request, session: Session) -> Response:
    default = await numeri.default_selection(site_of(request).db.reader)
    values = NumeroForm(f"Numero {await _next_number(request)}", "", [item.id for item in default])
    return await render_numero_form(request, session, numero=None, values=values)


async def _numero_or_404(request: Request) -> Numero:
    numero = await numeri.get_numero(
        site_of(request).db.reader, request.path_params["id"], published_only=False
    )
    if numero is None:
        refuse(404, NO_NUMERO)
    return numero


@staff_page(REDATTORE)
async def numero_GET(request: Request, session: Session) -> Response:
    numero = await _numero_or_404(request)
    values = NumeroForm(
        numero.title,
        numero.intro_markdown,
        [e.item_id for e in numero.entries if e.item_id is not None],
    )
    return await render_numero_form(request, session, numero=numero, values=values)


def _place(text: str | None) -> int:
    place = small_number((text or "").strip(), 4)
    return 10_000 if place is None else place  # no place given (or no number): after the rest


def _chosen_items(form: Form) -> list[int]:
    """The ticked item ids by their place numbers, ties in the form's order."""
    ticked: list[tuple[int, int, int]] = []
    for index, raw in enumerate(form.getlist("voce")):
        item_id = small_number(raw, 18)
        if item_id is None:
            refuse(400, "Il modulo contiene una notizia che non esiste.")
        ticked.append((_place(form.get(f"posto_{item_id}")), index, item_id))
    return [item_id for _, _, item_id in sorted(ticked)]


async def _save(request: Request, session: Session, numero: Numero | None) -> Response:
    name = "numero-new" if numero is None else f"numero-{numero.number}"
    admitted = await admit_staff_form(request, session, name)
    form = admitted.form
    action = form.get("azione") or ""
    allowed = ("salva",) if numero is None else ("salva", "pubblica", "elimina")
    if action not in allowed or (numero is not None and numero.state != "draft"):
        refuse(400, "Azione non possibile per questo numero.")
    values = NumeroForm(
        form.get("title") or "",
        (form.get("intro") or "").replace("\r\n", "\n"),
        _chosen_items(form),
    )
    now = datetime.fromtimestamp(admitted.moment, UTC).replace(microsecond=0)
    try:
        async with site_of(request).db.transaction() as conn:
            await admitted.consume(conn)
            if action == "elimina":
                assert numero is not None
                await numeri.delete_draft(conn, numero.number)
                target = url_for(request, "newsroom_numeri", {"fatto": action})
                return RedirectResponse(target, status_code=303, headers=NO_STORE)
            number = await numeri.save_draft(
                conn,
                number=None if numero is None else numero.number,
                title=values.title,
                intro_markdown=values.intro,
                item_ids=values.items,
                now=now,
            )
            if action == "pubblica":
                await announce.publish_numero(
                    conn, number, now, announce.letterhead_for(site_of(request).settings)
                )
    except NumeroError as error:
        return await render_numero_form(
            request,
            session,
            numero=numero,
            values=values,
            errors={error.field: error.message},
            status_code=422,
        )
    target = url_for(request, "newsroom_numero", {"fatto": action}, id=number)
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@staff_page(REDATTORE)
async def new_numero_POST(request: Request, session: Session) -> Response:
    return await _save(request, session, None)


@staff_page(REDATTORE)
async def numero_POST(request: Request, session: Session) -> Response:
    return await _save(request, session, await _numero_or_404(request))


NUMERO = f"/redazione/numeri/{ROW_ID}"

routes = [
    Route("/redazione/numeri", numeri_GET, name="newsroom_numeri"),
    Route("/redazione/numeri/nuovo", new_numero_GET, name="newsroom_new_numero", methods=["GET"]),
    Route("/redazione/numeri/nuovo", new_numero_POST, methods=["POST"]),
    Route(NUMERO, numero_GET, name="newsroom_numero", methods=["GET"]),
    Route(NUMERO, numero_POST, methods=["POST"]),
]
