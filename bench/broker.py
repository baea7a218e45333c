"""The local Kafka broker as a scenario sees it: its CPU over a span, and its JVM's
collector pauses.

Found by the port of the run's bootstrap server (bench.listeners). A broker that is not
on this machine is not found, and nothing is reported for it. Its pauses come from the
JVM's own log, named in its command line (`-Xlog:gc...:file=PATH`, as deploy/local/stack.sh
starts it): the collector writes one line per pause, as it ends, with the pause's length.
G1 tags it `gc`; ZGC (`HERALD_KAFKA_OPTS="-XX:+UseZGC"`) tags its three pauses per cycle
`gc,phases`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.listeners import bootstrap_port, listening_pids
from bench.processes import process_cpu_seconds

# G1:  [2026-12-07T06:16:49.164+0000][gc          ] GC(103) Pause Young (Mixed) ... 14.230ms
# ZGC: [2026-12-07T10:04:01.980+0000][gc,phases   ] GC(0) Pause Mark End 0.009ms
_PAUSE = re.compile(
    r"^\[(?P<at>[0-9T:.+-]+)\]\[gc(?:,phases)?\s*\] GC\(\d+\) "
    r"Pause (?P<kind>\w+(?: (?:Start|End))?)\b.* (?P<ms>[0-9.]+)ms$"
)


@dataclass(frozen=True)
class Pause:
    """One collector pause: the JVM served no request from `start` to `end` (epoch s)."""

    kind: str  # G1's Young, Remark, Cleanup, Full; ZGC's Mark Start, Mark End, Relocate Start
    start: float
    end: float


def parse_pauses(lines: list[str]) -> list[Pause]:
    """The pauses among a G1 or ZGC log's lines, in order."""
    pauses = []
    for line in lines:
        found = _PAUSE.match(line)
        if found is None:
            continue
        end = datetime.strptime(found["at"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
        pauses.append(Pause(found["kind"], end - float(found["ms"]) / 1000, end))
    return sorted(pauses, key=lambda pause: pause.start)


def gc_log_of(cmdline: list[str]) -> Path | None:
    """The collector's log file a JVM was started with, if any."""
    for argument in cmdline:
        if argument.startswith("-Xlog:gc") and "file=" in argument:
            return Path(argument.split("file=", 1)[1].split(":", 1)[0])
    return None


class Broker:
    """The broker at `bootstrap`, if it runs here."""

    def __init__(self, bootstrap: str) -> None:
        self._pids = listening_pids(bootstrap_port(bootstrap))
        self._cpu_before: float | None = None
        self._gc_log: Path | None = None
        for pid in self._pids:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            self._gc_log = self._gc_log or gc_log_of(cmdline.split("\0"))

    def _cpu(self) -> float | None:
        try:
            return sum(process_cpu_seconds(pid) for pid in self._pids) if self._pids else None
        except OSError:
            return None  # a broker that went away: no figure rather than a wrong one

    def start(self) -> None:
        """Begin a span of the broker's CPU."""
        self._cpu_before = self._cpu()

    def cpu_us_per_event(self, events: int) -> float | None:
        """The broker's CPU since `start`, per event."""
        now = self._cpu()
        if now is None or self._cpu_before is None or not events:
            return None
        return (now - self._cpu_before) / events * 1e6

    def pauses(self, start: float, end: float) -> list[Pause] | None:
        """The collector's pauses that overlap [start, end]; None without its log. The log
        rotates (`gc.log.0` and on); every file of it is read."""
        if self._gc_log is None:
            return None
        lines: list[str] = []
        for path in sorted(self._gc_log.parent.glob(self._gc_log.name + "*")):
            try:
                lines += path.read_text(errors="replace").splitlines()
            except OSError:
                continue
        return [p for p in parse_pauses(lines) if p.start < end and p.end > start]
