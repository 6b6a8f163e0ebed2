"""Property-based tests (hypothesis) for what the question board does with raw input: the
cleaning and checking of texts, names, reasons, URLs and Markdown, the form token and the
session value."""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from greenweb import board, security
from greenweb.board import Limits, clean_line, clean_text, resources
from greenweb.markup import render_markdown
from greenweb.security import TokenError, TokenProblem
from support.hostile import active_content

# The loaded profile's examples per test (tests/conftest.py): 100 in `make test`.
BUDGET = hypothesis_settings.default.max_examples
# No deadlines: the suite makes no timed assertions, and a busy CI machine is no bug.
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


def is_clean(text: str, *, newlines: bool) -> bool:
    for ch in text:
        if ch == "\n":
            if not newlines:
                return False
        elif unicodedata.category(ch) in {"Cc", "Cs", "Co"} or ord(ch) in BIDI:
            return False
    return True


# --- question text --------------------------------------------------------------------------


@examples
@given(texts)
@example("Perche\u200e\u0301 il clima cambia?")  # a removed mark between letter and accent
@example("e\x01\u0301" * 20)
@example("a\u2028\u0301")
def test_clean_text_is_nfc_without_control_characters_and_trimmed(raw: str) -> None:
    text = clean_text(raw)
    assert unicodedata.is_normalized("NFC", text)
    assert is_clean(text, newlines=True)
    assert text == text.strip()
    assert "\r" not in text and "\t" not in text
    assert "\n\n\n" not in text
    assert not re.search(r"[^\S\n]\n", text)  # no spaces at the end of a line


@examples
@given(texts)
@example("e\u200e\u0301")
def test_clean_text_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


@examples
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,?!'àèéìòù", max_size=80))
def test_clean_text_keeps_ordinary_italian_as_it_is(raw: str) -> None:
    assert clean_text(raw) == re.sub(r" +\n", "\n", raw).strip()


limits_strategy = st.builds(
    lambda low, extra, name: Limits(text_min=low, text_max=low + extra, name_max=name),
    st.integers(1, 50),
    st.integers(0, 200),
    st.integers(1, 60),
)
TOPICS = frozenset({"clima", "energia", "cibo"})


@examples
@given(
    texts,
    st.one_of(st.none(), texts),
    st.one_of(st.none(), st.sampled_from(["", *TOPICS]), texts),
    limits_strategy,
)
def test_validate_question_accepts_exactly_what_fits_the_limits(
    text: str, name: str | None, topic: str | None, limits: Limits
) -> None:
    checked, draft = board.validate_question(text, name, topic, limits=limits, topics=TOPICS)
    cleaned = clean_text(text)
    fits = limits.text_min <= len(cleaned) <= limits.text_max
    name_fits = len(clean_line(name or "")) <= limits.name_max
    topic_ok = (topic or "").strip() in {"", *TOPICS}
    assert (draft is not None) == (fits and name_fits and topic_ok)
    assert set(checked.errors) <= {"testo", "nome", "tema"}
    if draft is not None:
        assert draft.text == cleaned and is_clean(draft.text, newlines=True)
        assert draft.display_name is None or (
            draft.display_name == clean_line(name or "") and "\n" not in draft.display_name
        )
        assert draft.topic is None or draft.topic in TOPICS
    else:
        # What comes back to the form is cleaned too: nothing raw is shown again.
        assert checked.values["testo"] == cleaned
        assert is_clean(checked.values["nome"], newlines=False)


# --- names and reasons ---------------------------------------------------------------------


@examples
@given(texts)
def test_clean_line_is_one_clean_line_with_single_spaces(raw: str) -> None:
    line = clean_line(raw)
    assert is_clean(line, newlines=False)
    assert line == line.strip()
    assert not re.search(r"\s\s", line)
    assert unicodedata.is_normalized("NFC", line)
    assert clean_line(line) == line


@examples
@given(texts, st.booleans())
def test_a_reason_is_one_line_and_within_its_limit_or_refused(raw: str, required: bool) -> None:
    reason, problem = board.check_reason(raw, required=required)
    assert reason == clean_line(raw)
    if problem is None:
        assert len(reason) <= board.MAX_REASON_CHARS
        assert reason or not required
    else:
        assert problem.endswith(".") and (not reason or len(reason) > board.MAX_REASON_CHARS)


