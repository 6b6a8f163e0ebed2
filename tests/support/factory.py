"""Bulletin files written from Python values, for tests that need their own items."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

KIND_CYCLE = ("bando", "premio", "evento", "notizia")


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        # A JSON string without non-ASCII escapes is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def item_text(
    *,
    slug: str = "prova",
    title: str = "Un elemento di prova",
    kind: str = "notizia",
    position: int = 1,
    body: str = "Il testo dell'elemento di prova.",
    **fields: object,
) -> str:
    """A bulletin file: TOML front matter between +++ lines, then the body."""
    meta = {"title": title, "slug": slug, "kind": kind, "position": position, **fields}
    lines = [f"{name} = {toml_value(value)}" for name, value in meta.items() if value is not None]
    return "+++\n" + "\n".join(lines) + "\n+++\n\n" + body + "\n"


def write_item(directory: Path, filename: str, **fields: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    path.write_text(item_text(**fields), encoding="utf-8")
    return path


def write_generated(directory: Path, count: int = 45, *, word: str = "riciclo") -> list[str]:
    """``count`` items, kinds in turn, each mentioning ``word``; returns slugs in list order."""
    slugs = []
    for n in range(1, count + 1):
        slug = f"elemento-{n:03d}"
        write_item(
            directory,
            f"{n:03d}-{slug}.md",
            slug=slug,
            title=f"Elemento generato numero {n:03d}",
            kind=KIND_CYCLE[(n - 1) % len(KIND_CYCLE)],
            position=n,
            body=f"Un testo sul {word} e sulla sostenibilità, numero {n}.",
            tags=["generato", "pari" if n % 2 == 0 else "dispari"],
        )
        slugs.append(slug)
    return slugs
