"""Handing one email to the SMTP relay, and what a failure says about delivery.

The mail transaction is driven step by step (MAIL, RCPT, DATA) so that a failure can be
placed: anything refused or broken before the message body was handed over means it was
not delivered and may be tried again; a connection lost while the body was in flight
leaves the outcome unknown, and an unknown outcome is never retried (docs/decisions/0011).
"""

from __future__ import annotations

import email.policy
import logging
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from herald_mailer.settings import MailerSettings

logger = logging.getLogger(__name__)

Outcome = Literal["retry", "permanent", "unknown"]


class DeliveryError(Exception):
    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


def _refusal(exc: aiosmtplib.SMTPResponseException) -> DeliveryError:
    # 4xx asks to come back later; 5xx is a final no for this message.
    outcome: Outcome = "retry" if 400 <= exc.code < 500 else "permanent"
    return DeliveryError(outcome, f"{type(exc).__name__}: {exc.code} {exc.message}")


class SmtpSender:
    def __init__(self, settings: MailerSettings) -> None:
        self._settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            validate_certs=s.smtp_validate_certs,
            timeout=s.smtp_timeout_seconds,
        )

    async def send(self, message: EmailMessage, sender: str, recipient: str) -> None:
        """Deliver to exactly `recipient` (never to addresses read from the headers)."""
        smtputf8 = not (sender.isascii() and recipient.isascii())
        encoding = "utf-8" if smtputf8 else "ascii"
        policy = email.policy.SMTPUTF8 if smtputf8 else email.policy.SMTP
        body = message.as_bytes(policy=policy)
        client = self._client()
        try:
            await client.connect()
        except aiosmtplib.SMTPResponseException as exc:
            raise _refusal(exc) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError("retry", f"cannot reach the SMTP server: {exc}") from exc
        try:
            try:
                await client.mail(
                    sender, options=["SMTPUTF8"] if smtputf8 else [], encoding=encoding
                )
                await client.rcpt(recipient, encoding=encoding)
            except aiosmtplib.SMTPResponseException as exc:
                raise _refusal(exc) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise DeliveryError("retry", f"SMTP session failed: {exc}") from exc
            try:
                await client.data(body)
            except aiosmtplib.SMTPResponseException as exc:
                raise _refusal(exc) from exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                raise DeliveryError(
                    "unknown", f"connection lost while the message was being sent: {exc}"
                ) from exc
        finally:
            await _quit(client)


async def _quit(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        # The message's fate is already settled; a failed goodbye changes nothing.
        client.close()
