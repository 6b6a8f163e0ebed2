"""``greenweb export OUTDIR``: the public site as static files, and an nginx.conf for them.

The crawl and the files are :mod:`greenweb.static_site.export`'s, the configuration
:mod:`greenweb.static_site.nginx`'s; this module reads the command line and reports.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_OK, complain
from greenweb.config import Settings
from greenweb.static_site.export import ExportError, export_to


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the public site as static files with .br/.gz siblings.

    Fetch every public page from the app (as it would serve it) and write it under
    OUTDIR/site with .br and .gz siblings, plus OUTDIR/nginx.conf: nginx then serves the
    read side and proxies writes and moderation to `greenweb serve`."""
    from greenweb.web.app import create_app

    app = create_app(settings)
    upstream = args.upstream or f"{settings.host}:{settings.port}"
    try:
        report = asyncio.run(export_to(app, args.outdir, listen=args.listen, upstream=upstream))
    except ExportError as error:
        return complain("export", error)
    complain("export", *(f"{target}: skipped: {reason}" for target, reason in report.skipped))
    print(
        f"{args.outdir}: {len(report.pages)} pages, {report.files} files, "
        f"{report.bytes} bytes; nginx config in {args.outdir / 'nginx.conf'}"
    )
    return EXIT_OK


def register(commands: Subcommands) -> None:
    parser = add_command(commands, "export", export_command)
    parser.add_argument("outdir", type=Path, help="folder to write (replaced if an old export)")
    parser.add_argument("--listen", default="80", help="nginx listen address (default: 80)")
    parser.add_argument(
        "--upstream",
        help="address of `greenweb serve` for nginx (default: GREENWEB_HOST:GREENWEB_PORT)",
    )
