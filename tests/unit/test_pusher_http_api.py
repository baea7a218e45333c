"""The Pusher HTTP API's routes, served by uvicorn and driven by the real Python `pusher` SDK,
with the directory and the Kafka side replaced by recorders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence

import httpx
import pusher
import pytest
import uvicorn
from fastapi import FastAPI

from herald_channels.api import pusher_http
from herald_channels.domain.directory import Member
from herald_channels.domain.triggers import Trigger
from herald_common.auth.pusher_signature import signed_params
from herald_common.pusher.broadcast import ChannelBroadcast, terminate

APP_ID, KEY, SECRET = "42", "app-key", "app-secret"


class Directory:
    def __init__(self) -> None:
        self.sockets: dict[str, int] = {"presence-room": 3, "news": 2, "presence-hall": 1}
        self.users: dict[str, list[str]] = {"presence-room": ["u1", "u2"], "presence-hall": ["u3"]}

    async def occupancy(self, channel: str) -> int:
        return self.sockets.get(channel, 0)

    async def occupied(self, prefix: str = "") -> dict[str, int]:
        return {c: n for c, n in self.sockets.items() if c.startswith(prefix)}

    async def members(self, channel: str) -> Sequence[Member]:
        return [Member(user) for user in self.users.get(channel, [])]


class Broadcaster:
    def __init__(self) -> None:
        self.records: list[ChannelBroadcast] = []

    async def publish(self, record: ChannelBroadcast) -> None:
        self.records.append(record)


class Triggers:
    def __init__(self) -> None:
        self.published: list[Trigger] = []
        self.failing = False

    async def publish(self, triggers: Sequence[Trigger]) -> None:
        if self.failing:
            raise ConnectionError("Kafka is away")
        self.published.extend(triggers)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FastAPI, int]]:
    """The routes on a real server (its own thread and loop), and its port."""
    app = FastAPI()
    pusher_http.install(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield app, server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(10)


class Stack:
    """One test's app state: fresh recorders, a clock it may move, a client for raw requests."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self.directory = Directory()
        self.broadcaster = Broadcaster()
        self.triggers = Triggers()
        self.now = time.time()
        self.app, self.port = app, port
        app.state.pusher_app = pusher_http.PusherApp(
            APP_ID, KEY, SECRET, self.directory, self.broadcaster, self.triggers, lambda: self.now
        )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def sdk(self, app_id: str = APP_ID, key: str = KEY, secret: str = SECRET) -> pusher.Pusher:
        return pusher.Pusher(
            app_id=app_id, key=key, secret=secret, host="127.0.0.1", port=self.port, ssl=False
        )


@pytest.fixture
def stack(served: tuple[FastAPI, int]) -> Iterator[Stack]:
    made = Stack(*served)
    yield made
    made.client.close()


@pytest.fixture
def sdk(stack: Stack) -> pusher.Pusher:
    return stack.sdk()


