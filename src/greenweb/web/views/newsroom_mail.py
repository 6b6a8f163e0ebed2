"""/redazione/email: the e-mail bulletin's figures for editors (counts, never addresses)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.newsletter import figures
from greenweb.staff import REDATTORE
from greenweb.web.session import Session, render_staff_page, staff_page
from greenweb.web.site import site_of

STATE_LABELS = {
    "queued": "in coda",
    "sending": "in invio",
    "sent": "inviate",
    "retrying": "da riprovare",
    "bounced": "respinte",
}
CHOICE_LABELS = {"numero": "Ogni numero", "settimanale": "Riepilogo settimanale"}


@staff_page(REDATTORE)
async def mail_GET(request: Request, session: Session) -> Response:
    site = site_of(request)
    return render_staff_page(
        request,
        session,
        "newsroom/mail.html",
        {
            "figures": await figures.figures(site.db.reader, site.settings.carbon_model),
            "mail_enabled": site.settings.mail_enabled,
            "states": STATE_LABELS,
            "choices": CHOICE_LABELS,
        },
    )


routes = [Route("/redazione/email", mail_GET, name="newsroom_mail")]
