"""The asker's private feed address: the question's id, signed for this one purpose.

Whoever holds the address reads that question's story, whatever its state; nobody can make
one for another question without the server secret. No expiry: a question's outcome may
come months later.
"""

from __future__ import annotations

from typing import Final

from greenweb.security import read_signed, sign_value

PURPOSE: Final = "follow-question"


def follow_token(secret: bytes, question_id: int) -> str:
    return sign_value(secret, PURPOSE, str(int(question_id)))


def followed_question(secret: bytes, token: str) -> int | None:
    """The question a token opens; None for anything that is not one of ours."""
    value = read_signed(secret, PURPOSE, token)
    if value is None or not value.isdigit() or value.startswith("0") or len(value) > 18:
        return None
    return int(value)
