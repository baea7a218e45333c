"""What a lifespan opens: herald_common.lifespan (what it runs: test_supervisor)."""

import contextlib

import pytest

from herald_common.lifespan import open_pool_and_producer


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
