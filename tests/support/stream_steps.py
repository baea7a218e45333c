"""A stream's steps made of plain generators, for tests of the SSE response on its own."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable

from herald_notifier.api.event_stream import Chunk

Step = Callable[[], AsyncGenerator[Chunk, None]]


async def _nothing() -> AsyncGenerator[Chunk, None]:
    return
    yield


class Steps:
    """`StreamSteps` from a replay and a live generator, with what opening and closing do."""

    def __init__(
        self,
        replay: Step = _nothing,
        live: Step = _nothing,
        *,
        on_open: Callable[[], object] = lambda: None,
        on_close: Callable[[], object] = lambda: None,
    ) -> None:
        self._replay, self._live = replay, live
        self._on_open, self._on_close = on_open, on_close

    def open(self) -> None:
        self._on_open()

    def replay(self) -> AsyncGenerator[Chunk, None]:
        return self._replay()

    def live(self) -> AsyncGenerator[Chunk, None]:
        return self._live()

    def write_directly(self, writer: object) -> None:
        """These steps' live chunks are all written by the response itself."""

    def close(self) -> None:
        self._on_close()
