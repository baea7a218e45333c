"""Plain SQL migrations, applied in file-name order and recorded in a table."""

from __future__ import annotations

import logging
from importlib import resources

import psycopg

logger = logging.getLogger(__name__)

# Serialises concurrent `migrate` runs (several pods starting at once).
_MIGRATION_LOCK = 0x4D494752  # "MIGR"


def migration_files() -> list[tuple[str, str]]:
    """(version, sql) pairs in order; the version is the file name without `.sql`."""
    folder = resources.files("herald_common.migrations")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


def apply_migrations(conninfo: str, *, up_to: str | None = None) -> list[str]:
    """Apply every migration not yet recorded; returns the versions applied now.

    `up_to`: stop after that version (a database as an older release left it, to test the
    migrations that follow on it).
    """
    applied_now: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in migration_files():
                if up_to is not None and version > up_to:
                    break
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                logger.info("applied migration %s", version)
                applied_now.append(version)
    return applied_now
