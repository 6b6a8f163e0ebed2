"""The figures of the e-mail bulletin for the newsroom: how many subscribe to what, what the
outbox holds, and how each numero went out. Counts only: never an address."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from greenweb.db import fetch_all
from greenweb.footprint.carbon import CarbonModel
from greenweb.newsletter import outbox
from greenweb.newsletter.outbox import State
from greenweb.newsletter.subscribers import CHOICES, Choice


@dataclass(frozen=True)
class ChoiceCount:
    choice: Choice
    confirmed: int
    pending: int


@dataclass(frozen=True)
class NumeroDelivery:
    """How numero ``number`` went out: messages by state, and the bytes and grams of one."""

    number: int
    counts: dict[State, int]
    bytes_each: int  # the mean size as sent, headers included
    grams_each: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def grams_total(self) -> float:
        """Grams for every message of this numero sent (delivered) so far."""
        return self.grams_each * self.counts["sent"]


@dataclass(frozen=True)
class Figures:
    choices: tuple[ChoiceCount, ...]
    outbox: dict[State, int]
    numeri: tuple[NumeroDelivery, ...]  # newest first


async def subscriber_counts(conn: aiosqlite.Connection) -> tuple[ChoiceCount, ...]:
    rows = await fetch_all(
        conn,
        "SELECT choice, state, count(*) AS n FROM newsletter_subscriber GROUP BY choice, state",
    )
    found = {(row["choice"], row["state"]): int(row["n"]) for row in rows}
    return tuple(
        ChoiceCount(choice, found.get((choice, "confirmed"), 0), found.get((choice, "pending"), 0))
        for choice in CHOICES
    )


async def numero_deliveries(
    conn: aiosqlite.Connection, model: CarbonModel
) -> tuple[NumeroDelivery, ...]:
    """Each numero that was enqueued, newest first."""
    rows = await fetch_all(
        conn,
        "SELECT CAST(ref AS INTEGER) AS number, state, count(*) AS n, sum(size) AS bytes "
        "FROM newsletter_outbox WHERE kind = 'numero' GROUP BY ref, state",
    )
    numbers = sorted({int(row["number"]) for row in rows}, reverse=True)
    found = []
    for number in numbers:
        mine = [row for row in rows if row["number"] == number]
        counts: dict[State, int] = {state: 0 for state in outbox.STATES}
        for row in mine:
            counts[row["state"]] = int(row["n"])
        messages = sum(counts.values())
        size = round(sum(int(row["bytes"]) for row in mine) / messages)
        found.append(NumeroDelivery(number, counts, size, model.grams(size)))
    return tuple(found)


async def figures(conn: aiosqlite.Connection, model: CarbonModel) -> Figures:
    return Figures(
        choices=await subscriber_counts(conn),
        outbox=await outbox.state_counts(conn),
        numeri=await numero_deliveries(conn, model),
    )
