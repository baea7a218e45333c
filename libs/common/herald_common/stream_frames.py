"""SSE event names of the notification stream's control frames.

They are not CloudEvents and never enter the inbox: the notifier sends them and
docs/asyncapi.yaml documents them, both with these names.
"""

from __future__ import annotations

# The employee's unread count, after the replay and after every change of it.
UNREAD_COUNT = "unread-count"
# Sent instead of a replay that would be longer than the replay limit.
RESET = "reset"
# A stream's last frame when the token it was opened with expires.
TOKEN_EXPIRED = "token-expired"  # noqa: S105 (an event name, not a secret)
# One inbox item's new state (read, archived), after a change from any device.
NOTIFICATION_STATE = "notification-state"
# Every item up to an id was marked read at once (`read-all`).
NOTIFICATIONS_READ_ALL = "notifications-read-all"
