"""docs/asyncapi.yaml: generated from the event models, valid, and true to the wire.

The contract tests fail when the models (or topic settings) and the committed document
diverge; the AsyncAPI CLI from npm validates the document itself.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import jsonschema
import pytest
import yaml

from herald_common.asyncapi import DEAD_LETTER_HEADER_PREFIX, document, examples
from herald_common.dead_letter import FailedRecord, dead_letter_headers
from herald_common.events import CONTENT_TYPE, encode
from herald_common.notifications import notification_event
from herald_common.settings import TopicSettings
from herald_common.topics import topic_specs
from tests.support.deploy import ASYNCAPI, REPO, tool

DOCUMENT = REPO / "docs" / "asyncapi.yaml"


def _committed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, resolving its refs inside the document."""
    root = {**_committed(), "$ref": f"#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(root)


def _payload_schema(message: str) -> str:
    ref: str = _committed()["components"]["messages"][message]["payload"]["$ref"]
    return ref.rsplit("/", 1)[1]


def test_the_committed_document_is_what_the_models_generate() -> None:
    assert _committed() == document(), (
        "docs/asyncapi.yaml is out of date: run `.herald/venv/bin/python -m herald_common.asyncapi`"
    )


def test_the_asyncapi_cli_finds_the_document_valid(tmp_path: Path) -> None:
    # The CLI reports usage to a remote service unless told otherwise in this file.
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text(
        json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "tests"})
    )
    result = subprocess.run(
        [str(tool(ASYNCAPI)), "validate", str(DOCUMENT), "--fail-severity=warn"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics),
        },
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "is valid" in output
    assert "0 errors, 0 warnings" in output


def test_the_asyncapi_cli_rejects_a_broken_document(tmp_path: Path) -> None:
    broken = _committed()
    broken["operations"]["sendStream"]["action"] = "publish"  # AsyncAPI 2 wording
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text(json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true"}))
    result = subprocess.run(
        [str(tool(ASYNCAPI)), "validate", str(path), "--fail-severity=warn"],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics),
        },
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


def test_every_topic_has_a_channel_with_its_partitions() -> None:
    defaults = TopicSettings.model_construct()
    expected = {spec.name: spec.partitions for spec in topic_specs(defaults)}
    channels = {
        channel["address"]: channel["bindings"]["kafka"]["partitions"]
        for channel in _committed()["channels"].values()
        if "kafka" in channel.get("bindings", {})
    }
    assert channels == expected
    assert "/v1/stream" in {c["address"] for c in _committed()["channels"].values()}


@pytest.mark.parametrize(
    "message",
    ["AllocationRequested", "VoucherAllocated", "AllocationCompleted", "NotificationPushed"],
)
def test_examples_validate_and_carry_the_cloudevents_header(message: str) -> None:
    spec = _committed()["components"]["messages"][message]
    (example,) = spec["examples"]
    assert example["headers"] == {"content-type": CONTENT_TYPE}
    _validator(_payload_schema(message)).validate(example["payload"])
    assert spec["headers"]["properties"]["content-type"]["const"] == CONTENT_TYPE


def test_events_built_by_the_services_match_the_schemas() -> None:
    # The notifier's replay and the inserter's publisher both build events this way.
    event = json.loads(
        notification_event(
            notification_id=7,
            kind="herald.voucher.allocated",
            source="/herald/inserter",
            employee_id="E1",
            created_at=datetime.now(UTC),
            payload=examples()["VoucherAllocated"]["data"],
        )
    )
    _validator("VoucherAllocatedEvent").validate(event)
    assert event["id"] == "7"


def test_the_schemas_reject_what_the_consumers_reject() -> None:
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["data"]["voucher"]["currency"] = "euro"
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["data"]["surprise"] = True  # the models forbid unknown fields
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)
    request = json.loads(encode(examples()["AllocationRequested"]))
    request["specversion"] = "0.3"
    with pytest.raises(jsonschema.ValidationError):
        _validator("AllocationRequestedEvent").validate(request)


def test_dead_letter_headers_are_the_ones_the_code_writes() -> None:
    record = FailedRecord(
        topic="herald.allocation.requested",
        partition=0,
        offset=1,
        key=str(uuid4()).encode(),
        value=b"not json",
        headers=(("content-type", CONTENT_TYPE.encode()),),
    )
    written = {
        name for name, _ in dead_letter_headers(record, "bad")
    } - {"content-type"}  # fmt: skip
    documented = _committed()["components"]["messages"]["DeadLetter"]["headers"]
    assert set(documented["properties"]) == written
    assert all(name.startswith(DEAD_LETTER_HEADER_PREFIX) for name in written)
