"""Live delivery marks: only an employee's own stream counts, and a round is one batch."""

from __future__ import annotations

import asyncio
from array import array
from collections.abc import Sequence
from typing import Any

import pytest

from herald_notifier.domain import delivered_marks
from herald_notifier.domain.delivered_marks import DeliveredMarks, id_array
from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.inbox_listener import pass_on_state
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber


def voucher(event_id: int | None, employee: str) -> Delivery:
    return Delivery(event_id, "herald.voucher.allocated", employee, "Sales", "{}")


class Recorder(DeliveredMarks):
    """Keeps each round's ids instead of writing them."""

    def __init__(self, registry: Registry) -> None:
        super().__init__(pool=None, registry=registry, interval_seconds=0.01)  # type: ignore[arg-type]
        self.rounds: list[list[int]] = []

    async def write(self, ids: Sequence[int]) -> None:
        self.rounds.append(list(ids))


async def one_round(marks: Recorder) -> None:
    task = asyncio.create_task(marks.run())
    await asyncio.sleep(0.05)
    task.cancel()


async def test_only_deliveries_to_the_employees_own_stream_are_marked() -> None:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    registry.add(Subscriber("M1", "HR", 10, departments=frozenset({"Sales"})))
    marks = Recorder(registry)
    # E2 has no stream (only the watcher saw it); the frame without an id is no inbox item.
    marks.delivered([voucher(1, "E1"), voucher(2, "E2"), voucher(None, "E1")])
    await one_round(marks)
    assert marks.rounds == [[1]]


async def test_a_round_writes_every_mark_so_far_at_once() -> None:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    marks = Recorder(registry)
    marks.delivered([voucher(n, "E1") for n in range(1, 4)])
    marks.delivered([voucher(4, "E1")])
    await one_round(marks)
    assert marks.rounds == [[1, 2, 3, 4]]


async def test_a_state_notice_reaches_only_its_employees_streams() -> None:
    registry = Registry()
    own, other = Subscriber("E1", "Sales", 10), Subscriber("E2", "Sales", 10)
    registry.add(own)
    registry.add(other)
    pass_on_state(registry, '{"employee_id": "E1", "id": 7, "read": true, "archived": false}')
    [frame] = await own.take() or []
    assert frame.event_type == "notification-state"
    assert frame.data == '{"id": 7, "read": true, "archived": false}'
    registry.dispatch_to_employee("E2", voucher(None, "E2"))  # so take() does not wait
    assert [d.event_type for d in await other.take() or []] == ["herald.voucher.allocated"]


async def test_a_malformed_state_notice_is_ignored(caplog: Any) -> None:
    registry = Registry()
    own = Subscriber("E1", "Sales", 10)
    registry.add(own)
    pass_on_state(registry, '{"employee_id": "E1", "id": "7"}')
    registry.dispatch_to_employee("E1", voucher(None, "E1"))  # so take() does not wait
    assert [d.event_type for d in await own.take() or []] == ["herald.voucher.allocated"]
    assert "not one" in caplog.text


def test_ids_go_as_the_text_of_one_bigint_array() -> None:
    assert id_array([3, 1, 9007199254740993]) == "{3,1,9007199254740993}"


def test_no_ids_are_an_empty_array() -> None:
    assert id_array([]) == "{}"


def test_ids_kept_as_machine_ints_give_the_same_text() -> None:
    # What a round passes: a slice of the pending ids, kept as an array of 8-byte ints.
    assert id_array(array("q", [3, 1, 9007199254740993])[:2]) == "{3,1}"


async def test_marks_beyond_the_bound_drop_the_oldest_and_say_so(
    monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr(delivered_marks, "MAX_PENDING", 3)
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    marks = Recorder(registry)
    marks.delivered([voucher(n, "E1") for n in range(1, 6)])
    await one_round(marks)
    assert marks.rounds == [[3, 4, 5]]
    assert "dropped 2 delivered marks" in caplog.text


async def test_a_failed_round_is_written_again_before_later_marks() -> None:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))

    class FailsOnce(Recorder):
        failed = False

        async def write(self, ids: Sequence[int]) -> None:
            if not self.failed:
                self.failed = True
                self.delivered([voucher(9, "E1")])  # arrives while the round is out
                raise OSError("database away")
            await super().write(ids)

    marks = FailsOnce(registry)
    marks.delivered([voucher(1, "E1"), voucher(2, "E1")])
    await one_round(marks)
    assert marks.rounds == [[1, 2, 9]]
