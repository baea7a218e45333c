"""The mailer's settings (env prefix HERALD_MAILER_)."""

from __future__ import annotations

import socket
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from herald_common.auth.settings import AuthSettings
from herald_common.catalogue import MAILER_GROUP
from herald_common.settings import ServiceSettings


class MailerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_MAILER_", extra="ignore")

    app_id: str = MAILER_GROUP
    host: str = "127.0.0.1"
    port: int = Field(default=8003, ge=1, le=65535)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    replica_id: str = Field(default_factory=socket.gethostname)
    # Where a new consumer group starts; later starts resume from the committed offsets.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    # A replica whose consumer goes this long without a poll leaves the group, and its
    # partitions (with the record in hand) go to another replica. It polls every second,
    # also while a record's emails wait for the relay (herald_mailer.domain.consumer).
    max_poll_interval_seconds: float = Field(default=300.0, ge=5.0, le=3600.0)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    # none: plain SMTP (a local sink); starttls: upgrade on connect (port 587); tls: TLS
    # from the first byte (port 465).
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_validate_certs: bool = True
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_from: str = "Herald <herald@localhost>"

    # Where people reach Herald: the gateway's public address (its origin serves the console
    # and the API). Every link in emails and in-app summaries is built from it, never from
    # a service's own port.
    public_base_url: str = "http://127.0.0.1:8000"
    # A summary lists at most this many team members by name; the totals count everyone.
    max_listed_members: int = Field(default=200, ge=1, le=5000)
    # SMTP attempts per email while handling one completion event, with exponential
    # backoff in between; then the email is dead-lettered. The consumer keeps polling
    # meanwhile, so the budget may outlast max_poll_interval_seconds.
    max_attempts: int = Field(default=6, ge=1, le=20)
    retry_initial_seconds: float = Field(default=1.0, gt=0)
    retry_max_seconds: float = Field(default=30.0, gt=0)

    @field_validator("smtp_from")
    @classmethod
    def _one_address(cls, value: str) -> str:
        if any(c in value for c in "\r\n"):
            raise ValueError("must be one line")
        if "@" not in parseaddr(value)[1]:
            raise ValueError("must be an address, e.g. 'Herald <herald@example.com>'")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_origin(cls, value: str) -> str:
        parsed = urlsplit(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("must be an absolute http(s) URL, e.g. https://herald.example.com")
        if parsed.query or parsed.fragment:
            raise ValueError("must have no query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> MailerSettings:
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("smtp_username and smtp_password go together")
        return self

    @property
    def group_id(self) -> str:
        # Prefixed like the topics, so isolated deployments on one broker never share a group.
        return f"{self.topics.prefix}{self.app_id}"

    @property
    def envelope_sender(self) -> str:
        return parseaddr(self.smtp_from)[1]


def load_settings() -> MailerSettings:
    return MailerSettings()
