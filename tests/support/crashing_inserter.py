"""The inserter, crashing right after an allocation's rows commit: `python -m` this module.

The same worker as `python -m herald_inserter` (same settings, same app), built with an
`after_commit` callback that exits the process with status 70 once the database has
committed rows inserted now and before any event is published, as a crash there would.
tests/reliability/test_inserter_crashes.py uses it to prove that the restarted worker
publishes everything. Nothing outside the tests starts it.
"""

from __future__ import annotations

import logging
import os

from herald_inserter.app import main

logger = logging.getLogger(__name__)


async def crash() -> None:
    logger.critical("test hook: exiting between the database and the Kafka commit")
    logging.shutdown()
    os._exit(70)


if __name__ == "__main__":
    main(after_commit=crash)
