"""The command line of the fan-out comparison hubs (baseline_notifier, floor_notifier).

`BenchRun._bench_hub` starts either with the same arguments: where to listen, and the
Kafka topic and partition count of this run's per-employee events.
"""

from __future__ import annotations

import argparse


def hub_arguments(description: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    return parser.parse_args()
