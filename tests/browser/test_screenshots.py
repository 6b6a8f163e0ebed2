"""Screenshots of every page (light/dark x phone/desktop) and a reflow check.

The screenshots land in ``artifacts/screenshots/`` (git-ignored) for people to look at; CI
keeps them as artifacts. They are taken with JavaScript disabled, as visitors see the site.
The reflow check (WCAG 1.4.10) needs to read layout sizes, so it uses a JavaScript-enabled
context that only measures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > width + 1)
    .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
      + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


def test_screenshots_in_both_schemes_on_phone_and_desktop(
    site_page: Any, page_context: Any, visit_page: Any, viewports: dict[str, Any]
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # One visit, four pictures: the page is laid out again for each scheme (media
    # emulation) and size (viewport), as a new context would show it, without the three
    # extra contexts and visits.
    page = page_context(site_page, viewport="phone").new_page()
    response = visit_page(page, site_page)
    assert response.status == site_page.status
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for viewport in ("phone", "desktop"):
            page.set_viewport_size(viewports[viewport])
            path = SCREENSHOTS / f"{site_page.name}-{scheme}-{viewport}.png"
            path.unlink(missing_ok=True)
            page.screenshot(path=path, full_page=True)
            assert path.read_bytes()[:8] == PNG_MAGIC
    page.close()


def test_page_reflows_without_horizontal_scrolling(
    site_page: Any, page_context: Any, visit_page: Any
) -> None:
    """WCAG 1.4.10: content fits 320 CSS pixels wide (and a 390 px phone)."""
    page = page_context(site_page, javascript=True, viewport="phone").new_page()
    visit_page(page, site_page)
    too_wide = {}
    for width in (320, 390):
        page.set_viewport_size({"width": width, "height": 844})
        layout = page.evaluate(OVERFLOW)
        if layout["scroll"] > layout["width"]:
            too_wide[width] = layout["wide"]
    assert not too_wide, f"wider than the viewport: {too_wide}"
