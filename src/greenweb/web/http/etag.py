"""Entity tags: strong ETags made from the bytes sent, and ``If-None-Match`` matching.

ETags are made from the bytes sent, with a suffix naming the content coding, so the br,
gzip and identity forms of one page never share a tag (RFC 9110, 8.8.3.3) and every worker
process computes the same tag for the same page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final

ETAG_DIGEST_BYTES: Final = 8
_SUFFIX: Final = {"br": "-br", "gzip": "-gz", "identity": ""}
# Headers a 304 repeats from the 200 it stands for; the rest describe a body it has not
# (RFC 9110, 15.4.5).
_KEPT_BY_304: Final = frozenset(
    {b"cache-control", b"content-location", b"date", b"etag", b"expires", b"vary"}
)


def make_etag(body: bytes, coding: str = "identity") -> str:
    """A strong ETag for exactly these bytes sent with this content coding."""
    digest = hashlib.blake2b(body, digest_size=ETAG_DIGEST_BYTES).hexdigest()
    return f'"{digest}{_SUFFIX.get(coding, "-" + coding)}"'


def etag_length(coding: str = "identity") -> int:
    """Length of :func:`make_etag`'s result, known before the body is (for the stamp)."""
    return 2 * ETAG_DIGEST_BYTES + 2 + len(_SUFFIX.get(coding, "-" + coding))


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str, etag: str) -> bool:
    """True when ``If-None-Match`` matches ``etag``: the client's copy is current.

    Uses the weak comparison RFC 9110 (13.1.2) prescribes for this header: ``W/"x"``
    matches ``"x"``. ``*`` matches any current representation.
    """
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


def not_modified_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers of a 200's raw ASGI list that its 304 repeats."""
    return [(name, value) for name, value in headers if name in _KEPT_BY_304]
