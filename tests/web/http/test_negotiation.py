"""Accept-Encoding negotiation and on-the-fly compression of every response."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import AsyncIterator, Iterator

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.http import compression
from greenweb.web.http.negotiation import choose_coding, parse_accept_encoding, parse_qvalue
from support import REPO

SEED_TODAY_TEXT = "Bollettino"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "identity"),
        (b"", "identity"),
        (b"gzip, deflate, br", "br"),
        (b"gzip, deflate, br, zstd", "br"),
        (b"gzip", "gzip"),
        (b"x-gzip", "gzip"),
        (b"BR", "br"),
        (b"deflate", "identity"),
        (b"br;q=0.5, gzip", "gzip"),
        (b"br;q=0.8, gzip;q=0.8", "br"),
        (b"gzip;q=0.5", "gzip"),
        (b"br;q=0, gzip;q=0", "identity"),
        (b"br;q=0, gzip", "gzip"),
        (b"identity;q=0", "identity"),
        (b"identity;q=0, gzip", "gzip"),
        (b"identity;q=1, br;q=0.5", "identity"),
        (b"*", "br"),
        (b"*;q=0, gzip", "gzip"),
        (b"*;q=0.5, br;q=0", "gzip"),
        (b"*;q=0", "identity"),
        (b"gzip;q=1.5", "identity"),
        (b"br;q=abc, gzip;q=0.1", "gzip"),
        (b" br ; q=1.000 ,gzip", "br"),
        (b",,, ;q=1", "identity"),
    ],
)
def test_choose_coding_follows_q_values_then_server_preference(
    header: bytes | None, expected: str
) -> None:
    assert choose_coding(header) == expected


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", 1.0), ("0", 0.0), ("0.5", 0.5), ("0.123", 0.123), ("1.000", 1.0), ("0.", 0.0)],
)
def test_valid_qvalues_parse(raw: str, value: float) -> None:
    assert parse_qvalue(raw) == value


@pytest.mark.parametrize("raw", ["", "2", "1.5", "0.1234", "-0", "abc", ".5", "1.001"])
def test_malformed_qvalues_are_rejected(raw: str) -> None:
    assert parse_qvalue(raw) is None


def test_a_coding_listed_twice_keeps_its_best_q_value() -> None:
    assert parse_accept_encoding("gzip;q=0.2, gzip;q=0.7") == {"gzip": 0.7}


def test_encode_body_round_trips_and_is_deterministic() -> None:
    body = b"<p>Bollettino dell'impatto sociale</p>" * 50
    for coding in ("br", "gzip", "identity"):
        for stored in (True, False):
            encoded = compression.encode_body(body, coding, stored=stored)  # type: ignore[arg-type]
            assert compression.decode_body(encoded, coding) == body
            assert compression.encode_body(body, coding, stored=stored) == encoded  # type: ignore[arg-type]
    assert len(compression.encode_body(body, "br")) < len(body) // 10


@pytest.mark.parametrize("coding", ["br", "gzip", "identity"])
@given(prefix=st.binary(max_size=3_000), tail=st.binary(max_size=600), stored=st.booleans())
def test_an_open_body_closed_with_a_tail_decodes_to_both_at_its_stated_size(
    coding: str, prefix: bytes, tail: bytes, stored: bool
) -> None:
    opened = compression.open_body(prefix, coding, stored=stored)  # type: ignore[arg-type]
    body = opened.close(tail)
    assert len(body) == opened.size_with(len(tail))
    assert compression.decode_body(body, coding) == prefix + tail


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_a_tail_longer_than_one_stored_block_takes_several(coding: str) -> None:
    prefix = b"<p>Bollettino dell'impatto sociale</p>" * 50
    tail = bytes(range(256)) * 600  # 153,600 bytes: three blocks of either kind
    opened = compression.open_body(prefix, coding)  # type: ignore[arg-type]
    body = opened.close(tail)
    assert len(body) == opened.size_with(len(tail))
    assert compression.decode_body(body, coding) == prefix + tail
    if coding == "gzip":
        assert gzip.decompress(body) == prefix + tail  # CRC and length checked too
    else:
        decoder = brotli.Decompressor()
        assert decoder.process(body) == prefix + tail and decoder.is_finished()


def test_stored_brotli_is_not_bigger_than_on_the_fly_brotli() -> None:
    # The site's own templates and stylesheet: real text, the same bytes on every run
    # (random bytes made this a coin toss: 113 against 112 bytes on one run).
    sources = sorted((REPO / "templates").rglob("*.html")) + [REPO / "static" / "style.css"]
    body = b"".join(path.read_bytes() for path in sources)
    assert len(compression.encode_body(body, "br", stored=True)) <= len(
        compression.encode_body(body, "br", stored=False)
    )


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=utf-8", True),
        ("text/css", True),
        ("application/atom+xml; charset=utf-8", True),
        ("application/xml", True),
        ("application/json", True),
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/gzip", False),
        ("font/woff2", False),
        (None, False),
    ],
)
def test_only_text_media_types_are_compressible(content_type: str | None, expected: bool) -> None:
    assert compression.is_compressible(content_type) is expected


# --- over HTTP ---------------------------------------------------------------------------

BIG_TEXT = ("Dubbi sul clima: una domanda, una risposta, una fonte.\n" * 40).encode()
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


_tokens = itertools.count(1)


async def form_GET(request: Request) -> Response:
    token = f"{next(_tokens):016x}"  # a visitor's own token
    body = f"<!doctype html><form><input name=t value={token}></form>" + "<p>testo</p>" * 80
    return Response(body, media_type="text/html", headers={"Cache-Control": "no-store"})


async def png_GET(request: Request) -> Response:
    return Response(FAKE_PNG, media_type="image/png")


async def json_GET(request: Request) -> Response:
    return Response(BIG_TEXT, media_type="application/json", headers={"ETag": '"upstream"'})


async def stream_GET(request: Request) -> Response:
    from starlette.responses import StreamingResponse

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield BIG_TEXT

    return StreamingResponse(chunks(), media_type="text/plain")


@pytest.fixture
def extra_client(seeded_settings: Settings) -> Iterator[TestClient]:
    app = create_app(seeded_settings)
    app.router.routes.extend(
        [
            Route("/test/form", form_GET),
            Route("/test/png", png_GET),
            Route("/test/json", json_GET),
            Route("/test/stream", stream_GET),
        ]
    )
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_pages_are_sent_in_the_negotiated_coding_with_vary(client: TestClient, coding: str) -> None:
    response = client.get("/bollettino", headers={"Accept-Encoding": coding})
    assert response.headers["content-encoding"] == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert SEED_TODAY_TEXT in response.text  # the client decoded it


def test_identity_page_has_vary_and_no_content_encoding(client: TestClient) -> None:
    response = client.get("/bollettino", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(response.content)


def test_tiny_bodies_are_not_compressed_and_do_not_vary(client: TestClient) -> None:
    response = client.get("/robots.txt", headers={"Accept-Encoding": "br, gzip"})
    assert len(response.content) < compression.MIN_SIZE
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_feeds_are_compressed_too(client: TestClient) -> None:
    response = client.get("/feed.xml", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"


def test_already_compressed_media_is_left_alone(extra_client: TestClient) -> None:
    response = extra_client.get("/test/png", headers={"Accept-Encoding": "br, gzip"})
    assert response.content == FAKE_PNG
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers


def test_uncached_no_store_form_is_compressed_and_keeps_no_store(
    extra_client: TestClient,
) -> None:
    response = extra_client.get("/test/form", headers={"Accept-Encoding": "br"})
    assert response.headers["content-encoding"] == "br"
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers  # nothing may keep it, so nothing revalidates it
    assert "<form>" in response.text


def test_upstream_etag_is_replaced_when_the_bytes_change(extra_client: TestClient) -> None:
    br = extra_client.get("/test/json", headers={"Accept-Encoding": "br"})
    plain = extra_client.get("/test/json", headers={"Accept-Encoding": "identity"})
    assert br.content == plain.content == BIG_TEXT
    assert br.headers["etag"] != '"upstream"'
    assert br.headers["etag"].endswith('-br"')
    assert br.headers["etag"] != plain.headers["etag"]


def test_streamed_responses_are_compressed_whole(extra_client: TestClient) -> None:
    response = extra_client.get("/test/stream", headers={"Accept-Encoding": "gzip"})
    assert response.content == BIG_TEXT * 3
    assert response.headers["content-encoding"] == "gzip"


def test_raw_bytes_decode_to_the_same_page_in_every_coding(client: TestClient) -> None:
    import re

    texts = {}
    for coding in ("br", "gzip", "identity"):
        with client.stream("GET", "/scadenze", headers={"Accept-Encoding": coding}) as response:
            raw = b"".join(response.iter_raw())
        assert int(response.headers["content-length"]) == len(raw)
        decoded = {"br": brotli.decompress, "gzip": gzip.decompress}.get(coding, bytes)(raw)
        # Only the footer's own weight differs between codings.
        texts[coding] = re.sub(rb"Questa pagina: .*?CO2e", b"", decoded)
    assert texts["br"] == texts["gzip"] == texts["identity"]


def test_a_large_body_to_keep_gets_the_fast_brotli_setting() -> None:
    # Brotli 11 on a 10 MB file costs seconds (see compression.py): not worth it.
    body = "".join(f"riga {n}: domanda sul clima numero {n * 7919 % 10007}\n" for n in range(4000))
    large = body.encode()
    assert len(large) > compression.LARGE_BODY
    assert compression.encode_body(large, "br", stored=True) == compression.encode_body(
        large, "br", stored=False
    )
    small = large[: compression.LARGE_BODY]
    assert compression.encode_body(small, "br", stored=True) != compression.encode_body(
        small, "br", stored=False
    )
