"""Access lines of stream opens (docs/decisions/0091): an opened stream's line is DEBUG
unless HERALD_NOTIFIER_STREAM_ACCESS_LINES=info; a refused open keeps its INFO line."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import HeraldEnv, notifier_process
from tests.support.processes import free_port
from tests.support.voucher_events import new_employee

pytestmark = pytest.mark.integration

UNREAD = b"event: unread-count\n"


@dataclass
class AccessLines:
    """The `uvicorn.access` lines of a notifier that served one stream and one refusal."""

    lines: list[dict[str, Any]]

    def about(self, status: int) -> list[dict[str, Any]]:
        """The lines of stream opens answered with `status`."""
        request = f'"GET /v1/stream HTTP/1.1" {status}'
        return [line for line in self.lines if line["message"].endswith(request)]


async def _open_and_refuse(url: str, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        async with client.stream("GET", f"{url}/v1/stream", headers=headers) as response:
            assert response.status_code == 200
            received = b""
            async for chunk in response.aiter_raw():
                received += chunk
                if UNREAD in received:
                    break  # opened: its unread count came
        refused = await client.get(
            f"{url}/v1/stream", headers={"Authorization": "Bearer not-a-token"}
        )
        assert refused.status_code == 401


def _served(env: HeraldEnv, extra: dict[str, str]) -> AccessLines:
    employee_id = new_employee(env, "ACCESS", "Access-Lines")
    port = free_port()
    process = notifier_process(env, port, extra, name=f"notifier-access-{secrets.token_hex(3)}")
    process.start()
    try:
        url = f"http://127.0.0.1:{port}"
        process.wait_http(f"{url}/readyz")
        asyncio.run(_open_and_refuse(url, env.bearer(employee_id, ["employee"])))
    finally:
        process.stop()
    lines = process.log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return AccessLines([e for e in entries if e.get("logger") == "uvicorn.access"])


@pytest.fixture(scope="module")
def by_default(herald_env: HeraldEnv) -> AccessLines:
    return _served(herald_env, {})


@pytest.fixture(scope="module")
def asked_for(herald_env: HeraldEnv) -> AccessLines:
    return _served(herald_env, {"HERALD_NOTIFIER_STREAM_ACCESS_LINES": "info"})


def test_an_opened_stream_writes_no_info_access_line(by_default: AccessLines) -> None:
    assert [line for line in by_default.about(200) if line["level"] == "INFO"] == []


def test_a_refused_open_keeps_its_info_access_line(by_default: AccessLines) -> None:
    [refused] = by_default.about(401)
    assert refused["level"] == "INFO"
    assert '"GET /v1/stream HTTP/1.1" 401' in refused["message"]


def test_asked_for_the_opened_streams_line_is_info(asked_for: AccessLines) -> None:
    [opened] = asked_for.about(200)
    assert opened["level"] == "INFO"
    assert '"GET /v1/stream HTTP/1.1" 200' in opened["message"]
