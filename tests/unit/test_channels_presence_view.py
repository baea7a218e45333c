"""A socket's view of a presence channel: member events it already knows of are not sent
twice (a member_added broadcast before it joined arrives after its member list)."""

from __future__ import annotations

from unittest.mock import MagicMock

from herald_channels.domain.connection import ChannelsContext, Connection


def _connection() -> Connection:
    context = MagicMock(spec=ChannelsContext)
    context.send_queue_size = 100
    connection = Connection(context, "1.1")
    connection.members["presence-room"] = {"alice"}
    return connection


def test_member_added_of_a_listed_member_is_not_sent() -> None:
    connection = _connection()
    connection.presence_change("presence-room", True, "alice", "added alice")
    assert list(connection.outbox) == []


def test_member_added_of_a_new_member_is_sent_once() -> None:
    connection = _connection()
    connection.presence_change("presence-room", True, "bob", "added bob")
    connection.presence_change("presence-room", True, "bob", "added bob")
    assert list(connection.outbox) == ["added bob"]


def test_member_removed_of_an_unknown_member_is_not_sent() -> None:
    connection = _connection()
    connection.presence_change("presence-room", False, "carol", "removed carol")
    assert list(connection.outbox) == []


def test_member_removed_of_a_known_member_is_sent() -> None:
    connection = _connection()
    connection.presence_change("presence-room", False, "alice", "removed alice")
    assert list(connection.outbox) == ["removed alice"]
    assert connection.members["presence-room"] == set()
