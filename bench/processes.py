"""Processes the benchmark starts: Herald's services, the baseline hub, the load generator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of a process (VmHWM: its peak so far), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def faust_data_dir(log_dir: Path) -> Path:
    """Where a faust worker logging into `log_dir` keeps its data: a sibling directory
    (the log directory holds logs only), made here since faust makes only the last level.
    """
    parent = log_dir.with_name(f"{log_dir.name}-faust")
    parent.mkdir(parents=True, exist_ok=True)
    return parent / "{conf.name}-data"


@dataclass
class Service:
    """One OS process with its own log file; stopped with SIGTERM, then SIGKILL.

    It inherits the benchmark's open-files limit (raised to the hard limit at start-up) and
    gets SIGTERM if the benchmark dies first (bench/child.py).
    """

    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.log_dir / f"{self.name}.log"

    @classmethod
    def python_module(
        cls, name: str, module: str, env: dict[str, str], log_dir: Path, *args: str
    ) -> Service:
        return cls(name, [sys.executable, "-m", module, *args], env, log_dir)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.child", str(os.getpid()), *self.argv],
                # faust keeps its data directory in the working directory unless told:
                # the inserter's goes beside the log directory, not into the checkout.
                env={
                    **os.environ,
                    "FAUST_DATADIR": str(faust_data_dir(self.log_dir)),
                    **self.env,
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def wait_http(self, url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if not self.running():
                    raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready at {url}:\n{self.log_tail()}")

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def peak_rss(self) -> int:
        return rss_bytes(self.pid, "VmHWM")

    def stop(self, timeout: float = 20.0) -> None:
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LoadGeneratorProcess:
    """The parent's handle on `python -m bench.loadgen`: JSON lines over stdin/stdout."""

    module = "bench.loadgen"

    def __init__(
        self,
        *,
        host: str,
        streams: list[tuple[int, str]] | list[tuple[int, str, str]],
        kinds: list[str],
        work_dir: Path,
        name: str = "loadgen",
        concurrency: int = 200,
        path: str = "/v1/stream",
        **options: Any,
    ) -> None:
        # A stream is (port, token) or (port, token, auth): bearer, cookie or ticket.
        self._config = {
            "host": host,
            "path": path,
            "kinds": kinds,
            "concurrency": concurrency,
            "streams": [
                {"port": s[0], "token": s[1], "auth": s[2] if len(s) > 2 else "bearer"}
                for s in streams
            ],
            # ready_on_live, reconnect_port, tickets_first: see bench/loadgen.py.
            **options,
        }
        self._work_dir = work_dir
        self._name = name
        self._process: asyncio.subprocess.Process | None = None
        self.ready: dict[str, Any] = {}

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def start(self, timeout: float = 600.0) -> dict[str, Any]:
        self._work_dir.mkdir(parents=True, exist_ok=True)
        config_path = self._work_dir / f"{self._name}.json"
        config_path.write_text(json.dumps(self._config))
        stderr = (self._work_dir / f"{self._name}.log").open("ab")
        try:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.child",
                str(os.getpid()),
                sys.executable,
                "-m",
                self.module,
                str(config_path),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                cwd=REPO,
                start_new_session=True,
                limit=64 * 1024 * 1024,
            )
        finally:
            stderr.close()
        self.ready = await self._read(timeout)
        return self.ready

    async def _read(self, timeout: float) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"{self._name} exited; see {self._work_dir / (self._name + '.log')}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def command(self, reply_timeout: float = 60.0, **command: Any) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(command) + "\n").encode())
        await self._process.stdin.drain()
        return await self._read(reply_timeout)

    async def go(self, timeout: float = 600.0) -> dict[str, Any]:
        """After `start` answered with the tickets (`tickets_first`): open the streams."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(b"go\n")
        await self._process.stdin.drain()
        self.ready = await self._read(timeout)
        return self.ready

    async def arm(
        self,
        *,
        per_stream: int | None = None,
        total: int | None = None,
        record: bool = False,
        by_stream: bool = False,
    ) -> dict[str, Any]:
        return await self.command(
            cmd="arm", per_stream=per_stream, total=total, record=record, by_stream=by_stream
        )

    async def wait(self, timeout: float, total: int | None = None) -> dict[str, Any]:
        return await self.command(timeout + 30.0, cmd="wait", timeout=timeout, total=total)

    async def stats(self) -> dict[str, Any]:
        return await self.command(cmd="stats")

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            await self.command(10.0, cmd="quit")
        try:
            await asyncio.wait_for(self._process.wait(), 10)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()


class KafkaWitnessProcess(LoadGeneratorProcess):
    """`python -m bench.kafka_witness`: a bare read-committed consumer of one topic."""

    module = "bench.kafka_witness"

    def __init__(self, *, bootstrap: str, topic: str, work_dir: Path) -> None:
        super().__init__(
            host="127.0.0.1", streams=[], kinds=[], work_dir=work_dir, name="kafka-witness"
        )
        self._config = {"bootstrap": bootstrap, "topic": topic}


class WsLoadGeneratorProcess(LoadGeneratorProcess):
    """`python -m bench.ws_loadgen`: Pusher sockets, one per employee, on one server."""

    module = "bench.ws_loadgen"

    def __init__(
        self, *, port: int, key: str, secret: str, employees: list[str], work_dir: Path, name: str
    ) -> None:
        super().__init__(host="127.0.0.1", streams=[], kinds=[], work_dir=work_dir, name=name)
        self._config = {
            "host": "127.0.0.1",
            "port": port,
            "key": key,
            "secret": secret,
            "employees": employees,
            "concurrency": 200,
        }


def cpu_seconds(pid: int) -> float:
    """CPU time a process's threads have run, in seconds, from /proc.

    Each thread's `schedstat` counts its time on a CPU in nanoseconds. `stat`'s utime and
    stime count clock ticks (10 ms here), so a span of a few milliseconds, such as a
    handful of tickets in the smoke run, read as 0 or 10 ms from it. A thread that exits
    during a span takes its time with it; the services' threads (the event loop, the
    executor's pool) live as long as the process. Without schedstat (a kernel built
    without it) the ticks are read instead.
    """
    if not Path("/proc/self/schedstat").exists():
        return _ticks_seconds(pid)
    # Listing a process that is gone raises, as reading its stat would.
    return sum(_thread_ns(task) for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9


def process_cpu_seconds(pid: int) -> float:
    """CPU time of a process, its exited threads included, from `stat`'s clock ticks: for a
    process whose threads come and go (a JVM's compiler threads), where `cpu_seconds` would
    lose the time of those that exited during the span. Ticks suit spans of seconds."""
    return _ticks_seconds(pid)


def _thread_ns(task: Path) -> int:
    try:
        return int((task / "schedstat").read_text().split()[0])
    except (FileNotFoundError, ProcessLookupError):
        return 0  # the thread exited between the listing and the read


def _ticks_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
