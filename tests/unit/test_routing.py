"""Routing headers: the notifier routes per-employee events without parsing their JSON."""

import re
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from herald_common.events import NOTIFICATION_PUSHED, VOUCHER_ALLOCATED
from herald_common.notifications import EventTemplate, previous_id_header
from herald_common.routing import (
    ALLOCATION_ID_HEADER,
    EMPLOYEE_ID_HEADER,
    NOTIFICATION_ID_HEADER,
    VISIBILITY_HEADER,
    InvalidRouting,
    read_routing,
    route,
)
from herald_notifier.domain.consumer import (
    InvalidEvent,
    decode_delivery,
    decode_record,
    decode_routed,
)
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber

VALUE = EventTemplate(
    kind=VOUCHER_ALLOCATED, source="/herald/inserter", created_at=datetime(2026, 1, 1, tzinfo=UTC)
).render(77, "E1", '{"employee_id":"E1","department":"Sales","title":"t","body":"b"}')


MAX_BYTES = 1_000_000


class _Record:
    offset = 0

    def __init__(
        self, key: bytes | None, value: bytes, found: list[tuple[str, bytes | None]]
    ) -> None:
        self.key, self.value, self.headers = key, value, found


def headers(**extra: bytes) -> list[tuple[str, bytes]]:
    found = [
        ("content-type", b"application/cloudevents+json"),
        (NOTIFICATION_ID_HEADER, b"77"),
        (EMPLOYEE_ID_HEADER, b"E1"),
        previous_id_header(12),
    ]
    return found + [(name.replace("_", "-"), value) for name, value in extra.items()]


def test_routed_event_is_delivered_as_the_same_bytes_the_full_decode_reads():
    allocation = str(uuid4())
    routing = read_routing(
        [*headers(), (ALLOCATION_ID_HEADER, allocation.encode())], VOUCHER_ALLOCATED
    )
    assert routing is not None
    routed = decode_routed(routing, VOUCHER_ALLOCATED, "Sales", VALUE)
    full = decode_delivery(VALUE, headers())
    assert (
        (routed.event_id, routed.employee_id, routed.department, routed.previous_id)
        == (
            full.event_id,
            full.employee_id,
            full.department,
            full.previous_id,
        )
        == (77, "E1", "Sales", 12)
    )
    assert routed.allocation_id == allocation
    assert routed.frame(3000) == full.frame(3000)


def test_records_without_routing_headers_take_the_full_decode():
    assert (
        read_routing([("content-type", b"application/cloudevents+json")], VOUCHER_ALLOCATED) is None
    )
    assert read_routing([], VOUCHER_ALLOCATED) is None


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        ([(NOTIFICATION_ID_HEADER, b"77")], "come together"),
        ([(EMPLOYEE_ID_HEADER, b"E1")], "come together"),
        ([(NOTIFICATION_ID_HEADER, b"7x"), (EMPLOYEE_ID_HEADER, b"E1")], "1 to 19 digits"),
        ([(NOTIFICATION_ID_HEADER, b"9" * 20), (EMPLOYEE_ID_HEADER, b"E1")], "1 to 19 digits"),
        ([(NOTIFICATION_ID_HEADER, b"7"), (EMPLOYEE_ID_HEADER, b"")], "printable"),
        ([(NOTIFICATION_ID_HEADER, b"7"), (EMPLOYEE_ID_HEADER, b"E\n1")], "printable"),
        ([(NOTIFICATION_ID_HEADER, b"7"), (EMPLOYEE_ID_HEADER, b"\xff")], "UTF-8"),
        (
            [
                (NOTIFICATION_ID_HEADER, b"7"),
                (EMPLOYEE_ID_HEADER, b"E1"),
                ("herald.previous-id", b"-1"),
            ],
            "1 to 19 digits",
        ),
    ],
)
def test_malformed_routing_headers_are_refused(found, reason):
    with pytest.raises(InvalidRouting, match=reason):
        read_routing(found, VOUCHER_ALLOCATED)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "not a JSON object"),
        (b"", "not a JSON object"),
        (b"[1]", "not a JSON object"),
        (b'{"a":"x\ny"}', "one line"),
        (b'{"a":"x\ry"}', "one line"),
        (b'{"a":"\xff"}', "not UTF-8"),
    ],
)
def test_routed_values_that_cannot_be_one_sse_data_line_are_invalid(value, reason):
    routing = read_routing(headers(), VOUCHER_ALLOCATED)
    assert routing is not None
    with pytest.raises(InvalidEvent, match=reason):
        decode_routed(routing, VOUCHER_ALLOCATED, "Sales", value)


def test_non_ascii_utf8_values_are_routed():
    routing = read_routing(headers(), VOUCHER_ALLOCATED)
    assert routing is not None
    value = '{"title":"Gutschein für Sie ✓"}'.encode()
    assert decode_routed(routing, VOUCHER_ALLOCATED, "Sales", value).data == value


def test_a_routed_record_without_a_key_is_refused():
    with pytest.raises(InvalidEvent, match="no key"):
        decode_record(VOUCHER_ALLOCATED, _Record(None, VALUE, headers()), _listening(), MAX_BYTES)


def test_a_routed_record_whose_key_is_not_utf8_is_nobodys_here():
    assert (
        decode_record(
            VOUCHER_ALLOCATED, _Record(b"\xff", VALUE, headers()), _listening(), MAX_BYTES
        )
        is None
    )


def test_a_routed_delivery_names_its_department_as_the_registry_does():
    delivered = decode_record(
        VOUCHER_ALLOCATED,
        _Record("Vertrieb Süd".encode(), VALUE, headers()),
        _listening("Vertrieb Süd"),
        MAX_BYTES,
    )
    assert delivered is not None
    assert delivered.department == "Vertrieb Süd"


