"""The README's plain-aiokafka producer writes a request the inserter accepts."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import aiokafka
import jsonschema
import pytest
import yaml

from herald_common.events import CONTENT_TYPE, AllocationRequested
from herald_inserter.domain.parsing import parse_request
from tests.support import compose
from tests.support.deploy import REPO


def _example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Writing allocation requests to Kafka", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "no Python example in the README's producer section"
    return match.group(1)


class _RecordingProducer:
    sent: ClassVar[list[dict[str, Any]]] = []
    options: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        type(self).options = options

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send_and_wait(self, topic: str, **record: Any) -> None:
        self.sent.append({"topic": topic, **record})


def test_the_readme_producer_writes_a_valid_request(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _RecordingProducer.sent = []
    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", _RecordingProducer)
    exec(compile(_example(), "README.md", "exec"), {"__name__": "readme"})  # noqa: S102

    (record,) = _RecordingProducer.sent
    assert record["topic"] == "herald.allocation.requested"
    assert record["headers"] == [("content-type", CONTENT_TYPE.encode())]
    # The inserter's own parser: the request would be processed, not dead-lettered.
    request = parse_request(record["value"], AllocationRequested, "allocation request")
    assert record["key"] == str(request.allocation_id).encode()
    assert capsys.readouterr().out.strip() == str(request.allocation_id)
    event = json.loads(record["value"])
    assert event["id"] == str(request.allocation_id)
    document = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    schema = {**document, "$ref": "#/components/schemas/AllocationRequestedEvent"}
    jsonschema.Draft202012Validator(schema).validate(event)
    # Safe producer settings, and the address Compose publishes Kafka on.
    options = _RecordingProducer.options
    assert options["acks"] == "all"
    assert options["enable_idempotence"] is True
    kafka = compose.resolved(compose.REQUIRED_ENV)["services"]["kafka"]
    assert f"127.0.0.1:{options['bootstrap_servers'].split(':')[1]}:29092" in kafka["ports"]
