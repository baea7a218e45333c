"""Body limits on a running service: a body without Content-Length is refused with 413 too."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.integration

# The allocation service's default `max_body_bytes`.
LIMIT = 1024 * 1024


async def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        yield b"x" * piece
        sent += piece


async def test_a_chunked_body_over_the_limit_is_413_naming_the_limit(services, herald_env):
    """No Content-Length, so the limit is only met while the route reads its JSON body."""
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        request = api.build_request(
            "POST",
            "/v1/allocations",
            content=_chunks(2 * LIMIT),
            headers={"Content-Type": "application/json", "Idempotency-Key": "chunked-too-large"},
        )
        assert "content-length" not in request.headers
        assert request.headers["transfer-encoding"] == "chunked"
        response = await api.send(request)
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": f"request body larger than {LIMIT} bytes"}


async def test_a_chunked_body_under_the_limit_reaches_the_route(services, herald_env):
    """The same route, the same chunking, a body within the limit: the route's own answer."""
    async with httpx.AsyncClient(
        base_url=services.allocation_url, timeout=30, headers=herald_env.admin
    ) as api:
        response = await api.post(
            "/v1/allocations",
            content=_chunks(LIMIT // 2),
            headers={"Content-Type": "application/json", "Idempotency-Key": "chunked-small"},
        )
    # Half a MiB of "x" is not JSON: the route parsed it and said so.
    assert response.status_code == 422, response.text
