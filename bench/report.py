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
    comparison: str  # "<=", "<" or ">="
    value: float
    unit: str
    issue: int = 5  # the issue that set it

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
        compare: Callable[[float, float], bool] = _COMPARISONS[self.comparison]
        return compare(measured, self.value)


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
}


MB = 1024 * 1024

TARGETS = (
    # Issue 20: stream opens, and a drained replica's clients back on another.
    Target(
        "opens",
        "notifier CPU per stream open",
        ("opens", "notifier_cpu_ms_per_open"),
        "<=",
        0.2,
        "ms",
        20,
    ),
    Target("opens", "stream opens/s", ("opens", "opens_per_second"), ">=", 5_000, "/s", 20),
    Target("reconnect", "every client live again", ("reconnect", "complete"), ">=", 1, "", 20),
    # Issue 19: allocations at any size.
    Target("e2e", "POST to last stream, median", ("e2e", "median_seconds"), "<=", 1.2, "s", 19),
    Target(
        "e2e",
        "POST to first stream, median",
        ("e2e", "first_notification_median_seconds"),
        "<=",
        0.3,
        "s",
        19,
    ),
    Target("copy", "inserter COPY / psql \\copy", ("copy", "ratio"), ">=", 1.0, "x", 19),
    Target("million", "completes", ("million", "complete"), ">=", 1, "", 19),
    Target(
        "million", "POST to first stream", ("million", "first_stream_seconds"), "<=", 0.3, "s", 19
    ),
    Target(
        "million",
        "POST to last in inbox",
        ("million", "last_in_inbox_seconds"),
        "<=",
        15.0,
        "s",
        19,
    ),
    Target(
        "million",
        "inserter peak RSS",
        ("million", "inserter_peak_rss_bytes"),
        "<",
        512 * MB,
        "MB",
        19,
    ),
    Target(
        "pushduring",
        "push POST to its stream",
        ("pushduring", "push_during_seconds"),
        "<=",
        1.0,
        "s",
        19,
    ),
    # Issue 5: the first targets, where issue 19 did not replace them.
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
    # Issue 20: per-user fan-out near the floor (bench/floor_notifier.py, decision 0087).
    Target(
        "fanout",
        "CPU per delivery",
        ("fanout", "herald_1", "server_cpu_us_per_delivery"),
        "<=",
        6.7,
        "us",
        20,
    ),
    Target("fanout", "x sse-starlette baseline", ("fanout", "ratio_vs_baseline"), ">=", 5.0, "x"),
    # Issue 20: processes share the partitions (decision 0078).
    Target("fanout", "2 processes vs 1", ("fanout", "scaling_2_vs_1"), ">=", 1.7, "x", 20),
    # Issue 20: department watchers are served like private streams.
    Target(
        "broadcast",
        "notifier CPU per delivery",
        ("broadcast", "server_cpu_us_per_delivery"),
        "<=",
        12.0,
        "us",
        20,
    ),
    Target("latency", "p99 commit to client", ("latency", "p99_seconds"), "<=", 0.100, "s"),
    # Issue 20: the tail from the Kafka commit, at 1,000 events/s over 10,000 streams.
    Target(
        "latency",
        "p99 from the Kafka commit",
        ("latency", "from_kafka_commit", "p99_seconds"),
        "<=",
        0.005,
        "s",
        20,
    ),
    Target(
        "latency",
        "max from the Kafka commit",
        ("latency", "from_kafka_commit", "max_seconds"),
        "<=",
        0.020,
        "s",
        20,
    ),
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
                "issue": target.issue,
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
        if unit == "MB":
            return f"{value / MB:.1f} MB"
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
        ("first notification, median", ("first_notification_median_seconds",), "s"),
        ("request (POST -> inserting)", ("median_phases_seconds", "request"), "s"),
        ("resolve", ("median_phases_seconds", "resolve"), "s"),
        ("copy", ("median_phases_seconds", "copy"), "s"),
        ("publish", ("median_phases_seconds", "publish"), "s"),
        ("consume (after publish)", ("median_phases_seconds", "consume"), "s"),
        ("fan-out (after consume)", ("median_phases_seconds", "fanout"), "s"),
        ("server CPU per employee (us)", ("server_cpu_us_per_employee_median",), ""),
        ("complete runs", ("complete_runs",), ""),
    ],
    "copy": [
        ("inserter COPY rows/s", ("inserter_rows_per_second",), ""),
        ("  PostgreSQL CPU per row (us)", ("inserter_server_cpu_us_per_row",), ""),
        ("  inserter CPU per row (us)", ("inserter_client_cpu_us_per_row",), ""),
        ("  the inserter's COPYs of every row (s)", ("inserter_copy_seconds",), "s"),
        ("psql \\copy rows/s", ("psql_rows_per_second",), ""),
        ("  PostgreSQL CPU per row (us)", ("psql_server_cpu_us_per_row",), ""),
        ("  psql CPU per row (us)", ("psql_client_cpu_us_per_row",), ""),
        ("  psql \\copy of every row (s)", ("psql_copy_seconds",), "s"),
        ("ratio", ("ratio",), "x"),
    ],
    "million": [
        ("employees", ("employees",), ""),
        ("complete", ("complete",), ""),
        ("POST to first in inbox", ("first_in_inbox_seconds",), "s"),
        ("POST to last in inbox", ("last_in_inbox_seconds",), "s"),
        ("POST to first stream", ("first_stream_seconds",), "s"),
        ("POST to last stream", ("last_stream_seconds",), "s"),
        ("request (POST -> inserting)", ("phases_seconds", "request"), "s"),
        ("resolve", ("phases_seconds", "resolve"), "s"),
        ("copy", ("phases_seconds", "copy"), "s"),
        ("publish", ("phases_seconds", "publish"), "s"),
        ("consume (after publish)", ("phases_seconds", "consume"), "s"),
        ("fan-out (after consume)", ("phases_seconds", "fanout"), "s"),
        ("inserter peak RSS", ("inserter_peak_rss_bytes",), "MB"),
        ("WAL bytes per employee", ("wal_bytes_per_employee",), ""),
        ("database bytes per employee", ("database_bytes_per_employee",), ""),
        ("server CPU per employee (us)", ("server_cpu_us_per_employee",), ""),
        ("server CPU: PostgreSQL (s)", ("server_cpu_seconds", "postgresql"), ""),
        (
            "  of it the inserter's queries (s)",
            ("run", "postgresql_cpu_by_application", "herald-inserter"),
            "",
        ),
        ("server CPU: inserter (s)", ("server_cpu_seconds", "inserter"), ""),
        ("server CPU: notifier (s)", ("server_cpu_seconds", "notifier"), ""),
        ("inbox probe's PostgreSQL CPU (s)", ("inbox_probe_cpu_seconds",), ""),
        ("seeding (s)", ("seed_seconds",), ""),
    ],
    "pushduring": [
        ("push alone: POST to stream", ("push_alone_seconds",), "s"),
        ("push during: POST to stream", ("push_during_seconds",), "s"),
        (
            "push sent after allocation POST",
            ("push_sent_after_allocation_post_seconds",),
            "s",
        ),
        (
            "allocation done after push arrived",
            ("allocation_completed_after_push_seconds",),
            "s",
        ),
        ("allocation: POST to completed", ("allocation_seconds",), "s"),
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
        ("2 processes vs 1, by the busiest's CPU", ("scaling_2_vs_1_by_cpu",), "x"),
        ("2 processes vs 1, this machine's ceiling", ("scaling_2_vs_1_ceiling",), "x"),
        ("herald 1 process CPU per delivery", ("herald_1", "server_cpu_us_per_delivery"), "us"),
        ("herald 2 processes CPU per delivery", ("herald_2", "server_cpu_us_per_delivery"), "us"),
        ("floor deliveries/s", ("floor", "deliveries_per_second"), ""),
        ("floor CPU per delivery", ("floor", "server_cpu_us_per_delivery"), "us"),
        ("herald 1 process CPU over the floor's", ("cpu_vs_floor",), "x"),
        ("the same, median of the rounds' ratios", ("cpu_vs_floor_by_round",), "x"),
    ],
    "broadcast": [
        ("department watchers", ("connections",), ""),
        ("deliveries/s (1 process)", ("deliveries_per_second",), ""),
        ("deliveries", ("deliveries",), ""),
        ("notifier CPU per delivery", ("server_cpu_us_per_delivery",), "us"),
        ("PostgreSQL CPU in the burst", ("postgresql_cpu_seconds",), "s"),
        ("database transactions in the burst", ("database_transactions",), ""),
        ("gap reads in the burst", ("gap_reads",), ""),
        ("gap queries in the burst", ("gap_queries",), ""),
        ("watchers with every event once, in order", ("watchers", "exact"), ""),
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
        (
            "bare consumer: p50 from the commit",
            ("bare_consumer_from_kafka_commit", "p50_seconds"),
            "s",
        ),
        (
            "bare consumer: p99 from the commit",
            ("bare_consumer_from_kafka_commit", "p99_seconds"),
            "s",
        ),
        (
            "bare consumer: max from the commit",
            ("bare_consumer_from_kafka_commit", "max_seconds"),
            "s",
        ),
        ("floor: p50 from the commit", ("floor_from_kafka_commit", "p50_seconds"), "s"),
        ("floor: p99 from the commit", ("floor_from_kafka_commit", "p99_seconds"), "s"),
        ("floor: max from the commit", ("floor_from_kafka_commit", "max_seconds"), "s"),
        ("floor: CPU per delivery", ("floor_from_kafka_commit", "cpu_us_per_delivery"), "us"),
        (
            "beside the floor, bare consumer: p99",
            ("floor_from_kafka_commit", "bare_consumer_from_kafka_commit", "p99_seconds"),
            "s",
        ),
        ("server CPU per delivery", ("server_cpu_us_per_delivery",), "us"),
        ("broker CPU per event, beside Herald", ("broker_cpu_us_per_event",), "us"),
        (
            "broker CPU per event, beside the floor",
            ("floor_from_kafka_commit", "broker_cpu_us_per_event"),
            "us",
        ),
        ("warm-up events, unmeasured", ("warm_up", "sent"), ""),
        ("broker GC pauses, beside Herald", ("broker_pauses", "count"), ""),
        ("longest broker GC pause, beside Herald", ("broker_pauses", "longest_seconds"), "s"),
        (
            "Herald's 10 slowest: waited through a broker GC pause",
            ("broker_pauses", "slowest_through_a_pause"),
            "",
        ),
        (
            "the floor's 10 slowest: waited through a broker GC pause",
            ("floor_from_kafka_commit", "broker_pauses", "slowest_through_a_pause"),
            "",
        ),
        ("young collector passes", ("notifier_pauses", "collector", "0", "passes"), ""),
        ("longest young pass", ("notifier_pauses", "collector", "0", "wall_seconds_max"), "s"),
        ("loop stalls over 5 ms", ("notifier_pauses", "loop_stalls", "over_5ms"), ""),
        ("missing", ("missing",), ""),
    ],
    "opens": [
        ("clients (bearer/cookie/ticket)", ("clients",), ""),
        ("live", ("live",), ""),
        ("stream opens/s", ("opens_per_second",), ""),
        ("notifier CPU per open (ms)", ("notifier_cpu_ms_per_open",), ""),
        ("PostgreSQL CPU per open (ms)", ("postgresql_cpu_ms_per_open",), ""),
        ("notifier CPU per ticket (ms)", ("notifier_cpu_ms_per_ticket",), ""),
        ("  per open, tickets included (ms)", ("notifier_cpu_ms_per_open_with_tickets",), ""),
        ("load generator CPU per open (ms)", ("loadgen_cpu_ms_per_open",), ""),
        ("opens/s if every core were busy", ("opens_per_second_ceiling",), ""),
        ("handshakes dropped, accept queue full", ("handshakes_dropped",), ""),
        ("floor opens/s", ("floor", "opens_per_second"), ""),
        ("floor CPU per open (ms)", ("floor", "notifier_cpu_ms_per_open"), ""),
        ("floor PostgreSQL CPU per open (ms)", ("floor", "postgresql_cpu_ms_per_open"), ""),
        ("floor CPU per ticket (ms)", ("floor", "notifier_cpu_ms_per_ticket"), ""),
        ("floor handshakes dropped", ("floor", "handshakes_dropped"), ""),
        ("herald CPU per open over the floor's", ("cpu_vs_floor",), "x"),
        ("floor behind uvicorn opens/s", ("floor_asgi", "opens_per_second"), ""),
        ("floor behind uvicorn CPU per open (ms)", ("floor_asgi", "notifier_cpu_ms_per_open"), ""),
        ("floor behind uvicorn handshakes dropped", ("floor_asgi", "handshakes_dropped"), ""),
        ("herald CPU per open over that floor's", ("cpu_vs_floor_asgi",), "x"),
    ],
    "reconnect": [
        ("streams on the draining replica", ("streams",), ""),
        ("live again on the other", ("live_again",), ""),
        ("SIGTERM to every client live", ("seconds_to_all_live",), "s"),
        ("longest retry: (ms)", ("retry_ms_max",), ""),
        ("reopens/s", ("reopens_per_second",), ""),
        ("other replica CPU per reopen (ms)", ("other_cpu_ms_per_reopen",), ""),
        ("reconnect tries", ("reconnect_attempts",), ""),
    ],
    "memory": [
        ("herald per connection", ("herald", "bytes_per_connection"), "B"),
        ("baseline per connection", ("baseline", "bytes_per_connection"), "B"),
        ("herald connections open", ("herald", "open_at_measurement"), ""),
        ("baseline connections open", ("baseline", "open_at_measurement"), ""),
        (
            "herald CPU per idle stream-second (us)",
            ("herald", "server_cpu_us_per_idle_stream_second"),
            "",
        ),
        (
            "baseline CPU per idle stream-second (us)",
            ("baseline", "server_cpu_us_per_idle_stream_second"),
            "",
        ),
        ("idle window (s)", ("herald", "idle_seconds"), ""),
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
    machine = report.get("machine", {})
    start, end = machine.get("load_average_at_start"), machine.get("load_average_at_end")
    if start and end:
        lines.append(
            f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in start)} at the start,"
            f" {', '.join(f'{x:.2f}' for x in end)} at the end ({machine.get('cores')} cores)"
        )
    lines.append(f"{'issue':<6}{'target':<44} {'measured':>14} {'target':>12} {'mark':>5}")
    units = {(t.scenario, t.name): t.unit for t in TARGETS}
    for row in report["targets"]:
        unit = units[(row["scenario"], row["figure"])]
        label = f"{row['scenario']}: {row['figure']}"
        target = row["target"].split()
        target_text = f"{target[0]} {_fmt(float(target[1]), unit)}"
        mark = {True: "pass", False: "FAIL", None: "-"}[row["met"]]
        lines.append(
            f"{'#' + str(row['issue']):<6}{label:<44} {_fmt(row['measured'], unit):>14}"
            f" {target_text:>12} {mark:>5}"
        )
    return "\n".join(lines)
