"""``greenweb footprint``: measure every public page in-process and check the carbon budget.

It starts the app on the configured database (running its migrations, as ``serve`` does),
asks the app's target sources which addresses to measure, measures them (see
:mod:`greenweb.footprint.measure`) and prints a table, ``--json`` or ``--markdown``.  With
``--check`` it exits 1 when any page exceeds ``footprint-budget.toml``, listing each page
and limit.  An empty database works: lists render empty, and addresses that need content
(an item page, a deep list page) are reported as skipped.  For figures that mean
something, import the bulletin first; ``make footprint`` does that in a temporary database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import IO, Any

from greenweb.asgi_client import running
from greenweb.board.ebook import PATH as EBOOK_PATH
from greenweb.board.ebook import site_ebook
from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_FAILED, EXIT_OK, EXIT_USAGE, complain
from greenweb.config import Settings
from greenweb.db import with_database
from greenweb.footprint.budget import (
    Budget,
    BudgetError,
    check_ebook,
    check_email,
    default_budget_path,
    load_budget,
)
from greenweb.footprint.budget import check as check_budget
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import Report, Skipped, Target, measure_site
from greenweb.footprint.report import dumps, render_markdown, render_table, to_json
from greenweb.newsletter.footprint import newest_numero_email

EXIT_OVER_BUDGET = EXIT_FAILED


def register(commands: Subcommands) -> None:
    parser = add_command(commands, "footprint", footprint_command)
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument("--json", action="store_true", help="print the JSON report")
    formats.add_argument("--markdown", action="store_true", help="print a Markdown summary")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when any page exceeds the budget"
    )
    parser.add_argument(
        "--budget",
        type=Path,
        default=None,
        help="budget file (default: footprint-budget.toml)",
    )
    parser.add_argument(
        "--grid",
        default=None,
        help="grid intensity: global, a country code such as ITA, or g CO2e/kWh "
        "(default: GREENWEB_GRID_INTENSITY)",
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="render pages as on this day (default: today in Rome)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="repeated requests per page for the warm CPU median (default: 5)",
    )
    parser.add_argument(
        "--write-json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the JSON report to FILE",
    )


def _error(message: str) -> int:
    return complain("footprint", message, status=EXIT_USAGE)


def footprint_command(args: argparse.Namespace, settings: Settings) -> int:
    """Measure every page's bytes, requests and CO2e; check the carbon budget.

    Measure every public page in-process, as served for Accept-Encoding: br, and print
    its bytes over the wire, requests, DOM size, grams CO2e (Sustainable Web Design v4) and
    server CPU time. With --check, exit 1 when any page exceeds the budget, listing every
    page and limit exceeded."""
    if args.grid is not None:
        settings = replace(settings, grid_intensity=args.grid)
    try:
        model = settings.carbon_model
    except ValueError as error:
        return _error(f"grid intensity: {error}")
    if args.repeats < 0:
        return _error("--repeats: must be 0 or more")
    budget_path: Path = args.budget or default_budget_path()
    budget: Budget | None = None
    if args.budget is not None or args.check or budget_path.is_file():
        try:
            budget = load_budget(budget_path)
        except BudgetError as error:
            return _error(str(error))

    from greenweb.web.app import create_app

    today = args.today
    app = create_app(settings, today=(lambda: today) if today else None)
    report = asyncio.run(measure_app(app, model=model, repeats=args.repeats))
    fmt = "json" if args.json else "markdown" if args.markdown else "table"
    status = output(
        report, budget, fmt=fmt, check=args.check, write_json=args.write_json, out=sys.stdout
    )
    if fmt == "json":
        return status
    status = _report_ebook(settings, budget, check=args.check, status=status)
    email = with_database(settings.db_path, lambda db: newest_numero_email(db.reader, settings))
    if email is None:
        print("e-mail: no numero published yet, nothing to measure")
        return status
    print(
        f"e-mail of numero {email.number}: {email.bytes_each:,} bytes as sent, "
        f"{email.grams_each:.7f} g CO2e each; to its {email.subscribers:,} subscribers "
        f"{email.grams_all:.7f} g"
    )
    violation = check_email(email.bytes_each, email.number, budget) if budget else None
    if violation is None:
        return status
    print(f"over budget: {violation}")
    if args.check:
        complain("footprint", f"over budget: {violation}")
        return EXIT_OVER_BUDGET
    return status


def _report_ebook(settings: Settings, budget: Budget | None, *, check: bool, status: int) -> int:
    """The board's e-book as /domande/ebook.epub serves it: its bytes and grams, and its
    [ebook] limit. A file people download once, not a page: a line of its own, like the
    e-mail (a row on /impronta would take that page past its DOM budget)."""
    size = len(with_database(settings.db_path, lambda db: site_ebook(db.reader, settings)))
    grams = settings.carbon_model.grams(size)
    print(f"e-book {EBOOK_PATH}: {size:,} bytes, {grams:.7f} g CO2e a download")
    violation = check_ebook(size, budget) if budget else None
    if violation is None:
        return status
    print(f"over budget: {violation}")
    if check:
        complain("footprint", f"over budget: {violation}")
        return EXIT_OVER_BUDGET
    return status


async def measure_app(
    app: Any,
    *,
    model: CarbonModel,
    repeats: int = 5,
    targets: Sequence[Target] | None = None,
    base_url: str | None = None,
) -> Report:
    """Start ``app``, measure ``targets`` (default: the app's own sources), stop it."""
    from greenweb.web.site import site_of
    from greenweb.web.views.footprint import collect_targets

    async with running(app) as state:
        skipped: list[Skipped] = []
        if targets is None:
            targets, skipped = await collect_targets(app)
        if base_url is None:
            base_url = site_of(app).settings.base_url
        return await measure_site(
            app,
            targets,
            model=model,
            base_url=base_url,
            state=state,
            repeats=repeats,
            skipped=skipped,
        )


def output(
    report: Report,
    budget: Budget | None,
    *,
    fmt: str,
    check: bool,
    out: IO[str],
    write_json: Path | None = None,
) -> int:
    """Print the report in ``fmt``; the exit status: 1 when checking and over budget."""
    violations = check_budget(report, budget) if budget is not None else None
    if write_json is not None:
        write_json.parent.mkdir(parents=True, exist_ok=True)
        write_json.write_text(dumps(to_json(report, budget, violations)), encoding="utf-8")
    if fmt == "json":
        out.write(dumps(to_json(report, budget, violations)))
    elif fmt == "markdown":
        out.write(render_markdown(report, violations))
    else:
        out.write(render_table(report, violations))
    if check and violations:
        if fmt == "json":
            # The JSON on stdout already lists them; say it on stderr too, for humans.
            complain("footprint", *(f"over budget: {v}" for v in violations))
        return EXIT_OVER_BUDGET
    return EXIT_OK
