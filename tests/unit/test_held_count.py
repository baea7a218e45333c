"""A stream's unread count: the count read at its opening, plus each own notification it
sends above that count's id, and recounts after read marks (docs/decisions/0086)."""

from __future__ import annotations

from herald_notifier.domain.inbox import UnreadCount
from herald_notifier.domain.unread import HeldCount


def test_a_notification_above_the_counts_id_adds_one():
    held = HeldCount(UnreadCount(2, 10))
    assert held.sent(11) is True
    assert held.unread == 3


def test_a_notification_the_count_already_holds_adds_nothing():
    held = HeldCount(UnreadCount(2, 10))
    assert held.sent(10) is False
    assert held.unread == 2


def test_a_recount_newer_than_every_sent_notification_is_taken_as_it_is():
    held = HeldCount(UnreadCount(2, 10))
    held.sent(11)
    assert held.recounted(UnreadCount(0, 11)) is True
    assert held.unread == 0


def test_a_recount_keeps_the_notifications_sent_above_its_id():
    held = HeldCount(UnreadCount(2, 10))
    for notification_id in (11, 12, 13):
        held.sent(notification_id)
    assert held.recounted(UnreadCount(1, 11)) is True
    assert held.unread == 3  # 1 counted up to 11, then 12 and 13


def test_after_a_recount_only_notifications_above_its_id_add_one():
    held = HeldCount(UnreadCount(2, 10))
    held.recounted(UnreadCount(5, 20))
    assert held.sent(20) is False
    assert held.sent(21) is True
    assert held.unread == 6


def test_a_recount_older_than_the_count_held_is_refused_and_changes_nothing():
    held = HeldCount(UnreadCount(2, 10))
    assert held.recounted(UnreadCount(0, 9)) is False
    assert held.unread == 2


def test_a_recount_older_than_forgotten_notifications_is_refused():
    held = HeldCount(UnreadCount(0, 0))
    for notification_id in range(1, 66):  # one more than it remembers: 1 is forgotten
        held.sent(notification_id)
    assert held.recounted(UnreadCount(0, 0)) is False
    assert held.unread == 65


def test_a_recount_above_the_forgotten_notifications_is_placed():
    held = HeldCount(UnreadCount(0, 0))
    for notification_id in range(1, 66):
        held.sent(notification_id)
    assert held.recounted(UnreadCount(1, 1)) is True
    assert held.unread == 65  # 1 counted up to 1, then 2 to 65
