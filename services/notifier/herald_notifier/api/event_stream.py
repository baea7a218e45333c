"""The SSE response: frames written as they come, batched, with no task per stream but one.

sse-starlette runs several tasks per connection (stream, pings, disconnect listener, exit
signal) behind one lock, at about 30 µs of CPU per delivery and 50 KB per idle connection.
Here the request's own task writes: it takes everything its subscriber buffered and sends
it in one `send`; the client's disconnect is watched without a task (`compat`). No timer is
armed per write or per wait: the Heartbeat asks for pings and cuts off a write stuck past
the send timeout, by cancelling the writer. See docs/decisions (notifier stream response).

The response runs its stream's steps itself (open, replay, live, close) rather than
through one generator chaining them: that generator would stay alive on every idle stream
for hours, and cost every write one more step (docs/decisions/0032).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Protocol

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from herald_notifier.compat import direct_writer, watch_disconnect
from herald_notifier.domain.stream_context import ChunkWriter
from herald_notifier.domain.subscriber import Subscriber

# One or more whole SSE frames, encoded.
Chunk = bytes

# Every stream sends the same head; built once, shared by all (an idle stream holds it).
_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class StreamSteps(Protocol):
    """A stream's content: opened, sent step by step (replay, then live), then closed."""

    def open(self) -> None: ...
    def replay(self) -> AsyncGenerator[Chunk, None]: ...
    def live(self) -> AsyncGenerator[Chunk, None]: ...
    def write_directly(self, writer: ChunkWriter) -> None: ...
    def close(self) -> None: ...


_END: Message = {"type": "http.response.body", "body": b"", "more_body": False}

# How long a cut-off stream's end may wait for its client on uvicorn's own protocol (the
# notifier's writes it at once: compat.py). After that the server closes the connection.
CUT_OFF_END_SECONDS = 1.0


def _message(chunk: Chunk) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


async def _end_cut_off(send: Send) -> None:
    """End the response of a stream cut off for a slow reader: complete, so the server
    logs nothing and the client sees a whole response (then reconnects and replays)."""
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(CUT_OFF_END_SECONDS):
            await send(_END)


class EventStreamResponse(Response):
    def __init__(
        self,
        steps: StreamSteps | None,
        *,
        subscriber: Subscriber,
        last_words: Callable[[], Chunk | None] | None = None,
    ) -> None:
        # Response.__init__ would build headers and a body per stream; neither is used.
        self.status_code = 200
        self.background = None
        # None: nothing to send but the last words (a stream opened during the drain).
        self._steps = steps
        self._subscriber = subscriber
        # Asked once the steps end: a final chunk, or None (the drain's farewell).
        self._last_words = last_words

    async def _write(self, send: Send, chunk: Chunk) -> None:
        """One write, timed for the Heartbeat (a write stuck too long is cut off)."""
        subscriber, now = self._subscriber, asyncio.get_running_loop().time
        subscriber.writing_since = now()
        await send(_message(chunk))
        subscriber.writing_since = None
        subscriber.last_write = now()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber, steps = self._subscriber, self._steps
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        watch = watch_disconnect(scope, receive, subscriber.close)
        loop = asyncio.get_running_loop()
        subscriber.writer = asyncio.current_task()
        subscriber.last_write = loop.time()
        chunks: AsyncGenerator[Chunk, None] | None = None
        if steps is not None:
            steps.open()
        try:
            if steps is not None:
                chunks = steps.replay()
                # Read with a default, so the replay's end is not raised through this frame:
                # an exception would leave it a frame object, kept while the stream idles.
                while (chunk := await anext(chunks, None)) is not None:
                    await self._write(send, chunk)
                chunks = steps.live()
                writer = direct_writer(scope, send)
                if writer is not None:
                    # Live batches offered while the stream idles are written by the
                    # consumer; what still comes here needed the task (docs/decisions/0088).
                    steps.write_directly(writer)
                async for chunk in chunks:
                    # Written here rather than by _write: a call more on every live write.
                    if writer is not None and writer.ready():
                        writer.write(chunk)
                    else:
                        # The client is not reading (or no direct write here): the write
                        # waits for it, timed by the Heartbeat.
                        subscriber.writing_since = loop.time()
                        await send(_message(chunk))
                        subscriber.writing_since = None
                    subscriber.last_write = loop.time()
            last = self._last_words() if self._last_words is not None else None
            with contextlib.suppress(OSError):
                if last is not None:
                    await send(_message(last))
                await send(_END)
        except OSError:
            pass  # the client went away; it reconnects and replays
        except asyncio.CancelledError:
            if not subscriber.stalled:
                raise
            # Cut off (by the Heartbeat, or its buffer full) while a write waited for a
            # reader that stopped reading. Not a cancellation of the request: the stream
            # ends, without the write it gave up.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            await _end_cut_off(send)
        finally:
            subscriber.writer = None
            watch.cancel()
            try:
                if chunks is not None:
                    await chunks.aclose()
            finally:
                if steps is not None:
                    steps.close()
