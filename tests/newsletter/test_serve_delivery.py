"""``GREENWEB_MAIL_DELIVERY=serve``: the app's lifespan delivers the outbox in the
background, and stops cleanly with the app."""

from __future__ import annotations

import time
from pathlib import Path

from starlette.testclient import TestClient

from greenweb.web.app import create_app
from support.mail import mail_settings
from support.newsletter import add_subscribers, queue_messages, states
from support.smtp import mail_server

ADDRESSES = ["anna@example.org", "bruno@example.org"]
WAIT_SECONDS = 60.0  # a bound on waiting for the background pass, not a measured time


def test_serve_delivers_the_outbox_in_the_background(tmp_path: Path) -> None:
    with mail_server() as server:
        settings = mail_settings(
            tmp_path, smtp_port=server.port, mail_delivery="serve", mail_rate_per_minute=6000
        )
        add_subscribers(settings, ADDRESSES)
        queue_messages(settings, ADDRESSES)
        with TestClient(create_app(settings), base_url="http://testserver") as client:
            assert client.get("/").status_code == 200
            deadline = time.monotonic() + WAIT_SECONDS
            while len(server.handler.acknowledged) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert sorted(server.handler.delivered_to()) == ADDRESSES
    assert set(states(settings).values()) == {"sent"}


def test_without_serve_delivery_the_app_sends_nothing(tmp_path: Path) -> None:
    with mail_server() as server:
        settings = mail_settings(tmp_path, smtp_port=server.port)
        add_subscribers(settings, ADDRESSES)
        queue_messages(settings, ADDRESSES)
        with TestClient(create_app(settings), base_url="http://testserver") as client:
            assert client.get("/").status_code == 200
        assert server.handler.acknowledged == []
    assert set(states(settings).values()) == {"queued"}
