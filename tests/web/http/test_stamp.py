"""The footer states the page's own weight over the wire and its grams CO2e, and both
are right for br, gzip and identity responses, kept or not."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb import italian
from greenweb.footprint import carbon, wire
from greenweb.footprint.carbon import CarbonModel
from greenweb.web.app import create_app
from greenweb.web.http import compression, stamp
from support import SEED_TODAY, import_seed, make_settings

WEIGHT = re.compile(r'Questa pagina: <data value="(\d+)">(\d+,\d) kB</data> · (\d+,\d+) g CO2e')


def wire_size(client: TestClient, path: str, coding: str) -> tuple[int, int, str]:
    """(bytes the response takes on the wire, bytes its footer states, footer grams)."""
    with client.stream("GET", path, headers={"Accept-Encoding": coding}) as response:
        raw = b"".join(response.iter_raw())
        headers = list(response.headers.raw)
    html = compression.decode_body(raw, coding).decode()
    found = WEIGHT.search(html)
    assert found is not None, html[-400:]
    return wire.head_size(headers) + len(raw), int(found.group(1)), found.group(3)


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
@pytest.mark.parametrize("cache_bytes", [16_000_000, 0], ids=["cached", "uncached"])
def test_footer_states_the_transfer_size_exactly(
    tmp_path: Path, coding: str, cache_bytes: int
) -> None:
    settings = make_settings(tmp_path, page_cache_bytes=cache_bytes)
    import_seed(settings)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        for path in ("/", "/bollettino", "/scadenze", "/eventi", "/cerca?q=bando"):
            for _view in ("first", "again"):  # rendered, then (cached) from the store
                actual, stated, _ = wire_size(client, path, coding)
                assert actual == stated, (path, actual, stated)


def test_footer_grams_follow_the_carbon_model(client: TestClient) -> None:
    _, stated, grams = wire_size(client, "/", "br")
    assert grams == italian.format_grams(carbon.per_visit(stated).total)


def test_footer_uses_the_configured_grid_intensity(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, grid_intensity="ITA", green_hosting=True)
    import_seed(settings)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        _, stated, grams = wire_size(client, "/", "br")
    expected = carbon.per_visit(
        stated, green_hosting=True, grid=carbon.GridIntensity.for_country("ITA")
    ).total
    assert grams == italian.format_grams(expected)


def test_error_pages_are_stamped_too_with_their_own_status_line(client: TestClient) -> None:
    for coding in ("br", "identity"):
        with client.stream(
            "GET", "/bollettino/non-esiste", headers={"Accept-Encoding": coding}
        ) as response:
            raw = b"".join(response.iter_raw())
            head = wire.head_size(list(response.headers.raw), 404)
        assert response.status_code == 404
        html = compression.decode_body(raw, coding).decode()
        found = WEIGHT.search(html)
        assert found is not None
        assert stamp.MARKER.decode() not in html
        assert head + len(raw) == int(found.group(1))


def test_marker_is_filled_exactly_once_and_nothing_else_changes() -> None:
    html = b"<p>a</p><footer><!--weight--></footer><!--weight-->"
    body, stated = stamp.stamp(html, lambda b: b, stamp.head_with_length(100), CarbonModel())
    assert body.count(stamp.MARKER) == 1
    assert stated == len(body) + 100 + len(str(len(body)))


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_stamp_is_never_more_than_two_bytes_off(coding: str) -> None:
    page = b"<!doctype html><main>" + b"<p>Bandi e premi aperti a Torino</p>" * 60
    for extra in range(40):
        html = page + b"x" * extra + b"<footer>" + stamp.MARKER + b"</footer>"
        body, stated = stamp.stamp(
            html,
            lambda b: compression.encode_body(b, coding),  # type: ignore[arg-type]
            stamp.head_with_length(250),
            CarbonModel(),
        )
        actual = len(body) + 250 + len(str(len(body)))
        assert abs(actual - stated) <= 2


PAGE = b"<!doctype html><main>" + b"<p>Bandi e premi aperti a Torino</p>" * 60


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
@pytest.mark.parametrize("stored", [True, False], ids=["kept", "for-one-visitor"])
def test_one_pass_stamp_is_exact_for_any_head_and_body_size(coding: str, stored: bool) -> None:
    # Head sizes around the digit changes of the figure (999 -> 1,000, 9,999 -> 10,000 bytes)
    # and bodies of many lengths: the figure always equals the bytes, padding included.
    model = CarbonModel()
    for extra, head in itertools.product(range(0, 60, 7), (180, 900, 940, 9_000, 9_990)):
        html = PAGE + b"x" * extra + b"<footer><p>" + stamp.MARKER + b"</p></footer></html>"
        head_bytes = stamp.head_with_length(head)
        stamped = stamp.stamp_in_one_pass(html, coding, head_bytes, model, stored=stored)
        assert stamped is not None
        body, stated = stamped
        assert stated == len(body) + head + len(str(len(body))), (extra, head)
        text = compression.decode_body(body, coding).decode()
        assert WEIGHT.search(text) is not None and stamp.MARKER.decode() not in text
        assert text.startswith(PAGE.decode()) and text.endswith("</p></footer></html>")


def test_one_pass_stamp_leaves_a_marker_far_from_the_end_to_the_rounds() -> None:
    html = b"<footer>" + stamp.MARKER + b"</footer>" + b"<p>dopo</p>" * 100
    one_pass = stamp.stamp_in_one_pass(html, "br", lambda n: 100, CarbonModel(), stored=True)
    assert one_pass is None


def test_the_figure_is_written_the_italian_way() -> None:
    assert stamp.weight_html(3214, 0.00123456) == (
        'Questa pagina: <data value="3214">3,2 kB</data> · 0,001235 g CO2e'.encode()
    )
