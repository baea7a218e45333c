import asyncio

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.registry import Registry
from herald_notifier.domain.subscriber import Subscriber


def delivery(
    event_id: int, employee: str = "E1", department: str = "Sales", visible: bool = True
) -> Delivery:
    """A voucher event, visible to the department's watchers unless `visible` is False."""
    return Delivery(
        event_id, "herald.voucher.allocated", employee, department, "{}", department_visible=visible
    )


async def test_delivery_reaches_only_that_employees_streams():
    registry = Registry()
    ann_tab1 = Subscriber("E1", "Sales", 10)
    ann_tab2 = Subscriber("E1", "Sales", 10)
    bob = Subscriber("E2", "Sales", 10)
    hr = Subscriber("E3", "HR", 10)
    for s in (ann_tab1, ann_tab2, bob, hr):
        registry.add(s)

    assert registry.dispatch(delivery(1)) == 2
    assert [d.event_id for d in await ann_tab1.take()] == [1]
    assert [d.event_id for d in await ann_tab2.take()] == [1]
    assert bob._pending == []
    assert hr._pending == []


async def test_slow_subscriber_is_cut_off_without_blocking_others():
    cut = []
    registry = Registry(on_cut_off=cut.append)
    slow = Subscriber("E1", "Sales", 2)
    fast = Subscriber("E1", "Sales", 100)
    registry.add(slow)
    registry.add(fast)

    for i in range(1, 6):
        registry.dispatch(delivery(i))

    assert cut == [slow]
    assert slow.closed
    assert registry.size == 1
    assert [d.event_id for d in await fast.take()] == [1, 2, 3, 4, 5]
    # The slow one ends at once; its client replays what it had not read yet.
    assert await slow.take() is None


async def test_close_wakes_a_waiting_reader():
    subscriber = Subscriber("E1", "Sales", 5)
    waiter = asyncio.create_task(subscriber.take())
    await asyncio.sleep(0)
    subscriber.close()
    assert await asyncio.wait_for(waiter, 1) is None


def test_remove_cleans_up_empty_maps():
    registry = Registry()
    s = Subscriber("E1", "Sales", 5)
    registry.add(s)
    registry.remove(s)
    registry.remove(s)
    assert registry.size == 0
    assert registry._departments == {}


async def test_take_returns_everything_buffered_at_once_and_empty_for_a_ping():
    subscriber = Subscriber("E1", "Sales", 10)
    for i in (1, 2, 3):
        subscriber.offer(delivery(i))
    assert [d.event_id for d in await subscriber.take()] == [1, 2, 3]
    # Nothing buffered: take waits, and a ping request wakes it with an empty batch.
    waiting = asyncio.create_task(subscriber.take())
    await asyncio.sleep(0)
    assert not waiting.done()
    subscriber.ping()
    assert await asyncio.wait_for(waiting, 1) == []
    # A ping asked for while events wait is answered by the events themselves.
    subscriber.offer(delivery(4))
    subscriber.ping()
    assert [d.event_id for d in await subscriber.take()] == [4]
    subscriber.close()
    assert await subscriber.take() is None


def test_a_delivery_frame_is_encoded_once_and_shared():
    d = Delivery(7, "herald.voucher.allocated", "E1", "Sales", '{"a":1}')
    frame = d.frame(3000)
    assert frame == b'id: 7\nevent: herald.voucher.allocated\ndata: {"a":1}\nretry: 3000\n\n'
    assert d.frame(3000) is frame
    assert (
        Delivery(None, "unread-count", "E1", "", '{"unread":1}').frame(3000).startswith(b"event:")
    )


def _sales_and_an_ops_watcher() -> tuple[Registry, Subscriber]:
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", capacity=4))
    manager = Subscriber("M1", "HR", capacity=4, departments=frozenset({"Ops"}))
    registry.add(manager)
    return registry, manager


def test_an_event_for_an_employee_with_a_stream_here_is_wanted_in_their_department():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"Sales", "E1", True) == "Sales"


def test_an_event_for_an_employee_without_a_stream_is_not_wanted():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"Sales", "E2", True) is None  # the department, not the employee


def test_an_event_keyed_by_another_department_is_not_wanted():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"Finance", "E1", True) is None  # E1 is in Sales


