"""Manager summaries after an allocation, against a real SMTP server (aiosmtpd on loopback).

Every test builds its own departments (a manager and their team), so the emails, inbox
rows and preferences of one test never meet another's.
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from herald_common.events import ALLOCATION_COMPLETED, event_type
from herald_common.settings import TopicSettings
from tests.conftest import (
    HeraldEnv,
    allocation_process,
    inserter_process,
    isolated_env,
    mailer_process,
)
from tests.support.api import import_employees, voucher, wait_until_finished
from tests.support.processes import ServiceProcess, free_port
from tests.support.smtp import SmtpServer
from tests.support.sse import StreamRecorder
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

SUMMARY = "herald.allocation.summary"
REVOCATION_SUMMARY = "herald.revocation.summary"
MANAGER_HEADER = "herald.mailer.manager-id"


class Person:
    def __init__(
        self,
        employee_id: str,
        name: str,
        department: str,
        grade: str = "G3",
        manager: Person | None = None,
        email: str | None = None,
    ) -> None:
        self.id = employee_id
        self.name = name
        self.department = department
        self.grade = grade
        self.manager_id = manager.id if manager else ""
        self.email = email or f"{employee_id.lower()}@example.com"


def team(prefix: str, department: str, size: int, **manager: Any) -> tuple[Person, list[Person]]:
    """A manager and `size` reports; every other report is G1 (outside a G3 criterion)."""
    boss = Person(
        f"{prefix}-M", manager.pop("name", f"Boss of {department}"), department, "G6", **manager
    )
    members = [
        Person(
            f"{prefix}-{n:02d}",
            f"Member {n} of {department}",
            department,
            "G3" if n % 2 else "G1",
            boss,
        )
        for n in range(1, size + 1)
    ]
    return boss, members


def directory_csv(people: list[Person]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["employee_id", "name", "email", "department", "grade", "hired_on", "manager_id"]
    )
    for p in people:
        writer.writerow(
            [
                p.id,
                p.name,
                p.email,
                p.department,
                p.grade,
                date(2015, 1, 1).isoformat(),
                p.manager_id,
            ]
        )
    return out.getvalue()


def unique(label: str) -> str:
    return f"{label}-{secrets.token_hex(3)}"


@pytest.fixture
async def api(services, herald_env):
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as client:
        yield client


@pytest.fixture
async def mailer(services):
    async with httpx.AsyncClient(base_url=services.mailer_url, timeout=30) as client:
        yield client


async def load(api: httpx.AsyncClient, people: list[Person]) -> None:
    response = await import_employees(api, directory_csv(people))
    assert response.status_code == 200, response.text


async def allocate(
    api: httpx.AsyncClient, departments: list[str], name: str = "Winter bonus", **criteria: Any
) -> str:
    body = {"voucher": voucher(name), "criteria": {"departments": departments, **criteria}}
    response = await api.post("/v1/allocations", json=body)
    assert response.status_code == 202, response.text
    allocation_id: str = response.json()["id"]
    assert (await wait_until_finished(api, allocation_id))["status"] == "completed"
    return allocation_id


def query(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def email_states(database_url: str, allocation_id: str) -> dict[str, tuple[str, int]]:
    rows = query(
        database_url,
        "SELECT manager_id, email_status, attempts FROM manager_summaries WHERE allocation_id = %s",
        allocation_id,
    )
    return {m: (status, attempts) for m, status, attempts in rows}


async def settled(
    database_url: str, allocation_id: str, managers: int
) -> dict[str, tuple[str, int]]:
    """Wait until every summary email of the allocation reached a final state."""

    def check() -> dict[str, tuple[str, int]] | None:
        states = email_states(database_url, allocation_id)
        if len(states) == managers and all(
            s in ("sent", "skipped", "failed", "unknown") for s, _ in states.values()
        ):
            return states
        return None

    states: dict[str, tuple[str, int]] = await eventually(check, 60, "summary emails to settle")
    return states


async def completion_record(
    herald_env, allocation_id: str, kind: str = ALLOCATION_COMPLETED, containing: str = ""
) -> Any:
    """The allocation's record of `kind` on herald.allocation.completed (the first whose
    value contains `containing`), read back from Kafka."""
    consumer = AIOKafkaConsumer(
        herald_env.topics.allocation_completed,
        bootstrap_servers=herald_env.infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:

        async def find() -> Any:
            async for record in consumer:
                if (
                    record.key == allocation_id.encode()
                    and event_type(record.value) == kind
                    and containing.encode() in record.value
                ):
                    return record

        return await asyncio.wait_for(find(), 30)
    finally:
        await consumer.stop()


async def redeliver(herald_env, record: Any) -> tuple[TopicPartition, int]:
    producer = AIOKafkaProducer(bootstrap_servers=herald_env.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            record.topic, value=record.value, key=record.key, headers=list(record.headers)
        )
    finally:
        await producer.stop()
    return TopicPartition(sent.topic, sent.partition), sent.offset


async def consumed(herald_env, tp: TopicPartition, offset: int) -> None:
    """Wait until the mailer's group committed past `offset`: that record is fully handled."""
    admin = AIOKafkaAdminClient(bootstrap_servers=herald_env.infra.kafka_bootstrap)
    await admin.start()
    group = f"{herald_env.topic_prefix}herald-mailer"
    try:

        async def committed() -> bool:
            offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
            meta = offsets.get(tp)
            return meta is not None and meta.offset > offset

        await eventually(committed, 60, "the mailer to commit the redelivered record")
    finally:
        await admin.close()


