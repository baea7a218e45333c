"""Who is listening: department -> employee -> that employee's open streams.

Events are keyed by department, so one lookup finds the department's map and a second
finds the employee's streams; nobody else's subscribers are touched.
"""

from __future__ import annotations

from collections.abc import Callable

from herald_notifier.domain.delivery import Delivery
from herald_notifier.domain.subscriber import Subscriber


class Registry:
    def __init__(self, on_cut_off: Callable[[Subscriber], None] | None = None) -> None:
        self._departments: dict[str, dict[str, set[Subscriber]]] = {}
        self._on_cut_off = on_cut_off
        self.size = 0

    def add(self, subscriber: Subscriber) -> None:
        employees = self._departments.setdefault(subscriber.department, {})
        employees.setdefault(subscriber.employee_id, set()).add(subscriber)
        self.size += 1

    def remove(self, subscriber: Subscriber) -> None:
        employees = self._departments.get(subscriber.department)
        if employees is None:
            return
        streams = employees.get(subscriber.employee_id)
        if streams is None or subscriber not in streams:
            return
        streams.discard(subscriber)
        self.size -= 1
        if not streams:
            del employees[subscriber.employee_id]
            if not employees:
                del self._departments[subscriber.department]

    def dispatch(self, delivery: Delivery) -> int:
        """Offer a delivery to the employee's streams; returns how many took it."""
        employees = self._departments.get(delivery.department)
        if employees is None:
            return 0
        streams = employees.get(delivery.employee_id)
        if not streams:
            return 0
        taken = 0
        for subscriber in tuple(streams):
            if subscriber.offer(delivery):
                taken += 1
            else:
                self.remove(subscriber)
                if self._on_cut_off is not None:
                    self._on_cut_off(subscriber)
        return taken

    def close_all(self) -> None:
        for employees in list(self._departments.values()):
            for streams in list(employees.values()):
                for subscriber in tuple(streams):
                    subscriber.close()
                    self.remove(subscriber)
