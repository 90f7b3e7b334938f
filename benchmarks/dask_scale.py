"""Time one evaluation in one process against the same on a two-worker Dask LocalCluster.

Both sides start from the same generated records as Python dicts in memory
and end with the result's digest, so each time covers validation,
evaluation and hashing every record and line. The cluster side also covers
sending the records to the workers and the lines back. Before the clock
starts, the cluster evaluates a small record set once, so that each worker
has imported the library and compiled the plan. The script checks that both
digests are equal and prints one JSON object.

Usage::

    python benchmarks/dask_scale.py --events 1000000 --rounds 1

The cluster listens on 127.0.0.1 only, without a dashboard.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.arguments import MAX_EVENTS, MAX_ROUNDS, count, whole_number
from benchmarks.generate import generate_records
from commission_engine import load_plan, load_records

PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"
AS_OF = datetime.fromisoformat("2026-06-30T00:00:00+08:00")


def time_single(plan: Any, rows: list[dict[str, Any]]) -> tuple[float, str, int]:
    started = time.perf_counter()
    result = plan.evaluate(load_records(rows), AS_OF)
    digest = result.digest
    return time.perf_counter() - started, digest, len(result.lines) + len(result.schedule)


def time_cluster(scale: Any, plan: Any, rows: list[dict[str, Any]],
                 partitions: int) -> tuple[float, str]:
    started = time.perf_counter()
    bag = scale.records_bag(rows, partitions)
    result = scale.evaluate(plan, bag, AS_OF)
    digest = result.digest
    return time.perf_counter() - started, digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=count(100_000, MAX_EVENTS), default=1_000_000,
                        help=f"records to generate, from 1 to {MAX_EVENTS:,} (default: 1,000,000)")
    parser.add_argument("--seed", type=whole_number(7), default=1,
                        help="seed of the generator (default: 1)")
    parser.add_argument("--rounds", type=count(3, MAX_ROUNDS), default=1,
                        help=f"timed rounds of each side, from 1 to {MAX_ROUNDS:,}; the median"
                             " is reported"
                             " (default: 1)")
    parser.add_argument("--partitions", type=count(16), default=16,
                        help="bag and evaluation partitions on the cluster, at least 1"
                             " (default: 16)")
    args = parser.parse_args(argv)
    # Imported after the arguments, so that --help and a bad value need no Dask.
    try:
        import dask
        import distributed

        from commission_engine import dask as scale
    except ImportError as exc:
        parser.error(f"the Dask cluster needs the dask extra ({exc}); install it with"
                     " pip install -e '.[dask]'")

    plan = load_plan(PLAN.read_text(encoding="utf-8"), str(PLAN))
    rows = list(generate_records(args.events, seed=args.seed))
    warm_up = list(generate_records(200, seed=args.seed))

    single_times = []
    for _round in range(args.rounds):
        gc.collect()
        seconds, single_digest, line_count = time_single(plan, rows)
        single_times.append(seconds)

    cluster_times = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        scale.evaluate(plan, scale.records_bag(warm_up, 2), AS_OF)
        for _round in range(args.rounds):
            gc.collect()
            seconds, cluster_digest = time_cluster(scale, plan, rows, args.partitions)
            cluster_times.append(seconds)
            if cluster_digest != single_digest:
                sys.stderr.write(f"digests differ: {cluster_digest} on the cluster,"
                                 f" {single_digest} in one process\n")
                return 1

    single = statistics.median(single_times)
    spread = statistics.median(cluster_times)
    report = {
        "events": len(rows),
        "lines": line_count,
        "rounds": args.rounds,
        "partitions": args.partitions,
        "one_process_s": round(single, 2),
        "local_cluster_2_workers_s": round(spread, 2),
        "speedup": round(single / spread, 2),
        "digest": single_digest,
        "python": platform.python_version(),
        "dask": dask.__version__,
        "distributed": distributed.__version__,
    }
    sys.stdout.write(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
