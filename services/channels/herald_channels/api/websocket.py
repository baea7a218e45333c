"""The Pusher WebSocket endpoint, `/app/{key}?protocol=7`.

One task reads the client's messages (and watches its activity: a ping after
activity_timeout of silence, 4201 when the pong does not follow), one writes what the
connection queued, so a slow reader never holds up the replica's dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from herald_channels.domain import protocol
from herald_channels.domain.connection import Connection
from herald_channels.runtime import ChannelsRuntime
from herald_common.cancelling import cancel_and_wait

logger = logging.getLogger(__name__)


async def _refuse(
    websocket: WebSocket, runtime: ChannelsRuntime, code: protocol.Code, text: str
) -> None:
    await websocket.send_text(protocol.error(code, text))
    await websocket.close(int(code), text)
    runtime.metrics.closes.labels(str(int(code))).inc()


async def _read(websocket: WebSocket, connection: Connection, runtime: ChannelsRuntime) -> None:
    activity = float(runtime.settings.activity_timeout_seconds)
    pong_timeout = runtime.settings.pong_timeout_seconds
    pinged = False
    while connection.closing is None:
        try:
            message = await asyncio.wait_for(
                websocket.receive(), pong_timeout if pinged else activity
            )
        except TimeoutError:
            if pinged:
                connection.close(protocol.Code.PONG_TIMEOUT, "pong reply not received")
                return
            connection.ping()
            pinged = True
            continue
        if message["type"] == "websocket.disconnect":
            return
        pinged = False
        text = message.get("text")
        if text is None:
            raw = message.get("bytes") or b""
            text = raw.decode(errors="replace")
        await connection.handle(text)


async def _write(websocket: WebSocket, connection: Connection, runtime: ChannelsRuntime) -> None:
    outbox = connection.outbox
    while True:
        await connection.wake.wait()
        connection.wake.clear()
        while outbox:
            item = outbox.popleft()
            if isinstance(item, tuple):
                code, reason = item
                runtime.metrics.closes.labels(str(int(code))).inc()
                await websocket.close(int(code), reason)
                return
            await websocket.send_text(item)


async def pusher_socket(websocket: WebSocket) -> None:
    runtime: ChannelsRuntime = websocket.app.state.runtime
    settings = runtime.settings
    await websocket.accept()
    if websocket.path_params.get("key") != settings.app_key:
        await _refuse(websocket, runtime, protocol.Code.UNKNOWN_APP, "unknown app key")
        return
    version = websocket.query_params.get("protocol", "")
    if not version.isdigit() or not 5 <= int(version) <= protocol.PROTOCOL:
        await _refuse(websocket, runtime, protocol.Code.UNSUPPORTED_PROTOCOL, "use protocol=7")
        return
    if len(runtime.hub) >= settings.max_connections:
        await _refuse(websocket, runtime, protocol.Code.OVER_CAPACITY, "over capacity")
        return
    connection = Connection(runtime.context, protocol.new_socket_id())
    runtime.hub.add(connection)
    runtime.metrics.connections.inc()
    runtime.metrics.connections_opened.inc()
    connection.send(
        protocol.connection_established(connection.socket_id, settings.activity_timeout_seconds)
    )
    reader = asyncio.create_task(_read(websocket, connection, runtime))
    writer = asyncio.create_task(_write(websocket, connection, runtime))
    try:
        done, _ = await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done and connection.closing is not None and not writer.done():
            # The reader asked to close: let the writer write what precedes the close.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(writer), 5)
        for task in (reader, writer):
            await cancel_and_wait(task)
        for task in (reader, writer):
            failure = None if task.cancelled() else task.exception()
            if not isinstance(failure, Exception) or isinstance(
                failure, (WebSocketDisconnect, RuntimeError, OSError)
            ):
                continue  # ended above, or the client went away
            logger.error("socket %s failed", connection.socket_id, exc_info=failure)
            # An error of ours: the client reconnects (after a pause) and resumes.
            with contextlib.suppress(Exception):
                await websocket.close(1011, "internal error")
    finally:
        runtime.metrics.connections.dec()
        await connection.closed()


routes = [WebSocketRoute("/app/{key}", pusher_socket)]
