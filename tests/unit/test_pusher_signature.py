"""Pusher HTTP API signatures: Pusher's published example, then each way a request fails."""

from __future__ import annotations

import pytest

from herald_common.auth.pusher_signature import (
    SignatureRejected,
    body_md5,
    sign,
    signed_params,
    string_to_sign,
    verify,
)

# Pusher's worked example ("Generating authentication signatures", HTTP API reference).
KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"
TIMESTAMP = 1353088179
PATH = "/apps/3/events"
BODY = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'


def _verify(params: dict[str, str], *, body: bytes = BODY, now: float = TIMESTAMP) -> None:
    verify(key=KEY, secret=SECRET, method="POST", path=PATH, params=params, body=body, now=now)


def test_pushers_example_body_md5() -> None:
    assert body_md5(BODY) == "ec365a775a4cd0599faeb73354201b6f"


def test_pushers_example_string_to_sign() -> None:
    params = {
        "auth_key": KEY,
        "auth_timestamp": str(TIMESTAMP),
        "auth_version": "1.0",
        "body_md5": "ec365a775a4cd0599faeb73354201b6f",
    }
    assert string_to_sign("POST", PATH, params) == (
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179"
        "&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f"
    )


def test_pushers_example_signature() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    assert params["auth_signature"] == (
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )


def test_pushers_example_is_accepted() -> None:
    _verify(signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP))


def test_the_query_is_sorted_by_lowercased_key_and_excludes_the_signature() -> None:
    params = {"info": "user_count", "Filter_By_Prefix": "presence-", "auth_signature": "x"}
    assert string_to_sign("get", "/apps/3/channels", params) == (
        "GET\n/apps/3/channels\nfilter_by_prefix=presence-&info=user_count"
    )


def test_the_python_sdks_signature_is_the_same() -> None:
    from pusher.signature import sign as sdk_sign

    message = string_to_sign("GET", "/apps/3/channels", {"auth_key": KEY, "info": "a,b"})
    assert sign(SECRET, "GET", "/apps/3/channels", {"auth_key": KEY, "info": "a,b"}) == (
        sdk_sign(SECRET, message)
    )


def test_a_timestamp_older_than_600_seconds_is_expired() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    with pytest.raises(SignatureRejected) as caught:
        _verify(params, now=TIMESTAMP + 601)
    assert str(caught.value) == (
        "Timestamp expired: Given timestamp (2012-11-16T17:49:39Z) not within 600s of server"
        " time (2012-11-16T17:59:40Z)"
    )


def test_a_timestamp_600_seconds_ahead_is_still_accepted() -> None:
    _verify(signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP), now=TIMESTAMP - 600)


def test_a_timestamp_from_the_future_beyond_the_window_is_expired() -> None:
    with pytest.raises(SignatureRejected, match="Timestamp expired"):
        _verify(signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP), now=TIMESTAMP - 601)


def test_a_wrong_secret_is_an_invalid_signature() -> None:
    params = signed_params(KEY, "not-the-secret", "POST", PATH, BODY, TIMESTAMP)
    with pytest.raises(SignatureRejected, match=r"^Invalid signature: Expected HMAC SHA256"):
        _verify(params)


def test_a_changed_parameter_is_an_invalid_signature() -> None:
    params = signed_params(KEY, SECRET, "GET", "/apps/3/channels", b"", TIMESTAMP)
    params["filter_by_prefix"] = "presence-"
    with pytest.raises(SignatureRejected, match="Invalid signature"):
        verify(
            key=KEY,
            secret=SECRET,
            method="GET",
            path="/apps/3/channels",
            params=params,
            body=b"",
            now=TIMESTAMP,
        )


def test_another_path_is_an_invalid_signature() -> None:
    params = signed_params(KEY, SECRET, "POST", "/apps/4/events", BODY, TIMESTAMP)
    with pytest.raises(SignatureRejected, match="Invalid signature"):
        _verify(params)


def test_a_changed_body_fails_its_md5() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    with pytest.raises(SignatureRejected, match="body_md5"):
        _verify(params, body=BODY.replace(b"foo", b"bar"))


def test_a_body_without_body_md5_is_refused() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    del params["body_md5"]
    params["auth_signature"] = sign(SECRET, "POST", PATH, params)
    with pytest.raises(SignatureRejected, match="body_md5"):
        _verify(params)


def test_an_unknown_key_is_named() -> None:
    params = signed_params("another-key", SECRET, "POST", PATH, BODY, TIMESTAMP)
    with pytest.raises(SignatureRejected, match=r"^Unknown auth_key: another-key$"):
        _verify(params)


def test_another_auth_version_is_refused() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    params["auth_version"] = "2.0"
    with pytest.raises(SignatureRejected, match="auth_version"):
        _verify(params)


def test_missing_auth_parameters_are_named() -> None:
    with pytest.raises(SignatureRejected, match="auth_timestamp, auth_version, auth_signature"):
        _verify({"auth_key": KEY, "body_md5": body_md5(BODY)})


def test_a_timestamp_that_is_not_a_number_is_refused() -> None:
    params = signed_params(KEY, SECRET, "POST", PATH, BODY, TIMESTAMP)
    params["auth_timestamp"] = "yesterday"
    with pytest.raises(SignatureRejected, match="auth_timestamp"):
        _verify(params)
