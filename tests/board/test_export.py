"""The board's open data (board/export.py): only published questions, the name only when
given, nothing about voters or reporters; the CSV parses back with its accents."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3

import pytest

from greenweb.board.export import (
    PUBLIC_FIELDS,
    STAFF_FIELDS,
    DataSet,
    content_modified,
    csv_columns,
    export_questions,
    to_csv,
    to_json,
)
from greenweb.board.questions import STATES
from greenweb.config import Settings
from greenweb.db import Database, with_database
from support import board_seed
from support.board import query
from support.open_board import ACCENTED, OpenBoard, open_board


def exported(settings: Settings, states: tuple[str, ...] = ("pubblicata",)) -> DataSet:
    async def run() -> DataSet:
        db = Database(settings.db_path)
        await db.open()
        try:
            return await export_questions(db.reader, states, licence="CC-BY-4.0")
        finally:
            await db.close()

    return asyncio.run(run())


@pytest.fixture
def board(settings: Settings) -> OpenBoard:
    return open_board(settings)


def by_id(data: DataSet) -> dict[int, dict[str, object]]:
    return {int(record["id"]): record for record in data.records}


def test_only_published_questions_are_exported(settings: Settings, board: OpenBoard) -> None:
    data = exported(settings)
    published = {
        row[0] for row in query(settings, "SELECT id FROM questions WHERE state = 'pubblicata'")
    }
    assert set(by_id(data)) == published
    assert not set(board.hidden) & published
    assert board_seed.PENDING_ID not in by_id(data)
    assert board_seed.REJECTED_ID not in by_id(data)
    assert {record["state"] for record in data.records} == {"pubblicata"}


def test_published_records_hold_the_public_fields_only(
    settings: Settings, board: OpenBoard
) -> None:
    data = exported(settings)
    assert list(data.fields) == list(PUBLIC_FIELDS)
    for record in data.records:
        assert list(record) == list(PUBLIC_FIELDS)
    text = to_json(data).decode() + to_csv(data).decode("utf-8-sig")
    for secret in ("seed-1-0", "voter_hash", "original_text", "created_at", "reporter"):
        assert secret not in text


def test_the_name_appears_only_when_the_asker_gave_one(
    settings: Settings, board: OpenBoard
) -> None:
    records = by_id(exported(settings))
    assert records[board.named]["display_name"] == "Sara"
    assert records[board_seed.ANSWERED_ID]["display_name"] == "Giulia"
    assert records[board.accented]["display_name"] == ""
    assert records[board.unanswered]["display_name"] == ""


def test_a_record_has_its_stage_dates_count_answer_sources_and_piece(
    settings: Settings, board: OpenBoard
) -> None:
    records = by_id(exported(settings))
    accented = records[board.accented]
    assert accented["stage"] == "risposta"
    assert accented["topic"] == "energia"
    assert str(accented["answer_md"]).startswith("Perché il clima è **già**")
    assert accented["resources"] == [
        {
            "slug": "ipcc-ar6-sintesi",
            "title": "Sixth Assessment Report cycle – AR6 Synthesis Report: Climate Change 2023",
            "url": "https://www.ipcc.ch/report/sixth-assessment-report-cycle/",
        },
        {
            "slug": "nasa-2023-anno-piu-caldo",
            "title": "2023 Was the Hottest Year on Record",
            "url": "https://svs.gsfc.nasa.gov/14502",
        },
    ]
    piece = records[board_seed.PIECE_ID]
    assert (piece["stage"], piece["me_too"], piece["piece_title"]) == (
        "pillola",
        7,
        "La fermata del 68",
    )
    unanswered = records[board.unanswered]
    assert (unanswered["stage"], unanswered["answered_at"], unanswered["answer_md"]) == (
        "pubblicata",
        None,
        None,
    )
    assert str(unanswered["published_at"]).endswith("Z")


def test_the_csv_has_a_bom_and_parses_back_with_its_accents(
    settings: Settings, board: OpenBoard
) -> None:
    data = exported(settings)
    body = to_csv(data)
    assert body.startswith(b"\xef\xbb\xbf")
    assert ACCENTED.encode("utf-8") in body  # "Perché è già": UTF-8, not Latin-1
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == csv_columns(data.fields)
    accented = next(row for row in rows if row["id"] == str(board.accented))
    assert accented["text"] == ACCENTED
    assert accented["display_name"] == ""
    assert accented["resource_slugs"].split("\n") == [
        "ipcc-ar6-sintesi",
        "nasa-2023-anno-piu-caldo",
    ]
    assert accented["resource_urls"].split("\n")[1] == "https://svs.gsfc.nasa.gov/14502"
    assert len(rows) == len(data.records)


def test_the_json_states_licence_version_fields_and_questions(
    settings: Settings, board: OpenBoard
) -> None:
    document = json.loads(to_json(exported(settings)))
    assert list(document) == ["licence", "licence_url", "version", "fields", "questions"]
    assert document["licence"] == "CC-BY-4.0"
    assert document["licence_url"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert document["version"].endswith("Z")
    assert document["fields"] == dict(PUBLIC_FIELDS)
    assert ACCENTED in {q["text"] for q in document["questions"]}


def test_the_same_data_gives_the_same_bytes(settings: Settings, board: OpenBoard) -> None:
    assert to_json(exported(settings)) == to_json(exported(settings))
    assert to_csv(exported(settings)) == to_csv(exported(settings))


def test_a_staff_export_adds_arrival_and_the_text_as_sent(
    settings: Settings, board: OpenBoard
) -> None:
    data = exported(settings, STATES)
    assert list(data.fields) == [*PUBLIC_FIELDS, *STAFF_FIELDS]
    states = {record["state"] for record in data.records}
    assert states == {"pubblicata", "ricevuta", "respinta", "nascosta", "segnalata"}


def test_the_data_set_is_dated_from_an_index_not_a_scan_of_every_question(
    settings: Settings,
) -> None:
    """content_modified runs on every uncached render of /domande/dati and the e-book."""
    seen: list[str] = []

    async def traced(db: Database) -> None:
        await db.reader.set_trace_callback(seen.append)
        await content_modified(db.reader)
        await db.reader.set_trace_callback(None)

    with_database(settings.db_path, traced)
    (statement,) = [s for s in seen if "updated_at" in s]
    with sqlite3.connect(settings.db_path) as conn:
        steps = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
    assert "SEARCH questions USING INDEX questions_public_updated" in steps, steps
