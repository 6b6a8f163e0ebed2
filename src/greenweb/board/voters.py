"""Who said "anch'io": the value a vote is keyed by, and how a merge re-keys it.

A vote row stores, for one person and question q, the point ``k_q · P(person)`` of the
ed25519 prime-order group (hex in ``votes.voter_hash``), where

- ``P(person) = from_uniform(HMAC-SHA256(secret, "voter:" + client_key(address)))``, and
- ``k_q = scalar_reduce(HMAC-SHA512(secret, "vote-key:" + q))``.

Without the secret the values of one person on two questions cannot be linked (that is
the decisional Diffie-Hellman problem), so, as with the per-question HMACs before, nobody
holding a copy of the database can follow a person from one question to another. With the
secret, the server can re-key a vote from question d to question k by the scalar
``k_k · k_d^-1``, without knowing the person: that is how a merge of duplicates finds the
people who said "anch'io" on both, and counts each of them once (``board/duplicates.py``).

Rows of the old form (32 hex characters: ``security.client_hash(secret, address,
"vote:" + q)``) stay valid: the migration cannot convert them, as it has no address. A
person is therefore looked up by every form they may have on a question's *merge group*
(the question and the duplicates merged into it): the new value for the question, and
the old HMAC for every question id of the group, because a merge moves old rows as they
are. The one thing old rows cannot do is meet at a merge: a person with an old row on
both questions is counted twice on the kept one until their next "anch'io" or take-back
there, which finds both rows (see ``visitors.take_back_vote``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from nacl import bindings as sodium

from greenweb.security import client_hash, client_key

# Old rows: security.client_hash's 128-bit hex; new ones: a 32-byte point in hex.
LEGACY_CHARS: Final = 32
VALUE_CHARS: Final = 2 * sodium.crypto_core_ed25519_BYTES


_HEX = frozenset("0123456789abcdef")


def is_rekeyable(voter_hash: str) -> bool:
    """Whether a stored value is of the re-keyable form (anything else, old HMACs or rows
    written by hand, moves through a merge as it is)."""
    return len(voter_hash) == VALUE_CHARS and _HEX.issuperset(voter_hash)


@dataclass(frozen=True)
class VoterKeys:
    """The server secret's part in vote values: per-question scalars and re-keying."""

    secret: bytes

    def scalar(self, question_id: int) -> bytes:
        digest = hmac.new(self.secret, f"vote-key:{question_id:d}".encode(), hashlib.sha512)
        return sodium.crypto_core_ed25519_scalar_reduce(digest.digest())

    def voter(self, address: str | None) -> Voter:
        """The person behind a client address (normalised as ``security.client_key``)."""
        digest = hmac.new(self.secret, f"voter:{client_key(address)}".encode(), hashlib.sha256)
        point = sodium.crypto_core_ed25519_from_uniform(digest.digest())
        return Voter(self, address, point)

    def rekey(self, value: str, from_question: int, to_question: int) -> str:
        """The value a person's vote on ``from_question`` has on ``to_question``."""
        factor = sodium.crypto_core_ed25519_scalar_mul(
            self.scalar(to_question),
            sodium.crypto_core_ed25519_scalar_invert(self.scalar(from_question)),
        )
        return sodium.crypto_scalarmult_ed25519_noclamp(factor, bytes.fromhex(value)).hex()


@dataclass(frozen=True)
class Voter:
    """One person, made for a request from its client address and never stored."""

    keys: VoterKeys
    address: str | None
    point: bytes

    def value(self, question_id: int) -> str:
        """What a new vote of this person on the question stores."""
        scalar = self.keys.scalar(question_id)
        return sodium.crypto_scalarmult_ed25519_noclamp(scalar, self.point).hex()

    def legacy(self, question_id: int) -> str:
        """What a vote of the old form stores for this person and question."""
        return client_hash(self.keys.secret, self.address, f"vote:{question_id:d}")

    def forms(self, question_id: int, group: Iterable[int] = ()) -> list[str]:
        """Every value this person's vote may have on the question, whose merge group
        also holds the duplicates ``group``: the new value, then the old HMACs."""
        ids = dict.fromkeys([question_id, *group])
        return [self.value(question_id), *(self.legacy(q) for q in ids)]
