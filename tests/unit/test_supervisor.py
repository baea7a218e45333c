"""Background tasks kept running: herald_common.supervisor, and its readiness check."""

import asyncio
import contextlib
import logging

import httpx
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from herald_common.retry import RetryPolicy
from herald_common.supervisor import RESTARTS, Supervisor, restart_counter
from herald_web.health import Probes, health_routes, tasks

FAST = RetryPolicy(max_attempts=1, initial_seconds=0.2, max_seconds=0.4)


def _supervisor(resources: contextlib.AsyncExitStack, policy: RetryPolicy = FAST) -> Supervisor:
    return Supervisor(resources, restart_counter("test", CollectorRegistry()), policy)


def _restarts(supervisor: Supervisor, task: str) -> float:
    value: float = supervisor._restarts.labels(task)._value.get()
    return value


def _readiness(supervisor: Supervisor) -> httpx.AsyncClient:
    probes = Probes(CollectorRegistry(), [tasks(supervisor)])
    app = Starlette(routes=health_routes(lambda request: probes))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def _until(condition, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


async def test_a_task_that_fails_twice_is_restarted_with_backoff_and_is_down_meanwhile():
    loop = asyncio.get_running_loop()
    runs: list[float] = []
    failures: list[float] = []
    fail = [asyncio.Event(), asyncio.Event()]

    async def work() -> None:
        run = len(runs)
        runs.append(loop.time())
        if run < len(fail):
            await fail[run].wait()
            failures.append(loop.time())
            raise ConnectionError(f"broker gone ({run + 1})")
        await asyncio.Event().wait()  # the third run keeps running

    async with contextlib.AsyncExitStack() as resources:
        supervisor = _supervisor(resources)
        supervisor.start("notifier-consumer", work)
        async with _readiness(supervisor) as probe:
            await _until(lambda: len(runs) == 1)
            assert (await probe.get("/readyz")).status_code == 200

            for failure, wait in ((1, FAST.initial_seconds), (2, 2 * FAST.initial_seconds)):
                fail[failure - 1].set()
                await _until(lambda: supervisor.down)
                assert supervisor.down == {
                    "notifier-consumer": f"ConnectionError: broker gone ({failure})"
                }
                down = await probe.get("/readyz")
                assert (down.status_code, down.json()) == (
                    503,
                    {
                        "status": "unavailable",
                        "reason": "background task notifier-consumer failed, restarting:"
                        f" ConnectionError: broker gone ({failure})",
                    },
                )
                await _until(lambda failure=failure: len(runs) == failure + 1)
                # Restarted after the backoff, which doubles; up again from then on.
                assert runs[failure] - failures[failure - 1] >= wait - 0.01
                assert supervisor.down == {}
                assert (await probe.get("/readyz")).status_code == 200
                assert _restarts(supervisor, "notifier-consumer") == failure

            await asyncio.sleep(3 * FAST.max_seconds)
            assert len(runs) == 3  # the third run was left alone
            assert (await probe.get("/readyz")).json() == {"status": "ready"}


async def test_a_task_that_returns_is_restarted_too(caplog):
    runs = 0

    async def work() -> None:
        nonlocal runs
        runs += 1
        if runs > 1:
            await asyncio.Event().wait()

    with caplog.at_level(logging.ERROR, logger="herald_common.supervisor"):
        async with contextlib.AsyncExitStack() as resources:
            supervisor = _supervisor(resources)
            supervisor.start("worker-watch", work)
            await _until(lambda: supervisor.down)
            assert supervisor.down == {"worker-watch": "returned"}
            await _until(lambda: runs == 2)
            assert supervisor.down == {}
    assert [r.getMessage() for r in caplog.records] == ["worker-watch returned; restarting in 0.2s"]


async def test_a_run_longer_than_the_longest_wait_starts_the_backoff_again():
    loop = asyncio.get_running_loop()
    policy = RetryPolicy(max_attempts=1, initial_seconds=0.1, max_seconds=0.4)
    lasts = [0, 0, 0, 0.5, 0]  # how long each run goes well before it fails
    runs: list[float] = []
    failures: list[float] = []

    async def work() -> None:
        runs.append(loop.time())
        if len(runs) > len(lasts):
            await asyncio.Event().wait()
        await asyncio.sleep(lasts[len(runs) - 1])
        failures.append(loop.time())
        raise RuntimeError("again")

    async with contextlib.AsyncExitStack() as resources:
        _supervisor(resources, policy).start("outbox-relay", work)
        await _until(lambda: len(runs) == len(lasts) + 1)
    waits = [run - failure for run, failure in zip(runs[1:], failures, strict=True)]
    # 0.1, 0.2, 0.4, then a long run: 0.1 again, not 0.4.
    for wait, least in zip(waits, (0.1, 0.2, 0.4, 0.1, 0.2), strict=True):
        assert wait >= least - 0.01
    assert waits[3] < 0.3


async def test_tasks_run_until_the_resources_close_then_stop_last_started_first():
    stopped: list[str] = []

    async def work(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    async with contextlib.AsyncExitStack() as resources:
        resources.callback(stopped.append, "pool closed")
        supervisor = _supervisor(resources)
        first = supervisor.start("first", lambda: work("first"))
        second = supervisor.start("second", lambda: work("second"))
        await asyncio.sleep(0)
        assert (first.get_name(), second.get_name()) == ("first", "second")
        assert not first.done()
        assert not second.done()
    assert stopped == ["second", "first", "pool closed"]
    assert first.cancelled()
    assert second.cancelled()


async def test_a_crash_is_logged_with_the_tasks_name_and_shutdown_goes_on(caplog):
    async def crash() -> None:
        raise RuntimeError("broker gone")

    closed: list[str] = []
    with caplog.at_level(logging.ERROR, logger="herald_common.supervisor"):
        async with contextlib.AsyncExitStack() as resources:
            resources.callback(closed.append, "producer stopped")
            supervisor = _supervisor(resources, RESTARTS)
            task = supervisor.start("mailer-consumer", crash)
            await asyncio.sleep(0.01)
            # Down, waiting for its restart (a second away) as shutdown begins.
            assert supervisor.down == {"mailer-consumer": "RuntimeError: broker gone"}
            (record,) = caplog.records
            assert record.getMessage() == "mailer-consumer failed; restarting in 1.0s"
            assert isinstance(record.exc_info[1], RuntimeError)
    assert closed == ["producer stopped"]
    assert task.cancelled()
    assert supervisor.down == {}


async def test_a_task_that_lost_its_cancellation_still_stops_before_the_pool_closes():
    stopped: list[str] = []

    async def loses_one_cancellation() -> None:
        # As a task does whose asyncio.wait_for got its reply in the cancel's iteration.
        lost = False
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if lost:
                    stopped.append("consumer")
                    raise
                lost = True

    async with asyncio.timeout(5):
        async with contextlib.AsyncExitStack() as resources:
            resources.callback(stopped.append, "pool closed")
            task = _supervisor(resources).start("consumer", loses_one_cancellation)
            await asyncio.sleep(0)
    assert stopped == ["consumer", "pool closed"]
    assert task.cancelled()
