"""Poison on every consumed topic: each bad record is dead-lettered once, with its reason,
and the consumer goes on (the valid record sent right after it, on the same partition, is
handled).

Every topic of the catalogue is consumed by some service: the inserter reads the three
request topics, the notifiers the per-employee topics and the completions, the mailer the
completions too, and every channels replica the broadcasts, the per-employee topics and the
completions. Each gets six kinds of poison (`KINDS`); a failure names topic x kind. Two
channels replicas run beside the session's notifier throughout, so "once" is counted
across both replicas and both services.

Nothing here kills a process, so these run against the shared stack and the session's
services (the integration tests' fixtures): the cheapest place that is still the real thing.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from herald_channels.domain.protocol import MEMBER_ADDED
from herald_common.catalogue import (
    ALLOCATION_COMPLETED,
    ALLOCATION_REQUESTED,
    CHANNEL_BROADCAST,
    NOTIFICATION_PUSHED,
    NOTIFICATION_REQUESTED,
    REVOCATION_REQUESTED,
    TOPICS,
    VOUCHER_ALLOCATED,
    VOUCHER_REVOKED,
)
from herald_common.events import SOURCE_INSERTER, encode, envelope
from herald_common.pusher.broadcast import channel_event, to_record
from herald_common.routing import ALLOCATION_ID_HEADER, EMPLOYEE_ID_HEADER, NOTIFICATION_ID_HEADER
from herald_common.settings import KafkaSettings
from tests.conftest import HeraldEnv, running_channels
from tests.support.api import add_people, voucher, wait_until_finished
from tests.support.dead_letters import dead_letters, every_dead_letter
from tests.support.pusher import PusherSocket
from tests.support.sse import StreamRecorder
from tests.support.voucher_events import new_employee
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.poison]

KINDS = (
    "unparseable",
    "wrong-schema",
    "wrong-specversion",
    "oversized",
    "nonsense-headers",
    "surprising-exception",
)
# Larger than any service reads (HERALD_KAFKA_MAX_RECORD_BYTES, 1 MiB), smaller than the
# broker's limit once compressed: what a producer with compression can hand a consumer.
OVERSIZED_BYTES = 3 * 1024 * 1024
MAX_RECORD_BYTES = KafkaSettings().max_record_bytes
DEPARTMENT = "Poison-Matrix"

Headers = list[tuple[str, bytes | None]]


@dataclass
class Poison:
    value: bytes | None
    headers: Headers = field(default_factory=list)
    # What the dead letter's reason must contain.
    reason: str = ""


@dataclass
class Case:
    """One topic x kind: what to send, and how to tell the record after it was handled."""

    topic: str
    key: bytes
    poison: Poison
    good: tuple[bytes, Headers]
    handled: Callable[[], Awaitable[None]]


def now() -> str:
    return datetime.now(UTC).isoformat()


def cloud_event(kind: str, data: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "/poison/test",
        "type": kind,
        "time": now(),
        "data": data,
        **attributes,
    }


def padded(event: dict[str, Any]) -> bytes:
    """The event, valid, with an extension attribute that makes it OVERSIZED_BYTES long."""
    return json.dumps({**event, "padding": "x" * OVERSIZED_BYTES}).encode()


# Herald's routing headers given twice (which one is meant?), one of them without a value
# and one that is no UTF-8: what a confused producer writes.
NONSENSE_HEADERS: Headers = [
    (NOTIFICATION_ID_HEADER, b"7"),
    (NOTIFICATION_ID_HEADER, b"8"),
    (EMPLOYEE_ID_HEADER, b"\xff\xfe"),
    ("herald.previous-id", None),
]
UNPARSEABLE = b'\xff\xfe{"specversion": "1.0", "id": '


def request_case(
    topic: str, poison: Poison, good: dict[str, Any], handled: Callable[[], Awaitable[None]]
) -> Case:
    """A case on a request topic: one key for both records, no headers on the valid one."""
    return Case(topic, b"poison-matrix", poison, (json.dumps(good).encode(), []), handled)


def value_poisons(valid: dict[str, Any], wrong_data: dict[str, Any]) -> dict[str, Poison]:
    """The kinds that are about the value, from a record that would otherwise be handled."""
    return {
        "unparseable": Poison(UNPARSEABLE, reason="JSON"),
        "wrong-schema": Poison(json.dumps({**valid, "data": wrong_data}).encode(), reason="data"),
        "wrong-specversion": Poison(
            json.dumps({**valid, "specversion": "0.3"}).encode(), reason="specversion"
        ),
        "oversized": Poison(
            padded(valid), reason=f"this service accepts at most {MAX_RECORD_BYTES:,}"
        ),
        "nonsense-headers": Poison(
            json.dumps(valid).encode(), NONSENSE_HEADERS, reason="appears more than once"
        ),
    }


class Matrix:
    """Builds each case; holds the session's services and the employees the cases use."""

    def __init__(
        self, services: Any, env: Any, sse: httpx.AsyncClient, channels: tuple[int, ...]
    ) -> None:
        self.services = services
        self.env = env
        self.sse = sse
        self.channels = channels
        self.streams: list[StreamRecorder] = []
        self.sockets: list[PusherSocket] = []

    async def close(self) -> None:
        for stream in self.streams:
            await stream.close()
        for socket in self.sockets:
            await socket.close()

    def api(self, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.services.allocation_url, timeout=30, headers=headers)

    async def stream(self, params: dict[str, str], headers: dict[str, str]) -> StreamRecorder:
        recorder = await StreamRecorder(
            self.sse, f"{self.services.notifier_url}/v1/stream", params, headers=headers
        ).open()
        self.streams.append(recorder)
        return recorder

    async def case(self, topic_name: str, kind: str) -> Case:
        builder = {
            ALLOCATION_REQUESTED: self.allocation_requested,
            NOTIFICATION_REQUESTED: self.notification_requested,
            VOUCHER_ALLOCATED: self.per_employee,
            NOTIFICATION_PUSHED: self.per_employee,
            ALLOCATION_COMPLETED: self.allocation_completed,
            REVOCATION_REQUESTED: self.revocation_requested,
            VOUCHER_REVOKED: self.per_employee,
            CHANNEL_BROADCAST: self.channel_broadcast,
        }[topic_name]
        return await builder(topic_name, kind)

    async def department_of_one(self, prefix: str) -> str:
        """A new department in the directory, with one employee in it."""
        department = f"{DEPARTMENT}-{prefix}-{secrets.token_hex(2)}"
        await add_people(
            self.services.allocation_url,
            self.env.admin,
            [
                (
                    f"{prefix}-{secrets.token_hex(3)}",
                    "Poison reader",
                    department,
                    "G3",
                    date(2019, 1, 1),
                )
            ],
        )
        return department

    # The inserter's topics. -------------------------------------------------------------

    async def allocation_requested(self, topic_name: str, kind: str) -> Case:
        department = await self.department_of_one("PM")

        def request(allocation_id: uuid.UUID, **data: Any) -> dict[str, Any]:
            return cloud_event(
                ALLOCATION_REQUESTED,
                {
                    "allocation_id": str(allocation_id),
                    "voucher": voucher("Poison bonus"),
                    "criteria": {"departments": [department]},
                    "requested_at": now(),
                    **data,
                },
            )

        poisons = value_poisons(request(uuid.uuid4()), {"allocation_id": "nope"})
        # Valid by the contract: "5 years of experience" as of a request made in the year 3,
        # which no calendar can count back from (a ValueError in the rule's query). The
        # worker tries, fails the same way each time, marks it failed and dead-letters it.
        poisons["surprising-exception"] = Poison(
            json.dumps(
                request(
                    uuid.uuid4(),
                    criteria={"departments": [department], "min_years_experience": 5},
                    requested_at="0003-01-01T00:00:00+00:00",
                )
            ).encode(),
            reason="ValueError: year -2 is out of range",
        )
        good_id = uuid.uuid4()

        async def handled() -> None:
            async with self.api(self.env.admin) as api:
                final = await wait_until_finished(api, str(good_id), timeout=120)
            assert final["status"] == "completed", final
            assert final["counts"]["inserted"] == 1

        return request_case(
            self.env.topics.allocation_requested, poisons[kind], request(good_id), handled
        )

    async def notification_requested(self, topic_name: str, kind: str) -> Case:
        employee = f"PN-{secrets.token_hex(3)}"
        await add_people(
            self.services.allocation_url,
            self.env.admin,
            [(employee, "Poison reader", DEPARTMENT, "G3", date(2019, 1, 1))],
        )

        def request(push_id: uuid.UUID, requested_by: str = "poison-matrix") -> dict[str, Any]:
            return cloud_event(
                NOTIFICATION_REQUESTED,
                {
                    "push_id": str(push_id),
                    "requested_by": requested_by,
                    "title": "Poison test",
                    "body": "after the poison",
                    "target": {"employee_ids": [employee]},
                    "requested_at": now(),
                },
            )

        poisons = value_poisons(request(uuid.uuid4()), {"push_id": "nope"})
        # Valid by the contract, but PostgreSQL text cannot hold U+0000: the write of the
        # push's row raises (DataError) on every try; it is failed and dead-lettered.
        poisons["surprising-exception"] = Poison(
            json.dumps(request(uuid.uuid4(), "payroll\u0000")).encode(), reason="NUL"
        )
        good_id = uuid.uuid4()

        async def handled() -> None:
            async def finished() -> dict[str, Any] | None:
                # 404 until the worker records a push that came straight from Kafka.
                response = await api.get(f"/v1/pushes/{good_id}")
                body: dict[str, Any] = response.json()
                done = response.status_code == 200 and body["status"] != "accepted"
                return body if done and body["status"] in ("completed", "failed") else None

            async with self.api(self.env.admin) as api:
                final = await eventually(finished, timeout=120, what="the valid push")
            assert final["status"] == "completed", final

        return request_case(
            self.env.topics.notification_requested, poisons[kind], request(good_id), handled
        )

    async def revocation_requested(self, topic_name: str, kind: str) -> Case:
        department = await self.department_of_one("PR")
        # Its own admin: each caller may allocate only so often a minute.
        admin = self.env.bearer(f"hr-admin-poison-{secrets.token_hex(3)}", ["hr-admin"])
        async with self.api(admin) as api:
            body = {"voucher": voucher("Poison revoke"), "criteria": {"departments": [department]}}
            response = await api.post("/v1/allocations", json=body)
            assert response.status_code == 202, response.text
            allocation_id: str = response.json()["id"]
            assert (await wait_until_finished(api, allocation_id))["status"] == "completed"

        def request(revocation_id: uuid.UUID, reason: str = "poison test") -> dict[str, Any]:
            revoke = {"allocation_id": allocation_id, "requested_by": "poison-matrix"}
            data = {**revoke, "revocation_id": str(revocation_id), "reason": reason}
            return cloud_event(REVOCATION_REQUESTED, {**data, "requested_at": now()})

        poisons = value_poisons(request(uuid.uuid4()), {"revocation_id": "nope"})
        # Valid by the contract, but PostgreSQL text cannot hold U+0000: writing the
        # revocation's row raises (DataError) on every try; it is failed and dead-lettered.
        poisons["surprising-exception"] = Poison(
            json.dumps(request(uuid.uuid4(), "payroll\u0000")).encode(), reason="NUL"
        )

        async def handled() -> None:
            async def revoked() -> dict[str, Any] | None:
                body: dict[str, Any] = (await api.get(f"/v1/allocations/{allocation_id}")).json()
                return body if body["status"] == "revoked" else None

            async with self.api(admin) as api:
                await eventually(revoked, timeout=120, what="the valid revocation")
            with psycopg.connect(self.env.database_url) as conn:
                valid = conn.execute(
                    "SELECT count(*) FROM employee_vouchers"
                    " WHERE allocation_id = %s AND revoked_at IS NULL",
                    (allocation_id,),
                ).fetchone()
            assert valid == (0,)

        return request_case(
            self.env.topics.revocation_requested, poisons[kind], request(uuid.uuid4()), handled
        )

    # The per-employee topics: the notifiers' and the channels replicas'. -----------------

    async def per_employee(self, topic_name: str, kind: str) -> Case:
        department = DEPARTMENT
        employee = new_employee(self.env, "PE", department)
        stream = await self.stream({}, self.env.bearer(employee, ["employee"]))
        topic = self.env.topics.name(next(t for t in TOPICS if t.name == topic_name))
        allocation_id = uuid.uuid4()

        def event(event_id: str) -> dict[str, Any]:
            data: dict[str, Any] = {
                "employee_id": employee,
                "department": department,
                "title": "Poison test",
                "body": "after the poison",
            }
            if topic_name == VOUCHER_ALLOCATED:
                data["allocation_id"] = str(allocation_id)
            return envelope(
                event_id=event_id, source=SOURCE_INSERTER, event_type=topic_name, data=data
            )

        # Without routing headers a notifier decodes the whole event (other writers' path),
        # so each of these is addressed to the employee and would reach their stream.
        poisons = value_poisons(event("2"), {"department": department})
        # An id of 5,000 digits: digits, yet more than int() converts (a ValueError that no
        # decoder caught, and that ended the consumer's run with the rest of its fetch).
        poisons["surprising-exception"] = Poison(encode(event("9" * 5000)), reason="ValueError")
        routing: Headers = [
            (NOTIFICATION_ID_HEADER, b"1"),
            (EMPLOYEE_ID_HEADER, employee.encode()),
            ("herald.previous-id", b"0"),
        ]
        if topic_name == VOUCHER_ALLOCATED:
            routing.append((ALLOCATION_ID_HEADER, str(allocation_id).encode()))

        async def handled() -> None:
            await stream.until(
                lambda: [f.id for f in stream.notifications] == ["1"],
                timeout=60,
                what="the valid event on the employee's stream",
            )

        return Case(
            topic, department.encode(), poisons[kind], (encode(event("1")), routing), handled
        )

    # The channels replicas' broadcasts. ------------------------------------------------

    async def channel_broadcast(self, topic_name: str, kind: str) -> Case:
        channel = f"poison-{secrets.token_hex(4)}"
        # On the second replica: the record is read by both, and handled where the socket is.
        socket = await PusherSocket.open(self.channels[-1])
        self.sockets.append(socket)
        await socket.established()
        await socket.subscribe(channel)
        await socket.until("pusher_internal:subscription_succeeded")

        def broadcast(event: str, data: str) -> bytes:
            return to_record(channel_event([channel], event, data))[1]

        valid = json.loads(broadcast("poison-test", '{"n": 0}'))
        poisons = value_poisons(valid, {"kind": "bogus"})
        # Valid by the broadcast's schema (data is any string), but a presence change
        # without the member's user_id: the presence handler raises KeyError.
        poisons["surprising-exception"] = Poison(
            broadcast(MEMBER_ADDED, json.dumps({"user_info": {"name": "nobody"}})),
            reason="KeyError: 'user_id'",
        )

        async def handled() -> None:
            message = await socket.until("after-the-poison", timeout=60)
            assert (message["channel"], message["data"]) == (channel, '{"n": 1}')

        return Case(
            self.env.topics.channel_broadcast,
            channel.encode(),
            poisons[kind],
            (broadcast("after-the-poison", '{"n": 1}'), []),
            handled,
        )

    # The completions: the mailer's, every notifier's and every channels replica's. ------

    async def allocation_completed(self, topic_name: str, kind: str) -> Case:
        allocation_id = uuid.uuid4()
        admin_id = new_employee(self.env, "PA", DEPARTMENT)
        admin = self.env.bearer(admin_id, ["employee", "hr-admin"])
        watcher = await self.stream({"channels": f"private-allocation-{allocation_id}"}, admin)

        def completion(counts: int = 0) -> dict[str, Any]:
            return cloud_event(
                ALLOCATION_COMPLETED,
                {
                    "allocation_id": str(allocation_id),
                    "status": "failed",
                    "matched": counts,
                    "inserted": 0,
                    "published": 0,
                    "reason": "poison test",
                },
            )

        poisons = value_poisons(completion(), {"allocation_id": "nope"})
        # A header without a value: the mailer's consumer once raised TypeError on it
        # before any handler ran, and then again on every restart, for good.
        poisons["surprising-exception"] = Poison(
            json.dumps({**completion(), "data": {"status": "bogus"}}).encode(),
            [("trace", None)],
            reason="status",
        )
        before = await self.mailer_not_completed()

        async def handled() -> None:
            await watcher.until(
                lambda: any(str(allocation_id) in f.data for f in watcher.events),
                timeout=60,
                what="the completion on the watcher's stream (the notifier)",
            )
            deadline = time.monotonic() + 60
            while await self.mailer_not_completed() <= before:
                assert time.monotonic() < deadline, "the mailer did not handle the completion"
                await asyncio.sleep(0.2)

        return Case(
            self.env.topics.allocation_completed,
            str(allocation_id).encode(),
            poisons[kind],
            (json.dumps(completion(1)).encode(), []),
            handled,
        )

    async def mailer_not_completed(self) -> float:
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"{self.services.mailer_url}/metrics")).text
        name = 'herald_mailer_completions_total{outcome="not_completed"}'
        return next(
            (float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)), 0.0
        )


