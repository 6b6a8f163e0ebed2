"""A kill -9 of ``greenweb newsletter send`` in the middle of a send to 500 subscribers:
after a restart every address has exactly one acknowledged message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from greenweb.config import Settings
from support.mail import mail_settings
from support.newsletter import add_subscribers, queue_messages, states
from support.smtp import mail_server

SUBSCRIBERS = 500
KILLED_AT = 137  # the message whose 250 never comes: the sender dies first
RUN_TIMEOUT = 300


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENWEB_")}
    env.update(
        {
            "GREENWEB_DB": str(settings.db_path),
            "GREENWEB_SECRET": settings.secret,
            "GREENWEB_BASE_URL": settings.base_url,
            "GREENWEB_SMTP_HOST": settings.smtp_host,
            "GREENWEB_SMTP_PORT": str(settings.smtp_port),
            "GREENWEB_SMTP_TLS": settings.smtp_tls,
            "GREENWEB_MAIL_FROM": settings.mail_from,
            "GREENWEB_MAIL_RATE_PER_MINUTE": str(settings.mail_rate_per_minute),
        }
    )
    return env


def send_command() -> list[str]:
    return [sys.executable, "-m", "greenweb", "newsletter", "send"]


@pytest.mark.slow
def test_a_kill_mid_batch_resumes_with_nothing_skipped_and_nothing_sent_twice(
    tmp_path: Path,
) -> None:
    addresses = [f"lettore{n:03d}@example.org" for n in range(SUBSCRIBERS)]
    with mail_server() as server:
        settings = mail_settings(tmp_path, smtp_port=server.port, mail_rate_per_minute=1_000_000)
        add_subscribers(settings, addresses)
        queue_messages(settings, addresses)
        env = environment(settings)
        first = subprocess.Popen(
            send_command(), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        server.handler.script.kill_pid = first.pid
        server.handler.script.kill_at = KILLED_AT
        # wait() also reaps it: a dead sender's lease is free at once only once it is gone.
        assert first.wait(timeout=RUN_TIMEOUT) == -9
        assert first.stdout is not None
        first.stdout.close()
        acknowledged = server.handler.delivered_to()
        assert len(acknowledged) == KILLED_AT - 1
        left = Counter(states(settings).values())
        assert left == {"sent": KILLED_AT - 1, "sending": 1, "queued": SUBSCRIBERS - KILLED_AT}

        again = subprocess.run(
            send_command(),
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"sent {SUBSCRIBERS - KILLED_AT + 1}, ")
        delivered = Counter(server.handler.delivered_to())
        assert sorted(delivered) == sorted(addresses)
        assert set(delivered.values()) == {1}
        assert set(states(settings).values()) == {"sent"}
