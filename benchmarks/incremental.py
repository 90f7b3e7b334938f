"""Time one new payment through an Engine that already contains N evaluated events.

Usage::

    python benchmarks/incremental.py [--events N] [--updates U] [--plan PLAN]
        [--records FILE] [--seed S] [--as-of TIMESTAMP] [--no-check]

The script loads N generated events (``generate.py``, or ``--records``) into
an ``Engine`` under the plan (the reference plan by default). A contract's
payments may never exceed its amount, and the generated payments add up to
it. So each update first removes a contract's latest payment (timed as a
removal). Then it adds a new payment with a new id and the same amount and
time (timed as an addition). Each call is timed whole:
validation of the record, the reference checks, the recomputation of the
affected lines and the new statements, that is, the whole call. At the end it
checks that the engine's result equals a batch ``evaluate`` of the same
records, digest included (``--no-check`` skips it). Records whose result has
no payee period at the as-of time, or no payment to replace, are rejected
before any timing, because equal digests of nothing prove nothing.

Each call is timed twice: wall-clock time (``perf_counter``), which other
processes on the machine inflate, and the process's CPU time
(``process_time``), which they do not.

The cyclic garbage collector is frozen after the load (``gc.freeze()``), as a
host keeping a large engine in memory should do. Without it, a full
collection over millions of objects lands inside some updates and sets the
99th percentile.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.arguments import (  # noqa: E402
    MAX_EVENTS, as_of_time, check_output, count, first_line, parse_lines, read_lines,
    read_text, whole_number)
from commission_engine import CommissionError, evaluate, load_plan, load_records  # noqa: E402
from commission_engine.engine import Engine  # noqa: E402

REFERENCE_PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"
DEFAULT_AS_OF = "2026-12-31T00:00:00+08:00"


def generated_records(events: int, seed: int) -> list[dict[str, Any]]:
    from benchmarks.generate import generate_records

    return [json.loads(json.dumps(record), parse_float=Decimal)
            for record in generate_records(events, seed)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary(name: str, values: list[float]) -> dict[str, Any]:
    return {"operation": name, "count": len(values),
            "p50_ms": percentile(values, 0.50), "p90_ms": percentile(values, 0.90),
            "p99_ms": percentile(values, 0.99), "max_ms": max(values),
            "mean_ms": statistics.fmean(values)}


def pick_payments(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the latest payment of every contract whose latest payment no refund names."""
    latest: dict[str, dict[str, Any]] = {}
    for record in raw:
        if record["type"] == "payment":
            known = latest.get(record["contract"])
            if known is None or (record["paid_at"], record["id"]) > (known["paid_at"], known["id"]):
                latest[record["contract"]] = record
    named = {r.get("payment") for r in raw if r["type"] == "refund"}
    return [latest[key] for key in sorted(latest) if latest[key]["id"] not in named]


