"""The tables the question board owns (tests compare their row counts before and after a
request, to prove a refused form wrote nothing)."""

from __future__ import annotations

BOARD_TABLES = (
    "topics",
    "questions",
    "votes",
    "reports",
    "resources",
    "resource_topics",
    "question_resources",
    "moderators",
    "moderator_sessions",
    "moderation_log",
    "rate_events",
    "used_nonces",
)
