"""The allocation API's shared pieces for accepting requests: the request record for the
outbox, the Idempotency-Key answers, and the views' shared shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from fastapi import HTTPException, Response

from herald_allocation.api.idempotency import (
    answer_accepted,
    idempotency_conflict,
    valid_idempotency_key,
)
from herald_allocation.api.schemas import AllocationPage, Counts, InboxPage
from herald_allocation.domain.outbox import request_record
from herald_common.events import (
    NOTIFICATION_REQUESTED,
    SOURCE_PUSH,
    CloudEvent,
    NotificationRequested,
    PushTarget,
)


def test_a_request_record_is_the_event_keyed_and_identified_by_the_request():
    push_id = uuid4()
    when = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    request = NotificationRequested(
        push_id=push_id,
        requested_by="payroll",
        title="Payslip ready",
        target=PushTarget(employee_ids=["E000001"]),
        requested_at=when,
    )
    record = request_record(
        "herald.notification.requested",
        push_id,
        source=SOURCE_PUSH,
        event_type=NOTIFICATION_REQUESTED,
        time=when,
        data=request,
    )
    assert record.topic == "herald.notification.requested"
    assert record.key == str(push_id).encode()
    assert record.headers == [("content-type", b"application/cloudevents+json")]
    event = CloudEvent[NotificationRequested].model_validate_json(record.value)
    assert (event.id, event.subject, event.type) == (
        str(push_id),
        str(push_id),
        NOTIFICATION_REQUESTED,
    )
    assert (event.source, event.time, event.data) == (SOURCE_PUSH, when, request)
    assert b"\n" not in record.value
    assert json.loads(record.value)["data"]["push_id"] == str(push_id)


@pytest.mark.parametrize("key", [None, "a", "payroll-12", "x" * 255, "~!@#$%^&*()"])
def test_keys_of_printable_ascii_up_to_255_characters_pass(key):
    valid_idempotency_key(key)


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "tab\there", "new\nline"])
def test_other_keys_are_refused_as_the_header_s_value_error(key):
    with pytest.raises(HTTPException) as refused:
        valid_idempotency_key(key)
    assert refused.value.status_code == 422
    assert refused.value.detail == [
        {
            "loc": ["header", "Idempotency-Key"],
            "msg": "must be 1-255 printable ASCII characters",
            "type": "value_error",
        }
    ]


def test_a_conflict_names_the_header():
    conflict = idempotency_conflict()
    assert conflict.status_code == 422
    assert conflict.detail == [
        {
            "loc": ["header", "Idempotency-Key"],
            "msg": "this key was already used with a different request body",
            "type": "idempotency_conflict",
        }
    ]


@pytest.mark.parametrize(("replayed", "header"), [(True, "true"), (False, None)])
def test_an_accepted_request_says_where_it_is_and_whether_it_is_a_replay(replayed, header):
    response = Response()
    answer_accepted(response, "/v1/pushes/p1", replayed=replayed)
    assert response.headers["Location"] == "/v1/pushes/p1"
    assert response.headers.get("Idempotent-Replayed") == header


def test_counts_come_from_the_row_s_count_columns():
    row = {"matched_count": 3, "inserted_count": 2, "published_count": 1, "status": "x"}
    assert Counts.from_row(row) == Counts(matched=3, inserted=2, published=1)


def test_pages_keep_their_own_names_and_shape_in_the_api_schema():
    for page, item in ((AllocationPage, "AllocationView"), (InboxPage, "InboxItem")):
        schema = page.model_json_schema()
        assert schema["title"] == page.__name__
        assert schema["required"] == ["items", "next_cursor"]
        assert schema["properties"]["items"]["items"] == {"$ref": f"#/$defs/{item}"}
