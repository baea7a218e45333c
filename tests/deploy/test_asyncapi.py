"""docs/asyncapi.yaml: generated from the event models, valid, and true to the wire.

The contract tests fail when the models (or the topic catalogue) and the committed document
diverge; the AsyncAPI CLI from npm validates the document itself.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jsonschema
import pytest
import yaml

from herald_allocation.domain.steps import status_record
from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import HEADER_PREFIX as DEAD_LETTER_HEADER_PREFIX
from herald_common.dead_letter import (
    MAILER_MANAGER_HEADER,
    dead_letter_headers,
)
from herald_common.events import (
    ALLOCATION_SUMMARY,
    CONTENT_TYPE,
    NOTIFICATION_PUSHED,
    REVOCATION_SUMMARY,
    SOURCE_INSERTER,
    SOURCE_MAILER,
    SOURCE_PUSH,
    VOUCHER_REVOKED,
    AllocationCompleted,
    AllocationProgress,
    AllocationStatus,
    NotificationRequested,
    RevocationCompleted,
    RevocationRequested,
    encode,
)
from herald_common.notifications import EventTemplate, InboxState, notification_event
from herald_common.settings import TopicSettings
from herald_common.stream_frames import NOTIFICATION_STATE, NOTIFICATIONS_READ_ALL
from herald_common.stream_frames import RESET as RESET_EVENT
from herald_common.stream_frames import UNREAD_COUNT as UNREAD_COUNT_EVENT
from herald_common.topics import topic_specs
from herald_inserter.domain.publisher import EventPublisher
from herald_inserter.domain.push_store import PushPayloads
from herald_inserter.domain.revocation_store import RevokedNotice
from herald_mailer.domain.compose import in_app_payload, revocation_payload
from herald_mailer.domain.processor import MAILER_MANAGER_HEADER as MANAGER_HEADER
from herald_mailer.domain.summary import Allocation, Revocation, Team
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.progress import DeliveryTally
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.stream_session import RESET, TOKEN_EXPIRED_DATA
from herald_notifier.domain.subscriber import Subscriber
from herald_notifier.domain.unread import UNREAD_COUNT, unread_frame
from tests.support.deploy import ASYNCAPI, REPO, tool
from tools.asyncapi.document import document
from tools.asyncapi.examples import examples
from tools.asyncapi.messages import MESSAGES

DOCUMENT = REPO / "docs" / "asyncapi.yaml"


@functools.cache
def _parsed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(DOCUMENT.read_text(), Loader=yaml.CSafeLoader)
    return loaded


def _committed() -> dict[str, Any]:
    """The committed document (parsed once; each caller gets a copy it may change)."""
    return copy.deepcopy(_parsed())


def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, resolving its refs inside the document."""
    root = {**_committed(), "$ref": f"#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(root)


def _payload_schema(message: str) -> str:
    ref: str = _committed()["components"]["messages"][message]["payload"]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_the_committed_document_is_what_the_models_generate() -> None:
    assert _committed() == document(), (
        "docs/asyncapi.yaml is out of date: run `.herald/venv/bin/python -m tools.asyncapi`"
    )


def test_the_documented_command_writes_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    target = tmp_path / "asyncapi.yaml"
    subprocess.run(
        [sys.executable, "-m", "tools.asyncapi", str(target)], cwd=REPO, check=True, timeout=120
    )
    assert target.read_bytes() == DOCUMENT.read_bytes()


def test_the_asyncapi_cli_finds_the_document_valid(tmp_path: Path) -> None:
    # The CLI reports usage to a remote service unless told otherwise in this file.
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text(
        json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "tests"})
    )
    result = subprocess.run(
        [str(tool(ASYNCAPI)), "validate", str(DOCUMENT), "--fail-severity=warn"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics),
        },
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is valid" in output
    assert "0 errors, 0 warnings" in output


