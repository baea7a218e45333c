"""Live deliveries per allocation, told to the allocation's watchers at a bounded rate.

Each replica counts only what it delivered itself: an employee counts once per voucher
event that reached at least one of their own open streams on this replica. With several
replicas, each sends its own `herald.allocation.delivered` frames (the replica is named in
them); a watcher connected to one replica sees that replica's count.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from herald_common.events import (
    ALLOCATION_DELIVERED,
    SOURCE_NOTIFIER,
    AllocationDelivered,
    envelope,
)
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry

# Allocations remembered at once; the oldest counts are forgotten first.
TRACKED_ALLOCATIONS = 1000


class DeliveryTally:
    def __init__(self, registry: Registry, replica: str, interval_seconds: float) -> None:
        self._registry = registry
        self._replica = replica
        self._interval = interval_seconds
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._changed: set[str] = set()
        self._wake = asyncio.Event()

    def delivered(self, deliveries: Iterable[Delivery]) -> None:
        """Count live voucher events the registry just dispatched (a batch of them)."""
        reached: dict[str, int] = {}
        for delivery in deliveries:
            allocation_id = delivery.allocation_id
            if allocation_id is None or not self._registry.has_streams(delivery.employee_id):
                continue  # only department watchers saw it: no employee was reached
            reached[allocation_id] = reached.get(allocation_id, 0) + 1
        for allocation_id, delivered in reached.items():
            self._counts[allocation_id] = self._counts.get(allocation_id, 0) + delivered
            self._counts.move_to_end(allocation_id)
            if len(self._counts) > TRACKED_ALLOCATIONS:
                self._counts.popitem(last=False)
            if self._registry.watches_allocation(allocation_id):
                self._changed.add(allocation_id)
                self._wake.set()

    def count(self, allocation_id: str) -> int:
        return self._counts.get(allocation_id, 0)

    def frame_for(self, allocation_id: str) -> Delivery | None:
        """The current count as a frame, or None when nothing was delivered here yet."""
        count = self._counts.get(allocation_id)
        if count is None:
            return None
        event = envelope(
            event_id=f"{allocation_id}:delivered:{self._replica}:{count}",
            source=SOURCE_NOTIFIER,
            event_type=ALLOCATION_DELIVERED,
            subject=allocation_id,
            time=datetime.now(UTC),
            data=AllocationDelivered(
                allocation_id=UUID(allocation_id), delivered=count, replica=self._replica
            ),
        )
        return Delivery(None, ALLOCATION_DELIVERED, "", "", json.dumps(event))

    async def run(self) -> None:
        """At most one frame per watched allocation per interval, however many deliveries."""
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._interval)
            self._wake.clear()
            changed, self._changed = self._changed, set()
            for allocation_id in changed:
                frame = self.frame_for(allocation_id)
                if frame is not None:
                    self._registry.dispatch_allocation(allocation_id, frame)
