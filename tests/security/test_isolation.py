"""Who may see what: every forged or foreign attempt is refused, and no stream leaks.

The scene is set once for the module: streams stay open while an allocation and pushes
are in flight, and every attempt below runs against it, one case each. The last tests
wait for the deliveries, close the streams, and check every frame every stream received
against what its owner may see.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from herald_common.auth import channel_auth
from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENTS = ["SecA", "SecB", "SecC", "SecD"]
PEOPLE = [
    (f"S{n:05d}", f"Person {n}", DEPARTMENTS[n % 4], f"G{1 + n % 6}", date(2015 + n % 10, 1, 1))
    for n in range(1200)
]
DEPARTMENT_OF = {p[0]: p[2] for p in PEOPLE}
MANAGER_A = "S00000"  # in SecA
SAMPLE = [p[0] for p in PEOPLE[:60]]  # 15 per department
ATTACKER = "S00001"  # SecB employee
# A SecA employee who also gets a push of their own: private, so SecA's manager never sees it.
PRIVATE_TO = "S00004"
# Every targeted sample stream gets its events (so silence elsewhere is meaningful).
EXPECTED = {e: 1 for e in SAMPLE if DEPARTMENT_OF[e] in ("SecA", "SecB", "SecC")} | {PRIVATE_TO: 2}


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": "herald",
        "aud": "herald",
        "sub": "S00001",
        "roles": ["employee"],
        "exp": now + 600,
    }
    base.update(overrides)
    return base


def unsigned(payload: dict) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.fixture(scope="module")
async def directory(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=60, headers=herald_env.admin
    ) as api:
        response = await import_employees(api, employees_csv(PEOPLE))
        assert response.status_code == 200, response.text
    return PEOPLE


@dataclass
class Scene:
    """Open streams and work in flight, shared by every attempt of the module."""

    services: Any
    env: Any
    admin_api: httpx.AsyncClient
    sse: httpx.AsyncClient
    raw: httpx.AsyncClient
    streams: dict[str, StreamRecorder]
    manager: StreamRecorder
    allocation_id: str
    push_ids: list[str]
    _foreign_id: int | None = field(default=None, init=False)

    @property
    def stream_url(self) -> str:
        return f"{self.services.notifier_url}/v1/stream"

    @property
    def me(self) -> dict[str, str]:
        return self.env.bearer(ATTACKER, ["employee"])

    async def foreign_id(self) -> int:
        """Someone else's notification: the first of SecA's, once the allocation is done."""
        if self._foreign_id is None:
            await wait_until_finished(self.admin_api, self.allocation_id)
            with psycopg.connect(self.env.database_url) as conn:
                self._foreign_id = conn.execute(
                    "SELECT min(id) FROM notifications WHERE department = 'SecA'"
                ).fetchone()[0]
        return self._foreign_id


@pytest.fixture(scope="module")
async def scene(services, herald_env, directory) -> AsyncIterator[Scene]:
    stream_url = f"{services.notifier_url}/v1/stream"
    async with (
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=60, headers=herald_env.admin
        ) as admin_api,
        httpx.AsyncClient(timeout=None) as sse,
        httpx.AsyncClient(timeout=30) as raw,
    ):
        streams = {
            e: StreamRecorder(sse, stream_url, {}, headers=herald_env.bearer(e, ["employee"]))
            for e in SAMPLE
        }
        manager = StreamRecorder(
            sse,
            stream_url,
            {"channels": "private-department-SecA"},
            headers=herald_env.bearer(MANAGER_A, ["employee", "manager"], manages="SecA"),
        )
        await asyncio.gather(*(s.open() for s in [*streams.values(), manager]))
        assert all(s.status == 200 for s in [*streams.values(), manager])

        # Work in flight while the attempts run.
        allocation = await admin_api.post(
            "/v1/allocations",
            json={"voucher": voucher("Sec"), "criteria": {"departments": ["SecA"]}},
        )
        assert allocation.status_code == 202
        service_headers = herald_env.bearer("payroll", ["service"])
        pushes = [
            await admin_api.post(
                "/v1/notifications",
                headers=service_headers,
                json={
                    "title": "to B",
                    "target": {"employee_ids": [p for p in SAMPLE if DEPARTMENT_OF[p] == "SecB"]},
                },
            ),
            await admin_api.post(
                "/v1/notifications",
                headers=service_headers,
                json={"title": "to C", "target": {"department": "SecC"}},
            ),
            await admin_api.post(
                "/v1/notifications",
                headers=service_headers,
                json={"title": "to one in A", "target": {"employee_ids": [PRIVATE_TO]}},
            ),
        ]
        assert all(p.status_code == 202 for p in pushes)
        scene = Scene(
            services,
            herald_env,
            admin_api,
            sse,
            raw,
            streams,
            manager,
            allocation.json()["id"],
            [p.json()["id"] for p in pushes],
        )
        try:
            yield scene
        finally:
            await asyncio.gather(*(s.close() for s in [*streams.values(), manager]))


# --- Forged and foreign tokens: refused by the stream, the API and the ticket office --------


def _rs256_with_an_unknown_key(secret: str) -> str:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"})


FORGED: dict[str, Callable[[str], str]] = {
    "forged signature": lambda secret: jwt.encode(claims(), "not-the-secret-" + "x" * 32, "HS256"),
    "alg none": lambda secret: unsigned(claims()),
    "RS256 with an unknown key (HS/RS confusion)": _rs256_with_an_unknown_key,
    "HS256 signed with a public key": lambda secret: jwt.encode(
        claims(), b"-----BEGIN PUBLIC KEY-----" + b"y" * 64, "HS256"
    ),
    "expired": lambda secret: jwt.encode(claims(exp=int(time.time()) - 600), secret, "HS256"),
    "wrong aud": lambda secret: jwt.encode(claims(aud="other-app"), secret, "HS256"),
}


async def _present(scene: Scene, kind: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if kind == "stream":
        response = await scene.raw.get(scene.stream_url, headers=headers)
    elif kind == "api":
        url = f"{scene.services.allocation_url}/v1/notifications"
        response = await scene.raw.get(url, headers=headers)
    else:
        url = f"{scene.services.notifier_url}/v1/stream-tickets"
        response = await scene.raw.post(url, headers=headers)
    return response.status_code


@pytest.mark.parametrize("kind", ["stream", "api", "ticket"])
@pytest.mark.parametrize("forgery", list(FORGED))
async def test_a_forged_token_is_refused(scene: Scene, kind: str, forgery: str) -> None:
    token = FORGED[forgery](scene.env.auth_secret)
    assert await _present(scene, kind, token) == 401


# --- Everything else a caller may try, one case each -------------------------------------

Attempt = Callable[[Scene], Awaitable[int]]
ATTEMPTS: list = []


def attempt(name: str, expected: int) -> Callable[[Attempt], Attempt]:
    def register(run: Attempt) -> Attempt:
        ATTEMPTS.append(pytest.param(run, expected, id=name))
        return run

    return register


async def _channels(scene: Scene, channels: str, headers: dict[str, str]) -> int:
    params = {"channels": channels}
    return (await scene.raw.get(scene.stream_url, params=params, headers=headers)).status_code


@attempt("another employee's channel", 403)
async def _another_employees_channel(scene: Scene) -> int:
    return await _channels(scene, "private-employee-S00002", scene.me)


@attempt("another department's channel", 403)
async def _another_departments_channel(scene: Scene) -> int:
    return await _channels(scene, "private-department-SecB", scene.me)


@attempt("manager of A reads B", 403)
async def _manager_of_a_reads_b(scene: Scene) -> int:
    manager_a = scene.env.bearer(MANAGER_A, ["employee", "manager"], manages="SecA")
    return await _channels(scene, "private-department-SecB", manager_a)


@attempt("employee reads allocation progress", 403)
async def _employee_reads_allocation_progress(scene: Scene) -> int:
    return await _channels(scene, f"private-allocation-{scene.allocation_id}", scene.me)


async def _ticket(scene: Scene) -> str:
    url = f"{scene.services.notifier_url}/v1/stream-tickets"
    return (await scene.raw.post(url, headers=scene.me)).json()["ticket"]


async def _first_use(scene: Scene, ticket: str) -> int:
    async with scene.sse.stream("GET", scene.stream_url, params={"ticket": ticket}) as first:
        return first.status_code


@attempt("first use of a ticket", 200)
async def _first_use_of_a_ticket(scene: Scene) -> int:
    return await _first_use(scene, await _ticket(scene))


@attempt("reused ticket", 401)
async def _reused_ticket(scene: Scene) -> int:
    ticket = await _ticket(scene)
    assert await _first_use(scene, ticket) == 200
    return (await scene.raw.get(scene.stream_url, params={"ticket": ticket})).status_code


async def test_a_ticket_given_three_times_at_once_opens_one_stream(scene: Scene) -> None:
    """Opens arriving together are redeemed in one statement: the ticket still works once."""
    ticket = await _ticket(scene)
    statuses = await asyncio.gather(*(_first_use(scene, ticket) for _ in range(3)))
    assert sorted(statuses) == [200, 401, 401]


@attempt("expired ticket", 401)
async def _expired_ticket(scene: Scene) -> int:
    expired_ticket = secrets.token_urlsafe(32)
    with psycopg.connect(scene.env.database_url) as conn:
        conn.execute(
            "INSERT INTO stream_tickets (ticket_hash, subject, roles, expires_at)"
            " VALUES (%s, %s, %s, now() - interval '1 second')",
            (hashlib.sha256(expired_ticket.encode()).hexdigest(), ATTACKER, ["employee"]),
        )
    return (await scene.raw.get(scene.stream_url, params={"ticket": expired_ticket})).status_code


@attempt("forged channel-auth signature", 403)
async def _forged_channel_auth_signature(scene: Scene) -> int:
    fresh = await _ticket(scene)
    wrong_sig = channel_auth.sign(
        "test-app-key", "guessed-secret", fresh, "private-employee-S00001"
    )
    params = {"ticket": fresh, "channels": "private-employee-S00001", "channel_auth": wrong_sig}
    return (await scene.raw.get(scene.stream_url, params=params)).status_code


@attempt("channel-auth for another's channel", 403)
async def _channel_auth_for_anothers_channel(scene: Scene) -> int:
    return (
        await scene.raw.post(
            f"{scene.services.notifier_url}/v1/channel-auth",
            data={"socket_id": "1.2", "channel_name": "private-employee-S00002"},
            headers=scene.me,
        )
    ).status_code


@attempt("mark another's notification read", 404)
async def _mark_anothers_notification_read(scene: Scene) -> int:
    # Someone else's inbox item is "not found".
    url = f"{scene.services.allocation_url}/v1/notifications/{await scene.foreign_id()}/read"
    return (await scene.raw.post(url, headers=scene.me)).status_code


@attempt("employee allocates", 403)
async def _employee_allocates(scene: Scene) -> int:
    return (
        await scene.raw.post(
            f"{scene.services.allocation_url}/v1/allocations",
            headers=scene.me,
            json={"voucher": voucher(), "criteria": {"departments": ["SecA"]}},
        )
    ).status_code


@pytest.mark.parametrize(("run", "expected"), ATTEMPTS)
async def test_an_attempt_gets_its_expected_status(
    scene: Scene, run: Attempt, expected: int
) -> None:
    assert await run(scene) == expected


# --- What the streams received, once everything in flight is delivered -----------------


@pytest.fixture(scope="module")
async def prober(scene: Scene) -> AsyncIterator[StreamRecorder]:
    """A foreign Last-Event-ID: replay from just below someone else's notification."""
    headers = {**scene.me, "Last-Event-ID": str(await scene.foreign_id() - 1)}
    recorder = await StreamRecorder(scene.sse, scene.stream_url, {}, headers=headers).open()
    try:
        yield recorder
    finally:
        await recorder.close()


