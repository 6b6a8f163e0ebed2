"""The footer weight: each page states its own bytes over the wire and grams CO2e.

Templates put :data:`MARKER` where the figure goes (``base.html``'s footer, near the end
of the page). The representation middleware, which knows the content coding and every
header it will send, calls :func:`stamp_in_one_pass`: it compresses the page up to the
marker once, and sends the figure and the little that follows it as they are, in a
stored block (:class:`~greenweb.web.http.compression.OpenBody`). The size of the
response then follows from the figure's length alone, so the number written is exactly
the number of bytes on the wire (status line, headers as the server writes them, body:
see :func:`greenweb.footprint.wire.head_size`), for one compression pass. The grams come
from the site's :class:`~greenweb.footprint.carbon.CarbonModel`.

A marker far from the end (more than :data:`MAX_PLAIN_TAIL` bytes before it) would leave
too much uncompressed: :func:`stamp` then fills it, encodes and repeats until the number
written equals the number measured, since writing the number changes the size.

The count covers this one response as greenweb's server sends it over HTTP/1.1; a proxy in
front (nginx, a CDN) changes the header bytes by a few dozen, and a repeat view that gets a
304 weighs far less.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from greenweb.footprint.carbon import CarbonModel
from greenweb.italian import format_grams, format_kb
from greenweb.web.http import compression
from greenweb.web.http.negotiation import Coding

MARKER: Final = b"<!--weight-->"
# What may follow the marker and still be sent uncompressed with the figure: base.html
# ends "</p></footer></body></html>" after it (30 bytes). The figure and that tail cost
# 49-63 bytes more than compressing them (benchmarks/README.md, "The first view of a kept
# page after a write").
MAX_PLAIN_TAIL: Final = 512
# Rounds of arithmetic (no encoding) until the figure settles: two or three in practice.
ONE_PASS_ROUNDS: Final = 16


def weight_html(transfer_bytes: int, grams: float) -> bytes:
    """What replaces the marker. ``<data value>`` keeps the exact byte count readable by
    machines (and tests) while people read the rounded figure."""
    return (
        f'Questa pagina: <data value="{transfer_bytes}">{format_kb(transfer_bytes)}</data>'
        f" · {format_grams(grams)} g CO2e"
    ).encode()


def head_with_length(fixed: int) -> Callable[[int], int]:
    """The size of a response head of ``fixed`` bytes plus the digits of its
    Content-Length, as a function of the body's length: what the stamps take."""
    return lambda length: fixed + len(str(length))


def has_marker(body: bytes) -> bool:
    return MARKER in body


def stamp_in_one_pass(
    html: bytes,
    coding: Coding,
    head_bytes: Callable[[int], int],
    model: CarbonModel,
    *,
    stored: bool,
) -> tuple[bytes, int] | None:
    """Fill the marker with the response's exact weight; return (encoded body, weight).

    ``head_bytes(n)`` is the size of the response head when the body is ``n`` bytes long.
    The page up to the marker is encoded once (``stored`` as for
    :func:`~greenweb.web.http.compression.encode_body`); the figure and what follows are
    sent as they are, with a space or two of padding after the figure when two numbers
    would chase each other. None when the marker is missing or too far from the end.
    """
    at = html.find(MARKER)
    if at < 0 or len(html) - at - len(MARKER) > MAX_PLAIN_TAIL:
        return None
    suffix = html[at + len(MARKER) :]
    opened = compression.open_body(html[:at], coding, stored=stored)

    def weight(stated: int) -> int:
        """The bytes on the wire when the figure says ``stated`` (no padding)."""
        body = opened.size_with(len(weight_html(stated, model.grams(stated))) + len(suffix))
        return body + head_bytes(body)

    stated = weight(weight(opened.size_with(len(suffix))))
    padding = 0
    for _ in range(ONE_PASS_ROUNDS):
        actual = weight(stated)
        if actual <= stated:
            # Equal, or a longer number made the figure shorter (fewer digits in the
            # grams): padding makes up the difference, a byte or two.
            padding = stated - actual
            break
        stated = actual
    tail = weight_html(stated, model.grams(stated)) + b" " * padding + suffix
    return opened.close(tail), stated


