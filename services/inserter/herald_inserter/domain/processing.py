"""What every request processor of the inserter holds: its store, the publisher, the
metrics, the topic of its per-employee events and the retry rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from herald_common.retry import RetryPolicy
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.metrics import InserterMetrics

# Called right after the database commit of rows inserted now, before anything is
# published: where the reliability tests crash the worker (tests/support/crashing_inserter).
AfterCommit = Callable[[], Awaitable[None]]

StoreT = TypeVar("StoreT")


class RequestProcessor(Generic[StoreT]):
    def __init__(
        self,
        store: StoreT,
        publisher: EventPublisher,
        metrics: InserterMetrics,
        topic: str,
        retry: RetryPolicy,
        *,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._topic = topic
        self._retry = retry
        self._after_commit = after_commit
