"""Settings: defaults, environment parsing, the generated secret, and their documentation."""

from __future__ import annotations

import re
import stat
from dataclasses import fields
from pathlib import Path

import pytest

from greenweb.config import SETTINGS, Settings, SettingsError, secret_path
from support import REPO


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    """An environment with the database in tmp_path and a fixed secret, plus ``values``."""
    base = {"GREENWEB_DB": str(tmp_path / "greenweb.db"), "GREENWEB_SECRET": "s3cret"}
    base.update(values)
    return base


def test_empty_environment_gives_the_documented_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.db_path == Path("data/greenweb.db")
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.premoderation is True
    assert settings.question_min_chars == 15
    assert settings.question_max_chars == 1000
    assert settings.grid_intensity == "global"
    assert settings.green_hosting is False
    assert settings.hosting_provider == ""
    assert settings.security_contact == ""
    assert settings.page_cache_bytes == 16 * 1024 * 1024
    assert settings.page_max_age == 60
    assert settings.https is False


def test_dataclass_defaults_agree_with_the_declared_defaults(tmp_path: Path) -> None:
    from_env = Settings.from_env(env(tmp_path))
    direct = Settings(db_path=tmp_path / "greenweb.db", secret="s3cret")
    assert from_env == direct


# One value for every variable, none of them its default, by area.
SERVING = {
    "GREENWEB_HOST": "0.0.0.0",
    "GREENWEB_PORT": "9000",
    "GREENWEB_BASE_URL": "https://bollettino.example.org/",
    "GREENWEB_PAGE_CACHE_BYTES": "1024",
    "GREENWEB_PAGE_MAX_AGE": "0",
}
BOARD = {
    "GREENWEB_PREMODERATION": "off",
    "GREENWEB_QUESTION_MIN": "5",
    "GREENWEB_QUESTION_MAX": "50",
}
DISCLOSURE = {
    "GREENWEB_GRID_INTENSITY": "ITA",
    "GREENWEB_GREEN_HOSTING": "yes",
    "GREENWEB_HOSTING_PROVIDER": " host.example ",
    "GREENWEB_SECURITY_CONTACT": "mailto:sicurezza@example.org",
    "GREENWEB_DATA_LICENSE": "ODbL-1.0",
}


def test_every_variable_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, **SERVING, **BOARD, **DISCLOSURE))
    assert settings.db_path == tmp_path / "greenweb.db"
    assert settings.secret == "s3cret"
    assert settings.host == "0.0.0.0"
    assert settings.port == 9000
    assert settings.base_url == "https://bollettino.example.org"  # trailing slash dropped
    assert settings.https is True
    assert settings.premoderation is False
    assert (settings.question_min_chars, settings.question_max_chars) == (5, 50)
    assert settings.grid_intensity == "ITA"
    assert settings.green_hosting is True
    assert settings.hosting_provider == "host.example"
    assert settings.security_contact == "mailto:sicurezza@example.org"
    assert settings.data_license == "ODbL-1.0"
    assert settings.page_cache_bytes == 1024
    assert settings.page_max_age == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("No", False)],
)
def test_flags_accept_the_usual_spellings(tmp_path: Path, raw: str, expected: bool) -> None:
    assert Settings.from_env(env(tmp_path, GREENWEB_GREEN_HOSTING=raw)).green_hosting is expected


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("GREENWEB_PORT", "abc"),
        ("GREENWEB_PORT", "-1"),
        ("GREENWEB_PORT", "70000"),
        ("GREENWEB_PORT", "80.5"),
        ("GREENWEB_BASE_URL", "ftp://example.org"),
        ("GREENWEB_BASE_URL", "example.org"),
        ("GREENWEB_BASE_URL", "https://"),
        ("GREENWEB_PREMODERATION", "maybe"),
        ("GREENWEB_GREEN_HOSTING", "2"),
        ("GREENWEB_QUESTION_MIN", "0"),
        ("GREENWEB_QUESTION_MIN", "quindici"),
        ("GREENWEB_QUESTION_MAX", "10"),  # below the minimum of 15
        ("GREENWEB_PAGE_CACHE_BYTES", "-5"),
        ("GREENWEB_PAGE_MAX_AGE", "1.5"),
        ("GREENWEB_RATE_SUBSCRIPTIONS_PER_HOUR", "-1"),
        ("GREENWEB_RATE_SUBSCRIPTIONS_PER_HOUR", "cinque"),
    ],
)
def test_a_bad_value_raises_settings_error_naming_the_variable(
    tmp_path: Path, variable: str, raw: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env(tmp_path, **{variable: raw}))
    assert str(caught.value).startswith(variable + ":")


