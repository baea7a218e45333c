"""The security headers on every response of the gateway (docs/decisions/0040).

One origin serves the console and the APIs, so one policy covers both, with two Content
Security Policies: the console's pages and files load only their own scripts and styles
and talk only to this origin; an API answer, a probe or an error may load and run nothing
at all, should a browser open one. Nothing may frame either. HSTS goes only on requests
that came over TLS, as uvicorn reports the scheme: from the connection, or from
X-Forwarded-Proto of a proxy it trusts (FORWARDED_ALLOW_IPS). The gateway's value of each
header replaces whatever a proxied service sent.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald_gateway.domain.routes import service_for

# No inline script or style anywhere: Vite's build links its script and stylesheet, and
# React sets style properties through the DOM, which CSP does not restrict.
PAGE_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
API_POLICY: Final = (
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Features the console does not use, off for it and for anything it might embed. Only
# features browsers know: Chromium reports an unknown one in the console of every page.
PERMISSIONS_POLICY: Final = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
STRICT_TRANSPORT_SECURITY: Final = "max-age=31536000; includeSubDomains"

_EVERYWHERE: Final = (
    (b"x-content-type-options", b"nosniff"),
    # For browsers that predate CSP's frame-ancestors.
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"x-permitted-cross-domain-policies", b"none"),
)
_PAGE: Final = (*_EVERYWHERE, (b"content-security-policy", PAGE_POLICY.encode()))
_API: Final = (*_EVERYWHERE, (b"content-security-policy", API_POLICY.encode()))
_TLS: Final = ((b"strict-transport-security", STRICT_TRANSPORT_SECURITY.encode()),)


PROBES: Final = frozenset({"/healthz", "/readyz", "/metrics"})


def is_console(path: str) -> bool:
    """The console's pages and files: everything but the APIs and the probes."""
    return service_for(path) is None and path not in PROBES


def is_page(path: str) -> bool:
    """What a browser shows as a page, with its files: the console, and the API's docs page
    (which, like the console, loads only this origin's scripts and styles)."""
    return is_console(path) or path == "/docs" or path.startswith("/docs/")


def security_headers(path: str, tls: bool) -> tuple[tuple[bytes, bytes], ...]:
    ours = _PAGE if is_page(path) else _API
    return (*ours, *_TLS) if tls else ours


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response, replacing any the app set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = security_headers(scope["path"], scope.get("scheme") == "https")
        names = {name for name, _ in ours}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message["headers"] = [*kept, *ours]
            await send(message)

        await self.app(scope, receive, send_with_headers)
