"""Handshakes the kernel dropped because a listening socket's accept queue was full.

A burst of clients connecting at once (a drained replica's, the opens scenario's) can
outrun a server's accepting: past its listen backlog the kernel drops the client's
handshake, which the client retries a second or more later. Those clients are slow to
open for no work of the server's, so the opens scenario counts them beside its rates: a
burst's opens/s is the server's own only while none were dropped. The counter is the whole
machine's (`TcpExt` in /proc/net/netstat), read before and after a burst.
"""

from __future__ import annotations

from pathlib import Path

NETSTAT = Path("/proc/net/netstat")
# Times a listening socket's accept queue was full (each a handshake dropped).
COUNTER = "ListenOverflows"


def parse_counter(text: str, name: str = COUNTER) -> int | None:
    """`name` of the `TcpExt:` lines (a line of names, then a line of values)."""
    rows = [line.split() for line in text.splitlines() if line.startswith("TcpExt:")]
    if len(rows) < 2:
        return None
    names, values = rows[0], rows[1]
    if name not in names or len(values) != len(names):
        return None
    return int(values[names.index(name)])


def listen_overflows(netstat: Path = NETSTAT) -> int | None:
    """The machine's count so far; None where /proc does not say."""
    try:
        return parse_counter(netstat.read_text())
    except OSError:
        return None


def dropped_since(before: int | None, netstat: Path = NETSTAT) -> int | None:
    """Handshakes dropped since `before` was read (None where either read failed)."""
    after = listen_overflows(netstat)
    return after - before if before is not None and after is not None else None
