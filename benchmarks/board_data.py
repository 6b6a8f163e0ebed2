"""The question board's synthetic data, shared by both benchmark suites.

``generate_data.add_questions`` (footprint's suite) and ``serving/bigdata.POPULATORS``
(serving's suite) both call :func:`add_questions`: 10,000 questions by default, with

* states spread as on a real board: 89 % published, 6 % waiting for a moderator
  (*ricevuta*), 4 % rejected, 1 % withdrawn (*nascosta*);
* a topic for 9 in 10 questions (the six of ``data/topics.toml``), Italian text of
  40-1000 characters (most 120-400), a display name for 7 in 10;
* a quarter of the published ones answered, with a Markdown answer (rendered by the
  board's own ``render_markdown``) and 1-3 linked resources from ``data/resources.toml``;
  one in 40 also a theatre piece;
* "anch'io" counts with a long tail (most 0-5, a few hundreds): one ``votes`` row per vote,
  so ``questions.me_too`` equals the rows' count as the board keeps it;
* the public log as the domain functions write it: received, published, answered,
  piece, rejected, unpublished, in time order.

Which state a question gets depends on its number only (``STATE_BUCKETS``), so
:data:`SAMPLE_QUESTION` is always a published, answered question with resources and a
theatre piece: the heaviest question page, measured by both suites.

Why not the domain functions (``visitors.create_question``, ``approve``, ``answer``,
``add_vote``): each write is its own transaction and round trip to the aiosqlite thread;
measured here, 300 questions with 900 votes through them took 1.07 s (0.9 ms per write),
so the ~45,000 writes of this data set would take about 40 s per suite. Here everything
is one ``executemany`` transaction (about 2 s) keeping the same invariants (the schema's
CHECKs, ``me_too`` = votes rows, the log rows the domain functions write) and bumping the
content version once, as any write does; :func:`check_invariants` verifies them afterwards.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from greenweb import changes
from greenweb.board import search_entries
from greenweb.board.seed import load_board_data
from greenweb.db import Database, fetch_all, fetch_value
from greenweb.markup import render_markdown
from greenweb.paths import board_data_dir

QUESTIONS = 10_000
# Question number i (1-based) falls in bucket i % 100: 0-88 published, 89-94 waiting,
# 95-98 rejected, 99 withdrawn.  Published ones with i % 4 == 0 are answered, and with
# i % 40 == 0 they are also theatre pieces.
STATE_BUCKETS = ((89, "pubblicata"), (95, "ricevuta"), (99, "respinta"), (100, "nascosta"))
SAMPLE_QUESTION = 5000  # published, answered, linked resources, a theatre piece
START = int(datetime(2019, 9, 1, tzinfo=UTC).timestamp())
END = int(datetime(2021, 5, 25, tzinfo=UTC).timestamp())  # before both suites' "today"

SUBJECTS = (
    "le auto elettriche",
    "il riscaldamento a pompa di calore",
    "la raccolta differenziata a Torino",
    "i pannelli solari sul tetto del condominio",
    "la carne coltivata",
    "le comunità energetiche",
    "il teleriscaldamento",
    "i voli low cost",
    "la moda usata",
    "il Po in secca",
    "le bici in città",
    "gli alberi nei cortili delle scuole",
    "la plastica compostabile",
    "il nucleare di nuova generazione",
    "le diete a base vegetale",
    "il cappotto termico",
    "le isole di calore nei quartieri",
    "i treni notturni",
)
OPENERS = (
    "È vero che {s} inquinano meno di quanto si dice?",
    "Quanto conviene davvero {s}, se si considera tutto il ciclo di vita?",
    "Ho letto opinioni opposte su {s}: chi ha ragione?",
    "Cosa posso fare io, nel mio quartiere, per {s}?",
    "Perché si parla così poco di {s}?",
    "Come si misura l'impatto sul clima di {s}?",
)
DETAILS = (
    "Mio figlio me l'ha chiesto dopo una lezione a scuola e non ho saputo rispondere.",
    "Al lavoro ne discutiamo spesso e ognuno porta numeri diversi.",
    "Abito in Barriera di Milano e vorrei capire se ha senso anche qui.",
    "Ho visto un servizio in televisione che mi ha lasciato più dubbi di prima.",
    "Vorrei una fonte affidabile, non l'ennesimo articolo di opinione.",
    "Mi interessa soprattutto il confronto con le alternative che già usiamo.",
    "Sono un'insegnante e vorrei portare l'argomento in classe in modo corretto.",
    "Nel mio condominio se ne parla da mesi senza arrivare a una decisione.",
    "Mi chiedo se i costi ricadano sempre sulle famiglie con meno possibilità.",
    "Ho provato a informarmi ma trovo solo dati vecchi o riferiti ad altri paesi.",
)
NAMES = (
    "Giulia",
    "Marco",
    "Francesca",
    "Luca",
    "Chiara",
    "Davide",
    "Sara",
    "Alessandro",
    "Elena",
    "Matteo",
    "Anna R.",
    "Paolo da San Salvario",
    "una studentessa del Poli",
    "Nonna Pina",
)
ANSWER_POINTS = (
    "le emissioni dipendono molto da **come** viene prodotta l'energia usata",
    "i dati più recenti dell'ISPRA indicano un calo costante negli ultimi dieci anni",
    "conta l'intero ciclo di vita, dalla produzione allo smaltimento",
    "a Torino la rete del teleriscaldamento copre già una parte importante della città",
    "le stime cambiano molto con le ipotesi: per questo diamo un intervallo, non un numero",
    "il risparmio in bolletta arriva di solito dopo alcuni anni, non subito",
    "le scelte collettive pesano più di quelle individuali, ma le une aiutano le altre",
)


def _question_text(rng: random.Random, number: int) -> str:
    text = rng.choice(OPENERS).format(s=rng.choice(SUBJECTS))
    # Lengths as a board gets them: most 120-400 characters, a few up to the 1,000 limit.
    target = min(1000, int(rng.lognormvariate(5.6, 0.6)))
    while len(text) < target:
        text += " " + rng.choice(DETAILS)
    if len(text) > 1000:
        text = text[:999].rsplit(" ", 1)[0] + "…"
    return f"{text} ({number})" if len(text) < 990 else text


def _answer_markdown(rng: random.Random) -> str:
    points = rng.sample(ANSWER_POINTS, rng.randint(2, 4))
    paragraphs = [
        "Grazie della domanda, è una delle più condivise del mese. In breve: " + points[0] + ".",
        "Qualche punto per orientarsi:\n\n" + "\n".join(f"- {p};" for p in points[1:]),
        "Per approfondire, le risorse collegate qui sotto sono un buon punto di partenza; "
        "se vuoi i numeri, vedi [il rapporto ISPRA](https://www.isprambiente.gov.it/).",
    ]
    for _ in range(rng.randint(0, 3)):
        paragraphs.append(" ".join(rng.sample(DETAILS, 3)))
    return "\n\n".join(paragraphs)


def state_of(number: int) -> str:
    bucket = number % 100
    for limit, state in STATE_BUCKETS:
        if bucket < limit:
            return state
    raise AssertionError(bucket)


def sample_number(count: int) -> int:
    """The heaviest question page among the first ``count``: :data:`SAMPLE_QUESTION` when
    there are that many, else the last published one with the most parts (0: none)."""
    candidates = range(min(count, SAMPLE_QUESTION), 0, -1)
    for every in (40, 4, 1):
        for number in candidates:
            if number % every == 0 and state_of(number) == "pubblicata":
                return number
    return 0


def _me_too(rng: random.Random) -> int:
    # A long tail: most questions get a handful, a few hundreds.
    return min(900, int(rng.paretovariate(1.3)) - 1 + (rng.random() < 0.3) * rng.randint(0, 4))


@dataclass(frozen=True)
class BoardData:
    questions: int
    published: int
    answered: int
    pieces: int
    votes: int
    log_entries: int
    first_id: int
    sample_question: int  # a published, answered question with resources and a piece


async def add_questions(
    db: Database, count: int = QUESTIONS, seed: int = 1, *, quiet: bool = False
) -> BoardData:
    """Add ``count`` questions with their votes, answers, resources and log; see the module."""
    started = time.perf_counter()
    await load_board_data(db, board_data_dir(), START)  # topics and seed resources
    rng = random.Random(seed)
    topics = [row["slug"] for row in await fetch_all(db.reader, "SELECT slug FROM topics")]
    resource_ids = [row["id"] for row in await fetch_all(db.reader, "SELECT id FROM resources")]
    first = int(await fetch_value(db.reader, "SELECT coalesce(max(id), 0) FROM questions")) + 1

    questions: list[tuple[object, ...]] = []
    votes: list[tuple[int, str, int]] = []
    links: list[tuple[int, int, int]] = []
    log: list[tuple[int, str, int, str | None, str | None]] = []
    step = (END - START) // max(count, 1)
    counts = {"published": 0, "answered": 0, "pieces": 0}
    for number in range(1, count + 1):
        qid = first + number - 1
        state = state_of(number)
        created = START + (number - 1) * step + rng.randint(0, step)
        log.append((created, "received", qid, None, None))
        published = answered = piece_at = None
        answer_md = answer_html = piece_title = piece_url = piece_text = None
        if state in ("pubblicata", "nascosta"):
            published = created + rng.randint(600, 3 * 86400)
            log.append((published, "published", qid, None, "redazione"))
        if state == "pubblicata":
            counts["published"] += 1
            if number % 4 == 0:
                answered = published + rng.randint(86400, 30 * 86400)
                answer_md = _answer_markdown(rng)
                answer_html = render_markdown(answer_md)
                linked = rng.sample(resource_ids, min(len(resource_ids), rng.randint(1, 3)))
                links += [(qid, rid, n) for n, rid in enumerate(linked, start=1)]
                log.append((answered, "answered", qid, None, "redazione"))
                counts["answered"] += 1
            if number % 40 == 0:
                piece_at = (answered or published) + rng.randint(86400, 60 * 86400)
                piece_title = f"Pillola n. {number // 40}: {rng.choice(SUBJECTS)}"
                piece_url = f"https://example.org/pillole/{number // 40}"
                piece_text = " ".join(rng.sample(DETAILS, 4))
                log.append((piece_at, "piece", qid, piece_title, "redazione"))
                counts["pieces"] += 1
        elif state == "respinta":
            log.append((created + 3600, "rejected", qid, "fuori tema", "redazione"))
        elif state == "nascosta":
            assert published is not None
            log.append((published + 86400, "unpublished", qid, "dati personali", "redazione"))
        me_too = _me_too(rng) if published is not None else 0
        voted_from = published or created
        votes += [
            (
                qid,
                hashlib.sha256(f"{seed}:{qid}:{n}".encode()).hexdigest(),
                voted_from + n * 60,
            )
            for n in range(me_too)
        ]
        updated = max(t for t in (created, published, answered, piece_at) if t is not None)
        questions.append(
            (
                qid,
                _question_text(rng, number),
                rng.choice(NAMES) if rng.random() < 0.7 else None,
                rng.choice(topics) if topics and rng.random() < 0.9 else None,
                state,
                created,
                published,
                answered,
                updated,
                answer_md,
                answer_html,
                piece_title,
                piece_url,
                piece_text,
                piece_at,
                me_too,
            )
        )
    log.sort(key=lambda entry: entry[0])

    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO questions (id, text, display_name, topic, state, created_at, "
            "published_at, answered_at, updated_at, answer_md, answer_html, piece_title, "
            "piece_url, piece_text, piece_at, me_too) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            questions,
        )
        await conn.executemany(
            "INSERT INTO votes (question_id, voter_hash, created_at) VALUES (?, ?, ?)", votes
        )
        await conn.executemany(
            "INSERT INTO question_resources (question_id, resource_id, position) VALUES (?, ?, ?)",
            links,
        )
        await conn.executemany(
            "INSERT INTO moderation_log (at, action, question_id, reason, moderator) "
            "VALUES (?, ?, ?, ?, ?)",
            log,
        )
        await search_entries.rebuild(conn)  # the rows above came in without the board's writes
        await changes.record(conn, changes.EVERYTHING)
    await check_invariants(db)
    result = BoardData(
        questions=count,
        published=counts["published"],
        answered=counts["answered"],
        pieces=counts["pieces"],
        votes=len(votes),
        log_entries=len(log),
        first_id=first,
        sample_question=first + sample_number(count) - 1,
    )
    if not quiet:
        print(
            f"{count:,} questions added ({result.published:,} published, "
            f"{result.answered:,} answered, {result.pieces:,} pieces, {result.votes:,} votes, "
            f"{result.log_entries:,} log entries) in {time.perf_counter() - started:.1f} s"
        )
    return result


async def check_invariants(db: Database) -> None:
    """What the board's writes keep true, checked on the whole database."""
    mismatched = await fetch_value(
        db.reader,
        "SELECT count(*) FROM questions q WHERE me_too != "
        "(SELECT count(*) FROM votes v WHERE v.question_id = q.id)",
    )
    if mismatched:
        raise AssertionError(f"{mismatched} questions whose me_too differs from their votes")
    unlogged = await fetch_value(
        db.reader,
        "SELECT count(*) FROM questions q WHERE NOT EXISTS "
        "(SELECT 1 FROM moderation_log l WHERE l.question_id = q.id AND l.action = 'received')",
    )
    if unlogged:
        raise AssertionError(f"{unlogged} questions without a 'received' log entry")
