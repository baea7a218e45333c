"""Schemathesis against every service's OpenAPI document: no 5xx, no undocumented answer.

Each operation gets a fixed budget of generated requests, half valid and half invalid,
sent with an hr-admin token so the handlers run, not just the authentication. The SSE
stream is left out: a valid request never ends, so the stream tests exercise it instead.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.conftest import FUZZ_EXAMPLES_PER_OPERATION

pytestmark = pytest.mark.integration

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
UNFUZZED = {"GET /v1/stream"}


def fuzz(openapi_url: str, headers: dict[str, str]) -> dict[str, int]:
    """Run the budget against every operation; returns examples sent per operation."""
    schema = schemathesis.openapi.from_url(openapi_url)
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if label in UNFUZZED:
            continue
        sent[label] = 0
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _runner(operation, mode, label, sent, headers)
            try:
                run()
            except Unsatisfiable:
                # Nothing to corrupt: the operation takes no input (e.g. DELETE /v1/session).
                assert mode is GenerationMode.NEGATIVE, label
    return sent


def _runner(operation, mode, label, sent, headers):
    @settings(
        max_examples=FUZZ_EXAMPLES_PER_OPERATION // 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        sent[label] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


@pytest.mark.parametrize("service", ["allocation", "notifier", "mailer"])
def test_fuzz_service(service, services, herald_env):
    url = getattr(services, f"{service}_url")
    sent = fuzz(f"{url}/openapi.json", herald_env.admin)
    assert sent, "the OpenAPI document lists operations"
    # Hypothesis stops early only when an operation has fewer distinct inputs than the budget.
    assert all(count > 0 for count in sent.values()), sent
