"""`herald`: the operator's command line (schema, topics, employee directory, demo data,
audit trail)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

import click
import psycopg

from herald_allocation.domain.demo_data import demo_employees
from herald_allocation.domain.dev_tokens import token_for
from herald_allocation.domain.employee_csv import (
    CsvRejected,
    EmployeeRow,
    ImportResult,
    import_employees,
    parse_employee_csv,
)
from herald_common import audit
from herald_common.auth.settings import AuthSettings
from herald_common.logs import configure_logging
from herald_common.migrate import apply_migrations
from herald_common.settings import DatabaseSettings, KafkaSettings, TopicSettings
from herald_common.topics import ensure_topics

logger = logging.getLogger("herald")


@click.group()
@click.option("--log-level", default="INFO", show_default=True)
def main(log_level: str) -> None:
    """Herald operations."""
    configure_logging(log_level)


@main.group()
def db() -> None:
    """The PostgreSQL schema."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending SQL migrations in order."""
    applied = apply_migrations(DatabaseSettings().url.get_secret_value())
    click.echo(
        f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else "")
    )


@main.group()
def kafka() -> None:
    """Kafka topics."""


@kafka.command("create-topics")
def kafka_create_topics() -> None:
    """Create every topic Herald uses, with partition counts from settings."""
    created = asyncio.run(ensure_topics(KafkaSettings(), TopicSettings()))
    click.echo(f"created {len(created)} topic(s)" + (f": {', '.join(created)}" if created else ""))


async def _load(rows: Iterable[EmployeeRow], count: int, label: str) -> ImportResult:
    """Import `count` rows, read from `rows` as they are written (a generator is never
    held in memory whole)."""
    conninfo = DatabaseSettings().url.get_secret_value()
    async with await psycopg.AsyncConnection.connect(conninfo) as conn:
        with click.progressbar(length=count, label=label, file=sys.stderr) as bar:
            result = await import_employees(conn, rows, progress=bar.update)
            bar.update(count - bar.pos)
    return result


@main.group()
def employees() -> None:
    """The employee directory."""


@employees.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def employees_import(file: Path) -> None:
    """Load FILE (CSV: employee_id,name,email,department,grade,hired_on[,manager_id]).

    All rows or none. Without a manager_id column, managers stay as they are.
    """
    try:
        rows = parse_employee_csv(file.read_text(encoding="utf-8-sig"))
        result = asyncio.run(_load(rows, len(rows), "importing"))
    except CsvRejected as exc:
        for error in exc.errors:
            click.echo(f"{file}:{error.line}: {error.field}: {error.message}", err=True)
        raise click.ClickException(
            f"{exc.total_errors} problem(s) found; nothing was imported"
        ) from exc
    click.echo(f"imported {len(rows)} employee(s): {result.inserted} new, {result.updated} updated")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@click.option(
    "--employees", "count", type=click.IntRange(1, 5_000_000), default=1000, show_default=True
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same people.")
def demo_seed(count: int, seed: int) -> None:
    """Generate COUNT realistic employees (re-running updates the same ids).

    The first person generated in each department manages it; everyone else in the
    department reports to them.
    """
    result = asyncio.run(_load(demo_employees(count, seed=seed), count, "seeding"))
    click.echo(f"seeded {count} employee(s): {result.inserted} new, {result.updated} updated")


@main.group()
def dev() -> None:
    """Development helpers (need HERALD_AUTH_DEV_MODE=true)."""


@dev.command("token")
@click.argument("employee_id")
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["employee", "manager", "hr-admin"]),
    default=("employee",),
    show_default=True,
    help="Repeat for several roles; a manager manages their own department.",
)
def dev_token(employee_id: str, roles: tuple[str, ...]) -> None:
    """Print a token for a demo employee (to stdout, for `curl -H "Authorization: Bearer ..."`)."""
    settings = AuthSettings()
    if not settings.dev_mode:
        raise click.ClickException("dev tokens need HERALD_AUTH_DEV_MODE=true")

    async def issue() -> str:
        conninfo = DatabaseSettings().url.get_secret_value()
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            row = await (
                await conn.execute("SELECT department FROM employees WHERE id = %s", (employee_id,))
            ).fetchone()
        if row is None:
            raise click.ClickException(f"unknown employee {employee_id!r}")
        return str(token_for(settings, employee_id, row[0], list(roles))["token"])

    click.echo(asyncio.run(issue()))


@main.group("audit")
def audit_group() -> None:
    """The allocations' audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check every record's hash and chain; exit 1 naming each edited or deleted record."""

    async def check() -> audit.Verification:
        conninfo = DatabaseSettings().url.get_secret_value()
        async with await psycopg.AsyncConnection.connect(conninfo) as conn:
            return await audit.verify(conn)

    result = asyncio.run(check())
    for problem in result.problems or []:
        click.echo(str(problem), err=True)
    if not result.ok:
        raise click.ClickException(
            f"{len(result.problems or [])} problem(s) in {result.records} audit record(s)"
        )
    click.echo(f"verified {result.records} audit record(s) of {result.allocations} allocation(s)")
