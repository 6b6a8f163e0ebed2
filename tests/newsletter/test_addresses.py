"""Which addresses greenweb writes to: one bare address, nothing else."""

from __future__ import annotations

import pytest

from greenweb.newsletter.addresses import AddressError, clean_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" anna@example.org ", "anna@example.org"),
        ("Anna.Rossi+bollettino@Posta.Example.IT", "Anna.Rossi+bollettino@Posta.Example.IT"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_a_bare_address_is_kept_trimmed(raw: str, expected: str) -> None:
    assert clean_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Scrivi il tuo indirizzo"),
        ("a" * 64 + "@" + "b" * 186 + ".org", "al massimo 254"),
        ("anna@example.org\r\nBcc: x@y.org", "ritorni a capo"),
        ("anna@example.org\nx", "ritorni a capo"),
        ("Anna <anna@example.org>", "senza nome"),
        ('"Anna" anna@example.org', "senza nome"),
        ("anna@example.org, bruno@example.org", "un solo indirizzo"),
        ("anna@example.org;bruno@example.org", "un solo indirizzo"),
        ("anna@bruno@example.org", "un solo indirizzo"),
        ("anna", "non è un indirizzo"),
        ("anna@localhost", "non è un indirizzo"),
        ("anna..rossi@example.org", "non è un indirizzo"),
        ("anna@-example.org", "non è un indirizzo"),
        ("annà@example.org", "non è un indirizzo"),
    ],
)
def test_anything_else_is_refused_in_italian(raw: str, says: str) -> None:
    with pytest.raises(AddressError) as caught:
        clean_address(raw)
    assert says in caught.value.message