async def dead_letters(
    herald_env, managers: set[str], timeout: float = 60
) -> dict[str, dict[str, bytes]]:
    """Headers of the dead-lettered summary emails of these managers."""
    consumer = AIOKafkaConsumer(
        TopicSettings.dead_letter(herald_env.topics.allocation_completed),
        bootstrap_servers=herald_env.infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: dict[str, dict[str, bytes]] = {}
    try:

        async def collect() -> None:
            async for record in consumer:
                headers = dict(record.headers)
                manager = headers.get(MANAGER_HEADER, b"").decode()
                if manager in managers:
                    found[manager] = headers
                    if set(found) == managers:
                        return

        await asyncio.wait_for(collect(), timeout)
    finally:
        await consumer.stop()
    return found


async def test_each_affected_manager_gets_exactly_one_correct_email(
    services, smtp, herald_env, api
):
    sales, ops, legal = unique("Sales"), unique("Ops"), unique("Legal")
    sales_boss, sales_team = team(unique("SA"), sales, 5)
    ops_boss, ops_team = team(unique("OP"), ops, 3)
    legal_boss, legal_team = team(unique("LE"), legal, 2)
    await load(api, [sales_boss, *sales_team, ops_boss, *ops_team, legal_boss, *legal_team])

    allocation_id = await allocate(api, [sales, ops], grades=["G3", "G6"])
    states = await settled(herald_env.database_url, allocation_id, 2)
    assert states == {sales_boss.id: ("sent", 1), ops_boss.id: ("sent", 1)}  # Legal: not affected

    received = smtp.messages(allocation_id)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted([sales_boss.email, ops_boss.email])
    for boss, members in ((sales_boss, sales_team), (ops_boss, ops_team)):
        [mail] = [r for r in received if r.rcpt_tos == [boss.email]]
        message = mail.message
        # The team is the boss's department, the boss (G6, matched) included.
        got = [boss, *(m for m in members if m.grade == "G3")]
        missed = [m for m in members if m.grade != "G3"]
        assert message["To"].addresses[0].addr_spec == boss.email
        assert message["Subject"] == f"Winter bonus: {len(got)} people in your team received it"
        assert mail.mail_from == "herald@localhost"
        text, html = mail.part("plain"), mail.part("html")
        for part in (text, html):
            assert all(m.name in part for m in got)
            assert not any(m.name in part for m in missed)
            assert f"€{len(got) * 50:,.2f} in total" in part
            assert f"{len(members) + 1} people in {boss.department}" in part
            assert f"http://127.0.0.1:8000/allocations/{allocation_id}/team" in part
            assert "/v1/allocations" not in part
            assert "opened" not in part
        assert f"Hello {boss.name}," in text

    inbox = query(
        herald_env.database_url,
        "SELECT employee_id, department, source, allocation_id::text, payload FROM notifications"
        " WHERE kind = %s AND allocation_id = %s ORDER BY employee_id",
        SUMMARY,
        allocation_id,
    )
    assert sorted(r[0] for r in inbox) == sorted([sales_boss.id, ops_boss.id])
    for employee_id, department, source, linked, payload in inbox:
        assert source == "/herald/mailer"
        assert linked == allocation_id
        assert payload["link"] == f"http://127.0.0.1:8000/allocations/{allocation_id}/team"
        assert (
            payload["department"] == department == (sales if employee_id == sales_boss.id else ops)
        )
        assert payload["totals"]["currency"] == "EUR"
    assert smtp.messages(allocation_id) == received  # nothing else arrives later


async def test_a_redelivered_completion_after_a_restart_sends_nothing_new(
    services, smtp, herald_env, api
):
    department = unique("Redeliver")
    boss, members = team(unique("RD"), department, 2)
    await load(api, [boss, *members])
    allocation_id = await allocate(api, [department])
    assert await settled(herald_env.database_url, allocation_id, 1) == {boss.id: ("sent", 1)}
    assert len(smtp.messages(allocation_id)) == 1
    record = await completion_record(herald_env, allocation_id)

    # Redelivered to a freshly started mailer: nothing in memory remembers the first time.
    services.mailer.stop()
    tp, offset = await redeliver(herald_env, record)
    services.mailer.start()
    services.mailer.wait_http(f"{services.mailer_url}/readyz")
    await consumed(herald_env, tp, offset)

    assert len(smtp.messages(allocation_id)) == 1
    assert email_states(herald_env.database_url, allocation_id) == {boss.id: ("sent", 1)}
    [(count,)] = query(
        herald_env.database_url,
        "SELECT count(*) FROM notifications WHERE kind = %s AND allocation_id = %s",
        SUMMARY,
        allocation_id,
    )
    assert count == 1


async def test_an_smtp_outage_ends_with_every_email_delivered_once(services, smtp, herald_env, api):
    first, second = unique("Outage-A"), unique("Outage-B")
    boss_a, team_a = team(unique("OA"), first, 2)
    boss_b, team_b = team(unique("OB"), second, 2)
    await load(api, [boss_a, *team_a, boss_b, *team_b])

    smtp.stop()
    try:
        allocation_id = await allocate(api, [first, second])

        def retrying() -> bool:
            states = email_states(herald_env.database_url, allocation_id).values()
            return len(states) == 2 and all(s == "pending" and n >= 2 for s, n in states)

        await eventually(retrying, 30, "the mailer to retry against the dead server")
        assert smtp.messages(allocation_id) == []
    finally:
        smtp.start()

    states = await settled(herald_env.database_url, allocation_id, 2)
    assert {m: s for m, (s, _) in states.items()} == {boss_a.id: "sent", boss_b.id: "sent"}
    assert all(attempts >= 3 for _, attempts in states.values())
    await asyncio.sleep(1.0)  # a duplicate would show up by now
    assert sorted(r.rcpt_tos[0] for r in smtp.messages(allocation_id)) == sorted(
        [boss_a.email, boss_b.email]
    )


# The mailer of the test below leaves its group after this long without a poll.
POLL_INTERVAL_SECONDS = 5
RELAY_MANAGERS = 20


@dataclass
class OwnMailer:
    api: httpx.AsyncClient
    mailer: ServiceProcess
    mailer_url: str
    smtp: SmtpServer


@pytest.fixture(scope="module")
def relay_env(infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeraldEnv]:
    with isolated_env(infra, Path(tmp_path_factory.mktemp("relay-logs"))) as env:
        yield env


@pytest.fixture(scope="module")
async def own_mailer(relay_env: HeraldEnv) -> AsyncIterator[OwnMailer]:
    """An allocation API, an inserter and a mailer with a database, topics and an SMTP
    server of their own, the mailer with a 5 s poll interval and 20 attempts per email."""
    smtp = SmtpServer(free_port()).start()
    allocation_port, inserter_port, mailer_port = free_port(), free_port(), free_port()
    allocation = allocation_process(relay_env, allocation_port).start()
    inserter = inserter_process(relay_env, inserter_port).start()
    mailer = mailer_process(
        relay_env,
        mailer_port,
        smtp.port,
        {
            "HERALD_MAILER_MAX_POLL_INTERVAL_SECONDS": str(POLL_INTERVAL_SECONDS),
            "HERALD_MAILER_MAX_ATTEMPTS": "20",
        },
    ).start()
    url, mailer_url = f"http://127.0.0.1:{allocation_port}", f"http://127.0.0.1:{mailer_port}"
    try:
        allocation.wait_http(f"{url}/readyz")
        inserter.wait_http(f"http://127.0.0.1:{inserter_port}/healthz")
        mailer.wait_http(f"{mailer_url}/readyz")
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=relay_env.admin) as api:
            yield OwnMailer(api, mailer, mailer_url, smtp)
    finally:
        for service in (mailer, inserter, allocation):
            service.stop()
        smtp.stop()