def test_the_asyncapi_cli_rejects_a_broken_document(tmp_path: Path) -> None:
    broken = _committed()
    broken["operations"]["sendStream"]["action"] = "publish"  # AsyncAPI 2 wording
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text(json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true"}))
    result = subprocess.run(
        [str(tool(ASYNCAPI)), "validate", str(path), "--fail-severity=warn"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics),
        },
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


def test_every_topic_has_a_channel_with_its_partitions() -> None:
    defaults = TopicSettings.model_construct()
    expected = {spec.name: spec.partitions for spec in topic_specs(defaults)}
    channels = {
        channel["address"]: channel["bindings"]["kafka"]["partitions"]
        for channel in _committed()["channels"].values()
        if "kafka" in channel.get("bindings", {})
    }
    assert channels == expected
    assert "/v1/stream" in {c["address"] for c in _committed()["channels"].values()}


def test_every_topic_documents_the_kinds_written_to_it() -> None:
    channels = _committed()["channels"]
    by_address = {c["address"]: c for c in channels.values()}
    kinds = {
        address: {_committed()["components"]["messages"][m]["examples"][0]["payload"]["type"]
                  for m in by_address[address]["messages"]}
        for address in (spec.name for spec in topic_specs(TopicSettings.model_construct()))
        if not address.endswith(".dlq")
    }  # fmt: skip
    assert kinds == {
        "herald.allocation.requested": {"herald.allocation.requested"},
        "herald.voucher.allocated": {"herald.voucher.allocated"},
        "herald.allocation.completed": {
            "herald.allocation.status",
            "herald.allocation.progress",
            "herald.allocation.completed",
            "herald.revocation.completed",
        },
        "herald.channels.broadcast": {"herald.channels.broadcast"},
        "herald.notification.requested": {"herald.notification.requested"},
        "herald.notification.pushed": {
            "herald.notification.pushed",
            "herald.allocation.summary",
            "herald.revocation.summary",
        },
        "herald.revocation.requested": {"herald.revocation.requested"},
        "herald.voucher.revoked": {"herald.voucher.revoked"},
    }


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_examples_validate_and_carry_the_cloudevents_header(message: str) -> None:
    spec = _committed()["components"]["messages"][message]
    (example,) = spec["examples"]
    assert example["headers"] == {"content-type": CONTENT_TYPE}
    _validator(_payload_schema(message)).validate(example["payload"])
    assert example["payload"]["type"] == MESSAGES[message].event_type
    assert spec["headers"]["properties"]["content-type"]["const"] == CONTENT_TYPE


def test_events_built_by_the_services_match_the_schemas() -> None:
    # The notifier's replay and the inserter's publisher both build events this way.
    event = json.loads(
        notification_event(
            notification_id=7,
            kind="herald.voucher.allocated",
            source="/herald/inserter",
            employee_id="E1",
            created_at=datetime.now(UTC),
            payload=examples()["VoucherAllocated"]["data"],
        )
    )
    _validator("VoucherAllocatedEvent").validate(event)
    assert event["id"] == "7"


def test_pushed_events_match_the_schema() -> None:
    request = NotificationRequested.model_validate(examples()["NotificationRequested"]["data"])
    # The inserter's payload for one recipient, in the envelope every per-employee event has.
    template = EventTemplate(
        kind=NOTIFICATION_PUSHED, source=SOURCE_PUSH, created_at=datetime.now(UTC)
    )
    event = json.loads(
        template.render(8, "E000042", PushPayloads(request).text("E000042", "Sales"))
    )
    _validator("NotificationPushedEvent").validate(event)
    assert event["data"] == examples()["NotificationPushed"]["data"]


def test_revoked_events_match_the_schema() -> None:
    request = RevocationRequested.model_validate(examples()["RevocationRequested"]["data"])
    example = examples()["VoucherRevoked"]["data"]
    voucher = {k: v for k, v in example["voucher"].items() if k != "code"}
    # The inserter's payload for one employee, in the envelope every per-employee event has.
    notice = RevokedNotice(request, voucher)
    template = EventTemplate(
        kind=VOUCHER_REVOKED, source=SOURCE_INSERTER, created_at=datetime.now(UTC)
    )
    payload = notice.text(
        example["employee_id"],
        example["department"],
        example["voucher"]["code"],
        example["revoked_notification_id"],
    )
    event = json.loads(template.render(10, example["employee_id"], payload))
    _validator("VoucherRevokedEvent").validate(event)
    assert event["data"] == example


async def test_the_inserters_revocation_outcome_matches_the_schema() -> None:
    producer = _RecordingProducer()
    publisher = EventPublisher(
        producer,  # type: ignore[arg-type]
        completed_topic="herald.allocation.completed",
        progress_producer=producer,  # type: ignore[arg-type]
    )
    await publisher.publish_revocation_completed(
        RevocationCompleted(
            revocation_id=uuid4(), allocation_id=uuid4(), status="completed", revoked=2, published=2
        )
    )
    [completed] = (json.loads(value) for value in producer.values)
    _validator("RevocationCompletedEvent").validate(completed)


def _example_allocation(allocation_id: str) -> Allocation:
    return Allocation(
        allocation_id=UUID(allocation_id),
        voucher={"name": "Winter bonus", "amount": "50.00", "currency": "EUR"},
        criteria={"departments": ["Sales"]},
        requested_at=datetime.now(UTC),
        completed_at=datetime.now(UTC),
        recipients=1,
    )


def _mailer_event(kind: str, manager_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A manager's summary as the mailer publishes it."""
    event: dict[str, Any] = json.loads(
        notification_event(
            notification_id=9,
            kind=kind,
            source=SOURCE_MAILER,
            employee_id=manager_id,
            created_at=datetime.now(UTC),
            payload=payload,
        )
    )
    return event


def test_the_mailers_summary_matches_the_schema() -> None:
    example = examples()["AllocationSummary"]["data"]
    allocation = _example_allocation(example["allocation_id"])
    payload = in_app_payload(
        allocation,
        example["employee_id"],
        Team(example["department"], example["totals"]["team_size"]),
        1,
        "http://127.0.0.1:8000",
    )
    assert payload == example
    event = _mailer_event(ALLOCATION_SUMMARY, example["employee_id"], payload)
    _validator("AllocationSummaryEvent").validate(event)


def test_the_mailers_revocation_summary_matches_the_schema() -> None:
    example = examples()["RevocationSummary"]["data"]
    revocation = Revocation(
        revocation_id=UUID(example["revocation_id"]),
        allocation=_example_allocation(example["allocation_id"]),
        reason=example["reason"],
        revoked_by="E000001",
        revoked_at=datetime.now(UTC),
        revoked=1,
    )
    payload = revocation_payload(
        revocation, example["employee_id"], example["department"], 1, "http://127.0.0.1:8000"
    )
    assert payload == example
    event = _mailer_event(REVOCATION_SUMMARY, example["employee_id"], payload)
    _validator("RevocationSummaryEvent").validate(event)


class _RecordingProducer:
    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def send(self, topic: str, **record: Any) -> asyncio.Future[None]:
        self.values.append(record["value"])
        sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sent.set_result(None)
        return sent

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        self.values.append(record["value"])


async def test_the_inserters_progress_and_completion_match_the_schemas() -> None:
    producer = _RecordingProducer()
    publisher = EventPublisher(
        producer,  # type: ignore[arg-type]
        completed_topic="herald.allocation.completed",
        progress_producer=producer,  # type: ignore[arg-type]
    )
    allocation_id = uuid4()
    # The first phase goes out on its own, the last in the transaction of the events.
    await publisher.publish_progress(
        AllocationProgress(
            allocation_id=allocation_id, phase="inserted", matched=3, inserted=3, published=0
        )
    )
    await publisher.publish_final_progress(
        AllocationProgress(
            allocation_id=allocation_id, phase="published", matched=3, inserted=3, published=3
        )
    )
    await publisher.publish_completed(
        AllocationCompleted(
            allocation_id=allocation_id, status="completed", matched=3, inserted=3, published=3
        )
    )
    *progress, completed = (json.loads(value) for value in producer.values)
    assert len(progress) == 2
    for event in progress:
        _validator("AllocationProgressEvent").validate(event)
    _validator("AllocationCompletedEvent").validate(completed)


def test_the_apis_status_events_match_the_schema() -> None:
    record = status_record(
        "herald.allocation.completed",
        AllocationStatus(
            allocation_id=uuid4(),
            status="rejected",
            step="rejected",
            actor="E000003",
            reason="wrong department",
        ),
    )
    event = json.loads(record.value)
    _validator("AllocationStatusEvent").validate(event)
    assert event["id"] == f"{event['data']['allocation_id']}:rejected"
    assert record.key == event["data"]["allocation_id"].encode()


def test_the_notifiers_frames_match_the_schemas() -> None:
    registry = Registry()
    allocation_id = str(uuid4())
    registry.add(Subscriber("E1", "Sales", 10))
    tally = DeliveryTally(registry, "herald-notifier-0", 0.5)
    tally.delivered([Delivery(1, "herald.voucher.allocated", "E1", "Sales", "{}", allocation_id)])
    delivered = tally.frame_for(allocation_id)
    assert delivered is not None
    _validator("AllocationDeliveredEvent").validate(json.loads(delivered.data))
    fields = dict(
        line.split(": ", 1) for line in unread_frame(4, 3000).decode().splitlines() if line
    )
    assert fields["event"] == UNREAD_COUNT_EVENT == UNREAD_COUNT
    _validator("UnreadCount").validate(json.loads(fields["data"]))
    assert RESET == RESET_EVENT
    _validator("StreamTokenExpired").validate(json.loads(TOKEN_EXPIRED_DATA))
    for archived in (True, False, None):
        event, data = InboxState("E1", 7, True, archived).stream_event()
        schema = "NotificationsReadAll" if archived is None else "NotificationState"
        _validator(schema).validate(json.loads(data))
        assert event == (NOTIFICATIONS_READ_ALL if archived is None else NOTIFICATION_STATE)


def test_every_frame_the_stream_sends_is_documented() -> None:
    stream = _committed()["channels"]["stream"]["messages"]
    documented = {
        _committed()["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]["payload"]["$ref"]
        for ref in stream.values()
    }
    expected = {
        f"#/components/schemas/{name}"
        for name in (
            "VoucherAllocatedEvent",
            "NotificationPushedEvent",
            "AllocationSummaryEvent",
            "AllocationStatusEvent",
            "RevocationSummaryEvent",
            "VoucherRevokedEvent",
            "AllocationProgressEvent",
            "AllocationCompletedEvent",
            "RevocationCompletedEvent",
            "AllocationDeliveredEvent",
            "UnreadCount",
            "NotificationState",
            "NotificationsReadAll",
            "StreamReset",
            "StreamTokenExpired",
        )
    }
    assert documented == expected


def test_the_schemas_reject_what_the_consumers_reject() -> None:
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["data"]["voucher"]["currency"] = "euro"
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["data"]["surprise"] = True  # the models forbid unknown fields
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["specversion"] = "0.3"
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)


def test_dead_letter_headers_are_the_ones_the_code_writes() -> None:
    record = ConsumedRecord(
        topic="herald.allocation.requested",
        partition=0,
        offset=1,
        key=str(uuid4()).encode(),
        value=b"not json",
        headers=(("content-type", CONTENT_TYPE.encode()),),
    )
    written = {
        name for name, _ in dead_letter_headers(record, "bad")
    } - {"content-type"}  # fmt: skip
    # A dead letter whose value was left out says so in one more header.
    omitted = {
        name for name, _ in dead_letter_headers(record, "bad", value_omitted=True)
    } - {"content-type"} - written  # fmt: skip
    assert omitted == {f"{DEAD_LETTER_HEADER_PREFIX}value-omitted-bytes"}
    documented = _committed()["components"]["messages"]["DeadLetter"]["headers"]
    assert set(documented["required"]) == written
    assert set(documented["properties"]) == written | omitted
    assert all(name.startswith(DEAD_LETTER_HEADER_PREFIX) for name in written)
    # The mailer adds the manager an email was for.
    assert MAILER_MANAGER_HEADER == MANAGER_HEADER
    summary = _committed()["components"]["messages"]["SummaryEmailDeadLetter"]["headers"]
    assert set(summary["required"]) == written | {MANAGER_HEADER}
    assert set(summary["properties"]) == written | {MANAGER_HEADER} | omitted
