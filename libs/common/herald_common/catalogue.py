"""The topic catalogue: every Kafka topic Herald uses, written once.

A topic's name, record key, default partition count and the event types written to it
are declared here and nowhere else. `TopicSettings` makes each default a setting
(`HERALD_TOPICS_<TOPIC>_PARTITIONS`) and adds the deployment's prefix to the names,
`herald kafka create-topics` creates each topic with its dead-letter topic, and the
AsyncAPI generator (tools/asyncapi) documents them. Names here carry no prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from herald_common.events import (
    ALLOCATION_COMPLETED,
    ALLOCATION_PROGRESS,
    ALLOCATION_REQUESTED,
    ALLOCATION_STATUS,
    ALLOCATION_SUMMARY,
    CHANNEL_BROADCAST,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    REVOCATION_COMPLETED,
    REVOCATION_REQUESTED,
    REVOCATION_SUMMARY,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
)

DEAD_LETTER_SUFFIX = ".dlq"
# One partition is plenty for records that failed; they are rare and read by people.
DEAD_LETTER_PARTITIONS = 1


class Key(Enum):
    """What a topic's records are keyed by, so what shares a partition and keeps its order."""

    ALLOCATION = "allocation id"
    PUSH = "push id"
    # Per-employee events: all of a department's share a partition.
    DEPARTMENT = "department"
    # Pusher channel broadcasts: a channel's events share a partition.
    CHANNEL = "channel name"


def dead_letter(topic: str) -> str:
    """Where records of `topic` (prefixed or not) go when they cannot be processed."""
    return f"{topic}{DEAD_LETTER_SUFFIX}"


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic as the catalogue declares it: unprefixed, with the defaults of its settings."""

    name: str
    key: Key
    partitions: int
    # The CloudEvents types written to it, the one it is named after among them.
    kinds: tuple[str, ...]

    @property
    def setting(self) -> str:
        """Its partitions field of TopicSettings, read from HERALD_TOPICS_<SETTING upper>."""
        return f"{self.name.removeprefix('herald.').replace('.', '_')}_partitions"

    @property
    def dead_letter(self) -> str:
        return dead_letter(self.name)


# Each topic: its name, record key, default partition count, and the kinds written to it.
ALLOCATION_REQUESTED_TOPIC = Topic(ALLOCATION_REQUESTED, Key.ALLOCATION, 6, (ALLOCATION_REQUESTED,))
VOUCHER_ALLOCATED_TOPIC = Topic(VOUCHER_ALLOCATED, Key.DEPARTMENT, 12, (VOUCHER_ALLOCATED,))
# Progress precedes the completion in the allocation's partition (docs/decisions/0020);
# the steps before the inserter has it (approval, schedule, cancel) come first, and a
# revocation's outcome comes after the allocation's (docs/decisions/0047).
ALLOCATION_COMPLETED_TOPIC = Topic(
    ALLOCATION_COMPLETED,
    Key.ALLOCATION,
    3,
    (ALLOCATION_STATUS, ALLOCATION_PROGRESS, ALLOCATION_COMPLETED, REVOCATION_COMPLETED),
)
NOTIFICATION_REQUESTED_TOPIC = Topic(NOTIFICATION_REQUESTED, Key.PUSH, 3, (NOTIFICATION_REQUESTED,))
# Generic pushes, and the mailer's summaries for managers (docs/decisions/0010, 0047).
NOTIFICATION_PUSHED_TOPIC = Topic(
    NOTIFICATION_PUSHED,
    Key.DEPARTMENT,
    12,
    (NOTIFICATION_PUSHED, ALLOCATION_SUMMARY, REVOCATION_SUMMARY),
)
# Revoke requests, keyed by their allocation so that one allocation's are handled in order.
REVOCATION_REQUESTED_TOPIC = Topic(REVOCATION_REQUESTED, Key.ALLOCATION, 3, (REVOCATION_REQUESTED,))
VOUCHER_REVOKED_TOPIC = Topic(VOUCHER_REVOKED, Key.DEPARTMENT, 12, (VOUCHER_REVOKED,))

# Pusher-protocol broadcasts between channels replicas (herald_common.pusher.broadcast):
# events for a channel's sockets wherever they are, presence changes, terminations.
CHANNEL_BROADCAST_TOPIC = Topic(CHANNEL_BROADCAST, Key.CHANNEL, 6, (CHANNEL_BROADCAST,))

TOPICS = (
    ALLOCATION_REQUESTED_TOPIC,
    VOUCHER_ALLOCATED_TOPIC,
    ALLOCATION_COMPLETED_TOPIC,
    NOTIFICATION_REQUESTED_TOPIC,
    NOTIFICATION_PUSHED_TOPIC,
    REVOCATION_REQUESTED_TOPIC,
    VOUCHER_REVOKED_TOPIC,
    CHANNEL_BROADCAST_TOPIC,
)

# The consumer groups (the services' default app ids, before the deployment's prefix):
# the inserter's reads the three request topics, the mailer's the completions. Notifiers
# read every partition without a group.
INSERTER_GROUP = "herald-inserter"
MAILER_GROUP = "herald-mailer"
