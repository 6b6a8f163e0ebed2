"""Dates and numbers the Italian way, in Europe/Rome time.

Every figure a page shows is written here: a dot between thousands (``12.345``), a
decimal comma (``3,2 kB``, ``0,001235 g``).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from greenweb.footprint.carbon import format_grams as plain_grams

ROME = ZoneInfo("Europe/Rome")

MONTHS = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)
WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")


def today_in_rome(now: datetime | None = None) -> date:
    return (now or datetime.now(ROME)).astimezone(ROME).date()


def format_date(value: date) -> str:
    """3 settembre 2021"""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_day(value: date) -> str:
    """giovedì 20 maggio 2021"""
    return f"{WEEKDAYS[value.weekday()]} {format_date(value)}"


def format_datetime(value: datetime) -> str:
    """giovedì 20 maggio 2021, 17:00 (in Rome time)"""
    if value.tzinfo is not None:
        value = value.astimezone(ROME)
    return f"{format_day(value.date())}, {value:%H:%M}"


def format_when(value: date | datetime) -> str:
    """A day, or a day and a time when the value has one."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return format_day(value)


def format_int(value: float) -> str:
    """12.345 (a fraction is rounded to the nearest whole number, half to even)"""
    return f"{round(value):,}".replace(",", ".")


def format_euro(amount: int) -> str:
    """15.000 euro"""
    return format_int(amount) + " euro"


def format_number(value: float) -> str:
    """A constant as written, decimal comma: 0,055; 287,75; 494"""
    return f"{value:g}".replace(".", ",")


def format_kb(size: int) -> str:
    """Decimal kilobytes, one decimal: 3,2 kB"""
    return f"{size / 1000:.1f}".replace(".", ",") + " kB"


def format_grams(grams: float) -> str:
    """Four significant digits, trailing zeros kept: 0,001235; 0,002200; 12,35"""
    return plain_grams(grams).replace(".", ",")


def days_left_phrase(days: int) -> str:
    if days < 0:
        return "scaduto"
    if days == 0:
        return "scade oggi"
    if days == 1:
        return "scade domani"
    return f"mancano {days} giorni"
