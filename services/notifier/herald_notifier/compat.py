"""The notifier's use of private APIs, all of it: aiokafka's, uvicorn's and asyncio's.

Each one buys a measured cost, and each has a public fallback. Which is used is decided
once, at start-up (`Internals.choose`, docs/decisions/0042): the private one where its
package is installed at the exact version pyproject.toml pins, unless
HERALD_NOTIFIER_COMPAT=public asks for public APIs throughout; a pinned package found at
another version is logged as a warning and its fallback used.

- aiokafka: `FetchedRecords` takes the fetcher's buffered batches itself, about 1 µs a
  record instead of `getmany()`'s 4 (docs/decisions/0031). Fallback: `GetmanyRecords`.
- uvicorn: `LeanHttpToolsProtocol`, uvicorn's httptools protocol with smaller
  per-connection containers. An idle SSE stream keeps its connection's protocol objects
  for hours, so their size is most of what an idle stream costs. uvicorn gives every
  connection a deque for pipelined requests and two asyncio.Events (flow control, request
  messages), each waiting with a deque; a deque allocates a 64-slot block up front, about
  750 bytes with its object. Lists do the same jobs here at a tenth of that: the pipeline
  holds a request or two at most and an event one waiter. Together that is about 1.9 KB
  less per connection (docs/decisions/0032). Behaviour is uvicorn's own but for two
  things: the end of a response is written even while the client is not reading
  (`_EndingCycle`), so a stream cut off for a slow reader ends complete (decision 0025),
  and a response may have its access line written at another level than INFO
  (`access_line_at`, decision 0091). Fallback: uvicorn's own protocol, where such a
  stream ends abandoned (uvicorn logs it) and every access line is INFO.
  `DirectWriter` writes a stream's chunks to the lean protocol's transport directly, as
  its `send` would, while the client reads (docs/decisions/0073, 0088). Fallback: `send`.
- asyncio: `DisconnectWatch` steps the ASGI `receive()` by hand instead of a task per
  stream (docs/decisions/0032). Fallback: a task per stream.

`DrainingServer` is uvicorn's server, draining the streams as the shutdown signal arrives
(docs/decisions/0018). It overrides uvicorn's public `Server.handle_exit` and then calls
uvicorn's own, as it was when this module was imported: a monkey-patch installed later
(sse-starlette replaces `Server.handle_exit` when imported; the notifier no longer
imports it) cannot change the shutdown.

tests/unit/test_lean_protocol.py, tests/unit/test_compat.py and
tests/integration/test_fetched_records.py fail first when an upgrade moves what this
relies on; tests/integration/test_public_paths.py runs the fallbacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from types import FrameType
from typing import Any, cast

import uvicorn
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer.fetcher import READ_COMMITTED, FetchResult
from aiokafka.errors import CorruptRecordException
from starlette.types import Message, Receive, Scope
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string, is_ssl

from herald_common.consumed import KafkaRecord
from herald_common.pins import CompatMode, private_apis
from herald_notifier.domain.fetched_records import Fetched, GetmanyRecords, RecordReader
from herald_notifier.drain import Drain

# The packages whose internals are read here; pyproject.toml pins each.
PINNED = ("aiokafka", "uvicorn")


@dataclass(frozen=True, slots=True)
class Internals:
    """Which private APIs this process uses; each one False is its public fallback."""

    fetcher: bool  # aiokafka's fetch buffers (FetchedRecords), not getmany
    protocol: bool  # LeanHttpToolsProtocol, not uvicorn's own
    stepping: bool  # receive() stepped by hand (DisconnectWatch), not a task per stream

    @classmethod
    def choose(cls, mode: CompatMode) -> Internals:
        """Checks the installed versions against the pins; logs what falls back and why."""
        usable = private_apis("herald-notifier", PINNED, mode)
        return cls(
            fetcher="aiokafka" in usable,
            protocol="uvicorn" in usable,
            # The handshake is CPython 3.11's asyncio, which the package requires.
            stepping=mode != "public",
        )


def record_reader(consumer: AIOKafkaConsumer, internals: Internals) -> RecordReader:
    return FetchedRecords(consumer) if internals.fetcher else GetmanyRecords(consumer)


def http_protocol(internals: Internals) -> type[asyncio.Protocol] | str:
    """What `uvicorn.Config(http=...)` gets: the lean protocol, or uvicorn's own choice."""
    return LeanHttpToolsProtocol if internals.protocol else "auto"


