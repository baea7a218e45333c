"""The public paths, run for real: the services as they run when they keep to public APIs.

A pinned package found at another version makes a service use its public fallback for that
package (docs/decisions/0042); HERALD_NOTIFIER_COMPAT=public and HERALD_INSERTER_COMPAT=public
force every fallback, which is how these tests run them:

- a notifier on each path sends one stream the same bytes (aiokafka's getmany instead of
  its fetch buffers, uvicorn's own protocol instead of the lean one, a task per stream
  watching for the disconnect);
- an allocation completes end to end through an inserter and a notifier on the public
  path;
- that inserter (faust's own consumer, reading uncommitted records too) still never acts
  on a request in an aborted transaction.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import (
    HeraldEnv,
    allocation_process,
    inserter_process,
    isolated_env,
    notifier_process,
)
from tests.support.aborted_request import abort_then_commit
from tests.support.api import employees_csv, voucher, wait_until_finished
from tests.support.processes import ServiceProcess, free_port
from tests.support.sse import StreamRecorder
from tests.support.stack import Infrastructure
from tests.support.voucher_events import VoucherEvents, new_employee

pytestmark = pytest.mark.integration

PUBLIC = {"HERALD_NOTIFIER_COMPAT": "public", "HERALD_INSERTER_COMPAT": "public"}
EVENT = b"event: herald.voucher.allocated"
UNREAD = b"event: unread-count\n"


def _notifier(env: HeraldEnv, name: str, extra: dict[str, str]) -> tuple[ServiceProcess, str]:
    """A notifier with a log of its own."""
    port = free_port()
    variables = {**env.variables(), "HERALD_NOTIFIER_PORT": str(port), **extra}
    process = ServiceProcess(name, "herald_notifier", variables, env.log_dir)
    return process.start(), f"http://127.0.0.1:{port}"


async def _stream_bytes(url: str, headers: dict[str, str], events: int) -> bytes:
    """The stream's body (de-chunked), up to and including its `events`-th voucher event."""
    received = b""
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{url}/v1/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            received += chunk
            if received.count(EVENT) >= events and received.endswith(b"\n\n"):
                return received
    raise AssertionError(f"the stream ended early: {received[-200:]!r}")


def _frames(body: bytes) -> list[bytes]:
    return body.split(b"\n\n")


def _without(head: bytes, frames: list[bytes]) -> list[bytes]:
    return [frame for frame in frames if not frame.startswith(head)]


def _only(head: bytes, frames: list[bytes]) -> list[bytes]:
    return [frame for frame in frames if frame.startswith(head)]


async def test_a_notifier_sends_the_same_bytes_on_either_path(herald_env: HeraldEnv) -> None:
    department = "Either-Path"
    employee_id = new_employee(herald_env, "PATH", department)
    run = secrets.token_hex(3)
    fast, fast_url = _notifier(herald_env, f"notifier-fast-{run}", {})
    public, public_url = _notifier(herald_env, f"notifier-public-{run}", PUBLIC)
    try:
        for process, url in ((fast, fast_url), (public, public_url)):
            await asyncio.to_thread(process.wait_http, f"{url}/readyz")
        headers = herald_env.bearer(employee_id, ["employee"])
        streams = [
            asyncio.create_task(asyncio.wait_for(_stream_bytes(url, headers, 30), 60))
            for url in (fast_url, public_url)
        ]
        await asyncio.sleep(1)  # both streams open
        async with VoucherEvents(herald_env, employee_id, department) as events:
            for _ in range(3):
                await events.batch(10)
        from_fast, from_public = await asyncio.gather(*streams)
    finally:
        fast.stop()
        public.stop()
    assert from_fast.count(EVENT) == 30
    # Frame for frame, byte for byte. Only where unread counts fall between them may
    # differ: they follow the recount's one-second clock, not the path (decision 0031).
    fast_frames, public_frames = _frames(from_fast), _frames(from_public)
    assert _without(UNREAD, public_frames) == _without(UNREAD, fast_frames)
    assert set(_only(UNREAD, public_frames)) == set(_only(UNREAD, fast_frames))
    assert "keeps to public APIs" in public.log_path.read_text()
    assert "public API" not in fast.log_path.read_text()


