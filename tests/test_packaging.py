"""A built wheel carries the templates, static files and migrations, and finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import REPO

SHIPPED = [
    "greenweb/templates/base.html",
    "greenweb/templates/error.html",
    "greenweb/templates/bulletin/item.html",
    "greenweb/static/style.css",
    "greenweb/migrations/0001_bulletin.sql",
    "greenweb/web/app.py",
    "greenweb/data/regole.md",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("greenweb-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_templates_static_files_and_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SHIPPED:
        assert name in names, name
    templates = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "templates").rglob("*.html"))
    for template in templates:
        assert f"greenweb/{template}" in names, template


@pytest.mark.slow
def test_wheel_ships_no_data_database_or_tests(wheel: Path) -> None:
    for name in zipfile.ZipFile(wheel).namelist():
        assert not name.endswith((".db", ".secret", ".pyc")), name
        assert not name.startswith(("tests/", "data/", "greenweb/tests/")), name


@pytest.mark.slow
def test_an_unpacked_wheel_finds_its_own_templates_and_migrations(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import greenweb, greenweb.paths as p, greenweb.db as d; "
        "print(greenweb.__file__); print(p.templates_dir()); print(p.static_dir()); "
        "print(len(d.migration_scripts()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout: nothing can be found beside the package
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    package, templates, static, migrations = result.stdout.splitlines()
    assert Path(package).is_relative_to(site)
    assert Path(templates) == site / "greenweb" / "templates"
    assert Path(static) == site / "greenweb" / "static"
    assert int(migrations) >= 1


def test_source_checkout_finds_templates_beside_the_package() -> None:
    from greenweb.paths import static_dir, templates_dir

    assert templates_dir() == REPO / "templates"
    assert static_dir() == REPO / "static"
