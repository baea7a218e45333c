"""A bare read-committed consumer: when each event becomes readable, with nothing after it.

    python -m bench.kafka_witness CONFIG.json

The latency scenario times the notifier's clients from the Kafka commit. Part of that time
is Kafka's own and the machine's: the commit markers reach the partitions after the
producer's commit returns, a read-committed fetch sees the records only then, and the
consumer's process must be scheduled. This process measures that part alone: the
notifier's consumer settings (`create_consumer`, read_committed, from the end), aiokafka's
public `getmany()`, no routing and no streams, in a process of its own on the same cores.
Its clock read as each fetch is handed over, minus the Kafka commit time, is the best a
consumer could do here, beside what the notifier's clients saw.

It speaks the load generator's JSON lines (bench/loadgen.py): `{"ready": ...}` once it
reads every partition of the topic from its end, then `{"cmd": "wait", "timeout": s,
"total": n}` answers with every event id and its arrival time once `n` arrived (or `s`
passed), and `{"cmd": "quit"}` ends it. Its config names `bootstrap` and `topic`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

from bench.loadgen import _say, commands, run_with_config
from herald_common.kafka import assign_from_end, create_consumer, create_producer
from herald_common.settings import KafkaSettings


class Witness:
    def __init__(self, bootstrap: str, topic: str) -> None:
        settings = KafkaSettings(bootstrap=bootstrap)
        self._topic = topic
        self._consumer = create_consumer(
            settings, client_id="herald-bench-witness", group_id=None, auto_offset_reset="latest"
        )
        # Only for the topic's partitions (assign_from_end waits for a new topic's metadata).
        self._producer = create_producer(settings, client_id="herald-bench-witness")
        self.arrivals: list[tuple[str, float]] = []
        self._changed = asyncio.Event()

    async def start(self) -> int:
        await self._producer.start()
        assigned = await assign_from_end(
            self._consumer, [self._topic], self._producer.partitions_for
        )
        return len(assigned)

    async def read(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=1000)
            arrived = time.time()
            for records in fetched.values():
                for record in records:
                    if record.value is not None:
                        self.arrivals.append((str(json.loads(record.value)["id"]), arrived))
            if fetched:
                self._changed.set()

    async def wait(self, timeout: float, total: int) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < total:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return {"received": len(self.arrivals), "ids": self.arrivals}

    async def stop(self) -> None:
        await self._consumer.stop()
        await self._producer.stop()


async def serve(config: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    witness = Witness(config["bootstrap"], config["topic"])
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    partitions = await witness.start()
    reading = asyncio.create_task(witness.read())
    _say({"ready": True, "partitions": partitions})
    try:
        async for command in commands(reader):
            name = command.get("cmd")
            if name == "wait":
                total = int(command.get("total") or 0)
                _say(await witness.wait(float(command.get("timeout", 60)), total))
            elif name == "quit":
                _say({"bye": True})
                return
            else:
                _say({"error": f"unknown command {name!r}"})
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await witness.stop()


def main() -> None:
    run_with_config(serve)


if __name__ == "__main__":
    main()
