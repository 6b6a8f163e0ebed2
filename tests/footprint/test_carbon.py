"""greenweb.footprint.carbon against CO2.js: every vector CO2.js computed, plus hand-checked facts.

The vectors come from tools/co2js/generate_vectors.mjs (CO2.js's own SWD v4 model).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from greenweb.footprint import carbon
from greenweb.footprint.carbon import (
    GLOBAL,
    CarbonModel,
    GridIntensity,
    Segments,
    format_grams,
    parse_grid,
    per_byte,
    per_visit,
)
from support import make_settings

REPO = Path(__file__).resolve().parents[2]
FIXTURE = json.loads((REPO / "tests" / "fixtures" / "co2js_vectors.json").read_text("utf-8"))
VECTORS: list[dict[str, Any]] = FIXTURE["vectors"]
RATINGS: list[dict[str, Any]] = FIXTURE["ratings"]

# CO2.js result key -> how to read the same figure from a Segments.
SEGMENT_KEYS = {
    "dataCenterOperationalCO2e": lambda s: s.data_center_operational,
    "networkOperationalCO2e": lambda s: s.network_operational,
    "consumerDeviceOperationalCO2e": lambda s: s.device_operational,
    "dataCenterEmbodiedCO2e": lambda s: s.data_center_embodied,
    "networkEmbodiedCO2e": lambda s: s.network_embodied,
    "consumerDeviceEmbodiedCO2e": lambda s: s.device_embodied,
    "totalEmbodiedCO2e": lambda s: s.total_embodied,
    "totalOperationalCO2e": lambda s: s.total_operational,
    "dataCenterCO2e": lambda s: s.data_center,
    "networkCO2e": lambda s: s.network,
    "consumerDeviceCO2e": lambda s: s.device,
    "firstVisitCO2e": lambda s: s.first_visit,
    "returnVisitCO2e": lambda s: s.return_visit,
    "total": lambda s: s.total,
}


def _segment_intensity(value: object) -> float:
    """One segment of CO2.js's gridIntensity option, as greenweb would be given it."""
    if value is None:
        return carbon.GLOBAL_GRID_INTENSITY
    if isinstance(value, dict):
        return carbon.country_intensity(value["country"])
    assert isinstance(value, int | float)
    return float(value)


def _compute(vector: dict[str, Any]) -> Segments:
    """Run greenweb on the inputs CO2.js was given for this vector."""
    options: dict[str, Any] = vector.get("options", {})
    given = options.get("gridIntensity", {})
    grid = GridIntensity(
        device=_segment_intensity(given.get("device")),
        data_center=_segment_intensity(given.get("dataCenter")),
        network=_segment_intensity(given.get("network")),
    )
    common: dict[str, Any] = {
        "green_hosting": vector["green"],
        "grid": grid,
        "green_hosting_factor": options.get("greenHostingFactor", 0.0),
    }
    if vector["method"] in ("perByte", "perByteTrace"):
        return per_byte(vector["bytes"], **common)
    return per_visit(
        vector["bytes"],
        **common,
        first_visit_share=options.get("firstVisitPercentage", 1.0),
        return_visit_share=options.get("returnVisitPercentage", 0.0),
        data_reload_ratio=options.get("dataReloadRatio", 0.0),
    )


def _expected(vector: dict[str, Any]) -> dict[str, Any]:
    """CO2.js's answer as a dict of figures (it answers a bare number in some shapes)."""
    result = vector["result"]
    if vector["method"].endswith("Trace"):
        result = result["co2"]
    if isinstance(result, int | float):
        return {"total": result}
    assert isinstance(result, dict)
    return result


def _four_digits(x: float) -> str:
    return f"{x:.4g}"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_per_byte_and_per_visit_match_co2js_vectors(vector: dict[str, Any]) -> None:
    got = _compute(vector)
    expected = _expected(vector)
    for key, want in expected.items():
        if key == "rating":
            assert carbon.rating(got.total) == want
            assert got.rating == want
            continue
        have = SEGMENT_KEYS[key](got)
        assert have is not None, key
        assert _four_digits(have) == _four_digits(want), key
        assert have == pytest.approx(want, rel=5e-5, abs=1e-300), key


def test_results_are_bit_identical_to_co2js() -> None:
    """Same operations in the same order: not one vector differs in the last bit."""
    mismatches = []
    for vector in VECTORS:
        got = _compute(vector)
        for key, want in _expected(vector).items():
            if key != "rating" and SEGMENT_KEYS[key](got) != want:
                mismatches.append((vector["id"], key))
    assert mismatches == []


