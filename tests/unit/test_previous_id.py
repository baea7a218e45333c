"""The previous-id header per-employee events carry, and how the notifier reads it."""

from __future__ import annotations

import pytest

from herald_common.notifications import (
    PREVIOUS_ID_HEADER,
    id_from_header,
    parse_previous_id,
    previous_id_header,
)
from herald_notifier.domain.consumer import decode_delivery


def test_round_trip():
    assert previous_id_header(41) == (PREVIOUS_ID_HEADER, b"41")
    assert parse_previous_id([("content-type", b"x"), previous_id_header(41)]) == 41
    assert parse_previous_id([previous_id_header(0)]) == 0


@pytest.mark.parametrize("value", [b"", b"-1", b"4 2", b"\xff", b"1" * 20, "٣".encode()])
def test_anything_but_a_plain_id_means_unknown(value):
    assert parse_previous_id([(PREVIOUS_ID_HEADER, value)]) is None


def test_absent_means_unknown():
    assert parse_previous_id([]) is None


def test_deliveries_carry_it():
    body = (
        b'{"specversion":"1.0","id":"77","source":"/t","type":"herald.voucher.allocated",'
        b'"data":{"employee_id":"E1","department":"Sales"}}'
    )
    assert decode_delivery(body, [previous_id_header(12)]).previous_id == 12
    assert decode_delivery(body).previous_id is None


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (b"0", 0),
        (b"7", 7),
        (b"007", 7),
        (b"1000000012345", 1_000_000_012_345),
        (b"9" * 18, 10**18 - 1),  # the longest the compiled digit loop reads
        (b"9" * 19, 10**19 - 1),  # one more digit: read by int()
    ],
)
def test_an_id_of_1_to_19_digits_is_read_as_its_number(value, number):
    assert id_from_header(value) == number


@pytest.mark.parametrize(
    "value",
    [b"", b"1" * 20, b"-1", b"+1", b" 1", b"1 ", b"1_0", b"12a4", b"/", b":", "٣".encode()],
)
def test_anything_but_1_to_19_ascii_digits_is_no_id(value):
    assert id_from_header(value) is None
