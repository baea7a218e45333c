"""Many callers' lookups answered by one query: what arrives while a query is out waits for
the next, which takes all of it.

A burst of stream opens (a drained replica's clients arriving at once) would otherwise cost
each open its own round trips, each about 0.2 ms of the notifier's CPU in the driver and the
pool. Here the first caller starts a round on the next turn of the event loop, so every
open of that turn joins it; opens that come while it runs join the round after. One quiet
open waits for nothing: its round starts at once, with it alone (docs/decisions/0076).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

# Keys per query: a bound on the statement's size and on how long one round holds a
# connection; a burst larger than this is read in several rounds, one after the other.
MAX_BATCH = 1000


class Batched(Generic[K, V]):
    """`get(key)`, answered by `lookup(keys)`: one result per key, in the keys' order.

    `lookup` sees every key of a round, duplicates included, and answers each occurrence
    (a single-use ticket asked for twice in one round is good for one of them only).
    """

    def __init__(self, lookup: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> None:
        self._lookup = lookup
        self._waiting: list[tuple[K, asyncio.Future[V]]] = []
        self._running = False
        self._round: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        return await self.submit(key)

    def submit(self, key: K) -> asyncio.Future[V]:
        """`get(key)` for a caller that is not a coroutine (a protocol's callback): the
        future its round answers."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.append((key, future))
        if not self._running:
            self._running = True
            # Held, so the running rounds are not collected as garbage mid-way.
            self._round = loop.create_task(self._rounds())
        return future

    async def _rounds(self) -> None:
        try:
            await asyncio.sleep(0)  # every open of this turn of the loop joins the round
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    results = await self._lookup([key for key, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # its caller may have gone meanwhile
                        future.set_result(result)
        finally:
            self._running = False
