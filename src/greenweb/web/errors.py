"""Italian error pages, and the exceptions views raise to reach them."""

from __future__ import annotations

import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from greenweb.web.site import installed_site
from greenweb.web.templating import render

logger = logging.getLogger("greenweb")

TITLES = {
    400: "Richiesta non valida",
    403: "Accesso negato",
    404: "Pagina non trovata",
    405: "Metodo non consentito",
    410: "Contenuto ritirato",
    413: "Richiesta troppo grande",
    414: "Indirizzo troppo lungo",
    422: "Dati non validi",
    429: "Troppe richieste",
    500: "Errore del server",
}
MESSAGES = {
    400: "La richiesta contiene un valore che non possiamo usare.",
    403: "Non è possibile completare questa richiesta.",
    404: "La pagina che cerchi non esiste o è stata spostata.",
    405: "Questa pagina non accetta questo tipo di richiesta.",
    410: "Questo contenuto è stato ritirato dalla redazione e non è più pubblicato.",
    413: "I dati inviati sono troppo grandi.",
    414: "L'indirizzo della pagina è troppo lungo.",
    429: "Hai fatto troppe richieste in poco tempo.",
    500: "Qualcosa è andato storto da parte nostra. Riprova tra qualche minuto.",
}


def bad_request(detail: str) -> HTTPException:
    """A 400 whose detail (Italian) is shown to the reader."""
    return HTTPException(400, detail)


def not_found(detail: str | None = None) -> HTTPException:
    return HTTPException(404, detail or MESSAGES[404])


def gone(detail: str | None = None) -> HTTPException:
    """A 410: the address had content that was withdrawn on purpose (RFC 9110 §15.5.11)."""
    return HTTPException(410, detail or MESSAGES[410])


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    headers = {}
    if status == 405:
        headers["Allow"] = "GET, HEAD, POST"
    message = detail if detail and detail != _default_detail(status) else MESSAGES.get(status)
    if installed_site(request.app) is None:
        return PlainTextResponse(message or "", status_code=status, headers=headers)
    return render(
        request,
        "error.html",
        {"status": status, "title": TITLES.get(status, "Errore"), "message": message},
        status_code=status,
        headers=headers,
    )


def _default_detail(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error_page(request, exc.status_code, exc.detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)
