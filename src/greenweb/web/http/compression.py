"""Turning a body into the bytes of one content coding, and knowing when it pays.

The numbers below were measured on greenweb's own pages (``benchmarks/README.md``):

* Brotli quality 11 makes pages 6-9 % smaller than quality 5 and costs 2-7 ms per page
  instead of 0.05-0.1 ms. A stored page is compressed once per content version and sent
  many times, so stored pages get 11; a response compressed for one visitor only (a form,
  a page while the cache is off) gets 5, where quality stops improving for small pages.
* gzip level 9 costs the same as 6 on bodies of this size and is a little smaller.
  ``mtime=0`` keeps the bytes identical from run to run and from worker to worker, so
  ETags agree and the static export matches what the app serves.
* Below ``MIN_SIZE`` bytes compression saves less than the ``Content-Encoding`` and
  ``Vary`` header lines it adds (robots.txt: 81 bytes raw, 79 with brotli).
"""

from __future__ import annotations

import gzip
from typing import Final

import brotli

from greenweb.web.http.negotiation import Coding

MIN_SIZE: Final = 256
BROTLI_QUALITY_STORED: Final = 11
BROTLI_QUALITY_ON_THE_FLY: Final = 5
GZIP_LEVEL: Final = 9

# Media types worth compressing (the part before ";", lower case). Images other than SVG,
# fonts, archives and the like are compressed already: compressing again only costs CPU.
_TEXT_TYPES: Final = frozenset(
    {
        "application/json",
        "application/xml",
        "application/atom+xml",
        "application/rss+xml",
        "application/xhtml+xml",
        "application/javascript",
        "application/manifest+json",
        "image/svg+xml",
    }
)


def encode_body(body: bytes, coding: Coding, *, stored: bool = True) -> bytes:
    """``body`` in ``coding``. ``stored``: the result is kept and sent many times, so it is
    worth brotli's slowest, smallest setting; otherwise a fast one."""
    if coding == "br":
        quality = BROTLI_QUALITY_STORED if stored else BROTLI_QUALITY_ON_THE_FLY
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality))
    if coding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return body


def decode_body(body: bytes, coding: str) -> bytes:
    """The inverse of :func:`encode_body` (for tests, the export and footprint checks)."""
    if coding == "br":
        return bytes(brotli.decompress(body))
    if coding == "gzip":
        return gzip.decompress(body)
    if coding in ("", "identity"):
        return body
    raise ValueError(f"unknown content coding {coding!r}")


def is_compressible(content_type: bytes | str | None) -> bool:
    """Whether a response of this ``Content-Type`` is text that compression shrinks."""
    if not content_type:
        return False
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    media = content_type.partition(";")[0].strip().lower()
    return media.startswith("text/") or media in _TEXT_TYPES or media.endswith("+xml")


def pays(body_size: int, encoded_size: int, coding: Coding) -> bool:
    """Whether sending ``encoded_size`` bytes plus a ``Content-Encoding`` line beats the
    plain body."""
    return encoded_size + len(b"content-encoding: \r\n") + len(coding) < body_size
