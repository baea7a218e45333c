"""Who may see what: every forged or foreign attempt is refused, and no stream leaks.

Streams stay open across the whole test while allocations and pushes are in flight; at
the end every frame every stream received is checked against what its owner may see.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from datetime import date

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


async def test_isolation_matrix(services, herald_env, directory):
    secret = herald_env.auth_secret
    stream_url = f"{services.notifier_url}/v1/stream"
    sample = [p[0] for p in PEOPLE[:60]]  # 15 per department
    attacker = "S00001"  # SecB employee
    async with (
        httpx.AsyncClient(
            base_url=services.allocation_url, timeout=60, headers=herald_env.admin
        ) as admin_api,
        httpx.AsyncClient(timeout=None) as sse,
        httpx.AsyncClient(timeout=30) as raw,
    ):
        streams = {
            e: StreamRecorder(sse, stream_url, {}, headers=herald_env.bearer(e, ["employee"]))
            for e in sample
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
                    "target": {"employee_ids": [p for p in sample if DEPARTMENT_OF[p] == "SecB"]},
                },
            ),
            await admin_api.post(
                "/v1/notifications",
                headers=service_headers,
                json={"title": "to C", "target": {"department": "SecC"}},
            ),
        ]
        assert all(p.status_code == 202 for p in pushes)

        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = {
            "forged signature": jwt.encode(claims(), "not-the-secret-" + "x" * 32, "HS256"),
            "alg none": unsigned(claims()),
            "RS256 with an unknown key (HS/RS confusion)": jwt.encode(
                claims(), rsa_key, "RS256", headers={"kid": "k1"}
            ),
            "HS256 signed with a public key": jwt.encode(
                claims(), b"-----BEGIN PUBLIC KEY-----" + b"y" * 64, "HS256"
            ),
            "expired": jwt.encode(claims(exp=int(time.time()) - 600), secret, "HS256"),
            "wrong aud": jwt.encode(claims(aud="other-app"), secret, "HS256"),
        }
        outcomes: dict[str, int] = {}
        for name, bad in forged.items():
            headers = {"Authorization": f"Bearer {bad}"}
            outcomes[f"stream: {name}"] = (await raw.get(stream_url, headers=headers)).status_code
            outcomes[f"api: {name}"] = (
                await raw.get(f"{services.allocation_url}/v1/notifications", headers=headers)
            ).status_code
            outcomes[f"ticket: {name}"] = (
                await raw.post(f"{services.notifier_url}/v1/stream-tickets", headers=headers)
            ).status_code

        me = herald_env.bearer(attacker, ["employee"])
        outcomes["another employee's channel"] = (
            await raw.get(stream_url, params={"channels": "private-employee-S00002"}, headers=me)
        ).status_code
        outcomes["another department's channel"] = (
            await raw.get(stream_url, params={"channels": "private-department-SecB"}, headers=me)
        ).status_code
        manager_a = herald_env.bearer(MANAGER_A, ["employee", "manager"], manages="SecA")
        outcomes["manager of A reads B"] = (
            await raw.get(
                stream_url, params={"channels": "private-department-SecB"}, headers=manager_a
            )
        ).status_code
        outcomes["employee reads allocation progress"] = (
            await raw.get(
                stream_url,
                params={"channels": f"private-allocation-{allocation.json()['id']}"},
                headers=me,
            )
        ).status_code

        ticket = (await raw.post(f"{services.notifier_url}/v1/stream-tickets", headers=me)).json()[
            "ticket"
        ]
        async with sse.stream("GET", stream_url, params={"ticket": ticket}) as first_use:
            outcomes["first use of a ticket"] = first_use.status_code
        outcomes["reused ticket"] = (
            await raw.get(stream_url, params={"ticket": ticket})
        ).status_code
        expired_ticket = secrets.token_urlsafe(32)
        with psycopg.connect(herald_env.database_url) as conn:
            conn.execute(
                "INSERT INTO stream_tickets (ticket_hash, subject, roles, expires_at)"
                " VALUES (%s, %s, %s, now() - interval '1 second')",
                (hashlib.sha256(expired_ticket.encode()).hexdigest(), attacker, ["employee"]),
            )
        outcomes["expired ticket"] = (
            await raw.get(stream_url, params={"ticket": expired_ticket})
        ).status_code

        fresh = (await raw.post(f"{services.notifier_url}/v1/stream-tickets", headers=me)).json()[
            "ticket"
        ]
        wrong_sig = channel_auth.sign(
            "test-app-key", "guessed-secret", fresh, "private-employee-S00001"
        )
        outcomes["forged channel-auth signature"] = (
            await raw.get(
                stream_url,
                params={
                    "ticket": fresh,
                    "channels": "private-employee-S00001",
                    "channel_auth": wrong_sig,
                },
            )
        ).status_code
        outcomes["channel-auth for another's channel"] = (
            await raw.post(
                f"{services.notifier_url}/v1/channel-auth",
                data={"socket_id": "1.2", "channel_name": "private-employee-S00002"},
                headers=me,
            )
        ).status_code

        # A foreign Last-Event-ID: start replay just below someone else's notification.
        await wait_until_finished(admin_api, allocation.json()["id"])
        with psycopg.connect(herald_env.database_url) as conn:
            foreign_id = conn.execute(
                "SELECT min(id) FROM notifications WHERE department = 'SecA'"
            ).fetchone()[0]
        prober = await StreamRecorder(
            sse, stream_url, {}, headers={**me, "Last-Event-ID": str(foreign_id - 1)}
        ).open()

        # Someone else's inbox item is "not found".
        outcomes["mark another's notification read"] = (
            await raw.post(
                f"{services.allocation_url}/v1/notifications/{foreign_id}/read", headers=me
            )
        ).status_code
        outcomes["employee allocates"] = (
            await raw.post(
                f"{services.allocation_url}/v1/allocations",
                headers=me,
                json={"voucher": voucher(), "criteria": {"departments": ["SecA"]}},
            )
        ).status_code

        async def completed(push_id: str) -> None:
            while (await admin_api.get(f"/v1/pushes/{push_id}")).json()["status"] != "completed":
                await asyncio.sleep(0.1)

        await asyncio.wait_for(asyncio.gather(*(completed(p.json()["id"]) for p in pushes)), 60)
        # Every targeted sample stream got its event (so silence elsewhere is meaningful).
        expected = {e: 1 for e in sample if DEPARTMENT_OF[e] in ("SecA", "SecB", "SecC")}
        await asyncio.gather(*(streams[e].wait_for(n) for e, n in expected.items()))
        await manager.wait_for(300)  # all of SecA's 300 vouchers
        await asyncio.sleep(1.0)
        all_streams = [*streams.values(), manager, prober]
        await asyncio.gather(*(s.close() for s in all_streams))

    expected_status = {
        **{f"{kind}: {name}": 401 for name in forged for kind in ("stream", "api", "ticket")},
        "another employee's channel": 403,
        "another department's channel": 403,
        "manager of A reads B": 403,
        "employee reads allocation progress": 403,
        "first use of a ticket": 200,
        "reused ticket": 401,
        "expired ticket": 401,
        "forged channel-auth signature": 403,
        "channel-auth for another's channel": 403,
        "mark another's notification read": 404,
        "employee allocates": 403,
    }
    assert outcomes == expected_status

    foreign = []
    for employee, stream in streams.items():
        foreign += [
            (employee, f.id)
            for f in stream.notifications
            if f.json()["data"]["employee_id"] != employee
        ]
    foreign += [
        ("manager", f.id)
        for f in manager.notifications
        if f.json()["data"]["department"] != "SecA" and f.json()["data"]["employee_id"] != MANAGER_A
    ]
    foreign += [
        ("prober", f.id)
        for f in prober.notifications
        if f.json()["data"]["employee_id"] != attacker
    ]
    assert foreign == [], f"{len(foreign)} foreign events delivered"
    assert len(prober.notifications) == 1  # only the attacker's own push
    assert all(len(streams[e].notifications) == n for e, n in expected.items())
    assert all(streams[e].notifications == [] for e in sample if DEPARTMENT_OF[e] == "SecD")
