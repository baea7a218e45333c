"""The inserter's settings (env prefix HERALD_INSERTER_)."""

from __future__ import annotations

import socket

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from herald_common.approval import ApprovalSettings
from herald_common.catalogue import INSERTER_GROUP
from herald_common.pins import CompatMode
from herald_common.settings import ServiceSettings
from herald_inserter.domain.allocation_store import (
    DEFAULT_CHUNK_EMPLOYEES,
    DEFAULT_FIRST_CHUNK_EMPLOYEES,
)


class InserterSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_INSERTER_", extra="ignore")

    app_id: str = INSERTER_GROUP
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=1, le=65535)
    # Names this worker among the others of its group, and must stay the same when the
    # worker restarts (a pod name in a StatefulSet, a host name): it is the worker's Kafka
    # transactional id and static group membership. Two live workers must never share it.
    worker_id: str = Field(
        default_factory=socket.gethostname, min_length=1, pattern=r"^[A-Za-z0-9._-]+$"
    )
    # A worker that stops heartbeating (killed) loses its partitions after this long, unless
    # it comes back under the same worker_id first.
    session_timeout_seconds: float = Field(default=30.0, ge=6.0, le=90.0)
    # Employees per chunk of an allocation: each chunk is one PostgreSQL transaction under
    # the notifications writer lock, then one Kafka transaction, so its employees hear as
    # soon as it commits and a push waits for one chunk at most (docs/decisions/0068).
    chunk_employees: int = Field(default=DEFAULT_CHUNK_EMPLOYEES, ge=1, le=1_000_000)
    # The first chunk's size (at most chunk_employees): the first employees hear after this
    # many rows commit, not a whole chunk (docs/decisions/0081).
    first_chunk_employees: int = Field(default=DEFAULT_FIRST_CHUNK_EMPLOYEES, ge=1, le=1_000_000)
    # Upper bound on one Kafka transaction (one chunk's write and events); past it
    # the producer is replaced, which aborts the transaction. The request is retried: for
    # as long as Kafka or PostgreSQL is away, else max_attempts times before it is marked
    # failed (the work itself is too slow). It must cover one chunk's write and publish.
    # The broker aborts a transaction left open 15 s past it (a worker gone for
    # good), releasing read_committed readers.
    transaction_timeout_seconds: float = Field(default=60.0, ge=5.0, le=840.0)
    # Attempts for an error that is neither bad input nor a lost connection (a transaction
    # over its budget among them), before the allocation is marked failed and its request
    # dead-lettered.
    max_attempts: int = Field(default=3, ge=1)
    retry_initial_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=10.0, gt=0)
    # auto: faust's consumer hooks where faust and aiokafka are the pinned versions;
    # public: their public APIs only, each request confirmed committed (docs/decisions/0042).
    compat: CompatMode = "auto"
    # Four-eyes approval (HERALD_APPROVAL_*): the API's rule, applied again before writing.
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)

    @model_validator(mode="after")
    def _first_chunk_within_a_chunk(self) -> InserterSettings:
        if self.first_chunk_employees > self.chunk_employees:
            raise ValueError(
                f"first_chunk_employees ({self.first_chunk_employees}) must not exceed"
                f" chunk_employees ({self.chunk_employees})"
            )
        return self

    @property
    def group_id(self) -> str:
        # Prefixed like the topics, so isolated deployments on one broker never share a group.
        return f"{self.topics.prefix}{self.app_id}"

    @property
    def transactional_id(self) -> str:
        return f"{self.group_id}.{self.worker_id}"


def load_settings() -> InserterSettings:
    return InserterSettings()
