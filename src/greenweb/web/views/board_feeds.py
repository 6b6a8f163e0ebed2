"""The board's feeds: one question's story, a topic's questions, every answer (public and
cacheable: each declares what it shows, the conditional middleware answers 304), and the
asker's private feed (``no-store``, ``noindex``: its address is the only key to it).

A merged duplicate's public feed answers 301 to the kept question's; its private feed
stays, and tells where it went.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from greenweb import atom, changes
from greenweb.board import feeds, moderation_log, questions
from greenweb.board.following import followed_question
from greenweb.board.topics import list_topics
from greenweb.web.forms import refuse
from greenweb.web.params import ROW_ID
from greenweb.web.shows import shows
from greenweb.web.site import site_of
from greenweb.web.urls import absolute_url, url_for, url_pattern

FEED_ENTRIES = 30
NOT_PUBLISHED = "Questa domanda non esiste o non è pubblicata."
NO_TOPIC = "Tema sconosciuto: non c'è un feed con questo nome."
NO_PRIVATE_FEED = (
    "Questo indirizzo non apre nessuna domanda: controlla di averlo copiato per intero "
    "dalla pagina di ringraziamento."
)
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def links(request: Request) -> feeds.Links:
    return feeds.Links(
        question=url_pattern(request, "question", "id", 10**17 + 7),
        board=absolute_url(request, "questions"),
    )


def atom_response(body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type=atom.MEDIA_TYPE, headers=headers)


async def question_feed_GET(request: Request) -> Response:
    question_id: int = request.path_params["id"]
    # Its story is its log, and every step of a public question records its page.
    shows(request, changes.question(question_id))
    conn = site_of(request).db.reader
    question = await questions.get_question(conn, question_id)
    if question is not None and question.duplicate_of is not None:
        kept = url_for(request, "question_feed", id=question.duplicate_of)
        return RedirectResponse(kept, status_code=301)
    if question is None or not question.is_public:
        refuse(404, NOT_PUBLISHED)
    history = await moderation_log.question_history(conn, question_id)
    body = feeds.question_feed(
        question,
        history,
        links=links(request),
        feed_url=absolute_url(request, "question_feed", id=question_id),
    )
    return atom_response(body)


async def topic_feed_GET(request: Request) -> Response:
    shows(request, changes.QUESTIONS)
    conn = site_of(request).db.reader
    slug: str = request.path_params["slug"]
    topic = next((t for t in await list_topics(conn) if t.slug == slug), None)
    if topic is None:
        refuse(404, NO_TOPIC)
    found = await questions.latest_published(conn, topic=topic.slug, limit=FEED_ENTRIES)
    body = feeds.questions_feed(
        f"Dubbi sul clima: {topic.label}",
        found,
        links=links(request),
        alternate=site_of(request).settings.base_url
        + url_for(request, "questions", {"tema": topic.slug}),
        feed_url=absolute_url(request, "topic_feed", slug=topic.slug),
    )
    return atom_response(body)


async def answers_feed_GET(request: Request) -> Response:
    shows(request, changes.QUESTIONS)
    found = await questions.latest_answered(site_of(request).db.reader, limit=FEED_ENTRIES)
    body = feeds.questions_feed(
        "Dubbi sul clima: le risposte",
        found,
        links=links(request),
        alternate=site_of(request).settings.base_url
        + url_for(request, "questions", {"ordine": "con-risposta"}),
        feed_url=absolute_url(request, "answers_feed"),
        answers=True,
    )
    return atom_response(body)


async def private_feed_GET(request: Request) -> Response:
    site = site_of(request)
    token: str = request.path_params["token"]
    question_id = followed_question(site.settings.secret_bytes, token)
    shows(request, changes.LOG)  # never kept (no-store), declared all the same
    question = None
    if question_id is not None:
        question = await questions.get_question(site.db.reader, question_id)
    if question is None:
        refuse(404, NO_PRIVATE_FEED, {"X-Robots-Tag": "noindex"})
    shows(request, changes.question(question.id))
    history = await moderation_log.question_history(site.db.reader, question.id)
    body = feeds.private_feed(
        question,
        history,
        links=links(request),
        feed_url=absolute_url(request, "private_feed", token=token),
    )
    return atom_response(body, PRIVATE)


routes = [
    Route(f"/domande/{ROW_ID}/feed.xml", question_feed_GET, name="question_feed"),
    Route("/domande/temi/{slug}/feed.xml", topic_feed_GET, name="topic_feed"),
    Route("/domande/risposte.xml", answers_feed_GET, name="answers_feed"),
    Route("/domande/seguo/{token}.xml", private_feed_GET, name="private_feed"),
]