@pytest.mark.parametrize("variable", [s.env for s in SETTINGS if s.env != "GREENWEB_SECRET"])
def test_an_empty_variable_means_its_default(tmp_path: Path, variable: str) -> None:
    # `GREENWEB_DB= greenweb serve` or an empty line in a compose file must not turn the
    # database into "." or premoderation off.
    settings = Settings.from_env(env(tmp_path, **{variable: ""}))
    name = next(s.name for s in SETTINGS if s.env == variable)
    assert getattr(settings, name) == getattr(Settings(), name)


def test_secret_is_generated_once_and_kept_next_to_the_database(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "site.db"
    first = Settings.from_env({"GREENWEB_DB": str(db)})
    second = Settings.from_env({"GREENWEB_DB": str(db)})
    path = secret_path(db)
    assert path == tmp_path / "sub" / "site.db.secret"
    assert len(first.secret) >= 32
    assert first.secret == second.secret
    assert path.read_text().strip() == first.secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_file_name_is_git_ignored() -> None:
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert "/data/*.secret" in ignored
    assert secret_path(Path("data/greenweb.db")).name.endswith(".secret")


def test_secret_from_the_environment_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, GREENWEB_SECRET="given"))
    assert settings.secret == "given"
    assert not secret_path(tmp_path / "greenweb.db").exists()


def test_an_existing_secret_file_is_reused(tmp_path: Path) -> None:
    db = tmp_path / "greenweb.db"
    secret_path(db).write_text("kept-from-last-time\n")
    assert Settings.from_env({"GREENWEB_DB": str(db)}).secret == "kept-from-last-time"


def test_an_empty_secret_file_is_an_error_not_an_empty_key(tmp_path: Path) -> None:
    db = tmp_path / "greenweb.db"
    secret_path(db).write_text("\n")
    with pytest.raises(SettingsError, match="GREENWEB_SECRET"):
        Settings.from_env({"GREENWEB_DB": str(db)})


def test_secret_bytes_refuses_an_unset_secret() -> None:
    with pytest.raises(SettingsError):
        _ = Settings().secret_bytes
    assert Settings(secret="abc").secret_bytes == b"abc"


def test_secret_is_not_shown_in_repr() -> None:
    assert "hidden-value" not in repr(Settings(secret="hidden-value"))


# --- documentation (datasette's test_docs.py habit) -------------------------------------


