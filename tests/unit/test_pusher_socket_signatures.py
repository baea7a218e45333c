"""Pusher's published worked examples of socket signatures (library auth reference), and
the connection's own checks of them."""

from __future__ import annotations

import hashlib
import hmac

from herald_common.auth import channel_auth

# Pusher's example credentials and socket id.
KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
SOCKET_ID = "1234.1234"
PRESENCE_DATA = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'


def test_private_channel_signature_is_pusher_worked_example() -> None:
    assert channel_auth.sign(KEY, SECRET, SOCKET_ID, "private-foobar") == (
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_presence_channel_signature_is_pusher_worked_example() -> None:
    assert channel_auth.sign(KEY, SECRET, SOCKET_ID, "presence-foobar", PRESENCE_DATA) == (
        "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    )


def test_user_signature_signs_socket_id_user_and_user_data() -> None:
    user_data = '{"id":"12345"}'
    expected = hmac.new(
        SECRET.encode(), f"{SOCKET_ID}::user::{user_data}".encode(), hashlib.sha256
    ).hexdigest()
    assert channel_auth.sign_user(KEY, SECRET, SOCKET_ID, user_data) == f"{KEY}:{expected}"


def test_verify_accepts_the_worked_examples_and_refuses_another_socket() -> None:
    good = channel_auth.sign(KEY, SECRET, SOCKET_ID, "presence-foobar", PRESENCE_DATA)
    assert channel_auth.verify(KEY, SECRET, SOCKET_ID, "presence-foobar", good, PRESENCE_DATA)
    assert not channel_auth.verify(KEY, SECRET, "1234.1235", "presence-foobar", good, PRESENCE_DATA)
    # The channel_data is signed: another member's data with this auth is refused.
    assert not channel_auth.verify(
        KEY, SECRET, SOCKET_ID, "presence-foobar", good, PRESENCE_DATA.replace("10", "11")
    )


def test_verify_user_refuses_other_user_data() -> None:
    auth = channel_auth.sign_user(KEY, SECRET, SOCKET_ID, '{"id":"12345"}')
    assert channel_auth.verify_user(KEY, SECRET, SOCKET_ID, '{"id":"12345"}', auth)
    assert not channel_auth.verify_user(KEY, SECRET, SOCKET_ID, '{"id":"1"}', auth)
