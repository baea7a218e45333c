"""Managers' summaries of a revocation, against a real SMTP server: one per manager of an
employee whose voucher was voided, in-app and by email, and an email at most once even
when the revocation's completion is delivered again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from herald_common.events import REVOCATION_COMPLETED
from tests.integration.test_manager_summaries import (
    allocate,
    completion_record,
    consumed,
    load,
    query,
    redeliver,
    settled,
    team,
    unique,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

REVOCATION_SUMMARY = "herald.revocation.summary"


@pytest.fixture
async def api(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        yield client


def revocation_emails(smtp, allocation_id: str) -> list[Any]:
    return [
        r for r in smtp.messages(allocation_id) if r.message["X-Herald-Kind"] == REVOCATION_SUMMARY
    ]


def summary_states(database_url: str, revocation_id: str) -> dict[str, str]:
    rows = query(
        database_url,
        "SELECT manager_id, email_status FROM revocation_summaries WHERE revocation_id = %s",
        revocation_id,
    )
    return dict(rows)


async def revoke(api: httpx.AsyncClient, allocation_id: str, employee_ids: list[str]) -> str:
    response = await api.post(
        f"/v1/allocations/{allocation_id}:revoke",
        json={"reason": "Paid twice", "employee_ids": employee_ids},
    )
    assert response.status_code == 202, response.text
    revocation_id: str = response.json()["id"]
    return revocation_id


async def test_each_affected_manager_gets_one_summary_in_app_and_one_email(
    services, smtp, herald_env, api
):
    first_dept, other_dept = unique("RevSum"), unique("RevKept")
    boss, members = team(unique("RS"), first_dept, 3)
    other_boss, others = team(unique("RK"), other_dept, 2)
    await load(api, [boss, *members, other_boss, *others])
    allocation_id = await allocate(api, [first_dept, other_dept], name="Revocable bonus")
    await settled(herald_env.database_url, allocation_id, 2)

    revocation_id = await revoke(api, allocation_id, [members[0].id, members[1].id])

    def sent() -> dict[str, str] | None:
        states = summary_states(herald_env.database_url, revocation_id)
        return states if states and all(s == "sent" for s in states.values()) else None

    assert await eventually(sent, 60, "the revocation summary email") == {boss.id: "sent"}
    [email] = revocation_emails(smtp, allocation_id)
    assert email.rcpt_tos == [boss.email]
    assert "revoked from 2 people in your team" in email.message["Subject"]
    text = email.part("plain")
    assert "Paid twice" in text
    assert members[0].id in text
    assert members[1].id in text
    assert members[2].id not in text
    [(payload,)] = query(
        herald_env.database_url,
        "SELECT payload::text FROM notifications WHERE kind = %s AND revocation_id = %s",
        REVOCATION_SUMMARY,
        revocation_id,
    )
    assert '"team_revoked":2' in payload.replace(" ", "")

    # Delivered again: no second summary, no second email.
    record = await completion_record(
        herald_env, allocation_id, REVOCATION_COMPLETED, containing=revocation_id
    )
    tp, offset = await redeliver(herald_env, record)
    await consumed(herald_env, tp, offset)
    await asyncio.sleep(0.5)
    assert len(revocation_emails(smtp, allocation_id)) == 1
    assert query(
        herald_env.database_url,
        "SELECT count(*) FROM notifications WHERE kind = %s AND revocation_id = %s",
        REVOCATION_SUMMARY,
        revocation_id,
    ) == [(1,)]
