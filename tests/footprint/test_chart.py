"""greenweb.footprint.chart: bars on one linear scale, the reference first, fixed rows."""

from __future__ import annotations

import pytest

from greenweb.footprint.chart import BAR_TOP, LABEL_BASELINE, ROW_HEIGHT, bar_chart

MEDIAN = ("Pagina web mediana, desktop", 2_469_888)


def test_bar_widths_are_proportional_to_the_bytes() -> None:
    chart = bar_chart([("a", 1_000), ("b", 2_000), ("c", 500)], ("media", 4_000))
    assert [bar.width for bar in chart.bars] == [100.0, 25.0, 50.0, 12.5]
    assert [bar.bytes for bar in chart.bars] == [4_000, 1_000, 2_000, 500]


def test_the_median_page_comes_first_and_sets_the_scale() -> None:
    chart = bar_chart([("Pagina iniziale", 4_423), ("Impronta", 5_457)], MEDIAN)
    median, home, footprint = chart.bars
    assert (median.label, median.reference, median.width) == (MEDIAN[0], True, 100.0)
    assert not home.reference and not footprint.reference
    # 4,423 of 2,469,888 bytes: 0.179 %, drawn to a hundredth of a percent.
    assert (home.width, footprint.width) == (0.18, 0.22)
    assert chart.rows == (home, footprint)
    assert (chart.lightest, chart.heaviest) == (4_423, 5_457)


def test_a_row_heavier_than_the_reference_sets_the_scale_instead() -> None:
    chart = bar_chart([("pesante", 8_000)], ("media", 2_000))
    assert [bar.width for bar in chart.bars] == [25.0, 100.0]


def test_wide_bars_carry_their_label_inside_and_narrow_ones_after_their_end() -> None:
    chart = bar_chart([("metà", 500), ("poco meno", 499), ("niente", 0)], ("media", 1_000))
    inside = [(bar.label_inside, bar.label_x) for bar in chart.bars]
    assert inside == [(True, 0.0), (True, 0.0), (False, 49.9), (False, 0.0)]


def test_rows_have_a_fixed_height_in_the_order_given() -> None:
    chart = bar_chart([("a", 3), ("b", 2), ("c", 1)], ("media", 10))
    assert [bar.label for bar in chart.bars] == ["media", "a", "b", "c"]
    assert [bar.y for bar in chart.bars] == [n * ROW_HEIGHT + BAR_TOP for n in range(4)]
    assert [bar.label_y for bar in chart.bars] == [
        n * ROW_HEIGHT + LABEL_BASELINE for n in range(4)
    ]
    assert chart.height == 4 * ROW_HEIGHT
    assert 0 <= BAR_TOP and BAR_TOP + chart.bar_height <= ROW_HEIGHT  # a bar stays in its row


def test_an_empty_measurement_draws_the_median_page_alone() -> None:
    chart = bar_chart([], MEDIAN)
    [median] = chart.bars
    assert median.reference and median.width == 100.0
    assert chart.rows == () and chart.height == ROW_HEIGHT
    assert chart.lightest is None and chart.heaviest is None


def test_all_zero_figures_draw_empty_bars_rather_than_divide_by_zero() -> None:
    chart = bar_chart([("vuota", 0)], ("media", 0))
    assert [bar.width for bar in chart.bars] == [0.0, 0.0]


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="negative size for 'rotta'"):
        bar_chart([("rotta", -1)], MEDIAN)


def test_the_same_rows_give_the_same_chart() -> None:
    rows = [("Pagina iniziale", 4_423), ("Bollettino", 5_308), ("Impronta", 5_457)]
    assert bar_chart(rows, MEDIAN) == bar_chart(list(rows), MEDIAN)
