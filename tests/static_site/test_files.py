"""The files of an export: names for URLs, and writes of only what changed, renamed into
place when the export commits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenweb.static_site.files import FileCounts, SiteFiles, file_name, replace_if_changed

OLD = 1_000_000_000  # an mtime long past: a file rewritten now gets another one


@pytest.mark.parametrize(
    ("target", "content_type", "expected"),
    [
        ("/", "text/html; charset=utf-8", "index.html"),
        ("/bollettino", "text/html", "bollettino.html"),
        ("/bollettino/un-bando", "text/html", "bollettino/un-bando.html"),
        ("/feed.xml", "application/atom+xml", "feed.xml"),
        ("/static/style.0123456789.css", "text/css", "static/style.0123456789.css"),
        ("/bollettino?tipo=bando&page=2", "text/html", "bollettino@tipo=bando&page=2.html"),
        (
            "/bollettino?tag=sostenibilit%C3%A0",
            "text/html",
            "bollettino@tag=sostenibilit%C3%A0.html",
        ),
        ("/?page=2", "text/html", "index@page=2.html"),
        ("/bollettino?tag=a/../../x", "text/html", None),
        ("/../etc/passwd", "text/html", None),
        ("/bollettino//x", "text/html", None),
        ("/healthz", "application/json", None),
        ("/feed.xml?x=1", "application/atom+xml", None),
    ],
)
def test_file_names_map_clean_urls_and_refuse_unsafe_ones(
    target: str, content_type: str, expected: str | None
) -> None:
    assert file_name(target, content_type) == expected


def old_site(root: Path, files: dict[str, bytes]) -> None:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        os.utime(path, (OLD, OLD))


def test_unchanged_files_are_not_rewritten_and_changed_ones_wait_for_the_commit(
    tmp_path: Path,
) -> None:
    old_site(tmp_path, {"index.html": b"uguale", "bollettino.html": b"vecchio"})
    files = SiteFiles(tmp_path)
    files.put("index.html", b"uguale")
    files.put("bollettino.html", b"nuovo")
    files.put("bollettino/nuova.html", b"in arrivo")
    # Until the commit, readers see the old files whole.
    assert (tmp_path / "bollettino.html").read_bytes() == b"vecchio"
    assert not (tmp_path / "bollettino" / "nuova.html").exists()
    files.commit()
    assert (tmp_path / "bollettino.html").read_bytes() == b"nuovo"
    assert (tmp_path / "bollettino" / "nuova.html").read_bytes() == b"in arrivo"
    assert (tmp_path / "index.html").stat().st_mtime == OLD
    assert files.counts == FileCounts(
        files=3,
        bytes=len(b"uguale" + b"nuovo" + b"in arrivo"),
        written=2,
        written_bytes=len(b"nuovo" + b"in arrivo"),
        unchanged=1,
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "bollettino",
        "bollettino.html",
        "index.html",
        "nuova.html",
    ]


def test_commit_removes_the_files_and_folders_of_pages_gone(tmp_path: Path) -> None:
    old_site(
        tmp_path,
        {"index.html": b"x", "bollettino/sparita.html": b"y", "bollettino/sparita.html.br": b"z"},
    )
    files = SiteFiles(tmp_path)
    files.put("index.html", b"x")
    files.commit()
    assert files.counts.removed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_discard_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    old_site(tmp_path, {"index.html": b"vecchio", "eventi.html": b"resta"})
    files = SiteFiles(tmp_path)
    files.put("index.html", b"nuovo")
    files.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eventi.html", "index.html"]
    assert (tmp_path / "index.html").read_bytes() == b"vecchio"


def test_replace_if_changed_keeps_a_file_that_holds_the_bytes_already(tmp_path: Path) -> None:
    old_site(tmp_path, {"nginx.conf": b"server {}"})
    assert not replace_if_changed(tmp_path / "nginx.conf", b"server {}")
    assert (tmp_path / "nginx.conf").stat().st_mtime == OLD
    assert replace_if_changed(tmp_path / "nginx.conf", b"server { listen 81; }")
    assert (tmp_path / "nginx.conf").read_bytes() == b"server { listen 81; }"
    assert [p.name for p in tmp_path.iterdir()] == ["nginx.conf"]