def unused_id(base: str, used_ids: set[str]) -> str:
    """Append ``+`` to ``base`` until it is not in ``used_ids``, add it there and return it."""
    new_id = base
    while new_id in used_ids:
        new_id += "+"
    used_ids.add(new_id)
    return new_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=count(100_000, MAX_EVENTS), default=1_000_000,
                        help=f"events to generate and load, from 1 to {MAX_EVENTS:,}"
                             " (default: 1,000,000)")
    parser.add_argument("--updates", type=count(1_000), default=10_000,
                        help="new payments to time, at least 1 (default: 10,000)")
    parser.add_argument("--plan", type=Path, default=REFERENCE_PLAN,
                        help="plan file (default: the reference plan)")
    parser.add_argument("--records", type=Path,
                        help="JSON Lines records to load instead of generating them")
    parser.add_argument("--seed", type=whole_number(7), default=7,
                        help="generator seed (default: 7)")
    parser.add_argument("--as-of", type=as_of_time, default=DEFAULT_AS_OF,
                        help="as-of time, ISO 8601 with a UTC offset, in the years the library"
                             f" accepts (default: {DEFAULT_AS_OF})")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the final comparison with a batch evaluation")
    parser.add_argument("--output", type=Path,
                        help="write the figures as JSON to this file, checked before any"
                             " timing; missing folders are created")
    args = parser.parse_args(argv)

    output = None if args.output is None else check_output(parser, "--output", args.output)
    plan_text = read_text(parser, "--plan", args.plan)
    try:
        plan = load_plan(plan_text, str(args.plan))
    except CommissionError as exc:
        parser.error(f"--plan {str(args.plan)!r} is not a valid plan ({first_line(exc)});"
                     " fix the plan or leave --plan out for the reference plan")
    as_of = args.as_of
    started = time.perf_counter()
    if args.records:
        raw = parse_lines(parser, "--records", args.records,
                          read_lines(parser, "--records", args.records))
        source = f"--records {str(args.records)!r}"
        more = "name a file with more records, which generate.py writes"
    else:
        raw = generated_records(args.events, args.seed)
        source = f"--events {args.events}"
        more = f"use more --events (such as {max(2000, args.events * 10)})"
    print(f"{len(raw):,} records read in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        candidates = pick_payments(raw)
    except (KeyError, TypeError) as exc:
        parser.error(f"{source} contains invalid records ({first_line(exc)});"
                     " name a file that generate.py wrote")
    if not candidates:
        parser.error(f"{source} gives {len(raw):,} records and no payment to replace; {more}")

    started = time.perf_counter()
    try:
        engine = Engine(plan, as_of, raw)
    except CommissionError as exc:
        parser.error(f"{source} contains invalid records ({first_line(exc)});"
                     " name a file that generate.py wrote")
    load_seconds = time.perf_counter() - started
    print(f"engine built in {load_seconds:.1f} s", flush=True)
    if not engine.result().statements:
        parser.error(f"the result of {source} as of {as_of.isoformat()} has no payee period,"
                     " so the updates would move nothing and the final check would compare"
                     f" nothing; use a later --as-of (such as {DEFAULT_AS_OF}), or {more}")
    gc.collect()
    gc.freeze()

    # Spread the updates over the data set; with fewer contracts than updates,
    # a contract is updated again with the payment added the round before.
    step = max(1, len(candidates) // args.updates)
    current = {p["contract"]: p for p in candidates}
    # Payment ids are unique among payments, and a file may already contain an
    # id of the form the new payments get, such as P6/0.
    payment_ids = {r["id"] for r in raw if r["type"] == "payment"}
    removals: list[float] = []
    removals_cpu: list[float] = []
    additions: list[float] = []
    additions_cpu: list[float] = []
    moved = 0
    for number in range(args.updates):
        contract = candidates[(number * step) % len(candidates)]["contract"]
        payment = current[contract]
        begin, begin_cpu = time.perf_counter_ns(), time.process_time_ns()
        engine.remove(payment)
        removals_cpu.append((time.process_time_ns() - begin_cpu) / 1e6)
        removals.append((time.perf_counter_ns() - begin) / 1e6)
        new_id = unused_id(f"{payment['id'].split('/')[0]}/{number}", payment_ids)
        new = {**payment, "id": new_id}
        begin, begin_cpu = time.perf_counter_ns(), time.process_time_ns()
        delta = engine.add(new)
        additions_cpu.append((time.process_time_ns() - begin_cpu) / 1e6)
        additions.append((time.perf_counter_ns() - begin) / 1e6)
        moved += not delta.empty
        current[contract] = new
    print(f"{moved:,} of {len(additions):,} new payments moved a line", flush=True)

    figures = {
        "plan": plan.name, "records": len(raw), "as_of": as_of.isoformat(),
        "load_seconds": load_seconds,
        "python": platform.python_version(), "machine": platform.machine(),
        "updates_that_moved_lines": moved,
        "timings": [summary("remove payment", removals), summary("add payment", additions),
                    summary("remove payment, CPU", removals_cpu),
                    summary("add payment, CPU", additions_cpu)],
    }
    for row in figures["timings"]:
        print(f"{row['operation']:<21} n={row['count']:,} p50 {row['p50_ms']:.3f} ms"
              f"  p90 {row['p90_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms"
              f"  max {row['max_ms']:.3f} ms", flush=True)

    if not args.no_check:
        gc.unfreeze()
        replaced = {("payment", p["id"]) for p in candidates}
        final = [r for r in raw if (r["type"], r.get("id")) not in replaced]
        final += list(current.values())
        started = time.perf_counter()
        batch = evaluate(plan, load_records(final), as_of)
        equal = batch.digest == engine.result().digest
        figures["batch_seconds"] = time.perf_counter() - started
        figures["equal_to_batch"] = equal
        print(f"batch evaluation in {figures['batch_seconds']:.1f} s;"
              f" digests {'equal' if equal else 'DIFFER'}", flush=True)
        if not equal:
            return 1
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
        print(f"written to {output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
