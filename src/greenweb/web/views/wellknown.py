"""``/.well-known/security.txt`` (RFC 9116): where to report a vulnerability.

The file is built once when the app starts, with ``Expires`` one year after that day:
a site left running unmaintained for a year stops vouching for a contact nobody may read
any more. Without ``GREENWEB_SECURITY_CONTACT`` the address answers 404: a file without
a contact would only tell a reporter there is nowhere to report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from greenweb.web.errors import not_found
from greenweb.web.shows import shows
from greenweb.web.site import site_of

SECURITY_TXT_PATH = "/.well-known/security.txt"
LIFETIME = timedelta(days=365)


def security_txt(contact: str, canonical: str, started: datetime) -> str:
    expires = (started.astimezone(UTC) + LIFETIME).replace(microsecond=0)
    return (
        f"Contact: {contact}\n"
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        "Preferred-Languages: it, en\n"
        f"Canonical: {canonical}\n"
    )


def security_txt_body(base_url: str, contact: str, started: datetime) -> bytes | None:
    """The file's bytes, or None when no contact is configured."""
    if not contact:
        return None
    return security_txt(contact, base_url + SECURITY_TXT_PATH, started).encode("utf-8")


async def security_txt_GET(request: Request) -> Response:
    shows(request)  # built at start-up
    body = site_of(request).security_txt
    if body is None:
        raise not_found()
    return Response(body, media_type="text/plain; charset=utf-8")


routes = [Route(SECURITY_TXT_PATH, security_txt_GET, name="security_txt")]