@pytest.fixture(scope="module")
async def delivered(scene: Scene, prober: StreamRecorder) -> Scene:
    """Every push completed and delivered, then every stream closed."""

    async def completed(push_id: str) -> None:
        while (await scene.admin_api.get(f"/v1/pushes/{push_id}")).json()["status"] != "completed":
            await asyncio.sleep(0.1)

    await asyncio.wait_for(asyncio.gather(*(completed(p) for p in scene.push_ids)), 60)
    await asyncio.gather(*(scene.streams[e].wait_for(n) for e, n in EXPECTED.items()))
    await scene.manager.wait_for(300)  # all of SecA's 300 vouchers
    await asyncio.sleep(1.0)
    all_streams = [*scene.streams.values(), scene.manager, prober]
    await asyncio.gather(*(s.close() for s in all_streams))
    return scene


def test_no_employee_stream_received_anothers_event(delivered: Scene) -> None:
    foreign = [
        (employee, f.id)
        for employee, stream in delivered.streams.items()
        for f in stream.notifications
        if f.json()["data"]["employee_id"] != employee
    ]
    assert foreign == [], f"{len(foreign)} foreign events delivered"


def test_the_manager_stream_received_only_its_department(delivered: Scene) -> None:
    foreign = [
        ("manager", f.id)
        for f in delivered.manager.notifications
        if f.json()["data"]["department"] != "SecA" and f.json()["data"]["employee_id"] != MANAGER_A
    ]
    assert foreign == [], f"{len(foreign)} foreign events delivered"


