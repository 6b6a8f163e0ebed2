"""The question board's test data for the browser suite, written before the server starts.

Questions, votes and log entries go straight into SQLite (like ``publish_directly`` in
tests/board_helpers.py): the flows test the moderation path itself; the pages checked by
axe, the validator, the budget and the screenshots just need a board in every state. Rows
are inserted in a fixed order into a fresh database, so every question's id is known here,
before the server exists, and the page catalogue can name its address.

Nobody says "anch'io" to these questions during the suite (all browser visitors share one
address, so a vote would change the page for every later test): the flows vote on the
question they post themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from greenweb.markup import render_markdown
from support.board import index_board

MODERATOR = "redazione"
# The browser suite's account holding the redattore role alone.
EDITOR = "bea"
# At least 10 characters (greenweb moderator add refuses shorter ones).
MODERATOR_PASSWORD = "una password lunga solo per i test"
HOUR = 3600

ANSWER = """\
Sì: il riscaldamento di questi decenni viene **soprattutto dalle attività umane**, in primo \
luogo dal carbone, dal petrolio e dal gas che bruciamo. Lo scrive il \
[rapporto di sintesi dell'IPCC](https://www.ipcc.ch/report/sixth-assessment-report-cycle/), \
che raccoglie il lavoro di migliaia di ricercatrici e ricercatori.

- La temperatura media è salita di circa 1,1 °C rispetto al periodo 1850-1900.
- Le variazioni naturali (Sole, vulcani) da sole non spiegano questo aumento.

In Europa il riscaldamento è ancora più rapido: lo racconta il rapporto di Copernicus \
che trovi tra le fonti qui sotto."""

PIECE_TEXT = """\
Una fermata dell'autobus, una mattina di luglio. Due sconosciuti aspettano il 68.

— Ma non è sempre stato caldo, d'estate?
— Sì. Però adesso è caldo anche a settembre, e di notte non si dorme più."""

LONG_ADDRESS = (
    "https://www.esempio-di-indirizzo-molto-lungo.example.org/"
    "notizie/2021/clima/articolo-che-non-va-a-capo-da-solo-sul-telefono"
)


@dataclass(frozen=True)
class SeedQuestion:
    text: str
    hours_ago: int  # when it was asked; published one hour later
    topic: str | None = None
    name: str | None = None
    state: str = "pubblicata"
    me_too: int = 0
    answer: str | None = None  # Markdown
    sources: tuple[str, ...] = ()  # resource slugs, in order
    piece_title: str | None = None
    piece_url: str | None = None
    piece_text: str | None = None
    reason: str | None = None  # why it was rejected

    @property
    def published(self) -> bool:
        return self.state == "pubblicata"


FILLER = (
    ("Le auto elettriche inquinano davvero meno, se contiamo anche le batterie?", "mobilita"),
    ("Quanto conta quello che mangio rispetto a quanto viaggio in aereo?", "cibo"),
    ("Ha senso fare la raccolta differenziata se poi tutto finisce bruciato?", None),
    ("Perché in Piemonte ci sono sempre più periodi di siccità?", "clima"),
    ("I pannelli solari sul tetto di un condominio convengono davvero?", "energia"),
    ("Che cosa può fare un comune come Torino contro le ondate di calore?", "politica-e-societa"),
    ("Il riciclo della plastica funziona o è solo una scusa per produrne di più?", None),
    ("È vero che gli alberi in città abbassano la temperatura di qualche grado?", "clima"),
)

# Ids follow this order (1, 2, 3...): the catalogue in conftest.py uses the named ones.
QUESTIONS: tuple[SeedQuestion, ...] = (
    SeedQuestion(
        "Se il clima è sempre cambiato, perché dovremmo preoccuparci proprio adesso? "
        "Mio nonno dice che anche negli anni Cinquanta le estati erano caldissime.",
        hours_ago=50,
        topic="clima",
        name="Giulia",
        me_too=4,
        answer=ANSWER,
        sources=("ipcc-ar6-sintesi", "copernicus-esotc-2023"),
    ),
    SeedQuestion(
        "Perché d'estate a Torino fa sempre più caldo anche di notte?",
        hours_ago=75,
        topic="clima",
        me_too=7,
        answer="Le città trattengono il calore del giorno: asfalto e cemento lo restituiscono "
        "di notte. È l'**isola di calore urbana**.",
        sources=("nasa-2023-anno-piu-caldo",),
        piece_title="La fermata del 68",
        piece_url="https://www.example.org/pillole/la-fermata-del-68",
        piece_text=PIECE_TEXT,
    ),
    SeedQuestion(
        "Ho letto che il riscaldamento globale si è fermato negli ultimi anni: è vero? "
        "L'articolo era questo: " + LONG_ADDRESS,
        hours_ago=2,
        name="Lettrice_curiosissima_di_San_Salvario",
    ),
    SeedQuestion(
        "Conviene davvero cambiare la caldaia a gas con una pompa di calore, in un "
        "appartamento degli anni Settanta?",
        hours_ago=4,
        topic="energia",
        name="Marco",
        me_too=2,
    ),
    SeedQuestion(
        "Quello che scrivo qui verrà pubblicato con il mio nome?",
        hours_ago=1,
        state="ricevuta",
    ),
    SeedQuestion(
        "Comprate il mio corso online per diventare ricchi con le criptovalute verdi!",
        hours_ago=20,
        state="respinta",
        reason="pubblicità, non è una domanda sul clima",
    ),
    *(
        SeedQuestion(
            f"{text} (domanda di prova n. {number})",
            hours_ago=6 + 2 * number,
            topic=topic,
            me_too=number % 3,
        )
        for number, (text, topic) in enumerate(FILLER * 3, start=1)
    ),
)

ANSWERED_ID = 1
PIECE_ID = 2
LONG_WORD_ID = 3
PLAIN_ID = 4  # published, no answer: the keyboard pass presses nothing on it
PENDING_ID = 5
REJECTED_ID = 6
PUBLISHED_COUNT = sum(q.published for q in QUESTIONS)
PER_PAGE = 20
assert PUBLISHED_COUNT > PER_PAGE, "the question list needs a second page"


def seed_board(db_path: Path, now: float) -> None:
    """Write QUESTIONS (after ``greenweb migrate``, which loads topics and resources)."""
    events: list[tuple[int, str, int, str | None, str | None]] = []
    with sqlite3.connect(db_path) as conn:
        resources = dict(conn.execute("SELECT slug, id FROM resources"))
        for question_id, q in enumerate(QUESTIONS, start=1):
            created = int(now) - q.hours_ago * HOUR
            published = created + HOUR if q.published else None
            answered = published + HOUR if published and q.answer else None
            piece_at = published + 2 * HOUR if published and q.piece_title else None
            conn.execute(
                "INSERT INTO questions (id, text, display_name, topic, state, created_at, "
                "published_at, answered_at, updated_at, answer_md, answer_html, piece_title, "
                "piece_url, piece_text, piece_at, me_too) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    question_id,
                    q.text,
                    q.name,
                    q.topic,
                    q.state,
                    created,
                    published,
                    answered,
                    piece_at or answered or published or created,
                    q.answer,
                    render_markdown(q.answer) if q.answer else None,
                    q.piece_title,
                    q.piece_url,
                    q.piece_text,
                    piece_at,
                    q.me_too,
                ),
            )
            conn.executemany(
                "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)",
                [(question_id, f"seed-{question_id}-{n}", created) for n in range(q.me_too)],
            )
            conn.executemany(
                "INSERT INTO question_resources (question_id, resource_id, position) "
                "VALUES (?, ?, ?)",
                [(question_id, resources[slug], n) for n, slug in enumerate(q.sources, 1)],
            )
            events.extend(_history(question_id, q, created, published, answered, piece_at))
        events.sort()
        conn.executemany(
            "INSERT INTO moderation_log (at, action, question_id, reason, moderator) "
            "VALUES (?, ?, ?, ?, ?)",
            events,
        )
    index_board(db_path)


def _history(
    question_id: int,
    q: SeedQuestion,
    created: int,
    published: int | None,
    answered: int | None,
    piece_at: int | None,
) -> Iterator[tuple[int, str, int, str | None, str | None]]:
    yield created, "received", question_id, None, None
    if published:
        yield published, "published", question_id, None, MODERATOR
    if q.state == "respinta":
        yield created + HOUR, "rejected", question_id, q.reason, MODERATOR
    if answered:
        yield answered, "answered", question_id, None, MODERATOR
    if piece_at:
        yield piece_at, "piece", question_id, q.piece_title, MODERATOR
