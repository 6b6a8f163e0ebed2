"""The questions as open data, CSV or JSON: ``/domande/dati.csv``, ``/domande/dati.json`` and
``greenweb questions export`` (the people who write the theatre pieces).

One exporter for both: the published questions with the fields of :data:`PUBLIC_FIELDS`,
which hold what visitors chose to publish and nothing about who voted or reported (no
hash, no address, the name only when the asker gave one). The command's default output is
byte for byte the web's files; asked for other states (staff only: the command line) it
adds :data:`STAFF_FIELDS`, the text as sent and when it arrived.

The JSON is one object: the licence, the version (the newest change of what it holds, not
the clock, so the same data gives the same bytes in every worker), what each field means,
and the questions. The CSV is a plain table (UTF-8 with a byte order mark, which
LibreOffice and Excel need to read the accents); its licence travels beside it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import aiosqlite

from greenweb.db import fetch_all, fetch_value

PUBLISHED: Final = ("pubblicata",)

# Field -> what it holds, in Italian: the open-data page and the JSON's "fields" say so.
PUBLIC_FIELDS: Final[Mapping[str, str]] = {
    "id": "Numero della domanda: la sua pagina è /domande/ID.",
    "state": "Stato: sempre «pubblicata» (nei dati aperti non c'è altro).",
    "stage": "A che punto è: «pubblicata», «risposta» (ha una risposta) o «pillola» "
    "(è diventata una pillola teatrale).",
    "topic": "Tema (lo slug di un tema, per esempio «clima»); vuoto se non ne ha.",
    "published_at": "Quando è stata pubblicata (UTC, ISO 8601).",
    "answered_at": "Quando ha ricevuto la prima risposta (UTC, ISO 8601); vuoto se non ne ha.",
    "updated_at": "L'ultima modifica visibile al pubblico (UTC, ISO 8601).",
    "text": "Il testo della domanda, come pubblicato.",
    "display_name": "Il nome che ha dato chi ha chiesto; vuoto se non l'ha dato.",
    "me_too": "Quante persone hanno detto «anch'io».",
    "answer_md": "La risposta, in Markdown (CommonMark); vuoto se non c'è ancora.",
    "piece_title": "Titolo della pillola teatrale; vuoto se non lo è diventata.",
    "piece_url": "Indirizzo della pillola teatrale, se c'è.",
    "piece_text": "Testo della pillola teatrale, se c'è.",
    "resources": "Le fonti della risposta, in ordine: slug, titolo e indirizzo di ciascuna "
    "(nel CSV le colonne resource_slugs, resource_titles e resource_urls, una fonte per riga).",
}
STAFF_FIELDS: Final[Mapping[str, str]] = {
    "created_at": "Quando è arrivata (UTC, ISO 8601).",
    "original_text": "Il testo come è arrivato, se la moderazione l'ha corretto.",
}
# The CSV's columns for the list of resources: one cell each, one resource per line.
RESOURCE_COLUMNS: Final = {
    "resource_slugs": "slug",
    "resource_titles": "title",
    "resource_urls": "url",
}
_NULLABLE_TEXT: Final = ("topic", "display_name")
_TIMES: Final = ("created_at", "published_at", "answered_at", "updated_at")


@dataclass(frozen=True)
class DataSet:
    """Questions as records, with what describes them."""

    records: list[dict[str, Any]]
    fields: Mapping[str, str]
    version: str  # ISO 8601, the newest change of what the records show
    licence: str  # an SPDX id


def iso(value: int | None) -> str | None:
    return (
        None if value is None else datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _stage(row: Mapping[str, Any]) -> str:
    if row["piece_at"] is not None:
        return "pillola"
    return "risposta" if row["answered_at"] is not None else "pubblicata"


async def content_modified(conn: aiosqlite.Connection) -> int:
    """Unix time of the newest public change of the board's content: a question published,
    edited, answered, withdrawn, or a resource changed. 0 on an empty board."""
    newest = await fetch_value(
        conn,
        "SELECT max(coalesce((SELECT max(updated_at) FROM questions "
        "WHERE published_at IS NOT NULL), 0), "
        "coalesce((SELECT max(updated_at) FROM resources), 0))",
    )
    return int(newest or 0)


async def _linked_resources(
    conn: aiosqlite.Connection, states: Sequence[str]
) -> dict[int, list[dict[str, str]]]:
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        "SELECT qr.question_id, r.slug, r.title, r.url FROM question_resources qr "
        "JOIN resources r ON r.id = qr.resource_id JOIN questions q ON q.id = qr.question_id "
        f"WHERE q.state IN ({marks}) ORDER BY qr.question_id, qr.position",
        list(states),
    )
    linked: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        linked.setdefault(row["question_id"], []).append(
            {"slug": row["slug"], "title": row["title"], "url": row["url"]}
        )
    return linked


async def export_questions(
    conn: aiosqlite.Connection, states: Sequence[str] = PUBLISHED, *, licence: str
) -> DataSet:
    """Questions in ``states`` as plain records, oldest first: :data:`PUBLIC_FIELDS`, and
    :data:`STAFF_FIELDS` too unless only published questions are asked for."""
    fields = dict(PUBLIC_FIELDS)
    if tuple(states) != PUBLISHED:
        fields.update(STAFF_FIELDS)
    marks = ", ".join("?" for _ in states)
    rows = await fetch_all(
        conn,
        f"SELECT * FROM questions WHERE state IN ({marks}) ORDER BY created_at, id",
        list(states),
    )
    linked = await _linked_resources(conn, states)
    records = []
    for row in rows:
        values: dict[str, Any] = dict(row)
        values["stage"] = _stage(values)
        values["resources"] = linked.get(row["id"], [])
        for name in _TIMES:
            values[name] = iso(values[name])
        for name in _NULLABLE_TEXT:
            values[name] = values[name] or ""
        records.append({name: values[name] for name in fields})
    version = iso(await content_modified(conn)) or ""
    return DataSet(records, fields, version, licence)


async def published_count(conn: aiosqlite.Connection) -> int:
    """How many questions the open data holds, without reading them (the data page)."""
    return int(await fetch_value(conn, "SELECT count(*) FROM questions WHERE state = 'pubblicata'"))


def csv_columns(fields: Mapping[str, str]) -> list[str]:
    return [name for name in fields if name != "resources"] + list(RESOURCE_COLUMNS)


def to_csv(data: DataSet) -> bytes:
    """A plain table, UTF-8 with a byte order mark; a resource per line in its cells."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_columns(data.fields), lineterminator="\r\n")
    writer.writeheader()
    for record in data.records:
        row = {name: value for name, value in record.items() if name != "resources"}
        for column, key in RESOURCE_COLUMNS.items():
            row[column] = "\n".join(resource[key] for resource in record["resources"])
        writer.writerow(row)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_json(data: DataSet) -> bytes:
    document = {
        "licence": data.licence,
        "licence_url": licence_url(data.licence),
        "version": data.version,
        "fields": dict(data.fields),
        "questions": data.records,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def licence_url(spdx_id: str) -> str:
    """The SPDX list's page of a licence: where its text is, whatever the licence."""
    return f"https://spdx.org/licenses/{spdx_id}.html"
