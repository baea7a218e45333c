"""Browser tests: Debian's Chromium driven by Playwright, against the real services.

The page is served by a gateway in front of the session's allocation service and mailer
and a notifier of its own (every notifier replica reads every partition), so a test can
stop and restart that notifier without disturbing the other tests. Playwright never
downloads a browser here: it launches /usr/bin/chromium.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from tests.conftest import approval_allocation_process
from tests.support.gateway import start_gateway
from tests.support.processes import ServiceProcess, free_port
from tests.support.stack import REPO

CHROMIUM = os.environ.get("HERALD_TEST_CHROMIUM", "/usr/bin/chromium")
# The machine has no network: without the background-networking flags Chromium keeps
# trying to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEB_DIST = REPO / "web" / "dist"
VIEWPORT = {"width": 1360, "height": 900}


@dataclass
class BrowserStack:
    url: str
    notifier: ServiceProcess
    notifier_url: str

    def restart_notifier(self) -> None:
        self.notifier.start()
        self.notifier.wait_http(f"{self.notifier_url}/readyz")


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where screenshots go: HERALD_TEST_OUTPUT_DIR, else .herald/test-output/browser."""
    home = Path(os.environ.get("HERALD_HOME", REPO / ".herald"))
    path = Path(os.environ.get("HERALD_TEST_OUTPUT_DIR", home / "test-output")) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def serving_console(
    name: str, herald_env, allocation_url: str, notifier_url: str, mailer_url: str
) -> Iterator[str]:
    """A gateway serving the built console in front of these services; its address."""
    gateway, url = start_gateway(
        name,
        herald_env.log_dir,
        WEB_DIST,
        allocation_url=allocation_url,
        notifier_url=notifier_url,
        mailer_url=mailer_url,
    )
    try:
        yield url
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def browser_stack(services, herald_env) -> Iterator[BrowserStack]:
    if not (WEB_DIST / "index.html").is_file():
        raise RuntimeError(f"{WEB_DIST} is not built: `make test` runs `npm run build` in web/")
    port = free_port()
    notifier = ServiceProcess(
        "notifier-browser",
        "herald_notifier",
        {
            **herald_env.variables(),
            "HERALD_NOTIFIER_PORT": str(port),
            "HERALD_NOTIFIER_REPLICA_ID": "browser-tests",
            # Through the gateway on 127.0.0.1, as a person would open it.
            "HERALD_AUTH_SESSION_COOKIE_SECURE": "true",
        },
        herald_env.log_dir,
    ).start()
    notifier_url = f"http://127.0.0.1:{port}"
    try:
        notifier.wait_http(f"{notifier_url}/readyz")
        with serving_console(
            "gateway-browser",
            herald_env,
            services.allocation_url,
            notifier_url,
            services.mailer_url,
        ) as url:
            yield BrowserStack(url, notifier, notifier_url)
    finally:
        notifier.stop()


@dataclass
class ApprovalStack:
    url: str
    allocation_url: str


@pytest.fixture(scope="module")
def approval_stack(services, herald_env, browser_stack: BrowserStack) -> Iterator[ApprovalStack]:
    """A gateway in front of an allocation service whose approval rule is on (more than
    three recipients), sharing the session's database, notifier and mailer."""
    port = free_port()
    allocation = approval_allocation_process(
        herald_env, port, "allocation-browser-approval", above_recipients=3
    ).start()
    allocation_url = f"http://127.0.0.1:{port}"
    try:
        allocation.wait_http(f"{allocation_url}/readyz")
        with serving_console(
            "gateway-browser-approval",
            herald_env,
            allocation_url,
            browser_stack.notifier_url,
            services.mailer_url,
        ) as url:
            yield ApprovalStack(url, allocation_url)
    finally:
        allocation.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass
class ConsoleWatch:
    """Every console error and uncaught exception of the pages it watches."""

    errors: list[str] = field(default_factory=list)
    # Failures of /v1/stream that the test caused on purpose (the notifier was stopped).
    tolerated: list[str] = field(default_factory=list)
    outage: bool = False

    # What Chromium itself logs when a stream is refused by the gateway during an outage.
    _STREAM_REFUSED = re.compile(
        r"(Failed to load resource: the server responded with a status of 50[24]"
        r"|EventSource's response has a (status|MIME type))"
    )

    def attach(self, page: Page, name: str) -> None:
        page.on("console", lambda message: self._console(name, message))
        page.on("pageerror", lambda error: self.errors.append(f"{name}: uncaught {error}"))

    def _console(self, name: str, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        line = f"{name}: {message.text} ({where})"
        if self.outage and "/v1/stream" in where and self._STREAM_REFUSED.search(message.text):
            self.tolerated.append(line)
        else:
            self.errors.append(line)


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    """Fresh browser contexts (one per person, like separate machines); closed after."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        await context.close()
