"""A board for the e-book and open-data tests: the browser suite's test data
(board_seed.py) plus answered questions in every state, with sources and theatre pieces.

Written straight into SQLite after the app has loaded the topics and resources, as
board_seed does: these tests read what the board holds, not how it got there.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from greenweb.config import Settings
from greenweb.markup import render_markdown
from support import board_seed
from support.board import T0, board_client, publish_directly

ACCENTED = "Perché è già così caldo a Torino, anche a ottobre?"
ANSWER = (
    "Perché il clima è **già** cambiato: vedi le [fonti](https://www.example.org/a).\n\n"
    "Una riga  \ncon un a capo, e un `<codice>` & un'immagine ![grafico](https://www.example.org/g.png)."
)


@dataclass(frozen=True)
class OpenBoard:
    """Question ids by what they are."""

    accented: int  # answered, topic energia, two sources, no name
    untopical_piece: int  # answered, no topic, a theatre piece with text and address
    unanswered: int  # published, no answer
    hidden: tuple[int, ...]  # answered but not published (nascosta, segnalata, ricevuta)
    named: int  # answered, with a name

    @property
    def published_answered(self) -> set[int]:
        seed = {board_seed.ANSWERED_ID, board_seed.PIECE_ID}
        return seed | {self.accented, self.untopical_piece, self.named}


def _answered(settings: Settings, text: str, **columns: object) -> int:
    answer = str(columns.pop("answer_md", ANSWER))
    (question_id,) = publish_directly(
        settings,
        text=text,
        answer_md=answer,
        answer_html=render_markdown(answer),
        answered_at=int(T0) - 500,
        **columns,
    )
    return question_id


def link_sources(settings: Settings, question_id: int, *slugs: str) -> None:
    with sqlite3.connect(settings.db_path) as conn:
        ids = dict(conn.execute("SELECT slug, id FROM resources"))
        conn.executemany(
            "INSERT INTO question_resources (question_id, resource_id, position) VALUES (?, ?, ?)",
            [(question_id, ids[slug], n) for n, slug in enumerate(slugs, start=1)],
        )


def open_board(settings: Settings) -> OpenBoard:
    with board_client(settings):
        pass  # migrations, topics and resources, as the app loads them
    board_seed.seed_board(settings.db_path, T0)
    accented = _answered(settings, ACCENTED, topic="energia")
    link_sources(settings, accented, "ipcc-ar6-sintesi", "nasa-2023-anno-piu-caldo")
    piece = _answered(
        settings,
        "Chi inquina di più dovrebbe pagare di più? Me lo chiedo da tempo.",
        piece_title="Il conto <del> & il resto",
        piece_url="https://www.example.org/pillole/il-conto",
        piece_text="Due persone al bar.\n\n— Chi paga?\n— Paga chi inquina.",
        piece_at=int(T0) - 400,
    )
    (unanswered,) = publish_directly(settings, text="Una domanda pubblicata senza risposta?")
    hidden = tuple(
        _answered(settings, f"Una domanda {state} con risposta, che non si vede?", state=state)
        for state in ("nascosta", "segnalata", "ricevuta")
    )
    named = _answered(
        settings, "Gli alberi in città servono davvero?", topic="clima", display_name="Sara"
    )
    return OpenBoard(accented, piece, unanswered, hidden, named)
