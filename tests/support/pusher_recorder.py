"""A Pusher protocol 7 client that records every frame as it arrives (a reader task), for
tests that wait for events on several channels in any order, or for the close: connect,
subscribe (signing private and presence channels with the app's secret, as an app's auth
endpoint would) and sign in. tests.support.pusher reads frames one at a time instead."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from herald_common.auth.channel_auth import sign, sign_user


@dataclass
class Frame:
    event: str
    channel: str | None
    data: Any


@dataclass
class RecordingSocket:
    url: str
    key: str
    secret: str
    socket_id: str = ""
    frames: list[Frame] = field(default_factory=list)
    _ws: ClientConnection | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None
    close_code: int | None = None

    async def __aenter__(self) -> RecordingSocket:
        self._ws = await connect(f"{self.url}/app/{self.key}?protocol=7&client=py&version=1")
        first = json.loads(await self._ws.recv())
        assert first["event"] == "pusher:connection_established", first
        self.socket_id = json.loads(first["data"])["socket_id"]
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._ws is not None
        assert self._reader is not None
        await self._ws.close()
        self._reader.cancel()

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                frame = json.loads(message)
                data = frame.get("data")
                if isinstance(data, str):
                    with contextlib.suppress(ValueError):
                        data = json.loads(data)
                self.frames.append(Frame(frame["event"], frame.get("channel"), data))
                self._arrived.set()
        except ConnectionClosed:
            pass
        self.close_code = self._ws.close_code
        self._arrived.set()

    async def send(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send(json.dumps({"event": event, "data": data}))

    async def subscribe(self, channel: str, user_id: str | None = None) -> Frame:
        data: dict[str, Any] = {"channel": channel}
        if channel.startswith("presence-"):
            channel_data = json.dumps({"user_id": user_id, "user_info": {}})
            auth = sign(self.key, self.secret, self.socket_id, channel, channel_data)
            data |= {"auth": auth, "channel_data": channel_data}
        elif channel.startswith("private-"):
            data["auth"] = sign(self.key, self.secret, self.socket_id, channel)
        await self.send("pusher:subscribe", data)
        return await self.wait_for("pusher_internal:subscription_succeeded", channel)

    async def sign_in(self, user_id: str) -> Frame:
        user_data = json.dumps({"id": user_id})
        auth = sign_user(self.key, self.secret, self.socket_id, user_data)
        await self.send("pusher:signin", {"auth": auth, "user_data": user_data})
        return await self.wait_for("pusher:signin_success")

    async def wait_for(
        self, event: str, channel: str | None = None, timeout: float = 20.0, count: int = 1
    ) -> Frame:
        """The `count`-th frame of `event` (on `channel`), waiting up to `timeout` seconds."""

        def matching() -> list[Frame]:
            return [
                f
                for f in self.frames
                if f.event == event and (channel is None or f.channel == channel)
            ]

        async def arrive() -> Frame:
            while len(matching()) < count:
                if self.close_code is not None:
                    raise AssertionError(f"closed with {self.close_code} before {event}")
                self._arrived.clear()
                await self._arrived.wait()
            return matching()[count - 1]

        return await asyncio.wait_for(arrive(), timeout)

    async def closed(self, timeout: float = 20.0) -> int | None:
        async def close() -> int | None:
            while self.close_code is None:
                self._arrived.clear()
                await self._arrived.wait()
            return self.close_code

        return await asyncio.wait_for(close(), timeout)

    def events(self, event: str, channel: str | None = None) -> list[Frame]:
        return [
            f for f in self.frames if f.event == event and (channel is None or f.channel == channel)
        ]
