"""Pings over a real notifier (docs/decisions/0096): a quiet live stream gets one every
`ping_seconds`, written into its chunked response by the Heartbeat, and stays open."""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import pytest

from tests.conftest import HeraldEnv, notifier_process
from tests.support.processes import free_port
from tests.support.voucher_events import new_employee

pytestmark = pytest.mark.integration

UNREAD = b"event: unread-count\n"
PING = b": ping\n\n"


async def _pings_after_opening(url: str, headers: dict[str, str], wanted: int) -> int:
    """Pings read on one stream once it opened, until `wanted` came (or 10 s passed)."""
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("GET", f"{url}/v1/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        received = b""
        deadline = time.monotonic() + 10
        async for chunk in response.aiter_raw():
            received += chunk
            opened = received.partition(UNREAD)[2]
            if opened.count(PING) >= wanted or time.monotonic() > deadline:
                return opened.count(PING)
    raise AssertionError("the stream ended")


def test_a_quiet_stream_is_pinged_every_ping_interval_and_stays_open(
    herald_env: HeraldEnv,
) -> None:
    employee_id = new_employee(herald_env, "PING", "Pings")
    port = free_port()
    process = notifier_process(
        herald_env,
        port,
        {"HERALD_NOTIFIER_PING_SECONDS": "1"},
        name=f"notifier-pings-{secrets.token_hex(3)}",
    )
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        process.wait_http(f"{url}/readyz")
        headers = herald_env.bearer(employee_id, ["employee"])
        assert asyncio.run(_pings_after_opening(url, headers, wanted=3)) == 3
    finally:
        process.stop()
