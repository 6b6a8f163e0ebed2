"""``greenweb serve``: migrations and the secret once, then the workers."""

from __future__ import annotations

import argparse
import asyncio
import signal
from types import FrameType

from greenweb.board.rules import load_rules
from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.database import apply_migrations
from greenweb.cli.output import EXIT_OK
from greenweb.config import Settings


def _port(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and int(raw) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {raw!r}")
    return int(raw)


def _workers(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 64):
        raise argparse.ArgumentTypeError(f"expected a number of workers from 1 to 64, got {raw!r}")
    return int(raw)


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the site with uvicorn.

    Apply pending migrations, then serve the site with uvicorn."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from greenweb.web.middleware.access_log import logging_config

    # uvicorn, not Granian, although Granian served this app 1.2-1.3x the requests a
    # second for 0.8-0.9x the CPU per request, both with greenweb's access log on
    # (`benchmarks/serving/load.py --compare servers`, benchmarks/README.md): Granian 2.8
    # writes `server: granian` on every response it sends for the app and has no
    # option to leave it out, and greenweb sends no banner.
    # On SIGTERM uvicorn stops accepting, lets in-flight requests finish, shuts the app
    # down, then raises SIGTERM again for the handler it found: with the default one the
    # process would die of the signal (status 143) after a perfectly clean stop. This one
    # turns that stop, and a SIGTERM before uvicorn takes over, into exit status 0.
    signal.signal(signal.SIGTERM, _stopped)
    # Each worker reads the rules file in create_app: a problem with it is one line here,
    # before uvicorn, instead of a traceback per worker.
    load_rules()
    asyncio.run(apply_migrations(settings))
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
    return EXIT_OK


def register(commands: Subcommands) -> None:
    serve = add_command(commands, "serve", serve_command)
    serve.add_argument("--host", help="address to listen on (default: GREENWEB_HOST)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: GREENWEB_PORT)")
    serve.add_argument("--workers", type=_workers, default=1, help="worker processes (default: 1)")
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
