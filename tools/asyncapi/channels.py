"""The Kafka channels: each topic of the catalogue, and its dead-letter topic."""

from __future__ import annotations

from typing import Any

from herald_common.catalogue import (
    ALLOCATION_COMPLETED_TOPIC,
    DEAD_LETTER_PARTITIONS,
    TOPICS,
    Topic,
)
from herald_common.settings import TopicSettings
from tools.asyncapi.refs import (
    KAFKA_BINDING,
    channel_name,
    dead_letter_channel_name,
    message_name,
    message_refs,
)


def dead_letter_messages(topic: Topic) -> tuple[str, ...]:
    """The messages of a topic's dead-letter topic."""
    if topic is ALLOCATION_COMPLETED_TOPIC:
        # The mailer also dead-letters there the summary emails it gave up on, each with
        # the completion it was for.
        return ("DeadLetter", "SummaryEmailDeadLetter")
    return ("DeadLetter",)


def _channel(
    address: str, description: str, messages: tuple[str, ...], partitions: int
) -> dict[str, Any]:
    return {
        "address": address,
        "title": address,
        "description": description,
        "servers": [{"$ref": "#/servers/kafka"}],
        "messages": message_refs(messages),
        "bindings": {
            "kafka": {"topic": address, "partitions": partitions, "bindingVersion": KAFKA_BINDING}
        },
    }


def kafka_channels() -> dict[str, Any]:
    prefix = str(TopicSettings.model_config.get("env_prefix", ""))
    channels: dict[str, Any] = {}
    for topic in TOPICS:
        variable = f"{prefix}{topic.setting}".upper()
        channels[channel_name(topic)] = _channel(
            topic.name,
            f"Partitions: {topic.partitions} by default ({variable}). "
            "Record key described on the message.",
            tuple(map(message_name, topic.kinds)),
            topic.partitions,
        )
        channels[dead_letter_channel_name(topic)] = _channel(
            topic.dead_letter,
            f"Records of {topic.name} that could not be processed.",
            dead_letter_messages(topic),
            DEAD_LETTER_PARTITIONS,
        )
    return channels
