"""Run a command that ends when the benchmark ends, however the benchmark ends.

    python -m bench.child PARENT_PID COMMAND [ARGS...]

Asks Linux to send SIGTERM when the parent exits (PR_SET_PDEATHSIG, which survives the
exec), then becomes the command. Services the benchmark starts are in sessions of their
own, so without this a benchmark killed with SIGKILL would leave them running.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = int(sys.argv[1])
    command = sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        sys.exit(1)  # the benchmark is already gone
    os.execv(command[0], command)  # noqa: S606 (the command is the benchmark's own)


if __name__ == "__main__":
    main()
