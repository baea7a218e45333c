"""How the document's parts name and refer to each other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from herald_common.catalogue import Topic

KAFKA_BINDING = "0.5.0"
HTTP_BINDING = "0.3.0"
SCHEMA_REF = "#/components/schemas/{model}"


def message_name(kind: str) -> str:
    """The message of an event type: `herald.allocation.progress` is AllocationProgress."""
    return "".join(word.capitalize() for word in kind.removeprefix("herald.").split("."))


def lower_first(name: str) -> str:
    return f"{name[0].lower()}{name[1:]}"


def channel_name(topic: Topic) -> str:
    """A topic's channel: `herald.allocation.requested` is allocationRequested."""
    return lower_first(message_name(topic.name))


def dead_letter_channel_name(topic: Topic) -> str:
    return f"{channel_name(topic)}DeadLetters"


def message_refs(messages: Iterable[str]) -> dict[str, Any]:
    """A channel's messages, each a reference to its component."""
    return {m: {"$ref": f"#/components/messages/{m}"} for m in messages}


def schema_ref(model: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(model=model)}
