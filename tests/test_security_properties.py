"""Property-based tests (hypothesis) of greenweb.security: the form token, the session
value and the client hash."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from greenweb import security
from greenweb.security import TokenError, TokenProblem
from support.raw_text import examples

# --- the form token ----------------------------------------------------------------------------

form_names = st.from_regex(r"\A[a-z0-9-]{1,60}\Z")

nonces = st.from_regex(r"\A[A-Za-z0-9_-]{22}\Z")

secrets_ = st.binary(min_size=1, max_size=64)

bindings = st.one_of(st.just(""), st.text(max_size=40))

times = st.integers(0, 10**11)


def refusal(secret: bytes, token: str, form: str, issued: int, binding: str = "") -> TokenProblem:
    """Why a token issued at ``issued`` is refused ten seconds later, for ``form``."""
    with pytest.raises(TokenError) as refused:
        security.verify_token(
            secret, token, form, issued + 10, min_age=0, max_age=7200, binding=binding
        )
    return refused.value.problem


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
    assert refusal(secret, changed, form, issued) is TokenProblem.FORGED


@examples
@given(secrets_, secrets_, form_names, times)
def test_a_token_from_another_secret_is_refused(
    secret: bytes, other: bytes, form: str, issued: int
) -> None:
    assume(secret != other)
    token = security.issue_token(other, form, issued)
    assert refusal(secret, token, form, issued) is TokenProblem.FORGED


@examples
@given(secrets_, form_names, bindings, bindings, times)
def test_a_token_bound_elsewhere_is_refused(
    secret: bytes, form: str, binding: str, other: str, issued: int
) -> None:
    assume(binding != other)
    token = security.issue_token(secret, form, issued, binding=other)
    assert refusal(secret, token, form, issued, binding) is TokenProblem.FORGED


@examples
@given(secrets_, form_names, form_names, times)
def test_a_token_of_another_form_is_refused_as_such(
    secret: bytes, form: str, other: str, issued: int
) -> None:
    assume(form != other)
    token = security.issue_token(secret, other, issued)
    assert refusal(secret, token, form, issued) is TokenProblem.OTHER_FORM


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