def readme_settings_table() -> dict[str, tuple[str, str]]:
    """{variable: (default cell, meaning cell)} from README's settings table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\| `(GREENWEB_[A-Z_]+)` \|([^|]*)\|([^|]*)\|$", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


def test_every_settings_field_is_declared_in_settings() -> None:
    declared = [s.name for s in SETTINGS]
    assert sorted(declared) == sorted(f.name for f in fields(Settings))
    assert len(set(declared)) == len(declared)
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_every_setting_has_help_text() -> None:
    for setting in SETTINGS:
        assert setting.env.startswith("GREENWEB_")
        assert len(setting.help) > 10, setting.env


def test_every_setting_is_documented_in_the_readme_table() -> None:
    table = readme_settings_table()
    assert sorted(table) == sorted(s.env for s in SETTINGS)


def test_readme_defaults_match_the_declared_defaults() -> None:
    table = readme_settings_table()
    for setting in SETTINGS:
        default_cell, meaning = table[setting.env]
        if setting.default:
            assert default_cell == f"`{setting.default}`", setting.env
        else:
            assert default_cell in {"", "generated"}, setting.env
        assert meaning, setting.env


# --- values from_env refuses, always with SettingsError ----------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GREENWEB_PORT", "65536"),
        ("GREENWEB_PORT", "-1"),
        ("GREENWEB_PORT", "٨٠٠٠"),  # Arabic-Indic digits: int() takes them, we do not
        ("GREENWEB_PORT", "8_000"),
        ("GREENWEB_PORT", "9" * 5000),
        ("GREENWEB_MAX_BODY_BYTES", "10"),
        ("GREENWEB_MAX_BODY_BYTES", "lots"),
        ("GREENWEB_BASE_URL", "http://[::1"),
        ("GREENWEB_BASE_URL", "http://example.org:port"),
        ("GREENWEB_BASE_URL", "ftp://example.org"),
        ("GREENWEB_BASE_URL", "http://:80"),
        ("GREENWEB_BASE_URL", "http://example.org/?a=1"),
        ("GREENWEB_BASE_URL", "http://exa mple.org"),
        ("GREENWEB_BASE_URL", "http://example.org/\nSet-Cookie: x"),
        ("GREENWEB_DB", "a\x00b"),
        ("GREENWEB_DB", "/"),
        ("GREENWEB_SECURITY_CONTACT", "http://example.org/security"),
        ("GREENWEB_SECURITY_CONTACT", "javascript:alert(1)"),
        ("GREENWEB_SECURITY_CONTACT", "mailto:a@b.it\nExpires: never"),
        ("GREENWEB_SECURITY_CONTACT", "chiamateci"),
        ("GREENWEB_SECURITY_CONTACT", "mailto:"),
        ("GREENWEB_DATA_LICENSE", "CC BY 4.0"),
        ("GREENWEB_DATA_LICENSE", "x"),
        ("GREENWEB_DATA_LICENSE", "4.0-CC-BY"),
        ("GREENWEB_DATA_LICENSE", "CC--BY"),
        ("GREENWEB_DATA_LICENSE", "<CC-BY-4.0>"),
        ("GREENWEB_DATA_LICENSE", "CC-BY-4.0>; rel=x"),
        ("GREENWEB_DATA_LICENSE", "CC-BY-4.0\nLink: x"),
        ("GREENWEB_DATA_LICENSE", "CC-BY-4.0-"),
    ],
)
def test_unusable_value_is_a_settings_error(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env(tmp_path, **{name: value}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sicurezza@greenweb.example", "mailto:sicurezza@greenweb.example"),
        ("mailto:sicurezza@greenweb.example", "mailto:sicurezza@greenweb.example"),
        (" https://greenweb.example/segnala ", "https://greenweb.example/segnala"),
        ("tel:+39-011-000000", "tel:+39-011-000000"),
        ("", ""),
    ],
)
def test_security_contact_forms(tmp_path: Path, value: str, expected: str) -> None:
    settings = Settings.from_env(env(tmp_path, GREENWEB_SECURITY_CONTACT=value))
    assert settings.security_contact == expected


def test_max_body_bytes_default_and_override(tmp_path: Path) -> None:
    assert Settings.from_env(env(tmp_path)).max_body_bytes == 32768
    raised = Settings.from_env(env(tmp_path, GREENWEB_MAX_BODY_BYTES="65536"))
    assert raised.max_body_bytes == 65536


def test_unwritable_secret_location_is_a_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match="GREENWEB_SECRET"):
        Settings.from_env({"GREENWEB_DB": str(blocker / "sub" / "g.db")})


def test_port_bounds_are_accepted(tmp_path: Path) -> None:
    assert Settings.from_env(env(tmp_path, GREENWEB_PORT="0")).port == 0
    assert Settings.from_env(env(tmp_path, GREENWEB_PORT=" 65535 ")).port == 65535


# --- e-mail -------------------------------------------------------------------------------

MAIL = {
    "GREENWEB_SMTP_HOST": "smtp.example.org",
    "GREENWEB_SMTP_PORT": "465",
    "GREENWEB_SMTP_USERNAME": "bollettino",
    "GREENWEB_SMTP_PASSWORD": "p4ss word",
    "GREENWEB_SMTP_TLS": "TLS",
    "GREENWEB_MAIL_FROM": "Bollettino <bollettino@example.org>",
    "GREENWEB_MAIL_RATE_PER_MINUTE": "30",
    "GREENWEB_MAIL_DELIVERY": "serve",
    "GREENWEB_BASE_URL": "https://bollettino.example.org",
}


def test_mail_is_off_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.mail_enabled is False
    assert (settings.smtp_port, settings.smtp_tls, settings.mail_delivery) == (
        587,
        "starttls",
        "cron",
    )
    assert settings.mail_rate_per_minute == 60


def test_every_mail_variable_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, **MAIL))
    assert settings.mail_enabled is True
    assert settings.smtp_host == "smtp.example.org"
    assert settings.smtp_port == 465
    assert (settings.smtp_username, settings.smtp_password) == ("bollettino", "p4ss word")
    assert settings.smtp_tls == "tls"
    assert settings.mail_from == "Bollettino <bollettino@example.org>"
    assert settings.mail_rate_per_minute == 30
    assert settings.mail_delivery == "serve"


def test_smtp_password_is_not_shown_in_repr(tmp_path: Path) -> None:
    assert "p4ss word" not in repr(Settings.from_env(env(tmp_path, **MAIL)))


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("GREENWEB_SMTP_HOST", "smtp example.org"),
        ("GREENWEB_SMTP_HOST", "smtp.example.org\r\nRCPT"),
        ("GREENWEB_SMTP_PORT", "0"),
        ("GREENWEB_SMTP_PORT", "65536"),
        ("GREENWEB_SMTP_PORT", "smtp"),
        ("GREENWEB_SMTP_USERNAME", "bol\nlettino"),
        ("GREENWEB_SMTP_PASSWORD", "a\x07b"),
        ("GREENWEB_SMTP_TLS", "ssl"),
        ("GREENWEB_SMTP_TLS", "1"),
        ("GREENWEB_MAIL_FROM", "bollettino"),
        ("GREENWEB_MAIL_FROM", "a@example.org, b@example.org"),
        ("GREENWEB_MAIL_FROM", "Bollettino <bollettino@example.org>\r\nBcc: x@y.org"),
        ("GREENWEB_MAIL_FROM", "bollettino@localhost"),
        ("GREENWEB_MAIL_RATE_PER_MINUTE", "0"),
        ("GREENWEB_MAIL_RATE_PER_MINUTE", "many"),
        ("GREENWEB_MAIL_DELIVERY", "always"),
    ],
)
def test_a_bad_mail_value_raises_settings_error_naming_the_variable(
    tmp_path: Path, variable: str, raw: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env(tmp_path, **{**MAIL, variable: raw}))
    assert str(caught.value).startswith(variable + ":")


@pytest.mark.parametrize(
    ("variable", "raw", "named"),
    [
        ("GREENWEB_MAIL_FROM", "", "GREENWEB_MAIL_FROM"),
        ("GREENWEB_SMTP_PASSWORD", "", "GREENWEB_SMTP_PASSWORD"),
        ("GREENWEB_SMTP_USERNAME", "", "GREENWEB_SMTP_USERNAME"),
        ("GREENWEB_BASE_URL", "http://bollettino.example.org", "GREENWEB_BASE_URL"),
    ],
)
def test_mail_settings_that_need_each_other(
    tmp_path: Path, variable: str, raw: str, named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env(tmp_path, **{**MAIL, variable: raw}))
    assert str(caught.value).startswith(named + ":")


def test_background_delivery_needs_an_smtp_host(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="^GREENWEB_MAIL_DELIVERY:"):
        Settings.from_env(env(tmp_path, GREENWEB_MAIL_DELIVERY="serve"))


@pytest.mark.parametrize("value", ["CC-BY-4.0", "CC0-1.0", "ODbL-1.0", "CC-BY-SA-4.0", "GPL-2.0+"])
def test_data_licence_takes_spdx_ids(tmp_path: Path, value: str) -> None:
    assert Settings.from_env(env(tmp_path, GREENWEB_DATA_LICENSE=value)).data_license == value