def test_vectors_cover_the_cases_asked_for() -> None:
    methods = {v["method"] for v in VECTORS}
    assert methods == {"perByte", "perVisit", "perByteTrace", "perVisitTrace"}
    sizes = {v["bytes"] for v in VECTORS}
    assert {0, 1, 1000, 14600, 10240, 100000, 2412 * 1000, 1e9} <= sizes
    assert any(v["green"] for v in VECTORS) and not all(v["green"] for v in VECTORS)
    assert any(v["segment"] for v in VECTORS) and not all(v["segment"] for v in VECTORS)
    countries = {
        str(segment.get("country", "")).upper()
        for v in VECTORS
        for segment in v.get("options", {}).get("gridIntensity", {}).values()
        if isinstance(segment, dict)
    }
    assert "ITA" in countries
    assert any("dataReloadRatio" in v.get("options", {}) for v in VECTORS)


def test_fixture_comes_from_the_pinned_co2js_release() -> None:
    package = json.loads((REPO / "tools" / "co2js" / "package.json").read_text("utf-8"))
    assert package["dependencies"]["@tgwf/co2"] == FIXTURE["co2js_version"]
    assert carbon.CO2JS_VERSION == FIXTURE["co2js_version"]
    assert FIXTURE["model"] == {"name": "swd", "version": 4}


def test_country_table_is_co2js_average_intensity_data() -> None:
    assert dict(carbon.COUNTRY_GRID_INTENSITY) == FIXTURE["average_intensity"]
    italy = GridIntensity.for_country("ITA")
    assert italy == GridIntensity(287.75, 287.75, 287.75)
    assert GridIntensity.for_country("ita") == italy


def test_vectors_used_the_intensities_greenweb_uses() -> None:
    """CO2.js's trace reports the intensity it applied; greenweb's table must agree."""
    for vector in VECTORS:
        if not vector["method"].endswith("Trace"):
            continue
        applied = vector["result"]["variables"]["gridIntensity"]
        given = vector.get("options", {}).get("gridIntensity", {})
        for segment in ("device", "dataCenter", "network"):
            assert applied[segment]["value"] == _segment_intensity(given.get(segment))


def test_unknown_country_is_an_error() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        GridIntensity.for_country("XYZ")


def test_14600_bytes_is_about_0_0022_g_per_transfer_on_the_global_grid() -> None:
    result = per_byte(14_600)
    # 14600 / 1e9 GB * 0.3 kWh/GB * 494 g/kWh
    assert result.total == pytest.approx(14_600 / 1e9 * 0.3 * 494, rel=1e-12)
    assert result.total == pytest.approx(0.00216372, rel=1e-12)
    assert round(result.total, 4) == 0.0022
    assert format_grams(result.total) == "0.002164"
    assert result.rating == "A+"
    vector = next(
        v for v in VECTORS if v["method"] == "perByte" and v["bytes"] == 14600 and not v["green"]
    )
    assert _expected(vector)["total"] == result.total


def test_green_hosting_removes_only_operational_data_centre_emissions() -> None:
    grey = per_byte(100_000)
    green = per_byte(100_000, green_hosting=True)
    assert green.data_center_attributed < grey.data_center_attributed
    assert green.data_center_attributed == pytest.approx(grey.data_center_embodied)
    assert grey.total - green.total == pytest.approx(grey.data_center_operational)
    assert green.network == grey.network
    assert green.device == grey.device
    # As in CO2.js, the reported segment figures are the gross ones.
    assert green.data_center == grey.data_center
    assert green.total == pytest.approx(green.data_center_attributed + green.network + green.device)


def test_partial_green_hosting_factor_scales_the_saving() -> None:
    grey = per_byte(100_000)
    half = per_byte(100_000, green_hosting_factor=0.5)
    assert grey.total - half.total == pytest.approx(grey.data_center_operational / 2)
    assert per_byte(100_000, green_hosting=True, green_hosting_factor=0.5).total == (
        per_byte(100_000, green_hosting=True).total
    )


def test_custom_grid_changes_operational_but_not_embodied_emissions() -> None:
    italy = per_byte(1_000_000, grid=GridIntensity.for_country("ITA"))
    world = per_byte(1_000_000)
    assert italy.total_embodied == world.total_embodied
    assert italy.total_operational == pytest.approx(world.total_operational * 287.75 / 494)


def test_per_visit_defaults_to_one_first_visit() -> None:
    assert per_visit(2_412_000).total == pytest.approx(per_byte(2_412_000).total)
    visit = per_visit(2_412_000)
    assert visit.first_visit == pytest.approx(visit.total)
    assert visit.return_visit == 0


def test_per_visit_weights_first_and_return_visits() -> None:
    visit = per_visit(
        2_412_000, first_visit_share=0.75, return_visit_share=0.25, data_reload_ratio=0.02
    )
    first = per_byte(2_412_000).total
    assert visit.first_visit == pytest.approx(first)
    assert visit.return_visit == pytest.approx(first * 0.02)
    assert visit.total == pytest.approx(first * 0.75 + first * 0.02 * 0.25)


