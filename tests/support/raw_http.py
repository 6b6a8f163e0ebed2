"""Raw HTTP/1.1 over a socket, for what clients refuse to send and for bytes as sent."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 15.0


@dataclass(frozen=True)
class RawResponse:
    status: int  # 0 when the server closed the connection without answering
    headers: dict[str, str]  # names in lower case
    body: bytes
    raw: bytes  # every byte received: status line, headers, blank line, body

    @property
    def size(self) -> int:
        return len(self.raw)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_response(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return RawResponse(0, {}, b"", raw)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(status, headers, body, raw)


def http_request(
    request_line: bytes, *headers: bytes, body: bytes = b"", close: bool = True
) -> bytes:
    """``http_request(b"GET /x", b"Content-Length: 3", body=b"abc")``: the bytes of a
    request, with ``Host`` and (unless ``close=False``) ``Connection: close`` added."""
    lines = [request_line + b" HTTP/1.1", b"Host: greenweb.test", *headers]
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def raw_http(port: int, request: bytes, timeout: float = REQUEST_TIMEOUT) -> RawResponse:
    """Send ``request`` bytes as they are and read until the server closes.

    Add ``Connection: close`` to the request so the server ends the exchange.
    """
    chunks: list[bytes] = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may answer and close before reading all of it
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
    return parse_response(b"".join(chunks))


def raw_get(
    port: int,
    target: str,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = REQUEST_TIMEOUT,
) -> RawResponse:
    """GET over a fresh keep-alive connection, read to the end of the head and then
    Content-Length bytes: the exchange exactly as a browser gets it (no
    ``Connection: close`` in the answer)."""
    return raw_gets(port, [target], headers, timeout=timeout)[0]


def raw_gets(
    port: int,
    targets: list[str],
    headers: dict[str, str] | None = None,
    *,
    timeout: float = REQUEST_TIMEOUT,
) -> list[RawResponse]:
    """:func:`raw_get` of each target in turn on one keep-alive connection: with several
    worker processes, one worker answers them all."""
    answers = []
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        data = b""
        for target in targets:
            lines = [f"GET {target} HTTP/1.1", f"Host: {HOST}:{port}"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"connection closed after {data!r}")
                data += chunk
            head, _, data = data.partition(b"\r\n\r\n")
            length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
            wanted = int(length.group(1)) if length else 0
            while len(data) < wanted:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            body, data = data[:wanted], data[wanted:]
            answers.append(parse_response(head + b"\r\n\r\n" + body))
    return answers