def test_a_watcher_wants_every_visible_event_of_the_department_it_watches():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"Ops", "anyone", True) == "Ops"


def test_a_watcher_wants_the_events_of_its_own_channel():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"HR", "M1", False) == "HR"


def test_a_key_that_is_not_utf8_names_no_department():
    registry, _ = _sales_and_an_ops_watcher()
    assert registry.wanted_in(b"\xff", "E1", True) is None


def test_a_watched_department_is_not_wanted_once_its_watcher_has_gone():
    registry, manager = _sales_and_an_ops_watcher()
    registry.remove(manager)
    assert registry.wanted_in(b"Ops", "anyone", True) is None


def test_a_watcher_does_not_want_a_private_event():
    registry = Registry()
    registry.add(Subscriber("M1", "HR", capacity=4, departments=frozenset({"Ops"})))
    assert registry.wanted_in(b"Ops", "anyone", False) is None


def test_a_department_named_with_a_lone_surrogate_is_served_by_its_name():
    # No record's key can carry such a name (keys are UTF-8), but a token's JSON can.
    registry = Registry()
    subscriber = Subscriber("E1", "Sales\ud800", capacity=4)
    registry.add(subscriber)
    assert registry.dispatch(delivery(1, department="Sales\ud800")) == 1
    registry.remove(subscriber)
    assert registry.size == 0


async def test_a_private_event_reaches_its_employee_and_no_watcher():
    registry = Registry()
    own = Subscriber("E1", "Sales", 10)
    manager = Subscriber("M1", "HR", 10, departments=frozenset({"Sales"}))
    registry.add(own)
    registry.add(manager)
    assert registry.dispatch(delivery(1, visible=False)) == 1
    assert [d.event_id for d in await own.take()] == [1]
    assert registry.dispatch(delivery(2, visible=True)) == 2  # the watcher takes the next
    assert [d.event_id for d in await manager.take()] == [2]


async def test_a_frame_for_an_employee_reaches_their_streams_and_no_watcher():
    registry = Registry()
    tabs = [Subscriber("E1", "Sales", 4), Subscriber("E1", "Sales", 4)]
    watcher = Subscriber("M1", "Sales", 4, departments=frozenset({"Sales"}))
    for s in (*tabs, watcher):
        registry.add(s)
    assert registry.has_streams("E1")
    assert registry.has_streams("M1")
    assert not registry.has_streams("E2")
    unread = Delivery(None, "unread-count", "E1", "", '{"unread": 1}')
    assert registry.dispatch_to_employee("E1", unread) == 2
    assert [await t.take() for t in tabs] == [[unread], [unread]]
    assert watcher._pending == []
    assert registry.dispatch_to_employee("E2", unread) == 0
    for tab in tabs:
        registry.remove(tab)
    assert not registry.has_streams("E1")


def test_stream_slots_are_reserved_up_to_the_limit_and_released_one_by_one():
    registry = Registry()
    assert [registry.reserve("E1", 3) for _ in range(4)] == [True, True, True, False]
    assert registry.reserve("E2", 3)  # another employee's slots are their own
    registry.release("E1")
    assert registry.slots_taken("E1") == 2
    assert registry.reserve("E1", 3)
    assert not registry.reserve("E1", 3)
    for _ in range(4):
        registry.release("E1")  # one release too many frees nothing of anyone else's
    assert registry.slots_taken("E1") == 0
    assert registry.slots_taken("E2") == 1
    assert registry._slots == {"E2": 1}


def test_reached_own_names_the_inbox_items_of_employees_with_a_stream_here():
    registry = Registry()
    registry.add(Subscriber("E1", "Sales", 10))
    registry.add(Subscriber("M1", "HR", 10, departments=frozenset({"Sales"})))
    # E2 has no stream (only the watcher saw 2); a frame without an id is no inbox item.
    frame = Delivery(None, "herald.unread-count", "E1", "", "{}")
    assert registry.reached_own([delivery(1), delivery(2, employee="E2"), frame]) == [1]


def test_a_non_ascii_department_key_is_looked_up_by_its_text():
    registry = Registry()
    registry.add(Subscriber("E1", "Vertrieb Süd", 10))
    assert registry.wanted_in("Vertrieb Süd".encode(), "E1", True) == "Vertrieb Süd"
