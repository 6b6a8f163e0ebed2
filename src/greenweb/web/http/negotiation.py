"""Content-coding negotiation: which of br, gzip or identity a client gets.

Follows RFC 9110, section 12.5.3. The server prefers ``br`` over ``gzip`` over ``identity``
when the client's q-values tie; a higher q-value from the client wins over that preference.

* No ``Accept-Encoding`` at all: ``identity``. RFC 9110 allows any coding then, but clients
  that send no header (curl, simple scripts) usually cannot decode one.
* An empty value means "no coding, please": ``identity``.
* ``*`` gives its q-value to every coding not named; ``q=0`` excludes a coding.
* ``identity`` is acceptable unless excluded (``identity;q=0``, or ``*;q=0`` without naming
  it); when nothing offered is acceptable the header is disregarded and ``identity`` sent,
  as RFC 9110 permits, rather than answering 406 to a page anyone can read.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final, Literal

Coding = Literal["br", "gzip", "identity"]

BR: Final = "br"
GZIP: Final = "gzip"
IDENTITY: Final = "identity"

# Server preference when q-values tie, best first.
PREFERENCE: Final[tuple[Coding, ...]] = ("br", "gzip", "identity")
_ALIASES: Final = {"x-gzip": "gzip"}

# Enough for every distinct header a real population of browsers sends; bounded so a client
# cycling through made-up values cannot grow memory.
_CACHE_SIZE: Final = 512
_QVALUE: Final = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def parse_qvalue(raw: str) -> float | None:
    """A qvalue (``0`` to ``1``, at most three decimals), or None when malformed."""
    raw = raw.strip()
    return float(raw) if _QVALUE.fullmatch(raw) else None


def parse_accept_encoding(value: str) -> dict[str, float]:
    """Coding name (lower case) to q-value. Malformed members are ignored."""
    found: dict[str, float] = {}
    for member in value.split(","):
        coding, _, params = member.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q: float | None = 1.0
        for param in params.split(";") if params else ():
            name, _, raw = param.partition("=")
            if name.strip().lower() == "q":
                q = parse_qvalue(raw)
        if q is None:
            continue
        coding = _ALIASES.get(coding, coding)
        # A coding listed twice keeps its best q-value.
        found[coding] = max(q, found.get(coding, 0.0))
    return found


@lru_cache(maxsize=_CACHE_SIZE)
def choose_coding(accept_encoding: bytes | None) -> Coding:
    """The content coding to send for the raw ``Accept-Encoding`` header value (or None)."""
    if accept_encoding is None:
        return "identity"
    offered = parse_accept_encoding(accept_encoding.decode("latin-1"))
    if not offered:
        return "identity"
    star = offered.get("*")
    best: Coding = "identity"
    best_rank = (0.0, 0)
    for preference, coding in enumerate(reversed(PREFERENCE)):
        q = offered.get(coding, star)
        if q is None:
            # Not named and no "*": only identity stays acceptable, and only as a fallback,
            # so that "gzip;q=0.5" still means "gzip, please".
            q = 0.001 if coding == "identity" else 0.0
        if q > 0 and (q, preference) > best_rank:
            best, best_rank = coding, (q, preference)
    return best