def _chosen(scope: Scope) -> Internals | None:
    """The app's choice, on `app.state.compat` (its scope's `app`, on both of the stream's
    paths); None for a scope without one (a test's), which takes the private paths."""
    internals = getattr(getattr(scope.get("app"), "state", None), "compat", None)
    return cast("Internals | None", internals)


def watch_disconnect(
    scope: Scope, receive: Receive, on_disconnect: Callable[[], None]
) -> DisconnectWatch:
    """Watch for the client's disconnect, by hand unless the app keeps to public APIs."""
    internals = _chosen(scope)
    by_hand = internals is None or internals.stepping
    return DisconnectWatch(receive, on_disconnect, by_hand=by_hand)


# --- aiokafka -------------------------------------------------------------------------


class FetchedRecords:
    """Fetched records, batch by batch, without aiokafka's per-record Python.

    `AIOKafkaConsumer.getmany()` hands every record through a generator, an iterator and
    a list append, and wraps it in a `ConsumerRecord`: about 4 µs a record, where the C
    batch parser needs about 1. The notifier reads every record of every partition
    (100,000 per allocation), so that wrapping was the largest single cost of its hot path
    (docs/decisions/0031). `get()` takes what aiokafka's fetcher has buffered and returns
    each batch's records as the parser made them (`offset`, `key`, `value`, `headers`),
    and does what `getmany()` does around them: records of aborted transactions and
    control batches are skipped (read_committed), CRCs are checked when asked for,
    positions move on and the fetcher is told to fetch again. Anything else in the buffer
    (a fetch error) goes through `getmany()`, which raises it.
    """

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer

    async def get(self, wait_seconds: float) -> Fetched:
        """Everything fetched so far, waiting up to `wait_seconds` for something."""
        # As getmany: the time spent in here is not idle time.
        with self._consumer._subscription.fetch_context():
            return await self._get(wait_seconds)

    async def _get(self, wait_seconds: float) -> Fetched:
        fetcher: Any = self._consumer._fetcher
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            if any(type(r) is not FetchResult for r in fetcher._records.values()):
                # A fetch error: getmany raises it (or returns what came before it).
                return [
                    (tp, list(records))
                    for tp, records in (await self._consumer.getmany(timeout_ms=0)).items()
                ]
            fetched = self._drain(fetcher)
            left = deadline - loop.time()
            if fetched or left <= 0:
                return fetched
            waiter = fetcher._create_fetch_waiter()
            done, _ = await asyncio.wait([waiter], timeout=left)
            if not done or fetcher._closed:
                waiter.cancel()
                return []
            waiter.result()  # authorization errors surface here, as in getmany

    def _drain(self, fetcher: Any) -> Fetched:
        fetched: Fetched = []
        buffered = fetcher._records
        for tp in list(buffered):
            result = buffered[tp]
            if result.check_assignment(tp) and result.has_more():
                records = _unpack(result._partition_records)
                result._update_position()
                if records:
                    fetched.append((tp, records))
            del buffered[tp]
            fetcher._notify(fetcher._wait_consume_future)  # fetch this partition again
        return fetched


def _unpack(partition: Any) -> list[KafkaRecord]:
    """A partition's buffered records, as aiokafka's PartitionRecords._unpack_records
    filters them, in whole batches."""
    records: list[KafkaRecord] = []
    batches = partition._records
    read_committed = partition._isolation_level == READ_COMMITTED
    while batches.has_next():
        batch = batches.next_batch()
        if partition._check_crcs and not batch.validate_crc():
            raise CorruptRecordException(f"Invalid CRC - {partition._tp}")
        if read_committed and batch.producer_id is not None:
            partition._consume_aborted_up_to(batch.base_offset)
            if batch.is_control_batch and partition._contains_abort_marker(batch):
                partition._aborted_producers.discard(batch.producer_id)
            if batch.is_transactional and batch.producer_id in partition._aborted_producers:
                partition.next_fetch_offset = batch.next_offset
                continue
        if batch.is_control_batch:
            partition.next_fetch_offset = batch.next_offset
            continue
        start = partition.next_fetch_offset
        if batch.base_offset >= start:
            records.extend(batch)  # iterated in C
        else:  # a batch that starts before the position asked for
            records.extend([record for record in batch if record.offset >= start])
        partition.next_fetch_offset = batch.next_offset
    return records


