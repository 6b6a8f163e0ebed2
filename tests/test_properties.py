"""Property-based tests (hypothesis) for the parsers and encoders that meet raw input."""

from __future__ import annotations

import sqlite3
import string
import tempfile
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote_to_bytes

from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from greenweb.bulletin.syndication import fold, ical_escape
from greenweb.config import SETTINGS, Settings, SettingsError
from greenweb.footprint.carbon import parse_grid
from greenweb.pagination import MAX_PAGE, PageNumberError, parse_page
from greenweb.search import fts_query
from greenweb.web.middleware.access_log import MAX_LOGGED_PATH, loggable_path
from greenweb.web.middleware.limits import valid_url_part, valid_urlencoded
from greenweb.web.static_files import fingerprint

# The loaded profile's examples per test (tests/conftest.py): 100 in `make test`.
BUDGET = hypothesis_settings.default.max_examples
# No deadlines: the suite makes no timed assertions, and a busy CI machine is no bug.
examples = hypothesis_settings(deadline=None, max_examples=3 * BUDGET)
few_examples = hypothesis_settings(
    deadline=None, max_examples=BUDGET, suppress_health_check=[HealthCheck.too_slow]
)


# --- parse_page ---------------------------------------------------------------------------


@examples
@given(st.one_of(st.none(), st.text(), st.from_regex(r"\A[0-9]{1,8}\Z")))
@example("٣")
@example("²")
@example("0")
@example(str(MAX_PAGE + 1))
def test_parse_page_returns_a_page_number_or_raises_page_number_error(raw: str | None) -> None:
    try:
        number = parse_page(raw)
    except PageNumberError:
        assert raw is not None and raw != ""
        return
    assert 1 <= number <= MAX_PAGE
    if raw:
        assert raw.isascii() and raw.isdigit() and int(raw) == number


@examples
@given(st.integers(min_value=1, max_value=MAX_PAGE))
def test_parse_page_reads_every_valid_number(number: int) -> None:
    assert parse_page(str(number)) == number


# --- fts_query ----------------------------------------------------------------------------


@examples
@given(st.text())
@example('"clima" OR NEAR(a b) -x ^y col:z *')
@example("\x00")
def test_fts_query_is_none_or_quoted_prefix_words(text: str) -> None:
    query = fts_query(text)
    if query is None:
        return
    tokens = query.split(" ")
    assert 1 <= len(tokens) <= 12
    for token in tokens:
        assert token.startswith('"') and token.endswith('"*')
        word = token[1:-2]
        assert word and '"' not in word
        assert all(c.isalnum() or c == "_" for c in word), word


@few_examples
@given(st.text(max_size=200))
@example('a" OR "b')
@example("AND OR NOT")
def test_fts_query_is_always_valid_fts5_syntax(text: str) -> None:
    query = fts_query(text)
    assume(query is not None)
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE s USING fts5("
            "title, body, tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute("INSERT INTO s VALUES ('clima e energia', 'testo')")
        conn.execute("SELECT count(*) FROM s WHERE s MATCH ?", (query,)).fetchone()


# --- iCalendar ----------------------------------------------------------------------------


def ical_unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def unfold(text: str) -> str:
    return text.replace("\r\n ", "")


@examples
@given(st.text())
@example("a\r\nb\rc\nd;e,f\\g")
def test_ical_escape_round_trips_with_newlines_normalised(text: str) -> None:
    escaped = ical_escape(text)
    assert "\n" not in escaped and "\r" not in escaped
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    assert ical_unescape(escaped) == normalised


@examples
@given(
    # Lone surrogates cannot reach fold: every text comes from UTF-8 files or SQLite.
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n")),
    st.integers(10, 100),
)
@example("é" * 100, 75)
@example("😀" * 40, 75)
def test_fold_keeps_lines_short_and_unfolds_to_the_original(line: str, limit: int) -> None:
    folded = fold(line, limit)
    assert unfold(folded) == line
    for part in folded.split("\r\n"):
        assert len(part.encode()) <= limit
    for part in folded.split("\r\n")[1:]:
        assert part.startswith(" ") and len(part) > 1


@examples
@given(st.text())
def test_an_escaped_and_folded_summary_is_one_content_line(text: str) -> None:
    folded = fold("SUMMARY:" + ical_escape(text))
    assert unfold(folded) == "SUMMARY:" + ical_escape(text)
    assert all(part.startswith(" ") for part in folded.split("\r\n")[1:])


# --- fingerprint --------------------------------------------------------------------------

names = st.text(alphabet=string.ascii_letters + string.digits + "._-", min_size=1, max_size=40)


@examples
@given(names, st.binary(max_size=2048))
def test_fingerprint_is_deterministic_and_keeps_the_name_readable(name: str, body: bytes) -> None:
    served, digest = fingerprint(name, body)
    assert (served, digest) == fingerprint(name, body)
    assert len(digest) == 10 and all(c in "0123456789abcdef" for c in digest)
    stem, dot, suffix = name.rpartition(".")
    assert served == (f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}")
    assert "/" not in served


@examples
@given(names, st.binary(max_size=256), st.binary(max_size=256))
def test_fingerprint_changes_with_the_content(name: str, one: bytes, two: bytes) -> None:
    assume(one != two)
    assert fingerprint(name, one) != fingerprint(name, two)


# --- Settings.from_env --------------------------------------------------------------------

ENV_NAMES = [s.env for s in SETTINGS]
env_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["", " ", "0", "1", "-1", "65536", "http://[::1", "https://x.it:99999", "HTTPS://["]
    ),
    st.sampled_from(["global", "ITA", "ita", "494", "bogus", "-3", "nan", "inf"]),
    st.sampled_from(["CC-BY-4.0", "CC BY", "ODbL-1.0", "CC0-1.0>;", "-x", "GPL-2.0+"]),
    st.from_regex(r"\A(https?|ftp)://[a-z.:\[\]0-9]{0,20}/?\Z"),
)