def test_trigger_publishes_the_event(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.trigger(["news", "private-employee-E1"], "hello", {"a": 1}) == {}
    assert stack.triggers.published == [
        Trigger("hello", ("news", "private-employee-E1"), '{"a": 1}')
    ]


def test_trigger_with_socket_id_keeps_it(stack: Stack, sdk: pusher.Pusher) -> None:
    sdk.trigger("news", "hello", "x", socket_id="1.2")
    assert stack.triggers.published[0].socket_id == "1.2"


def test_batch_publishes_each_event(stack: Stack, sdk: pusher.Pusher) -> None:
    batch = [{"channel": f"c{i}", "name": "e", "data": {"i": i}} for i in range(3)]
    assert sdk.trigger_batch(batch) == {}
    assert [t.channels for t in stack.triggers.published] == [("c0",), ("c1",), ("c2",)]


def test_trigger_answers_info_when_asked(stack: Stack) -> None:
    body = json.dumps(
        {
            "name": "e",
            "channels": ["presence-room", "news"],
            "data": "",
            "info": "subscription_count,user_count",
        }
    ).encode()
    response = _post(stack, f"/apps/{APP_ID}/events", body)
    assert response.json() == {
        "channels": {
            "presence-room": {"subscription_count": 3, "user_count": 2},
            "news": {"subscription_count": 2},
        }
    }


def test_data_over_10_kb_is_413_and_publishes_nothing(stack: Stack) -> None:
    body = json.dumps({"name": "e", "channels": ["news"], "data": "x" * 10241}).encode()
    response = _post(stack, f"/apps/{APP_ID}/events", body)
    assert response.status_code == 413
    assert response.text.startswith("Payload too large")
    assert stack.triggers.published == []


def test_101_channels_is_400_through_the_sdks_error(stack: Stack, sdk: pusher.Pusher) -> None:
    # The SDK refuses 101 channels itself, so the request is built by hand.
    body = json.dumps({"name": "e", "channels": [f"c{i}" for i in range(101)], "data": ""})
    response = _post(stack, f"/apps/{APP_ID}/events", body.encode())
    assert (response.status_code, response.text) == (
        400,
        "Too many channels: 101 given, an event goes to at most 100",
    )


def test_a_batch_of_11_is_400(stack: Stack, sdk: pusher.Pusher) -> None:
    batch = [{"channel": "c", "name": "e", "data": "x"}] * 11
    with pytest.raises(pusher.errors.PusherBadRequest, match="Batch too large: 11 events"):
        sdk.trigger_batch(batch)


def test_kafka_away_is_503(stack: Stack, sdk: pusher.Pusher) -> None:
    stack.triggers.failing = True
    with pytest.raises(pusher.errors.PusherBadStatus, match=r"^503: The event could not be"):
        sdk.trigger("news", "e", "x")


def test_channels_lists_the_occupied_ones(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.channels_info() == {
        "channels": {"news": {}, "presence-hall": {}, "presence-room": {}}
    }


def test_channels_by_prefix_with_user_counts(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.channels_info(prefix_filter="presence-", attributes=["user_count"]) == {
        "channels": {"presence-hall": {"user_count": 1}, "presence-room": {"user_count": 2}}
    }


def test_user_counts_need_the_presence_prefix(stack: Stack, sdk: pusher.Pusher) -> None:
    with pytest.raises(pusher.errors.PusherBadRequest, match="filter_by_prefix=presence-"):
        sdk.channels_info(attributes=["user_count"])


def test_channel_info_of_an_occupied_presence_channel(stack: Stack, sdk: pusher.Pusher) -> None:
    info = sdk.channel_info("presence-room", ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}


def test_channel_info_of_an_empty_channel(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.channel_info("quiet") == {"occupied": False}


def test_user_count_of_a_public_channel_is_400(stack: Stack, sdk: pusher.Pusher) -> None:
    with pytest.raises(pusher.errors.PusherBadRequest, match="presence channels"):
        sdk.channel_info("news", ["user_count"])


def test_users_of_a_presence_channel(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.users_info("presence-room") == {"users": [{"id": "u1"}, {"id": "u2"}]}


def test_users_of_a_public_channel_is_400(stack: Stack, sdk: pusher.Pusher) -> None:
    with pytest.raises(pusher.errors.PusherBadRequest, match="presence channels"):
        sdk.users_info("news")


def test_terminate_as_the_sdk_sends_it(stack: Stack, sdk: pusher.Pusher) -> None:
    assert sdk.terminate_user_connections("u1") == {}
    assert stack.broadcaster.records == [terminate("u1")]


def test_terminate_with_the_app_prefix(stack: Stack) -> None:
    response = _post(stack, f"/apps/{APP_ID}/users/u2/terminate_connections", b"{}")
    assert (response.status_code, response.json()) == (200, {})
    assert stack.broadcaster.records == [terminate("u2")]


def _refused(stack: Stack, client: pusher.Pusher, error: type[Exception], match: str) -> None:
    """The SDK's trigger fails with `error` (its message matching) and nothing is sent."""
    with pytest.raises(error, match=match):
        client.trigger("news", "e", "x")
    assert stack.triggers.published == []


def test_a_wrong_secret_is_401(stack: Stack) -> None:
    _refused(stack, stack.sdk(secret="not-it"), pusher.errors.PusherBadAuth, r"^Invalid signature")


def test_an_unknown_key_is_401(stack: Stack) -> None:
    other = stack.sdk(key="other")
    with pytest.raises(pusher.errors.PusherBadAuth, match=r"^Unknown auth_key: other"):
        other.channels_info()


def test_an_expired_timestamp_is_401_with_pushers_message(stack: Stack, sdk: pusher.Pusher) -> None:
    stack.now += 601
    _refused(stack, sdk, pusher.errors.PusherBadAuth, r"^Timestamp expired: Given timestamp")


def test_an_unknown_app_id_is_404(stack: Stack) -> None:
    _refused(
        stack, stack.sdk(app_id="7"), pusher.errors.PusherBadStatus, r"^404: Unknown app_id: 7"
    )


def test_a_tampered_body_is_401(stack: Stack) -> None:
    body = json.dumps({"name": "e", "channels": ["news"], "data": "x"}).encode()
    params = signed_params(KEY, SECRET, "POST", f"/apps/{APP_ID}/events", body, int(stack.now))
    response = stack.client.post(
        f"/apps/{APP_ID}/events", params=params, content=body.replace(b'"x"', b'"y"')
    )
    assert response.status_code == 401
    assert "body_md5" in response.text
    assert stack.triggers.published == []


def test_an_unsigned_request_is_401(stack: Stack) -> None:
    response = stack.client.get(f"/apps/{APP_ID}/channels")
    assert response.status_code == 401
    assert response.text.startswith("Missing required parameter(s): auth_key")


def test_no_app_configured_is_404(stack: Stack) -> None:
    stack.app.state.pusher_app = None
    response = stack.client.get(f"/apps/{APP_ID}/channels")
    assert (response.status_code, response.text) == (
        404,
        "The Pusher HTTP API is not enabled on this server",
    )


def _post(stack: Stack, path: str, body: bytes) -> httpx.Response:
    params = signed_params(KEY, SECRET, "POST", path, body, int(stack.now))
    return stack.client.post(path, params=params, content=body)
