"""A real SMTP server on loopback (aiosmtpd) that records what it accepts.

Recipients whose address starts with `reject` are refused for good (550), those starting
with `tempfail` are asked to come back later (451). For `vanish` the server keeps the
message but drops the connection before confirming it, as a relay that crashes mid-reply
(or a network cut) would: the sender cannot know whether it was delivered.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content


class RecordingHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        # How long each DATA takes: a slow relay, so a sender can be stopped mid-batch.
        self.delay_seconds = 0.0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), raw, message)
            )
        if any(r.startswith("vanish") for r in envelope.rcpt_tos):
            server.transport.close()
        return "250 2.0.0 accepted"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        # A new controller each time: a stopped one cannot be started again.
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self, allocation_id: str) -> list[Received]:
        with self.handler._lock:
            received = list(self.handler.received)
        return [r for r in received if r.message["X-Herald-Allocation"] == allocation_id]
