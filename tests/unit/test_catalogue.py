"""The topic catalogue drives the topic settings, the topics created and the dead letters."""

from __future__ import annotations

import pytest

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    DEAD_LETTER_PARTITIONS,
    TOPICS,
    VOUCHER_ALLOCATED_TOPIC,
    Key,
    dead_letter,
)
from herald_common.settings import TopicSettings
from herald_common.topics import TopicSpec, topic_specs


def test_the_catalogue_lists_the_designed_topics() -> None:
    # The names are a public contract (docs/decisions/0002); they never change.
    assert {t.name: (t.key, t.partitions) for t in TOPICS} == {
        "herald.allocation.requested": (Key.ALLOCATION, 6),
        "herald.voucher.allocated": (Key.DEPARTMENT, 12),
        "herald.allocation.completed": (Key.ALLOCATION, 3),
        "herald.notification.requested": (Key.PUSH, 3),
        "herald.notification.pushed": (Key.DEPARTMENT, 12),
        "herald.channels.broadcast": (Key.CHANNEL, 6),
    }


def test_each_topic_carries_the_kind_it_is_named_after_and_no_kind_is_on_two() -> None:
    for topic in TOPICS:
        assert topic.name in topic.kinds
    kinds = [kind for topic in TOPICS for kind in topic.kinds]
    assert len(kinds) == len(set(kinds))


def test_each_topic_has_its_partitions_setting_with_the_catalogues_default() -> None:
    fields = TopicSettings.model_fields
    # The variables deployments set (docker-compose.yml, deploy/k8s): they never change.
    assert [f"HERALD_TOPICS_{t.setting.upper()}" for t in TOPICS] == [
        "HERALD_TOPICS_ALLOCATION_REQUESTED_PARTITIONS",
        "HERALD_TOPICS_VOUCHER_ALLOCATED_PARTITIONS",
        "HERALD_TOPICS_ALLOCATION_COMPLETED_PARTITIONS",
        "HERALD_TOPICS_NOTIFICATION_REQUESTED_PARTITIONS",
        "HERALD_TOPICS_NOTIFICATION_PUSHED_PARTITIONS",
        "HERALD_TOPICS_CHANNELS_BROADCAST_PARTITIONS",
    ]
    assert {name for name in fields if name.endswith("_partitions")} == {
        *(t.setting for t in TOPICS),
        "dead_letter_partitions",
    }
    defaults = TopicSettings.model_construct()
    for topic in TOPICS:
        assert fields[topic.setting].default == topic.partitions
        assert defaults.partitions(topic) == topic.partitions
    assert defaults.dead_letter_partitions == DEAD_LETTER_PARTITIONS


def test_partitions_and_the_prefix_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HERALD_TOPICS_PREFIX", "test.")
    monkeypatch.setenv("HERALD_TOPICS_VOUCHER_ALLOCATED_PARTITIONS", "5")
    topics = TopicSettings()
    assert topics.partitions(VOUCHER_ALLOCATED_TOPIC) == 5
    assert topics.partitions(ALLOCATION_COMPLETED_TOPIC) == 3
    assert topics.voucher_allocated == "test.herald.voucher.allocated"
    assert topics.name(ALLOCATION_COMPLETED_TOPIC) == topics.allocation_completed
    monkeypatch.setenv("HERALD_TOPICS_VOUCHER_ALLOCATED_PARTITIONS", "0")
    with pytest.raises(ValueError, match="voucher_allocated_partitions"):
        TopicSettings()


def test_the_services_names_are_the_catalogues() -> None:
    topics = TopicSettings(prefix="p.")
    assert [
        topics.allocation_requested,
        topics.voucher_allocated,
        topics.allocation_completed,
        topics.notification_requested,
        topics.notification_pushed,
        topics.channel_broadcast,
    ] == [f"p.{t.name}" for t in TOPICS]


def test_every_topic_is_created_with_its_dead_letter_topic() -> None:
    topics = TopicSettings(prefix="p.", dead_letter_partitions=2)
    assert topic_specs(topics) == [
        *(TopicSpec(f"p.{t.name}", t.partitions) for t in TOPICS),
        *(TopicSpec(f"p.{t.name}.dlq", 2) for t in TOPICS),
    ]
    assert TopicSettings.dead_letter("p.herald.voucher.allocated") == (
        "p.herald.voucher.allocated.dlq"
    )
    assert dead_letter(VOUCHER_ALLOCATED_TOPIC.name) == VOUCHER_ALLOCATED_TOPIC.dead_letter
