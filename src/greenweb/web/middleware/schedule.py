"""Scheduled items appear at their time, in every worker, without a restart.

Before a request is served, a worker compares its clock with the time the next scheduled
item is due (the change log re-reads it whenever the write sequence moves, so a schedule
set in another worker is seen at its next request). Once that time has come it publishes
the due items in one transaction; the write moves the sequence, so every worker's page
cache drops the pages that list them. Workers that race do the same idempotent write: the
first publishes, the others find nothing left to do. No page is ever served, by any worker,
from before a due item was published.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.types import ASGIApp, Receive, Scope, Send

from greenweb.bulletin import newsroom
from greenweb.changes import ChangeLog
from greenweb.db import Database

# The write sequence this middleware read for the request, kept in its scope: the page
# cache inside uses it instead of reading it a second time. Read after the request came in
# (and after any due item was published), it keeps the cache's guarantee.
SEQUENCE_KEY = "greenweb.write_sequence"


class ScheduledPublishingMiddleware:
    def __init__(
        self, app: ASGIApp, *, changes: ChangeLog, db: Database, clock: Callable[[], float]
    ) -> None:
        self.app = app
        self.changes = changes
        self.db = db
        self.clock = clock
        self.lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sequence = self.changes.read()
            due = self.changes.next_due
            if due is not None and self.clock() >= due:
                sequence = await self._publish_due()
            scope[SEQUENCE_KEY] = sequence
        await self.app(scope, receive, send)

    async def _publish_due(self) -> int | None:
        """Publish what is due; the write sequence after it."""
        async with self.lock:
            # Another request of this worker may have published them while this one waited.
            sequence = self.changes.read()
            due = self.changes.next_due
            now = self.clock()
            if due is None or now < due:
                return sequence
            moment = datetime.fromtimestamp(now, UTC).replace(microsecond=0)
            async with self.db.transaction() as conn:
                await newsroom.publish_due(conn, moment)
            return self.changes.read()