def _private_pushes(frames: list[Any], scene: Scene) -> list[str | None]:
    private_push = scene.push_ids[2]
    return [f.id for f in frames if f.json()["data"].get("push_id") == private_push]


def test_a_push_to_one_employee_reached_them(delivered: Scene) -> None:
    assert len(_private_pushes(delivered.streams[PRIVATE_TO].notifications, delivered)) == 1


def test_a_push_to_one_employee_is_not_seen_on_the_department_channel_live(
    delivered: Scene,
) -> None:
    assert _private_pushes(delivered.manager.notifications, delivered) == []


async def test_a_push_to_one_employee_is_not_replayed_on_the_department_channel(
    delivered: Scene,
) -> None:
    """The manager reconnects from before SecA's first event: the replay has the vouchers
    (visible to the department) and not the private push."""
    headers = {
        **delivered.env.bearer(MANAGER_A, ["employee", "manager"], manages="SecA"),
        "Last-Event-ID": str(await delivered.foreign_id() - 1),
    }
    async with httpx.AsyncClient(timeout=None) as sse:
        replay = await StreamRecorder(
            sse, delivered.stream_url, {"channels": "private-department-SecA"}, headers=headers
        ).open()
        try:
            await replay.wait_for(300)
            await replay.until(lambda: replay.unread is not None, what="the end of the replay")
        finally:
            await replay.close()
    assert _private_pushes(replay.notifications, delivered) == []
    assert {f.json()["data"]["department"] for f in replay.notifications} == {"SecA"}


def test_a_foreign_last_event_id_replays_only_the_callers_own(
    delivered: Scene, prober: StreamRecorder
) -> None:
    foreign = [
        ("prober", f.id)
        for f in prober.notifications
        if f.json()["data"]["employee_id"] != ATTACKER
    ]
    assert foreign == [], f"{len(foreign)} foreign events delivered"
    assert len(prober.notifications) == 1  # only the attacker's own push


def test_every_targeted_stream_got_exactly_its_event(delivered: Scene) -> None:
    assert all(len(delivered.streams[e].notifications) == n for e, n in EXPECTED.items())


def test_the_untargeted_department_heard_nothing(delivered: Scene) -> None:
    assert all(
        delivered.streams[e].notifications == [] for e in SAMPLE if DEPARTMENT_OF[e] == "SecD"
    )