@examples
@given(texts)
def test_an_answer_keeps_newlines_and_markdown_indentation(raw: str) -> None:
    markdown, problem = board.validate_answer(raw)
    assert is_clean(markdown, newlines=True)
    assert (problem is None) == (1 <= len(markdown) <= board.MAX_ANSWER_CHARS)
    if "\t" in raw and problem is None:
        assert "\t" not in markdown


# --- URLs and Markdown ---------------------------------------------------------------------

urls = st.one_of(
    texts,
    st.from_regex(r"\A(https?|javascript|data|ftp|HTTP)?:?/{0,3}[\[\]a-z0-9.:@%/?#-]{0,30}\Z"),
)


@examples
@given(urls)
@example("http://[evil")
@example("https://x:porta/")
@example("https://:443/")
def test_check_http_url_never_raises_and_accepts_only_complete_http_urls(url: str) -> None:
    problem = board.check_http_url(url)
    if problem is None:
        assert url.split(":", 1)[0].lower() in {"http", "https"}
        assert len(url) <= board.MAX_URL_CHARS
        assert not any(c.isspace() for c in url)


@examples
@given(texts, urls, texts)
def test_theatre_piece_and_resource_validation_never_raise(title: str, url: str, text: str) -> None:
    _, piece = board.validate_piece(title, url, text)
    if piece is not None and piece.url is not None:
        assert board.check_http_url(piece.url) is None
    _, draft = resources.validate_resource(
        title, url, "leggere", text, "it", text, [title], known_topics=TOPICS
    )
    if draft is not None:
        assert board.check_http_url(draft.url) is None


markdown_sources = st.one_of(
    texts,
    st.builds(
        lambda label, scheme, rest, image: f"{'!' if image else ''}[{label}]({scheme}{rest})",
        st.text(max_size=8),
        st.sampled_from(
            [
                "javascript:",
                "JaVaScRiPt:",
                "data:image/png;base64,",
                "data:text/html,",
                "vbscript:",
                "file:",
                "java\tscript:",
                " javascript:",
                "&#106;avascript:",
                "https://",
                "http://",
                "mailto:",
                "/",
                "#",
                "ftp://",
                "//",
                "tel:",
            ]
        ),
        st.text(alphabet=string.ascii_letters + "()/:.%&#;", max_size=20),
        st.booleans(),
    ),
    st.builds(lambda url: f"<{url}>", st.text(max_size=30)),
    st.builds(
        lambda tag: f"<{tag} onload=alert(1)>x</{tag}>",
        st.sampled_from(["img", "svg", "a", "script"]),
    ),
)
HREF = re.compile(r'href="([^"]*)"')
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


@examples
@given(markdown_sources)
@example("[x](data:image/png;base64,AAAA)")
@example("![x](data:image/gif;base64,R0lGOD)")
@example("[x](tel:+390111234567)")
def test_rendered_markdown_has_no_active_content_and_only_web_or_mail_links(source: str) -> None:
    html = render_markdown(source)
    assert active_content(html) == []
    for href in HREF.findall(html):
        scheme = SCHEME.match(href)
        assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto", "tel"}, href


# --- the form token ----------------------------------------------------------------------------

form_names = st.from_regex(r"\A[a-z0-9-]{1,60}\Z")
nonces = st.from_regex(r"\A[A-Za-z0-9_-]{22}\Z")
secrets_ = st.binary(min_size=1, max_size=64)
bindings = st.one_of(st.just(""), st.text(max_size=40))
times = st.integers(0, 10**11)


@examples
@given(secrets_, form_names, nonces, bindings, times, st.integers(0, 7200))
def test_a_token_reads_back_for_any_form_nonce_binding_and_time(
    secret: bytes, form: str, nonce: str, binding: str, issued: int, age: int
) -> None:
    token = security.issue_token(secret, form, issued, binding=binding, nonce=nonce)
    read = security.verify_token(
        secret, token, form, issued + age, min_age=0, max_age=7200, binding=binding
    )
    assert read == security.FormToken(form=form, issued_at=issued, nonce=nonce)


@examples
@given(secrets_, form_names, nonces, times, st.data())
def test_any_single_character_changed_is_refused_as_forged(
    secret: bytes, form: str, nonce: str, issued: int, data: st.DataObject
) -> None:
    token = security.issue_token(secret, form, issued, nonce=nonce)
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(
        st.characters(codec="ascii").filter(lambda c: c != token[position]), label="by"
    )
    changed = token[:position] + replacement + token[position + 1 :]
    with pytest.raises(TokenError) as refused:
        security.verify_token(secret, changed, form, issued + 10, min_age=0, max_age=7200)
    assert refused.value.problem is TokenProblem.FORGED


