"""One Pusher client connection: its protocol messages, subscriptions and sign-in.

The transport (api/websocket.py) feeds it the client's messages (`handle`) and writes what
it queues (`send`, `close`). Herald's own channels (private-employee-, private-department-,
private-allocation-) are replayed on subscribe from the cursor the signed channel_data
carries, or from the channel's watermark, then live; notifications are sent once each,
in id order (docs/decisions/0057).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from herald_channels.domain import protocol
from herald_channels.domain.directory import Broadcaster, Directory, Member
from herald_channels.domain.hub import Hub
from herald_channels.domain.inbox import ChannelInbox, replays
from herald_channels.domain.triggers import notification_message
from herald_channels.metrics import ChannelsMetrics
from herald_common.auth import channel_auth
from herald_common.auth.channels import (
    CHANNEL_PATTERN,
    MAX_CHANNEL_LENGTH,
    Channel,
    InvalidChannel,
    parse_channel,
)
from herald_common.pusher.broadcast import channel_event
from herald_common.stream_frames import UNREAD_COUNT

logger = logging.getLogger(__name__)

# A sentinel in the send queue: close with (code, reason) once what precedes it is written.
Close = tuple[int, str]


@dataclass(slots=True)
class ChannelsContext:
    """What every connection of this replica shares."""

    app_key: str
    app_secret: str
    activity_timeout: int
    client_events: bool
    client_events_per_second: int
    send_queue_size: int
    hub: Hub
    directory: Directory
    broadcaster: Broadcaster
    inbox: ChannelInbox
    metrics: ChannelsMetrics


@dataclass(slots=True)
class HeraldFeed:
    """A subscription to one of Herald's channels: what was sent, what waits for the replay."""

    channel: Channel
    last_sent: int = 0
    # Live notifications that arrived during the replay, sent after it (None: replay done).
    held: list[tuple[int, str]] | None = field(default_factory=list)


