"""Settings.from_env refuses values greenweb cannot use, always with SettingsError."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb.config import Settings, SettingsError


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"GREENWEB_DB": str(tmp_path / "g.db"), "GREENWEB_SECRET": "s"}
    base.update(values)
    return base


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
