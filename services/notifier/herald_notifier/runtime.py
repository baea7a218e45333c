"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from herald_common.affinity import Share
from herald_common.supervisor import Supervisor
from herald_notifier.domain.consumer import EventConsumer
from herald_notifier.domain.inbox import Inbox
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.stream_context import StreamContext
from herald_notifier.domain.tickets import TicketStore
from herald_notifier.drain import Drain
from herald_notifier.metrics import NotifierMetrics
from herald_notifier.settings import NotifierSettings
from herald_web.runtime import runtime_getter


@dataclass(slots=True)
class NotifierRuntime:
    settings: NotifierSettings
    metrics: NotifierMetrics
    registry: Registry
    inbox: Inbox
    consumer: EventConsumer
    tickets: TicketStore
    drain: Drain
    streams: StreamContext
    tasks: Supervisor
    # The partitions this process reads: which streams it may hold (docs/decisions/0078).
    share: Share


get_runtime = runtime_getter(NotifierRuntime)
