"""/scadenze and /eventi paginate across their two runs; the calendar stays bounded."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from greenweb.web.app import create_app
from support import import_seed, make_settings
from support.factory import write_item

TODAY = date(2030, 6, 15)


def dated_client(tmp_path: Path, open_count: int, closed_count: int) -> TestClient:
    """Items with deadlines: ``open_count`` after TODAY, ``closed_count`` before it; and as
    many events, coming and past."""
    folder = tmp_path / "dated"
    days = [("aperto", "prossimo", i) for i in range(open_count)]
    days += [("chiuso", "passato", -(i + 1)) for i in range(closed_count)]
    for n, (call_word, event_word, offset) in enumerate(days):
        day = TODAY + timedelta(days=offset)
        number = abs(offset) - 1 if offset < 0 else offset
        call_kind = "bando" if offset >= 0 else "premio"
        write_item(
            folder,
            f"{2 * n + 1:03d}.md",
            slug=f"{call_word}-{number:03d}",
            kind=call_kind,
            position=2 * n + 1,
            deadline=day,
        )
        write_item(
            folder,
            f"{2 * n + 2:03d}.md",
            slug=f"{event_word}-{number:03d}",
            kind="evento",
            position=2 * n + 2,
            starts=datetime.combine(day, datetime.min.time()),
        )
    settings = make_settings(tmp_path)
    import_seed(settings, folder)
    return TestClient(create_app(settings, today=lambda: TODAY))


def slugs(items: list[object]) -> list[str]:
    return [item.slug for item in items]  # type: ignore[attr-defined]


def test_deadlines_page_one_lists_open_calls_first_then_closed(tmp_path: Path) -> None:
    with dated_client(tmp_path, open_count=15, closed_count=30) as client:
        first = client.get("/scadenze")
        assert first.status_code == 200
        assert slugs(first.context["open_calls"]) == [f"aperto-{i:03d}" for i in range(15)]
        assert slugs(first.context["closed_calls"]) == [f"chiuso-{i:03d}" for i in range(5)]
        assert '<a rel="next" href="/scadenze?page=2">' in first.text


def test_deadlines_later_pages_continue_the_closed_run(tmp_path: Path) -> None:
    with dated_client(tmp_path, open_count=15, closed_count=30) as client:
        second = client.get("/scadenze?page=2")
        assert second.context["open_calls"] == []
        assert slugs(second.context["closed_calls"]) == [f"chiuso-{i:03d}" for i in range(5, 25)]
        assert "Aperte" not in second.text
        third = client.get("/scadenze?page=3")
        assert slugs(third.context["closed_calls"]) == [f"chiuso-{i:03d}" for i in range(25, 30)]
        assert client.get("/scadenze?page=4").status_code == 404


def test_events_paginate_upcoming_then_past(tmp_path: Path) -> None:
    with dated_client(tmp_path, open_count=25, closed_count=3) as client:
        first = client.get("/eventi")
        assert slugs(first.context["upcoming"]) == [f"prossimo-{i:03d}" for i in range(20)]
        assert first.context["past"] == []
        second = client.get("/eventi?page=2")
        assert slugs(second.context["upcoming"]) == [f"prossimo-{i:03d}" for i in range(20, 25)]
        assert slugs(second.context["past"]) == ["passato-000", "passato-001", "passato-002"]
        assert client.get("/eventi?page=abc").status_code == 400


def test_the_calendar_holds_at_most_the_200_most_recent_dates(tmp_path: Path) -> None:
    with dated_client(tmp_path, open_count=60, closed_count=60) as client:
        body = client.get("/calendario.ics").text
    # 240 dated items; 200 kept, newest first: every upcoming one and the latest past ones.
    assert body.count("BEGIN:VEVENT") == 200
    assert "UID:aperto-059-scadenza@" in body
    assert "UID:prossimo-059-evento@" in body
    assert "UID:chiuso-059-scadenza@" not in body
