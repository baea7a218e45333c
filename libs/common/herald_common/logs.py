"""Logging set-up used by every service's entry point."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiokafka logs every metadata refresh at INFO; that drowns the service's own lines.
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