@examples
@given(secrets_, secrets_, form_names, times)
def test_a_token_from_another_secret_is_refused(
    secret: bytes, other: bytes, form: str, issued: int
) -> None:
    assume(secret != other)
    token = security.issue_token(other, form, issued)
    with pytest.raises(TokenError) as refused:
        security.verify_token(secret, token, form, issued + 10, min_age=0, max_age=7200)
    assert refused.value.problem is TokenProblem.FORGED


@examples
@given(secrets_, form_names, bindings, bindings, times)
def test_a_token_bound_elsewhere_is_refused(
    secret: bytes, form: str, binding: str, other: str, issued: int
) -> None:
    assume(binding != other)
    token = security.issue_token(secret, form, issued, binding=other)
    with pytest.raises(TokenError) as refused:
        security.verify_token(
            secret, token, form, issued + 10, min_age=0, max_age=7200, binding=binding
        )
    assert refused.value.problem is TokenProblem.FORGED


@examples
@given(secrets_, form_names, form_names, times)
def test_a_token_of_another_form_is_refused_as_such(
    secret: bytes, form: str, other: str, issued: int
) -> None:
    assume(form != other)
    token = security.issue_token(secret, other, issued)
    with pytest.raises(TokenError) as refused:
        security.verify_token(secret, token, form, issued + 10, min_age=0, max_age=7200)
    assert refused.value.problem is TokenProblem.OTHER_FORM


@examples
@given(
    secrets_,
    times,
    st.integers(-(10**6), 10**6),  # age; negative: issued "in the future"
    st.integers(0, 60),
    st.integers(1, 10**5),
)
@example(b"k", 1000, 3, 3, 7200)
@example(b"k", 1000, 2, 3, 7200)
@example(b"k", 10_000, 7200, 3, 7200)
@example(b"k", 10_000, 7201, 3, 7200)
def test_a_token_is_accepted_exactly_between_its_minimum_and_maximum_age(
    secret: bytes, issued: int, age: int, min_age: int, window: int
) -> None:
    max_age = min_age + window
    token = security.issue_token(secret, "question", issued)
    try:
        security.verify_token(
            secret, token, "question", issued + age, min_age=min_age, max_age=max_age
        )
    except TokenError as error:
        expected = TokenProblem.EXPIRED if age > max_age else TokenProblem.TOO_YOUNG
        assert error.problem is expected
        assert not min_age <= age <= max_age
    else:
        assert min_age <= age <= max_age


@examples
@given(st.one_of(st.none(), st.text(), st.text(alphabet="0123456789.abcdefq-_", max_size=120)))
def test_any_string_is_a_token_error_or_a_token_never_an_exception(text: str | None) -> None:
    try:
        security.verify_token(b"k", text, "question", 10**9, min_age=0, max_age=10**10)
    except TokenError as error:
        assert error.message  # an Italian sentence for the page
    else:
        raise AssertionError(f"{text!r} was accepted")


# --- the session value ---------------------------------------------------------------------


@examples
@given(secrets_, times, st.integers(1, 10**6), st.data())
def test_a_session_value_reads_back_until_it_expires_and_any_change_voids_it(
    secret: bytes, now: int, lifetime: int, data: st.DataObject
) -> None:
    session_id = security.new_session_id()
    value = security.sign_session(secret, session_id, now + lifetime)
    assert security.read_session(secret, value, now) == session_id
    assert security.read_session(secret, value, now + lifetime) is None
    assert security.read_session(b"other" + secret, value, now) is None
    position = data.draw(st.integers(0, len(value) - 1), label="position")
    replacement = data.draw(
        st.characters(codec="ascii").filter(lambda c: c != value[position]), label="by"
    )
    changed = value[:position] + replacement + value[position + 1 :]
    assert security.read_session(secret, changed, now) is None


@examples
@given(secrets_, st.one_of(st.ip_addresses().map(str), st.text(max_size=50)), st.text(max_size=20))
def test_a_client_hash_is_fixed_length_hex_and_never_the_address(
    secret: bytes, address: str, purpose: str
) -> None:
    hashed = security.client_hash(secret, address, purpose)
    assert re.fullmatch(r"[0-9a-f]{32}", hashed)
    assert hashed == security.client_hash(secret, address, purpose)
    assume(len(address) >= 4)
    assert address not in hashed
