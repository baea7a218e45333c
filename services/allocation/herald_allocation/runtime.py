"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_allocation.domain.allocations import AllocationService
from herald_allocation.domain.deliveries import AllocationDeliveries
from herald_allocation.domain.inbox import Inbox
from herald_allocation.domain.lifecycle import Lifecycle
from herald_allocation.domain.pushes import PushService
from herald_allocation.domain.revocations import RevocationService
from herald_allocation.metrics import AllocationMetrics
from herald_allocation.settings import AllocationSettings
from herald_common.supervisor import Supervisor
from herald_web.limits import RateLimiter
from herald_web.runtime import runtime_getter


@dataclass(slots=True)
class AllocationRuntime:
    settings: AllocationSettings
    metrics: AllocationMetrics
    pool: AsyncConnectionPool[AsyncConnection]
    allocations: AllocationService
    lifecycle: Lifecycle
    pushes: PushService
    revocations: RevocationService
    inbox: Inbox
    deliveries: AllocationDeliveries
    allocation_limiter: RateLimiter
    push_limiter: RateLimiter
    tasks: Supervisor


get_runtime = runtime_getter(AllocationRuntime)
