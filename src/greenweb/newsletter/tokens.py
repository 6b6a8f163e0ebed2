"""Signed links in e-mails: confirm a subscription, unsubscribe, manage it.

A token is ``id.issued.signature``: the subscriber's id, the Unix time it was made, and an
HMAC over both, the purpose and the address. The address is not in the link (the link is
no personal data in a log), but it is signed: a token made for a subscriber who left never
acts for anyone else, and subscriber ids are never given again (AUTOINCREMENT).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final, Literal

Purpose = Literal["conferma", "annulla", "gestisci"]

_TOKEN: Final = re.compile(r"^([0-9]{1,18})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Claim:
    """What a token says before it is checked against the stored address."""

    subscriber_id: int
    issued_at: int
    signature: str


def _signature(
    secret: bytes, purpose: Purpose, subscriber_id: int, issued: int, address: str
) -> str:
    message = f"greenweb-newsletter-v1|{purpose}|{subscriber_id}|{issued}|{address.lower()}"
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: bytes, purpose: Purpose, subscriber_id: int, address: str, issued: int) -> str:
    return f"{subscriber_id}.{issued}.{_signature(secret, purpose, subscriber_id, issued, address)}"


def read(token: str) -> Claim | None:
    """The claim of a well-formed token; None for any other text."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    return Claim(int(match.group(1)), int(match.group(2)), match.group(3))


def verify(
    secret: bytes,
    purpose: Purpose,
    claim: Claim,
    address: str,
    now: float,
    max_age: float | None = None,
) -> bool:
    """The claim was signed by us for ``purpose`` and ``address``, and (with ``max_age``)
    is no older than that."""
    expected = _signature(secret, purpose, claim.subscriber_id, claim.issued_at, address)
    if not hmac.compare_digest(expected, claim.signature):
        return False
    return max_age is None or 0 <= now - claim.issued_at <= max_age


def address_tag(secret: bytes, address: str) -> str:
    """A short keyed digest of an address: Message-IDs name the recipient without saying it."""
    message = f"greenweb-newsletter-recipient|{address.lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:20]
