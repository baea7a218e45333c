"""The targets of the issue, the measured figures against them, and the printed table."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    scenario: str
    name: str
    path: tuple[str, ...]
    comparison: str  # "<=" or ">="
    value: float
    unit: str

    def measured(self, scenarios: dict[str, Any]) -> float | None:
        node: Any = scenarios
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node) if isinstance(node, int | float) else None

    def met(self, measured: float | None) -> bool | None:
        if measured is None:
            return None
        compare: Callable[[float, float], bool] = (
            operator.le if self.comparison == "<=" else operator.ge
        )
        return compare(measured, self.value)


TARGETS = (
    Target("e2e", "POST to last stream, median", ("e2e", "median_seconds"), "<=", 2.0, "s"),
    Target("copy", "inserter COPY / psql \\copy", ("copy", "ratio"), ">=", 0.9, "x"),
    Target(
        "publish", "events/s", ("publish", "herald", "events_per_second"), ">=", 250_000, "ev/s"
    ),
    Target(
        "publish",
        "x kafka-producer-perf-test",
        ("publish", "ratio_vs_producer_performance"),
        ">=",
        0.5,
        "x",
    ),
    Target(
        "fanout",
        "deliveries/s per process",
        ("fanout", "herald_1", "deliveries_per_second_per_process"),
        ">=",
        150_000,
        "/s",
    ),
    Target("fanout", "x sse-starlette baseline", ("fanout", "ratio_vs_baseline"), ">=", 5.0, "x"),
    Target("latency", "p99 commit to client", ("latency", "p99_seconds"), "<=", 0.100, "s"),
    Target(
        "memory",
        "per idle connection",
        ("memory", "herald", "bytes_per_connection"),
        "<=",
        12 * 1024,
        "B",
    ),
)


def evaluate(scenarios: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for target in TARGETS:
        if target.scenario not in scenarios:
            continue
        measured = target.measured(scenarios)
        rows.append(
            {
                "scenario": target.scenario,
                "figure": target.name,
                "measured": measured,
                "target": f"{target.comparison} {target.value:g}",
                "ratio_to_target": measured / target.value if measured is not None else None,
                "met": target.met(measured),
            }
        )
    return rows


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int):
        if unit == "s":
            return f"{value * 1000:.1f} ms" if abs(value) < 1 else f"{value:.3f} s"
        if unit == "B":
            return f"{value / 1024:.1f} KB"
        if unit == "x":
            return f"{value:.2f}x"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


# (label, path, unit) of the figures printed per scenario.
FIGURES: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "e2e": [
        ("total, median of runs", ("median_seconds",), "s"),
        ("request (POST -> inserting)", ("median_phases_seconds", "request"), "s"),
        ("resolve", ("median_phases_seconds", "resolve"), "s"),
        ("copy", ("median_phases_seconds", "copy"), "s"),
        ("publish", ("median_phases_seconds", "publish"), "s"),
        ("consume (after publish)", ("median_phases_seconds", "consume"), "s"),
        ("fan-out (after consume)", ("median_phases_seconds", "fanout"), "s"),
        ("complete runs", ("complete_runs",), ""),
    ],
    "copy": [
        ("inserter COPY rows/s", ("inserter_rows_per_second",), ""),
        ("psql \\copy rows/s", ("psql_rows_per_second",), ""),
        ("ratio", ("ratio",), "x"),
    ],
    "publish": [
        ("herald EventPublisher ev/s", ("herald", "events_per_second"), ""),
        ("naive send loop ev/s", ("naive_send_loop", "events_per_second"), ""),
        ("kafka-producer-perf-test ev/s", ("producer_performance", "events_per_second"), ""),
        ("ratio vs naive", ("ratio_vs_naive",), "x"),
        ("ratio vs producer-perf-test", ("ratio_vs_producer_performance",), "x"),
        ("record size (bytes)", ("record_size_bytes",), ""),
    ],
    "fanout": [
        ("herald 1 process deliveries/s", ("herald_1", "deliveries_per_second"), ""),
        ("herald 2 processes deliveries/s", ("herald_2", "deliveries_per_second"), ""),
        ("herald 2 processes, per process", ("herald_2", "deliveries_per_second_per_process"), ""),
        ("baseline deliveries/s", ("baseline", "deliveries_per_second"), ""),
        ("ratio vs baseline", ("ratio_vs_baseline",), "x"),
        ("2 processes vs 1", ("scaling_2_vs_1",), "x"),
    ],
    "wsfanout": [
        ("Pusher sockets open", ("open_at_measurement",), ""),
        ("deliveries/s (1 process)", ("deliveries_per_second",), ""),
        ("deliveries", ("deliveries",), ""),
        ("server CPU per delivery", ("server_cpu_us_per_delivery",), "us"),
        ("per idle socket", ("bytes_per_idle_socket",), "B"),
        ("closed by the server", ("sockets_closed_by_server",), ""),
    ],
    "latency": [
        ("events sent", ("sent",), ""),
        ("rate achieved ev/s", ("rate_achieved",), ""),
        ("p50", ("p50_seconds",), "s"),
        ("p99", ("p99_seconds",), "s"),
        ("max", ("max_seconds",), "s"),
        ("p50 from the Kafka commit", ("from_kafka_commit", "p50_seconds"), "s"),
        ("p99 from the Kafka commit", ("from_kafka_commit", "p99_seconds"), "s"),
        ("max from the Kafka commit", ("from_kafka_commit", "max_seconds"), "s"),
        ("server CPU per delivery", ("server_cpu_us_per_delivery",), "us"),
        ("young collector passes", ("notifier_pauses", "collector", "0", "passes"), ""),
        ("longest young pass", ("notifier_pauses", "collector", "0", "wall_seconds_max"), "s"),
        ("loop stalls over 5 ms", ("notifier_pauses", "loop_stalls", "over_5ms"), ""),
        ("missing", ("missing",), ""),
    ],
    "memory": [
        ("herald per connection", ("herald", "bytes_per_connection"), "B"),
        ("baseline per connection", ("baseline", "bytes_per_connection"), "B"),
        ("herald connections open", ("herald", "open_at_measurement"), ""),
        ("baseline connections open", ("baseline", "open_at_measurement"), ""),
    ],
}


def table(report: dict[str, Any]) -> str:
    lines = []
    scenarios = report["scenarios"]
    width = 36
    for name, figures in FIGURES.items():
        if name not in scenarios:
            continue
        data = scenarios[name]
        lines.append(f"{name}")
        if "error" in data:
            lines.append(f"  {'error':<{width}} {data['error']}")
            continue
        for label, path, unit in figures:
            lines.append(f"  {label:<{width}} {_fmt(_get(data, *path), unit)}")
    lines.append("")
    lines.append(f"{'target':<44} {'measured':>14} {'target':>12} {'met':>5}")
    units = {(t.scenario, t.name): t.unit for t in TARGETS}
    for row in report["targets"]:
        unit = units[(row["scenario"], row["figure"])]
        label = f"{row['scenario']}: {row['figure']}"
        target = row["target"].split()
        target_text = f"{target[0]} {_fmt(float(target[1]), unit)}"
        lines.append(
            f"{label:<44} {_fmt(row['measured'], unit):>14} {target_text:>12} {_fmt(row['met']):>5}"
        )
    return "\n".join(lines)
