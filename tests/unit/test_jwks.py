"""Signing keys from a JWKS URL: cached, fetched once at a time, failures remembered."""

from __future__ import annotations

import asyncio

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from jwt import PyJWKSet

from herald_common.auth.jwks import JwksPolicy, KeysUnavailable, RemoteJwks, fetch_jwks
from herald_common.auth.principal import Principal
from herald_common.auth.settings import AuthSettings
from herald_web.auth import Authenticator, authenticated
from tests.support.jwks import JwksServer, new_key, public_jwk
from tests.support.processes import free_port

URL = "https://idp.example/jwks.json"
K1, K2 = new_key(), new_key()


def numbers(key) -> object:
    return key.public_numbers()


class Provider:
    """A JWKS fetch that counts its calls, may fail, and may wait for a gate."""

    def __init__(self) -> None:
        self.keys = {"k1": K1}
        self.calls = 0
        self.failing = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, url: str, timeout: float) -> PyJWKSet:
        assert url == URL
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise httpx.ConnectError("connection refused")
        return PyJWKSet.from_dict(
            {"keys": [public_jwk(key, kid) for kid, key in self.keys.items()]}
        )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks(provider, clock) -> RemoteJwks:
    policy = JwksPolicy(max_age=300, min_interval=10, stale_for=3600)
    return RemoteJwks(URL, policy, fetch=provider, clock=clock)


async def test_callers_waiting_for_the_keys_share_one_fetch(jwks, provider):
    provider.gate = asyncio.Event()
    waiting = [asyncio.create_task(jwks.key("k1")) for _ in range(5)]
    await asyncio.sleep(0)
    provider.gate.set()
    keys = await asyncio.gather(*waiting)
    assert provider.calls == 1
    assert all(numbers(k) == numbers(K1.public_key()) for k in keys)
    await jwks.key("k1")
    assert provider.calls == 1  # cached


async def test_a_caller_that_gives_up_leaves_the_fetch_to_the_others(jwks, provider):
    provider.gate = asyncio.Event()
    quitter = asyncio.create_task(jwks.key("k1"))
    stayer = asyncio.create_task(jwks.key("k1"))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.sleep(0)
    provider.gate.set()
    assert numbers(await stayer) == numbers(K1.public_key())
    assert provider.calls == 1


async def test_old_keys_serve_while_fresh_ones_are_fetched(jwks, provider, clock):
    await jwks.key("k1")
    provider.keys = {"k2": K2}
    provider.gate = asyncio.Event()
    clock.now += 301
    # Answered at once with the keys at hand; the fetch runs behind.
    assert numbers(await jwks.key("k1")) == numbers(K1.public_key())
    await asyncio.sleep(0)
    assert provider.calls == 2
    provider.gate.set()
    await asyncio.sleep(0)
    assert numbers(await jwks.key("k2")) == numbers(K2.public_key())
    assert await jwks.key("k1") is None
    assert provider.calls == 2


async def test_an_unknown_kid_fetches_once_per_interval(jwks, provider, clock):
    await jwks.key("k1")
    provider.keys = {"k1": K1, "k2": K2}
    clock.now += 10
    assert numbers(await jwks.key("k2")) == numbers(K2.public_key())
    assert provider.calls == 2
    # A kid the provider lacks: one fetch to look, then none until the interval passed.
    clock.now += 10
    assert await jwks.key("nope") is None
    assert provider.calls == 3
    for _ in range(5):
        clock.now += 1
        assert await jwks.key("nope") is None
    assert provider.calls == 3
    clock.now += 5
    assert await jwks.key("other") is None
    assert provider.calls == 4


async def test_no_keys_yet_and_the_provider_down_is_unavailable(jwks, provider, clock):
    provider.failing = True
    with pytest.raises(KeysUnavailable) as first:
        await jwks.key("k1")
    assert first.value.retry_after == 10
    clock.now += 3.5
    with pytest.raises(KeysUnavailable) as second:
        await jwks.key("k1")
    assert second.value.retry_after == 7  # the failure is remembered, not retried
    assert "signing keys cannot be fetched" in str(second.value)
    assert provider.calls == 1
    provider.failing = False
    clock.now += 7
    assert numbers(await jwks.key("k1")) == numbers(K1.public_key())
    assert provider.calls == 2


async def test_known_keys_outlive_a_failing_provider_for_a_while(jwks, provider, clock):
    await jwks.key("k1")
    provider.failing = True
    clock.now += 301
    assert await jwks.key("k1") is not None  # starts a fetch, which fails
    await asyncio.sleep(0)
    # A kid it does not know: it cannot ask the provider, so it cannot tell.
    with pytest.raises(KeysUnavailable):
        await jwks.key("k2")
    clock.now += 3000
    assert await jwks.key("k1") is not None
    clock.now += 600  # past max_age + stale_for
    with pytest.raises(KeysUnavailable):
        await jwks.key("k1")


def test_only_http_urls():
    with pytest.raises(ValueError, match="http"):
        RemoteJwks("file:///etc/jwks.json", JwksPolicy())


async def test_fetch_reads_the_key_set_within_its_timeout():
    server = await JwksServer(free_port(), keys={"k1": K1}).start()
    try:
        keys = await fetch_jwks(server.url, within=5)
        assert [k.key_id for k in keys.keys] == ["k1"]
        server.delay = 2
        with pytest.raises(TimeoutError):
            await fetch_jwks(server.url, within=0.5)
        server.delay, server.failing = 0, True
        with pytest.raises(httpx.HTTPStatusError):
            await fetch_jwks(server.url, within=5)
    finally:
        await server.stop()


async def test_an_api_answers_503_with_retry_after_while_the_keys_cannot_be_fetched():
    app = FastAPI()

    @app.get("/me")
    async def me(principal: Principal = Depends(authenticated)) -> dict:  # noqa: B008
        return {"subject": principal.subject}

    down = f"http://127.0.0.1:{free_port()}/jwks.json"
    app.state.authenticator = Authenticator(
        AuthSettings(jwks_url=down, jwks_min_interval_seconds=30)
    )
    token = jwt.encode(
        {"iss": "herald", "aud": "herald", "sub": "E1", "roles": ["employee"], "exp": 2**40},
        K1,
        "RS256",
        headers={"kid": "k1"},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        answer = await c.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer.json() == {
        "detail": "the identity provider's signing keys cannot be fetched; retry later"
    }
    assert 29 <= int(answer.headers["retry-after"]) <= 30
