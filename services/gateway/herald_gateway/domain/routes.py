"""Which service answers which path. Everything under /v1 belongs to exactly one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ServiceName = Literal["allocation", "notifier", "mailer"]

# Streams and the credentials for them live on the notifier; preferences on the mailer;
# the rest of the API (allocations, directory, inbox, pushes, dev tokens) on allocation.
NOTIFIER_PATHS: Final = ("/v1/stream", "/v1/stream-tickets", "/v1/session", "/v1/channel-auth")
MAILER_PATHS: Final = ("/v1/preferences",)
# The API's documentation page and its files (herald_web.docs), and the document it reads:
# the allocation service's, the API most callers use.
DOCS_PATHS: Final = ("/docs", "/openapi.json")


@dataclass(frozen=True, slots=True)
class Upstream:
    name: ServiceName
    base_url: str
    # Streams stay open for as long as the client wants them: no read timeout.
    streaming: bool


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def is_docs(path: str) -> bool:
    return _under(path, DOCS_PATHS)


def service_for(path: str) -> ServiceName | None:
    """The service owning an API path (or the docs), or None for the console's paths."""
    if is_docs(path):
        return "allocation"
    if not (path == "/v1" or path.startswith("/v1/")):
        return None
    if _under(path, NOTIFIER_PATHS):
        return "notifier"
    if _under(path, MAILER_PATHS):
        return "mailer"
    return "allocation"


# Headers that describe one connection, not the message (RFC 9110 section 7.6.1).
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def forwarded_request_headers(
    headers: list[tuple[bytes, bytes]], client_host: str | None, scheme: str
) -> list[tuple[bytes, bytes]]:
    """The client's headers minus hop-by-hop ones and Host, plus X-Forwarded-*."""
    named_in_connection = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == b"connection"
        for token in value.decode("latin-1").split(",")
    }
    kept: list[tuple[bytes, bytes]] = []
    host = b""
    forwarded_for = b""
    for name, value in headers:
        lower = name.decode("latin-1").lower()
        if lower == "host":
            host = value
            continue
        if lower == "x-forwarded-for":
            forwarded_for = value
            continue
        if lower in HOP_BY_HOP or lower in named_in_connection or lower.startswith("x-forwarded-"):
            continue
        kept.append((name, value))
    if client_host:
        chain = (
            f"{forwarded_for.decode('latin-1')}, {client_host}" if forwarded_for else client_host
        )
        kept.append((b"x-forwarded-for", chain.encode("latin-1")))
    if host:
        kept.append((b"x-forwarded-host", host))
    kept.append((b"x-forwarded-proto", scheme.encode("latin-1")))
    return kept


def forwarded_response_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The service's headers (every Set-Cookie included) minus hop-by-hop ones."""
    return [(name, value) for name, value in headers if name.lower().decode() not in HOP_BY_HOP]
