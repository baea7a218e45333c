"""The Pusher protocol (version 7) at the channels service: connection, channels and their
signatures, close codes, client events. The real-client scenarios are tests/pusher."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from websockets.exceptions import ConnectionClosed

from herald_channels.domain.broadcaster import KafkaBroadcaster
from herald_channels.domain.pg_directory import PgDirectory
from herald_common.auth import channel_auth
from herald_common.db import create_pool
from herald_common.kafka import create_producer
from herald_common.pusher.broadcast import terminate
from herald_common.settings import DatabaseSettings
from tests.conftest import HeraldEnv, channels_process
from tests.support.processes import ServiceProcess, free_port
from tests.support.pusher import KEY, PusherSocket

pytestmark = pytest.mark.integration


@contextmanager
def _running(env: HeraldEnv, name: str, extra: dict[str, str]) -> Iterator[int]:
    port = free_port()
    process: ServiceProcess = channels_process(env, port, extra, name=name).start()
    try:
        process.wait_http(f"http://127.0.0.1:{port}/readyz")
        yield port
    finally:
        process.stop()


@pytest.fixture(scope="module")
def channels(herald_env: HeraldEnv) -> Iterator[int]:
    """Sockets silent for 2 s are pinged, and closed 2 s later without a pong."""
    timing = {
        "HERALD_CHANNELS_ACTIVITY_TIMEOUT_SECONDS": "2",
        "HERALD_CHANNELS_PONG_TIMEOUT_SECONDS": "2",
    }
    with _running(herald_env, "channels", timing) as port:
        yield port


@pytest.fixture(scope="module")
def client_events(herald_env: HeraldEnv) -> Iterator[int]:
    flags = {"HERALD_CHANNELS_CLIENT_EVENTS": "true"}
    with _running(herald_env, "channels-client-events", flags) as port:
        yield port


async def _connected(port: int) -> PusherSocket:
    socket = await PusherSocket.open(port)
    await socket.established()
    return socket


async def test_connection_established_names_a_socket_id_and_the_activity_timeout(channels):
    socket = await PusherSocket.open(channels)
    data = await socket.established()
    assert re.fullmatch(r"\d+\.\d+", data["socket_id"])
    assert data["activity_timeout"] == 2
    await socket.close()


async def test_ping_is_answered_with_pong(channels):
    socket = await _connected(channels)
    await socket.send("pusher:ping", {})
    assert (await socket.next())["event"] == "pusher:pong"
    await socket.close()


async def test_an_unknown_app_key_is_closed_with_4001(channels):
    socket = await PusherSocket.open(channels, key="not-the-key")
    error = await socket.next()
    assert error["event"] == "pusher:error"
    assert error["data"]["code"] == 4001
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


async def test_a_socket_that_misses_the_pong_is_closed_with_4201(channels):
    socket = await _connected(channels)
    # Silent for the activity timeout (2 s): the server pings; no pong within 2 s: closed.
    assert (await socket.next(timeout=5))["event"] == "pusher:ping"
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4201


async def test_a_public_channel_needs_no_auth(channels):
    socket = await _connected(channels)
    await socket.subscribe("news")
    succeeded = await socket.next()
    assert (succeeded["event"], succeeded["channel"]) == (
        "pusher_internal:subscription_succeeded",
        "news",
    )
    await socket.close()


async def test_a_private_channel_with_a_good_signature_is_subscribed(channels, herald_env):
    socket = await _connected(channels)
    await socket.subscribe("private-orders", herald_env.channel_auth_secret)
    assert (await socket.next())["event"] == "pusher_internal:subscription_succeeded"
    await socket.close()


async def test_a_bad_signature_is_a_subscription_error_and_the_socket_stays(channels):
    socket = await _connected(channels)
    await socket.subscribe("private-orders", "not-the-secret")
    error = await socket.next()
    assert error["event"] == "pusher:subscription_error"
    assert error["data"]["status"] == 401
    await socket.send("pusher:ping", {})
    assert (await socket.next())["event"] == "pusher:pong"
    await socket.close()


async def test_a_bad_sign_in_closes_with_4009_never_42xx(channels):
    socket = await _connected(channels)
    await socket.send("pusher:signin", {"auth": "test-app-key:0000", "user_data": '{"id":"u1"}'})
    error = await socket.next()
    assert error["data"]["code"] == 4009
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4009


async def test_client_events_are_refused_with_4301_by_default(channels, herald_env):
    socket = await _connected(channels)
    await socket.subscribe("private-chat", herald_env.channel_auth_secret)
    await socket.next()
    await socket.send("client-typing", {"who": "me"}, channel="private-chat")
    error = await socket.next()
    assert (error["event"], error["data"]["code"]) == ("pusher:error", 4301)
    await socket.close()


async def test_client_events_reach_the_other_subscribers_when_enabled(client_events, herald_env):
    sender, receiver = await _connected(client_events), await _connected(client_events)
    for socket in (sender, receiver):
        await socket.subscribe("private-chat", herald_env.channel_auth_secret)
        await socket.next()
    await sender.send("client-typing", {"who": "me"}, channel="private-chat")
    got = await receiver.until("client-typing")
    assert json.loads(got["data"]) == {"who": "me"}
    await sender.send("pusher:ping", {})
    # The sender does not hear its own event: the next thing it hears is the pong.
    assert (await sender.next())["event"] == "pusher:pong"
    for socket in (sender, receiver):
        await socket.close()


async def test_client_events_go_to_private_and_presence_channels_only(client_events):
    socket = await _connected(client_events)
    await socket.subscribe("news")
    await socket.next()
    await socket.send("client-typing", {}, channel="news")
    error = await socket.next()
    assert error["data"]["code"] == 4301
    await socket.close()


async def test_client_events_above_ten_per_second_are_refused(client_events, herald_env):
    socket = await _connected(client_events)
    await socket.subscribe("private-burst", herald_env.channel_auth_secret)
    await socket.next()
    for n in range(11):
        await socket.send("client-n", {"n": n}, channel="private-burst")
    error = await socket.until("pusher:error")
    assert error["data"]["code"] == 4301
    assert "10 client events per second" in error["data"]["message"]
    await socket.close()


async def test_presence_members_are_counted_per_user(client_events, herald_env):
    # On the replica with Pusher's own activity timeout: this client does not answer pings.
    channels = client_events
    channel = "presence-room-1"

    def member(user: str) -> str:
        return json.dumps({"user_id": user, "user_info": {"name": user}})

    watcher = await _connected(channels)
    await watcher.subscribe(channel, herald_env.channel_auth_secret, member("watcher"))
    await watcher.next()
    first, second = await _connected(channels), await _connected(channels)
    await first.subscribe(channel, herald_env.channel_auth_secret, member("alice"))
    succeeded = await first.next()
    assert json.loads(succeeded["data"])["presence"]["count"] == 2
    added = await watcher.until("pusher_internal:member_added")
    assert json.loads(added["data"])["user_id"] == "alice"
    # Alice's second socket: no second member_added; leaving with one: no member_removed.
    await second.subscribe(channel, herald_env.channel_auth_secret, member("alice"))
    assert json.loads((await second.next())["data"])["presence"]["count"] == 2
    await second.close()
    await first.close()
    removed = await watcher.until("pusher_internal:member_removed")
    assert json.loads(removed["data"]) == {"user_id": "alice"}
    with pytest.raises(TimeoutError):
        await watcher.until("pusher_internal:member_added", timeout=1)
    await watcher.close()


async def test_an_unsupported_protocol_version_is_closed_with_4007(channels):
    socket = await PusherSocket.open(channels, protocol="4")
    error = await socket.next()
    assert error["data"]["code"] == 4007
    with pytest.raises(ConnectionClosed) as closed:
        await socket.next()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4007


async def test_a_replica_at_capacity_closes_the_next_socket_with_4100(herald_env):
    with _running(
        herald_env, "channels-capacity", {"HERALD_CHANNELS_MAX_CONNECTIONS": "1"}
    ) as port:
        first = await _connected(port)
        second = await PusherSocket.open(port)
        error = await second.next()
        assert error["data"]["code"] == 4100
        with pytest.raises(ConnectionClosed) as closed:
            await second.next()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4100
        await first.close()


async def test_sign_in_subscribes_the_socket_to_its_server_to_user_channel(channels, herald_env):
    socket = await _connected(channels)
    user_data = json.dumps({"id": "u-42"})
    auth = channel_auth.sign_user(KEY, herald_env.channel_auth_secret, socket.socket_id, user_data)
    await socket.send("pusher:signin", {"auth": auth, "user_data": user_data})
    assert (await socket.next())["event"] == "pusher:signin_success"
    subscribed = await socket.next()
    assert subscribed["event"] == "pusher_internal:subscription_succeeded"
    assert subscribed["channel"] == "#server-to-user-u-42"
    await socket.close()


async def test_terminating_a_user_closes_their_sockets_on_every_replica(
    channels, client_events, herald_env
):
    sockets = [await _connected(port) for port in (channels, client_events)]
    bystander = await _connected(client_events)
    user_data = json.dumps({"id": "to-terminate"})
    for socket in sockets:
        auth = channel_auth.sign_user(
            KEY, herald_env.channel_auth_secret, socket.socket_id, user_data
        )
        await socket.send("pusher:signin", {"auth": auth, "user_data": user_data})
        await socket.until("pusher_internal:subscription_succeeded")
    producer = create_producer(herald_env.kafka, client_id="test-terminate")
    await producer.start()
    try:
        await KafkaBroadcaster(producer, herald_env.topics.channel_broadcast).publish(
            terminate("to-terminate")
        )
    finally:
        await producer.stop()
    for socket in sockets:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.until("never", timeout=15)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4009
    await bystander.send("pusher:ping", {})
    assert (await bystander.next())["event"] == "pusher:pong"
    await bystander.close()


async def test_occupancy_and_members_are_counted_across_replicas(
    channels, client_events, herald_env
):
    pool = create_pool(DatabaseSettings(url=herald_env.database_url), name="test-directory")
    directory = PgDirectory(pool, "test")
    channel = f"presence-across-{secrets.token_hex(3)}"
    sockets = []
    for n, port in enumerate((channels, client_events, client_events)):
        socket = await _connected(port)
        # Two sockets of one user (on two replicas), one of another.
        member = json.dumps({"user_id": "u-1" if n < 2 else "u-2"})
        await socket.subscribe(channel, herald_env.channel_auth_secret, member)
        await socket.until("pusher_internal:subscription_succeeded")
        sockets.append(socket)
    async with pool:
        assert await directory.occupancy(channel) == 3
        assert sorted(m.user_id for m in await directory.members(channel)) == ["u-1", "u-2"]
        assert (await directory.occupied("presence-across-"))[channel] == 3
    for socket in sockets:
        await socket.close()
