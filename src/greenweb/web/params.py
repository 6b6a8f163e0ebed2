"""What addresses carry: the row id in a path, and the page number every list shares.

Each is parsed once here and refused when malformed (a 404 for a path that does not match,
a 400 for a bad query value), so views get plain ints.
"""

from __future__ import annotations

from typing import Final, TypeVar

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request

from greenweb.pagination import Page, PageNumberError, parse_page
from greenweb.web.errors import bad_request, not_found

T = TypeVar("T")


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


# Routes are compiled when built, so the convertor is registered before any route list:
# view modules write their paths with ROW_ID, which makes them import this module first.
register_url_convertor("rowid", RowId())
ROW_ID: Final = "{id:rowid}"


def small_number(text: str | None, max_digits: int) -> int | None:
    """A form's whole number of at most ``max_digits`` ASCII digits; None for anything else
    (int() would also take "١٢", "1_000" and strings of thousands of digits)."""
    if text is not None and text.isascii() and text.isdigit() and len(text) <= max_digits:
        return int(text)
    return None


def page_number(request: Request) -> int:
    """``?page=``: 1 when absent, else a positive whole number (400 otherwise)."""
    try:
        return parse_page(request.query_params.get("page"))
    except PageNumberError:
        raise bad_request("Il numero di pagina deve essere un numero intero positivo.") from None


def existing_page(page: Page[T], of_what: str) -> Page[T]:
    """``page`` when it exists; else a 404 saying "Questa pagina {of_what} non esiste."
    (page 1 of an empty list exists: it says the list is empty)."""
    if not page.exists:
        raise not_found(f"Questa pagina {of_what} non esiste.")
    return page
