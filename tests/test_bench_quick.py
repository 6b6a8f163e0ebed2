"""A quick pass over the benchmark code, so `make test` notices when it rots. Nothing here
is timed: the real runs are `make bench` and `make load`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from greenweb.config import Settings
from greenweb.web.app import create_app
from greenweb.web.site import site_of

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks" / "serving"
sys.path.insert(0, str(BENCHMARKS))

import bigdata  # noqa: E402
import load  # noqa: E402
import measure  # noqa: E402

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.51ms    2.00ms  40.21ms   95.00%
    Req/Sec    22.10k     1.20k   24.00k    80.00%
  Latency Distribution
     50%  817.00us
     75%    1.20ms
     90%    2.50ms
     99%    1.02s
  110000 requests in 5.00s, 180.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  21999.50
Transfer/sec:     36.00MB
"""


def test_wrk_output_is_parsed_with_its_units() -> None:
    assert load.parse_wrk(WRK_OUTPUT) == (21999.5, pytest.approx(0.817), 1020.0, 110000, 3)


def test_cpu_per_view_measures_the_cached_home_page(seeded_settings: Settings) -> None:
    app = create_app(seeded_settings)
    cpu = measure.cpu_per_view(app, "/", [(b"accept-encoding", b"br")], iterations=20)
    assert cpu > 0
    assert site_of(app).page_store.stats.hits >= 20


def test_big_bulletin_files_import(tmp_path: Path) -> None:
    bigdata.write_bulletin(tmp_path / "src", count=8)
    db = bigdata.build(tmp_path / "greenweb.db", items=8, questions=0)
    import sqlite3

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM bulletin_item").fetchone() == (8,)
    assert conn.execute("SELECT count(*) FROM questions").fetchone() == (0,)
    conn.close()


def test_big_database_holds_board_questions_as_the_board_keeps_them(tmp_path: Path) -> None:
    import sqlite3

    db = bigdata.build(tmp_path / "greenweb.db", items=4, questions=200)
    conn = sqlite3.connect(db)
    states = dict(conn.execute("SELECT state, count(*) FROM questions GROUP BY state"))
    assert states == {"pubblicata": 178, "ricevuta": 12, "respinta": 8, "nascosta": 2}
    # "anch'io": the count column agrees with the votes rows, question by question.
    assert conn.execute(
        "SELECT count(*) FROM questions q WHERE me_too != "
        "(SELECT count(*) FROM votes v WHERE v.question_id = q.id)"
    ).fetchone() == (0,)
    assert conn.execute("SELECT sum(me_too) > 0 FROM questions").fetchone() == (1,)
    answered = conn.execute(
        "SELECT count(*), sum(answer_html LIKE '<p>%'), "
        "sum(EXISTS (SELECT 1 FROM question_resources r WHERE r.question_id = q.id)) "
        "FROM questions q WHERE answered_at IS NOT NULL"
    ).fetchone()
    assert answered[0] > 0 and answered == (answered[0], answered[0], answered[0])
    assert conn.execute("SELECT count(*) FROM questions WHERE piece_at IS NOT NULL").fetchone()[
        0
    ] == len([n for n in range(40, 201, 40) if n % 100 < 89])
    # Every question was logged as received, as visitors.create_question does.
    assert conn.execute(
        "SELECT count(*) FROM moderation_log WHERE action = 'received'"
    ).fetchone() == (200,)
    conn.close()


def test_ceiling_app_serves_a_saved_response(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import importlib
    import json

    from starlette.testclient import TestClient

    saved = tmp_path / "home.json"
    saved.write_text(
        json.dumps(
            {
                "headers": {"content-type": "text/html", "content-encoding": "br"},
                "body": base64.b64encode(b"\x8b\x00\x80ciao\x03").decode(),
            }
        )
    )
    monkeypatch.setenv("CEILING_RESPONSE", str(saved))
    import ceiling_app

    importlib.reload(ceiling_app)
    with TestClient(ceiling_app.app) as client:
        with client.stream("GET", "/") as response:
            assert b"".join(response.iter_raw()) == b"\x8b\x00\x80ciao\x03"
            assert response.headers["content-encoding"] == "br"
