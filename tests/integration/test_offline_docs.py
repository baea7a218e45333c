"""Every service's /docs page is served whole by the service: no other origin, no inline
script, so it works with no network and under the gateway's Content-Security-Policy."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from tests.support.gateway import start_gateway_for

pytestmark = pytest.mark.integration


class _References(HTMLParser):
    """Every URL the page loads (src, href), and whether any script is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(str(found[name]))
        self._in_script_without_src = tag == "script" and not found.get("src")
        if any(name.startswith("on") for name, _ in attrs) or "style" in found:
            self.inline_scripts += 1

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script_without_src = False


def references(page: str) -> _References:
    parser = _References()
    parser.feed(page)
    return parser


SAME_ORIGIN = re.compile(r"^/(?!/)")  # a path on this origin, not //host or scheme:


@pytest.fixture(scope="module")
def gateway(services, herald_env, tmp_path_factory):
    site = tmp_path_factory.mktemp("docs-site")
    (site / "index.html").write_text("<!doctype html><title>console</title>")
    process, url = start_gateway_for(services, "gateway-docs", herald_env.log_dir, site)
    yield url
    process.stop()


async def assert_docs_served_whole(base_url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        found = references(page.text)
        assert found.urls, "the page loads Swagger UI's files"
        assert [u for u in found.urls if not SAME_ORIGIN.match(u)] == []
        assert found.inline_scripts == 0
        for url in found.urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 0, url
        document = await client.get("/openapi.json")
        assert document.status_code == 200
        assert document.json()["openapi"].startswith("3.")
    return page


@pytest.mark.parametrize("service", ["allocation", "notifier", "mailer"])
async def test_a_services_docs_load_only_its_own_files(services, service):
    await assert_docs_served_whole(getattr(services, f"{service}_url"))


async def test_the_docs_are_reachable_through_the_gateway_under_its_page_policy(gateway):
    page = await assert_docs_served_whole(gateway)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "connect-src 'self'" in policy


async def test_only_the_pages_files_are_served_from_the_docs_assets(services):
    async with httpx.AsyncClient(base_url=services.allocation_url, timeout=10) as client:
        assert (await client.get("/docs/assets/swagger-ui-bundle.js")).status_code == 200
        assert (await client.get("/docs/assets/swagger-editor-bundle.js")).status_code == 404
        assert (await client.get("/docs/assets/..%2f__init__.py")).status_code == 404
