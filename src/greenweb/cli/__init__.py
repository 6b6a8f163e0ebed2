"""The ``greenweb`` command: serve, migrate, import and the rest.

Every command reads settings from the environment (see ``greenweb --help``), reports
problems on stderr as ``file: field: problem`` lines, and exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from greenweb import __version__, backup
from greenweb.bulletin import ImportAborted, import_directory
from greenweb.cli import board as board_cli
from greenweb.cli import footprint as footprint_cli
from greenweb.cli.export import register as register_export
from greenweb.config import SETTINGS, Settings, SettingsError
from greenweb.db import Database, connect, migrate
from greenweb.paths import default_bulletin_dir

Command = Callable[[argparse.Namespace, Settings], int]


def settings_epilog() -> str:
    lines = ["settings (environment variables):"]
    for setting in SETTINGS:
        default = f" (default: {setting.default})" if setting.default else ""
        lines.append(f"  {setting.env}{default}\n      {setting.help}")
    return "\n".join(lines)


def fail(message: str) -> int:
    print(f"greenweb: {message}", file=sys.stderr)
    return 1


# --- migrate --------------------------------------------------------------------------


async def _migrate(settings: Settings) -> list[str]:
    conn = await connect(settings.db_path)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    applied = asyncio.run(_migrate(settings))
    if applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print(f"{settings.db_path}: already up to date")
    try:
        print(board_cli.describe_seed(board_cli.load_data(settings)))
    except ValueError as error:
        print(f"greenweb migrate: {error}", file=sys.stderr)
        return 1
    return 0


# --- import ---------------------------------------------------------------------------


async def _import(settings: Settings, directory: Path) -> str:
    db = Database(settings.db_path)
    await db.open()
    try:
        report = await import_directory(db, directory)
    finally:
        await db.close()
    return (
        f"{directory}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
    )


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        print(asyncio.run(_import(settings, args.directory)))
    except ImportAborted as aborted:
        for error in aborted.errors:
            print(f"greenweb import: {error}", file=sys.stderr)
        print("greenweb import: nothing was changed", file=sys.stderr)
        return 1
    return 0


# --- serve ----------------------------------------------------------------------------


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from greenweb.web.middleware.access_log import logging_config

    # On SIGTERM uvicorn stops accepting, lets in-flight requests finish, shuts the app
    # down, then raises SIGTERM again for the handler it found: with the default one the
    # process would die of the signal (status 143) after a perfectly clean stop. This one
    # turns that stop, and a SIGTERM before uvicorn takes over, into exit status 0.
    signal.signal(signal.SIGTERM, _stopped)
    asyncio.run(_migrate(settings))
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    uvicorn.run(
        "greenweb.web.asgi:app",
        host=host,
        port=port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        server_header=False,
        date_header=True,
        # uvicorn's access log would print client addresses; greenweb's has none.
        access_log=False,
        log_config=logging_config(LOGGING_CONFIG, args.log_level, access_log=args.access_log),
        timeout_graceful_shutdown=10,
        log_level=args.log_level,
    )
    return 0


# --- the parser -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenweb",
        description="A low-footprint, JavaScript-free bulletin and climate question board.",
        epilog=settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"greenweb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve the site with uvicorn",
        description="Apply pending migrations, then serve the site with uvicorn.",
    )
    serve.add_argument("--host", help="address to listen on (default: GREENWEB_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: GREENWEB_PORT)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument(
        "--proxy-headers", action="store_true", help="trust X-Forwarded-* from a local proxy"
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not log requests (the log never holds client addresses anyway)",
    )
    serve.set_defaults(handler=serve_command)

    mig = commands.add_parser(
        "migrate",
        help="create or upgrade the database",
        description="Apply the database migrations not applied yet, then load the question "
        "board's topics and seed resources (data/topics.toml, data/resources.toml). Safe to "
        "run twice.",
    )
    mig.set_defaults(handler=migrate_command)

    imp = commands.add_parser(
        "import",
        help="load the bulletin's Markdown files into the database",
        description=(
            "Validate every *.md file of DIRECTORY, then load them all in one transaction: "
            "new slugs are added, changed files updated, items whose file is gone removed. "
            "Any invalid file aborts the whole import and changes nothing."
        ),
    )
    imp.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=default_bulletin_dir(),
        help="folder of bulletin files (default: data/bulletin)",
    )
    imp.set_defaults(handler=import_command)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


# Other areas register their subcommands here: each receives the subparsers object.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    board_cli.register,
    footprint_cli.register,
    backup.register,
    register_export,
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return fail(f"configuration: {error}")
    handler: Command = args.handler
    return handler(args, settings)
