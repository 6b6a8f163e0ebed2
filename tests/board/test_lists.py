"""Long lists stay flat: with 10,000 questions, page 400 weighs what page 1 weighs, and
every list query walks one covering index in order (no sort, no table scan)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.board import questions
from support import make_settings
from support.board import T0, board_client, brotli_size, dom_elements

QUESTIONS = 10_000
BUDGET_BYTES = 14_600
BUDGET_ELEMENTS = 300

# Worst-case content: every text at the 1,000-character limit and every name at 40, made
# of random "words" (hex with a space for every 0) that compress badly.
FILL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {QUESTIONS})
INSERT INTO questions (text, display_name, topic, state, created_at, published_at,
                       answered_at, answer_md, answer_html, piece_title, piece_at, piece_url,
                       updated_at, me_too)
SELECT substr('Domanda ' || i || ' ' || replace(lower(hex(randomblob(500))), '0', ' '), 1, 1000),
       substr(hex(randomblob(20)), 1, 40),
       (SELECT slug FROM topics WHERE position = 1 + i % 6),
       CASE WHEN i % 50 = 0 THEN 'ricevuta' ELSE 'pubblicata' END,
       {int(T0)} + i * 60,
       CASE WHEN i % 50 = 0 THEN NULL ELSE {int(T0)} + i * 60 END,
       CASE WHEN i % 3 = 0 AND i % 50 != 0 THEN {int(T0)} + i * 60 + 30 END,
       CASE WHEN i % 3 = 0 AND i % 50 != 0 THEN 'Risposta.' END,
       CASE WHEN i % 3 = 0 AND i % 50 != 0 THEN '<p>Risposta.</p>' END,
       CASE WHEN i % 7 = 0 AND i % 50 != 0 THEN 'Pillola ' || hex(randomblob(40)) END,
       CASE WHEN i % 7 = 0 AND i % 50 != 0 THEN {int(T0)} + i * 60 + 40 END,
       CASE WHEN i % 7 = 0 AND i % 50 != 0 THEN 'https://example.org/' || hex(randomblob(20)) END,
       {int(T0)} + i * 60,
       abs(random()) % 5000
FROM n
"""
# Two log lines per question, every fifth with a 300-character reason.
FILL_LOG = """
INSERT INTO moderation_log (at, action, question_id, reason, moderator)
SELECT created_at, 'received', id, NULL, NULL FROM questions
UNION ALL
SELECT published_at, 'published', id,
       CASE WHEN id % 5 = 0 THEN substr(replace(hex(randomblob(150)), '0', ' '), 1, 300) END,
       'anna'
FROM questions WHERE published_at IS NOT NULL
ORDER BY 1
"""


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    settings = make_settings(tmp_path_factory.mktemp("crowded"))
    with board_client(settings) as client:  # migrates and loads the topics
        with sqlite3.connect(settings.db_path) as conn:
            conn.execute(FILL)
            conn.execute(FILL_LOG)
        yield client, settings.db_path


LISTS = [
    {},
    {"ordine": "condivise"},
    {"ordine": "con-risposta"},
    {"tema": "energia"},
    {"ordine": "condivise", "tema": "cibo"},
    {"ordine": "con-risposta", "tema": "clima"},
]


@pytest.mark.parametrize(
    "params", LISTS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "recenti"
)
def test_first_and_far_pages_stay_within_budget(
    crowded: tuple[TestClient, Path], params: dict[str, str]
) -> None:
    client, _ = crowded
    first = client.get("/domande", params=params)
    total = int(first.text.split('<p class="meta">')[1].split(" ")[0].replace(".", ""))
    far_page = min(400, total // 20)  # the last full page when the list is shorter
    far = client.get("/domande", params={**params, "page": str(far_page)})
    for response in (first, far):
        assert response.status_code == 200
        assert response.text.count('<article class="card">') == 20
        assert brotli_size(response.content) <= BUDGET_BYTES
        assert dom_elements(response.text) <= BUDGET_ELEMENTS
    # Flat: the far page is no heavier than the first, give or take its longer numbers.
    assert abs(len(far.content) - len(first.content)) < 0.05 * len(first.content)
    assert '<link rel="prev"' in far.text


def test_page_400_of_the_default_list_exists_and_page_past_the_end_is_404(
    crowded: tuple[TestClient, Path],
) -> None:
    client, _ = crowded
    page = client.get("/domande", params={"page": "400"})
    assert page.status_code == 200
    assert "Pagina 400 di 490" in page.text
    assert client.get("/domande", params={"page": "491"}).status_code == 404
    assert client.get("/domande", params={"page": "-1"}).status_code == 400


def test_pieces_and_log_pages_stay_within_budget(crowded: tuple[TestClient, Path]) -> None:
    client, _ = crowded
    for path in (
        "/pillole",
        "/pillole?page=50",
        "/moderazione/registro",
        "/moderazione/registro?page=900",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert brotli_size(response.content) <= BUDGET_BYTES, path
        assert dom_elements(response.text) <= BUDGET_ELEMENTS, path


def plan(conn: sqlite3.Connection, sql: str, params: dict[str, object]) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.mark.parametrize("sort", list(questions.SORTS))
@pytest.mark.parametrize("topic", [None, "energia"])
def test_every_list_query_walks_a_covering_index_in_order(
    crowded: tuple[TestClient, Path], sort: str, topic: str | None
) -> None:
    _, path = crowded
    where, order = questions.list_query(sort, topic)
    params = {"topic": topic, "limit": 20, "offset": 7980}
    with sqlite3.connect(path) as conn:
        page_ids = plan(
            conn,
            f"SELECT id FROM questions WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset",
            params,
        )
        count = plan(conn, f"SELECT count(*) FROM questions WHERE {where}", params)
        whole = plan(conn, questions.page_sql(where, order), params)
    expected = {
        "recenti": "questions_recent",
        "condivise": "questions_shared",
        "con-risposta": "questions_answered",
    }[sort]
    if topic:
        expected = expected.replace("questions_", "questions_topic_")
    assert len(page_ids) == 1, page_ids
    assert page_ids[0].startswith(f"SEARCH questions USING COVERING INDEX {expected} (state=?")
    assert all("COVERING INDEX" in step for step in count), count
    # The page's 20 rows are then fetched by primary key (the final sort is of 20 rows).
    assert "SEARCH q USING INTEGER PRIMARY KEY (rowid=?)" in whole
    assert not any(step.startswith("SCAN questions") or step == "SCAN q" for step in whole)


def test_pieces_and_queue_queries_use_their_indexes(crowded: tuple[TestClient, Path]) -> None:
    _, path = crowded
    with sqlite3.connect(path) as conn:
        pieces = plan(
            conn,
            "SELECT id FROM questions WHERE state = 'pubblicata' AND piece_at IS NOT NULL "
            "ORDER BY piece_at DESC, id DESC LIMIT 20 OFFSET 500",
            {},
        )
        queue = plan(
            conn,
            "SELECT id FROM questions WHERE state IN ('ricevuta', 'segnalata') "
            "ORDER BY created_at, id LIMIT 50",
            {},
        )
    assert pieces[0].startswith("SEARCH questions USING COVERING INDEX questions_pieces")
    assert any("questions_queue" in step for step in queue)
