"""Each service's compat module: its pins, its start-up check, its fallbacks, its shutdown path.

The private APIs a service uses are behind its `compat` module, for packages pinned to
one version in its pyproject.toml (docs/decisions/0042). Those pins are the versions
uv.lock installs, so here, as in production, the fast paths are the ones in use.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from types import SimpleNamespace

import faust
import pytest

from herald_common import pins
from herald_inserter import compat as inserter_compat
from herald_notifier import compat as notifier_compat
from herald_notifier.domain.fetched_records import GetmanyRecords

REPO = Path(__file__).resolve().parents[2]
LOCKED = {
    package["name"]: package["version"]
    for package in tomllib.loads((REPO / "uv.lock").read_text())["package"]
    if "version" in package
}
SERVICES = [
    ("herald-notifier", notifier_compat.PINNED),
    ("herald-inserter", inserter_compat.PINNED),
]


@pytest.mark.parametrize(("distribution", "packages"), SERVICES)
def test_each_package_whose_internals_are_used_is_pinned_to_the_locked_version(
    distribution, packages
):
    pinned = pins.exact_pins(distribution)
    assert {p: pinned.get(p) for p in packages} == {p: LOCKED[p] for p in packages}
    assert pins.differences(distribution, packages) == {}  # installed as pinned


def _installed_as(monkeypatch, versions: dict[str, str]) -> None:
    real = pins.metadata.version
    monkeypatch.setattr(pins.metadata, "version", lambda name: versions.get(name) or real(name))


def test_the_notifier_uses_its_fast_paths_where_the_pins_hold():
    assert notifier_compat.Internals.choose("auto") == notifier_compat.Internals(
        fetcher=True, protocol=True, stepping=True
    )


def test_the_notifier_falls_back_per_package_and_on_request(monkeypatch):
    _installed_as(monkeypatch, {"aiokafka": "0.15.0"})
    assert notifier_compat.Internals.choose("auto") == notifier_compat.Internals(
        fetcher=False, protocol=True, stepping=True
    )
    assert notifier_compat.Internals.choose("public") == notifier_compat.Internals(
        fetcher=False, protocol=False, stepping=False
    )


def test_the_notifier_reads_records_with_getmany_on_the_public_path():
    consumer = object()
    public = notifier_compat.Internals(fetcher=False, protocol=False, stepping=False)
    fast = notifier_compat.Internals(fetcher=True, protocol=True, stepping=True)
    assert isinstance(notifier_compat.record_reader(consumer, public), GetmanyRecords)  # type: ignore[arg-type]
    assert isinstance(
        notifier_compat.record_reader(consumer, fast),  # type: ignore[arg-type]
        notifier_compat.FetchedRecords,
    )
    assert notifier_compat.http_protocol(public) == "auto"
    assert notifier_compat.http_protocol(fast) is notifier_compat.LeanHttpToolsProtocol


def test_streams_write_directly_only_with_the_lean_protocol():
    public = notifier_compat.Internals(fetcher=False, protocol=False, stepping=False)
    fast = notifier_compat.Internals(fetcher=True, protocol=True, stepping=True)
    # A lean cycle's `send`, as a stream's response is handed it (nothing of it is called).
    cycle = object.__new__(notifier_compat._EndingCycle)

    def scope(internals: notifier_compat.Internals) -> dict[str, object]:
        return {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(compat=internals))}

    assert notifier_compat.direct_writer(scope(public), cycle.send) is None
    assert isinstance(
        notifier_compat.direct_writer(scope(fast), cycle.send), notifier_compat.DirectWriter
    )


async def test_on_the_public_path_a_task_watches_for_the_disconnect():
    gone = asyncio.Event()

    async def receive():
        await gone.wait()
        return {"type": "http.disconnect"}

    disconnected: list[str] = []
    public = notifier_compat.Internals(fetcher=False, protocol=False, stepping=False)
    scope = {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(compat=public))}
    tasks_before = len(asyncio.all_tasks())
    watch = notifier_compat.watch_disconnect(scope, receive, lambda: disconnected.append("gone"))
    assert len(asyncio.all_tasks()) == tasks_before + 1
    gone.set()
    await asyncio.sleep(0.01)
    assert disconnected == ["gone"]
    watch.cancel()

    # The default (and a scope without an app, as in tests) steps receive() by hand.
    gone.clear()
    fast = notifier_compat.Internals(fetcher=True, protocol=True, stepping=True)
    scope = {"type": "http", "app": SimpleNamespace(state=SimpleNamespace(compat=fast))}
    for given in (scope, {"type": "http"}):
        watch = notifier_compat.watch_disconnect(given, receive, lambda: None)
        assert len(asyncio.all_tasks()) == tasks_before
        watch.cancel()


def test_the_inserter_uses_faust_consumer_hooks_only_where_both_pins_hold(monkeypatch):
    assert inserter_compat.Internals.choose("auto").consumer_hooks
    fast = inserter_compat.Internals.choose("auto")
    assert inserter_compat.app_class(fast) is inserter_compat.ReadCommittedApp
    public = inserter_compat.Internals.choose("public")
    assert inserter_compat.app_class(public) is faust.App
    _installed_as(monkeypatch, {"faust-streaming": "0.16.0"})
    assert not inserter_compat.Internals.choose("auto").consumer_hooks


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter: nothing imported yet, nothing patched yet."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def test_no_third_party_patch_changes_the_notifiers_shutdown_path():
    ran = _python(
        """
        import signal, sys
        import uvicorn
        import herald_notifier.app
        from herald_notifier.compat import DrainingServer

        # Importing the notifier patches nothing of uvicorn's (sse-starlette would).
        assert "sse_starlette" not in sys.modules, "the notifier imports sse_starlette"
        handle_exit = uvicorn.Server.handle_exit
        assert handle_exit.__module__ == "uvicorn.server", handle_exit.__module__
        assert DrainingServer.handle_exit.__module__ == "herald_notifier.compat"

        # A patch installed later (importing sse-starlette replaces Server.handle_exit) is
        # bypassed: the drain, then uvicorn's own handler, and nothing else.
        from sse_starlette.sse import AppStatus
        assert uvicorn.Server.handle_exit is not handle_exit

        class Drain:
            requested = False
            def request(self):
                self.requested = True

        drain = Drain()
        server = DrainingServer(uvicorn.Config(app=None), drain)
        server.handle_exit(signal.SIGTERM, None)
        assert drain.requested
        assert server.should_exit
        assert AppStatus.should_exit is False, "sse-starlette's handler ran"
        print("ok")
        """
    )
    assert (ran.returncode, ran.stdout.strip()) == (0, "ok"), ran.stderr
