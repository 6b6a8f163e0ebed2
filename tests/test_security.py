"""Form tokens, client hashing, rate limits, login throttling, passwords, session values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenweb import security
from greenweb.db import Database, fetch_value, with_database
from greenweb.security import RateLimited, RateRule, TokenError, TokenProblem

SECRET = b"unit-test-secret"
T0 = 1_700_000_000.0
R = TypeVar("R")


def verify(token: str | None, form: str = "question", now: float = T0 + 10, **kw: object) -> None:
    options: dict[str, object] = {"min_age": 3, "max_age": 7200}
    options.update(kw)
    security.verify_token(SECRET, token, form, now, **options)  # type: ignore[arg-type]


def problem_of(token: str | None, form: str = "question", now: float = T0 + 10, **kw: object):  # type: ignore[no-untyped-def]
    with pytest.raises(TokenError) as caught:
        verify(token, form, now, **kw)
    return caught.value.problem


def with_db(tmp_path: Path, work: Callable[[Database], Awaitable[R]]) -> R:
    return with_database(tmp_path / "security.db", work)


# --- form tokens ------------------------------------------------------------------------


def test_fresh_token_for_its_form_is_accepted() -> None:
    token = security.issue_token(SECRET, "question", T0)
    checked = security.verify_token(SECRET, token, "question", T0 + 10, min_age=3, max_age=7200)
    assert checked.form == "question"
    assert checked.issued_at == int(T0)
    assert len(checked.nonce) == 22


def test_each_token_has_its_own_nonce() -> None:
    tokens = {security.issue_token(SECRET, "question", T0) for _ in range(50)}
    assert len(tokens) == 50


@pytest.mark.parametrize("token", [None, ""])
def test_missing_token_is_refused_as_missing(token: str | None) -> None:
    assert problem_of(token) is TokenProblem.MISSING


def test_token_with_altered_signature_is_refused_as_forged() -> None:
    token = security.issue_token(SECRET, "question", T0)
    last = "A" if token[-1] != "A" else "B"
    assert problem_of(token[:-1] + last) is TokenProblem.FORGED


def test_token_with_altered_time_is_refused_as_forged() -> None:
    issued, form, nonce, signature = security.issue_token(SECRET, "question", T0).split(".")
    older = f"{int(issued) + 5}.{form}.{nonce}.{signature}"
    assert problem_of(older) is TokenProblem.FORGED


def test_token_signed_with_another_secret_is_refused_as_forged() -> None:
    token = security.issue_token(b"another secret", "question", T0)
    assert problem_of(token) is TokenProblem.FORGED


@pytest.mark.parametrize(
    "token",
    ["x", "1.2.3", "a.b.c.d", "1.question.short.sig", "...", "1.QUESTION.aaaaaaaaaaaaaaaaaaaaaa.b"],
)
def test_malformed_token_is_refused_as_forged(token: str) -> None:
    assert problem_of(token) is TokenProblem.FORGED


def test_token_of_another_form_is_refused_as_other_form() -> None:
    token = security.issue_token(SECRET, "vote-1", T0)
    assert problem_of(token, "vote-2") is TokenProblem.OTHER_FORM


def test_token_older_than_max_age_is_refused_as_expired() -> None:
    token = security.issue_token(SECRET, "question", T0)
    verify(token, now=T0 + 7200)
    assert problem_of(token, now=T0 + 7201) is TokenProblem.EXPIRED


def test_token_younger_than_min_age_is_refused_as_too_young() -> None:
    token = security.issue_token(SECRET, "question", T0)
    assert problem_of(token, now=T0 + 2) is TokenProblem.TOO_YOUNG
    verify(token, now=T0 + 3)


def test_token_bound_to_a_session_is_refused_in_another() -> None:
    token = security.issue_token(SECRET, "mod-approva-1", T0, binding="session-a")
    verify(token, "mod-approva-1", binding="session-a")
    assert problem_of(token, "mod-approva-1", binding="session-b") is TokenProblem.FORGED
    assert problem_of(token, "mod-approva-1") is TokenProblem.FORGED


def test_every_refusal_has_its_own_italian_message() -> None:
    messages = {security.TokenError(problem).message for problem in TokenProblem}
    assert len(messages) == len(TokenProblem)


@given(st.text(max_size=200))
def test_any_string_as_token_is_refused_cleanly(text: str) -> None:
    with pytest.raises(TokenError):
        verify(text)


def test_used_nonce_is_refused_the_second_time(tmp_path: Path) -> None:
    token = security.verify_token(
        SECRET,
        security.issue_token(SECRET, "question", T0),
        "question",
        T0 + 5,
        min_age=3,
        max_age=7200,
    )

    async def work(db: Database) -> TokenProblem | None:
        async with db.transaction() as conn:
            await security.consume_nonce(conn, token, T0 + 5, max_age=7200)
        assert await security.nonce_used(db.reader, token.nonce)
        try:
            async with db.transaction() as conn:
                await security.consume_nonce(conn, token, T0 + 6, max_age=7200)
        except TokenError as error:
            return error.problem
        return None

    assert with_db(tmp_path, work) is TokenProblem.USED


def test_nonces_too_old_to_matter_are_forgotten(tmp_path: Path) -> None:
    old = security.FormToken("question", int(T0), "a" * 22)
    new = security.FormToken("question", int(T0 + 8000), "b" * 22)

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            await security.consume_nonce(conn, old, T0 + 10, max_age=7200)
        async with db.transaction() as conn:
            await security.consume_nonce(conn, new, T0 + 8000, max_age=7200)
        return int(await fetch_value(db.reader, "SELECT count(*) FROM used_nonces"))

    assert with_db(tmp_path, work) == 1


# --- client hashing ----------------------------------------------------------------------


def test_client_hash_never_contains_the_address() -> None:
    value = security.client_hash(SECRET, "203.0.113.7", "rate")
    assert "203.0.113.7" not in value
    assert len(value) == 32
    assert value == security.client_hash(SECRET, "203.0.113.7", "rate")


def test_client_hash_differs_by_purpose_by_client_and_by_secret() -> None:
    base = security.client_hash(SECRET, "203.0.113.7", "vote:1")
    assert base != security.client_hash(SECRET, "203.0.113.7", "vote:2")
    assert base != security.client_hash(SECRET, "203.0.113.8", "vote:1")
    assert base != security.client_hash(b"other", "203.0.113.7", "vote:1")


def test_ipv6_clients_count_by_their_64_prefix() -> None:
    one = security.client_hash(SECRET, "2001:db8:1:2::1", "rate")
    assert one == security.client_hash(SECRET, "2001:db8:1:2:ffff::9", "rate")
    assert one != security.client_hash(SECRET, "2001:db8:1:3::1", "rate")


def test_ipv4_mapped_address_is_the_ipv4_client() -> None:
    assert security.client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert security.client_key(None) == "unknown"
    assert security.client_key("testclient") == "testclient"


# --- rate limits ---------------------------------------------------------------------------


def test_rate_limit_refuses_past_the_limit_and_says_when_to_retry(tmp_path: Path) -> None:
    rule = RateRule("question", limit=3, window=3600)

    async def work(db: Database) -> tuple[int, bool]:
        for n in range(3):
            async with db.transaction() as conn:
                await security.hit_rate(conn, "client-a", rule, T0 + n * 60)
        try:
            async with db.transaction() as conn:
                await security.hit_rate(conn, "client-a", rule, T0 + 600)
            return 0, False
        except RateLimited as limited:
            retry = limited.retry_after
        # Another client is not affected.
        async with db.transaction() as conn:
            await security.hit_rate(conn, "client-b", rule, T0 + 600)
        # When the first event leaves the window, one more is allowed.
        async with db.transaction() as conn:
            await security.hit_rate(conn, "client-a", rule, T0 + 3601)
        return retry, True

    retry, allowed_later = with_db(tmp_path, work)
    assert retry == 3600 - 600 + 1
    assert allowed_later


def test_refused_attempt_is_not_recorded(tmp_path: Path) -> None:
    rule = RateRule("vote", limit=1)

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            await security.hit_rate(conn, "c", rule, T0)
        for n in range(3):
            with pytest.raises(RateLimited):
                async with db.transaction() as conn:
                    await security.hit_rate(conn, "c", rule, T0 + n)
        return int(await fetch_value(db.reader, "SELECT count(*) FROM rate_events"))

    assert with_db(tmp_path, work) == 1


def test_rate_limit_of_zero_means_no_limit(tmp_path: Path) -> None:
    rule = RateRule("question", limit=0)

    async def work(db: Database) -> int:
        for _ in range(20):
            async with db.transaction() as conn:
                await security.hit_rate(conn, "c", rule, T0)
        return int(await fetch_value(db.reader, "SELECT count(*) FROM rate_events"))

    assert with_db(tmp_path, work) == 0


def test_old_rate_events_are_pruned(tmp_path: Path) -> None:
    rule = RateRule("vote", limit=100)

    async def work(db: Database) -> int:
        for n in range(5):
            async with db.transaction() as conn:
                await security.hit_rate(conn, f"c{n}", rule, T0)
        async with db.transaction() as conn:
            await security.hit_rate(conn, "late", rule, T0 + 2 * 3600)
        return int(await fetch_value(db.reader, "SELECT count(*) FROM rate_events"))

    assert with_db(tmp_path, work) == 1


# --- login throttling ----------------------------------------------------------------------


def test_failed_logins_slow_down_then_lock_out(tmp_path: Path) -> None:
    keys = ["client", "name"]

    async def work(db: Database) -> list[int | None]:
        waits: list[int | None] = []

        async def wait_at(t: float) -> int | None:
            return await security.login_retry_after(db.reader, keys, t, max_failures=5, lockout=900)

        waits.append(await wait_at(T0))  # no failure yet
        t = T0
        for _ in range(4):
            async with db.transaction() as conn:
                await security.record_login_failure(conn, keys, t, lockout=900)
            waits.append(await wait_at(t))
            t += 8
        async with db.transaction() as conn:
            await security.record_login_failure(conn, keys, t, lockout=900)
        waits.append(await wait_at(t + 60))  # locked out
        waits.append(await wait_at(T0 + 901))  # the oldest failure has expired
        async with db.transaction() as conn:
            await security.clear_login_failures(conn, keys)  # a successful login
        waits.append(await wait_at(t + 60))
        return waits

    waits = with_db(tmp_path, work)
    assert waits[0] is None
    assert waits[1:5] == [1, 2, 4, 8]
    assert waits[5] == 900 - (8 * 4 + 60) + 1
    # Once the oldest failure is older than the lockout, one more attempt is allowed.
    assert waits[6] is None
    assert waits[7] is None  # locked a moment ago, but cleared


def test_lockout_counts_each_key_on_its_own(tmp_path: Path) -> None:
    async def work(db: Database) -> tuple[int | None, int | None]:
        for n in range(5):
            async with db.transaction() as conn:
                await security.record_login_failure(conn, ["attacker", "anna"], T0 + n, lockout=900)
        by_name = await security.login_retry_after(
            db.reader, ["elsewhere", "anna"], T0 + 100, max_failures=5, lockout=900
        )
        other = await security.login_retry_after(
            db.reader, ["elsewhere", "bruno"], T0 + 100, max_failures=5, lockout=900
        )
        return by_name, other

    by_name, other = with_db(tmp_path, work)
    assert by_name is not None and by_name > 700
    assert other is None


# --- passwords ---------------------------------------------------------------------------


def test_password_hash_verifies_only_the_right_password() -> None:
    stored = security.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert security.verify_password(stored, "correct horse battery")
    assert not security.verify_password(stored, "correct horse batterY")
    assert not security.verify_password(None, "greenweb-no-such-moderator")
    assert not security.verify_password("not a hash", "x")
    assert not security.verify_password(stored, "x" * 5000)


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short", False), ("long enough!", True), (" padded password ", False), ("x" * 2000, False)],
)
def test_new_passwords_need_a_reasonable_length(password: str, ok: bool) -> None:
    assert (security.password_problem(password) is None) is ok


# --- session values ----------------------------------------------------------------------


def test_signed_session_value_reads_back_until_it_expires() -> None:
    session_id = security.new_session_id()
    value = security.sign_session(SECRET, session_id, int(T0) + 100)
    assert security.read_session(SECRET, value, T0) == session_id
    assert security.read_session(SECRET, value, T0 + 100) is None
    assert security.read_session(b"other", value, T0) is None


def test_tampered_session_value_is_ignored() -> None:
    session_id = security.new_session_id()
    value = security.sign_session(SECRET, session_id, int(T0) + 100)
    sid, expires, signature = value.split(".")
    assert security.read_session(SECRET, f"{sid}.{int(expires) + 1000}.{signature}", T0) is None
    other = security.new_session_id()
    assert security.read_session(SECRET, f"{other}.{expires}.{signature}", T0) is None
    for junk in ["", "x", "a.b.c", value + "x", value.replace(".", "..")]:
        assert security.read_session(SECRET, junk, T0) is None


def test_stored_session_hash_is_not_the_cookie_value() -> None:
    session_id = security.new_session_id()
    assert security.session_id_hash(session_id) != session_id
    assert len(security.session_id_hash(session_id)) == 64


# --- signed values ----------------------------------------------------------------------


def test_a_signed_value_reads_back_for_its_purpose_only() -> None:
    token = security.sign_value(b"secret", "follow-question", "42")
    assert token.startswith("42.") and len(token) == 3 + 43
    assert security.read_signed(b"secret", "follow-question", token) == "42"
    assert security.read_signed(b"secret", "another-purpose", token) is None
    assert security.read_signed(b"another secret", "follow-question", token) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1],
        lambda t: t + "A",
        lambda t: "43" + t[2:],
        lambda t: t.replace(".", ""),
        lambda t: t + ".x",
        lambda t: "",
        lambda t: "<script>." + t.split(".")[1],
    ],
)
def test_a_mangled_signed_value_reads_as_none(mangle: Callable[[str], str]) -> None:
    token = security.sign_value(b"secret", "follow-question", "42")
    assert security.read_signed(b"secret", "follow-question", mangle(token)) is None


def test_only_plain_values_can_be_signed() -> None:
    with pytest.raises(ValueError):
        security.sign_value(b"secret", "p", "a.b")
