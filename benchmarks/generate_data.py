"""Fill a greenweb database with a large synthetic data set, for the benchmarks.

    python benchmarks/generate_data.py DB [--items 2000] [--questions 10000] [--seed 1]

Bulletin items are written as Markdown files (the format of ``data/bulletin/``) into a
temporary folder and loaded with the normal importer, so they go through the same
validation, Markdown rendering and search indexing as real content.  The data set is
deterministic for a given ``--seed``; nothing is committed.

Questions, their votes, answers, linked resources and the moderation log come from
``board_data.py``, the generator the serving suite (``serving/bigdata.py``) uses too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import board_data
from greenweb.bulletin.importer import import_directory
from greenweb.db import Database

WORDS = (
    "innovazione sociale impatto comunità torino piemonte bando premio evento notizia "
    "sostenibilità clima energia rinnovabile mobilità quartiere cooperativa impresa "
    "volontariato formazione giovani scuola cultura teatro ricerca europa finanziamento "
    "territorio economia circolare rifiuti acqua verde città inclusione lavoro salute "
    "digitale dati tecnologia agricoltura cibo trasporti biciclette partecipazione rete"
).split()
TAGS = (
    "ricerca",
    "innovazione",
    "europa",
    "clima",
    "energia",
    "mobilità",
    "cultura",
    "giovani",
    "formazione",
    "economia circolare",
)
KINDS = ("bando", "premio", "evento", "notizia")
PLACES = ("Torino", "online", "Moncalieri", "Collegno", "Ivrea")


def _sentence(rng: random.Random, words: int) -> str:
    chosen = [rng.choice(WORDS) for _ in range(words)]
    return " ".join(chosen).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(rng.randint(2, 5)))


def item_markdown(number: int, rng: random.Random) -> str:
    """One bulletin file, similar in size and shape to the seed items (1-3 KB)."""
    kind = KINDS[number % len(KINDS)]
    title = f"{_sentence(rng, rng.randint(4, 9))[:-1]} {number}"
    published = date(2019, 1, 1) + timedelta(days=rng.randint(0, 2900))
    lines = [
        "+++",
        f'title = "{title}"',
        f'slug = "elemento-{number:05d}"',
        f'kind = "{kind}"',
        f"position = {number}",
        f"published = {published.isoformat()}",
    ]
    if kind in ("bando", "premio"):
        deadline = published + timedelta(days=rng.randint(10, 120))
        lines.append(f"deadline = {deadline.isoformat()}")
        low = rng.randint(1, 50) * 1000
        lines.append(f"amount_min = {low}")
        lines.append(f"amount_max = {low + rng.randint(1, 50) * 1000}")
    if kind == "evento":
        day = published + timedelta(days=rng.randint(5, 60))
        starts = datetime(day.year, day.month, day.day, rng.choice((9, 10, 14, 17, 18)))
        lines.append(f"starts = {starts.isoformat()}")
        lines.append(f"ends = {(starts + timedelta(hours=2)).isoformat()}")
        lines.append(f'where = "{rng.choice(PLACES)}"')
    tags = rng.sample(TAGS, rng.randint(1, 3))
    lines.append("tags = [" + ", ".join(f'"{tag}"' for tag in tags) + "]")
    lines.append(f'links = ["https://example.org/bollettino/{number}"]')
    lines.append("+++")
    lines.append("")
    for _ in range(rng.randint(2, 6)):
        lines.append(_paragraph(rng))
        lines.append("")
    return "\n".join(lines)


def write_items(directory: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    for number in range(1, count + 1):
        path = directory / f"{number:05d}.md"
        path.write_text(item_markdown(number, rng), encoding="utf-8")


async def add_questions(db: Database, count: int, seed: int = 1) -> int:
    """Add ``count`` questions (states, answers, votes, log) with the generator both
    benchmark suites share (``board_data.py``); returns how many were added."""
    if count <= 0:
        return 0
    data = await board_data.add_questions(db, count, seed)
    return data.questions


async def generate(db_path: Path, *, items: int, questions: int, seed: int = 1) -> None:
    db = Database(db_path)
    await db.open()
    try:
        with tempfile.TemporaryDirectory(prefix="greenweb-bench-") as folder:
            write_items(Path(folder), items, seed)
            report = await import_directory(db, Path(folder))
        print(f"{db_path}: {len(report.added):,} bulletin items added")
        await add_questions(db, questions, seed)
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="SQLite file to fill (created if missing)")
    parser.add_argument("--items", type=int, default=2000, help="bulletin items (2000)")
    parser.add_argument("--questions", type=int, default=10000, help="questions (10000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    args = parser.parse_args(argv)
    asyncio.run(generate(args.db, items=args.items, questions=args.questions, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