@pytest.mark.parametrize("size", [0, 0.5, 0.999, -10])
def test_less_than_one_byte_is_zero(size: float) -> None:
    assert per_byte(size).total == 0
    assert per_byte(size).data_center == 0
    assert per_visit(size, first_visit_share=0.5).total == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: per_visit(1000, first_visit_share=1.5),
        lambda: per_visit(1000, return_visit_share=-0.1),
        lambda: per_visit(1000, data_reload_ratio=math.nan),
        lambda: per_byte(1000, green_hosting_factor=2),
        lambda: per_byte(math.inf),
        lambda: GridIntensity(device=-1),
        lambda: GridIntensity(network=math.nan),
    ],
)
def test_invalid_inputs_raise_instead_of_falling_back(call: Any) -> None:
    with pytest.raises(ValueError):
        call()


def test_grid_intensity_defaults_to_the_swd_v4_global_figure() -> None:
    assert GLOBAL == GridIntensity(494, 494, 494)
    assert carbon.GLOBAL_GRID_INTENSITY == 494


def test_model_constants_add_up_to_0_3_kwh_per_gb() -> None:
    assert sum(carbon.OPERATIONAL_KWH_PER_GB.values()) == pytest.approx(0.194)
    assert sum(carbon.EMBODIED_KWH_PER_GB.values()) == pytest.approx(0.106)
    assert sum(carbon.KWH_PER_GB.values()) == pytest.approx(0.3)


@pytest.mark.parametrize("case", RATINGS, ids=[str(r["grams"]) for r in RATINGS])
def test_rating_matches_co2js(case: dict[str, Any]) -> None:
    assert carbon.rating(case["grams"]) == case["rating"]


@pytest.mark.parametrize(
    ("bound", "letter", "next_letter"),
    [
        (0.04, "A+", "A"),
        (0.079, "A", "B"),
        (0.145, "B", "C"),
        (0.209, "C", "D"),
        (0.278, "D", "E"),
        (0.359, "E", "F"),
    ],
)
def test_rating_bounds_are_inclusive(bound: float, letter: str, next_letter: str) -> None:
    assert carbon.rating(bound) == letter
    assert carbon.rating(math.nextafter(bound, math.inf)) == next_letter
    assert carbon.rating(math.nextafter(bound, 0)) == letter


def test_rating_extremes() -> None:
    assert carbon.rating(0) == "A+"
    assert carbon.rating(1e9) == "F"


@pytest.mark.parametrize(
    ("grams", "text"),
    [
        (0.00216372, "0.002164"),
        (0.0022, "0.002200"),
        (1.0, "1.000"),
        (0.35949, "0.3595"),
        (9.99996, "10.00"),
        (123.456, "123.5"),
        (12345.6, "12350"),
        (0, "0"),
        (-0.5, "-0.5000"),
    ],
)
def test_format_grams_gives_four_significant_digits(grams: float, text: str) -> None:
    assert format_grams(grams) == text


# --- the grid setting and the site's model ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "intensity"),
    [
        ("global", "global", 494.0),
        ("", "global", 494.0),
        (" Global ", "global", 494.0),
        ("ita", "ITA", carbon.COUNTRY_GRID_INTENSITY["ITA"]),
        ("300", "300", 300.0),
        ("100", "100", 100.0),
    ],
)
def test_grid_setting_is_read_as_global_country_or_number(
    text: str, label: str, intensity: float
) -> None:
    got_label, grid = parse_grid(text)
    assert got_label == label and grid.network == grid.device == grid.data_center == intensity
    assert grid == (GLOBAL if label == "global" else GridIntensity(intensity, intensity, intensity))


@pytest.mark.parametrize("text", ["mars", "-5", "nan", "inf"])
def test_a_bad_grid_intensity_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_grid(text)


def test_an_unknown_country_is_refused_naming_the_known_ones() -> None:
    known = "DEU, ESP, EU, FRA, GBR, ITA, USA, WORLD"
    with pytest.raises(ValueError, match=f"no grid intensity for 'XYZ'; known: {known}"):
        parse_grid("XYZ")


def test_the_default_model_is_the_global_grid_and_grey_hosting() -> None:
    model = CarbonModel()
    assert (model.grid_label, model.grid, model.green_hosting) == ("global", GLOBAL, False)
    assert model.grams(2_000) == per_visit(2_000).total


def test_the_model_follows_the_grid_and_hosting_settings() -> None:
    model = CarbonModel.from_setting("ita", True)
    assert (model.grid_label, model.grid) == ("ITA", GridIntensity.for_country("ITA"))
    expected = per_visit(5_000, green_hosting=True, grid=GridIntensity.for_country("ITA"))
    assert model.visit(5_000) == expected
    assert model.grams(5_000) == expected.total < CarbonModel().grams(5_000)


def test_the_model_is_built_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, grid_intensity="300", green_hosting=True)
    assert settings.carbon_model == CarbonModel("300", GridIntensity(300.0, 300.0, 300.0), True)
