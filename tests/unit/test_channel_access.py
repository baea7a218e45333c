"""The notifier's channel checks, shared by the stream and channel authorization."""

import pytest
from fastapi import HTTPException
from pydantic import SecretStr

from herald_common.auth.channels import Channel
from herald_common.auth.principal import Principal
from herald_notifier.api.channel_access import channel_named, require_readable
from herald_notifier.settings import NotifierSettings

MANAGER = Principal("M1", frozenset({"employee", "manager"}), manages="Sales")


def test_a_channel_name_parses_or_is_a_400_saying_why():
    assert channel_named("private-department-Sales") == Channel("department", "Sales")
    with pytest.raises(HTTPException) as caught:
        channel_named("public-news")
    assert caught.value.status_code == 400
    assert str(caught.value.detail).startswith("unknown channel")


def test_a_channel_the_caller_may_not_read_is_a_403_naming_it():
    require_readable(MANAGER, Channel("department", "Sales"))
    with pytest.raises(HTTPException) as caught:
        require_readable(MANAGER, Channel("department", "HR"))
    assert (caught.value.status_code, caught.value.detail) == (
        403,
        "not allowed to read private-department-HR",
    )


@pytest.mark.parametrize(
    ("key", "secret", "credentials"),
    [
        ("app", "s3cret", ("app", "s3cret")),
        ("app", None, None),
        (None, "s3cret", None),
        (None, None, None),
    ],
)
def test_channel_authorization_is_on_only_with_a_key_and_a_secret(key, secret, credentials):
    settings = NotifierSettings(
        channel_auth_key=key, channel_auth_secret=None if secret is None else SecretStr(secret)
    )
    assert settings.channel_auth_credentials() == credentials
