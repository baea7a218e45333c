"""Herald's services as real OS processes, as they run in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.processes import faust_data_dir

REPO = Path(__file__).resolve().parents[2]


# Ports handed out in this test process: one given to a service that is down for a moment
# (killed, restarting) is free to the kernel, and must not go to another service meanwhile.
_handed_out: set[int] = set()


def free_port() -> int:
    """A port no process listens on now, never handed out before in this test process."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _handed_out:
            _handed_out.add(port)
            return port


@dataclass
class ServiceProcess:
    name: str
    module: str
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.log_dir / f"{self.name}.log"

    def start(self) -> ServiceProcess:
        log = self.log_path.open("ab")
        # The repository on the path, so a test build of a service (tests.support.*) starts
        # like the service, from wherever pytest runs.
        path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            # faust keeps its data directory in the working directory unless told: the
            # inserter's goes beside the log directory (which holds logs only), not into
            # the checkout.
            env={
                **os.environ,
                "PYTHONPATH": path,
                "FAUST_DATADIR": str(faust_data_dir(self.log_dir)),
                **self.env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {url}:\n{self.log_tail()}")
