"""/v1/*: forwarded to the service that owns the path, streamed both ways, never buffered.

A service that cannot be reached answers 502 (504 on a timeout), which is what an
EventSource sees while the notifier restarts: it closes, and the page opens a new one.
Where notifiers share the partitions, a stream goes to its department's share
(`stream_routing`, docs/decisions/0078); one that share refuses as not its own (421: a
stale department claim) is tried once more on the notifiers that read everything, unless
it was opened with a ticket, which the refusal used up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from herald_gateway.domain.routes import (
    forwarded_request_headers,
    forwarded_response_headers,
    service_for,
)
from herald_gateway.domain.stream_routing import STREAM_PATH, stream_share_of
from herald_gateway.runtime import GatewayRuntime, get_runtime

logger = logging.getLogger(__name__)


def _has_body(request: Request) -> bool:
    headers = request.headers
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length != "0")


async def proxy(request: Request) -> Response:
    runtime = get_runtime(request)
    name = service_for(request.url.path)
    assert name is not None  # routed here for /v1 and the docs' paths only
    upstream = runtime.upstreams[name]
    settings = runtime.settings
    timeout = httpx.Timeout(
        settings.read_timeout_seconds,
        connect=settings.connect_timeout_seconds,
        read=None if upstream.streaming else settings.read_timeout_seconds,
    )
    headers = forwarded_request_headers(
        request.scope["headers"],
        request.client.host if request.client else None,
        request.url.scheme,
    )

    def outgoing(base_url: str) -> httpx.Request:
        return runtime.client.build_request(
            request.method,
            httpx.URL(base_url + request.url.path, query=request.url.query.encode()),
            headers=headers,
            content=request.stream() if _has_body(request) else None,
            timeout=timeout,
        )

    base_url = _stream_share_url(request, runtime) or upstream.base_url
    try:
        incoming = await runtime.client.send(outgoing(base_url), stream=True)
        if (
            incoming.status_code == 421
            and base_url != upstream.base_url
            and "ticket" not in request.query_params
        ):
            runtime.metrics.requests.labels(name, "misdirected").inc()
            await incoming.aclose()
            incoming = await runtime.client.send(outgoing(upstream.base_url), stream=True)
    except httpx.TimeoutException:
        runtime.metrics.requests.labels(name, "timeout").inc()
        return _unavailable(504, f"the {name} service did not answer in time")
    except httpx.TransportError as exc:
        runtime.metrics.requests.labels(name, "unreachable").inc()
        logger.info("%s unreachable: %s", name, exc)
        return _unavailable(502, f"the {name} service is unavailable")
    runtime.metrics.requests.labels(name, f"{incoming.status_code // 100}xx").inc()
    relayed = StreamingResponse(_relay(runtime, incoming, upstream.streaming), incoming.status_code)
    relayed.raw_headers = forwarded_response_headers(incoming.headers.raw)
    return relayed


def _stream_share_url(request: Request, runtime: GatewayRuntime) -> str | None:
    """The URL of the notifier share for a stream, or None (not a stream, or no share)."""
    shares = runtime.settings.notifier_share_urls
    if not shares or request.method != "GET" or request.url.path != STREAM_PATH:
        return None
    share = stream_share_of(
        {key: request.query_params.getlist(key) for key in ("ticket", "channels")},
        request.headers.get("authorization"),
        request.cookies.get(runtime.settings.session_cookie),
        len(shares),
    )
    return None if share is None else shares[share]


async def _relay(
    runtime: GatewayRuntime, incoming: httpx.Response, streaming: bool
) -> AsyncIterator[bytes]:
    if streaming:
        runtime.metrics.open_streams.inc()
    try:
        # Raw bytes, as they arrive: no decoding, no re-chunking, no buffering.
        async for chunk in incoming.aiter_raw():
            yield chunk
    except httpx.TransportError as exc:
        # The service went away mid-response; ending ours lets the client reconnect.
        logger.info("response from %s cut short: %s", incoming.url.host, exc)
    finally:
        await incoming.aclose()
        if streaming:
            runtime.metrics.open_streams.dec()


def _unavailable(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers={"Retry-After": "2"})
