"""The geometry of the bar chart on ``/impronta``: bytes of each measured row beside a reference.

:func:`bar_chart` turns rows of ``(label, bytes)`` (greenweb's pages today, its e-mails
too when they are measured) and one reference row (the median web page) into horizontal
bars on one linear scale: a bar's width is its share of the largest figure, in percent of
the chart's width, so the chart scales with the column while its rows keep a fixed height
in CSS pixels and its text stays at the page's size (readable at 320 px). The template
draws each bar as a ``<rect>`` and its label as one ``<text>``.

Everything is computed from the figures alone, rounded the same way every time, so the
same measurement always gives the same markup, byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

ROW_HEIGHT: Final = 22  # px: one bar and its label, text of .85rem with room around it
BAR_HEIGHT: Final = 16  # px
BAR_TOP: Final = (ROW_HEIGHT - BAR_HEIGHT) // 2
LABEL_BASELINE: Final = 15  # px below a row's top: the text's middle at the bar's middle
LABEL_GAP: Final = 6  # px between a bar's end (or start) and its label
# A bar this wide (percent) carries its label inside: after it the label would run out of
# the chart. Narrower bars carry it after their end.
LABEL_INSIDE_FROM: Final = 50.0
WIDTH_DECIMALS: Final = 2  # percent to 1/10,000 of the width: under 0.1 px at 46 rem


@dataclass(frozen=True)
class Bar:
    """One bar: its figure and where it and its label go."""

    label: str
    bytes: int
    reference: bool  # the figure every row is compared with
    width: float  # percent of the chart's width
    y: int  # px, the bar's top
    label_inside: bool  # the label is written on the bar, from its start
    label_y: int  # px, the label's baseline

    @property
    def label_x(self) -> float:
        """Percent of the chart's width; the label starts LABEL_GAP px after it."""
        return 0.0 if self.label_inside else self.width


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]  # the reference first, then the rows in the order given
    height: int  # px
    bar_height: int = BAR_HEIGHT
    label_gap: int = LABEL_GAP

    @property
    def rows(self) -> tuple[Bar, ...]:
        """The measured rows, without the reference."""
        return tuple(bar for bar in self.bars if not bar.reference)

    @property
    def lightest(self) -> int | None:
        return min((bar.bytes for bar in self.rows), default=None)

    @property
    def heaviest(self) -> int | None:
        return max((bar.bytes for bar in self.rows), default=None)


def bar_chart(rows: Sequence[tuple[str, int]], reference: tuple[str, int]) -> Chart:
    """The reference on top, then one bar per row, all on the scale of the largest figure."""
    for label, size in (reference, *rows):
        if size < 0:
            raise ValueError(f"a negative size for {label!r}: {size}")
    figures = [(reference[0], reference[1], True), *((label, size, False) for label, size in rows)]
    largest = max(size for _, size, _ in figures)
    bars = []
    for index, (label, size, is_reference) in enumerate(figures):
        width = round(100 * size / largest, WIDTH_DECIMALS) if largest else 0.0
        top = index * ROW_HEIGHT
        bars.append(
            Bar(
                label=label,
                bytes=size,
                reference=is_reference,
                width=width,
                y=top + BAR_TOP,
                label_inside=width >= LABEL_INSIDE_FROM,
                label_y=top + LABEL_BASELINE,
            )
        )
    return Chart(tuple(bars), len(bars) * ROW_HEIGHT)
