"""Lean inbox rows read back as the full rows did (docs/decisions/0066).

One allocation to a team, a push to its department, a revocation of one member's voucher,
and the managers' summaries of both. For every kind, the event each path gives is compared
with the JSON text the old full rows gave: the payload built as the old writers built it
(the whole dict, encoded at once), wrapped by `notification_event`, as the replay and the
live path always wrapped it:
- the live event, as published to Kafka;
- the stream's replay (`Last-Event-ID: 0`), an SSE `data:` line;
- the inbox API's item;
- the Pusher path: the channels service's replay of `private-employee-<id>`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, LiteralString

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer
from psycopg.rows import dict_row, tuple_row

from herald_allocation.api.schemas import InboxItem
from herald_common.events import (
    ALLOCATION_SUMMARY,
    NOTIFICATION_PUSHED,
    REVOCATION_SUMMARY,
    SOURCE_INSERTER,
    SOURCE_MAILER,
    SOURCE_PUSH,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
    json_text,
)
from herald_common.kafka import connection_options
from herald_common.notifications import notification_event
from tests.conftest import HeraldEnv, running_channels
from tests.integration.test_manager_summaries import allocate, load, query, team, unique
from tests.integration.test_revocation_summaries import revoke
from tests.support.api import wait_push
from tests.support.pusher import PusherSocket
from tests.support.sse import StreamRecorder
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

KINDS = (VOUCHER_ALLOCATED, NOTIFICATION_PUSHED, VOUCHER_REVOKED, ALLOCATION_SUMMARY,
         REVOCATION_SUMMARY)  # fmt: skip
SOURCES = {
    VOUCHER_ALLOCATED: SOURCE_INSERTER,
    NOTIFICATION_PUSHED: SOURCE_PUSH,
    VOUCHER_REVOKED: SOURCE_INSERTER,
    ALLOCATION_SUMMARY: SOURCE_MAILER,
    REVOCATION_SUMMARY: SOURCE_MAILER,
}
PATHS = ("kafka", "replay", "inbox", "pusher")


@dataclass
class Scenario:
    kinds: dict[int, str]  # notification id -> kind
    expected_events: dict[int, bytes]
    expected_items: dict[int, str]
    got: dict[str, dict[int, bytes | str]]  # path -> notification id -> what it gave


def _amount(voucher: dict[str, Any]) -> str:
    return f"{Decimal(str(voucher['amount'])):.2f}"


def _voucher(voucher: dict[str, Any], code: str) -> dict[str, Any]:
    """The `voucher` object of an allocated or a revoked voucher's payload."""
    keys = ("name", "code", "amount", "currency", "expires_on")
    values = (voucher["name"], code, _amount(voucher), voucher["currency"], voucher["expires_on"])
    return dict(zip(keys, values, strict=True))


def _voucher_payload(row: dict[str, Any], voucher: dict[str, Any], code: str) -> dict[str, Any]:
    amount = _amount(voucher)
    return {
        "allocation_id": str(row["allocation_id"]),
        "employee_id": row["employee_id"],
        "department": row["department"],
        "title": f"New voucher: {voucher['name']}",
        "body": f"You received {amount} {voucher['currency']}, valid until {voucher['expires_on']}.",
        "voucher": _voucher(voucher, code),
    }


def _push_payload(row: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "push_id": str(row["push_id"]),
        "employee_id": row["employee_id"],
        "department": row["department"],
        "title": request["title"],
        "body": request["body"],
        "data": request["data"],
    }
    if request.get("action_url") is not None:
        payload["action_url"] = request["action_url"]
    return payload


def _revoked_payload(
    row: dict[str, Any], voucher: dict[str, Any], reason: str, code: str, revoked_id: int
) -> dict[str, Any]:
    title = f"Voucher revoked: {voucher['name']}"
    body = (
        f"Your voucher of {_amount(voucher)} {voucher['currency']} is no longer valid."
        f" Reason: {reason}"
    )
    return {
        "revocation_id": str(row["revocation_id"]),
        "allocation_id": str(row["allocation_id"]),
        "revoked_notification_id": revoked_id,
        "employee_id": row["employee_id"],
        "department": row["department"],
        "title": title,
        "body": body,
        "reason": reason,
        "voucher": _voucher(voucher, code),
    }