def test_every_catalogued_topic_is_in_the_matrix():
    """A new topic fails here until its consumer's poison cases are written."""
    assert {t.name for t in TOPICS} == {
        ALLOCATION_REQUESTED,
        NOTIFICATION_REQUESTED,
        VOUCHER_ALLOCATED,
        NOTIFICATION_PUSHED,
        ALLOCATION_COMPLETED,
        REVOCATION_REQUESTED,
        VOUCHER_REVOKED,
        CHANNEL_BROADCAST,
    }


@pytest.fixture(scope="module")
def channels(herald_env: HeraldEnv) -> Iterator[tuple[int, ...]]:
    """Two channels replicas, reading every partition as the notifiers do, for the matrix."""
    with running_channels(herald_env, 2, name="channels-poison") as ports:
        yield ports


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "topic_name",
    [
        ALLOCATION_REQUESTED,
        NOTIFICATION_REQUESTED,
        VOUCHER_ALLOCATED,
        NOTIFICATION_PUSHED,
        ALLOCATION_COMPLETED,
        REVOCATION_REQUESTED,
        VOUCHER_REVOKED,
        CHANNEL_BROADCAST,
    ],
)
async def test_poison_is_dead_lettered_once_and_the_next_record_handled(
    services, herald_env, channels, topic_name, kind, figures
):
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=None) as sse:
        matrix = Matrix(services, herald_env, sse, channels)
        try:
            case = await matrix.case(topic_name, kind)
            producer = AIOKafkaProducer(
                bootstrap_servers=herald_env.infra.kafka_bootstrap,
                acks="all",
                # The broker limits the batch as stored: compressed, the oversized record fits.
                compression_type="gzip",
                max_request_size=OVERSIZED_BYTES + 1024 * 1024,
            )
            await producer.start()
            try:
                sent = await producer.send_and_wait(
                    case.topic, value=case.poison.value, key=case.key, headers=case.poison.headers
                )
                good = await producer.send_and_wait(
                    case.topic, value=case.good[0], key=case.key, headers=case.good[1]
                )
            finally:
                await producer.stop()
            assert good.partition == sent.partition

            def ours(record: Any) -> bool:
                headers = dict(record.headers)
                return (
                    headers.get("herald.dlq.original-partition") == str(sent.partition).encode()
                    and headers.get("herald.dlq.original-offset") == str(sent.offset).encode()
                )

            await case.handled()
            (first,) = await dead_letters(
                herald_env.infra.kafka_bootstrap, case.topic, 1, ours, timeout=60
            )
            # Every reader of the topic has read past the poison (the record after it was
            # handled); a second dead letter would be on its way by now.
            await asyncio.sleep(2.5)
            records = await every_dead_letter(herald_env.kafka, case.topic, ours)
        finally:
            await matrix.close()
    assert len(records) == 1
    headers = dict(first.headers)
    reason = headers["herald.dlq.reason"].decode()
    assert case.poison.reason in reason, reason
    if kind == "oversized":
        assert first.value is None
        assert int(headers["herald.dlq.value-omitted-bytes"]) == len(case.poison.value or b"")
    else:
        assert first.value == case.poison.value
    figures["dead_letters"] = len(records)
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["reason"] = reason[:100]
