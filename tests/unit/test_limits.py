import httpx
import pytest
from fastapi import FastAPI, Request

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

    app.add_middleware(BodySizeLimit, limit_for=lambda path: 10)
    return app


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