def handled(metrics: str, outcome: str) -> float:
    """How many completion records the mailer handled with `outcome`, from its metrics."""
    line = f'herald_mailer_completions_total{{outcome="{outcome}"}} '
    found = [float(m.removeprefix(line)) for m in metrics.splitlines() if m.startswith(line)]
    return found[0] if found else 0.0


async def test_emails_waiting_for_the_relay_keep_the_mailer_in_its_group(own_mailer, relay_env):
    department = unique("Relay")
    teams = [team(unique(f"RY{n:02d}"), department, 1) for n in range(RELAY_MANAGERS)]
    await load(own_mailer.api, [p for boss, members in teams for p in (boss, *members)])
    bosses = {boss.id: boss.email for boss, _ in teams}

    own_mailer.smtp.stop()
    try:
        response = await own_mailer.api.post(
            "/v1/allocations",
            json={"voucher": voucher(), "criteria": {"departments": [department]}},
        )
        assert response.status_code == 202, response.text
        allocation_id = response.json()["id"]

        def retrying() -> bool:
            states = email_states(relay_env.database_url, allocation_id).values()
            return len(states) == RELAY_MANAGERS and all(
                s == "pending" and n >= 2 for s, n in states
            )

        await eventually(retrying, 60, "every email to be refused twice by the dead relay")
        # The record stays in hand for three poll intervals, its emails waiting.
        await asyncio.sleep(3 * POLL_INTERVAL_SECONDS)
        assert own_mailer.smtp.messages(allocation_id) == []
    finally:
        own_mailer.smtp.start()

    states = await settled(relay_env.database_url, allocation_id, RELAY_MANAGERS)
    assert {m: s for m, (s, _) in states.items()} == dict.fromkeys(bosses, "sent")
    record = await completion_record(relay_env, allocation_id)
    await consumed(relay_env, TopicPartition(record.topic, record.partition), record.offset)
    received = own_mailer.smtp.messages(allocation_id)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(bosses.values())

    # Handled once, by a member that never left its group: no partition was taken from
    # it (joining, it gave up none), and none was handed out again.
    async with httpx.AsyncClient(base_url=own_mailer.mailer_url) as client:
        metrics = (await client.get("/metrics")).text
    assert handled(metrics, "summarised") == 1
    log = own_mailer.mailer.log_path.read_text(errors="replace").splitlines()
    revoked = [line for line in log if "partitions revoked" in line]
    assert [line for line in revoked if "partitions revoked: []" not in line] == []
    assert len([line for line in log if "partitions assigned" in line]) == 1
    assert not [line for line in log if "commit of" in line]