# For a marker far from the end: each round of a kept page is a brotli-11 pass (about 10
# ms on a long list), so at most 4 rounds and 3 search attempts, then the closest figure.
MAX_ROUNDS: Final = 4
FAST_ROUNDS: Final = 2
SEARCH_RADIUS: Final = 4
SEARCH_ATTEMPTS: Final = 3


def stamp(
    html: bytes,
    encode: Callable[[bytes], bytes],
    head_bytes: Callable[[int], int],
    model: CarbonModel,
    *,
    exact: bool = True,
    guess: int | None = None,
) -> tuple[bytes, int]:
    """Fill the marker with the response's own weight; return (encoded body, weight).

    ``encode`` turns the filled HTML into the bytes to send; ``head_bytes(n)`` is the size
    of the response head when the body is ``n`` bytes long (Content-Length has as many
    digits as n). Writing a number changes the compressed size by a byte or so, so this
    iterates to a fixed point. When two numbers chase each other (n makes the response
    n + 1 bytes, n + 1 makes it n), a space or two of padding after the figure settles
    it; failing that, the closest pair seen is used, a byte or two apart.

    ``exact=False`` (a response compressed for one visitor, not kept) stops after
    :data:`FAST_ROUNDS` encodings and takes the closest: a byte or two off at most.
    ``guess``: a likely body size (from the compression ratio of earlier pages) for a fast
    stamp; a guess with the right number of digits may save a round. An exact stamp starts
    from the page's own size instead: a cycle may settle on either of two figures, and
    which one must depend on the page alone, so that a page kept by two workers, or
    exported twice, has the same bytes and ETag whatever was rendered before it (the guess
    saved nothing there: 4.8 brotli-11 passes per bulletin item without it, 4.7 with it,
    30 items of the 2,000-item benchmark database, 2 December 2026).
    """

    def attempt(stated: int, padding: int) -> tuple[bytes, int]:
        filled = weight_html(stated, model.grams(stated)) + b" " * padding
        encoded = encode(html.replace(MARKER, filled, 1))
        return encoded, len(encoded) + head_bytes(len(encoded))

    size = len(html) if guess is None or exact else guess
    stated = size + head_bytes(size)
    tried: list[tuple[int, int, bytes]] = []  # (distance, stated, encoded)
    actual = stated
    for _ in range(MAX_ROUNDS if exact else FAST_ROUNDS):
        encoded, actual = attempt(stated, 0)
        if actual == stated:
            return encoded, stated
        tried.append((abs(actual - stated), stated, encoded))
        if any(previous == actual for _, previous, _ in tried):
            break  # a cycle: more rounds would repeat it
        stated = actual
    if not exact:
        _, stated, encoded = min(tried, key=lambda t: t[0])
        return encoded, stated
    # A space or two of padding after the figure usually settles a cycle; else look for a
    # fixed point among the numbers around where the rounds ended.
    closest = [n for _, n, _ in sorted(tried, key=lambda t: t[0])[:2]]
    near = sorted(
        range(actual - SEARCH_RADIUS, actual + SEARCH_RADIUS + 1), key=lambda n: abs(n - actual)
    )
    candidates = [(n, padding) for padding in (1, 2) for n in closest]
    candidates += [(n, 0) for n in near if all(n != previous for _, previous, _ in tried)]
    for n, padding in candidates[:SEARCH_ATTEMPTS]:
        encoded, measured = attempt(n, padding)
        if measured == n:
            return encoded, n
        tried.append((abs(measured - n), n, encoded))
    _, stated, encoded = min(tried, key=lambda t: t[0])
    return encoded, stated
