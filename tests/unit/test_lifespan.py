"""What a lifespan opens and runs: herald_common.lifespan."""

import asyncio
import contextlib
import logging

import pytest

from herald_common.lifespan import open_pool_and_producer, run_in_background


async def test_tasks_run_until_the_resources_close_then_stop_last_started_first():
    stopped: list[str] = []

    async def work(name: str) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    async with contextlib.AsyncExitStack() as resources:
        resources.callback(stopped.append, "pool closed")
        first = run_in_background(resources, "first", work("first"))
        second = run_in_background(resources, "second", work("second"))
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
    with caplog.at_level(logging.ERROR, logger="herald_common.background"):
        async with contextlib.AsyncExitStack() as resources:
            resources.callback(closed.append, "producer stopped")
            task = run_in_background(resources, "mailer-consumer", crash())
            await asyncio.sleep(0.01)
            assert task.done()
            (record,) = caplog.records
            assert record.getMessage() == "mailer-consumer stopped"
            assert isinstance(record.exc_info[1], RuntimeError)
    assert closed == ["producer stopped"]


class _Resource:
    def __init__(self, name: str, log: list[str], fails: bool = False) -> None:
        self.name, self.log, self.fails = name, log, fails

    async def open(self, wait: bool) -> None:
        assert wait, "the service must not start without PostgreSQL"
        self.log.append(f"{self.name} opened")

    async def start(self) -> None:
        if self.fails:
            raise ConnectionError("no broker")
        self.log.append(f"{self.name} started")

    async def close(self) -> None:
        self.log.append(f"{self.name} closed")

    async def stop(self) -> None:
        self.log.append(f"{self.name} stopped")


async def test_the_pool_then_the_producer_closed_in_reverse():
    log: list[str] = []
    async with contextlib.AsyncExitStack() as resources:
        await open_pool_and_producer(resources, _Resource("pool", log), _Resource("producer", log))
        log.append("serving")
    assert log == ["pool opened", "producer started", "serving", "producer stopped", "pool closed"]


async def test_a_producer_that_does_not_start_closes_the_pool():
    log: list[str] = []

    async def start() -> None:
        async with contextlib.AsyncExitStack() as resources:
            producer = _Resource("producer", log, fails=True)
            await open_pool_and_producer(resources, _Resource("pool", log), producer)

    with pytest.raises(ConnectionError):
        await start()
    assert log == ["pool opened", "pool closed"]
