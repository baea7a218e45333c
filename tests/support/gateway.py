"""The gateway in front of a session's services, as the local stack runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.processes import ServiceProcess, free_port


def start_gateway(
    name: str,
    log_dir: Path,
    static_dir: Path,
    *,
    allocation_url: str,
    notifier_url: str,
    mailer_url: str,
    port: int | None = None,
    notifier_share_urls: list[str] | None = None,
) -> tuple[ServiceProcess, str]:
    """Start a gateway and wait until it answers; returns the process and its base URL.

    `port`: where it listens (a free one if None), so a restarted gateway takes its place.
    `notifier_share_urls`: notifiers reading share i of n of the partitions, at index i.
    """
    port = port or free_port()
    shares = {"HERALD_GATEWAY_NOTIFIER_SHARE_URLS": json.dumps(notifier_share_urls or [])}
    gateway = ServiceProcess(
        name,
        "herald_gateway",
        {
            "HERALD_GATEWAY_PORT": str(port),
            "HERALD_GATEWAY_STATIC_DIR": str(static_dir),
            "HERALD_GATEWAY_ALLOCATION_URL": allocation_url,
            "HERALD_GATEWAY_NOTIFIER_URL": notifier_url,
            "HERALD_GATEWAY_MAILER_URL": mailer_url,
            **shares,
        },
        log_dir,
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        gateway.wait_http(f"{url}/healthz")
    except BaseException:
        gateway.stop()
        raise
    return gateway, url


def start_gateway_for(
    services: Any,
    name: str,
    log_dir: Path,
    static_dir: Path,
    notifier_share_urls: list[str] | None = None,
) -> tuple[ServiceProcess, str]:
    """A gateway in front of the session's services (tests/conftest.py `services`), and of
    notifiers sharing the partitions where `notifier_share_urls` names them."""
    return start_gateway(
        name,
        log_dir,
        static_dir,
        allocation_url=services.allocation_url,
        notifier_url=services.notifier_url,
        mailer_url=services.mailer_url,
        notifier_share_urls=notifier_share_urls,
    )
