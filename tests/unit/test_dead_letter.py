from herald_common.consumed import ConsumedRecord
from herald_common.dead_letter import DeadLetterPublisher, dead_letter_headers


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


class _Sender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, list[tuple[str, bytes]]]] = []

    async def send_and_wait(self, topic, value=None, key=None, headers=None, **_):
        self.sent.append((topic, value, list(headers or [])))


async def test_a_value_over_the_limit_is_left_out_and_its_size_named():
    sender = _Sender()
    record = ConsumedRecord("t", 1, 9, b"k", b"x" * 11)
    await DeadLetterPublisher(sender, 10).publish(record, "too large")
    ((topic, value, headers),) = sender.sent
    assert topic == "t.dlq"
    assert value is None
    assert dict(headers)["herald.dlq.value-omitted-bytes"] == b"11"


async def test_a_value_at_the_limit_is_kept_whole():
    sender = _Sender()
    record = ConsumedRecord("t", 1, 9, b"k", b"x" * 10)
    await DeadLetterPublisher(sender, 10).publish(record, "bad")
    ((_, value, headers),) = sender.sent
    assert value == b"x" * 10
    assert "herald.dlq.value-omitted-bytes" not in dict(headers)
