"""The fan-out baseline: a plain FastAPI + sse-starlette hub, as one would first write it.

One asyncio.Queue per connection, a dict from employee id to their queues, and an aiokafka
consumer that reads every partition of the per-employee topic (read_committed, from the
end, like Herald's notifier) and puts each event's JSON into the queues of its employee.
Streams authenticate with the same Bearer JWT. Nothing else: no inbox, replay, unread
counts or cut-off of slow readers.

    HERALD_AUTH_HS256_SECRET=... python -m bench.baseline_notifier \
        --port P --bootstrap HOST:PORT --topic T --partitions N
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
import uvicorn
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI, HTTPException, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from bench.hub_arguments import hub_arguments
from bench.loadgen import raise_open_files_limit


def create_app(bootstrap: str, topic: str, partitions: int, secret: str) -> FastAPI:
    queues: dict[str, set[asyncio.Queue[tuple[str, str, str]]]] = {}
    ready = asyncio.Event()

    async def consume(consumer: AIOKafkaConsumer) -> None:
        async for record in consumer:
            if record.value is None:
                continue
            event = json.loads(record.value)
            for queue in queues.get(event["data"]["employee_id"], ()):
                queue.put_nowait((event["id"], event["type"], record.value.decode()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            isolation_level="read_committed",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        assignment = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assignment)
        await consumer.seek_to_end(*assignment)
        for tp in assignment:
            await consumer.position(tp)
        ready.set()
        task = asyncio.create_task(consume(consumer))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await consumer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        if not ready.is_set():
            raise HTTPException(503, "not ready")
        return {"status": "ready"}

    @app.get("/v1/stream")
    async def stream(request: Request) -> EventSourceResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            raise HTTPException(401, "bearer token required")
        try:
            claims = jwt.decode(
                token, secret, algorithms=["HS256"], audience="herald", issuer="herald"
            )
        except jwt.PyJWTError as exc:
            raise HTTPException(401, "invalid token") from exc
        employee_id = claims["sub"]
        queue: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()

        async def events() -> AsyncIterator[ServerSentEvent]:
            queues.setdefault(employee_id, set()).add(queue)
            try:
                yield ServerSentEvent(comment="connected")
                while True:
                    event_id, event_type, data = await queue.get()
                    yield ServerSentEvent(data=data, event=event_type, id=event_id)
            finally:
                own = queues.get(employee_id)
                if own is not None:
                    own.discard(queue)
                    if not own:
                        del queues[employee_id]

        return EventSourceResponse(events())

    return app


def main() -> None:
    args = hub_arguments(__doc__)
    raise_open_files_limit()
    app = create_app(
        args.bootstrap, args.topic, args.partitions, os.environ["HERALD_AUTH_HS256_SECRET"]
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