# --- uvicorn --------------------------------------------------------------------------

# uvicorn's own signal handler, taken before anything in this process could patch it.
_UVICORN_HANDLE_EXIT = uvicorn.Server.handle_exit


class _Pipeline(list[Any]):
    """The deque operations uvicorn uses on its pipeline: appendleft, pop, truth."""

    def appendleft(self, item: Any) -> None:
        self.insert(0, item)


class LeanEvent(asyncio.Event):
    """asyncio.Event waiting with a list: it only appends, removes and iterates."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: Any = []


class _Writable:
    """A connection's flow control as uvicorn reads it before a write: not paused."""

    write_paused = False


_WRITABLE: Any = _Writable()


class _HeldWrites:
    """Stands in for a cycle's transport while uvicorn's `send` runs, keeping what it
    writes, so that the response's head and first body part leave in one write."""

    __slots__ = ("chunks", "closed")

    def __init__(self, head: bytes | None) -> None:
        self.chunks = [head] if head else []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def close(self) -> None:
        self.closed = True


# Where a request's scope holds the level of its response's access line (`access_line_at`).
_ACCESS_LEVEL = "herald.access_level"


def access_line_at(scope: Scope, level: int) -> None:
    """Write the access line of this request's response at `level` rather than INFO, unless
    its status is an error: on the lean protocol only (uvicorn's own protocol writes every
    line at INFO). The line is uvicorn's."""
    scope[_ACCESS_LEVEL] = level


class _EndingCycle(RequestResponseCycle):
    """uvicorn's request cycle, except that a response's end never waits for the reader,
    and its head leaves with its first body part.

    uvicorn waits before every write while the client is not reading, the last one too.
    A stream cut off because its client stopped reading would then never end: it ends
    abandoned instead, which uvicorn logs as an error ("ASGI callable returned without
    completing response") and the client sees as a body without its terminating chunk.
    The end is a few bytes; it goes into the transport's buffer at once, behind what the
    client has not read yet.

    uvicorn writes a response's head (status line and headers) as soon as it starts, and
    each body part in a write of its own: two socket writes for every stream open and every
    ticket, where one carries both. The head is held (`_head`) until the first body message
    and written with it; what is written is byte for byte what uvicorn writes. Nothing
    suspends while the transport is stood in for, so nothing else sees the stand-in.
    """

    # The response's head, built by uvicorn and not yet written (an instance attribute
    # only from the response's start to its first body message).
    _head: bytes | None = None

    def send(self, message: Any) -> Any:
        # Not `async`: the stream's writes go straight to uvicorn's coroutine, with no
        # coroutine of ours around each (this is every write of every stream).
        if self._head is not None or message["type"] == "http.response.start":
            return self._held(message)
        if (
            message.get("more_body", False)
            or not self.flow.write_paused
            or message["type"] != "http.response.body"
        ):
            return RequestResponseCycle.send(self, message)
        return self._end(message)

    async def _end(self, message: Any) -> None:
        flow, self.flow = self.flow, _WRITABLE
        try:
            await RequestResponseCycle.send(self, message)
        finally:
            self.flow = flow

    async def _held(self, message: Any) -> None:
        """uvicorn's `send` of the start (its head kept) or of the first body message
        (written with the head kept), its writes gathered into one."""
        flow = self.flow
        ending = message["type"] == "http.response.body" and not message.get("more_body")
        if ending and flow.write_paused:
            self.flow = _WRITABLE  # as `_end`: the end does not wait for the reader
        elif flow.write_paused and not self.disconnected:
            await flow.drain()  # as uvicorn's `send` would, before anything is written
        starting = message["type"] == "http.response.start"
        level = cast("dict[str, Any]", self.scope).get(_ACCESS_LEVEL) if starting else None
        if level is not None and self.access_log and message["status"] < 400:
            # uvicorn's INFO line, written here at the level asked for (`access_line_at`);
            # an error keeps its INFO line, and a gone client none, as in uvicorn's `send`.
            self.access_log = False
            if not self.disconnected:
                self._access_line(level, message["status"])
        head = None if starting else self._head
        if head is not None:
            del self._head
        transport, held = self.transport, _HeldWrites(head)
        self.transport = cast(asyncio.Transport, held)
        try:
            await RequestResponseCycle.send(self, message)
        finally:
            self.transport, self.flow = transport, flow
            if starting and not held.closed:
                self._head = b"".join(held.chunks)
            elif held.chunks and not self.disconnected:
                transport.write(b"".join(held.chunks))
            if held.closed:
                transport.close()

    def _access_line(self, level: int, status: int) -> None:
        logger, scope = self.access_logger, self.scope
        if logger.isEnabledFor(level):
            logger.log(
                level,
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(scope),
                scope["method"],
                get_path_with_query_string(scope),
                scope["http_version"],
                status,
            )


