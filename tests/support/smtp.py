"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd, in a thread), whose answers
each test scripts: 250, a 4xx or 5xx reply, a dropped connection, a slow answer, or a
kill -9 of the sending process before the answer."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support.mail import parse_message
from support.servers import free_port

OK = "250 2.0.0 Ok: queued"
DROP = "drop"  # close the connection instead of answering
SLOW = "slow"  # answer only after SLOW_SECONDS, later than the sender's timeout
SLOW_SECONDS = 5.0
KILLED = "451 4.3.0 the sender was killed before this answer"


@dataclass
class Received:
    address: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return parse_message(self.raw)


@dataclass
class Script:
    """What the server answers at the end of DATA: per address, the next answers in order,
    then 250. ``kill_pid`` is killed with SIGKILL on the ``kill_at``-th message received."""

    answers: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    rcpt_refusals: dict[str, str] = field(default_factory=dict)  # refused at RCPT TO
    kill_pid: int | None = None
    kill_at: int | None = None


class Handler:
    def __init__(self) -> None:
        self.script = Script()
        self.lock = threading.Lock()
        self.acknowledged: list[Received] = []  # answered 250
        self.refused: list[tuple[str, str]] = []  # (address, answer) for every other answer
        self.seen = 0  # messages received, whatever the answer

    def answer(self, address: str, *answers: str) -> None:
        """The next answers for messages to ``address``."""
        with self.lock:
            self.script.answers[address.lower()].extend(answers)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.lock:
            refusal = self.script.rcpt_refusals.get(address.lower())
        if refusal:
            with self.lock:
                self.refused.append((address.lower(), refusal))
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        address = envelope.rcpt_tos[0].lower()
        with self.lock:
            self.seen += 1
            queue = self.script.answers.get(address)
            answer = queue.popleft() if queue else OK
            if self.script.kill_pid is not None and self.seen == self.script.kill_at:
                # Before any answer: the message is received and never acknowledged.
                os.kill(self.script.kill_pid, signal.SIGKILL)
                self.script.kill_pid = None
                answer = KILLED
        if answer == SLOW:
            await asyncio.sleep(SLOW_SECONDS)
            answer = OK
        if answer == DROP:
            server.transport.close()
            with self.lock:
                self.refused.append((address, answer))
            return "421 dropped"
        with self.lock:
            if answer.startswith("250"):
                self.acknowledged.append(Received(address, bytes(envelope.original_content)))
            else:
                self.refused.append((address, answer))
        return answer

    def delivered_to(self) -> list[str]:
        with self.lock:
            return [received.address for received in self.acknowledged]


@dataclass
class MailServer:
    port: int
    handler: Handler


@contextmanager
def mail_server() -> Iterator[MailServer]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield MailServer(port, handler)
    finally:
        controller.stop()
