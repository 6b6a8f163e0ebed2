"""E-mail addresses as greenweb accepts them: one bare address, nothing else."""

from __future__ import annotations

import re
from typing import Final

MAX_ADDRESS_CHARS: Final = 254  # RFC 5321's path limit less the angle brackets

# A deliberately plain shape: a local part of visible ASCII without the characters that
# make a display name, a group or a list, and a domain of dotted labels.
_ADDRESS: Final = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class AddressError(ValueError):
    """An address greenweb will not store or write to; ``message`` is Italian."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def clean_address(raw: str) -> str:
    """``raw`` with outer spaces trimmed, or AddressError: over 254 characters, a line
    break, a display name, several addresses, or not an address at all."""
    address = raw.strip()
    if not address:
        raise AddressError("Scrivi il tuo indirizzo e-mail.")
    if len(address) > MAX_ADDRESS_CHARS:
        raise AddressError(f"L'indirizzo può avere al massimo {MAX_ADDRESS_CHARS} caratteri.")
    if "\r" in address or "\n" in address:
        raise AddressError("L'indirizzo non può contenere ritorni a capo.")
    if "," in address or ";" in address or address.count("@") > 1:
        raise AddressError("Scrivi un solo indirizzo e-mail.")
    if "<" in address or ">" in address or '"' in address or " " in address:
        raise AddressError("Scrivi solo l'indirizzo, senza nome: per esempio anna@example.org.")
    if not _ADDRESS.match(address) or ".." in address or address.startswith("."):
        raise AddressError("Questo non è un indirizzo e-mail valido: per esempio anna@example.org.")
    return address
