"""A real notifier process drains on SIGTERM, as Kubernetes stops it.

Every open stream must end at once with a reconnect hint (a comment and a `retry:`), not
be cut at the end of the grace period, and the process must exit within the grace.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import time

import httpx
import psycopg
import pytest

from tests.conftest import HeraldEnv
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

GRACE_SECONDS = 6
RETRY_MS = 2000
FAREWELL = ": server shutting down; reconnect"


@pytest.fixture
def employee_ids(herald_env: HeraldEnv) -> list[str]:
    run = secrets.token_hex(3)
    ids = [f"DRAIN-{run}-{n}" for n in range(4)]
    with psycopg.connect(herald_env.database_url, autocommit=True) as conn:
        for employee_id in ids:
            conn.execute(
                "INSERT INTO employees (id, name, email, department, grade, hired_on)"
                " VALUES (%s, 'Drain test', %s, 'Drain', 'G3', '2020-01-01')",
                (employee_id, f"{employee_id.lower()}@example.com"),
            )
    return ids


async def _read_until_closed(
    client: httpx.AsyncClient, headers: dict[str, str], opened: asyncio.Event
) -> list[str]:
    lines: list[str] = []
    async with client.stream("GET", "/v1/stream", headers=headers, timeout=None) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            lines.append(line)
            if line == ": connected":
                opened.set()
    return lines


def _assert_ends_with_reconnect_hint(lines: list[str]) -> None:
    assert FAREWELL in lines, f"no reconnect hint in {lines}"
    tail = lines[lines.index(FAREWELL) + 1 :]
    retry_lines = [line for line in tail if line.startswith("retry: ")]
    assert len(retry_lines) == 1, tail
    retry = int(retry_lines[0].removeprefix("retry: "))
    # Jittered around the configured retry to spread reconnects over the other replicas.
    assert RETRY_MS // 2 <= retry <= RETRY_MS * 3 // 2
    # The hint is the last frame: nothing but the frame's blank line follows.
    assert [line for line in tail if line != retry_lines[0]] == [""] * (len(tail) - 1)


async def test_sigterm_sends_reconnect_hint_and_exits_within_grace(
    herald_env: HeraldEnv, employee_ids: list[str]
) -> None:
    port = free_port()
    notifier = ServiceProcess(
        "notifier-drain",
        "herald_notifier",
        {
            **herald_env.variables(),
            "HERALD_NOTIFIER_PORT": str(port),
            "HERALD_NOTIFIER_RETRY_MS": str(RETRY_MS),
            "HERALD_NOTIFIER_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        },
        herald_env.log_dir,
    ).start()
    assert notifier.process is not None
    base_url = f"http://127.0.0.1:{port}"
    try:
        await asyncio.to_thread(notifier.wait_http, f"{base_url}/readyz")
        async with httpx.AsyncClient(base_url=base_url) as client:
            opened = [asyncio.Event() for _ in employee_ids]
            # Each employee streams with a token of their own, as in production.
            readers = [
                asyncio.create_task(
                    _read_until_closed(client, herald_env.bearer(employee_id, ["employee"]), event)
                )
                for employee_id, event in zip(employee_ids, opened, strict=True)
            ]
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in opened)), 15)

            signalled = time.monotonic()
            notifier.process.send_signal(signal.SIGTERM)
            streams = await asyncio.wait_for(asyncio.gather(*readers), GRACE_SECONDS)
            closed_after = time.monotonic() - signalled
            try:
                returncode = await asyncio.to_thread(notifier.process.wait, GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"notifier still running {GRACE_SECONDS}s after SIGTERM")
            exited_after = time.monotonic() - signalled
    finally:
        notifier.stop()

    for lines in streams:
        _assert_ends_with_reconnect_hint(lines)
    # Drained at once by the notifier, not cancelled when the grace period ran out.
    assert closed_after < 2.0, f"streams closed {closed_after:.2f}s after SIGTERM"
    assert exited_after < GRACE_SECONDS, f"exited {exited_after:.2f}s after SIGTERM"
    # uvicorn re-raises the signal it handled once it has shut down cleanly.
    assert returncode in (0, -signal.SIGTERM), notifier.log_tail()
    assert "draining: told" in notifier.log_path.read_text()
