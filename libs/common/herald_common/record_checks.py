"""What every consumer checks of a record before decoding it: its size and Herald's headers.

Kafka's own limit is on the batch as stored, so a compressed record can reach a consumer
many times larger than the broker's `message.max.bytes`; each service accepts values up to
`HERALD_KAFKA_MAX_RECORD_BYTES` and dead-letters the rest unread (docs/decisions/0063).

Herald's headers (`herald.*`) carry routing and ordering; a record with one of them twice
(which copy is meant?) or without a value makes no sense and is dead-lettered too. The
`herald.dlq.*` headers are history, written when a record was dead-lettered before, and
are left alone so that a record can be sent back from its dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from herald_common.dead_letter import HEADER_PREFIX as DEAD_LETTER_PREFIX

HERALD_HEADER_PREFIX: Final = "herald."


def oversized(value: bytes | None, max_bytes: int) -> str | None:
    """Why the value is too large for this service, or None when it is not."""
    if value is not None and len(value) > max_bytes:
        return (
            f"record value is {len(value):,} bytes; this service accepts at most"
            f" {max_bytes:,} (HERALD_KAFKA_MAX_RECORD_BYTES)"
        )
    return None


def checked_headers(
    headers: Sequence[tuple[str, bytes | None]],
) -> tuple[dict[str, bytes], str | None]:
    """Herald's headers by name, and why they make no sense (None when they do).

    One pass for the check and for the lookups after it: a notifier reads 100,000 records
    per allocation, and their headers were walked four times (this check, the routing
    headers, the visibility and the previous id). The headers found may include others
    than Herald's: look them up by name.
    """
    # Most records repeat no header and give each a value: then one dict is both the check
    # and the lookup (docs/decisions/0086). Built by this loop, not `dict(headers)`: this
    # module is compiled (docs/decisions/0093), and mypyc's `dict()` of a sequence took
    # 0.87-0.91 µs for a voucher event's six headers where the compiled loop takes
    # 0.26-0.50 µs (interpreted: 0.68-1.35 and 0.40-0.78 µs; measured in isolation). A
    # header with an empty value or none takes the loop below, which tells b"" from None.
    every: dict[str, bytes] = {}
    for name, value in headers:
        if not value:
            break
        every[name] = value
    else:
        if len(every) == len(headers):
            return every, None
    found: dict[str, bytes] = {}
    for name, value in headers:
        if not name.startswith(HERALD_HEADER_PREFIX) or name.startswith(DEAD_LETTER_PREFIX):
            continue
        if name in found:
            return found, f"header {name} appears more than once"
        if value is None:
            return found, f"header {name} has no value"
        found[name] = value
    return found, None


def header_problem(headers: Sequence[tuple[str, bytes | None]]) -> str | None:
    """Why Herald's headers on a record make no sense, or None when they do."""
    return checked_headers(headers)[1]


def record_problem(
    value: bytes | None, headers: Sequence[tuple[str, bytes | None]], max_bytes: int
) -> str | None:
    """Why a record is rejected before its value is read, or None to go on decoding it."""
    return oversized(value, max_bytes) or header_problem(headers)
