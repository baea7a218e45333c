"""Toxiproxy, a TCP proxy that injects network faults, driven through its HTTP API.

The server is built from its Go module by `make toxiproxy` into
$HERALD_HOME/tools/toxiproxy; a proxy forwards one listen port to one upstream, and
toxics (latency, bandwidth, reset_peer, timeout, ...) act on its downstream (what the
upstream sends back) or upstream (what the client sends) direction.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def server_binary(herald_home: Path) -> Path:
    """The server of the Makefile's version, built by `make toxiproxy` unless it is there
    already (`make test` builds it before pytest starts; then this is a no-op)."""
    subprocess.run(
        ["make", "-s", "-C", str(REPO), "toxiproxy", f"HERALD_HOME={herald_home}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    [binary] = sorted((herald_home / "tools").glob("toxiproxy-v*/toxiproxy-server"))[-1:]
    return binary


@dataclass
class Toxiproxy:
    binary: Path
    api_port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> Toxiproxy:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(self.binary), "-host", "127.0.0.1", "-port", str(self.api_port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/version", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert self.process.poll() is None, f"toxiproxy exited; see {self.log}"
            assert time.monotonic() < deadline, f"toxiproxy did not answer; see {self.log}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, f"{self.url}{path}", json=body, timeout=10)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def proxy(self, name: str, listen_port: int, upstream_port: int) -> None:
        self._call(
            "POST",
            "/proxies",
            {
                "name": name,
                "listen": f"127.0.0.1:{listen_port}",
                "upstream": f"127.0.0.1:{upstream_port}",
                "enabled": True,
            },
        )

    def add(
        self,
        proxy: str,
        kind: str,
        stream: str = "downstream",
        toxicity: float = 1.0,
        **attributes: int,
    ) -> str:
        name = f"{kind}_{stream}"
        self._call(
            "POST",
            f"/proxies/{proxy}/toxics",
            {
                "name": name,
                "type": kind,
                "stream": stream,
                "toxicity": toxicity,
                "attributes": attributes,
            },
        )
        return name

    def remove(self, proxy: str, toxic: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        """Disabled, the proxy closes every connection and refuses new ones."""
        self._call("POST", f"/proxies/{proxy}", {"enabled": enabled})

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self._call("POST", "/reset")

    def proxies(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/proxies")
        return result

    @contextmanager
    def toxic(
        self, proxies: list[str], kind: str, stream: str = "downstream", **attributes: int
    ) -> Iterator[None]:
        """`kind` on each of `proxies` for the duration of the block."""
        names = [(proxy, self.add(proxy, kind, stream, **attributes)) for proxy in proxies]
        try:
            yield
        finally:
            for proxy, name in names:
                self.remove(proxy, name)
