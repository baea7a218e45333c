"""The gateway's routing table, forwarded headers and static files."""

from pathlib import Path

import pytest

from herald_gateway.domain.routes import (
    forwarded_request_headers,
    forwarded_response_headers,
    service_for,
)
from herald_gateway.domain.static import IMMUTABLE, NO_CACHE, StaticSite


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/stream", "notifier"),
        ("/v1/stream-tickets", "notifier"),
        ("/v1/session", "notifier"),
        ("/v1/channel-auth", "notifier"),
        ("/v1/preferences", "mailer"),
        ("/v1/preferences/email/herald.allocation.summary", "mailer"),
        ("/v1/allocations", "allocation"),
        ("/v1/allocations:preview", "allocation"),
        ("/v1/notifications/12/read", "allocation"),
        ("/v1/dev/tokens", "allocation"),
        ("/v1/streams-of-something-else", "allocation"),
        ("/v1/sessionx", "allocation"),
        ("/v1", "allocation"),
        ("/", None),
        ("/v10/stream", None),
        ("/inbox", None),
    ],
)
def test_each_path_belongs_to_one_service(path, service):
    assert service_for(path) == service


def test_request_headers_lose_hop_by_hop_ones_and_gain_forwarded_ones():
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"connection", b"keep-alive, x-private-hop"),
        (b"x-private-hop", b"1"),
        (b"keep-alive", b"timeout=5"),
        (b"cookie", b"herald_session=abc"),
        (b"last-event-id", b"42"),
        (b"x-forwarded-for", b"10.0.0.1"),
        (b"x-forwarded-proto", b"https"),
    ]
    out = forwarded_request_headers(headers, "127.0.0.1", "http")
    assert out == [
        (b"cookie", b"herald_session=abc"),
        (b"last-event-id", b"42"),
        (b"x-forwarded-for", b"10.0.0.1, 127.0.0.1"),
        (b"x-forwarded-host", b"127.0.0.1:8000"),
        (b"x-forwarded-proto", b"http"),
    ]


def test_every_set_cookie_comes_back():
    headers = [
        (b"set-cookie", b"a=1; Path=/v1"),
        (b"set-cookie", b"b=2; Path=/v1"),
        (b"transfer-encoding", b"chunked"),
        (b"content-type", b"text/event-stream"),
    ]
    assert forwarded_response_headers(headers) == [
        (b"set-cookie", b"a=1; Path=/v1"),
        (b"set-cookie", b"b=2; Path=/v1"),
        (b"content-type", b"text/event-stream"),
    ]


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "app-1a2b.js").write_text("")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("no")
    return StaticSite(tmp_path)


def test_files_assets_and_app_routes(site):
    root = site.root
    assert site.resolve("/") == site.resolve("/index.html")
    assert site.resolve("/").path == root / "index.html"
    assert site.resolve("/").cache_control == NO_CACHE
    asset = site.resolve("/assets/app-1a2b.js")
    assert (asset.path, asset.cache_control) == (root / "assets" / "app-1a2b.js", IMMUTABLE)
    assert site.resolve("/favicon.svg").cache_control == NO_CACHE
    # The app's own pages are index.html; missing files are not.
    assert site.resolve("/inbox").path == root / "index.html"
    assert site.resolve("/console/allocations").path == root / "index.html"
    assert site.resolve("/assets/missing.js") is None
    assert site.resolve("/logo.png") is None


def test_nothing_outside_the_root_is_served(site):
    assert site.resolve("/../secret.txt") is None
    assert site.resolve("/assets/../../secret.txt") is None
