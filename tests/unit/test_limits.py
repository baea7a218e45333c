import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from herald_web.limits import BodySizeLimit, RateLimiter


def test_rate_limiter_allows_a_burst_then_asks_to_wait():
    limiter = RateLimiter(per_minute=60, burst=3)
    assert [limiter.retry_after("a", now=100.0) for _ in range(3)] == [None, None, None]
    assert limiter.retry_after("a", now=100.0) == 1
    assert limiter.retry_after("b", now=100.0) is None  # callers are independent
    assert limiter.retry_after("a", now=101.5) is None  # refilled one token


@pytest.fixture
def app():
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"size": len(await request.body())}

    @app.post("/parsed")
    async def parsed(body: Named) -> dict:
        return {"name": body.name}

    app.add_middleware(BodySizeLimit, limit_for=lambda path: 20 if path == "/parsed" else 10)
    return app


class Named(BaseModel):
    name: str


async def test_body_over_the_limit_is_413(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/echo", content=b"x" * 10)).json() == {"size": 10}
        big = await c.post("/echo", content=b"x" * 11)
        assert big.status_code == 413
        assert "larger than 10 bytes" in big.json()["detail"]

        async def chunks():
            for _ in range(5):
                yield b"xxxx"

        streamed = await c.post("/echo", content=chunks())
        assert streamed.status_code == 413


async def test_chunked_body_over_the_limit_is_413_where_fastapi_parses_it(app):
    """FastAPI answers 400 for any other error while it reads a body it parses."""

    async def chunks():
        for _ in range(8):
            yield b'"xxx'

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        small = await c.post("/parsed", json={"name": "a"})
        streamed = await c.post(
            "/parsed", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert small.json() == {"name": "a"}
    assert streamed.status_code == 413
    assert streamed.json() == {"detail": "request body larger than 20 bytes"}
