"""Keyboard only: Tab reaches every control, in order, and focus is always visible.

The Tab walk that counts stops runs with JavaScript disabled, as a visitor browses. Computed
styles can only be read with JavaScript, so a second, JavaScript-enabled context walks the
same page again just to measure each stop's focus indicator; it drives no flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # playwright may be missing: the fixtures then skip (or fail in CI)
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# What the browser puts in the sequential focus order on these pages.
FOCUSABLE = (
    "a[href], area[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), "
    "select:not([disabled]), textarea:not([disabled]), summary, iframe, "
    "[tabindex]:not([tabindex='-1']), [contenteditable='true']"
)

# A negative tabindex takes a control out of the Tab order on purpose: only the honeypot
# may do that (test_only_the_honeypot_is_out_of_the_tab_order).
COUNT_FOCUSABLE = """(selector) => [...document.querySelectorAll(selector)].filter(
    (el) => el.checkVisibility({visibilityProperty: true}) && !el.closest('[inert]')
      && el.tabIndex >= 0
).length"""
OUT_OF_TAB_ORDER = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.tabIndex < 0)
  .map((el) => ({
    name: el.getAttribute('name'), className: el.className,
    ariaHidden: el.getAttribute('aria-hidden'),
  }))"""

# Reads the focused element's indicator: outline or box-shadow, its width, and the contrast
# of the outline colour against the background the outline is drawn on (WCAG 1.4.11: 3:1).
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const opaque = (c) => { const v = rgb(c); return v.length === 3 || v[3] > 0; };
  let back = 'rgb(255, 255, 255)';
  for (let node = el.parentElement; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (opaque(bg)) { back = bg; break; }
  }
  const lum = (c) => {
    const [r, g, b] = rgb(c).slice(0, 3).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(style.outlineColor), lum(back)].sort((a, b) => b - a);
  const box = el.getBoundingClientRect();
  return {
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth),
    boxShadow: style.boxShadow,
    contrast: (hi + 0.05) / (lo + 0.05),
    inViewport: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
  };
}"""


@dataclass(frozen=True)
class Stop:
    """A focused element, described the same way in both contexts (no page script)."""

    aria: str
    href: str | None
    id: str | None

    def __str__(self) -> str:
        name = self.aria.splitlines()[0].removeprefix("- ").rstrip(":")
        return f"{name} (href={self.href}, id={self.id})"


def focused(page: Page) -> Stop | None:
    current = page.locator(":focus")
    if current.count() == 0:
        return None
    return Stop(current.aria_snapshot(), current.get_attribute("href"), current.get_attribute("id"))


def tab_walk(
    page: Page, limit: int, at_each_stop: Callable[[Stop], object] | None = None
) -> list[Stop]:
    """Press Tab from the top until focus leaves the page or comes back round (bounded);
    ``at_each_stop`` is called while each stop has the focus."""
    stops: list[Stop] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = focused(page)
        if stop is None or (stops and stop == stops[0]):
            break
        stops.append(stop)
        if at_each_stop is not None:
            at_each_stop(stop)
    return stops


def measured_page(keyboard_page: Any, page_context: Any, visit_page: Any) -> tuple[Page, int]:
    """The page in a JavaScript-enabled context, for measuring, and how many controls it
    puts in the Tab order."""
    page = page_context(keyboard_page, javascript=True).new_page()
    visit_page(page, keyboard_page)
    return page, page.evaluate(COUNT_FOCUSABLE, FOCUSABLE)


def test_tab_reaches_every_control_with_javascript_disabled(
    keyboard_page: Any, page_context: Any, visit_page: Any
) -> None:
    _, expected = measured_page(keyboard_page, page_context, visit_page)
    assert expected > 0

    visitor = page_context(keyboard_page).new_page()
    visit_page(visitor, keyboard_page)
    stops = tab_walk(visitor, limit=expected + 5)
    listing = "\n".join(f"  {n}. {stop}" for n, stop in enumerate(stops, 1))
    assert len(stops) == expected, f"{expected} focusable elements, Tab reached:\n{listing}"
    assert len(set(stops)) == len(stops), f"a control was reached twice:\n{listing}"
    # The order follows the reading order: skip link, brand, sections ... footer.
    assert stops[0].href == "#main"
    assert stops[-1].aria.startswith("- link"), "the footer links come last"


def focus_problems(stop: Stop, style: dict[str, Any], scheme: str) -> list[str]:
    """What is wrong with the focus indicator of ``stop`` (WCAG 2.4.7, 1.4.11)."""
    outline = style["outlineStyle"] != "none" and style["outlineWidth"] >= 2
    shadow = style["boxShadow"] != "none"
    if not (outline or shadow):
        return [f"{stop} ({scheme}): no outline and no box-shadow ({style})"]
    problems = []
    if outline and not shadow and style["contrast"] < 3:
        problems.append(f"{stop} ({scheme}): outline contrast {style['contrast']:.2f} < 3")
    if not style["inViewport"]:
        problems.append(f"{stop} ({scheme}): focused but outside the viewport ({style})")
    return problems


def test_every_tab_stop_shows_a_visible_focus_indicator_in_both_schemes(
    keyboard_page: Any, page_context: Any, visit_page: Any
) -> None:
    page, expected = measured_page(keyboard_page, page_context, visit_page)
    problems: list[str] = []

    def measure(stop: Stop) -> None:
        # Each stop as each scheme draws it: media emulation restyles the page and keeps
        # the focus where it is.
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            problems.extend(focus_problems(stop, page.evaluate(FOCUS_STYLE), scheme))

    stops = tab_walk(page, expected + 5, measure)
    assert len(stops) >= expected
    assert not problems, "\n".join(problems)


def test_only_the_honeypot_is_out_of_the_tab_order(
    keyboard_page: Any, page_context: Any, visit_page: Any
) -> None:
    page = page_context(keyboard_page, javascript=True).new_page()
    visit_page(page, keyboard_page)
    for control in page.evaluate(OUT_OF_TAB_ORDER, FOCUSABLE):
        assert control == {"name": "sito_web", "className": "hp", "ariaHidden": "true"}


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    keyboard_page: Any, page_context: Any, visit_page: Any
) -> None:
    page = page_context(keyboard_page).new_page()
    visit_page(page, keyboard_page)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Salta al contenuto"
    assert skip.get_attribute("href") == "#main"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "skip link hidden when focused"

    page.keyboard.press("Enter")
    # The fragment navigation is reported asynchronously: wait for it (bounded), do not race.
    page.wait_for_url(lambda url: url.endswith("#main"))
    # The next Tab continues from the start of <main>, past the header's links and search.
    page.keyboard.press("Tab")
    assert page.locator("main :focus").count() == 1, f"focus went to {focused(page)}"
