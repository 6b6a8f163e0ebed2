"""``greenweb newsletter``: one line on success and on failure, exit 2 without e-mail."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from greenweb.cli import main
from greenweb.config import Settings
from support.board import query
from support.mail import mail_settings
from support.newsletter import add_subscribers, queue_messages, states
from support.servers import free_port
from support.smtp import mail_server

ADDRESSES = ["anna@example.org", "bruno@example.org"]


def use(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def mail_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, port: int) -> None:
    use(
        monkeypatch,
        GREENWEB_DB=str(tmp_path / "greenweb.db"),
        GREENWEB_SECRET="test-secret-not-for-production",
        GREENWEB_BASE_URL="https://bollettino.example.org",
        GREENWEB_SMTP_HOST="127.0.0.1",
        GREENWEB_SMTP_PORT=str(port),
        GREENWEB_SMTP_TLS="none",
        GREENWEB_MAIL_FROM="Bollettino <bollettino@example.org>",
        GREENWEB_MAIL_RATE_PER_MINUTE="100000",
    )


def test_send_without_an_smtp_host_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, GREENWEB_DB=str(tmp_path / "greenweb.db"), GREENWEB_SECRET="s")
    assert main(["newsletter", "send"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "greenweb newsletter send: GREENWEB_SMTP_HOST is not set: e-mail is not available\n"
    )


def test_send_delivers_and_says_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with mail_server() as server:
        settings = mail_settings(tmp_path, smtp_port=server.port)
        add_subscribers(settings, ADDRESSES)
        queue_messages(settings, ADDRESSES)
        mail_env(monkeypatch, tmp_path, server.port)
        assert main(["newsletter", "send"]) == 0
        assert sorted(server.handler.delivered_to()) == ADDRESSES
    out = capsys.readouterr().out
    assert out == "sent 2, retrying 0, bounced 0, unsubscribed 0\n"


def test_send_to_a_server_that_is_down_exits_1_and_keeps_every_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    settings = mail_settings(tmp_path, smtp_port=port)
    add_subscribers(settings, ADDRESSES)
    queue_messages(settings, ADDRESSES)
    mail_env(monkeypatch, tmp_path, port)
    assert main(["newsletter", "send"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("greenweb newsletter send: sent 0, retrying 1, ")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert sorted(states(settings).values()) == ["queued", "retrying"]


def test_subscribers_export_writes_every_subscriber_as_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = mail_settings(tmp_path)
    add_subscribers(settings, ["anna@example.org"], kinds=["bando", "premio"])
    add_subscribers(settings, ["bruno@example.org"], choice="settimanale")
    mail_env(monkeypatch, tmp_path, 25)
    assert main(["newsletter", "subscribers", "export"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == [
        "address",
        "choice",
        "kinds",
        "state",
        "created_at",
        "confirmed_at",
        "bounces",
    ]
    assert [row[:4] for row in rows[1:]] == [
        ["anna@example.org", "numero", "bando premio", "confirmed"],
        ["bruno@example.org", "settimanale", "", "confirmed"],
    ]


def test_forget_erases_the_address_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = mail_settings(tmp_path)
    add_subscribers(settings, ADDRESSES)
    queue_messages(settings, ADDRESSES)
    mail_env(monkeypatch, tmp_path, 25)
    assert main(["newsletter", "forget", "Anna@Example.org"]) == 0
    assert "Anna@Example.org: erased" in capsys.readouterr().out
    assert list(states(settings)) == ["bruno@example.org"]
    assert main(["newsletter", "forget", "anna@example.org"]) == 0
    assert capsys.readouterr().out == "anna@example.org: nothing stored\n"


def test_forget_refuses_what_is_no_address_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = mail_settings(tmp_path)
    add_subscribers(settings, ADDRESSES)
    mail_env(monkeypatch, tmp_path, 25)
    assert main(["newsletter", "forget", "anna@example.org, bruno@example.org"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("greenweb newsletter forget: ") and err.count("\n") == 1
    assert len(export_rows(settings)) == 2


def export_rows(settings: Settings) -> list[str]:
    return [row[0] for row in query(settings, "SELECT address FROM newsletter_subscriber")]
