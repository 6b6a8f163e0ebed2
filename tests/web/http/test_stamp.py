"""The footer states the page's own weight over the wire and its grams CO2e, and both
are right for br, gzip and identity responses, kept or not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.footprint import carbon
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
    return stamp.head_size(headers) + len(raw), int(found.group(1)), found.group(3)


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
@pytest.mark.parametrize("cache_bytes", [16_000_000, 0], ids=["cached", "uncached"])
def test_footer_states_the_transfer_size_within_a_few_bytes(
    tmp_path: Path, coding: str, cache_bytes: int
) -> None:
    settings = make_settings(tmp_path, page_cache_bytes=cache_bytes)
    import_seed(settings)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        for path in ("/", "/bollettino", "/scadenze", "/eventi", "/cerca?q=bando"):
            actual, stated, _ = wire_size(client, path, coding)
            # Kept pages are stamped exactly (or 2 bytes off); pages compressed for one
            # visitor take at most two rounds, a few bytes off at most.
            assert abs(actual - stated) <= (2 if cache_bytes else 3), (path, actual, stated)


def test_footer_grams_follow_the_carbon_model(client: TestClient) -> None:
    _, stated, grams = wire_size(client, "/", "br")
    assert grams == carbon.format_grams(carbon.per_visit(stated).total).replace(".", ",")


def test_footer_uses_the_configured_grid_intensity(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, grid_intensity="ITA", green_hosting=True)
    import_seed(settings)
    with TestClient(create_app(settings, today=lambda: SEED_TODAY)) as client:
        _, stated, grams = wire_size(client, "/", "br")
    expected = carbon.per_visit(
        stated, green_hosting=True, grid=carbon.GridIntensity.for_country("ITA")
    ).total
    assert grams == stamp.format_grams_it(expected)


def test_error_pages_are_stamped_too_with_their_own_status_line(client: TestClient) -> None:
    for coding in ("br", "identity"):
        with client.stream(
            "GET", "/bollettino/non-esiste", headers={"Accept-Encoding": coding}
        ) as response:
            raw = b"".join(response.iter_raw())
            head = stamp.head_size(list(response.headers.raw), 404)
        assert response.status_code == 404
        html = compression.decode_body(raw, coding).decode()
        found = WEIGHT.search(html)
        assert found is not None
        assert stamp.MARKER.decode() not in html
        assert abs(head + len(raw) - int(found.group(1))) <= 3


def test_status_lines_are_counted_as_uvicorn_writes_them() -> None:
    assert stamp.status_line_size(200) == len(b"HTTP/1.1 200 OK\r\n")
    assert stamp.status_line_size(404) == len(b"HTTP/1.1 404 Not Found\r\n")


def test_marker_is_filled_exactly_once_and_nothing_else_changes() -> None:
    html = b"<p>a</p><footer><!--weight--></footer><!--weight-->"
    body, stated = stamp.stamp(html, lambda b: b, lambda n: 100 + len(str(n)), stamp.CarbonModel())
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
            lambda n: 250 + len(str(n)),
            stamp.CarbonModel(),
        )
        actual = len(body) + 250 + len(str(len(body)))
        assert abs(actual - stated) <= 2


@pytest.mark.parametrize(
    ("value", "text"), [(999, "1,0 kB"), (3214, "3,2 kB"), (10_240, "10,2 kB"), (49, "0,0 kB")]
)
def test_kilobytes_use_an_italian_decimal_comma(value: int, text: str) -> None:
    assert stamp.format_kb(value) == text


def test_grams_use_four_significant_digits_and_a_comma() -> None:
    assert stamp.format_grams_it(0.00123456) == "0,001235"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("global", carbon.GLOBAL),
        ("", carbon.GLOBAL),
        ("ita", carbon.GridIntensity.for_country("ITA")),
        ("100", carbon.GridIntensity(100.0, 100.0, 100.0)),
    ],
)
def test_grid_setting_is_read_as_global_country_or_number(
    setting: str, expected: carbon.GridIntensity
) -> None:
    assert stamp.grid_from_setting(setting) == expected


def test_unknown_country_is_an_error() -> None:
    with pytest.raises(ValueError, match="no grid intensity"):
        stamp.grid_from_setting("XYZ")
