"""Raw ASGI header pairs: reading one, merging defaults, ``Vary`` and ``Cache-Control``.

Every middleware works on the ``(name, value)`` byte pairs of the ASGI messages, names in
lower case, rather than on Starlette's header objects: it costs one list scan, and these
run on every response.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

RawHeaders = list[tuple[bytes, bytes]]


def header_value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of header ``name`` (lower-case bytes) in an ASGI header list."""
    for key, value in headers:
        if key == name:
            return value
    return None


def anonymous(request_headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """No cookie, no credentials: the response cannot depend on who is asking."""
    return all(name not in (b"cookie", b"authorization") for name, _ in request_headers)


def cache_directives(cache_control: bytes | None) -> set[str]:
    """The directive names of a ``Cache-Control`` value, lower case (``{"public", ...}``)."""
    if not cache_control:
        return set()
    return {
        part.split("=", 1)[0].strip().lower()
        for part in cache_control.decode("latin-1").split(",")
        if part.strip()
    }


def chose_own_coding(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """The response negotiated its content coding already (it says so, or varies on it)."""
    for name, value in headers:
        if name == b"content-encoding":
            return True
        if name == b"vary" and b"accept-encoding" in value.lower():
            return True
    return False


def add_vary(headers: Iterable[tuple[bytes, bytes]], field: bytes) -> RawHeaders:
    """``headers`` with ``field`` added to ``Vary`` (merged into one already there)."""
    out = []
    merged = False
    for name, value in headers:
        if name == b"vary":
            merged = True
            if value.strip() != b"*":
                value = value + b", " + field
        out.append((name, value))
    if not merged:
        out.append((b"vary", field))
    return out


def add_missing(
    present: RawHeaders, defaults: Sequence[tuple[bytes, bytes]], names: frozenset[bytes]
) -> RawHeaders:
    """``present`` plus each default header it does not already set (in any case).

    ``names`` are the defaults' names, computed once by the caller.
    """
    overridden = {name.lower() for name, _ in present} & names
    if not overridden:
        return present + list(defaults)
    return present + [pair for pair in defaults if pair[0] not in overridden]
