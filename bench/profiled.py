"""Run a service module under cProfile, writing the profile however SIGTERM ends it.

    python -m bench.profiled OUTPUT.prof MODULE

uvicorn re-raises the signal that stopped it once it has shut down, which would end the
process before `python -m cProfile` writes anything; here SIGTERM's default action is an
orderly exit instead, and the profile is written on the way out.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def _exit(signum: int, frame: FrameType | None) -> None:
    sys.exit(128 + signum)


def main() -> None:
    output, module = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, _exit)
    sys.argv = [module]
    profile = cProfile.Profile()
    try:
        profile.runcall(runpy.run_module, module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profile.dump_stats(output)


if __name__ == "__main__":
    main()
