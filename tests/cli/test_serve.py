"""`greenweb serve` as deployed: headers on the wire, access log, raw hostile requests, load."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from support import import_seed, make_settings
from support.hostile import assert_healthy, table_counts
from support.load import assert_no_server_errors, run_load
from support.raw_http import http_request
from support.servers import LiveServer, wait_until

pytestmark = pytest.mark.slow

FORWARDED = "198.51.100.23"
ACCESS_LINE = re.compile(r"^\S+ \S+ (GET|POST|HEAD|PUT) \S+ \d{3} \d+B \d+\.\dms$")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("real-server")
    settings = make_settings(workdir)
    import_seed(settings)
    with LiveServer.greenweb(
        workdir, settings.db_path, GREENWEB_SECURITY_CONTACT="sicurezza@greenweb.example"
    ) as live:
        yield live


def test_no_server_banner_and_security_headers_on_the_wire(server: LiveServer) -> None:
    response = server.get("/")
    assert response.status_code == 200
    assert "server" not in response.headers
    assert "date" in response.headers
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers  # plain http here
    missing = server.get("/non-esiste")
    assert missing.status_code == 404 and "server" not in missing.headers


HSTS = "strict-transport-security"


@pytest.mark.parametrize("proxy_headers", [True, False])
def test_hsts_only_when_a_trusted_proxy_says_the_request_came_over_https(
    tmp_path: Path, proxy_headers: bool
) -> None:
    args = ["--proxy-headers"] if proxy_headers else []
    https_site = {"GREENWEB_BASE_URL": "https://greenweb.example"}
    with LiveServer.greenweb(tmp_path, args=args, **https_site) as live:
        over_https = live.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert (HSTS in over_https.headers) is proxy_headers  # the peer is 127.0.0.1
        if proxy_headers:
            assert over_https.headers[HSTS] == "max-age=31536000"
        # Plain http, said or unsaid: never (RFC 6797 §7.2).
        assert HSTS not in live.get("/healthz").headers
        assert HSTS not in live.get("/", headers={"X-Forwarded-Proto": "http"}).headers


def test_security_txt_is_served(server: LiveServer) -> None:
    response = server.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert "Contact: mailto:sicurezza@greenweb.example" in response.text
    assert f"Canonical: {server.base_url}/.well-known/security.txt" in response.text


def test_access_log_has_one_line_per_request_and_no_address(server: LiveServer) -> None:
    marker = "/bollettino/voce-per-il-registro"
    with server.client(headers={"X-Forwarded-For": FORWARDED, "X-Real-IP": FORWARDED}) as c:
        assert c.get(marker).status_code == 404
        assert c.get("/cerca", params={"q": "dati personali"}).status_code == 200
    # The line is written once the response is sent: the client may read it first.
    wait_until(lambda: " GET /cerca 200 " in server.stdout(), 10, "the access log line")
    lines = server.access_log()
    assert lines, server.output()
    for line in lines:
        assert ACCESS_LINE.match(line), line
        assert not IPV4.search(line.split(" ", 2)[2]), line  # past the timestamp
    # The route's pattern, not which item was asked for.
    assert any(" GET /bollettino/{slug} 404 " in line for line in lines)
    assert "voce-per-il-registro" not in server.stdout()
    assert any(" GET /cerca 200 " in line for line in lines)
    log = server.stdout() + server.stderr()
    assert FORWARDED not in log
    assert "personali" not in log
    # uvicorn's own access log (with client addresses) stays off.
    assert '"GET / HTTP/1.1"' not in log


def test_path_traversal_over_raw_http_finds_nothing(server: LiveServer) -> None:
    for target in (
        b"/static/../pyproject.toml",
        b"/static/../../pyproject.toml",
        b"/static/..%2fpyproject.toml",
        b"/static/%2e%2e/%2e%2e/pyproject.toml",
        b"/static/..%c0%afpyproject.toml",
        b"/static/..\\..\\pyproject.toml",
        b"/../../../../etc/passwd",
    ):
        answer = server.raw(http_request(b"GET " + target))
        assert answer.status in {400, 404}, (target, answer.raw[:200])
        assert b"[build-system]" not in answer.body and b"root:" not in answer.body
    with server.client() as client:
        assert_healthy(client)


def test_raw_hostile_requests_get_4xx_and_leave_the_server_healthy(server: LiveServer) -> None:
    before = table_counts(server.db_path)
    form = b"Content-Type: application/x-www-form-urlencoded"
    chunks = (b"8000\r\n" + b"a" * 0x8000 + b"\r\n") * 3 + b"0\r\n\r\n"
    cases: list[tuple[bytes, set[int]]] = [
        # Invalid UTF-8 sent raw (no percent-encoding): refused by uvicorn or by greenweb.
        (http_request(b"GET /cerca?q=\xff\xfe"), {0, 400}),
        (http_request(b"GET /cerca?q=%ff"), {400}),
        (http_request(b"GET /cerca?q=a%00b"), {400}),
        (http_request(b"GET /cerca?q=a\x00b"), {0, 400}),
        # A declared body over the limit: refused before a byte of it is read.
        (http_request(b"POST /cerca", b"Content-Length: 99999999", form, body=b"q=1"), {413}),
        # A chunked body that grows past the limit.
        (http_request(b"POST /cerca", b"Transfer-Encoding: chunked", form, body=chunks), {413}),
        # Malformed lengths: uvicorn's parser or greenweb refuse them.
        (http_request(b"POST /cerca", b"Content-Length: abc"), {400}),
        (http_request(b"POST /cerca", b"Content-Length: 1", b"Content-Length: 2"), {400}),
        # A 1 MB URL: more than any request line may be.
        (http_request(b"GET /cerca?q=" + b"a" * 1024 * 1024), {0, 400, 414}),
        # Header injection through the URL.
        (http_request(b"GET /cerca?q=%0d%0aSet-Cookie:x=1"), {400}),
        (b"GARBAGE\r\n\r\n", {0, 400}),
    ]
    for request, allowed in cases:
        answer = server.raw(request)
        assert answer.status in allowed, (request[:80], answer.raw[:300])
        assert "set-cookie" not in answer.headers
        if answer.status:
            assert answer.headers.get("server") is None
        with server.client() as client:
            assert_healthy(client)
    assert server.running
    assert table_counts(server.db_path) == before


def read_page(client: httpx2.Client, index: int) -> httpx2.Response:
    pages = ("/", "/bollettino", "/bollettino/horizon-europe", "/cerca?q=clima", "/scadenze")
    return client.get(pages[index % len(pages)])


def test_concurrent_readers_get_only_200(server: LiveServer) -> None:
    result = run_load(server, read_page, count=200, clients=8, deadline=60)
    assert_no_server_errors(result)
    assert result.skipped == 0
    assert result.statuses() == {200: 200}


@pytest.mark.stress
def test_many_concurrent_readers_get_only_200(server: LiveServer) -> None:
    result = run_load(server, read_page, count=5000, clients=64, deadline=300)
    assert_no_server_errors(result)
    assert result.failures() == []
    assert result.statuses()[200] == 5000 - result.skipped


def test_a_second_server_does_not_share_state(tmp_path: Path) -> None:
    """The harness itself: two servers, two ports, two databases, both stopped cleanly."""
    one = LiveServer.greenweb(tmp_path / "one")
    two = LiveServer.greenweb(tmp_path / "two")
    with one, two:
        assert one.port != two.port
        assert one.get("/healthz").json()["bulletin_items"] == 0
        assert two.get("/healthz").status_code == 200
    assert not one.running and not two.running
    assert one.returncode == 0 and two.returncode == 0