class DirectWriter:
    """Writes one stream's body chunks straight to its transport, as uvicorn's `send`
    would, while the client reads.

    uvicorn's `send` is a coroutine per write, with a message dict to build and read, and a
    flow-control check: several microseconds of Python on every write of every stream,
    where the socket write itself costs about six (docs/decisions/0073). A write needs no
    await either: the stream's session writes with this from the consumer's stack, without
    waking the stream's task (docs/decisions/0088). Only the lean protocol's cycles are
    written to directly, and only while the client reads: a paused transport (its buffer
    past the high-water mark) is not `ready`, so the caller's `send` waits for the reader
    as before, timed by the Heartbeat, and a stream whose reader stopped is still cut off.
    A disconnected client's chunk is dropped, as `send` does.
    """

    __slots__ = ("_cycle",)

    def __init__(self, cycle: _EndingCycle) -> None:
        self._cycle = cycle

    def ready(self) -> bool:
        """Whether a chunk written now goes at once (or is dropped: the client is gone)."""
        cycle = self._cycle
        if cycle.flow.write_paused or cycle._head is not None:
            return False  # not reading, or the head is still to go first (`send` sends it)
        return bool(cycle.disconnected or (cycle.chunked_encoding and not cycle.response_complete))

    def write(self, chunk: bytes) -> None:
        """Write a non-empty chunk; call only when `ready()`, with nothing awaited since."""
        cycle = self._cycle
        if not cycle.disconnected:
            cycle.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))


def direct_writer(scope: Scope, send: Any) -> DirectWriter | None:
    """A `DirectWriter` for the response `send` belongs to; None where `send` must always
    be awaited: off the lean protocol, or where the app keeps to public APIs."""
    internals = _chosen(scope)
    cycle = getattr(send, "__self__", None)
    if (internals is not None and not internals.protocol) or type(cycle) is not _EndingCycle:
        return None
    return DirectWriter(cycle)


def _remote_address(transport: asyncio.Transport) -> tuple[str, int] | None:
    """uvicorn's `get_remote_addr`, read from `peername`: a host and a port, else None."""
    info = transport.get_extra_info("peername")
    return (str(info[0]), int(info[1])) if isinstance(info, tuple) else None


def _local_address(transport: asyncio.Transport) -> tuple[str, int | None] | None:
    """uvicorn's `get_local_addr`, read from `sockname`: a host and a port, or a Unix
    socket's path alone."""
    info = transport.get_extra_info("sockname")
    if isinstance(info, tuple):
        return (str(info[0]), int(info[1]))
    if isinstance(info, str):
        return (info, None)
    return None


class LeanHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline: Any = _Pipeline()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvicorn's, with the addresses read from the transport's extra info: 2.2 µs a
        # connection, where uvicorn's lookups through a socket object take 8.1
        # (docs/decisions/0092); and the flow control's event the lean one.
        self.connections.add(self)
        self.transport = transport
        self.flow = FlowControl(transport)
        writable = LeanEvent()
        writable.set()  # as FlowControl starts: writable
        self.flow._is_writable_event = writable
        self.server = _local_address(transport)
        self.client = _remote_address(transport)
        self.scheme = "https" if is_ssl(transport) else "http"
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection made", prefix)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The cycle was just made; its task has not run yet, so nothing waits on the event
        # and nothing has looked up its `send`.
        self.cycle.message_event = LeanEvent()
        self.cycle.__class__ = _EndingCycle


class DrainingServer(uvicorn.Server):
    """Uvicorn, with streams drained as soon as the shutdown signal arrives.

    Uvicorn alone would wait for the open connections until its graceful timeout and then
    cut them without a word; the drain has them closed, with a hint, right away.
    """

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._drain.request()
        _UVICORN_HANDLE_EXIT(self, sig, frame)


# --- asyncio --------------------------------------------------------------------------


class DisconnectWatch:
    """Calls `on_disconnect` once the client is gone, without a task of its own.

    An idle stream's task waits for its subscriber, so the ASGI `receive()` that reports
    the disconnect needs another waiter; a task for it would cost each idle stream a task,
    its entry in asyncio's task set and its frames. Instead the `receive()` coroutine is
    stepped here by hand, as a task would: up to the future it waits on, and again when
    that future completes. Anything but a plain future (another server's receive) falls
    back to a task. This is asyncio's handshake between a Task and the futures it awaits
    (`_asyncio_future_blocking`), which is not public API: on the public path the watch
    is a task from the start.
    """

    __slots__ = ("_coro", "_fallback", "_on_disconnect", "_receive", "_waiting")

    def __init__(
        self, receive: Receive, on_disconnect: Callable[[], None], *, by_hand: bool = True
    ) -> None:
        self._receive = receive
        self._on_disconnect = on_disconnect
        self._coro: Coroutine[Any, Any, Message] | None = None
        self._waiting: asyncio.Future[Any] | None = None
        self._fallback: asyncio.Task[None] | None = None
        if by_hand:
            self._step(None)
        else:  # the public path: a task, from the start
            self._fall_back(None, None)

    def _step(self, _: object) -> None:
        self._waiting = None
        while True:
            coro = self._coro
            if coro is None:
                receiving = self._receive()
                if not isinstance(receiving, Coroutine):
                    self._fall_back(None, None)
                    return
                coro = self._coro = receiving
            try:
                awaited = coro.send(None)
            except StopIteration as done:
                self._coro = None
                if done.value["type"] == "http.disconnect":
                    self._on_disconnect()
                    return
                continue  # the request body (or a chunk of it): read on
            except BaseException:
                self._coro = None
                self._on_disconnect()
                return
            if isinstance(awaited, asyncio.Future) and getattr(
                awaited, "_asyncio_future_blocking", False
            ):
                awaited._asyncio_future_blocking = False  # as a task does, before waiting
                self._waiting = awaited
                awaited.add_done_callback(self._step)
                return
            self._fall_back(coro, awaited)
            return

    def _fall_back(self, coro: Coroutine[Any, Any, Message] | None, awaited: object) -> None:
        # Not a future we can wait on: hand the coroutine to a task, which knows the rest.
        async def finish() -> None:
            if coro is None:
                message = await self._receive()
            else:
                message = await _Resume(coro, awaited)
            while message["type"] != "http.disconnect":
                message = await self._receive()

        self._coro = None
        self._fallback = asyncio.ensure_future(finish())
        self._fallback.add_done_callback(lambda _: self._on_disconnect())

    def cancel(self) -> None:
        if self._waiting is not None:
            self._waiting.remove_done_callback(self._step)
            self._waiting = None
        if self._coro is not None:
            self._coro.close()
            self._coro = None
        if self._fallback is not None:
            self._fallback.cancel()


class _Resume:
    """Awaitable that yields what a coroutine already yielded, then resumes the coroutine."""

    def __init__(self, coro: Coroutine[Any, Any, Message], awaited: object) -> None:
        self._coro = coro
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, Message]:
        sent = yield self._awaited
        while True:
            try:
                awaited = self._coro.send(sent)
            except StopIteration as done:
                return cast(Message, done.value)
            sent = yield awaited
