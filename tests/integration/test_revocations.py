"""Revoking a completed allocation: every API path and illegal transition, the vouchers
voided (never deleted, codes never reused), one notice per employee after the original,
live and in the inbox, and the original inbox item marked revoked."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from datetime import date
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.api import employees_csv, import_employees, voucher, wait_until_finished
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

# Its own admin: the allocation API limits each caller's allocations per minute, and
# this module allocates more than the session's shared admin has left.
ADMIN = "hr-admin-revoker"
DEPARTMENT = "Revoke-Dept"
PEOPLE = [(f"RV{n:03d}", f"Revokee {n}", DEPARTMENT, "G3", date(2018, 3, 1)) for n in range(8)]
IDS = [p[0] for p in PEOPLE]


@pytest.fixture(scope="module")
async def api(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.bearer(ADMIN, ["hr-admin"])
    ) as client:
        assert (await import_employees(client, employees_csv(PEOPLE))).status_code == 200
        yield client


async def _completed_allocation(api: httpx.AsyncClient, name: str) -> str:
    body = {"voucher": voucher(name), "criteria": {"departments": [DEPARTMENT]}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 202, response.text
    allocation_id: str = response.json()["id"]
    assert (await wait_until_finished(api, allocation_id))["status"] == "completed"
    return allocation_id


async def _revoke(
    api: httpx.AsyncClient, allocation_id: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await api.post(f"/v1/allocations/{allocation_id}:revoke", json=body, headers=headers)


async def _wait_revocation(api: httpx.AsyncClient, location: str) -> dict[str, Any]:
    async def poll() -> dict[str, Any]:
        while True:
            body: dict[str, Any] = (await api.get(location)).json()
            if body["status"] in ("completed", "failed"):
                return body
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), 60)


def _rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query, params).fetchall()


async def test_revoking_listed_employees_voids_their_vouchers_and_tells_them_once(
    api, services, herald_env
):
    allocation_id = await _completed_allocation(api, "Listed revoke")
    async with httpx.AsyncClient(timeout=None) as sse:
        stream = await StreamRecorder(
            sse,
            f"{services.notifier_url}/v1/stream",
            {},
            headers=herald_env.bearer("RV001", ["employee"]),
        ).open()
        response = await _revoke(
            api, allocation_id, {"reason": "Issued by mistake", "employee_ids": ["RV001", "RV002"]}
        )
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert accepted["status"] == "requested"
        assert accepted["employee_ids"] == ["RV001", "RV002"]
        location = response.headers["location"]
        assert location == f"/v1/allocations/{allocation_id}/revocations/{accepted['id']}"
        done = await _wait_revocation(api, location)
        assert done["status"] == "completed"
        assert done["revoked"] == done["published"] == 2
        [frame] = await stream.wait_for(1)
        await asyncio.sleep(0.5)
        assert len(stream.notifications) == 1
        await stream.close()
    assert frame.event == "herald.voucher.revoked"
    data = frame.json()["data"]
    assert data["allocation_id"] == allocation_id
    assert data["reason"] == "Issued by mistake"
    assert int(frame.id or 0) > data["revoked_notification_id"]
    voided = _rows(
        herald_env.database_url,
        "SELECT employee_id, revoked_by, revoke_reason FROM employee_vouchers"
        " WHERE allocation_id = %s AND revoked_at IS NOT NULL ORDER BY employee_id",
        allocation_id,
    )
    assert voided == [
        ("RV001", ADMIN, "Issued by mistake"),
        ("RV002", ADMIN, "Issued by mistake"),
    ]
    assert (await api.get(f"/v1/allocations/{allocation_id}")).json()["revoked"] == 2


async def test_revoking_everything_tells_every_recipient_after_their_voucher(api, herald_env):
    allocation_id = await _completed_allocation(api, "Whole revoke")
    response = await _revoke(api, allocation_id, {"reason": "Wrong rule"})
    assert response.status_code == 202, response.text
    done = await _wait_revocation(api, response.headers["location"])
    assert done["revoked"] == len(PEOPLE)
    pairs = _rows(
        herald_env.database_url,
        "SELECT ev.employee_id, ev.notification_id, n.id FROM employee_vouchers ev"
        " JOIN notifications n ON n.revocation_id = ev.revocation_id"
        " AND n.employee_id = ev.employee_id WHERE ev.allocation_id = %s",
        allocation_id,
    )
    assert sorted(p[0] for p in pairs) == IDS
    assert all(revoked_id > original for _, original, revoked_id in pairs)


async def test_the_original_inbox_item_shows_as_revoked(api, services, herald_env):
    allocation_id = await _completed_allocation(api, "Shown revoked")
    response = await _revoke(
        api, allocation_id, {"reason": "Budget cut", "employee_ids": ["RV003"]}
    )
    await _wait_revocation(api, response.headers["location"])
    async with httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer("RV003", ["employee"]),
    ) as inbox:
        items = (await inbox.get("/v1/notifications", params={"limit": 50})).json()["items"]
    mine = [i for i in items if i["data"].get("allocation_id") == allocation_id]
    by_kind = {i["kind"]: i for i in mine}
    assert set(by_kind) == {"herald.voucher.allocated", "herald.voucher.revoked"}
    assert by_kind["herald.voucher.allocated"]["revoked_at"] is not None
    assert by_kind["herald.voucher.allocated"]["revoke_reason"] == "Budget cut"
    assert by_kind["herald.voucher.revoked"]["id"] > by_kind["herald.voucher.allocated"]["id"]


async def test_revoking_twice_is_409_and_voids_nothing_more(api, herald_env):
    allocation_id = await _completed_allocation(api, "Twice")
    first = await _revoke(api, allocation_id, {"reason": "Once", "employee_ids": ["RV004"]})
    assert first.status_code == 202
    second = await _revoke(api, allocation_id, {"reason": "Again", "employee_ids": ["RV004"]})
    assert second.status_code == 409, second.text
    assert second.json()["detail"]["code"] == "already_revoked"
    await _wait_revocation(api, first.headers["location"])
    third = await _revoke(api, allocation_id, {"reason": "Later", "employee_ids": ["RV004"]})
    assert third.status_code == 409
    notices = _rows(
        herald_env.database_url,
        "SELECT count(*) FROM notifications WHERE employee_id = 'RV004'"
        " AND kind = 'herald.voucher.revoked' AND allocation_id = %s",
        allocation_id,
    )
    assert notices == [(1,)]


async def test_revoking_the_rest_after_some_voids_only_the_rest(api, herald_env):
    allocation_id = await _completed_allocation(api, "Rest")
    first = await _revoke(api, allocation_id, {"reason": "Some", "employee_ids": ["RV005"]})
    await _wait_revocation(api, first.headers["location"])
    partly = (await api.get(f"/v1/allocations/{allocation_id}")).json()
    assert (partly["status"], partly["revoked"]) == ("partly_revoked", 1)
    rest = await _revoke(api, allocation_id, {"reason": "All the rest"})
    assert rest.status_code == 202
    done = await _wait_revocation(api, rest.headers["location"])
    assert done["revoked"] == len(PEOPLE) - 1
    whole = (await api.get(f"/v1/allocations/{allocation_id}")).json()
    assert (whole["status"], whole["revoked"]) == ("revoked", len(PEOPLE))
    listed = (await api.get(f"/v1/allocations/{allocation_id}/revocations")).json()["items"]
    assert [r["reason"] for r in listed] == ["Some", "All the rest"]


async def test_revoking_a_wholly_revoked_allocation_is_409(api):
    allocation_id = await _completed_allocation(api, "Whole twice")
    first = await _revoke(api, allocation_id, {"reason": "All"})
    await _wait_revocation(api, first.headers["location"])
    again = await _revoke(api, allocation_id, {"reason": "All again"})
    assert again.status_code == 409, again.text
    assert again.json()["detail"]["code"] == "not_revocable"
    assert again.json()["detail"]["status"] == "revoked"
    assert "revoked already" in again.json()["detail"]["message"]


async def test_each_revocation_is_a_revoked_step_of_the_audit_trail(api, herald_env):
    allocation_id = await _completed_allocation(api, "Audited")
    first = await _revoke(api, allocation_id, {"reason": "One", "employee_ids": ["RV002"]})
    await _wait_revocation(api, first.headers["location"])
    second = await _revoke(api, allocation_id, {"reason": "The others"})
    await _wait_revocation(api, second.headers["location"])
    steps = _rows(
        herald_env.database_url,
        "SELECT actor, detail::text FROM audit_records WHERE allocation_id = %s"
        " AND step = 'revoked' ORDER BY seq",
        allocation_id,
    )
    assert [actor for actor, _ in steps] == [ADMIN, ADMIN]
    details = [json.loads(detail) for _, detail in steps]
    assert [(d["reason"], d["revoked"], d["employee_ids"]) for d in details] == [
        ("One", 1, ["RV002"]),
        ("The others", len(PEOPLE) - 1, "all"),
    ]
    assert [d["revocation_id"] for d in details] == [
        first.json()["id"],
        second.json()["id"],
    ]


async def test_same_idempotency_key_answers_the_first_revocation(api):
    allocation_id = await _completed_allocation(api, "Keyed")
    key = secrets.token_hex(8)
    body = {"reason": "Keyed", "employee_ids": ["RV006"]}
    first = await _revoke(api, allocation_id, body, key)
    again = await _revoke(api, allocation_id, body, key)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await _revoke(api, allocation_id, {"reason": "Other", "employee_ids": ["RV006"]}, key)
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_conflict"


async def test_unknown_employees_are_422_naming_them(api):
    allocation_id = await _completed_allocation(api, "Unknown")
    response = await _revoke(
        api, allocation_id, {"reason": "x", "employee_ids": ["RV000", "NOPE1", "NOPE2"]}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["type"] == "unknown_recipients"
    assert error["loc"] == ["body", "employee_ids"]
    assert error["input"] == ["NOPE1", "NOPE2"]
    assert "NOPE1" in error["msg"]


async def test_a_non_completed_allocation_is_409(api, herald_env):
    allocation_id = str(uuid.uuid4())
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "INSERT INTO allocations (id, request_hash, voucher, criteria, status)"
            " VALUES (%s, 'x', '{}', '{}', 'inserting')",
            (allocation_id,),
        )
    response = await _revoke(api, allocation_id, {"reason": "Too early"})
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "not_revocable"
    assert response.json()["detail"]["status"] == "inserting"


async def test_an_unknown_allocation_is_404(api):
    response = await _revoke(api, str(uuid.uuid4()), {"reason": "Nothing"})
    assert response.status_code == 404


async def test_a_reason_is_required(api):
    allocation_id = await _completed_allocation(api, "No reason")
    response = await _revoke(api, allocation_id, {"reason": "  "})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "reason"]


async def test_only_hr_admins_revoke(services, herald_env, api):
    allocation_id = await _completed_allocation(api, "Not yours")
    async with httpx.AsyncClient(
        base_url=services.allocation_url,
        timeout=30,
        headers=herald_env.bearer("RV007", ["employee", "manager"], manages=DEPARTMENT),
    ) as manager:
        response = await _revoke(manager, allocation_id, {"reason": "I am not HR"})
    assert response.status_code == 403


async def test_a_voucher_can_never_be_deleted_nor_its_code_changed(api, herald_env):
    allocation_id = await _completed_allocation(api, "Kept")
    with psycopg.connect(herald_env.database_url) as conn:
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("DELETE FROM employee_vouchers WHERE allocation_id = %s", (allocation_id,))
        conn.rollback()
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute(
                "UPDATE employee_vouchers SET code = code || 'X' WHERE allocation_id = %s",
                (allocation_id,),
            )


async def test_a_revoked_code_is_never_issued_again(api, herald_env):
    allocation_id = await _completed_allocation(api, "Reused")
    response = await _revoke(api, allocation_id, {"reason": "Gone", "employee_ids": ["RV000"]})
    await _wait_revocation(api, response.headers["location"])
    [(code,)] = _rows(
        herald_env.database_url,
        "SELECT code FROM employee_vouchers WHERE allocation_id = %s AND employee_id = 'RV000'",
        allocation_id,
    )
    with psycopg.connect(herald_env.database_url) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO employee_vouchers (allocation_id, employee_id, code, amount,"
                " currency, expires_on, notification_id) VALUES (%s, 'RV000', %s, 1, 'EUR',"
                " '2030-01-01', 0)",
                (str(uuid.uuid4()), code),
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("UPDATE employee_vouchers SET revoked_at = NULL WHERE code = %s", (code,))
