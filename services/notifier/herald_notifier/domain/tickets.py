"""Single-use stream tickets: EventSource cannot send headers, and a token in a URL leaks.

A ticket is a random string valid for seconds; only its SHA-256 is stored, and redeeming
it marks it used in the same statement, so it works once across every replica. Tickets
redeemed at the same time are redeemed in one statement (`Batched`); a ticket given twice
in it is good for the first only. It keeps
who it was issued to and until when their token is good: a stream opened with it ends then.
A ticket issued to a token with a department claim starts with the department's key, so
the gateway can send the stream it opens to the notifiers reading that department
(herald_common.affinity, docs/decisions/0078); the key is part of what is hashed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.affinity import routed_ticket
from herald_common.auth.principal import Principal
from herald_common.db import fetch_all
from herald_notifier.domain.batched import Batched

# Issued tickets are 43 characters (52 with a department key); anything longer than
# this is refused unread.
MAX_TICKET_LENGTH = 128


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class TicketStore:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection], ttl_seconds: int) -> None:
        self._pool = pool
        self.ttl_seconds = ttl_seconds
        self._redeeming: Batched[str, Principal | None] = Batched(self._redeem_all)
        self._issuing: Batched[tuple[str, Principal], None] = Batched(self._issue_all)

    async def issue(self, principal: Principal) -> str:
        ticket = routed_ticket(secrets.token_urlsafe(32), principal.department)
        await self._issuing.get((_digest(ticket), principal))
        return ticket

    async def _issue_all(self, tickets: Sequence[tuple[str, Principal]]) -> list[None]:
        """Every ticket issued meanwhile in one INSERT (roles are names without commas)."""
        columns: tuple[list[object], ...] = ([], [], [], [], [])
        for digest, principal in tickets:
            for column, value in zip(
                columns,
                (
                    digest,
                    principal.subject,
                    ",".join(sorted(principal.roles)),
                    principal.manages,
                    principal.expires_at,
                ),
                strict=True,
            ):
                column.append(value)
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO stream_tickets"
                " (ticket_hash, subject, roles, manages, expires_at, token_expires_at)"
                " SELECT t.hash, t.subject, string_to_array(t.roles, ','), t.manages,"
                " now() + make_interval(secs => %s), to_timestamp(t.token_expires)"
                " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])"
                " AS t(hash, subject, roles, manages, token_expires)",
                (self.ttl_seconds, *columns),
            )
            # Housekeeping, once per round: expired tickets are useless; keep the table small.
            await conn.execute(
                "DELETE FROM stream_tickets WHERE expires_at < now() - interval '1 hour'"
            )
        return [None] * len(tickets)

    async def redeem(self, ticket: str) -> Principal | None:
        if not 1 <= len(ticket) <= MAX_TICKET_LENGTH:
            return None
        return await self._redeeming.get(_digest(ticket))

    async def _redeem_all(self, digests: Sequence[str]) -> list[Principal | None]:
        rows = await fetch_all(
            self._pool,
            "UPDATE stream_tickets SET used_at = now() WHERE ticket_hash = ANY(%s)"
            " AND used_at IS NULL AND expires_at > now()"
            # A ticket from before token_expires_at: no later than its own expiry.
            " RETURNING ticket_hash, subject, roles, manages,"
            " extract(epoch FROM coalesce(token_expires_at, expires_at))::bigint",
            (list(set(digests)),),
        )
        redeemed = {
            row[0]: Principal(
                subject=row[1], roles=frozenset(row[2]), manages=row[3], expires_at=row[4]
            )
            for row in rows
        }
        # Each ticket once: the first to give it gets its principal, any other nothing.
        return [redeemed.pop(digest, None) for digest in digests]
