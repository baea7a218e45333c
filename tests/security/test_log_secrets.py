"""No log line of any HTTP service carries a stream ticket or a channel signature.

Browsers put both in the URL (EventSource cannot send headers), so every line that names a
URL could carry them: access lines, error lines, uvicorn's own. Every HTTP service (and the
gateway in front of them) is sent such URLs, real credentials and made-up ones, accepted,
refused and malformed, then every log file of the session's processes is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.api import add_people
from tests.support.gateway import start_gateway, start_gateway_for
from tests.support.processes import ServiceProcess, free_port
from tests.support.sse import StreamRecorder

pytestmark = pytest.mark.integration

DEPARTMENT = "LogSecrets-Dept"
MANAGER = "LS000"
PEOPLE = [(f"LS{n:03d}", f"Person {n}", DEPARTMENT, "G2", date(2020, 1, 1)) for n in range(2)]
CHANNEL = f"private-department-{DEPARTMENT}"


def marker(kind: str) -> str:
    # Long and random enough that finding it anywhere can only mean it was logged.
    return f"{kind}{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("log-secrets-site")
    (root / "index.html").write_text("<!doctype html><title>Herald</title>")
    return root


@pytest.fixture(scope="module")
def gateways(services, herald_env, site) -> Iterator[tuple[str, str]]:
    """A gateway in front of the session's services, and one whose services are all down."""
    up, up_url = start_gateway_for(services, "gateway-log-secrets", herald_env.log_dir, site)
    nowhere = f"http://127.0.0.1:{free_port()}"
    down: ServiceProcess | None = None
    try:
        down, down_url = start_gateway(
            "gateway-log-secrets-down",
            herald_env.log_dir,
            site,
            allocation_url=nowhere,
            notifier_url=nowhere,
            mailer_url=nowhere,
        )
        yield up_url, down_url
    finally:
        if down is not None:
            down.stop()
        up.stop()


@pytest.fixture(scope="module")
async def people(services, herald_env):
    await add_people(services.allocation_url, herald_env.admin, PEOPLE)
    return PEOPLE


def _malformed(base_url: str, target: str) -> None:
    """A request uvicorn's parser refuses, its URL carrying the secrets."""
    address = urlsplit(base_url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n".encode("latin-1")
        )
        with contextlib.suppress(TimeoutError):
            connection.recv(4096)


async def _real_stream(
    client: httpx.AsyncClient, notifier: str, stream_url: str, manager: dict[str, str]
) -> list[str]:
    """Open a stream with a real ticket and a real channel signature; returns both."""
    ticket = (await client.post(f"{notifier}/v1/stream-tickets", headers=manager)).json()["ticket"]
    signed = await client.post(
        f"{notifier}/v1/channel-auth",
        headers=manager,
        data={"socket_id": ticket, "channel_name": CHANNEL},
    )
    auth = signed.json()["auth"]
    stream = await StreamRecorder(
        client, stream_url, {"ticket": ticket, "channels": CHANNEL, "channel_auth": auth}
    ).open()
    try:
        assert stream.status == 200
    finally:
        await stream.close()
    # The signature without the public key part is the secret bit.
    return [ticket, auth.partition(":")[2]]


async def test_no_service_logs_a_ticket_or_a_channel_signature(
    services, herald_env, gateways, people
):
    up, down = gateways
    ticket, signature = marker("ticket"), marker("sig")
    query = f"ticket={ticket}&channels={CHANNEL}&channel_auth=test-app-key:{signature}"
    manager = herald_env.bearer(MANAGER, ["employee", "manager"], manages=DEPARTMENT)
    employee = herald_env.bearer(PEOPLE[1][0], ["employee"])
    paths = {
        services.allocation_url: ["/v1/notifications", "/v1/allocations", "/nowhere", "/healthz"],
        services.notifier_url: ["/v1/stream", "/v1/stream-tickets", "/readyz"],
        services.mailer_url: ["/v1/preferences", "/nowhere", "/healthz"],
        up: ["/v1/stream", "/v1/notifications", "/v1/preferences", "/", "/assets/x.js"],
        down: ["/v1/stream", "/v1/notifications", "/v1/preferences", "/"],
    }
    real: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for base, routes in paths.items():
            for path in routes:
                url = f"{base}{path}?{query}"
                for headers in ({}, employee):
                    await client.get(url, headers=headers)
                await client.post(url, headers=employee, json={"not": "valid"})
            await asyncio.to_thread(_malformed, base, f"/v1/stream?{query}")
        # Real credentials, accepted: straight to the notifier, and through the gateway.
        for stream_url in (f"{services.notifier_url}/v1/stream", f"{up}/v1/stream"):
            real += await _real_stream(client, services.notifier_url, stream_url, manager)
        # A used ticket again, refused this time.
        await client.get(f"{up}/v1/stream?ticket={real[0]}")

    await asyncio.sleep(1)  # the lines of the last requests reach the files
    logs = {path.name: path.read_text(errors="replace") for path in herald_env.log_dir.glob("*")}
    for name in ("allocation.log", "notifier.log", "mailer.log", "gateway-log-secrets.log"):
        # The requests were logged (so the check below is not vacuous), their secrets not.
        assert "ticket=[redacted]" in logs[name], f"{name} has no access line for the requests"
    secret_values = [ticket, signature, *real]
    leaks = {
        name: [line for line in text.splitlines() if any(s in line for s in secret_values)]
        for name, text in logs.items()
    }
    assert {name: lines for name, lines in leaks.items() if lines} == {}
