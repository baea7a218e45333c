"""The previous-id header per-employee events carry, and how the notifier reads it."""

from __future__ import annotations

import pytest

from herald_common.notifications import PREVIOUS_ID_HEADER, parse_previous_id, previous_id_header
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