async def test_an_opted_out_manager_gets_the_summary_in_app_but_no_email(
    services, smtp, herald_env, api, mailer
):
    quiet_dept, loud_dept = unique("Quiet"), unique("Loud")
    quiet, quiet_team = team(unique("QU"), quiet_dept, 2)
    loud, loud_team = team(unique("LO"), loud_dept, 2)
    await load(api, [quiet, *quiet_team, loud, *loud_team])

    headers = herald_env.bearer(quiet.id, ["employee", "manager"], manages=quiet_dept)
    assert (await mailer.get("/v1/preferences", headers=headers)).json() == {
        "employee_id": quiet.id,
        "email": {SUMMARY: True, REVOCATION_SUMMARY: True},
    }
    response = await mailer.put(
        f"/v1/preferences/email/{SUMMARY}", json={"enabled": False}, headers=headers
    )
    assert response.status_code == 200, response.text
    # Each kind is its own choice: the revocation summary's email stays on.
    assert response.json()["email"] == {SUMMARY: False, REVOCATION_SUMMARY: True}
    assert (await mailer.get("/v1/preferences", headers=headers)).json()["email"] == {
        SUMMARY: False,
        REVOCATION_SUMMARY: True,
    }

    async with httpx.AsyncClient(timeout=None) as sse:
        stream = await StreamRecorder(
            sse, f"{services.notifier_url}/v1/stream", {}, headers=headers
        ).open()
        allocation_id = await allocate(api, [quiet_dept, loud_dept])
        states = await settled(herald_env.database_url, allocation_id, 2)

        async def summary_frames() -> list[Any]:
            return [f for f in stream.events if f.event == SUMMARY]

        [frame] = await eventually(summary_frames, 30, "the summary on the manager's stream")
        await stream.close()

    assert states == {quiet.id: ("skipped", 0), loud.id: ("sent", 1)}
    assert [r.rcpt_tos for r in smtp.messages(allocation_id)] == [[loud.email]]
    [(notification_id, payload)] = query(
        herald_env.database_url,
        "SELECT id, payload FROM notifications WHERE employee_id = %s AND kind = %s AND allocation_id = %s",
        quiet.id,
        SUMMARY,
        allocation_id,
    )
    event = frame.json()
    assert frame.id == event["id"] == str(notification_id)
    assert event["source"] == "/herald/mailer"
    assert event["data"] == payload
    assert event["data"]["link"] == f"http://127.0.0.1:8000/allocations/{allocation_id}/team"
    # The team is the department: the manager and their two reports.
    assert event["data"]["totals"]["team_recipients"] == 3
    assert event["data"]["totals"]["team_size"] == 3
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=headers
    ) as inbox:
        [item] = [
            i
            for i in (await inbox.get("/v1/notifications", params={"kind": SUMMARY})).json()[
                "items"
            ]
            if i["id"] == notification_id
        ]
    assert item["action_url"] == event["data"]["link"]


