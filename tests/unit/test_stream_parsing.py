from urllib.parse import urlencode

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from herald_common.auth.channels import Channel
from herald_common.events import AllocationRequested
from herald_inserter.domain.parsing import RejectedRequest, parse_request
from herald_notifier.api.stream_query import (
    MAX_CHANNELS,
    MAX_LENGTH,
    StreamQuery,
    parse_last_event_id,
    read_ticket,
)
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


def stream_request(query: list[tuple[str, str]], headers: dict[str, str] | None = None):
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/v1/stream",
            "query_string": urlencode(query).encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        }
    )


def test_stream_query_reads_channels_signatures_and_the_last_event_id():
    request = stream_request(
        [
            ("ticket", "t1"),
            ("channels", "private-department-Sales,private-department-HR"),
            ("channels", "private-employee-E1"),
            ("channel_auth", "k:a,k:b,k:c"),
            ("last_event_id", "5"),
        ],
        {"Last-Event-ID": "7"},
    )
    ticket = read_ticket(request)
    assert StreamQuery.read(request, ticket) == StreamQuery(
        ticket="t1",
        channels=[
            Channel("department", "Sales"),
            Channel("department", "HR"),
            Channel("employee", "E1"),
        ],
        channel_auth="k:a,k:b,k:c",
        last_event_id=7,  # the header wins
    )
    assert StreamQuery.read(stream_request([]), None) == StreamQuery(None, [], None, None)


def test_an_open_without_a_query_string_still_reads_last_event_id_from_its_header():
    request = stream_request([], {"Last-Event-ID": "7"})
    assert read_ticket(request) is None
    assert StreamQuery.read(request, None) == StreamQuery(None, [], None, 7)


@pytest.mark.parametrize("name", sorted(MAX_LENGTH))
def test_each_query_value_over_its_limit_is_a_400(name):
    limit = MAX_LENGTH[name]
    at_limit = stream_request([(name, "1" * limit)])
    over = stream_request([(name, "1" * (limit + 1))])
    read = read_ticket if name == "ticket" else lambda r: StreamQuery.read(r, None)
    with pytest.raises(HTTPException) as caught:
        read(over)
    assert (caught.value.status_code, caught.value.detail) == (
        400,
        f"{name} is longer than {limit} characters",
    )
    if name != "last_event_id":  # 32 digits are too many for an id: a 400 of its own
        read(at_limit)


def test_more_channels_than_the_limit_is_a_400_and_a_bad_name_too():
    names = [f"private-department-D{n}" for n in range(MAX_CHANNELS + 1)]
    assert (
        len(StreamQuery.read(stream_request([("channels", ",".join(names[1:]))]), None).channels)
        == MAX_CHANNELS
    )
    for query in ([("channels", ",".join(names))], [("channels", "public-news")]):
        with pytest.raises(HTTPException) as caught:
            StreamQuery.read(stream_request(query), None)
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