def _one(conn: psycopg.Connection[Any], statement: LiteralString, *params: Any) -> Any:
    """The row of a query that has one, as a tuple."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(statement, params).fetchone()
    assert row is not None, (statement, params)
    return row


def _old_payloads(database_url: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each notification's payload as its old writer built it, from the request's values."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT id, kind, employee_id, department, allocation_id, push_id, revocation_id"
            " FROM notifications WHERE id = ANY(%s) ORDER BY id",
            (ids,),
        ).fetchall()
        payloads: dict[int, dict[str, Any]] = {}
        for row in rows:
            kind = row["kind"]
            if kind in (VOUCHER_ALLOCATED, VOUCHER_REVOKED):
                (voucher,) = _one(
                    conn, "SELECT voucher FROM allocations WHERE id = %s", row["allocation_id"]
                )
                code, voucher_notification = _one(
                    conn,
                    "SELECT code, notification_id FROM employee_vouchers"
                    " WHERE allocation_id = %s AND employee_id = %s",
                    row["allocation_id"],
                    row["employee_id"],
                )
                if kind == VOUCHER_ALLOCATED:
                    payloads[row["id"]] = _voucher_payload(row, voucher, code)
                else:
                    (reason,) = _one(
                        conn, "SELECT reason FROM revocations WHERE id = %s", row["revocation_id"]
                    )
                    payloads[row["id"]] = _revoked_payload(
                        row, voucher, reason, code, voucher_notification
                    )
            elif kind == NOTIFICATION_PUSHED:
                (request,) = _one(conn, "SELECT request FROM pushes WHERE id = %s", row["push_id"])
                payloads[row["id"]] = _push_payload(row, request)
            else:
                # Summaries keep their payload in full, as the mailer wrote it.
                (text,) = _one(
                    conn,
                    "SELECT payload::text FROM notifications_per_employee WHERE id = %s",
                    row["id"],
                )
                payloads[row["id"]] = json.loads(text)
    return payloads


def _expected(
    database_url: str, ids: list[int]
) -> tuple[dict[int, str], dict[int, bytes], dict[int, str]]:
    payloads = _old_payloads(database_url, ids)
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT n.id, n.kind, n.employee_id, n.created_at, n.read_at, n.archived_at,"
            " n.action_url, ev.revoked_at, ev.revoke_reason FROM notifications n"
            " LEFT JOIN employee_vouchers ev ON n.kind = %s AND ev.notification_id = n.id"
            " WHERE n.id = ANY(%s) ORDER BY n.id",
            (VOUCHER_ALLOCATED, ids),
        ).fetchall()
    kinds, events, items = {}, {}, {}
    for row in rows:
        nid, kind = row["id"], row["kind"]
        kinds[nid] = kind
        events[nid] = notification_event(
            notification_id=nid,
            kind=kind,
            source=SOURCES[kind],
            employee_id=row["employee_id"],
            created_at=row["created_at"],
            payload=payloads[nid],
        )
        item = InboxItem.from_row({**row, "payload": payloads[nid]})
        items[nid] = json_text(item.model_dump(mode="json"))
    return kinds, events, items


def _event_id(value: bytes | None) -> int | None:
    """The id of an event on a per-employee topic; None for what other tests of the session
    put there on purpose (poison records, values that are no event)."""
    try:
        return int(json.loads(value or b"")["id"])
    except (ValueError, KeyError, TypeError):
        return None


async def _from_kafka(env: HeraldEnv, ids: set[int]) -> dict[int, bytes]:
    """Every committed record of the per-employee topics carrying one of `ids`."""
    consumer = AIOKafkaConsumer(
        *env.topics.employee_topics(),
        **connection_options(env.kafka),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    found: dict[int, bytes] = {}
    try:
        deadline = time.monotonic() + 60
        while set(found) != ids and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event_id = _event_id(record.value)
                    if event_id in ids:
                        assert record.value is not None
                        found[event_id] = record.value
    finally:
        await consumer.stop()
    return found


async def _replayed(notifier_url: str, env: HeraldEnv, employee: str, count: int) -> list[bytes]:
    async with httpx.AsyncClient(timeout=None) as sse:
        headers = {**env.bearer(employee, ["employee"]), "Last-Event-ID": "0"}
        stream = await StreamRecorder(sse, f"{notifier_url}/v1/stream", {}, headers=headers).open()
        try:
            frames = await stream.wait_for(count)
        finally:
            await stream.close()
    return [frame.data.encode() for frame in frames]


async def _inbox(allocation_url: str, env: HeraldEnv, employee: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=allocation_url, timeout=30) as client:
        response = await client.get(
            "/v1/notifications", params={"limit": 200}, headers=env.bearer(employee, ["employee"])
        )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _pushered(port: int, env: HeraldEnv, employee: str, count: int) -> list[str]:
    socket = await PusherSocket.open(port)
    try:
        await socket.established()
        await socket.subscribe(
            f"private-employee-{employee}", env.channel_auth_secret, json.dumps({"last_id": 0})
        )
        await socket.until("pusher_internal:subscription_succeeded")
        got: list[str] = []
        while len(got) < count:
            message = await socket.next(timeout=20)
            if message["event"] in KINDS:
                got.append(message["data"])
        return got
    finally:
        await socket.close()


@pytest.fixture(scope="module")
def channels_port(herald_env: HeraldEnv) -> Iterator[int]:
    with running_channels(herald_env, 1, name="channels-contract") as ports:
        yield ports[0]


@pytest.fixture(scope="module")
async def scenario(services, herald_env, channels_port) -> Scenario:
    department = unique("Lean")
    boss, members = team(unique("LN"), department, 3)
    people = [boss.id, *(m.id for m in members)]
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        await load(api, [boss, *members])
        allocation_id = await allocate(api, [department], name='Lean \u00e9t\u00e9 "bonus"')
        response = await api.post(
            "/v1/notifications",
            json={
                "title": "Payslip \u2028 ready",
                "body": "Line one\nline two",
                "data": {"n": 1.5, "nested": {"z": [1, 2], "a": None}},
                "target": {"department": department},
                "action_url": "https://example.com/payslips/1",
            },
        )
        assert response.status_code == 202, response.text
        assert (await wait_push(api, response.json()["id"]))["status"] == "completed"
        revocation_id = await revoke(api, allocation_id, [members[0].id])

    def every_kind() -> list[int] | None:
        rows = query(
            herald_env.database_url,
            "SELECT id, kind FROM notifications WHERE employee_id = ANY(%s) ORDER BY id",
            people,
        )
        summaries = query(
            herald_env.database_url,
            "SELECT count(*) FROM notifications WHERE revocation_id = %s AND kind = %s",
            revocation_id,
            REVOCATION_SUMMARY,
        )
        done = {kind for _, kind in rows} == set(KINDS) and summaries == [(1,)]
        return [nid for nid, _ in rows] if done else None

    ids = await eventually(every_kind, timeout=60, what="every kind of notification")
    kinds, events, items = _expected(herald_env.database_url, ids)
    per_employee = {
        employee: [
            nid
            for (nid,) in query(
                herald_env.database_url,
                "SELECT id FROM notifications WHERE employee_id = %s ORDER BY id",
                employee,
            )
        ]
        for employee in people
    }
    got: dict[str, dict[int, bytes | str]] = {path: {} for path in PATHS}
    got["kafka"].update(await _from_kafka(herald_env, set(ids)))
    for employee, own in per_employee.items():
        replayed = await _replayed(services.notifier_url, herald_env, employee, len(own))
        got["replay"].update({int(json.loads(data)["id"]): data for data in replayed})
        for item in await _inbox(services.allocation_url, herald_env, employee):
            got["inbox"][item["id"]] = json_text(item)
        pushered = await _pushered(channels_port, herald_env, employee, len(own))
        got["pusher"].update({int(json.loads(data)["id"]): data.encode() for data in pushered})
    return Scenario(kinds, events, items, got)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", PATHS)
async def test_each_path_gives_each_kind_as_the_full_rows_did(
    scenario: Scenario, path: str, kind: str
) -> None:
    ids = sorted(nid for nid, k in scenario.kinds.items() if k == kind)
    assert ids, f"no {kind} notification was written"
    expected = scenario.expected_items if path == "inbox" else scenario.expected_events
    got = {nid: scenario.got[path].get(nid) for nid in ids}
    assert got == {nid: expected[nid] for nid in ids}
