"""``greenweb footprint``: formats, --check, --budget, --grid, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.config import Settings

ARGS = ["footprint", "--today", "2021-09-04", "--repeats", "1"]


def check_against(budget: Path, text: str | None = None) -> int:
    """``greenweb footprint --check`` against the budget file ``budget``, written first."""
    if text is not None:
        budget.write_text(text)
    return cli.main([*ARGS, "--check", "--budget", str(budget)])


def test_check_passes_on_the_seeded_site(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*ARGS, "--check"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:2] == ["page", "status"]
    assert re.search(r"^budget: all \d+ pages within budget$", out, re.MULTILINE)
    assert "skipped bulletin_deep: the bulletin has a single page" in out


def test_check_fails_naming_every_page_and_limit_over_a_tight_budget(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tight = "schema = 1\n[page]\ntransfer_bytes = 1000\ndom_elements = 20\n"
    assert check_against(tmp_path / "tight.toml", tight) == 1
    out = capsys.readouterr().out.split("budget:", 1)[1]
    for page in ("home (/)", "bulletin (/bollettino)", "events (/eventi)"):
        assert f"{page}: transfer_bytes " in out
        assert f"{page}: dom_elements " in out
    assert "> 1,000 (over by " in out and "> 20 (over by " in out


def test_without_check_an_over_budget_site_still_exits_0(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tight = tmp_path / "tight.toml"
    tight.write_text("schema = 1\n[page]\ntransfer_bytes = 10\n")
    assert cli.main([*ARGS, "--budget", str(tight)]) == 0
    assert "limits exceeded" in capsys.readouterr().out


def test_json_output_and_file(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = tmp_path / "artifacts" / "footprint.json"
    assert cli.main([*ARGS, "--json", "--check", "--write-json", str(written)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema_version"] == 1
    assert document["check"]["passed"] is True
    home = next(p for p in document["pages"] if p["id"] == "home")
    assert home["path"] == "/" and home["first_view"]["requests"] == 2
    assert home["document"]["br"]["body_bytes"] > 0
    assert json.loads(written.read_text())["pages"][0]["id"] == "home"


def test_markdown_output(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*ARGS, "--markdown", "--check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Footprint\n") and "**Budget: all pages pass.**" in out
    assert "| home | `/` | 200 |" in out


def test_grid_option_changes_the_grams(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    def home_grams(*extra: str) -> float:
        assert cli.main([*ARGS, "--json", *extra]) == 0
        document = json.loads(capsys.readouterr().out)
        home = next(p for p in document["pages"] if p["id"] == "home")
        return float(home["first_view"]["co2e_g"])

    global_grams = home_grams()
    italy = home_grams("--grid", "ITA")
    assert italy < global_grams
    assert home_grams("--grid", "0") < italy


def test_a_bad_grid_is_refused(cli_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*ARGS, "--grid", "mars"]) == 2
    assert capsys.readouterr().err.startswith("greenweb footprint: grid intensity: ")


def test_a_bad_budget_file_is_refused_naming_file_and_key(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    assert check_against(bad, "schema = 1\n[page]\nrequest = 2\n") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"greenweb footprint: {bad}: page.request: unknown key")
    missing = tmp_path / "missing.toml"
    assert check_against(missing) == 2
    assert f"{missing}: cannot read" in capsys.readouterr().err


def test_the_newest_numeros_email_is_measured_and_checked(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*ARGS, "--check"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    size = re.fullmatch(
        r"e-mail of numero 1: ([\d,]+) bytes as sent, [\d.]+ g CO2e each; "
        r"to its 0 subscribers 0\.0000000 g",
        line,
    )
    assert size is not None, line
    bytes_each = int(size.group(1).replace(",", ""))
    assert bytes_each <= 20_000
    tight = f"schema = 1\n[email]\nnumero_bytes = {bytes_each - 1}\n"
    assert check_against(tmp_path / "tight.toml", tight) == 1
    assert "email-numero-1 (e-mail): numero_bytes" in capsys.readouterr().err


def test_the_boards_ebook_is_measured_and_checked(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*ARGS, "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    found = [
        re.fullmatch(r"e-book /domande/ebook\.epub: ([\d,]+) bytes, [\d.]+ g CO2e a download", line)
        for line in lines
    ]
    (size,) = [match for match in found if match]
    book = int(size.group(1).replace(",", ""))
    assert 0 < book <= 102_400
    tight = f"schema = 1\n[ebook]\nbytes = {book - 1}\n"
    assert check_against(tmp_path / "tight.toml", tight) == 1
    assert f"ebook (/domande/ebook.epub): bytes {book:,} > {book - 1:,}" in capsys.readouterr().err
