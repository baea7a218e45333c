"""Everything the lifespan builds, handed to the routes through `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from herald_common.supervisor import Supervisor
from herald_mailer.domain.consumer import CompletionConsumer
from herald_mailer.domain.preferences import PreferenceStore
from herald_mailer.metrics import MailerMetrics
from herald_mailer.settings import MailerSettings
from herald_web.runtime import runtime_getter


@dataclass(slots=True)
class MailerRuntime:
    settings: MailerSettings
    metrics: MailerMetrics
    pool: AsyncConnectionPool[AsyncConnection]
    preferences: PreferenceStore
    consumer: CompletionConsumer
    tasks: Supervisor


get_runtime = runtime_getter(MailerRuntime)
