"""The fan-out floor: the least a Python notifier on this stack does per delivery.

What any notifier built on aiokafka and uvloop must do for one per-employee event, and
nothing more:
- aiokafka's fetch and its C batch parser, read through the same buffer reader as Herald's
  notifier (`herald_notifier.compat.FetchedRecords`, the cheapest read there is);
- one pass over the record's headers for its employee and notification id;
- one dict lookup for the employee's streams;
- the SSE frame (`id:`, `event:`, `data:` with the value as it is);
- one `transport.write` per stream per partition's batch, as Herald writes.

No HTTP framework: a bare `asyncio.Protocol` reads the request head, checks the Bearer
token once, answers 200 and keeps the transport. No record checks, dead letters, inbox,
replay, unread counts, chunked coding, metrics, or cut-off of slow readers. `fanout` runs it
with Herald's workload so that Herald's CPU per delivery has this beside it, measured in the
same run: the part of Herald's figure this machine and these libraries allow at best.

    HERALD_AUTH_HS256_SECRET=... python -m bench.floor_notifier \
        --port P --bootstrap HOST:PORT --topic T --partitions N
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import jwt
import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.http_head import HeadProtocol
from bench.hub_arguments import hub_arguments
from bench.loadgen import raise_open_files_limit
from herald_common.consumed import KafkaRecord
from herald_common.events import VOUCHER_ALLOCATED
from herald_common.gc_tuning import SurvivorsFrozen, collection_paused
from herald_common.routing import EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER
from herald_notifier.compat import FetchedRecords

_OPENED = (
    b"HTTP/1.1 200 OK\r\n"
    b"content-type: text/event-stream\r\n"
    b"cache-control: no-store\r\n"
    b"connection: close\r\n\r\n"
    b": connected\n\n"
)
_READY = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
_REFUSED = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_NOT_READY = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

Streams = dict[str, list[asyncio.Transport]]


class StreamProtocol(HeadProtocol):
    """One connection: a request head, then either `/readyz` or a stream kept open."""

    def __init__(self, streams: Streams, secret: str, ready: asyncio.Event) -> None:
        self._streams = streams
        self._secret = secret
        self._ready = ready
        super().__init__()
        self._employee: str | None = None

    def request(self, transport: asyncio.Transport, request_line: bytes, fields: bytes) -> None:
        if request_line.startswith(b"GET /readyz "):
            transport.write(_READY if self._ready.is_set() else _NOT_READY)
            transport.close()
            return
        employee = self._employee_of(fields)
        if employee is None:
            transport.write(_REFUSED)
            transport.close()
            return
        self._employee = employee
        self._streams.setdefault(employee, []).append(transport)
        transport.write(_OPENED)

    def _employee_of(self, fields: bytes) -> str | None:
        for line in fields.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"authorization":
                scheme, _, token = value.strip().partition(b" ")
                if scheme.lower() != b"bearer":
                    return None
                try:
                    claims = jwt.decode(
                        token,
                        self._secret,
                        algorithms=["HS256"],
                        audience="herald",
                        issuer="herald",
                    )
                except jwt.PyJWTError:
                    return None
                return str(claims["sub"])
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._employee is None or self._transport is None:
            return
        own = self._streams.get(self._employee)
        if own is not None:
            with contextlib.suppress(ValueError):
                own.remove(self._transport)
            if not own:
                del self._streams[self._employee]


def deliver(streams: Streams, event_type: bytes, records: list[KafkaRecord]) -> int:
    """One partition's records into their streams' frames, then one write per stream."""
    frames: dict[str, list[bytes]] = {}
    for record in records:
        employee: bytes | None = None
        event_id: bytes | None = None
        for name, value in record.headers:
            if name == EMPLOYEE_ID_HEADER:
                employee = value
            elif name == NOTIFICATION_ID_HEADER:
                event_id = value
        if employee is None or event_id is None:
            continue
        key = employee.decode()
        if key not in streams or record.value is None:
            continue
        frame = b"id: %b\nevent: %b\ndata: %b\n\n" % (event_id, event_type, record.value)
        pending = frames.get(key)
        if pending is None:
            frames[key] = [frame]
        else:
            pending.append(frame)
    delivered = 0
    for key, pending in frames.items():
        payload = b"".join(pending)
        for transport in streams[key]:
            transport.write(payload)
            delivered += len(pending)
    return delivered


async def serve(host: str, port: int, bootstrap: str, topic: str, partitions: int) -> None:
    streams: Streams = {}
    ready = asyncio.Event()
    secret = os.environ["HERALD_AUTH_HS256_SECRET"]
    loop = asyncio.get_running_loop()
    await loop.create_server(
        lambda: StreamProtocol(streams, secret, ready), host, port, backlog=4096
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
        group_id=None,
        # As Herald's notifier: a department's share of a burst comes in one fetch.
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    assignment = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assignment)
    await consumer.seek_to_end(*assignment)
    for tp in assignment:
        await consumer.position(tp)
    # The collector as Herald's notifier runs it (herald_common.gc_tuning): with CPython's
    # defaults, passes over the fetched records took about a third of this process's time,
    # and a floor should not carry what a tuned service does not.
    collector = SurvivorsFrozen()
    collector.install()
    collecting = asyncio.create_task(collector.run())
    ready.set()
    reader = FetchedRecords(consumer)
    event_type = VOUCHER_ALLOCATED.encode()
    # Ended by SIGTERM, like the notifier under the benchmark (the sockets close with it),
    # or by a failure of the collector's task.
    while not collecting.done():
        fetched = await reader.get(wait_seconds=1.0)
        # As the notifier: the fetch under the collector, its dispatch with no pass inside.
        for _, records in fetched:
            with collection_paused():
                deliver(streams, event_type, records)


def main() -> None:
    args = hub_arguments(__doc__)
    raise_open_files_limit()
    uvloop.run(serve(args.host, args.port, args.bootstrap, args.topic, args.partitions))


if __name__ == "__main__":
    main()
