"""A large database for the benchmarks: 2,000 bulletin items by default, imported through
the real importer (Markdown rendered, search index filled) from generated files, and
10,000 board questions.

Other areas add their own generators to ``POPULATORS``; each receives the open
:class:`~greenweb.db.Database` and the wanted :class:`Sizes`. The board's questions come
from ``benchmarks/board_data.py``, the generator footprint's suite uses too.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

# board_data.py sits one folder up, shared with footprint's suite.
_SHARED = str(Path(__file__).resolve().parent.parent)
if _SHARED not in sys.path:
    sys.path.append(_SHARED)

import board_data  # noqa: E402
from greenweb.bulletin.importer import import_directory  # noqa: E402
from greenweb.db import Database  # noqa: E402

BULLETIN_ITEMS = 2_000
KINDS = ("bando", "premio", "evento", "notizia")
TAGS = ("clima", "energia", "mobilità", "terzo settore", "design", "cultura", "scuola", "cibo")
WORDS = (
    "innovazione sociale comunità quartiere Torino transizione ecologica giovani impresa "
    "cooperativa formazione webinar finanziamento rete territorio progetto sostenibilità "
    "volontariato inclusione lavoro cultura ambiente città"
).split()

QUESTIONS = board_data.QUESTIONS


@dataclass(frozen=True)
class Sizes:
    items: int = BULLETIN_ITEMS
    questions: int = QUESTIONS


Populator = Callable[[Database, Sizes], Awaitable[None]]


async def board_questions(db: Database, sizes: Sizes) -> None:
    if sizes.questions > 0:
        await board_data.add_questions(db, sizes.questions)


POPULATORS: list[Populator] = [board_questions]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize()


def write_bulletin(folder: Path, count: int = BULLETIN_ITEMS, seed: int = 2021) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    start = date(2021, 1, 1)
    for number in range(1, count + 1):
        kind = KINDS[number % 4]
        day = start + timedelta(days=number % 365)
        lines = [
            "+++",
            f'title = "{_sentence(rng, 6)} {number}"',
            f'slug = "voce-{number:05d}"',
            f'kind = "{kind}"',
            f"position = {number}",
            f"published = {day.isoformat()}",
        ]
        if kind in ("bando", "premio"):
            lines.append(f"deadline = {(day + timedelta(days=30)).isoformat()}")
        if kind == "evento":
            lines.append(f"starts = {(day + timedelta(days=10)).isoformat()}T17:30:00")
            lines.append('where = "Online"')
        tags = rng.sample(TAGS, 2)
        lines.append("tags = [" + ", ".join(f'"{t}"' for t in tags) + "]")
        lines.append("+++")
        body = "\n\n".join(_sentence(rng, 25) + "." for _ in range(4))
        text = "\n".join(lines) + "\n\n" + body + "\n"
        (folder / f"{number:05d}.md").write_text(text, encoding="utf-8")


async def _populate(db_path: Path, source: Path, sizes: Sizes) -> None:
    db = Database(db_path)
    await db.open()
    try:
        await import_directory(db, source)
        for populate in POPULATORS:
            await populate(db, sizes)
    finally:
        await db.close()


def build(db_path: Path, *, items: int = BULLETIN_ITEMS, questions: int = QUESTIONS) -> Path:
    """Create (or reuse) the big database at ``db_path``."""
    if db_path.exists():
        return db_path
    source = db_path.parent / "bulletin"
    write_bulletin(source, items)
    asyncio.run(_populate(db_path, source, Sizes(items, questions)))
    return db_path
