"""The benchmark at tiny sizes (`python -m bench --profile smoke`), so it never rots.

Every scenario runs against the session's Kafka and PostgreSQL in its own database and
topics, with real service processes and the real load generator. Only the presence and
sanity of each figure is checked: timings are never asserted.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.config import SCENARIOS, SMOKE
from bench.report import TARGETS
from tests.support.stack import Infrastructure

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "report.json"
    env = {
        **os.environ,
        "HERALD_BENCH_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "HERALD_BENCH_DATABASE_URL": infra.database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--profile", "smoke", "--output", str(output)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-4000:]}"
    assert "target" in done.stdout  # the table was printed
    assert "load average" in done.stdout
    loaded: dict[str, Any] = json.loads(output.read_text())
    return loaded


def positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_the_report_describes_the_run(report: dict[str, Any]) -> None:
    assert report["config"]["scenarios"] == list(SCENARIOS)
    assert report["config"]["employees"] == SMOKE.employees
    assert positive(report["machine"]["cores"])
    assert positive(report["machine"]["memory_bytes"])
    versions = report["versions"]
    for name in ("python", "aiokafka", "psycopg", "sse-starlette", "uvicorn", "postgresql"):
        assert versions[name], name
    assert versions["kafka_local_stack"]
    assert versions["kafka_tools"]
    assert positive(report["duration_seconds"])
    for name in SCENARIOS:
        assert "error" not in report["scenarios"][name], report["scenarios"][name].get("trace")


def test_every_target_has_a_measured_figure(report: dict[str, Any]) -> None:
    rows = report["targets"]
    assert [(r["scenario"], r["figure"]) for r in rows] == [(t.scenario, t.name) for t in TARGETS]
    for row in rows:
        assert isinstance(row["measured"], float), row
        assert isinstance(row["met"], bool), row
    assert {r["issue"] for r in rows} == {5, 19, 20}


def test_e2e_reaches_every_stream_and_splits_the_time(report: dict[str, Any]) -> None:
    e2e = report["scenarios"]["e2e"]
    assert e2e["connected"]["open"] == SMOKE.e2e_streams
    assert e2e["complete_runs"] == SMOKE.e2e_runs
    (run,) = e2e["runs"]
    assert run["status"] == "completed"
    assert run["matched"] == SMOKE.employees
    assert run["streams_with_event"] == run["streams"] == SMOKE.e2e_streams
    assert positive(run["total_seconds"])
    phases = run["phases"]
    assert set(phases) == {"request", "resolve", "copy", "publish", "consume", "fanout"}
    assert all(value >= 0 for value in phases.values()), phases
    assert sum(phases.values()) == pytest.approx(run["total_seconds"])
    assert set(run["inserter_phase_seconds"]) >= {"write", "publish"}
    assert positive(e2e["median_seconds"])


def test_e2e_times_the_first_notification_and_the_server_cpu(report: dict[str, Any]) -> None:
    e2e = report["scenarios"]["e2e"]
    (run,) = e2e["runs"]
    assert 0 < run["first_delivery_seconds"] <= run["total_seconds"]
    assert e2e["first_notification_median_seconds"] == run["first_delivery_seconds"]
    # CPU time is read in nanoseconds (0077): even a tiny run costs every process some.
    cpu = run["server_cpu_seconds"]
    assert set(cpu) == {"allocation", "inserter", "notifier", "postgresql", "total"}
    assert all(value > 0 for value in cpu.values()), cpu
    assert cpu["total"] == pytest.approx(sum(v for k, v in cpu.items() if k != "total"))
    assert e2e["server_cpu_us_per_employee_median"] == pytest.approx(
        cpu["total"] / SMOKE.employees * 1e6
    )


def test_copy_loads_the_same_rows_both_ways(report: dict[str, Any]) -> None:
    copy = report["scenarios"]["copy"]
    (round_,) = copy["rounds"]
    # The inbox rows are lean (docs/decisions/0066): each employee's part is COPYed.
    assert [t["table"] for t in round_["tables"]] == [
        "notifications_per_employee",
        "employee_vouchers",
    ]
    for table in round_["tables"]:
        assert table["rows"] == table["psql_rows"] == SMOKE.employees
        assert positive(table["inserter_seconds"])
        assert positive(table["psql_seconds"])
    assert positive(copy["inserter_rows_per_second"])
    assert positive(copy["psql_rows_per_second"])
    assert copy["psql_copy_seconds"] == pytest.approx(
        sum(t["psql_seconds"] for t in round_["tables"])
    )
    assert copy["inserter_copy_seconds"] == pytest.approx(
        sum(t["inserter_seconds"] for t in round_["tables"])
    )
    assert positive(copy["ratio"])


def test_copy_reads_the_cpu_of_both_sides(report: dict[str, Any]) -> None:
    copy = report["scenarios"]["copy"]
    for side in ("inserter", "psql"):
        for where in ("server", "client"):
            value = copy[f"{side}_{where}_cpu_us_per_row"]
            assert isinstance(value, float), (side, where)
            assert value >= 0, (side, where)


def test_publish_measures_herald_and_both_baselines(report: dict[str, Any]) -> None:
    publish = report["scenarios"]["publish"]
    assert publish["events"] == SMOKE.publish_events
    assert positive(publish["record_size_bytes"])
    for name in ("herald", "naive_send_loop", "producer_performance"):
        assert positive(publish[name]["events_per_second"]), name
    (perf,) = publish["producer_performance"]["runs"]
    assert perf["records"] == SMOKE.publish_events
    assert positive(publish["ratio_vs_naive"])
    assert positive(publish["ratio_vs_producer_performance"])


def test_fanout_delivers_every_event_in_each_setup(report: dict[str, Any]) -> None:
    fanout = report["scenarios"]["fanout"]
    expected = SMOKE.fanout_connections * SMOKE.fanout_events_per_connection
    for name, processes in (("herald_1", 1), ("herald_2", 2), ("baseline", 1), ("floor", 1)):
        result = fanout[name]
        assert result["processes"] == processes
        assert result["connected"]["open"] == SMOKE.fanout_connections, name
        assert result["deliveries"] == result["deliveries_expected"] == expected, name
        assert result["complete"], name
        assert result["warm_up_complete"], name
        assert result["streams_closed_by_server"] == 0, name
        assert positive(result["deliveries_per_second"]), name
    assert positive(fanout["ratio_vs_baseline"])
    assert positive(fanout["scaling_2_vs_1"])
    assert positive(fanout["scaling_2_vs_1_ceiling"])
    assert positive(fanout["cpu_vs_floor"])
    # Two shares: every stream on the process of its department's share (decision 0078).
    assert sum(fanout["herald_2"]["streams_per_process"]) == SMOKE.fanout_connections


def test_broadcast_delivers_every_event_once_in_order_to_every_watcher(
    report: dict[str, Any],
) -> None:
    result = report["scenarios"]["broadcast"]
    watchers = SMOKE.broadcast_connections
    assert result["connected"]["open"] == watchers
    assert (
        result["deliveries"] == result["deliveries_expected"] == watchers * SMOKE.broadcast_events
    )
    assert (result["complete"], result["warm_up_complete"]) == (True, True)
    assert result["watchers"] == {
        "exact": watchers,
        "missing": 0,
        "duplicated": 0,
        "out_of_order": 0,
    }
    assert result["streams_closed_by_server"] == 0
    assert positive(result["deliveries_per_second"])
    assert positive(result["database_transactions"])
    # 200 deliveries may take less than one clock tick of /proc (10 ms): 0 is a measurement.
    assert result["server_cpu_us_per_delivery"] >= 0
    assert result["gap_reads"] >= watchers


def test_fanout_takes_turns_with_the_floor_for_each_round(report: dict[str, Any]) -> None:
    rounds = report["scenarios"]["fanout"]["rounds"]
    assert len(rounds) == SMOKE.fanout_rounds
    assert all(positive(r["cpu_vs_floor"]) for r in rounds)


def test_fanout_has_the_median_of_the_rounds_ratios(report: dict[str, Any]) -> None:
    rounds = report["scenarios"]["fanout"]["rounds"]
    ratios = sorted(r["cpu_vs_floor"] for r in rounds)
    assert report["scenarios"]["fanout"]["cpu_vs_floor_by_round"] == statistics.median(ratios)


def test_wsfanout_delivers_every_event_to_every_pusher_socket(report: dict[str, Any]) -> None:
    result = report["scenarios"]["wsfanout"]
    expected = SMOKE.fanout_connections * SMOKE.fanout_events_per_connection
    assert result["connected"]["open"] == SMOKE.fanout_connections
    assert result["deliveries"] == result["deliveries_expected"] == expected
    assert result["complete"]
    assert result["warm_up_complete"]
    assert result["sockets_closed_by_server"] == 0
    assert positive(result["deliveries_per_second"])
    assert positive(result["server_cpu_us_per_delivery"])
    assert positive(result["bytes_per_idle_socket"])


def test_latency_times_every_committed_event(report: dict[str, Any]) -> None:
    latency = report["scenarios"]["latency"]
    expected = round(SMOKE.latency_rate * SMOKE.latency_seconds)
    assert latency["sent"] == latency["published"] == latency["received"] == expected
    assert latency["missing"] == 0
    assert 0 < latency["p50_seconds"] <= latency["p99_seconds"] <= latency["max_seconds"]


def test_latency_has_a_bare_consumer_read_every_committed_event(report: dict[str, Any]) -> None:
    bare = report["scenarios"]["latency"]["bare_consumer_from_kafka_commit"]
    assert bare["received"] == round(SMOKE.latency_rate * SMOKE.latency_seconds)
    assert 0 < bare["p50_seconds"] <= bare["p99_seconds"] <= bare["max_seconds"]


def test_latency_has_the_floor_deliver_every_committed_event(report: dict[str, Any]) -> None:
    floor = report["scenarios"]["latency"]["floor_from_kafka_commit"]
    assert floor["received"] == floor["sent"] == round(SMOKE.latency_rate * SMOKE.latency_seconds)
    assert 0 < floor["p50_seconds"] <= floor["p99_seconds"] <= floor["max_seconds"]


def test_latency_has_the_floor_cpu_per_delivery(report: dict[str, Any]) -> None:
    assert positive(
        report["scenarios"]["latency"]["floor_from_kafka_commit"]["cpu_us_per_delivery"]
    )


def test_latency_has_the_probes_loop_stalls_when_asked(report: dict[str, Any]) -> None:
    # The smoke run asks for the probe (SMOKE.latency_probe), so its path stays tested.
    stalls = report["scenarios"]["latency"]["notifier_pauses"]["loop_stalls"]
    assert stalls["over_2ms"] >= stalls["over_5ms"] >= stalls["over_20ms"] >= 0


def test_latency_warms_the_broker_up_before_measuring(report: dict[str, Any]) -> None:
    warmed = report["scenarios"]["latency"]["warm_up"]
    assert warmed["sent"] == round(SMOKE.latency_rate * SMOKE.latency_warmup_seconds)


def test_latency_has_the_brokers_cpu_beside_herald(report: dict[str, Any]) -> None:
    assert positive(report["scenarios"]["latency"]["broker_cpu_us_per_event"])


def test_latency_has_the_brokers_cpu_beside_the_floor(report: dict[str, Any]) -> None:
    floor = report["scenarios"]["latency"]["floor_from_kafka_commit"]
    assert positive(floor["broker_cpu_us_per_event"])


def test_latency_looks_for_the_brokers_gc_pauses_beside_herald(report: dict[str, Any]) -> None:
    # The local stack's broker logs its collector (deploy/local/stack.sh): it is found.
    pauses = report["scenarios"]["latency"]["broker_pauses"]
    assert pauses["slowest"] == 10
    assert 0 <= pauses["slowest_through_a_pause"] <= pauses["slowest"]


def test_latency_looks_for_the_brokers_gc_pauses_beside_the_floor(
    report: dict[str, Any],
) -> None:
    pauses = report["scenarios"]["latency"]["floor_from_kafka_commit"]["broker_pauses"]
    assert pauses["slowest"] == 10
    assert 0 <= pauses["slowest_through_a_pause"] <= pauses["slowest"]


def test_latency_has_a_bare_consumer_beside_the_floor(report: dict[str, Any]) -> None:
    bare = report["scenarios"]["latency"]["floor_from_kafka_commit"][
        "bare_consumer_from_kafka_commit"
    ]
    assert bare["received"] == round(SMOKE.latency_rate * SMOKE.latency_seconds)
    assert 0 < bare["p50_seconds"] <= bare["p99_seconds"] <= bare["max_seconds"]


def test_memory_is_measured_with_every_connection_open(report: dict[str, Any]) -> None:
    memory = report["scenarios"]["memory"]
    for name in ("herald", "baseline"):
        result = memory[name]
        assert result["open_at_measurement"] == SMOKE.memory_connections, name
        assert positive(result["rss_before_bytes"])
        assert positive(result["rss_after_bytes"])
        assert isinstance(result["bytes_per_connection"], float), name


def test_idle_streams_cpu_is_read_over_the_idle_window(report: dict[str, Any]) -> None:
    memory = report["scenarios"]["memory"]
    for name in ("herald", "baseline"):
        result = memory[name]
        assert result["idle_seconds"] >= SMOKE.memory_idle_seconds, name
        assert positive(result["server_cpu_us_per_idle_stream_second"]), name


def test_e2e_splits_postgresql_cpu_by_the_service_that_asked(report: dict[str, Any]) -> None:
    (run,) = report["scenarios"]["e2e"]["runs"]
    by_application = run["postgresql_cpu_by_application"]
    assert by_application["herald-inserter"] > 0
    assert sum(by_application.values()) == pytest.approx(run["server_cpu_seconds"]["postgresql"])


def test_million_leaves_its_inbox_probe_out_of_the_server_cpu(report: dict[str, Any]) -> None:
    million = report["scenarios"]["million"]
    assert million["inbox_probe_cpu_seconds"] > 0
    assert "herald-bench-inbox-probe" not in million["run"]["postgresql_cpu_by_application"]


def test_million_allocates_to_everyone_of_its_own_database(report: dict[str, Any]) -> None:
    million = report["scenarios"]["million"]
    assert million["employees"] == SMOKE.million_employees
    assert million["connected"]["open"] == SMOKE.million_streams
    assert million["complete"] is True
    assert million["status"] == "completed"
    assert million["notifications"] == SMOKE.million_employees
    assert million["run"]["streams_with_event"] == SMOKE.million_streams
    assert positive(million["seed_seconds"])


def test_million_times_the_inbox_and_the_streams(report: dict[str, Any]) -> None:
    million = report["scenarios"]["million"]
    assert million["inbox_sample"] == SMOKE.million_inbox_sample
    assert 0 < million["first_in_inbox_seconds"] <= million["last_in_inbox_seconds"]
    assert million["inbox_progress"][-1][1] == SMOKE.million_inbox_sample
    assert 0 < million["first_stream_seconds"] <= million["last_stream_seconds"]
    phases = million["phases_seconds"]
    assert set(phases) == {"request", "resolve", "copy", "publish", "consume", "fanout"}
    assert all(value >= 0 for value in phases.values()), phases
    assert sum(phases.values()) == pytest.approx(million["last_stream_seconds"])


def test_million_measures_memory_bytes_and_cpu(report: dict[str, Any]) -> None:
    million = report["scenarios"]["million"]
    assert million["inserter_peak_rss_bytes"] >= million["inserter_rss_before_bytes"] > 0
    # Every row is in the WAL and in the tables.
    assert million["wal_bytes_per_employee"] > 100
    assert million["database_bytes_per_employee"] > 0
    assert million["table_growth_bytes"]
    # 2,000 employees cost the inserter more than a clock tick (10 ms).
    assert positive(million["server_cpu_seconds"]["inserter"])
    assert positive(million["server_cpu_us_per_employee"])


def test_pushduring_times_a_push_alone_and_during_an_allocation(report: dict[str, Any]) -> None:
    result = report["scenarios"]["pushduring"]
    assert result["connected"]["open"] == 1
    assert positive(result["push_alone_seconds"])
    assert positive(result["push_during_seconds"])
    assert result["push_sent_after_allocation_post_seconds"] >= 0
    writing = result["allocation_writing_after_post_seconds"]
    assert writing is None or writing >= 0
    assert result["allocation_status"] == "completed"
    assert result["allocation_matched"] == SMOKE.million_employees
    assert positive(result["allocation_seconds"])
    assert isinstance(result["allocation_completed_after_push_seconds"], float)


def test_opens_bounds_the_rate_by_the_cpu_each_open_costs(report: dict[str, Any]) -> None:
    opens = report["scenarios"]["opens"]
    assert opens["loadgen_cpu_ms_per_open"] > 0
    # The ceiling is what every core, kept busy, would open at the burst's cost per open.
    spent_ms = (
        opens["notifier_cpu_ms_per_open"]
        + opens["postgresql_cpu_ms_per_open"]
        + opens["loadgen_cpu_ms_per_open"]
    )
    cores = report["machine"]["cores"]
    assert opens["opens_per_second_ceiling"] == pytest.approx(cores * 1000 / spent_ms)


def test_opens_opens_every_client_with_its_credential(report: dict[str, Any]) -> None:
    opens = report["scenarios"]["opens"]
    assert opens["live"] == opens["clients"] == SMOKE.opens_connections
    assert opens["with_id"] == opens["clients"]  # every fresh stream named its newest id
    assert set(opens["by_auth"]) == {"bearer", "cookie", "ticket"}
    assert all(count > 0 for count in opens["by_auth"].values())
    assert opens["tickets"]["fetched"] == opens["by_auth"]["ticket"]
    for figure in ("opens_per_second", "notifier_cpu_seconds", "notifier_cpu_ms_per_ticket"):
        assert positive(opens[figure]), figure


def test_opens_counts_the_handshakes_dropped_during_each_burst(report: dict[str, Any]) -> None:
    opens = report["scenarios"]["opens"]
    # A count from the kernel (zero in a small burst), for Herald and each floor alike.
    for result in (opens, opens["floor"], opens["floor_asgi"]):
        assert all(r["handshakes_dropped"] >= 0 for r in result["rounds"])


def test_reconnect_brings_every_client_back_on_the_other_replica(report: dict[str, Any]) -> None:
    storm = report["scenarios"]["reconnect"]
    assert storm["streams"] == SMOKE.reconnect_streams
    assert storm["ended_by_server"] == storm["live_again"] == storm["streams"]
    assert storm["complete"] is True
    assert positive(storm["seconds_to_all_live"])
    assert positive(storm["retry_ms_max"])
