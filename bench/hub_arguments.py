"""The command line of the fan-out comparison hubs (baseline_notifier, floor_notifier), and
of the opens floors.

`BenchRun._bench_hub` starts either with the same arguments: where to listen, and the
Kafka topic and partition count of this run's per-employee events.
"""

from __future__ import annotations

import argparse


def _listening(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser


def floor_arguments(description: str | None) -> argparse.Namespace:
    """The opens floors' (floor_opens, floor_opens_asgi): where to listen."""
    return _listening(description).parse_args()


def hub_arguments(description: str | None) -> argparse.Namespace:
    parser = _listening(description)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    return parser.parse_args()
