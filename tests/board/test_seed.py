"""The board's data files and their loading (greenweb.board.seed)."""

from __future__ import annotations

import asyncio
import shutil
import tomllib
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.board import resources
from greenweb.board.data_files import DataFileError
from greenweb.board.seed import SeedReport, load_board_data, parse_resources
from greenweb.config import Settings
from greenweb.db import Database
from support.board import board_client, data_dir, query

SEED = Path("/work/shared/seed/resources-checked.md")
TOPICS = {
    "clima": "Clima",
    "energia": "Energia",
    "cibo": "Cibo",
    "mobilita": "Mobilità",
    "economia-circolare": "Economia circolare",
    "politica-e-societa": "Politica e società",
}


def seed_rows() -> list[dict[str, str]]:
    """The table of ../shared/seed/resources-checked.md, when the seed is present."""
    if not SEED.exists():
        pytest.skip("the shared seed is not on this machine")
    rows = []
    header: list[str] | None = None
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|") or line.startswith("| ---"):
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if header is None:
            header = cells
        else:
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def data_file() -> dict[str, list[dict[str, object]]]:
    return tomllib.loads((data_dir() / "resources.toml").read_text(encoding="utf-8"))


def load(settings: Settings, directory: Path) -> SeedReport:
    async def run() -> SeedReport:
        db = Database(settings.db_path)
        await db.open()
        try:
            return await load_board_data(db, directory, 1_700_000_000)
        finally:
            await db.close()

    return asyncio.run(run())


# --- the data files ----------------------------------------------------------------------


def test_topics_file_lists_the_six_topics() -> None:
    topics = tomllib.loads((data_dir() / "topics.toml").read_text(encoding="utf-8"))["topic"]
    assert {t["slug"]: t["label"] for t in topics} == TOPICS


def test_resources_file_uses_exactly_the_checked_addresses() -> None:
    seed = seed_rows()
    entries = data_file()["resource"]
    assert len(entries) == len(seed) == 13
    assert [e["url"] for e in entries] == [row["url"] for row in seed]


def test_resources_file_keeps_the_seed_facts_and_writes_its_own_summaries() -> None:
    labels_to_slugs = {label.lower(): slug for slug, label in TOPICS.items()}
    for entry, row in zip(data_file()["resource"], seed_rows(), strict=True):
        assert entry["title"] == row["titolo"]
        assert entry["kind"] == row["tipo"]
        assert entry["source"] == row["fonte"]
        assert entry["language"] == row["lingua"]
        assert entry["topics"] == [labels_to_slugs[t.strip()] for t in row["temi"].split(",")]
        summary = str(entry["summary"])
        assert summary != row["sintesi"], f"{entry['slug']}: the summary must be our own"
        assert 40 <= len(summary) <= resources.MAX_SUMMARY


def test_every_seed_entry_passes_the_moderators_validation() -> None:
    entries = parse_resources(data_dir() / "resources.toml", set(TOPICS))
    assert len(entries) == 13
    assert {e.draft.kind for e in entries} == {"leggere", "ascoltare", "guardare"}


# --- loading ------------------------------------------------------------------------------


def test_app_start_loads_topics_and_resources(settings: Settings) -> None:
    with board_client(settings):  # the app loads the data files as it starts
        assert query(settings, "SELECT count(*) FROM resources") == [(13,)]
        assert query(settings, "SELECT count(*) FROM topics") == [(6,)]
        assert query(settings, "SELECT count(*) FROM resource_topics")[0][0] >= 13


def test_loading_twice_changes_nothing(settings: Settings) -> None:
    first = load(settings, data_dir())
    version = query(settings, "SELECT version FROM content_version")
    second = load(settings, data_dir())
    assert first.resources_changed == 13 and first.topics_changed
    assert second.resources_changed == 0 and not second.topics_changed
    assert query(settings, "SELECT version FROM content_version") == version
    assert query(settings, "SELECT count(*) FROM resources") == [(13,)]


def test_changed_seed_entry_updates_its_row_unless_a_moderator_edited_it(
    settings: Settings, tmp_path: Path
) -> None:
    copy = tmp_path / "data"
    copy.mkdir()
    for name in ("topics.toml", "resources.toml"):
        shutil.copy(data_dir() / name, copy / name)
    load(settings, copy)
    query(settings, "UPDATE resources SET edited_at = 1 WHERE slug = 'radio3-scienza'")
    text = (copy / "resources.toml").read_text(encoding="utf-8")
    text = text.replace("La trasmissione quotidiana", "Il programma quotidiano")
    text = text.replace("Un breve video della NASA", "Un video breve della NASA")
    (copy / "resources.toml").write_text(text, encoding="utf-8")
    report = load(settings, copy)
    assert report.resources_changed == 1
    summaries = dict(query(settings, "SELECT slug, summary FROM resources"))
    assert summaries["radio3-scienza"].startswith("La trasmissione quotidiana")
    assert summaries["nasa-2023-anno-piu-caldo"].startswith("Un video breve")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "guardare"', 'kind = "mangiare"'), "kind"),
        (('url = "https://svs.gsfc.nasa.gov/14502"', 'url = "javascript:alert(1)"'), "url"),
        (('topics = ["clima"]', 'topics = ["astrologia"]'), "topics"),
        (('slug = "bello-mondo"', 'slug = "radio3-scienza"'), "appears twice"),
        (('summary = "Il podcast della BBC', 'sommario = "Il podcast della BBC'), "unknown field"),
        (("[[resource]]", "[[resource]"), "invalid TOML"),
    ],
)
def test_bad_seed_file_is_refused_whole_naming_file_and_field(
    settings: Settings, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    copy = tmp_path / "data"
    copy.mkdir()
    shutil.copy(data_dir() / "topics.toml", copy / "topics.toml")
    text = (data_dir() / "resources.toml").read_text(encoding="utf-8")
    assert change[0] in text
    (copy / "resources.toml").write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(DataFileError) as raised:
        load(settings, copy)
    assert "resources.toml" in str(raised.value)
    assert message in str(raised.value)
    assert query(settings, "SELECT count(*) FROM resources") == [(0,)]
    assert query(settings, "SELECT count(*) FROM topics") == [(0,)]


def test_migrate_command_loads_the_resources(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", settings.secret)
    assert cli.main(["migrate"]) == 0
    assert "13 resources added or updated" in capsys.readouterr().out
    assert query(settings, "SELECT count(*) FROM resources") == [(13,)]
    assert cli.main(["migrate"]) == 0
    assert "0 resources added or updated" in capsys.readouterr().out
