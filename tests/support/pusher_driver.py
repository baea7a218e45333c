"""tests/pusher/driver.js from pytest: real pusher-js and Laravel Echo clients, driven by
JSON-line commands, reporting everything they see as JSON lines."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DRIVER_DIR = Path(__file__).resolve().parents[1] / "pusher"

Record = dict[str, Any]


class PusherClients:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.records: list[Record] = []
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> PusherClients:
        node = shutil.which("node")
        if node is None or not (DRIVER_DIR / "node_modules" / ".herald-installed").exists():
            pytest.fail("pusher-js is not installed: run `make pusher-clients` (part of make test)")
        process = await asyncio.create_subprocess_exec(
            node,
            str(DRIVER_DIR / "driver.js"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=DRIVER_DIR,
        )
        clients = cls(process)
        await clients.wait(lambda r: r["type"] == "ready")
        return clients

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            record = json.loads(line)
            async with self._changed:
                self.records.append(record)
                self._changed.notify_all()

    async def send(self, cmd: str, **fields: Any) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self._process.stdin.drain()

    def seen(self, match: Callable[[Record], bool]) -> list[Record]:
        return [r for r in self.records if match(r)]

    async def wait(
        self, match: Callable[[Record], bool], count: int = 1, timeout: float = 30
    ) -> list[Record]:
        """The first `count` records matching, once there are that many."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.seen(match)) >= count)
        return self.seen(match)[:count]

    async def close(self) -> None:
        if self._process.returncode is None:
            await self.send("quit")
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._reader.cancel()


def of(client: str, kind: str, **fields: Any) -> Callable[[Record], bool]:
    """Records of `client` of type `kind` with these field values."""

    def match(record: Record) -> bool:
        return (
            record.get("client") == client
            and record.get("type") == kind
            and all(record.get(k) == v for k, v in fields.items())
        )

    return match
