"""One record of the completed topic: summaries in-app first, then one email each.

An allocation's completion summarises the allocation for each manager of a recipient; a
revocation's (`herald.revocation.completed`, same topic) the vouchers it voided.

The record's offset is committed only after this returns, so any crash means the record
is handled again; every step below is safe to repeat. Emails are the exception that
needs care: see `store` for the states that keep each to at most one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError

from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import MAILER_MANAGER_HEADER, DeadLetterPublisher
from herald_common.dead_letter_claims import ClaimedDeadLetters
from herald_common.events import (
    ALLOCATION_PROGRESS,
    ALLOCATION_STATUS,
    REVOCATION_COMPLETED,
    AllocationCompleted,
    CloudEvent,
    RevocationCompleted,
    event_type,
)
from herald_common.record_checks import record_problem
from herald_common.retry import RetryPolicy, Verdict, outlast_outages, run_with_retries
from herald_mailer.domain.compose import Templates, compose
from herald_mailer.domain.publisher import SummaryPublisher
from herald_mailer.domain.revocation_summaries import RevocationSummaryStore
from herald_mailer.domain.smtp import DeliveryError, SmtpSender
from herald_mailer.domain.store import SummaryStore
from herald_mailer.metrics import MailerMetrics

logger = logging.getLogger(__name__)


Event = TypeVar("Event", bound=BaseModel)


class RejectedRecord(Verdict):
    """Not a completion event this service can read; it goes to the dead-letter topic."""


def parse_completed(value: bytes | None) -> CloudEvent[AllocationCompleted]:
    return _parse(value, CloudEvent[AllocationCompleted], "allocation completed")


def parse_revocation(value: bytes | None) -> CloudEvent[RevocationCompleted]:
    return _parse(value, CloudEvent[RevocationCompleted], "revocation completed")


def _parse(value: bytes | None, model: type[Event], what: str) -> Event:
    if value is None:
        raise RejectedRecord("record has no value")
    try:
        return model.model_validate_json(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise RejectedRecord(f"invalid {what} event: {problems}") from exc


@dataclass(frozen=True, slots=True)
class EmailSettings:
    sender: str
    envelope_sender: str
    public_base_url: str
    max_listed_members: int


# The store of one kind of summary: an allocation's or a revocation's.
Summaries = SummaryStore | RevocationSummaryStore


class CompletionProcessor:
    def __init__(
        self,
        store: SummaryStore,
        publisher: SummaryPublisher,
        sender: SmtpSender,
        templates: Templates,
        dead_letters: DeadLetterPublisher,
        rejected: ClaimedDeadLetters,
        metrics: MailerMetrics,
        email: EmailSettings,
        retry: RetryPolicy,
        max_record_bytes: int,
        revocations: RevocationSummaryStore | None = None,
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._publisher = publisher
        self._sender = sender
        self._templates = templates
        self._dead_letters = dead_letters
        # The notifiers read this topic too and reject the same records: a rejected record
        # is claimed first, so it is dead-lettered once between them (decision 0063).
        self._rejected = rejected
        self._max_record_bytes = max_record_bytes
        self._metrics = metrics
        self._email = email
        self._retry = retry

    async def handle(self, record: ConsumedRecord) -> None:
        """Handle one consumed record; returns only when its offset may be committed."""
        problem = record_problem(record.value, record.headers, self._max_record_bytes)
        if problem is not None:
            await self._reject(record, problem)
            return
        kind = event_type(record.value)
        if kind in (ALLOCATION_PROGRESS, ALLOCATION_STATUS):
            # They share the topic for its watchers; summaries wait for the completion.
            return
        try:
            if kind == REVOCATION_COMPLETED:
                revoked = parse_revocation(record.value)
                what, subject = "revocation", revoked.data.revocation_id
                store: Summaries | None = self._revocations
                status, time = revoked.data.status, revoked.time
            else:
                event = parse_completed(record.value)
                what, subject = "allocation", event.data.allocation_id
                store, status, time = self._store, event.data.status, event.time
        except RejectedRecord as exc:
            await self._reject(record, str(exc))
            return
        if status != "completed" or store is None:
            logger.info("%s %s %s; no summaries", what, subject, status)
            self._metrics.completions.labels("not_completed").inc()
            return

        async def give_up(exc: Exception) -> None:
            await self._dead_letter(record, exc)

        summarised = await run_with_retries(
            f"summaries of {what} {subject}",
            lambda: self.process(record, subject, time, store),
            give_up,
            self._retry,
        )
        self._metrics.completions.labels("summarised" if summarised else "failed").inc()

    async def process(
        self,
        record: ConsumedRecord,
        subject_id: UUID,
        completed_at: datetime | None,
        store: Summaries | None = None,
    ) -> None:
        """Summaries of an allocation (or, with `store`, of a revocation): create them,
        publish them, then send each email at most once."""
        store = store or self._store
        created = await store.create(subject_id, completed_at)
        if created:
            self._metrics.summaries.inc(created)
            logger.info("%s: %d manager summaries", subject_id, created)
        unpublished = await store.unpublished(subject_id)
        if unpublished:
            await self._publisher.publish(unpublished, store.kind)
            await store.mark_pushed(subject_id, [s.manager_id for s in unpublished])
        await self._send_emails(record, store, subject_id, completed_at)

    async def _send_emails(
        self,
        record: ConsumedRecord,
        store: Summaries,
        allocation_id: UUID,
        completed_at: datetime | None,
    ) -> None:
        for manager_id in await store.abandon_in_doubt(allocation_id):
            self._metrics.emails.labels("unknown").inc()
            await self._dead_letter(
                _for_manager(record, manager_id),
                f"summary email to manager {manager_id}: delivery outcome unknown (the sender"
                " stopped while sending); not sent again so that it can never arrive twice",
            )
        # Rounds over every email still due: a refused one waits for the next round, so
        # one unreachable mailbox never holds up the others.
        due = await store.due(allocation_id)
        attempts = dict.fromkeys(due, 0)
        backoff = self._retry.backoff()
        while due:
            again = []
            for manager_id in due:
                attempts[manager_id] += 1
                if await self._send_one(
                    record, store, allocation_id, manager_id, completed_at, attempts
                ):
                    again.append(manager_id)
            if not again:
                return
            logger.warning(
                "allocation %s: %d summary email(s) not accepted; next try in %.1fs",
                allocation_id,
                len(again),
                backoff.delay,
            )
            await backoff.wait()
            due = again

    async def _send_one(
        self,
        record: ConsumedRecord,
        store: Summaries,
        allocation_id: UUID,
        manager_id: str,
        completed_at: datetime | None,
        attempts: dict[str, int],
    ) -> bool:
        """One attempt at one manager's email; True if it should be tried again."""
        # Read before claiming: a database failure here must not leave a claim behind,
        # which would later read as "may have been sent".
        summary = await store.load(
            allocation_id, manager_id, completed_at, self._email.max_listed_members
        )
        claim = await store.claim(allocation_id, manager_id)
        if claim is None:
            return False  # settled meanwhile by another consumer of this record
        if claim.status == "skipped":
            self._metrics.emails.labels("opted_out").inc()
            return False

        async def settle(status: str, **details: str) -> None:
            # What SMTP did is known here and only here: keep trying to write it down
            # rather than leave the row claimed, which would later read as "outcome
            # unknown".
            await outlast_outages(
                f"recording the email to manager {manager_id} of allocation {allocation_id}",
                lambda: store.settle(allocation_id, manager_id, claim.attempt, status, **details),
                self._retry,
            )

        try:
            if summary is None:
                raise ValueError(f"manager {manager_id} is no longer in the directory")
            message = compose(
                self._templates,
                summary,
                sender=self._email.sender,
                public_base_url=self._email.public_base_url,
            )
        except ValueError as exc:
            reason = f"summary email to manager {manager_id} cannot be built: {exc}"
            await settle("failed", error=reason)
            await self._give_up(record, manager_id, "failed", reason)
            return False

        started = time.perf_counter()
        try:
            await self._sender.send(
                message, self._email.envelope_sender, summary.manager.email.strip()
            )
        except DeliveryError as exc:
            reason = f"summary email to manager {manager_id}: {exc.reason}"
            if exc.outcome == "retry" and attempts[manager_id] < self._retry.max_attempts:
                await settle("pending", error=reason)
                self._metrics.emails.labels("retried").inc()
                return True
            if exc.outcome == "retry":
                reason += f" (gave up after {attempts[manager_id]} attempts)"
            status = "unknown" if exc.outcome == "unknown" else "failed"
            await settle(status, error=reason)
            await self._give_up(record, manager_id, status, reason)
            return False
        self._metrics.smtp_seconds.observe(time.perf_counter() - started)
        await settle("sent", message_id=str(message["Message-ID"]))
        self._metrics.emails.labels("sent").inc()
        return False

    async def _give_up(
        self, record: ConsumedRecord, manager_id: str, outcome: str, reason: str
    ) -> None:
        self._metrics.emails.labels(outcome).inc()
        await self._dead_letter(_for_manager(record, manager_id), reason)

    async def _reject(self, record: ConsumedRecord, reason: str) -> None:
        """A record that is no completion this service can read: dead-lettered once."""
        if await self._rejected.publish(record, reason):
            self._metrics.dead_letters.inc()
        self._metrics.completions.labels("rejected").inc()

    async def _dead_letter(self, record: ConsumedRecord, error: BaseException | str) -> None:
        await self._dead_letters.publish(record, error)
        self._metrics.dead_letters.inc()


def _for_manager(record: ConsumedRecord, manager_id: str) -> ConsumedRecord:
    """The completion record as dead-lettered for one manager's email."""
    return replace(record, headers=(*record.headers, (MAILER_MANAGER_HEADER, manager_id.encode())))
