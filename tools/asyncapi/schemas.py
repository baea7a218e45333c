"""The JSON Schemas of the document: every event's envelope and the stream's frame data."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from herald_common.events import AllocationDelivered, CloudEvent
from tools.asyncapi.messages import MESSAGES
from tools.asyncapi.models import (
    NotificationsReadAll,
    NotificationState,
    StreamReset,
    StreamTokenExpired,
    UnreadCount,
)
from tools.asyncapi.refs import SCHEMA_REF


def _models() -> dict[str, type[BaseModel]]:
    # The structured-mode envelope of each event, under the name used in the document;
    # the delivered counts reach streams only, never a topic.
    envelopes: dict[str, type[BaseModel]] = {
        f"{name}Event": message.envelope for name, message in MESSAGES.items()
    }
    envelopes["AllocationDeliveredEvent"] = CloudEvent[AllocationDelivered]
    return {
        **envelopes,
        "UnreadCount": UnreadCount,
        "NotificationState": NotificationState,
        "NotificationsReadAll": NotificationsReadAll,
        "StreamReset": StreamReset,
        "StreamTokenExpired": StreamTokenExpired,
    }


def schemas() -> dict[str, Any]:
    """JSON Schemas of the envelopes and everything they refer to, keyed by name."""
    result: dict[str, Any] = {}
    for name, model in _models().items():
        schema = model.model_json_schema(ref_template=SCHEMA_REF)
        result.update(schema.pop("$defs", {}))
        schema["title"] = name
        result[name] = schema
    return dict(sorted(result.items()))
