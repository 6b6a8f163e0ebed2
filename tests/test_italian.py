"""Dates, weekdays, deadlines, money, sizes and grams the Italian way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from greenweb.italian import (
    MONTHS,
    ROME,
    WEEKDAYS,
    days_left_phrase,
    format_date,
    format_datetime,
    format_day,
    format_euro,
    format_grams,
    format_int,
    format_kb,
    format_number,
    format_when,
    today_in_rome,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2021, 5, 20), "20 maggio 2021"),
        (date(2021, 9, 3), "3 settembre 2021"),
        (date(2021, 1, 1), "1 gennaio 2021"),
        (date(2020, 2, 29), "29 febbraio 2020"),
        (date(2021, 12, 31), "31 dicembre 2021"),
    ],
)
def test_format_date(value: date, expected: str) -> None:
    assert format_date(value) == expected


def test_every_month_has_its_italian_name() -> None:
    names = [format_date(date(2021, m, 1)).split()[1] for m in range(1, 13)]
    assert names == list(MONTHS)
    assert names[5] == "giugno" and names[7] == "agosto"


def test_weekdays_start_on_monday_with_accents() -> None:
    monday = date(2021, 5, 17)
    days = [format_day(monday + timedelta(days=n)).split()[0] for n in range(7)]
    assert days == ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"]
    assert days == list(WEEKDAYS)


def test_format_day() -> None:
    assert format_day(date(2021, 5, 20)) == "giovedì 20 maggio 2021"
    assert format_day(date(2021, 9, 4)) == "sabato 4 settembre 2021"


def test_format_datetime_of_a_local_time() -> None:
    assert format_datetime(datetime(2021, 5, 20, 17, 0)) == "giovedì 20 maggio 2021, 17:00"
    assert format_datetime(datetime(2021, 5, 18, 9, 5)) == "martedì 18 maggio 2021, 09:05"


def test_format_datetime_converts_aware_times_to_rome() -> None:
    assert format_datetime(datetime(2021, 5, 20, 15, 0, tzinfo=UTC)) == (
        "giovedì 20 maggio 2021, 17:00"  # summer time: UTC+2
    )
    assert format_datetime(datetime(2021, 12, 31, 23, 30, tzinfo=UTC)) == (
        "sabato 1 gennaio 2022, 00:30"  # winter time: UTC+1, and the next day
    )


def test_format_when_shows_a_time_only_when_there_is_one() -> None:
    assert format_when(date(2021, 5, 20)) == "giovedì 20 maggio 2021"
    assert format_when(datetime(2021, 5, 20, 17, 0)) == "giovedì 20 maggio 2021, 17:00"


@pytest.mark.parametrize(
    ("days", "phrase"),
    [
        (-400, "scaduto"),
        (-1, "scaduto"),
        (0, "scade oggi"),
        (1, "scade domani"),
        (2, "mancano 2 giorni"),
        (11, "mancano 11 giorni"),
        (365, "mancano 365 giorni"),
    ],
)
def test_days_left_phrase(days: int, phrase: str) -> None:
    assert days_left_phrase(days) == phrase


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "0 euro"),
        (999, "999 euro"),
        (1500, "1.500 euro"),
        (15000, "15.000 euro"),
        (500000, "500.000 euro"),
        (5_000_000, "5.000.000 euro"),
    ],
)
def test_format_euro_uses_dots_for_thousands(amount: int, expected: str) -> None:
    assert format_euro(amount) == expected


def test_format_int() -> None:
    assert format_int(12345) == "12.345"
    assert format_int(12) == "12"


def test_format_int_rounds_a_fraction_to_a_whole_number() -> None:
    assert format_int(8171.4) == "8.171"
    assert format_int(2412 * 1024 / 4663) == "530"
    assert format_int(2.5) == "2" and format_int(3.5) == "4"  # half to even, as f"{x:.0f}"


@pytest.mark.parametrize(
    ("value", "text"), [(999, "1,0 kB"), (3214, "3,2 kB"), (10_240, "10,2 kB"), (49, "0,0 kB")]
)
def test_kilobytes_use_an_italian_decimal_comma(value: int, text: str) -> None:
    assert format_kb(value) == text


def test_grams_use_four_significant_digits_and_a_comma() -> None:
    assert format_grams(0.00123456) == "0,001235"
    assert format_grams(0.0022) == "0,002200"
    assert format_grams(12.345) == "12,35"


@pytest.mark.parametrize(
    ("value", "text"), [(0.055, "0,055"), (287.75, "287,75"), (494.0, "494"), (0.36, "0,36")]
)
def test_model_constants_are_written_as_they_are_with_a_comma(value: float, text: str) -> None:
    assert format_number(value) == text


def test_today_in_rome_follows_rome_not_utc() -> None:
    # 23:30 UTC on 31 December is already New Year in Rome.
    assert today_in_rome(datetime(2021, 12, 31, 23, 30, tzinfo=UTC)) == date(2022, 1, 1)
    assert today_in_rome(datetime(2021, 6, 30, 21, 59, tzinfo=UTC)) == date(2021, 6, 30)
    assert today_in_rome(datetime(2021, 6, 30, 22, 0, tzinfo=UTC)) == date(2021, 7, 1)
    assert today_in_rome(datetime(2021, 6, 30, 22, 0, tzinfo=ROME)) == date(2021, 6, 30)
