"""Every way a visitor's POST can be wrong: the right refusal, never a 500, nothing stored.
Rate limits, double submits and publishing without pre-moderation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from greenweb import security
from greenweb.config import Settings
from support import make_settings
from support.board import (
    T0,
    Clock,
    as_client,
    ask,
    board_client,
    publish_directly,
    query,
    row_counts,
    token_for,
)

TEXT = "Le auto elettriche inquinano davvero meno di quelle a benzina?"
URLENCODED = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Board:
    client: TestClient
    clock: Clock
    settings: Settings
    public_id: int
    pending_id: int

    def form_token(self) -> str:
        page = self.client.get("/domande/nuova")
        return token_for(page.text, "/domande/nuova")

    def question_tokens(self, question_id: int | None = None) -> tuple[str, str]:
        qid = question_id or self.public_id
        page = self.client.get(f"/domande/{qid}")
        return (
            token_for(page.text, f"/domande/{qid}/anchio"),
            token_for(page.text, f"/domande/{qid}/segnala"),
        )

    def issue(self, form: str) -> str:
        return security.issue_token(self.settings.secret_bytes, form, self.clock())


@pytest.fixture
def board(settings: Settings) -> Iterator[Board]:
    clock = Clock()
    with board_client(settings, clock) as client:
        public = publish_directly(settings)[0]
        pending = publish_directly(settings, state="ricevuta", published_at=None)[0]
        yield Board(client, clock, settings, public, pending)


def post_question(b: Board, wait: float = 10, headers: dict[str, str] | None = None, **fields: Any):  # type: ignore[no-untyped-def]
    data = {"token": b.form_token(), "testo": TEXT, "nome": "", "tema": "", "sito_web": ""}
    b.clock.advance(wait)
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return b.client.post("/domande/nuova", data=data, headers=headers, follow_redirects=False)


def post_vote(b: Board, token: str | None = None, qid: int | None = None, **fields: Any):  # type: ignore[no-untyped-def]
    qid = qid or b.public_id
    if token is None:
        token = b.question_tokens()[0]
        b.clock.advance(5)
    data = {"token": token, "sito_web": "", **fields}
    return b.client.post(f"/domande/{qid}/anchio", data=data, follow_redirects=False)


def post_unvote(b: Board, token: str | None = None, qid: int | None = None, **fields: Any):  # type: ignore[no-untyped-def]
    qid = qid or b.public_id
    token = b.issue(f"unvote-{qid}") if token is None else token
    b.clock.advance(5)
    data = {"token": token, "sito_web": "", **fields}
    return b.client.post(f"/domande/{qid}/anchio/ritira", data=data, follow_redirects=False)


def post_report(b: Board, reason: str | None = "spam", qid: int | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    qid = qid or b.public_id
    token = kw.pop("token", None) or b.issue(f"report-{qid}")
    b.clock.advance(5)
    data = {"token": token, "sito_web": "", "motivo": reason}
    data = {k: v for k, v in data.items() if v is not None}
    return b.client.post(f"/domande/{qid}/segnala", data=data, follow_redirects=False, **kw)


def raw_post(b: Board, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return b.client.post(path, content=body, headers=headers, follow_redirects=False)


def token_then_body(b: Board, body: str) -> bytes:
    token = b.form_token()
    b.clock.advance(10)
    return f"token={token}&{body}".encode()


# Each case: (name, action, expected status, text the answer must contain).
Case = tuple[str, Callable[[Board], httpx.Response], int, str]


def cross_origin(name: str, headers: dict[str, str]) -> Case:
    """A question posted with these headers, from another origin: refused."""
    return (name, lambda b: post_question(b, headers=headers), 403, "solo da una pagina")


CASES: list[Case] = [
    ("missing token", lambda b: post_question(b, token=None), 403, "incompleto"),
    ("empty token", lambda b: post_question(b, token=""), 403, "incompleto"),
    (
        "forged token",
        lambda b: post_question(b, token="1.question.AAAAAAAAAAAAAAAAAAAAAA." + "A" * 43),
        403,
        "non è valido",
    ),
    (
        "token signed elsewhere",
        lambda b: post_question(b, token=security.issue_token(b"x", "question", T0)),
        403,
        "non è valido",
    ),
    (
        "token of another form",
        lambda b: post_question(b, token=b.issue("vote-1")),
        403,
        "altra pagina",
    ),
    ("expired token keeps the text", lambda b: post_question(b, wait=7201), 403, TEXT),
    ("too fast keeps the text", lambda b: post_question(b, wait=1), 403, "troppo rapido"),
    (
        "honeypot filled",
        lambda b: post_question(b, sito_web="http://spam.example"),
        400,
        "deve restare vuoto",
    ),
    ("too short", lambda b: post_question(b, testo="Perché?"), 422, "troppo breve"),
    ("too long", lambda b: post_question(b, testo="x" * 1001), 422, "troppo lunga"),
    (
        "only control characters",
        # (NUL never gets this far: the request limits refuse it, see test_limits.py.)
        lambda b: post_question(b, testo="\x01\u202e\t \r\n\x7f"),
        422,
        "vuota",
    ),
    ("missing text", lambda b: post_question(b, testo=None), 422, "vuota"),
    ("name too long", lambda b: post_question(b, nome="n" * 41), 422, "Il nome può avere"),
    ("unknown topic", lambda b: post_question(b, tema="astrologia"), 422, "Scegli un tema"),
    ("preview only", lambda b: post_question(b, anteprima="1"), 200, "Anteprima"),
    cross_origin("cross-site by Sec-Fetch-Site", {"sec-fetch-site": "cross-site"}),
    cross_origin("same-site is not same-origin", {"sec-fetch-site": "same-site"}),
    cross_origin("cross-site by Origin", {"origin": "https://evil.example"}),
    cross_origin("opaque Origin", {"origin": "null"}),
    (
        "body over 32 KB",
        lambda b: raw_post(
            b, "/domande/nuova", token_then_body(b, "testo=" + "x" * 40_000), URLENCODED
        ),
        413,
        "troppo grandi",
    ),
    (
        "streamed body over 32 KB",
        lambda b: b.client.post(
            "/domande/nuova",
            content=iter([b"testo=", b"x" * 20_000, b"x" * 20_000]),
            headers=URLENCODED,
        ),
        413,
        "troppo grandi",
    ),
    (
        "JSON body",
        lambda b: raw_post(
            b, "/domande/nuova", b'{"testo": "x"}', {"content-type": "application/json"}
        ),
        415,
        "urlencoded",
    ),
    (
        "multipart body",
        lambda b: b.client.post("/domande/nuova", files={"testo": ("a.txt", b"x" * 20)}),
        415,
        "urlencoded",
    ),
    (
        "latin-1 charset",
        lambda b: raw_post(
            b,
            "/domande/nuova",
            # ASCII bytes: valid UTF-8 too, so the request limits let it through to the form.
            b"testo=cafe",
            {"content-type": "application/x-www-form-urlencoded; charset=latin-1"},
        ),
        415,
        "UTF-8",
    ),
    (
        "invalid UTF-8",
        lambda b: raw_post(
            b,
            "/domande/nuova",
            token_then_body(b, "testo=caf%E9%FF%FE+lungo+abbastanza"),
            URLENCODED,
        ),
        400,
        "non sono codificati correttamente",
    ),
    (
        "raw invalid UTF-8",
        lambda b: raw_post(b, "/domande/nuova", b"testo=\xff\xfe", URLENCODED),
        400,
        "non sono codificati correttamente",
    ),
    (
        "bad content-length",
        lambda b: raw_post(b, "/domande/nuova", b"testo=x", {**URLENCODED, "content-length": "-1"}),
        400,
        "",
    ),
    (
        "repeated field",
        lambda b: raw_post(
            b,
            "/domande/nuova",
            token_then_body(b, f"testo={'x' * 20}&testo={'y' * 20}"),
            URLENCODED,
        ),
        400,
        "due volte",
    ),
    (
        "too many fields",
        lambda b: raw_post(
            b, "/domande/nuova", "&".join(f"f{n}=1" for n in range(200)).encode(), URLENCODED
        ),
        400,
        "troppi campi",
    ),
    ("wrong method", lambda b: b.client.put("/domande/nuova", data={"testo": TEXT}), 405, ""),
    ("vote without token", lambda b: post_vote(b, token=""), 403, "incompleto"),
    (
        "vote with question-form token",
        lambda b: post_vote(b, token=b.issue("question")),
        403,
        "altra pagina",
    ),
    (
        "vote token of another question",
        lambda b: post_vote(b, token=b.issue(f"vote-{b.pending_id}")),
        403,
        "altra pagina",
    ),
    ("vote too fast", lambda b: post_vote(b, token=b.question_tokens()[0]), 403, "troppo rapido"),
    ("vote honeypot", lambda b: post_vote(b, sito_web="x"), 400, "deve restare vuoto"),
    (
        "vote on a pending question",
        lambda b: post_vote(b, token=b.issue(f"vote-{b.pending_id}"), qid=b.pending_id),
        404,
        "non è pubblicata",
    ),
    (
        "vote on a missing question",
        lambda b: post_vote(b, token=b.issue("vote-999"), qid=999),
        404,
        "non è pubblicata",
    ),
    ("vote by GET", lambda b: b.client.get(f"/domande/{b.public_id}/anchio"), 405, ""),
    (
        "take-back of a vote never said",
        lambda b: post_unvote(b, token=b.issue(f"unvote-{b.public_id}")),
        409,
        "non è cambiato nulla",
    ),
    (
        "take-back with a vote token",
        lambda b: post_unvote(b, token=b.issue(f"vote-{b.public_id}")),
        403,
        "altra pagina",
    ),
    (
        "take-back token of another question",
        lambda b: post_unvote(b, token=b.issue(f"unvote-{b.pending_id}")),
        403,
        "altra pagina",
    ),
    (
        "take-back on a pending question",
        lambda b: post_unvote(b, token=b.issue(f"unvote-{b.pending_id}"), qid=b.pending_id),
        404,
        "non è pubblicata",
    ),
    ("take-back honeypot", lambda b: post_unvote(b, sito_web="x"), 400, "deve restare vuoto"),
    ("report without reason", lambda b: post_report(b, reason=None), 422, "Scegli il motivo"),
    (
        "report with unknown reason",
        lambda b: post_report(b, reason="<script>"),
        422,
        'aria-invalid="true"',
    ),
    (
        "report on a pending question",
        lambda b: post_report(b, qid=b.pending_id),
        404,
        "non è pubblicata",
    ),
    (
        "report cross-site",
        lambda b: post_report(b, headers={"sec-fetch-site": "cross-site"}),
        403,
        "solo da una pagina",
    ),
    (
        "report with a vote token",
        lambda b: post_report(b, token=b.issue(f"vote-{b.public_id}")),
        403,
        "altra pagina",
    ),
]


@pytest.mark.parametrize(("name", "action", "status", "expected"), CASES, ids=[c[0] for c in CASES])
def test_invalid_submission_is_refused_and_changes_nothing(
    board: Board,
    name: str,
    action: Callable[[Board], httpx.Response],
    status: int,
    expected: str,
) -> None:
    before = row_counts(board.settings)
    response = action(board)
    assert response.status_code == status, response.text[-600:]
    assert expected in response.text
    assert row_counts(board.settings) == before
    assert "set-cookie" not in response.headers
    if response.request.method == "POST" and status != 405:
        assert response.headers["cache-control"] == "no-store"
    assert board.client.get("/domande").status_code == 200  # still healthy


def test_invalid_question_form_marks_the_field_and_keeps_the_text(board: Board) -> None:
    response = post_question(board, testo="Troppo corta", nome="Anna")
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="testo-aiuto testo-errore"' in response.text
    assert '<span id="testo-errore" class="error">La domanda è troppo breve' in response.text
    assert ">Troppo corta</textarea>" in response.text
    assert 'value="Anna"' in response.text


def test_user_text_is_escaped_when_shown_back(board: Board) -> None:
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" abbastanza lungo'
    response = post_question(board, testo=evil, nome='"><b>x</b>', anteprima="1")
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert 'value="&#34;&gt;&lt;b&gt;x&lt;/b&gt;"' in response.text


def test_replayed_token_is_refused_and_stores_once(board: Board) -> None:
    token = board.form_token()
    board.clock.advance(10)
    data = {"token": token, "testo": TEXT, "sito_web": ""}
    first = board.client.post("/domande/nuova", data=data, follow_redirects=False)
    assert first.status_code == 303
    before = row_counts(board.settings)
    second = board.client.post("/domande/nuova", data=data, follow_redirects=False)
    assert second.status_code == 409
    assert "già stato inviato" in second.text
    assert row_counts(board.settings) == before
    assert query(board.settings, "SELECT count(*) FROM questions WHERE text = ?", (TEXT,)) == [(1,)]


def test_double_submit_racing_past_the_early_check_still_stores_once(
    board: Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never_used(conn: object, nonce: str) -> bool:
        return False  # as if both requests were read before either committed

    monkeypatch.setattr(security, "nonce_used", never_used)
    token = board.form_token()
    board.clock.advance(10)
    data = {"token": token, "testo": TEXT, "sito_web": ""}
    assert board.client.post("/domande/nuova", data=data, follow_redirects=False).status_code == 303
    before = row_counts(board.settings)
    again = board.client.post("/domande/nuova", data=data, follow_redirects=False)
    assert again.status_code == 409
    assert row_counts(board.settings) == before


def test_expired_form_comes_back_with_a_fresh_token_that_works(board: Board) -> None:
    refused = post_question(board, wait=7201)
    assert refused.status_code == 403
    board.clock.advance(10)
    retry = board.client.post(
        "/domande/nuova",
        data={"token": token_for(refused.text, "/domande/nuova"), "testo": TEXT},
        follow_redirects=False,
    )
    assert retry.status_code == 303


def test_too_fast_form_keeps_its_token_which_works_a_moment_later(board: Board) -> None:
    token = board.form_token()
    board.clock.advance(1)
    refused = board.client.post("/domande/nuova", data={"token": token, "testo": TEXT})
    assert refused.status_code == 403
    assert token_for(refused.text, "/domande/nuova") == token
    board.clock.advance(3)
    retry = board.client.post(
        "/domande/nuova", data={"token": token, "testo": TEXT}, follow_redirects=False
    )
    assert retry.status_code == 303


def test_vote_too_fast_shows_the_question_again_with_a_message(board: Board) -> None:
    vote_token = board.question_tokens()[0]
    response = post_vote(board, token=vote_token)
    assert response.status_code == 403
    assert "<h1>" in response.text and 'role="alert"' in response.text
    assert response.headers["cache-control"] == "no-store"


def test_the_button_says_anchio_then_offers_to_take_it_back(board: Board) -> None:
    page = board.client.get(f"/domande/{board.public_id}").text
    assert "<button>Anch'io</button>" in page and "Ritira il mio" not in page
    assert post_vote(board).status_code == 303
    page = board.client.get(f"/domande/{board.public_id}").text
    assert "Ritira il mio «anch'io»</button>" in page
    assert f'action="/domande/{board.public_id}/anchio/ritira"' in page
    assert "<button>Anch'io</button>" not in page


def test_a_taken_back_vote_moves_the_count_down_by_one(board: Board) -> None:
    other = as_client("192.0.2.77")
    page = board.client.get(f"/domande/{board.public_id}", headers=other)
    board.clock.advance(5)
    action = f"/domande/{board.public_id}/anchio"
    board.client.post(action, data={"token": token_for(page.text, action)}, headers=other)
    assert post_vote(board).status_code == 303
    assert query(
        board.settings, "SELECT me_too FROM questions WHERE id = ?", (board.public_id,)
    ) == [(2,)]
    page = board.client.get(f"/domande/{board.public_id}")
    board.clock.advance(5)
    action = f"/domande/{board.public_id}/anchio/ritira"
    response = board.client.post(
        action, data={"token": token_for(page.text, action)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/domande/{board.public_id}#anchio"
    counted = (
        "SELECT me_too, (SELECT count(*) FROM votes WHERE question_id = q.id) "
        "FROM questions q WHERE id = ?"
    )
    assert query(board.settings, counted, (board.public_id,)) == [(1, 1)]
    page = board.client.get(f"/domande/{board.public_id}").text
    assert "<button>Anch'io</button>" in page and "1 persona ha lo stesso dubbio" in page
    # The other person's "anch'io" stays.
    assert "Ritira il mio" in board.client.get(f"/domande/{board.public_id}", headers=other).text


def test_same_origin_post_is_accepted(board: Board) -> None:
    ok = post_question(
        board, headers={"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    )
    assert ok.status_code == 303
    also = post_question(board, headers={"origin": "http://testserver"})
    assert also.status_code == 303


# --- rate limits -----------------------------------------------------------------------------


@pytest.fixture
def limited(tmp_path: Any) -> Iterator[Board]:
    settings = make_settings(
        tmp_path, rate_questions_per_hour=2, rate_votes_per_hour=2, rate_reports_per_hour=1
    )
    clock = Clock()
    with board_client(settings, clock) as client:
        ids = publish_directly(settings, 3)
        yield Board(client, clock, settings, ids[0], ids[1])


def test_too_many_questions_get_429_with_retry_after_and_the_text_kept(limited: Board) -> None:
    visitor = as_client("192.0.2.10")
    for _ in range(2):
        assert ask(limited.client, limited.clock, TEXT, headers=visitor).status_code == 303
    before = row_counts(limited.settings)
    refused = ask(limited.client, limited.clock, TEXT + " Terza.", headers=visitor)
    assert refused.status_code == 429
    retry = int(refused.headers["retry-after"])
    assert 3500 < retry <= 3601
    assert "Riprova tra 59 minuti" in refused.text or "Riprova tra 1 ora" in refused.text
    assert TEXT + " Terza." in refused.text
    assert refused.headers["cache-control"] == "no-store"
    assert row_counts(limited.settings) == before
    # Someone else is not limited...
    other = ask(limited.client, limited.clock, TEXT, headers=as_client("192.0.2.11"))
    assert other.status_code == 303
    # ...and the first visitor may ask again once the hour has passed.
    limited.clock.advance(3600)
    assert ask(limited.client, limited.clock, TEXT, headers=visitor).status_code == 303


def test_too_many_votes_get_429_with_an_italian_page(limited: Board) -> None:
    ids = [row[0] for row in query(limited.settings, "SELECT id FROM questions ORDER BY id")]
    for question_id in ids[:2]:
        assert post_vote(limited, qid=question_id, token=limited.issue(f"vote-{question_id}"))
    responses = []
    for question_id in ids:
        token = limited.issue(f"vote-{question_id}")
        limited.clock.advance(5)
        responses.append(post_vote(limited, token=token, qid=question_id))
    assert [r.status_code for r in responses[:2]] == [303, 303]
    refused = responses[2]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "<h1>Troppe richieste</h1>" in refused.text
    assert "Riprova tra" in refused.text
    assert query(limited.settings, "SELECT sum(me_too) FROM questions") == [(2,)]


def test_too_many_reports_get_429(limited: Board) -> None:
    assert post_report(limited).status_code == 303
    refused = post_report(limited, qid=limited.pending_id)
    assert refused.status_code == 429
    assert "segnalazioni" in refused.text


def test_rate_limit_zero_lifts_the_limit(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, rate_questions_per_hour=0)
    clock = Clock()
    with board_client(settings, clock) as client:
        for n in range(8):
            assert ask(client, clock, f"{TEXT} Numero {n}.").status_code == 303
    assert query(settings, "SELECT count(*) FROM questions") == [(8,)]
    assert query(settings, "SELECT count(*) FROM rate_events") == [(0,)]


def test_min_token_age_zero_allows_instant_posts(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, token_min_age=0)
    with board_client(settings) as client:
        page = client.get("/domande/nuova")
        response = client.post(
            "/domande/nuova",
            data={"token": token_for(page.text, "/domande/nuova"), "testo": TEXT},
            follow_redirects=False,
        )
    assert response.status_code == 303


# --- without pre-moderation --------------------------------------------------------------------


def test_without_premoderation_questions_appear_at_once(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, premoderation=False)
    clock = Clock()
    with board_client(settings, clock) as client:
        sent = ask(client, clock, TEXT)
        assert sent.status_code == 303
        assert "già pubblicata" in client.get(sent.headers["location"]).text
        assert TEXT in client.get("/domande").text
        log = client.get("/moderazione/registro").text
        assert "pubblicata (senza moderazione preventiva)" in log
    assert query(settings, "SELECT state FROM questions") == [("pubblicata",)]
