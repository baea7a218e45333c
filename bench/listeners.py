"""Processes and their TCP sockets on this machine: who listens on a port (the local
broker, to read its CPU), and which ports a process holds.

From /proc: the listening sockets' inodes in `/proc/net/tcp` and `tcp6` (this network
namespace), then the processes holding one of them among their descriptors. A broker
elsewhere (a cluster, another namespace) is not found, and its CPU is not reported.
"""

from __future__ import annotations

import os
from pathlib import Path

_LISTEN = "0A"  # the kernel's TCP_LISTEN, as /proc/net/tcp writes a socket's state


def _tcp_sockets(proc: Path) -> list[tuple[str, int, str]]:
    """Every TCP socket of this network namespace: (inode, local port, state)."""
    sockets = []
    for table in (proc / "net" / "tcp", proc / "net" / "tcp6"):
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEX_IP:HEX_PORT; st is the state; the inode is field 10.
            sockets.append((fields[9], int(fields[1].rsplit(":", 1)[1], 16), fields[3]))
    return sockets


def _socket_inodes(process: Path) -> set[str]:
    """The inodes of the sockets among a process's descriptors; raises when the process is
    gone or its descriptors cannot be read."""
    inodes = set()
    for descriptor in (process / "fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue  # closed since the listing
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def socket_ports(pid: int, proc: Path = Path("/proc")) -> set[int]:
    """The local TCP ports of a process's sockets, listening or connected."""
    inodes = _socket_inodes(proc / str(pid))
    return {port for inode, port, _ in _tcp_sockets(proc) if inode in inodes}


def listening_pids(port: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes with a socket listening on `port`, in pid order; empty when none here
    can be seen (another user's descriptors cannot be read)."""
    listening = {
        inode for inode, local, state in _tcp_sockets(proc) if state == _LISTEN and local == port
    }
    if not listening:
        return []
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if _socket_inodes(entry) & listening:
                found.append(int(entry.name))
        except OSError:
            continue  # gone, or another user's
    return sorted(found)


def bootstrap_port(bootstrap: str) -> int:
    """The port of a bootstrap list's first `host:port`."""
    first = bootstrap.split(",")[0].strip()
    return int(first.rsplit(":", 1)[1])
