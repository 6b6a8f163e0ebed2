"""greenweb's app under Granian, set up as ``greenweb serve`` sets up uvicorn: for
``load.py --compare servers`` only.

    GREENWEB_DB=... python benchmarks/serving/granian_serve.py --port 8000 [--no-access-log]

The same app (``greenweb.web.asgi:app``), the same logging (greenweb's access log through
its batching handler, Granian's own access log off), one worker, Granian's ASGI
interface on uvloop (``granian --interface asgi --loop uvloop``, as issue 11 measured
it). Migrations run first, as ``greenweb serve`` runs them. Needs ``pip install
granian``; greenweb itself does not depend on it (load.py says why).
"""

from __future__ import annotations

import argparse
import asyncio

from granian.constants import Interfaces, Loops
from granian.log import LOGGING_CONFIG, LogLevels
from granian.server import Server

from greenweb.cli.database import apply_migrations
from greenweb.config import Settings
from greenweb.web.middleware.access_log import logging_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    args = parser.parse_args()
    asyncio.run(apply_migrations(Settings.from_env()))
    Server(
        "greenweb.web.asgi:app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,
        workers=1,
        log_level=LogLevels.info,
        log_dictconfig=logging_config(LOGGING_CONFIG, "info", access_log=args.access_log),
        log_access=False,
    ).serve()


if __name__ == "__main__":
    main()
