"""Hypothesis strategies for text as people and scripts send it, and the check that a
cleaned text holds no control or bidirectional characters."""

from __future__ import annotations

import unicodedata

from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

# No deadlines: the suite makes no timed assertions, and a busy CI machine is no bug.
# The loaded profile's examples per test (tests/conftest.py): 100 in `make test`.
BUDGET = hypothesis_settings.default.max_examples
examples = hypothesis_settings(deadline=None, max_examples=3 * BUDGET)

BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0xFEFF}

# Text as people and scripts send it: any code point, with the troublemakers over-drawn.
TROUBLE = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\r\n\t \u00a0\u2028\u2029\u200b\u200d\u200e\u202a"
    "\u202e\u2066\u2069\ufeff\u0301\u0308\u0327e\u00e9E\u212a\ufb01\u3000<>&\"'"
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(TROUBLE), max_size=40),
    st.lists(st.one_of(st.text(max_size=5), st.sampled_from(TROUBLE)), max_size=30).map("".join),
)

urls = st.one_of(
    texts,
    st.from_regex(r"\A(https?|javascript|data|ftp|HTTP)?:?/{0,3}[\[\]a-z0-9.:@%/?#-]{0,30}\Z"),
)


def is_clean(text: str, *, newlines: bool) -> bool:
    for ch in text:
        if ch == "\n":
            if not newlines:
                return False
        elif unicodedata.category(ch) in {"Cc", "Cs", "Co"} or ord(ch) in BIDI:
            return False
    return True
