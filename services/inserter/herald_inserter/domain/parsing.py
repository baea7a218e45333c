"""Decoding records from the request topics: anything invalid is rejected with a reason."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from herald_common.events import CloudEvent
from herald_common.retry import Verdict

DataT = TypeVar("DataT", bound=BaseModel)


class RejectedRequest(Verdict):
    """The record is not a valid request; it goes to the dead-letter topic, unretried."""


def parse_request(value: bytes | None, model: type[DataT], what: str) -> DataT:
    data: DataT = parse_event(value, model, what).data
    return data


def parse_event(value: bytes | None, model: type[DataT], what: str) -> CloudEvent[DataT]:
    """The whole CloudEvent (its `source` names the producer), or RejectedRequest."""
    if value is None:
        raise RejectedRequest("record has no value")
    try:
        event = CloudEvent[model].model_validate_json(value)  # type: ignore[valid-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:10]
        )
        raise RejectedRequest(f"invalid {what}: {problems}") from exc
    parsed: CloudEvent[DataT] = event
    return parsed
