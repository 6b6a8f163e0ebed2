"""The moderators' resources admin: the list, a new resource, a resource corrected.

Behind the staff guard of web/session.py with the moderatore role, like every moderator
page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb.board import resources
from greenweb.board.topics import list_topics
from greenweb.staff import MODERATORE
from greenweb.web.forms import NO_STORE, refuse
from greenweb.web.params import ROW_ID
from greenweb.web.session import (
    Session,
    admit_staff_form,
    render_staff_page,
    staff_page,
)
from greenweb.web.site import site_of
from greenweb.web.urls import url_for

NO_RESOURCE = "Questa risorsa non esiste."
EMPTY_RESOURCE = {
    "titolo": "",
    "indirizzo": "",
    "tipo": "leggere",
    "fonte": "",
    "lingua": "it",
    "sintesi": "",
    "temi": [],
}


@staff_page(MODERATORE)
async def moderate_resources_GET(request: Request, session: Session) -> Response:
    conn = site_of(request).db.reader
    return render_staff_page(
        request,
        session,
        "moderation/resources.html",
        {"resources": await resources.all_resources(conn)},
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
    return render_staff_page(
        request,
        session,
        "moderation/resource_form.html",
        {
            "resource_id": resource_id,
            "values": values,
            "errors": errors or {},
            "kinds": resources.KINDS,
            "languages": resources.LANGUAGES,
            "topics": await list_topics(site_of(request).db.reader),
        },
        status_code=status_code,
    )


@staff_page(MODERATORE)
async def new_resource_GET(request: Request, session: Session) -> Response:
    return await render_resource_form(
        request, session, resource_id=None, values=dict(EMPTY_RESOURCE)
    )


@staff_page(MODERATORE)
async def edit_resource_GET(request: Request, session: Session) -> Response:
    resource = await resources.get_resource(site_of(request).db.reader, request.path_params["id"])
    if resource is None:
        refuse(404, NO_RESOURCE)
    return await render_resource_form(
        request, session, resource_id=resource.id, values=dict(resources.form_values(resource))
    )


async def _save_resource(request: Request, session: Session, resource_id: int | None) -> Response:
    name = "mod-resource-new" if resource_id is None else f"mod-resource-{resource_id}"
    admitted = await admit_staff_form(request, session, name)
    form = admitted.form
    db = site_of(request).db
    if resource_id is not None and await resources.get_resource(db.reader, resource_id) is None:
        refuse(404, NO_RESOURCE)
    topics = {t.slug for t in await list_topics(db.reader)}
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
    moment = admitted.moment
    moderator = session.staff.name
    async with db.transaction() as conn:
        await admitted.consume(conn)
        if resource_id is None:
            await resources.create_resource(conn, draft, moment, moderator=moderator)
        elif not await resources.update_resource(
            conn, resource_id, draft, moment, moderator=moderator
        ):
            refuse(404, NO_RESOURCE)
    target = url_for(request, "moderate_resources", {"fatto": "risorsa"})
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@staff_page(MODERATORE)
async def new_resource_POST(request: Request, session: Session) -> Response:
    return await _save_resource(request, session, None)


@staff_page(MODERATORE)
async def edit_resource_POST(request: Request, session: Session) -> Response:
    return await _save_resource(request, session, request.path_params["id"])


RESOURCE = f"/moderazione/risorse/{ROW_ID}"

routes = [
    Route("/moderazione/risorse", moderate_resources_GET, name="moderate_resources"),
    Route("/moderazione/risorse/nuova", new_resource_GET, name="new_resource", methods=["GET"]),
    Route("/moderazione/risorse/nuova", new_resource_POST, methods=["POST"]),
    Route(RESOURCE, edit_resource_GET, name="edit_resource", methods=["GET"]),
    Route(RESOURCE, edit_resource_POST, methods=["POST"]),
]
