"""The probes every HTTP service serves: herald_web.health and herald_web.runtime."""

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter
from starlette.applications import Starlette

from herald_web.health import NotReady, Probes, database, health_routes, started
from herald_web.runtime import runtime_getter


def _client(app):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def _app(*checks, registry=None):
    probes = Probes(registry or CollectorRegistry(), checks)
    return Starlette(routes=health_routes(lambda request: probes))


async def test_liveness_answers_ok_whatever_the_checks_say():
    async def broken():
        raise NotReady("starting")

    async with _client(_app(broken)) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_without_checks():
    async with _client(_app()) as client:
        response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_the_first_failing_check_answers_503_and_the_rest_do_not_run():
    ran = []

    async def fine():
        ran.append("fine")

    async def down():
        ran.append("down")
        raise NotReady("unavailable", "no database")

    async def later():
        ran.append("later")

    async with _client(_app(fine, down, later)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "no database"}
    assert ran == ["fine", "down"]


async def test_a_check_adds_fields_to_the_ready_answer_after_the_status():
    async def streams():
        return {"streams": 3}

    async with _client(_app(streams)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert list(response.json().items()) == [("status", "ready"), ("streams", 3)]


async def test_started_is_starting_until_its_event_is_set():
    event = asyncio.Event()
    async with _client(_app(started(event))) as client:
        before = await client.get("/readyz")
        event.set()
        after = await client.get("/readyz")
    assert (before.status_code, before.json()) == (503, {"status": "starting"})
    assert (after.status_code, after.json()) == (200, {"status": "ready"})


@dataclass
class _Pool:
    """The part of psycopg_pool's pool the database check uses."""

    error: Exception | None = None
    queries: list = None

    @asynccontextmanager
    async def connection(self, timeout):
        assert timeout == 2
        if self.error is not None:
            raise self.error
        pool = self

        class _Connection:
            async def execute(self, query):
                pool.queries.append(query)

        yield _Connection()


async def test_database_is_ready_while_postgresql_answers():
    up = _Pool(queries=[])
    async with _client(_app(database(up))) as client:
        response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})
    assert up.queries == ["SELECT 1"]


async def test_database_down_is_unavailable_with_the_reason():
    down = _Pool(error=TimeoutError("couldn't get a connection after 2.00 sec"))
    async with _client(_app(database(down))) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "couldn't get a connection after 2.00 sec",
    }


async def test_metrics_expose_the_given_registry():
    registry = CollectorRegistry()
    Counter("herald_test_things", "Things.", registry=registry).inc(2)
    async with _client(_app(registry=registry)) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert "herald_test_things_total 2.0" in response.text


async def test_probes_are_read_per_request_and_only_get_is_served():
    current = {"probes": Probes(CollectorRegistry())}
    app = Starlette(routes=health_routes(lambda request: current["probes"]))

    async def down():
        raise NotReady("starting")

    async with _client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        current["probes"] = Probes(CollectorRegistry(), [down])
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.post("/readyz")).status_code == 405


@dataclass
class _Runtime:
    probes: Probes


async def test_in_a_fastapi_app_from_the_runtime_and_outside_the_openapi_schema():
    app = FastAPI()
    get_runtime = runtime_getter(_Runtime)

    @app.get("/v1/thing")
    async def thing(runtime: Annotated[_Runtime, Depends(get_runtime)]) -> dict[str, int]:
        return {"checks": len(runtime.probes.checks)}

    app.router.routes.extend(health_routes(lambda request: get_runtime(request).probes))
    app.state.runtime = _Runtime(Probes(CollectorRegistry(), [started(asyncio.Event())]))
    async with _client(app) as client:
        assert (await client.get("/v1/thing")).json() == {"checks": 1}
        ready = await client.get("/readyz")
        schema = (await client.get("/openapi.json")).json()
    assert (ready.status_code, ready.json()) == (503, {"status": "starting"})
    assert set(schema["paths"]) == {"/v1/thing"}