# --- the inserter on the public path, with a stack of its own -----------------------------

DEPARTMENT = "Public-Path"
PEOPLE = [(f"PP{n:03d}", f"Person {n}", DEPARTMENT, "G3", date(2018, 1, 1)) for n in range(6)]


class _PublicStack:
    def __init__(self, env: HeraldEnv) -> None:
        self.env = env
        allocation_port, inserter_port, notifier_port = free_port(), free_port(), free_port()
        self.allocation_url = f"http://127.0.0.1:{allocation_port}"
        self.notifier_url = f"http://127.0.0.1:{notifier_port}"
        self.inserter_url = f"http://127.0.0.1:{inserter_port}"
        self.processes = [
            allocation_process(env, allocation_port),
            inserter_process(env, inserter_port, PUBLIC),
            notifier_process(env, notifier_port, PUBLIC),
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()
        self.processes[0].wait_http(f"{self.allocation_url}/readyz")
        self.processes[1].wait_http(f"{self.inserter_url}/healthz")
        self.processes[2].wait_http(f"{self.notifier_url}/readyz")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture(scope="module")
def public_stack(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_PublicStack]:
    """Allocation, an inserter and a notifier on the public path, on a database and topics
    of their own (the session's inserter would share their requests otherwise)."""
    log_dir: Path = tmp_path_factory.mktemp("public-path-logs")
    with isolated_env(infra, log_dir) as env:
        stack = _PublicStack(env)
        try:
            stack.start()
            with httpx.Client(base_url=stack.allocation_url, timeout=30, headers=env.admin) as api:
                response = api.post(
                    "/v1/employees:import",
                    content=employees_csv(PEOPLE).encode(),
                    headers={"Content-Type": "text/csv"},
                )
                assert response.status_code == 200, response.text
            yield stack
        finally:
            stack.stop()


async def test_an_allocation_completes_with_the_inserter_and_notifier_on_the_public_path(
    public_stack: _PublicStack,
) -> None:
    env = public_stack.env
    employee = PEOPLE[0][0]
    async with httpx.AsyncClient(timeout=None) as client:
        url, headers = f"{public_stack.notifier_url}/v1/stream", env.bearer(employee, ["employee"])
        stream = await StreamRecorder(client, url, {}, headers=headers).open()
        async with httpx.AsyncClient(
            base_url=public_stack.allocation_url, timeout=30, headers=env.admin
        ) as api:
            response = await api.post(
                "/v1/allocations",
                json={"voucher": voucher("Public path"), "criteria": {"departments": [DEPARTMENT]}},
            )
            assert response.status_code == 202, response.text
            allocation_id = response.json()["id"]
            finished = await wait_until_finished(api, allocation_id)
        [frame] = await stream.wait_for(1)
        await stream.close()
    assert finished["status"] == "completed", finished
    assert finished["counts"] == {
        "matched": len(PEOPLE),
        "inserted": len(PEOPLE),
        "published": len(PEOPLE),
    }
    assert frame.json()["data"]["employee_id"] == employee
    assert frame.json()["data"]["allocation_id"] == allocation_id
    inserter_log = public_stack.processes[1].log_path.read_text()
    assert "herald-inserter keeps to public APIs" in inserter_log


async def test_the_public_path_never_acts_on_a_request_in_an_aborted_transaction(
    public_stack: _PublicStack,
) -> None:
    env = public_stack.env
    aborted, committed = await abort_then_commit(env, DEPARTMENT)
    async with httpx.AsyncClient(
        base_url=public_stack.allocation_url, timeout=30, headers=env.admin
    ) as api:
        finished = await wait_until_finished(api, str(committed))
    assert finished["status"] == "completed", finished
    with psycopg.connect(env.database_url) as conn:
        rows = conn.execute("SELECT count(*) FROM allocations WHERE id = %s", (aborted,)).fetchone()
        vouchers = conn.execute(
            "SELECT count(*) FROM employee_vouchers WHERE allocation_id = %s", (aborted,)
        ).fetchone()
    assert (rows, vouchers) == ((0,), (0,))
    assert "passed over a request of an aborted transaction" in (
        public_stack.processes[1].log_path.read_text()
    )
