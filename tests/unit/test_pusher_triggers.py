"""Triggers through the Pusher HTTP API: Pusher's limits and answers, and where events go."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from herald_channels.domain.triggers import (
    Trigger,
    TriggerRefused,
    as_triggered,
    notification_request,
    parse_batch,
    parse_body,
    parse_event,
    route,
)


def _refused(call: object, status: int, match: str) -> None:
    assert callable(call)
    with pytest.raises(TriggerRefused, match=match) as caught:
        call()
    assert caught.value.status == status


def test_an_event_on_channels() -> None:
    trigger = parse_event({"name": "ping", "channels": ["a", "b"], "data": '{"x":1}'})
    assert trigger == Trigger("ping", ("a", "b"), '{"x":1}')


def test_an_event_on_one_channel() -> None:
    assert parse_event({"name": "ping", "channel": "a", "data": ""}).channels == ("a",)


def test_socket_id_and_info_are_kept() -> None:
    trigger = parse_event(
        {"name": "e", "channels": ["a"], "data": "", "socket_id": "1.2", "info": "user_count"}
    )
    assert (trigger.socket_id, trigger.info) == ("1.2", frozenset({"user_count"}))


def test_data_of_exactly_10_kb_is_accepted() -> None:
    parse_event({"name": "e", "channels": ["a"], "data": "x" * 10240})


def test_data_over_10_kb_is_413() -> None:
    body = {"name": "e", "channels": ["a"], "data": "x" * 10241}
    _refused(lambda: parse_event(body), 413, "Payload too large: event data is 10241 bytes")


def test_data_is_measured_in_utf8_bytes() -> None:
    body = {"name": "e", "channels": ["a"], "data": "é" * 5121}
    _refused(lambda: parse_event(body), 413, "10242 bytes")


def test_100_channels_are_accepted() -> None:
    parse_event({"name": "e", "channels": [f"c{i}" for i in range(100)], "data": ""})


def test_101_channels_are_400() -> None:
    body = {"name": "e", "channels": [f"c{i}" for i in range(101)], "data": ""}
    _refused(lambda: parse_event(body), 400, "Too many channels: 101")


def test_a_missing_name_is_named() -> None:
    _refused(lambda: parse_event({"channels": ["a"], "data": ""}), 400, "Missing parameter: name")


def test_data_that_is_not_a_string_is_refused() -> None:
    body = {"name": "e", "channels": ["a"], "data": {"x": 1}}
    _refused(lambda: parse_event(body), 400, "Missing parameter: data")


def test_no_channel_is_refused() -> None:
    _refused(lambda: parse_event({"name": "e", "data": ""}), 400, "channels")


def test_an_invalid_channel_name_is_named() -> None:
    body = {"name": "e", "channels": ["ok", "not ok"], "data": ""}
    _refused(lambda: parse_event(body), 400, "Invalid channel name: not ok")


def test_a_channel_name_over_200_characters_is_refused() -> None:
    body = {"name": "e", "channels": ["c" * 201], "data": ""}
    _refused(lambda: parse_event(body), 400, "Channel name too long")


def test_the_server_to_user_channel_is_accepted() -> None:
    trigger = parse_event({"name": "e", "channel": "#server-to-user-42", "data": ""})
    assert trigger.channels == ("#server-to-user-42",)


def test_an_event_name_over_200_characters_is_refused() -> None:
    body = {"name": "e" * 201, "channels": ["a"], "data": ""}
    _refused(lambda: parse_event(body), 400, "Event name too long")


def test_reserved_event_names_are_refused() -> None:
    body = {"name": "pusher:subscribe", "channels": ["a"], "data": ""}
    _refused(lambda: parse_event(body), 400, "reserved")


def test_a_bad_socket_id_is_refused() -> None:
    body = {"name": "e", "channels": ["a"], "data": "", "socket_id": "abc"}
    _refused(lambda: parse_event(body), 400, "Invalid socket_id: abc")


def test_an_unknown_info_attribute_is_refused() -> None:
    body = {"name": "e", "channels": ["a"], "data": "", "info": "user_count,colour"}
    _refused(lambda: parse_event(body), 400, "Unknown info attribute")


def test_an_encrypted_channel_goes_alone() -> None:
    body = {"name": "e", "channels": ["private-encrypted-a", "b"], "data": ""}
    _refused(lambda: parse_event(body), 400, "encrypted")


def test_a_body_that_is_not_json_is_refused() -> None:
    _refused(lambda: parse_body(b"{"), 400, "not valid JSON")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    _refused(lambda: parse_body(b"[]"), 400, "JSON object")


def test_a_batch_of_10_is_accepted() -> None:
    batch = [{"name": "e", "channel": f"c{i}", "data": str(i)} for i in range(10)]
    assert [t.data for t in parse_batch({"batch": batch})] == [str(i) for i in range(10)]


def test_a_batch_of_11_is_400() -> None:
    batch = [{"name": "e", "channel": "c", "data": ""}] * 11
    _refused(lambda: parse_batch({"batch": batch}), 400, "Batch too large: 11 events")


def test_a_batch_names_the_bad_event() -> None:
    batch = [{"name": "e", "channel": "c", "data": ""}, {"name": "e", "channel": "c"}]
    _refused(lambda: parse_batch({"batch": batch}), 400, r"^batch\[1\]: Missing parameter: data")


def test_a_batch_event_over_10_kb_is_413() -> None:
    batch = [{"name": "e", "channel": "c", "data": "x" * 10241}]
    _refused(lambda: parse_batch({"batch": batch}), 413, "Payload too large")


def test_a_batch_event_without_channel_is_refused() -> None:
    _refused(lambda: parse_batch({"batch": [{"name": "e", "data": ""}]}), 400, "channel")


def test_an_empty_batch_is_refused() -> None:
    _refused(lambda: parse_batch({"batch": []}), 400, "batch")


def test_employee_channels_are_notifications_and_the_rest_live() -> None:
    trigger = Trigger(
        "e", ("private-employee-E1", "presence-room", "private-employee-E2", "news"), ""
    )
    routes = route(trigger)
    assert routes.employee_ids == ("E1", "E2")
    assert routes.live_channels == ("presence-room", "news")


def test_an_employee_channel_naming_no_possible_employee_is_live() -> None:
    assert route(Trigger("e", ("private-employee-a@b",), "")).live_channels == (
        "private-employee-a@b",
    )


def test_the_notification_carries_the_pusher_event() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    trigger = Trigger("order-shipped", ("private-employee-E1",), '{"id":7}', socket_id="1.2")
    request = notification_request(trigger, ("E1",), app_id="42", now=now)
    assert request.title == "order-shipped"
    assert request.requested_by == "pusher-app:42"
    assert request.target.employee_ids == ["E1"]
    assert request.requested_at == now
    assert request.data == {
        "pusher": {"event": "order-shipped", "data": '{"id":7}', "exclude_socket_id": "1.2"}
    }


def _pushed(data: dict[str, object]) -> bytes:
    event = {"type": "herald.notification.pushed", "id": "17", "data": {"data": data}}
    return json.dumps(event).encode()


def test_a_triggered_notification_is_delivered_as_its_pusher_event() -> None:
    value = _pushed({"pusher": {"event": "order-shipped", "data": '{"id":7}'}})
    assert as_triggered("herald.notification.pushed", value) == ("order-shipped", '{"id":7}')


def test_other_pushes_are_delivered_as_herald_events() -> None:
    assert as_triggered("herald.notification.pushed", _pushed({"colour": "red"})) is None


def test_vouchers_are_delivered_as_herald_events() -> None:
    value = _pushed({"pusher": {"event": "x", "data": ""}})
    assert as_triggered("herald.voucher.allocated", value) is None


def test_a_malformed_pusher_field_is_delivered_as_a_herald_event() -> None:
    value = _pushed({"pusher": {"event": 3, "data": ""}})
    assert as_triggered("herald.notification.pushed", value) is None
