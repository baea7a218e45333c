"""RS256 keys from an identity provider's JWKS URL, on a running notifier.

The provider is a local server the test controls (tests/support/jwks.py): slow, failing,
down, or rotating its keys. Fetching the keys must never hold up the service's other
requests and streams; while the keys cannot be had, RS256 callers are told 503 (with
Retry-After), not 500; and an unknown `kid` fetches the keys once, not once per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import jwt
import pytest

from tests.conftest import notifier_process
from tests.support.api import add_people
from tests.support.jwks import JwksServer, new_key
from tests.support.processes import free_port
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "Jwks-Dept"
PEOPLE = [(f"JW{n:03d}", f"Person {n}", DEPARTMENT, "G1", date(2020, 1, 1)) for n in range(3)]
RS_EMPLOYEE, HS_EMPLOYEE = PEOPLE[0][0], PEOPLE[1][0]
# Short, so the tests can wait it out: no two fetches of the keys closer than this.
MIN_INTERVAL = 2.0
KEY = new_key()


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, PEOPLE)
    return PEOPLE


@pytest.fixture
async def jwks() -> AsyncIterator[JwksServer]:
    server = await JwksServer(free_port(), keys={"k1": KEY}).start()
    yield server
    await server.stop()


@pytest.fixture
def notifier(herald_env, jwks, people) -> Iterator[str]:
    """A notifier of its own, taking RS256 tokens with keys from `jwks` (and HS256 ones)."""
    port = free_port()
    keys_from_jwks = {
        "HERALD_AUTH_JWKS_URL": jwks.url,
        "HERALD_AUTH_JWKS_MIN_INTERVAL_SECONDS": str(MIN_INTERVAL),
        "HERALD_AUTH_JWKS_TIMEOUT_SECONDS": "10",
    }
    process = notifier_process(herald_env, port, keys_from_jwks, name="notifier-jwks").start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{url}/readyz")
        yield url
    finally:
        process.stop()


def rs256(kid: str, key=KEY, subject: str = RS_EMPLOYEE) -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": "herald",
        "aud": "herald",
        "sub": subject,
        "roles": ["employee"],
        "iat": now,
        "exp": now + 600,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, key, 'RS256', headers={'kid': kid})}"}


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def tickets(client: httpx.AsyncClient, headers: dict[str, str], n: int = 5):
    """`n` API requests at once (a stream ticket each), all needing the token's key."""
    return await asyncio.gather(
        *(client.post("/v1/stream-tickets", headers=headers) for _ in range(n))
    )


async def test_a_slow_key_fetch_holds_up_no_other_request_or_stream(notifier, jwks, herald_env):
    jwks.delay = 4.0
    async with httpx.AsyncClient(base_url=notifier, timeout=30) as client:
        waiting = StreamRecorder(client, "/v1/stream", {}, headers=rs256("k1"))
        rs_stream = asyncio.create_task(waiting.open(timeout=20))
        await until(lambda: jwks.requests == 1, 5, "the key fetch to start")

        started = time.monotonic()
        health = await client.get("/healthz")
        hs_headers = herald_env.bearer(HS_EMPLOYEE, ["employee"])
        hs_stream = await StreamRecorder(client, "/v1/stream", {}, headers=hs_headers).open()
        elapsed = time.monotonic() - started
        try:
            assert health.status_code == 200
            assert hs_stream.status == 200
            # Served while the fetch still runs, not after it.
            assert not rs_stream.done(), f"the RS256 stream was answered first ({elapsed:.1f} s)"
            assert elapsed < 2.0, f"other requests waited {elapsed:.1f} s for the key fetch"
            await rs_stream
            assert waiting.status == 200  # and the RS256 stream opens once the keys are in
            assert jwks.requests == 1
        finally:
            await hs_stream.close()
            await waiting.close()


async def test_rs256_callers_get_503_while_the_keys_cannot_be_fetched(notifier, jwks, herald_env):
    jwks.failing = True
    async with httpx.AsyncClient(base_url=notifier, timeout=30) as client:
        answers = await tickets(client, rs256("k1"))
        stream = await client.get("/v1/stream", headers=rs256("k1"))
        for answer in [*answers, stream]:
            assert answer.status_code == 503, answer.text
            assert "signing keys" in answer.json()["detail"]
            assert 1 <= int(answer.headers["retry-after"]) <= MIN_INTERVAL
        # The failure is remembered: one attempt for all of them.
        assert jwks.requests == 1
        # HS256 callers are not affected.
        hs = await client.post(
            "/v1/stream-tickets", headers=herald_env.bearer(HS_EMPLOYEE, ["employee"])
        )
        assert hs.status_code == 201

        await jwks.stop()  # down: the connection is refused
        await asyncio.sleep(MIN_INTERVAL + 0.2)
        down = await client.post("/v1/stream-tickets", headers=rs256("k1"))
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"]

        jwks.failing = False
        await jwks.start()
        await asyncio.sleep(MIN_INTERVAL + 0.2)
        back = await client.post("/v1/stream-tickets", headers=rs256("k1"))
        assert back.status_code == 201, back.text


async def test_an_unknown_kid_fetches_the_keys_once(notifier, jwks):
    async with httpx.AsyncClient(base_url=notifier, timeout=30) as client:
        first = await client.post("/v1/stream-tickets", headers=rs256("k1"))
        assert first.status_code == 201, first.text
        assert jwks.requests == 1

        # The provider rotates: a new key, used at once by the tokens it issues.
        rotated = new_key()
        jwks.keys["k2"] = rotated
        await asyncio.sleep(MIN_INTERVAL + 0.2)
        answers = await tickets(client, rs256("k2", rotated))
        assert [a.status_code for a in answers] == [201] * 5, answers[0].text
        assert jwks.requests == 2

        # A kid the provider does not have: refused, and no fetch per request.
        unknown = rs256("k9", new_key())
        answers = await tickets(client, unknown)
        assert [a.status_code for a in answers] == [401] * 5
        assert "no signing key matches" in answers[0].json()["detail"]
        assert jwks.requests == 2  # fetched just now; not again so soon
        await asyncio.sleep(MIN_INTERVAL + 0.2)
        answers = await tickets(client, unknown)
        assert [a.status_code for a in answers] == [401] * 5
        assert jwks.requests == 3  # one fetch for the five
        again = await tickets(client, unknown)
        assert [a.status_code for a in again] == [401] * 5
        assert jwks.requests == 3
