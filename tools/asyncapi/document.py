"""The whole AsyncAPI document, as the data docs/asyncapi.yaml holds."""

from __future__ import annotations

from typing import Any

from herald_common.catalogue import DEAD_LETTER_SUFFIX, TOPICS
from herald_common.events import CONTENT_TYPE
from herald_common.settings import TopicSettings
from tools.asyncapi import pusher, stream
from tools.asyncapi.channels import kafka_channels
from tools.asyncapi.messages import kafka_messages
from tools.asyncapi.operations import operations
from tools.asyncapi.schemas import schemas

VERSION = "0.1.0"
COMMAND = "python -m tools.asyncapi"


def _description() -> str:
    shared = ", ".join(
        f"`{kind}` on `{topic.name}`"
        for topic in TOPICS
        for kind in topic.kinds
        if kind != topic.name
    )
    prefix = f"{TopicSettings.model_config.get('env_prefix', '')}PREFIX"
    return (
        "Herald's public event contract: the Kafka topics (which other systems may "
        "read and, for `herald.allocation.requested` and "
        "`herald.notification.requested`, write), the notification stream and the Pusher "
        "WebSocket of the channels service.\n\n"
        "Every Kafka record is a CloudEvents 1.0 event in structured mode: the value "
        "is the whole event as JSON and the header `content-type` is "
        f"`{CONTENT_TYPE}`. The CloudEvents `type` names the event; it is the "
        f"topic's name except on topics that carry more than one kind ({shared}), so "
        "consumers read the `type` before the data. Topic names may carry a deployment "
        f"prefix (`{prefix}`). Delivery is at least once: consumers drop duplicates by event "
        f"id. Each topic has a `{DEAD_LETTER_SUFFIX}` topic for records that could not be "
        "processed.\n\n"
        "The schemas are generated from the event models in "
        "`libs/common/herald_common/events.py` (and, for the mailer's summary and "
        "the stream's control frames, from models in `tools/asyncapi/models.py`) by "
        f"`{COMMAND}`."
    )


def document() -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Herald events", "version": VERSION, "description": _description()},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Kafka cluster Herald is deployed with.",
                "variables": {
                    "bootstrap": {
                        "default": "localhost:9092",
                        "description": "A bootstrap broker (HERALD_KAFKA_BOOTSTRAP).",
                    }
                },
            },
            "notifier": {
                "host": "herald.example.com",
                "protocol": "https",
                "description": "The notifier, behind the deployment's ingress or gateway "
                "(one origin for the web console and every API).",
            },
            "channels": pusher.server(),
        },
        "channels": {**kafka_channels(), "stream": stream.channel(), "pusher": pusher.channel()},
        "operations": operations(),
        "components": {
            "schemas": schemas(),
            "messages": kafka_messages() | stream.frames() | pusher.messages(),
        },
    }
