"""A bare Pusher protocol client for tests: a WebSocket (websockets' asyncio client) that
reads messages as JSON and signs what the app's secret signs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from herald_common.auth import channel_auth

KEY = "test-app-key"


class PusherSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.socket_id = ""

    @classmethod
    async def open(cls, port: int, key: str = KEY, protocol: str = "7") -> PusherSocket:
        ws = await connect(f"ws://127.0.0.1:{port}/app/{key}?protocol={protocol}")
        return cls(ws)

    async def established(self) -> dict[str, Any]:
        message = await self.next()
        assert message["event"] == "pusher:connection_established", message
        data: dict[str, Any] = json.loads(message["data"])
        self.socket_id = data["socket_id"]
        return data

    async def next(self, timeout: float = 10) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        message: dict[str, Any] = json.loads(raw)
        return message

    async def until(self, event: str, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.next(timeout)
                if message["event"] == event:
                    return message

    async def send(self, event: str, data: Any, channel: str | None = None) -> None:
        body: dict[str, Any] = {"event": event, "data": data}
        if channel is not None:
            body["channel"] = channel
        await self.ws.send(json.dumps(body))

    async def subscribe(
        self, channel: str, secret: str | None = None, channel_data: str | None = None
    ) -> None:
        data: dict[str, Any] = {"channel": channel}
        if secret is not None:
            data["auth"] = channel_auth.sign(KEY, secret, self.socket_id, channel, channel_data)
        if channel_data is not None:
            data["channel_data"] = channel_data
        await self.send("pusher:subscribe", data)

    async def close(self) -> None:
        await self.ws.close()
