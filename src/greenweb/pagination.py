"""Numbered pages of a list, shared by the bulletin and the question board."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# Far past any real list: a page number this large is a typo or a probe, not a reader.
MAX_PAGE = 100_000


class PageNumberError(ValueError):
    """A ``page`` parameter that is not a whole number from 1 to MAX_PAGE."""


def parse_page(raw: str | None) -> int:
    if raw is None or raw == "":
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise PageNumberError(raw)
    number = int(raw)
    if not 1 <= number <= MAX_PAGE:
        raise PageNumberError(raw)
    return number


def offset_for(number: int, per_page: int) -> int:
    """How many items come before page ``number``."""
    return (number - 1) * per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def offset(self) -> int:
        return offset_for(self.number, self.per_page)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def exists(self) -> bool:
        """Page 1 always exists (maybe empty); later pages only when they hold items."""
        return self.number == 1 or self.number <= self.pages
