"""/.well-known/security.txt (RFC 9116) from the settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient

from greenweb.web.app import create_app
from greenweb.web.views.wellknown import security_txt
from support import make_settings


def fields(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if line)


def test_security_txt_lists_contact_expiry_languages_and_canonical(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, base_url="https://greenweb.example", security_contact="mailto:sicurezza@x.it"
    )
    before = datetime.now(UTC).replace(microsecond=0)
    with TestClient(create_app(settings)) as client:
        response = client.get("/.well-known/security.txt")
    after = datetime.now(UTC)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    values = fields(response.text)
    assert values["Contact"] == "mailto:sicurezza@x.it"
    assert values["Preferred-Languages"] == "it, en"
    assert values["Canonical"] == "https://greenweb.example/.well-known/security.txt"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", values["Expires"])
    expires = datetime.strptime(values["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(days=365) <= expires <= after + timedelta(days=365)
    assert set(values) == {"Contact", "Expires", "Preferred-Languages", "Canonical"}


def test_security_txt_is_404_without_a_contact(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        response = client.get("/.well-known/security.txt")
    assert response.status_code == 404
    assert "Contact" not in response.text


def test_security_txt_expires_one_year_after_start() -> None:
    started = datetime(2026, 3, 1, 10, 30, 15, 999, tzinfo=UTC)
    text = security_txt("https://x.example/security", "https://x.example/c", started)
    assert "Expires: 2027-03-01T10:30:15Z\n" in text
    assert text.endswith("\n")
