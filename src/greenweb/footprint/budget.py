"""The carbon budget: ``footprint-budget.toml`` and the check of a report against it.

The budget sets maxima (:data:`LIMITS`) for HTML pages (``[page]``), for anything else
(``[resource]``) and per target id (``[routes.<id>]``, over the first two). :func:`check`
lists every limit every page exceeds, and every page that answered with another status
than expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from greenweb.footprint.measure import PageResult, Report
from greenweb.paths import CHECKOUT_DIR, PACKAGE_DIR

BUDGET_FILE_NAME: Final = "footprint-budget.toml"

LIMITS: Final = {
    "transfer_bytes": "bytes of the first view: every response, headers and body as sent",
    "document_br_bytes": "bytes of the document body as served for Accept-Encoding: br",
    "requests": "requests of the first view (document and subresources)",
    "repeat_requests": "requests of a repeat view (subresources cached immutable are free)",
    "js_bytes": "JavaScript bytes (scripts, inline scripts, event attributes)",
    "font_bytes": "web-font bytes",
    "third_party": "references to another host (requests, preconnects)",
    "cookies": "Set-Cookie headers over the first view",
    "dom_elements": "elements in the document",
}
"""Every limit a budget may set (each is a maximum), with what it measures."""

EMAIL_LIMITS: Final = {
    "numero_bytes": "bytes of the newest numero's e-mail as sent, headers included",
}
"""The limits of ``[email]``: the e-mail bulletin's messages."""

EBOOK_LIMITS: Final = {
    "bytes": "bytes of the board's e-book (EPUB) of the measured database",
}
"""The limits of ``[ebook]``: the board's e-book, a download rather than a page."""

_SECTIONS: Final = ("page", "resource")


class BudgetError(ValueError):
    """The budget file is unreadable or holds a key or value greenweb does not know."""


@dataclass(frozen=True)
class Budget:
    """Maxima per class of target: ``page`` (HTML), ``resource`` (anything else), per route."""

    page: dict[str, int]
    resource: dict[str, int]
    routes: dict[str, dict[str, int]]
    source: str = "footprint-budget.toml"
    email: dict[str, int] = field(default_factory=dict)
    ebook: dict[str, int] = field(default_factory=dict)

    def limits_for(self, result: PageResult) -> dict[str, int]:
        base = self.page if result.is_html else self.resource
        return {**base, **self.routes.get(result.id, {})}


def _limits(
    table: object, where: str, source: str, known_limits: dict[str, str] = LIMITS
) -> dict[str, int]:
    if not isinstance(table, dict):
        raise BudgetError(f"{source}: {where}: expected a table")
    limits = {}
    for key, value in table.items():
        if key not in known_limits:
            known = ", ".join(known_limits)
            raise BudgetError(f"{source}: {where}.{key}: unknown key (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BudgetError(f"{source}: {where}.{key}: expected a whole number >= 0")
        limits[key] = value
    return limits


def parse_budget(text: str, source: str = "footprint-budget.toml") -> Budget:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BudgetError(f"{source}: not valid TOML: {error}") from None
    for key in data:
        if key not in ("schema", *_SECTIONS, "routes", "email", "ebook"):
            raise BudgetError(
                f"{source}: {key}: unknown key "
                "(known: schema, page, resource, routes, email, ebook)"
            )
    if data.get("schema") != 1:
        raise BudgetError(f"{source}: schema: expected 1, got {data.get('schema')!r}")
    routes_table = data.get("routes", {})
    if not isinstance(routes_table, dict):
        raise BudgetError(f"{source}: routes: expected a table of route ids")
    return Budget(
        page=_limits(data.get("page", {}), "page", source),
        resource=_limits(data.get("resource", {}), "resource", source),
        routes={
            name: _limits(table, f"routes.{name}", source) for name, table in routes_table.items()
        },
        source=source,
        email=_limits(data.get("email", {}), "email", source, EMAIL_LIMITS),
        ebook=_limits(data.get("ebook", {}), "ebook", source, EBOOK_LIMITS),
    )


def load_budget(path: Path) -> Budget:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise BudgetError(f"{path}: cannot read: {error.strerror or error}") from None
    return parse_budget(text, str(path))


@dataclass(frozen=True)
class Violation:
    page: str
    path: str
    limit: str
    measured: int
    maximum: int

    def __str__(self) -> str:
        if self.limit == "status":
            return f"{self.page} ({self.path}): status {self.measured}, expected {self.maximum}"
        return (
            f"{self.page} ({self.path}): {self.limit} {self.measured:,} > {self.maximum:,} "
            f"(over by {self.measured - self.maximum:,})"
        )


def measured_value(result: PageResult, limit: str) -> int | None:
    """The figure of ``result`` a limit applies to; None when it does not apply."""
    values: dict[str, int | None] = {
        "transfer_bytes": result.first_view.wire_bytes,
        "document_br_bytes": result.document_br_bytes,
        "requests": result.first_view.requests,
        "repeat_requests": result.repeat_view.requests,
        "js_bytes": result.js_bytes,
        "font_bytes": result.font_bytes,
        "third_party": len(result.third_party),
        "cookies": result.cookies,
        "dom_elements": result.dom_elements,
    }
    return values[limit]


def check(report: Report, budget: Budget) -> list[Violation]:
    """Every limit every page exceeds, in page order; empty when all pass."""
    violations = []
    for result in report.pages:
        if result.status != result.target.expected_status:
            violations.append(
                Violation(
                    result.id,
                    result.target.path,
                    "status",
                    result.status,
                    result.target.expected_status,
                )
            )
        for limit, maximum in budget.limits_for(result).items():
            value = measured_value(result, limit)
            if value is not None and value > maximum:
                violations.append(Violation(result.id, result.target.path, limit, value, maximum))
    return violations


def check_email(numero_bytes: int, number: int, budget: Budget) -> Violation | None:
    """The violation of ``[email]`` by numero ``number``'s e-mail of this size, if any."""
    maximum = budget.email.get("numero_bytes")
    if maximum is None or numero_bytes <= maximum:
        return None
    return Violation(f"email-numero-{number}", "e-mail", "numero_bytes", numero_bytes, maximum)


def check_ebook(size: int, budget: Budget) -> Violation | None:
    """The violation of ``[ebook]`` by an e-book of ``size`` bytes, if any."""
    maximum = budget.ebook.get("bytes")
    if maximum is None or size <= maximum:
        return None
    return Violation("ebook", "/domande/ebook.epub", "bytes", size, maximum)


def default_budget_path() -> Path:
    """``footprint-budget.toml``: inside the installed package, or at the checkout's top."""
    inside = PACKAGE_DIR / BUDGET_FILE_NAME
    return inside if inside.is_file() else CHECKOUT_DIR / BUDGET_FILE_NAME
