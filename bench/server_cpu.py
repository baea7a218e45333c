"""Server CPU over a measured span: Herald's processes and PostgreSQL's backends of one database.

Time on a CPU from /proc (`bench.processes.cpu_seconds`), read before and after.
PostgreSQL's backends are the connections open to the run's database (`pg_stat_activity`,
which names their process ids on this machine): a backend that opens during the span counts
from zero, one that closes during it is lost (the services keep pooled connections, so few
do). PostgreSQL's background processes (WAL writer, checkpointer) serve every database on
the server and are left out.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from bench.pg import fetch
from bench.processes import cpu_seconds

POSTGRESQL = "postgresql"


async def database_backends(url: str) -> dict[int, str]:
    """The other connections to this database: process id -> application name."""
    rows = await fetch(
        url,
        "SELECT pid, application_name FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    return {int(r[0]): str(r[1] or "") for r in rows}


def _read(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            found[pid] = cpu_seconds(pid)
    return found


@dataclass
class ServerCpu:
    """CPU seconds of named processes and of the database's backends, between two readings."""

    processes: dict[str, int]
    database_url: str
    # The benchmark's own connections (a probe polling the inbox): not the server's work.
    ignored_backends: frozenset[int] = frozenset()
    _before: dict[str, dict[int, float]] = field(default_factory=dict)
    _applications: dict[int, str] = field(default_factory=dict)
    _last_by_application: dict[str, float] = field(default_factory=dict)

    async def _snapshot(self) -> dict[str, dict[int, float]]:
        snapshot = {name: _read([pid]) for name, pid in self.processes.items()}
        backends = await database_backends(self.database_url)
        self._applications.update(backends)
        snapshot[POSTGRESQL] = _read([pid for pid in backends if pid not in self.ignored_backends])
        return snapshot

    async def start(self) -> None:
        self._before = await self._snapshot()

    async def stop(self) -> dict[str, float]:
        """Seconds per process name and for PostgreSQL, and their `total`."""
        after = await self._snapshot()
        per_pid = {
            name: {pid: t - self._before.get(name, {}).get(pid, 0.0) for pid, t in times.items()}
            for name, times in after.items()
        }
        spent = {name: sum(times.values()) for name, times in per_pid.items()}
        spent["total"] = sum(spent.values())
        by_application: dict[str, float] = {}
        for pid, seconds in per_pid[POSTGRESQL].items():
            name = self._applications.get(pid) or "other"
            by_application[name] = by_application.get(name, 0.0) + seconds
        self._last_by_application = by_application
        return spent

    def postgresql_by_application(self) -> dict[str, float]:
        """The last span's PostgreSQL seconds by the backends' application name: whose
        queries the database spent them on (each service names its connections)."""
        return dict(self._last_by_application)


def per_unit_us(cpu: dict[str, float], units: int) -> float | None:
    """Microseconds of server CPU per unit of work (employee, row)."""
    return cpu["total"] / units * 1e6 if units else None


def ceiling(cpu_seconds_spent: float, units: int) -> float | None:
    """Units/s this machine could reach if the processes measured kept every core busy
    and spent on each unit what they spent in this span."""
    if not units or cpu_seconds_spent <= 0:
        return None
    return (os.cpu_count() or 1) * units / cpu_seconds_spent
