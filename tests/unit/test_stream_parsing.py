import pytest
from fastapi import HTTPException

from herald_common.events import AllocationRequested
from herald_inserter.domain.parsing import RejectedRequest, parse_request
from herald_notifier.api.stream import parse_last_event_id
from herald_notifier.domain.consumer import InvalidEvent, decode_delivery


def test_last_event_id_prefers_the_header():
    assert parse_last_event_id("12", "5") == 12
    assert parse_last_event_id(None, "5") == 5
    assert parse_last_event_id(None, None) is None
    assert parse_last_event_id("", "") is None


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "١٢", "9" * 20])
def test_bad_last_event_id_is_a_400(raw):
    with pytest.raises(HTTPException) as caught:
        parse_last_event_id(raw, None)
    assert caught.value.status_code == 400


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "no value"),
        (b"not json", "invalid allocation request"),
        (b'{"specversion":"1.0","id":"x","source":"s","type":"t","data":{}}', "data.allocation_id"),
    ],
)
def test_bad_requests_are_rejected_with_a_reason(value, reason):
    with pytest.raises(RejectedRequest, match=reason):
        parse_request(value, AllocationRequested, "allocation request")


def test_voucher_event_with_a_non_numeric_id_is_invalid():
    body = (
        b'{"specversion":"1.0","id":"abc","source":"s","type":"herald.voucher.allocated",'
        b'"data":{"allocation_id":"6f1c1b8e-1111-4e2e-9d55-2b1d5d0a2f10","employee_id":"E1",'
        b'"department":"Sales","title":"t","body":"b","voucher":{"name":"n","code":"c",'
        b'"amount":"1.00","currency":"EUR","expires_on":"2027-01-01"}}}'
    )
    with pytest.raises(InvalidEvent, match="not a notification id"):
        decode_delivery(body)
    good = decode_delivery(body.replace(b'"id":"abc"', b'"id":"77"'))
    assert (good.event_id, good.employee_id, good.department) == (77, "E1", "Sales")
