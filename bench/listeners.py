"""Which processes on this machine listen on a TCP port: the local broker, to read its CPU.

From /proc: the listening sockets' inodes in `/proc/net/tcp` and `tcp6` (this network
namespace), then the processes holding one of them among their descriptors. A broker
elsewhere (a cluster, another namespace) is not found, and its CPU is not reported.
"""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"  # the kernel's TCP_LISTEN, as /proc/net/tcp writes a socket's state


def _listening_inodes(port: int, tables: tuple[Path, ...]) -> set[str]:
    inodes: set[str] = set()
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEX_IP:HEX_PORT; st is the state; the inode is field 10.
            if fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def listening_pids(port: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes with a socket listening on `port`, in pid order; empty when none here
    can be seen (another user's descriptors cannot be read)."""
    inodes = _listening_inodes(port, (proc / "net" / "tcp", proc / "net" / "tcp6"))
    if not inodes:
        return []
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            descriptors = list((entry / "fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target in inodes:
                found.append(int(entry.name))
                break
    return sorted(found)


def bootstrap_port(bootstrap: str) -> int:
    """The port of a bootstrap list's first `host:port`."""
    first = bootstrap.split(",")[0].strip()
    return int(first.rsplit(":", 1)[1])
