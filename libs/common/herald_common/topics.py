"""Explicit topic creation: the broker runs with auto-create off.

The topics are the catalogue's (herald_common.catalogue), each with its dead-letter topic,
named and sized by the deployment's TopicSettings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from herald_common.catalogue import TOPICS, dead_letter
from herald_common.kafka import connection_options
from herald_common.settings import KafkaSettings, TopicSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int


def topic_specs(topics: TopicSettings) -> list[TopicSpec]:
    """Every topic Herald uses, then each one's dead-letter topic."""
    main = [TopicSpec(topics.name(topic), topics.partitions(topic)) for topic in TOPICS]
    dead_letters = [
        TopicSpec(dead_letter(spec.name), topics.dead_letter_partitions) for spec in main
    ]
    return main + dead_letters


async def ensure_topics(kafka: KafkaSettings, topics: TopicSettings) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left as they are."""
    admin = AIOKafkaAdminClient(**connection_options(kafka), client_id="herald-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topic_specs(topics) if spec.name not in existing]
        if not missing:
            return []
        new = [NewTopic(spec.name, spec.partitions, topics.replication_factor) for spec in missing]
        try:
            await admin.create_topics(new)
        except TopicAlreadyExistsError:
            # Another process created them between list and create; that is the goal.
            logger.info("topics appeared concurrently")
        return [spec.name for spec in missing]
    finally:
        await admin.close()


async def delete_topics(kafka: KafkaSettings, topics: TopicSettings) -> None:
    admin = AIOKafkaAdminClient(**connection_options(kafka), client_id="herald-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [spec.name for spec in topic_specs(topics) if spec.name in existing]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
