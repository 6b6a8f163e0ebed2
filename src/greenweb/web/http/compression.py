"""Turning a body into the bytes of one content coding, and knowing when it pays.

The numbers below were measured on greenweb's own pages (``benchmarks/README.md``):

* Brotli quality 11 makes pages 6-9 % smaller than quality 5 and costs 2-7 ms per page
  instead of 0.05-0.1 ms. A stored page is compressed once until something it shows changes,
  and sent many times, so stored pages get 11; a response compressed for one visitor only (a form,
  a page while the cache is off) gets 5, where quality stops improving for small pages.
* Brotli 11 slows down far faster than the body grows: on the board's open data with
  10,000 questions (``/domande/dati.json``, 10 MB) it took 17 s of CPU against 0.09 s at
  quality 5, for 305 KB against 391 KB; on its first 64 KiB, 250 ms. Every vote makes that
  file stale, so a body over ``LARGE_BODY`` gets quality 5 even when it is stored.
* gzip level 9 costs the same as 6 on bodies of this size and is a little smaller.
  ``mtime=0`` keeps the bytes identical from run to run and from worker to worker, so
  ETags agree and the static export matches what the app serves.
* Below ``MIN_SIZE`` bytes compression saves less than the ``Content-Encoding`` and
  ``Vary`` header lines it adds (robots.txt: 81 bytes raw, 79 with brotli).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from typing import Final

import brotli

from greenweb.web.http.negotiation import Coding

MIN_SIZE: Final = 256
BROTLI_QUALITY_STORED: Final = 11
BROTLI_QUALITY_ON_THE_FLY: Final = 5
LARGE_BODY: Final = 64 * 1024
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
    worth brotli's slowest, smallest setting (up to ``LARGE_BODY``); otherwise a fast one."""
    if coding == "br":
        slow_pays = stored and len(body) <= LARGE_BODY
        quality = BROTLI_QUALITY_STORED if slow_pays else BROTLI_QUALITY_ON_THE_FLY
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality))
    if coding == "gzip":
        return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return body


class OpenBody:
    """A body encoded up to a point, to be closed with a *tail* sent as it is.

    The tail goes into stored blocks (deflate's ``BTYPE=00``, brotli's uncompressed
    meta-blocks: RFC 1951 3.2.4, RFC 7932 9.2) after a flush that ends the compressed part
    on a byte boundary, so the size of the closed body follows from the tail's length
    alone. The footer stamp uses it: the figure it writes cannot change the size of the
    compressed part, so the whole page is compressed once (``web/http/stamp.py``).
    """

    def __init__(self, coding: Coding, start: bytes, crc: int, length: int) -> None:
        self.coding = coding
        self.start = start
        self._crc = crc  # gzip: CRC-32 and length of what was encoded so far
        self._length = length

    def size_with(self, tail_size: int) -> int:
        """The size of the closed body, for a tail of ``tail_size`` bytes."""
        if self.coding == "br":
            blocks = -(-tail_size // _BROTLI_BLOCK)
            return len(self.start) + tail_size + 3 * blocks + 1
        if self.coding == "gzip":
            blocks = max(1, -(-tail_size // _DEFLATE_BLOCK))
            return len(self.start) + tail_size + 5 * blocks + 8
        return len(self.start) + tail_size

    def close(self, tail: bytes) -> bytes:
        """The whole body: what was encoded, then ``tail`` as it is."""
        parts = [self.start]
        if self.coding == "br":
            for at in range(0, len(tail), _BROTLI_BLOCK):
                block = tail[at : at + _BROTLI_BLOCK]
                # ISLAST 0, MNIBBLES 0 (four nibbles), MLEN - 1, ISUNCOMPRESSED 1, then
                # zero bits to the byte boundary: 24 bits, least significant first.
                header = ((len(block) - 1) << 3) | (1 << 19)
                parts += [header.to_bytes(3, "little"), block]
            parts.append(b"\x03")  # ISLAST 1, ISLASTEMPTY 1: the end of the stream
        elif self.coding == "gzip":
            blocks = [tail[at : at + _DEFLATE_BLOCK] for at in range(0, len(tail), _DEFLATE_BLOCK)]
            for number, block in enumerate(blocks or [b""], start=1):
                final = 1 if number == max(1, len(blocks)) else 0
                size = len(block)
                parts += [bytes([final]), struct.pack("<HH", size, size ^ 0xFFFF), block]
            crc = zlib.crc32(tail, self._crc)
            parts.append(struct.pack("<II", crc, (self._length + len(tail)) & 0xFFFFFFFF))
        else:
            parts.append(tail)
        return b"".join(parts)


_BROTLI_BLOCK: Final = 1 << 16
_DEFLATE_BLOCK: Final = 0xFFFF


def open_body(prefix: bytes, coding: Coding, *, stored: bool = True) -> OpenBody:
    """``prefix`` encoded in ``coding`` (quality as :func:`encode_body`), left open for a
    tail sent as it is: :meth:`OpenBody.close`."""
    if coding == "br":
        slow_pays = stored and len(prefix) <= LARGE_BODY
        quality = BROTLI_QUALITY_STORED if slow_pays else BROTLI_QUALITY_ON_THE_FLY
        compressor = brotli.Compressor(mode=brotli.MODE_TEXT, quality=quality)
        # A flush ends on a byte boundary, after an empty metadata block if need be.
        return OpenBody(coding, compressor.process(prefix) + compressor.flush(), 0, 0)
    if coding == "gzip":
        # wbits 31: a gzip header as gzip.compress(mtime=0) writes it (it calls zlib so).
        deflate = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        start = deflate.compress(prefix) + deflate.flush(zlib.Z_SYNC_FLUSH)
        return OpenBody(coding, start, zlib.crc32(prefix), len(prefix))
    return OpenBody(coding, prefix, 0, 0)


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
