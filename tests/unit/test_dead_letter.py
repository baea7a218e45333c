from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import dead_letter_headers


def test_headers_keep_the_original_and_say_why():
    record = ConsumedRecord(
        topic="herald.allocation.requested",
        partition=3,
        offset=17,
        key=b"k",
        value=b"\xff not json",
        headers=(("trace", b"abc"),),
    )
    headers = dict(dead_letter_headers(record, ValueError("bad thing")))
    assert headers["trace"] == b"abc"
    assert headers["herald.dlq.reason"] == b"ValueError: bad thing"
    assert headers["herald.dlq.error-type"] == b"ValueError"
    assert headers["herald.dlq.original-topic"] == b"herald.allocation.requested"
    assert headers["herald.dlq.original-partition"] == b"3"
    assert headers["herald.dlq.original-offset"] == b"17"
    assert b"herald.dlq.failed-at" in [k.encode() for k in headers]


def test_rejection_reason_is_used_verbatim():
    record = ConsumedRecord("t", 0, 0, None, b"x")
    headers = dict(dead_letter_headers(record, "record has no value"))
    assert headers["herald.dlq.reason"] == b"record has no value"
    assert headers["herald.dlq.error-type"] == b"Rejected"
