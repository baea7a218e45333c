"""HERALD_NOTIFIER_PARTITION_SHARE and HERALD_GATEWAY_NOTIFIER_SHARE_URLS as they are read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from herald_common.affinity import Share
from herald_gateway.settings import GatewaySettings
from herald_notifier.settings import NotifierSettings


def test_a_notifier_reads_every_partition_by_default() -> None:
    assert NotifierSettings().share == Share()


def test_a_notifier_reads_the_share_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_NOTIFIER_PARTITION_SHARE", "1/3")
    assert NotifierSettings().share == Share(1, 3)


@pytest.mark.parametrize("value", ["3/3", "half", "1/2/4"])
def test_a_share_that_is_none_stops_the_settings_with_its_form(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HERALD_NOTIFIER_PARTITION_SHARE", value)
    with pytest.raises(ValidationError, match=r"i/n|i must be"):
        NotifierSettings()


def test_the_gateway_has_no_shares_by_default() -> None:
    assert GatewaySettings().notifier_share_urls == []


def test_the_gateway_reads_the_shares_urls_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERALD_GATEWAY_NOTIFIER_SHARE_URLS", '["http://s0", "http://s1"]')
    assert GatewaySettings().notifier_share_urls == ["http://s0", "http://s1"]