class Connection:
    def __init__(self, context: ChannelsContext, socket_id: str) -> None:
        self.context = context
        self.socket_id = socket_id
        self.user_id: str | None = None
        self.channels: dict[str, Member | None] = {}
        self.feeds: dict[str, HeraldFeed] = {}
        # Each presence channel's members as this socket knows them: a member_added that was
        # broadcast before the socket joined (and is in its member list already) is not
        # sent again, nor a member_removed of someone it never heard of.
        self.members: dict[str, set[str]] = {}
        self.outbox: deque[str | Close] = deque()
        self.wake = asyncio.Event()
        self.closing: Close | None = None
        self.last_seen = time.monotonic()
        # Watermark confirmation: the ids written before the ping in flight, by channel.
        self._unconfirmed: dict[str, int] = {}
        self._awaiting_pong: dict[str, int] | None = None
        self._client_events: deque[float] = deque()

    # -- writing --------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if self.closing is not None:
            return
        if len(self.outbox) >= self.context.send_queue_size:
            # Too far behind: reconnect and catch up from the inbox, not from memory.
            self.context.metrics.cut_offs.inc()
            self.close(protocol.Code.RECONNECT, "too far behind; reconnect")
            return
        self.outbox.append(text)
        self.wake.set()

    def close(self, code: int, reason: str) -> None:
        if self.closing is None:
            self.closing = (code, reason)
            self.outbox.append((code, reason))
            self.wake.set()

    def ping(self) -> None:
        self.send(protocol.message("pusher:ping", {}))

    # -- Herald's channels ------------------------------------------------------------------

    def offer(self, channel: str, notification_id: int, text: str) -> None:
        """A live notification of a Herald channel this socket holds."""
        feed = self.feeds.get(channel)
        if feed is None:
            return
        if feed.held is not None:
            feed.held.append((notification_id, text))
        elif notification_id > feed.last_sent:
            self._write_notification(feed, notification_id, text)

    def _write_notification(self, feed: HeraldFeed, notification_id: int, text: str) -> None:
        feed.last_sent = notification_id
        self.send(text)
        self._unconfirmed[feed.channel.name] = notification_id
        if self._awaiting_pong is None:
            # The client's pong proves it read everything written before this ping.
            self._awaiting_pong = self._unconfirmed
            self._unconfirmed = {}
            self.ping()

    async def _confirm(self) -> None:
        confirmed, self._awaiting_pong = self._awaiting_pong, None
        if not confirmed:
            return
        for channel, delivered in confirmed.items():
            await self.context.inbox.confirm(channel, delivered)
        if self._unconfirmed:
            self._awaiting_pong, self._unconfirmed = self._unconfirmed, {}
            self.ping()

    async def _replay(self, feed: HeraldFeed, cursor: int | None) -> None:
        inbox = self.context.inbox
        channel = feed.channel
        after = cursor if cursor is not None else await inbox.watermark(channel)
        until = await inbox.latest_id(channel)
        replayed = 0
        async for missed in inbox.after(channel, after, until):
            text = notification_message(missed.kind, missed.data, channel.name)
            self._write_notification(feed, missed.notification_id, text)
            replayed += 1
        self.context.metrics.deliveries.labels("replay").inc(replayed)
        held, feed.held = feed.held or [], None
        feed.last_sent = max(feed.last_sent, after)
        for notification_id, text in held:
            if notification_id > feed.last_sent:
                self._write_notification(feed, notification_id, text)
        if channel.kind == "employee":
            await self.send_unread(channel.name, channel.key)

    async def send_unread(self, channel: str, employee_id: str) -> None:
        unread = await self.context.inbox.unread(employee_id)
        self.send(protocol.message(UNREAD_COUNT, {"unread": unread}, channel))

    def presence_change(self, channel: str, added: bool, user_id: str, text: str) -> None:
        known = self.members.get(channel)
        if known is None or (user_id in known) == added:
            return
        if added:
            known.add(user_id)
        else:
            known.discard(user_id)
        self.send(text)

    # -- the client's messages ---------------------------------------------------------------

    async def handle(self, raw: str) -> None:
        self.last_seen = time.monotonic()
        try:
            message = json.loads(raw)
        except (ValueError, RecursionError):
            self.send(protocol.error(None, "a message is a JSON object"))
            return
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            self.send(protocol.error(None, "a message is a JSON object with an event"))
            return
        event: str = message["event"]
        data = message.get("data")
        if isinstance(data, str) and event.startswith("pusher:") and data.startswith("{"):
            # Some clients send pusher: events' data as a JSON string.
            try:
                data = json.loads(data)
            except (ValueError, RecursionError):
                data = None
        if event == "pusher:ping":
            self.send(protocol.message("pusher:pong", {}))
        elif event == "pusher:pong":
            await self._confirm()
        elif event == "pusher:subscribe":
            await self.subscribe(data if isinstance(data, dict) else {})
        elif event == "pusher:unsubscribe":
            channel = data.get("channel") if isinstance(data, dict) else None
            if isinstance(channel, str):
                await self.unsubscribe(channel)
        elif event == "pusher:signin":
            await self.sign_in(data if isinstance(data, dict) else {})
        elif event.startswith(protocol.CLIENT_EVENT_PREFIX):
            await self.client_event(event, message.get("channel"), data)

    async def subscribe(self, data: dict[str, Any]) -> None:
        name = data.get("channel")
        # After signing in, pusher-js subscribes to its user's own #server-to-user-<id>.
        own_user_channel = (
            self.user_id is not None and name == f"{protocol.SERVER_TO_USER_PREFIX}{self.user_id}"
        )
        if not isinstance(name, str) or (
            not own_user_channel
            and (not name or len(name) > MAX_CHANNEL_LENGTH or not CHANNEL_PATTERN.fullmatch(name))
        ):
            self.send(protocol.error(None, "channel names are 1-200 of [-a-zA-Z0-9_=@,.;]"))
            return
        if name in self.channels:
            self.send(protocol.message("pusher_internal:subscription_succeeded", {}, name))
            return
        member: Member | None = None
        cursor: int | None = None
        if protocol.needs_auth(name):
            channel_data = data.get("channel_data")
            auth = data.get("auth")
            if channel_data is not None and not isinstance(channel_data, str):
                channel_data = json.dumps(channel_data, separators=(",", ":"))
            if not isinstance(auth, str) or not channel_auth.verify(
                self.context.app_key,
                self.context.app_secret,
                self.socket_id,
                name,
                auth,
                channel_data,
            ):
                self.context.metrics.refused.labels("subscribe").inc()
                self.send(protocol.subscription_error(name, 401, "invalid signature"))
                return
            signed = _json_object(channel_data)
            if protocol.is_presence(name):
                user_id = signed.get("user_id") if signed is not None else None
                if isinstance(user_id, int):
                    user_id = str(user_id)
                if not isinstance(user_id, str) or not user_id:
                    self.send(protocol.subscription_error(name, 400, "channel_data needs user_id"))
                    return
                member = Member(user_id, signed.get("user_info") if signed else None)
            elif signed is not None:
                cursor = _cursor(signed.get("last_id"))
        await self._join(name, member, cursor)

    async def _join(self, name: str, member: Member | None, cursor: int | None) -> None:
        """Hold `name` (its name and signature checked): directory, presence, replay."""
        herald = _herald_channel(name)
        if herald is not None and replays(herald):
            self.feeds[name] = HeraldFeed(herald)
        self.channels[name] = member
        self.context.hub.join(name, self)
        first = await self.context.directory.subscribe(name, self.socket_id, member)
        if member is not None:
            members = await self.context.directory.members(name)
            self.members[name] = {m.user_id for m in members}
            presence = {
                "ids": [m.user_id for m in members],
                "hash": {m.user_id: m.user_info for m in members},
                "count": len(members),
            }
            self.send(
                protocol.message(
                    "pusher_internal:subscription_succeeded", {"presence": presence}, name
                )
            )
            if first:
                await self.context.broadcaster.publish(
                    channel_event(
                        [name],
                        protocol.MEMBER_ADDED,
                        json.dumps({"user_id": member.user_id, "user_info": member.user_info}),
                        exclude_socket_id=self.socket_id,
                    )
                )
        else:
            self.send(protocol.message("pusher_internal:subscription_succeeded", {}, name))
        feed = self.feeds.get(name)
        if feed is not None:
            await self._replay(feed, cursor)

    async def unsubscribe(self, name: str) -> None:
        if name not in self.channels:
            return
        del self.channels[name]
        self.feeds.pop(name, None)
        self.members.pop(name, None)
        self.context.hub.leave(name, self)
        left = await self.context.directory.unsubscribe(name, self.socket_id)
        if left is not None:
            await self.context.broadcaster.publish(
                channel_event(
                    [name],
                    protocol.MEMBER_REMOVED,
                    json.dumps({"user_id": left.user_id}),
                )
            )

    async def sign_in(self, data: dict[str, Any]) -> None:
        auth, user_data = data.get("auth"), data.get("user_data")
        user: dict[str, Any] | None = None
        if (
            isinstance(auth, str)
            and isinstance(user_data, str)
            and channel_auth.verify_user(
                self.context.app_key, self.context.app_secret, self.socket_id, user_data, auth
            )
        ):
            user = _json_object(user_data)
        user_id = user.get("id") if user is not None else None
        if isinstance(user_id, int):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id:
            # 4009, never 42xx: a client told to reconnect would sign in again in a loop.
            self.context.metrics.refused.labels("signin").inc()
            self.send(
                protocol.error(protocol.Code.UNAUTHORIZED, "sign-in refused: invalid signature")
            )
            self.close(protocol.Code.UNAUTHORIZED, "unauthorized")
            return
        self.user_id = user_id
        self.context.hub.signed_in(user_id, self)
        self.send(protocol.message("pusher:signin_success", {"user_data": user_data}))
        # Not a name a client may subscribe to itself: held for the signed-in user only.
        await self._join(f"{protocol.SERVER_TO_USER_PREFIX}{user_id}", None, None)

    async def client_event(self, event: str, channel: Any, data: Any) -> None:
        context = self.context
        if not context.client_events:
            self.send(protocol.error(protocol.Code.CLIENT_EVENT_REJECTED, "client events are off"))
            return
        if not isinstance(channel, str) or not protocol.allows_client_events(channel):
            self.send(
                protocol.error(
                    protocol.Code.CLIENT_EVENT_REJECTED,
                    "client events go to private and presence channels only",
                )
            )
            return
        if channel not in self.channels:
            self.send(
                protocol.error(protocol.Code.CLIENT_EVENT_REJECTED, f"not subscribed to {channel}")
            )
            return
        now = time.monotonic()
        window = self._client_events
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= context.client_events_per_second:
            self.send(
                protocol.error(
                    protocol.Code.CLIENT_EVENT_REJECTED,
                    f"over {context.client_events_per_second} client events per second",
                )
            )
            return
        window.append(now)
        member = self.channels.get(channel)
        await context.broadcaster.publish(
            channel_event(
                [channel],
                event,
                data if isinstance(data, str) else json.dumps(data),
                exclude_socket_id=self.socket_id,
                user_id=member.user_id if member is not None else None,
            )
        )

    async def closed(self) -> None:
        """The socket is gone: leave every channel (presence members leave with their last)."""
        for name in list(self.channels):
            try:
                await self.unsubscribe(name)
            except Exception:
                logger.exception("leaving %s failed", name)
        self.context.hub.remove(self)


def _json_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _cursor(value: Any) -> int | None:
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def _herald_channel(name: str) -> Channel | None:
    try:
        return parse_channel(name)
    except InvalidChannel:
        return None
