"""``greenweb export OUTDIR``: the public site as static files, and an nginx.conf for them.

The crawl and the files are :mod:`greenweb.static_site.export`'s, the configuration
:mod:`greenweb.static_site.nginx`'s; this module reads the command line and reports: the
pages done as one line rewritten in place while a person watches a terminal, nothing of
the kind for cron or a pipe, and one summary line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Final, TextIO

from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_OK, complain
from greenweb.config import Settings
from greenweb.static_site.export import ExportError, ExportReport, export_to

# Rewriting the line more often than this only costs the terminal.
PROGRESS_INTERVAL: Final = 0.1
CLEAR_LINE: Final = "\r\x1b[K"


class ProgressLine:
    """``pagine 1200/2751`` on a terminal, rewritten in place, cleared at the end."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = PROGRESS_INTERVAL,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.interval = interval
        self._shown_at: float | None = None

    def __call__(self, done: int, found: int) -> None:
        now = self.clock()
        if done < found and self._shown_at is not None and now - self._shown_at < self.interval:
            return
        self._shown_at = now
        self.stream.write(f"{CLEAR_LINE}pagine {done}/{found}")
        self.stream.flush()

    def close(self) -> None:
        if self._shown_at is not None:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()


def progress_for(stream: TextIO) -> ProgressLine | None:
    """A progress line when ``stream`` is a terminal; None otherwise (cron, pipes, tests)."""
    return ProgressLine(stream) if stream.isatty() else None


def skipped_lines(report: ExportReport) -> list[str]:
    """One line per reason a page was not exported (thousands of pages may share one)."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for target, reason in report.skipped:
        by_reason[reason].append(target)
    return [
        f"{targets[0]}: skipped: {reason}"
        if len(targets) == 1
        else f"{len(targets)} pages skipped ({targets[0]} ...): {reason}"
        for reason, targets in by_reason.items()
    ]


def summary(outdir: Path, report: ExportReport) -> str:
    counts = report.files
    return (
        f"{outdir}: {len(report.pages)} pages, {counts.files} files, {counts.bytes} bytes; "
        f"{counts.written} files written ({counts.written_bytes} bytes), "
        f"{counts.unchanged} unchanged, {counts.removed} removed; "
        f"nginx config in {outdir / 'nginx.conf'}"
    )


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the public site as static files with .br/.gz siblings.

    Fetch the public pages from the app (as it would serve it) and write them under
    OUTDIR/site with .br and .gz siblings, plus OUTDIR/nginx.conf: nginx then serves the
    read side and proxies writes, moderation and every page not exported to `greenweb
    serve`. Run it again on the same OUTDIR to update it: only the files that changed are
    written, and those of pages that are gone removed."""
    from greenweb.web.app import create_app

    app = create_app(settings)
    upstream = args.upstream or f"{settings.host}:{settings.port}"
    progress = progress_for(sys.stderr)
    try:
        report = asyncio.run(
            export_to(app, args.outdir, listen=args.listen, upstream=upstream, progress=progress)
        )
    except ExportError as error:
        return complain("export", error)
    finally:
        if progress is not None:
            progress.close()
    complain("export", *skipped_lines(report))
    print(summary(args.outdir, report))
    return EXIT_OK


def register(commands: Subcommands) -> None:
    parser = add_command(commands, "export", export_command)
    parser.add_argument("outdir", type=Path, help="folder to write (updated if an old export)")
    parser.add_argument("--listen", default="80", help="nginx listen address (default: 80)")
    parser.add_argument(
        "--upstream",
        help="address of `greenweb serve` for nginx (default: GREENWEB_HOST:GREENWEB_PORT)",
    )
