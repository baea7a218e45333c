"""Who is listening: department -> employee -> that employee's open streams.

Per-employee events are keyed by department, so one lookup finds the department and a
second finds the employee's streams; the department's watchers (its manager, hr-admins)
hang off the same department entry. Allocation progress has watchers of its own.

It also counts each employee's stream slots: a slot is reserved when a stream is allowed
to open, before the stream registers, and released when it ends (see `reserve`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.subscriber import Subscriber


class _Department:
    __slots__ = ("employees", "name", "watchers")

    def __init__(self, name: str) -> None:
        self.name = name
        self.employees: dict[str, list[Subscriber]] = {}
        self.watchers: set[Subscriber] = set()

    def empty(self) -> bool:
        return not self.employees and not self.watchers


def _append(streams: dict[str, list[Subscriber]], key: str, subscriber: Subscriber) -> None:
    found = streams.get(key)
    if found is None:
        streams[key] = [subscriber]
    else:
        found.append(subscriber)


def _key_of(department: str) -> bytes | None:
    """The department's name as a record's key carries it; None for a name with a lone
    surrogate, which no record's key can carry."""
    try:
        return department.encode()
    except UnicodeEncodeError:
        return None


class Registry:
    def __init__(self, on_cut_off: Callable[[Subscriber], None] | None = None) -> None:
        self._departments: dict[str, _Department] = {}
        # The same departments by their names' UTF-8, as a record's key carries them: no
        # record's key is decoded to be looked up (most are for streams elsewhere).
        self._by_key: dict[bytes, _Department] = {}
        # employee id -> every stream they opened. Lists, not sets: an employee has one or
        # two streams, and a one-item set costs three times a one-item list, per stream.
        self._by_employee: dict[str, list[Subscriber]] = {}
        self._allocations: dict[str, set[Subscriber]] = {}
        self._on_cut_off = on_cut_off
        # employee id -> stream slots reserved (streams opening or open), see `reserve`.
        self._slots: dict[str, int] = {}
        self.size = 0
        # Streams offered something while wakes are held, to flush (`hold_wakes`).
        self._held: list[Subscriber] | None = None

    def subscribers(self) -> list[Subscriber]:
        """Every open stream, as a list: the caller may cut some off while going through."""
        return [s for streams in self._by_employee.values() for s in streams]

    def streams_of(self, employee_id: str) -> int:
        return len(self._by_employee.get(employee_id, ()))

    def reserve(self, employee_id: str, limit: int) -> bool:
        """Take one of the employee's `limit` stream slots; False when all are taken.

        The check and the count are one step, with nothing awaited between them: a stream
        registers only once its response starts, so counting registered streams would let
        every concurrent open pass the check. Whoever reserved releases the slot once,
        when the stream ends or fails to open.
        """
        taken = self._slots.get(employee_id, 0)
        if taken >= limit:
            return False
        self._slots[employee_id] = taken + 1
        return True

    def release(self, employee_id: str) -> None:
        taken = self._slots.get(employee_id, 0)
        if taken > 1:
            self._slots[employee_id] = taken - 1
        else:
            self._slots.pop(employee_id, None)

    def slots_taken(self, employee_id: str) -> int:
        return self._slots.get(employee_id, 0)

    def add(self, subscriber: Subscriber) -> None:
        department = self._department(subscriber.department)
        _append(department.employees, subscriber.employee_id, subscriber)
        for name in subscriber.departments:
            self._department(name).watchers.add(subscriber)
        for allocation in subscriber.allocations:
            self._allocations.setdefault(allocation, set()).add(subscriber)
        _append(self._by_employee, subscriber.employee_id, subscriber)
        self.size += 1

    def remove(self, subscriber: Subscriber) -> None:
        own = self._by_employee.get(subscriber.employee_id)
        if own is None or subscriber not in own:
            return
        own.remove(subscriber)
        if not own:
            del self._by_employee[subscriber.employee_id]
        department = self._departments.get(subscriber.department)
        if department is not None:
            streams = department.employees.get(subscriber.employee_id, [])
            if subscriber in streams:
                streams.remove(subscriber)
            if not streams:
                department.employees.pop(subscriber.employee_id, None)
            self._drop_if_empty(subscriber.department)
        for name in subscriber.departments:
            department = self._departments.get(name)
            if department is not None:
                department.watchers.discard(subscriber)
                self._drop_if_empty(name)
        for allocation in subscriber.allocations:
            watchers = self._allocations.get(allocation)
            if watchers is not None:
                watchers.discard(subscriber)
                if not watchers:
                    del self._allocations[allocation]
        self.size -= 1

    def _department(self, name: str) -> _Department:
        department = self._departments.get(name)
        if department is None:
            department = self._departments[name] = _Department(name)
            key = _key_of(name)
            if key is not None:
                self._by_key[key] = department
        return department

    def _drop_if_empty(self, name: str) -> None:
        department = self._departments.get(name)
        if department is not None and department.empty():
            del self._departments[name]
            key = _key_of(name)
            if key is not None:
                del self._by_key[key]

    def wanted_in(
        self, department_key: bytes, employee_id: str, department_visible: bool
    ) -> str | None:
        """The department, by name, of a per-employee event keyed `department_key` when
        the event would reach a stream here; None when it would reach none."""
        department = self._by_key.get(department_key)
        if department is None:
            return None
        if employee_id in department.employees or (department_visible and department.watchers):
            return department.name
        return None

    def dispatch(self, delivery: Delivery) -> int:
        """Offer a per-employee event to the employee's streams and, when it is visible to the
        department, to the department's watchers."""
        department = self._departments.get(delivery.department)
        if department is None:
            return 0
        own = department.employees.get(delivery.employee_id)
        watchers = department.watchers
        if not watchers or not delivery.department_visible:
            return self._offer(own, delivery) if own else 0
        if own:
            # A manager's own stream may also watch the department: it gets the event once.
            return self._offer((*own, *(w for w in watchers if w not in own)), delivery)
        return self._offer(watchers, delivery)

    def dispatch_to_employee(self, employee_id: str, delivery: Delivery) -> int:
        """Offer a frame to the employee's own streams only (e.g. their unread count)."""
        return self._offer(self._by_employee.get(employee_id, ()), delivery)

    def dispatch_allocation(self, allocation_id: str, delivery: Delivery) -> int:
        return self._offer(self._allocations.get(allocation_id, ()), delivery)

    def watches_allocation(self, allocation_id: str) -> bool:
        return allocation_id in self._allocations

    def has_streams(self, employee_id: str) -> bool:
        return employee_id in self._by_employee

    def reached_own(self, deliveries: Iterable[Delivery]) -> list[int]:
        """The inbox items among `deliveries` whose employee has a stream here: what reached
        one of the employee's own streams, not only a department watcher's. Here, not in
        its caller, so the loop over a fetch's deliveries runs compiled (docs/decisions/0093)."""
        streams = self._by_employee
        return [
            d.event_id for d in deliveries if d.event_id is not None and d.employee_id in streams
        ]

    def hold_wakes(self) -> None:
        """Offers from here to `flush` leave idle streams that can write directly asleep:
        `flush` writes to them, each once, what they were offered (`Subscriber.offer`)."""
        if self._held is None:
            self._held = []

    def flush(self, now: float) -> None:
        """Write to the streams offered something since `hold_wakes` (or wake them)."""
        held, self._held = self._held, None
        for subscriber in held or ():
            subscriber.flush(now)

    def _offer(self, targets: Collection[Subscriber], delivery: Delivery) -> int:
        """Offer to each target; those whose buffer is full are cut off afterwards, so the
        targets may be the registry's own collections (cutting off changes them)."""
        taken = 0
        # Made only when one refuses: nearly every offer is taken.
        refused: list[Subscriber] | None = None
        held = self._held
        for subscriber in targets:
            if subscriber.offer(delivery, held):
                taken += 1
            elif refused is None:
                refused = [subscriber]
            else:
                refused.append(subscriber)
        for subscriber in refused or ():
            self.cut_off(subscriber)
        return taken

    def cut_off(self, subscriber: Subscriber) -> None:
        """Unregister a stream that was cut off (full buffer, stuck write)."""
        self.remove(subscriber)
        if self._on_cut_off is not None:
            self._on_cut_off(subscriber)

    def close_all(self) -> None:
        for streams in list(self._by_employee.values()):
            for subscriber in tuple(streams):
                subscriber.close()
                self.remove(subscriber)
