"""The API's /docs page in Chromium through the gateway, with every other origin cut off:
Swagger UI renders, under the gateway's Content-Security-Policy, with no console error."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Route

from tests.browser.conftest import VIEWPORT, ConsoleWatch
from tests.support.gateway import start_gateway_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs_gateway(services, herald_env, tmp_path_factory) -> Iterator[str]:
    site = tmp_path_factory.mktemp("docs-browser-site")
    (site / "index.html").write_text("<!doctype html><title>console</title>")
    process, url = start_gateway_for(services, "gateway-docs-browser", herald_env.log_dir, site)
    yield url
    process.stop()


async def test_the_docs_render_with_no_network_but_this_origin(
    browser: Browser, docs_gateway: str, console: ConsoleWatch
) -> None:
    origin = urlsplit(docs_gateway).netloc
    elsewhere: list[str] = []

    async def only_this_origin(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    context = await browser.new_context(viewport=VIEWPORT)
    try:
        await context.route("**/*", only_this_origin)
        page = await context.new_page()
        console.attach(page, "docs")
        response = await page.goto(f"{docs_gateway}/docs")
        assert response is not None
        assert response.status == 200
        title = page.locator(".swagger-ui .info .title")
        await title.wait_for(timeout=30_000)
        assert "Herald API" in await title.inner_text()
        # The operations are listed (the document was read from /openapi.json).
        await page.locator(".opblock-summary-path", has_text="/v1/notifications").first.wait_for()
    finally:
        await context.close()
    assert elsewhere == []
    assert console.errors == []
