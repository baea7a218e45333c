"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_channels.domain.connection import ChannelsContext
from herald_channels.domain.consumer import ChannelsConsumer
from herald_channels.domain.directory import Broadcaster, Directory
from herald_channels.domain.hub import Hub
from herald_channels.metrics import ChannelsMetrics
from herald_channels.settings import ChannelsSettings
from herald_common.supervisor import Supervisor
from herald_web.runtime import runtime_getter


@dataclass(slots=True)
class ChannelsRuntime:
    settings: ChannelsSettings
    metrics: ChannelsMetrics
    pool: AsyncConnectionPool[AsyncConnection]
    hub: Hub
    # Occupancy and presence across replicas (PostgreSQL) and what reaches every replica's
    # sockets (Kafka): what the HTTP API reads and publishes through.
    directory: Directory
    broadcaster: Broadcaster
    context: ChannelsContext
    consumer: ChannelsConsumer
    tasks: Supervisor


get_runtime = runtime_getter(ChannelsRuntime)