async def test_preferences_api_needs_a_caller_and_a_known_kind(services, mailer, herald_env):
    assert (await mailer.get("/v1/preferences")).status_code == 401
    unknown = await mailer.get(
        "/v1/preferences", headers=herald_env.bearer("nobody-at-all", ["employee"])
    )
    assert unknown.status_code == 404
    department = unique("Prefs")
    boss, _ = team(unique("PR"), department, 0)
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        await load(api, [boss])
    response = await mailer.put(
        "/v1/preferences/email/herald.voucher.allocated",
        json={"enabled": False},
        headers=herald_env.bearer(boss.id, ["employee", "manager"], manages=department),
    )
    assert response.status_code == 404
    assert SUMMARY in response.json()["detail"]
    bad = await mailer.put(
        f"/v1/preferences/email/{SUMMARY}",
        json={"enabled": "maybe"},
        headers=herald_env.bearer(boss.id, ["employee", "manager"], manages=department),
    )
    assert bad.status_code == 422


async def test_hostile_names_are_escaped_and_cannot_inject_headers(services, smtp, herald_env, api):
    department = unique("R&D <i>Ops</i>")
    boss, members = team(
        unique("HO"),
        department,
        1,
        name='Eve <script>alert("boss")</script>\r\nBcc: spy@evil.example',
    )
    members[0].name = "<img src=x onerror=alert(1)>\r\nSubject: fake\nReply-To: spy@evil.example"
    await load(api, [boss, *members])
    allocation_id = await allocate(
        api, [department], name="Bonus\r\nBcc: spy2@evil.example <b>big</b>"
    )
    assert await settled(herald_env.database_url, allocation_id, 1) == {boss.id: ("sent", 1)}

    [mail] = smtp.messages(allocation_id)
    assert mail.rcpt_tos == [boss.email]
    message = mail.message
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block
    assert b"\r\nReply-To:" not in header_block
    assert message["Bcc"] is None
    assert message["Reply-To"] is None
    assert len(message.get_all("To")) == 1
    assert len(message.get_all("Subject")) == 1
    assert "\n" not in message["Subject"]
    assert "\r" not in message["Subject"]
    # Long subjects are folded onto a continuation line; unfolding leaves a leading space.
    # The team is the department: the boss and the one report.
    assert (
        message["Subject"].strip().startswith("Bonus Bcc: spy2@evil.example <b>big</b>: 2 people")
    )

    html = mail.part("html")
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>big</b>" not in html
    assert "<i>Ops</i>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "R&amp;D &lt;i&gt;Ops&lt;/i&gt;" in html

    text = mail.part("plain")
    assert not [
        line for line in text.splitlines() if line.startswith(("Bcc:", "Subject:", "Reply-To:"))
    ]
    assert 'Hello Eve <script>alert("boss")</script> Bcc: spy@evil.example,' in text


