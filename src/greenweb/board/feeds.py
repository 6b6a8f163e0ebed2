"""The board's Atom feeds, as plain functions over questions and their log: one question's
story, a topic's questions, every answer, and the asker's private feed.

A question's story comes from the moderation log, whose rows already say what happened
and why; the feeds carry the public reasons only, never a moderator's name. The private
feed tells its asker everything from *ricevuta* on (a rejection, a withdrawal, a merge),
but nothing about any person: no display name, no hash.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from greenweb import atom
from greenweb.board.moderation_log import LOG_LABELS, LogEntry
from greenweb.board.questions import Question
from greenweb.markup import summarise

TITLE_CHARS: Final = 90
# What a public question's feed tells: the steps a reader following it wants to hear of.
STORY_ACTIONS: Final = frozenset({"published", "restored", "answered", "piece"})
# An empty feed's `updated`: before anything the board holds.
_NO_UPDATE: Final = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Links:
    """The absolute addresses the feeds point to: ``question`` has an ``{id}`` placeholder."""

    question: str
    board: str  # the list of questions: where a question that is not public sends

    def of(self, question_id: int) -> str:
        return self.question.format(id=question_id)


def _step_title(step: LogEntry) -> str:
    if step.action == "answered" and step.reason == "aggiornata":
        return "Risposta aggiornata"
    if step.action == "piece" and step.reason:
        return f"Diventata pillola teatrale: {step.reason}"
    if step.action == "merged" and step.kept_question_id is not None:
        return f"Unita alla domanda n. {step.kept_question_id}, di cui era un doppione"
    label = LOG_LABELS[step.action]
    return label[:1].upper() + label[1:]


def _piece_html(question: Question) -> str:
    if not question.piece_title:
        return ""
    parts = [f"<h2>Pillola teatrale: {html.escape(question.piece_title)}</h2>"]
    if question.piece_text:
        parts.append(f"<p>{html.escape(question.piece_text)}</p>")
    if question.piece_url:
        href = html.escape(question.piece_url)
        parts.append(f'<p><a href="{href}">Vai alla pillola teatrale</a></p>')
    return "".join(parts)


def _question_html(question: Question) -> str:
    text = html.escape(question.text).replace("\n", "<br>")
    parts = [f"<blockquote><p>{text}</p></blockquote>"]
    if question.answer_html:
        parts.append(f"<h2>La risposta</h2>{question.answer_html}")
    parts.append(_piece_html(question))
    return "".join(parts)


def _step_html(step: LogEntry, question: Question, *, latest_answer: bool, links: Links) -> str:
    """What one step says: its public reason, and the answer or piece it brought."""
    parts = []
    if step.reason and step.action not in {"answered", "piece"}:
        parts.append(f"<p>Motivo: {html.escape(step.reason)}</p>")
    if step.action == "answered":
        if latest_answer and question.answer_html:
            parts.append(question.answer_html)
        else:
            parts.append("<p>Questa risposta è stata poi aggiornata.</p>")
    elif step.action == "piece":
        parts.append(_piece_html(question))
    elif step.action == "merged" and step.kept_question_id is not None:
        href = html.escape(links.of(step.kept_question_id))
        parts.append(
            f"<p>Le persone che avevano detto «anch'io» ora contano sulla domanda n. "
            f'{step.kept_question_id}: <a href="{href}">{href}</a></p>'
        )
    return "".join(parts) or f"<p>{html.escape(_step_title(step))}.</p>"


def _steps(
    root: ET.Element,
    question: Question,
    steps: Sequence[LogEntry],
    *,
    links: Links,
    link_for: str,
) -> None:
    last_answer = max((s.id for s in steps if s.action == "answered"), default=None)
    page = links.of(question.id)
    for step in reversed(steps):  # newest first, as feeds list
        target = link_for
        if step.action == "merged" and step.kept_question_id is not None:
            target = links.of(step.kept_question_id)
        entry = atom.entry(
            root, target, _step_title(step), step.at, step.at, entry_id=f"{page}#voce-{step.id}"
        )
        content = _step_html(step, question, latest_answer=step.id == last_answer, links=links)
        atom.sub(entry, "content", content, type="html")


def _question_title(question: Question) -> str:
    return f"Domanda n. {question.id}: {summarise(question.text, TITLE_CHARS)}"


def question_feed(
    question: Question, history: Sequence[LogEntry], *, links: Links, feed_url: str
) -> bytes:
    """A public question's story: published, answered, answer changed, theatre piece."""
    steps = [step for step in history if step.action in STORY_ACTIONS]
    page = links.of(question.id)
    return _story(_question_title(question), question, steps, links, page, feed_url)


def private_feed(
    question: Question, history: Sequence[LogEntry], *, links: Links, feed_url: str
) -> bytes:
    """The asker's feed: every step of their question from *ricevuta* on, whatever its
    state, with the moderators' public reasons; the question's page while it is public."""
    page = links.of(question.id) if question.is_public else links.board
    title = f"La tua domanda n. {question.id}"
    return _story(title, question, history, links, page, feed_url)


def _story(
    title: str,
    question: Question,
    steps: Sequence[LogEntry],
    links: Links,
    page: str,
    feed_url: str,
) -> bytes:
    """One question's ``steps`` as a feed, updated with the newest of them."""
    updated = max((step.at for step in steps), default=question.updated_at)
    root = atom.feed(title, feed_id=feed_url, alternate=page, feed_url=feed_url, updated=updated)
    _steps(root, question, steps, links=links, link_for=page)
    return atom.to_bytes(root)


def questions_feed(
    title: str,
    found: Sequence[Question],
    *,
    links: Links,
    alternate: str,
    feed_url: str,
    answers: bool = False,
) -> bytes:
    """Questions in full, newest first: a topic's (published), or every answer's
    (``answers``: dated by their first answer)."""
    updated = max((q.updated_at for q in found), default=_NO_UPDATE)
    root = atom.feed(
        title, feed_id=feed_url, alternate=alternate, feed_url=feed_url, updated=updated
    )
    for question in found:
        published = question.answered_at if answers else question.published_at
        entry = atom.entry(
            root, links.of(question.id), _question_title(question), question.updated_at, published
        )
        if question.topic and question.topic_label:
            atom.sub(entry, "category", term=question.topic, label=question.topic_label)
        atom.sub(entry, "content", _question_html(question), type="html")
    return atom.to_bytes(root)
