"""The questions as CSV or JSON for the people who write the theatre pieces
(``greenweb questions export``).

The records hold what visitors chose to publish, and nothing about who voted or reported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from greenweb.db import fetch_all

EXPORT_FIELDS = (
    "id",
    "state",
    "topic",
    "created_at",
    "published_at",
    "answered_at",
    "text",
    "original_text",
    "display_name",
    "me_too",
    "answer_md",
    "piece_title",
    "piece_url",
    "piece_text",
    "resources",
)


def _iso(value: int | None) -> str | None:
    return (
        None if value is None else datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


async def export_questions(
    conn: aiosqlite.Connection, states: Sequence[str]
) -> list[dict[str, Any]]:
    """Questions in ``states`` as plain records, oldest first."""
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        "SELECT q.*, (SELECT group_concat(r.url, ' ') FROM (SELECT r.url FROM "
        "question_resources qr JOIN resources r ON r.id = qr.resource_id "
        "WHERE qr.question_id = q.id ORDER BY qr.position) AS r) AS resources "
        f"FROM questions q WHERE q.state IN ({marks}) ORDER BY q.created_at, q.id",
        list(states),
    )
    records = []
    for row in rows:
        record = {name: row[name] for name in EXPORT_FIELDS}
        for name in ("created_at", "published_at", "answered_at"):
            record[name] = _iso(row[name])
        record["resources"] = row["resources"].split(" ") if row["resources"] else []
        records.append(record)
    return records


def to_csv(records: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({**record, "resources": " ".join(record["resources"])})
    return out.getvalue()


def to_json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