async def test_refused_emails_are_dead_lettered_and_the_rest_keep_going(
    services, smtp, herald_env, api
):
    good_dept, gone_dept, busy_dept = unique("Fine"), unique("Gone"), unique("Busy")
    good, good_team = team(unique("GO"), good_dept, 1)
    gone, gone_team = team(
        unique("GN"), gone_dept, 1, email=f"reject-{secrets.token_hex(3)}@example.com"
    )
    busy, busy_team = team(
        unique("BU"), busy_dept, 1, email=f"tempfail-{secrets.token_hex(3)}@example.com"
    )
    await load(api, [good, *good_team, gone, *gone_team, busy, *busy_team])

    allocation_id = await allocate(api, [good_dept, gone_dept, busy_dept])
    states = await settled(herald_env.database_url, allocation_id, 3)
    assert states[good.id] == ("sent", 1)
    assert states[gone.id] == ("failed", 1)  # a final "no" is not asked again
    assert states[busy.id] == ("failed", 8)  # "later", until the attempts ran out
    assert [r.rcpt_tos for r in smtp.messages(allocation_id)] == [[good.email]]

    letters = await dead_letters(herald_env, {gone.id, busy.id})
    record = await completion_record(herald_env, allocation_id)
    for manager, code in ((gone.id, b"550"), (busy.id, b"451")):
        headers = letters[manager]
        assert code in headers["herald.dlq.reason"]
        assert (
            headers["herald.dlq.original-topic"] == herald_env.topics.allocation_completed.encode()
        )
        assert headers["herald.dlq.original-offset"] == str(record.offset).encode()
    assert b"gave up after 8 attempts" in letters[busy.id]["herald.dlq.reason"]


async def test_an_email_interrupted_mid_send_is_never_sent_again(
    services, smtp, herald_env, api, mailer
):
    department = unique("Crash")
    boss, members = team(unique("CR"), department, 1)
    await load(api, [boss, *members])
    headers = herald_env.bearer(boss.id, ["employee", "manager"], manages=department)
    await mailer.put(f"/v1/preferences/email/{SUMMARY}", json={"enabled": False}, headers=headers)
    allocation_id = await allocate(api, [department])
    assert await settled(herald_env.database_url, allocation_id, 1) == {boss.id: ("skipped", 0)}

    # As a mailer that claimed the email and died before it could record the outcome
    # leaves it: the relay may or may not have the message.
    with psycopg.connect(herald_env.database_url) as conn:
        conn.execute(
            "UPDATE manager_summaries SET email_status = 'sending', attempts = 1"
            " WHERE allocation_id = %s AND manager_id = %s",
            (allocation_id, boss.id),
        )
    await mailer.put(f"/v1/preferences/email/{SUMMARY}", json={"enabled": True}, headers=headers)
    tp, offset = await redeliver(herald_env, await completion_record(herald_env, allocation_id))
    await consumed(herald_env, tp, offset)

    assert email_states(herald_env.database_url, allocation_id) == {boss.id: ("unknown", 1)}
    assert smtp.messages(allocation_id) == []
    letters = await dead_letters(herald_env, {boss.id})
    assert b"outcome unknown" in letters[boss.id]["herald.dlq.reason"]


async def test_a_connection_lost_before_the_relay_confirmed_is_not_retried(
    services, smtp, herald_env, api
):
    department = unique("Vanish")
    boss, members = team(
        unique("VA"), department, 1, email=f"vanish-{secrets.token_hex(3)}@example.com"
    )
    await load(api, [boss, *members])
    allocation_id = await allocate(api, [department])

    # The relay may have the message (here it does): sending again could make two.
    assert await settled(herald_env.database_url, allocation_id, 1) == {boss.id: ("unknown", 1)}
    letters = await dead_letters(herald_env, {boss.id})
    assert (
        b"connection lost while the message was being sent" in letters[boss.id]["herald.dlq.reason"]
    )

    tp, offset = await redeliver(herald_env, await completion_record(herald_env, allocation_id))
    await consumed(herald_env, tp, offset)
    assert email_states(herald_env.database_url, allocation_id) == {boss.id: ("unknown", 1)}
    assert len(smtp.messages(allocation_id)) == 1
