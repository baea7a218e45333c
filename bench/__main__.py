"""`python -m bench` (what `make bench` runs): every scenario, a table and a JSON report."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import PROFILES, SCENARIOS, BenchConfig
from bench.environment import BenchRun, find_infrastructure, machine, versions
from bench.loadgen import event_loop_name, raise_open_files_limit
from bench.processes import REPO
from bench.report import evaluate, table
from bench.scenarios import (
    broadcast,
    copy_rows,
    e2e,
    fanout,
    latency,
    memory,
    million,
    opens,
    publish,
    push_during,
    reconnect,
    ws_fanout,
)

RUNNERS = {
    "copy": copy_rows.run,
    "publish": publish.run,
    "e2e": e2e.run,
    "fanout": fanout.run,
    "broadcast": broadcast.run,
    "wsfanout": ws_fanout.run,
    "latency": latency.run,
    "memory": memory.run,
    "opens": opens.run,
    "reconnect": reconnect.run,
    "million": million.run,
    "pushduring": push_during.run,
}

logger = logging.getLogger("bench")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Herald's benchmark: e2e, copy, publish, fanout, broadcast, wsfanout, latency, memory,"
            " opens, reconnect, million, pushduring."
        ),
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--employees", type=int, help="employees seeded (e2e and copy size)")
    parser.add_argument(
        "--streams",
        type=int,
        help="open streams in e2e, fanout, broadcast and latency (default 10,000)",
    )
    parser.add_argument(
        "--million-employees",
        type=int,
        help="employees of the million and pushduring database (default 1,000,000)",
    )
    parser.add_argument(
        "--million-streams", type=int, help="open streams in million (default 10,000)"
    )
    parser.add_argument("--runs", type=int, help="e2e runs, publish runs and copy rounds")
    parser.add_argument("--events", type=int, help="events per publish run")
    parser.add_argument("--memory-connections", type=int, help="idle connections (memory)")
    parser.add_argument(
        "--opens", type=int, help="clients connecting at once (opens) and streams (reconnect)"
    )
    parser.add_argument("--latency-seconds", type=float, help="length of the latency run")
    parser.add_argument("--latency-rate", type=int, help="events/s in the latency run")
    parser.add_argument(
        "--latency-probe",
        action="store_true",
        default=None,
        help="run the latency scenario's notifier under bench.probe (collector passes, loop"
        " stalls): for diagnosis, it costs the notifier CPU",
    )
    parser.add_argument(
        "--fanout-rounds",
        type=int,
        help="bursts of one Herald process and of the floor, in turn, in fanout (default 3)",
    )
    parser.add_argument(
        "--latency-warmup-seconds",
        type=float,
        help="unmeasured writes at the latency run's rate before it (default 150)",
    )
    parser.add_argument(
        "--output", type=Path, help="report path (default bench/results/<time>.json)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the run's database, topics and logs"
    )
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every service of the run, e.g."
        " HERALD_INSERTER_CHUNK_EMPLOYEES=20000 (repeatable)",
    )
    parser.add_argument(
        "--cprofile",
        default="",
        help="comma-separated service modules (e.g. herald_inserter,herald_notifier) to run"
        " under cProfile; profiles go to the run's log directory. Slows them: for where the"
        " time goes, not for figures",
    )
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> BenchConfig:
    return PROFILES[args.profile].with_overrides(
        employees=args.employees,
        e2e_streams=args.streams,
        fanout_connections=args.streams,
        broadcast_connections=args.streams,
        latency_connections=args.streams,
        e2e_runs=args.runs,
        publish_runs=args.runs,
        copy_rounds=args.runs,
        publish_events=args.events,
        memory_connections=args.memory_connections,
        opens_connections=args.opens,
        reconnect_streams=args.opens,
        latency_seconds=args.latency_seconds,
        latency_rate=args.latency_rate,
        latency_warmup_seconds=args.latency_warmup_seconds,
        fanout_rounds=args.fanout_rounds,
        latency_probe=args.latency_probe,
        million_employees=args.million_employees,
        million_streams=args.million_streams,
    )


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("HERALD_"):
        raise SystemExit(f"--service-env wants HERALD_NAME=VALUE, not {text!r}")
    return name, value


def selected(names: str) -> list[str]:
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    return [n for n in SCENARIOS if n in chosen]


async def run_bench(
    config: BenchConfig,
    scenarios: list[str],
    keep: bool,
    profiled: frozenset[str] = frozenset(),
    service_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    infra = find_infrastructure()
    started = datetime.now(UTC)
    home = Path(os.environ.get("HERALD_HOME", REPO / ".herald"))
    run = BenchRun(
        infra,
        work_dir=home / "bench" / started.strftime("%Y%m%dT%H%M%S"),
        profiled=profiled,
        service_env=service_env or {},
    )
    report: dict[str, Any] = {
        "started_at": started.isoformat(),
        "run_id": run.run_id,
        "config": {
            **config.as_dict(),
            "scenarios": scenarios,
            "cprofile": sorted(profiled),
            "service_env": service_env or {},
        },
        "infrastructure": {"source": infra.source, "kafka": infra.kafka_bootstrap},
        "machine": machine(),
        "scenarios": {},
    }
    clock = time.monotonic()
    await run.create()
    try:
        report["versions"] = {
            **versions(run.database_url),
            "load_generator_loop": event_loop_name(),
        }
        needed = max(
            config.employees,
            config.fanout_connections,
            config.broadcast_connections,
            config.latency_connections,
            config.memory_connections,
            config.opens_connections,
            config.reconnect_streams,
        )
        logger.info("seeding %d employees into %s", needed, run.database)
        run.seed(needed)
        for name in scenarios:
            logger.info("scenario %s", name)
            begun = time.monotonic()
            try:
                result = await RUNNERS[name](run, config)
            except Exception as exc:
                logger.error("scenario %s failed: %s", name, exc)
                result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            finally:
                run.stop_services()
            result["scenario_seconds"] = time.monotonic() - begun
            report["scenarios"][name] = result
    finally:
        if keep:
            for kept in (run, *run.sized.values()):
                logger.info("kept database %s, topics %s*", kept.database, kept.topics.prefix)
        else:
            await run.destroy()
    report["duration_seconds"] = time.monotonic() - clock
    report["finished_at"] = datetime.now(UTC).isoformat()
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    report["work_dir"] = str(run.work_dir)
    report["targets"] = evaluate(report["scenarios"])
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="[bench] %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise_open_files_limit()
    config = build_config(args)
    scenarios = selected(args.scenarios)
    profiled = frozenset(m.strip() for m in args.cprofile.split(",") if m.strip())
    service_env = dict(_setting(text) for text in args.service_env)
    report = asyncio.run(run_bench(config, scenarios, args.keep, profiled, service_env))
    output = args.output or (
        REPO / "bench" / "results" / f"{report['started_at'][:19].replace(':', '')}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(table(report) + f"\n\nreport: {output}\n")
    failed = [n for n, r in report["scenarios"].items() if "error" in r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