@few_examples
@given(st.dictionaries(st.sampled_from(ENV_NAMES), env_values), st.text(min_size=1, max_size=20))
# Each of these once raised ValueError (urlsplit) or went through unchecked.
@example({"GREENWEB_SECURITY_CONTACT": "HTTPS://["}, "s")
@example({"GREENWEB_GRID_INTENSITY": "bogus"}, "s")
def test_from_env_gives_settings_or_settings_error_only(env: dict[str, str], secret: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        environ = dict(env)
        # The database path is random too; it is only ever used under this folder.
        environ["GREENWEB_DB"] = str(Path(folder) / "sub" / env.get("GREENWEB_DB", "g.db"))
        if env.get("GREENWEB_SECRET") is None:
            environ["GREENWEB_SECRET"] = secret
        try:
            settings = Settings.from_env(environ)
        except SettingsError:
            return
    assert 0 <= settings.port <= 65535
    assert settings.base_url.startswith(("http://", "https://"))
    assert settings.max_body_bytes >= 1024
    contact = settings.security_contact
    assert contact == "" or (contact.isprintable() and not any(c.isspace() for c in contact))
    assert settings.host and not any(c.isspace() for c in settings.host)
    parse_grid(settings.grid_intensity)  # what the footprint figures will read: no ValueError
    # The licence goes into an HTTP Link header and a URL as it is.
    licence = settings.data_license
    assert licence.isascii() and all(c.isalnum() or c in ".-+" for c in licence)


@few_examples
@given(st.text(max_size=40))
def test_from_env_without_a_secret_keeps_one_next_to_the_database(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        environ = {"GREENWEB_DB": str(Path(folder) / "x" / name)}
        try:
            first = Settings.from_env(environ)
        except SettingsError:
            return
        assert first.secret
        assert Settings.from_env(environ).secret == first.secret


# --- request limits and the access log -----------------------------------------------------


def reference_valid(raw: bytes) -> bool:
    decoded = unquote_to_bytes(raw)
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


percent_heavy = st.lists(
    st.one_of(
        st.binary(max_size=4),
        st.sampled_from([b"%", b"%2", b"%ff", b"%C3%A8", b"%00", b"%0a", b"%e2%80%ae", b"%c0%af"]),
    ),
    max_size=12,
).map(b"".join)


@examples
@given(st.one_of(st.binary(max_size=64), percent_heavy))
def test_url_check_matches_its_definition(raw: bytes) -> None:
    assert valid_url_part(raw) == reference_valid(raw)


@examples
@given(st.one_of(st.binary(max_size=64), percent_heavy))
def test_form_check_never_raises(raw: bytes) -> None:
    if valid_urlencoded(raw):
        assert raw.isascii() and b"\x00" not in unquote_to_bytes(raw)


@examples
@given(st.text())
def test_logged_paths_are_one_bounded_printable_line(path: str) -> None:
    logged = loggable_path(path)
    assert logged.isprintable()
    assert len(logged) <= 10 * (MAX_LOGGED_PATH + 1)
    if path.isprintable() and len(path) <= MAX_LOGGED_PATH:
        assert logged == path
