"""Which notifier process reads which partitions, and which one a stream goes to.

The per-employee topics are keyed by department, and every producer uses Kafka's default
partitioner: a department's events land on partition murmur2(department) mod P of each
topic. Notifier processes can then share the work (docs/decisions/0078): a process of
share i of n reads the partitions p with p mod n = i, and holds the streams of the
departments on them; a process of share "all" reads every partition, as every process
did before, and holds any stream (those that watch departments of several shares, and
those whose department nobody named). With P a multiple of n, p mod n = murmur2 mod n: a
department's share is the same on every per-employee topic, and it needs only the
department's routing key (`route_key`), not P.

The notifier (what it reads, which streams it holds) and the gateway (where a stream goes)
both ask here, so the two cannot disagree.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.partitioner import murmur2

ALL = "all"
_SHARE = re.compile(r"(\d+)/(\d+)")
# A routing key as a ticket or a header carries it: eight hex digits.
_KEY = re.compile(r"[0-9a-f]{8}")


class InvalidShare(ValueError):
    pass


def route_key(department: str) -> int:
    """The department's key: what Kafka's default partitioner hashes it to (31 bits)."""
    return int(murmur2(department.encode())) & 0x7FFFFFFF


def partition_for(department: str, partitions: int) -> int:
    """The partition of a topic of `partitions` partitions that the department's events use,
    as the producers' partitioner (aiokafka's and Java's default) picks it."""
    return route_key(department) % partitions


def format_key(key: int) -> str:
    return f"{key:08x}"


def parse_key(text: str) -> int | None:
    """A key written by `format_key`, or None for anything else."""
    return int(text, 16) if _KEY.fullmatch(text) else None


@dataclass(frozen=True, slots=True)
class Share:
    """Share `index` of `count` of the partitions, or every partition (`index` None)."""

    index: int | None = None
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Share:
        """`all`, or `i/n` (0 <= i < n): the form settings and manifests use."""
        if text.strip() == ALL:
            return cls()
        match = _SHARE.fullmatch(text.strip())
        if match is None:
            raise InvalidShare(f"a partition share is 'all' or 'i/n' (e.g. 0/2), not {text!r}")
        index, count = int(match[1]), int(match[2])
        if not 0 <= index < count:
            raise InvalidShare(f"share {text!r}: i must be at least 0 and less than n")
        return cls(index, count)

    @property
    def reads_all(self) -> bool:
        return self.index is None

    def __str__(self) -> str:
        return ALL if self.index is None else f"{self.index}/{self.count}"

    def partitions(self, topic: str, partitions: Iterable[int]) -> list[int]:
        """Which of a per-employee topic's partitions this share reads.

        A count of partitions that is not a multiple of n would put a department on
        different shares in different topics: refused, with the topic named.
        """
        every = sorted(partitions)
        if self.index is None:
            return every
        if len(every) % self.count:
            raise InvalidShare(
                f"{topic} has {len(every)} partitions, not a multiple of the {self.count}"
                " shares: give it a multiple of them, or read it whole (share 'all')"
            )
        return [p for p in every if p % self.count == self.index]

    def holds_key(self, key: int) -> bool:
        return self.index is None or key % self.count == self.index

    def holds(self, departments: Iterable[str]) -> bool:
        """Whether this share reads the events of every one of `departments`."""
        if self.index is None:
            return True
        return all(self.holds_key(route_key(department)) for department in departments)


def stream_share(keys: Iterable[int | None], count: int) -> int | None:
    """The share (of `count`) that holds a stream needing the departments of `keys`.

    None, the "all" share, when a key is unknown (None), when the keys fall on different
    shares, when there are no keys at all, or when there is only one share.
    """
    shares = {None if key is None else key % count for key in keys}
    if count < 2 or len(shares) != 1:
        return None
    return shares.pop()


# --- what a stream's request carries ---------------------------------------------------

_TICKET_SEPARATOR = "."


def routed_ticket(secret: str, department: str | None) -> str:
    """A stream ticket that says its holder's department key, for the gateway to route the
    stream it opens (`ticket_key`); the secret part alone without a department."""
    if department is None:
        return secret
    return f"{format_key(route_key(department))}{_TICKET_SEPARATOR}{secret}"


def ticket_key(ticket: str) -> int | None:
    """The department key a ticket was issued with (`routed_ticket`), or None."""
    prefix, separator, _ = ticket.partition(_TICKET_SEPARATOR)
    return parse_key(prefix) if separator else None


def token_department(token: str) -> str | None:
    """The `department` claim of a JWT, read WITHOUT verifying it: a routing hint.

    A forged or stale claim sends a stream to a share that does not hold it; that
    notifier, which verifies the token and reads the directory, refuses it (421), and the
    gateway tries the "all" share. None for anything that is not such a token.
    """
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, RecursionError):
        return None
    department = payload.get("department") if isinstance(payload, dict) else None
    return department if isinstance(department, str) and department else None