def test_a_routed_record_nobody_here_listens_to_is_skipped_without_reading_its_value():
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", capacity=4))

    garbage = b"not json\n"
    # E1 has no stream in Finance and nobody watches it: not decoded, not dead-lettered.
    assert (
        decode_record(
            VOUCHER_ALLOCATED, _Record(b"Finance", garbage, headers()), registry, MAX_BYTES
        )
        is None
    )
    # A listener makes the value matter: the same value is refused.
    with pytest.raises(InvalidEvent, match="not a JSON object"):
        decode_record(VOUCHER_ALLOCATED, _Record(b"Sales", garbage, headers()), registry, MAX_BYTES)
    delivered = decode_record(
        VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, headers()), registry, MAX_BYTES
    )
    assert delivered is not None
    assert delivered.employee_id == "E1"
    # Malformed routing headers are refused whoever listens.
    bad = [(NOTIFICATION_ID_HEADER, b"7x"), (EMPLOYEE_ID_HEADER, b"E9")]
    with pytest.raises(InvalidEvent, match="1 to 19 digits"):
        decode_record(VOUCHER_ALLOCATED, _Record(b"Finance", VALUE, bad), registry, MAX_BYTES)


def _listening(department: str = "Sales") -> Registry:
    registry = Registry()
    registry.add(Subscriber("E1", department, capacity=4))
    return registry


def test_a_record_over_the_size_limit_is_refused_naming_the_limit():
    with pytest.raises(InvalidEvent, match="HERALD_KAFKA_MAX_RECORD_BYTES"):
        decode_record(VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, headers()), _listening(), 10)


def test_a_routing_header_given_twice_is_refused():
    twice = [*headers(), (EMPLOYEE_ID_HEADER, b"E2")]
    with pytest.raises(
        InvalidEvent, match=re.escape(f"header {EMPLOYEE_ID_HEADER} appears more than once")
    ):
        decode_record(VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, twice), _listening(), MAX_BYTES)


def test_a_herald_header_without_a_value_is_refused():
    empty: list[tuple[str, bytes | None]] = [*headers(), (VISIBILITY_HEADER, None)]
    with pytest.raises(InvalidEvent, match=re.escape(f"header {VISIBILITY_HEADER} has no value")):
        decode_record(VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, empty), _listening(), MAX_BYTES)


def test_a_private_voucher_is_not_for_the_department_watchers():
    private = [*headers(), (VISIBILITY_HEADER, b"private")]
    delivered = decode_record(
        VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, private), _listening(), MAX_BYTES
    )
    assert delivered is not None
    assert delivered.department_visible is False


def test_a_voucher_without_a_visibility_header_is_for_the_department_watchers():
    delivered = decode_record(
        VOUCHER_ALLOCATED, _Record(b"Sales", VALUE, headers()), _listening(), MAX_BYTES
    )
    assert delivered is not None
    assert delivered.department_visible is True


def test_route_reads_every_routing_header_in_one_pass():
    allocation = str(uuid4())
    found = [
        *headers(),
        (ALLOCATION_ID_HEADER, allocation.encode()),
        (VISIBILITY_HEADER, b"private"),
    ]
    routing = route(found, VOUCHER_ALLOCATED)
    assert routing is not None
    assert (
        routing.notification_id,
        routing.employee_id,
        routing.previous_id,
        routing.allocation_id,
        routing.department_visible,
    ) == (77, "E1", 12, allocation, False)


def test_route_finds_no_routing_without_routing_headers():
    assert route([("content-type", b"application/cloudevents+json")], VOUCHER_ALLOCATED) is None


def test_route_reads_routing_beside_a_dead_letters_history():
    found = [*headers(), ("herald.dlq.reason", b"was refused once")]
    routing = route(found, VOUCHER_ALLOCATED)
    assert routing is not None
    assert routing.notification_id == 77


def test_route_leaves_a_repeated_header_of_others_alone():
    found = [*headers(), ("content-type", b"application/json")]
    assert route(found, VOUCHER_ALLOCATED) is not None


def test_route_refuses_a_routing_header_given_twice():
    twice = [*headers(), (NOTIFICATION_ID_HEADER, b"78")]
    with pytest.raises(
        InvalidRouting, match=re.escape(f"header {NOTIFICATION_ID_HEADER} appears more than once")
    ):
        route(twice, VOUCHER_ALLOCATED)


def test_route_refuses_a_herald_header_without_a_value():
    empty: list[tuple[str, bytes | None]] = [*headers(), (ALLOCATION_ID_HEADER, None)]
    with pytest.raises(
        InvalidRouting, match=re.escape(f"header {ALLOCATION_ID_HEADER} has no value")
    ):
        route(empty, VOUCHER_ALLOCATED)


def test_route_takes_an_empty_header_as_given():
    routing = route([*headers(), (ALLOCATION_ID_HEADER, b"")], VOUCHER_ALLOCATED)
    assert routing is not None
    assert routing.allocation_id == ""


def test_route_refuses_malformed_routing_headers_as_read_routing_does():
    with pytest.raises(InvalidRouting, match="1 to 19 digits"):
        route([(NOTIFICATION_ID_HEADER, b"7x"), (EMPLOYEE_ID_HEADER, b"E1")], VOUCHER_ALLOCATED)


def test_an_event_other_than_a_voucher_is_private_without_a_visibility_header():
    routing = route(headers(), NOTIFICATION_PUSHED)
    assert routing is not None
    assert routing.department_visible is False


def test_an_event_marked_for_the_department_is_visible_to_it():
    routing = route([*headers(), (VISIBILITY_HEADER, b"department")], NOTIFICATION_PUSHED)
    assert routing is not None
    assert routing.department_visible is True
