"""Profile commission_engine with cProfile on generated records.

Usage::

    python benchmarks/profile_library.py [--events N] [--top K] [--stage STAGE] [--warm W]

It generates N events (``generate.py``, seed 1) and prints the top K functions
by own time (tottime) and by cumulative time for each profiled stage:
``validate`` (read_jsonl), ``evaluate`` (Plan.evaluate), ``to-json``
(Result.to_json) or ``all`` of them. ``--warm W`` first runs ``Plan.evaluate``
W times unprofiled, so its profile is that of a warm call. It then times ``Plan.evaluate`` with the
cyclic garbage collector enabled and disabled, which shows how much of the
evaluation is spent in collections. Records whose result has no payee
period are rejected with a usage error before any profile is printed.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.arguments import MAX_EVENTS, count, end_on_sigterm  # noqa: E402
from benchmarks.generate import write_jsonl  # noqa: E402

REFERENCE_PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"
AS_OF = datetime.fromisoformat("2026-06-30T00:00:00+08:00")


def profile_call(label: str, call: Callable[[], Any], top: int) -> tuple[Any, str]:
    """Run ``call`` under cProfile and return its value with a report of its top functions.

    The report lists them by own time and by cumulative time.
    """
    profiler = cProfile.Profile()
    profiler.enable()
    value = call()
    profiler.disable()
    report = []
    for order in ("tottime", "cumulative"):
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats(order).print_stats(top)
        report.append(f"==== {label}: top {top} by {order}")
        report.append(buffer.getvalue().split("\n", 4)[-1].strip("\n"))
    return value, "\n".join(report)


def main(argv: list[str] | None = None) -> int:
    end_on_sigterm()
    parser = argparse.ArgumentParser(description="Profile commission_engine with cProfile.")
    parser.add_argument("--events", type=count(10_000, MAX_EVENTS), default=100_000,
                        help=f"records to generate, from 1 to {MAX_EVENTS:,} (default: 100000)")
    parser.add_argument("--top", type=count(15), default=15,
                        help="functions to list, at least 1 (default: 15)")
    parser.add_argument("--stage", choices=("validate", "evaluate", "to-json", "all"),
                        default="all", help="stage to profile (default: all)")
    parser.add_argument("--warm", type=count(3, minimum=0), default=0,
                        help="unprofiled calls of Plan.evaluate before the profiled one, so"
                             " the profile shows a warm call with its calendars cached"
                             " (default: 0, a first call)")
    args = parser.parse_args(argv)

    from commission_engine import load_plan
    from commission_engine.cli import read_jsonl

    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))
    with tempfile.TemporaryDirectory(prefix="commission-profile-") as folder:
        path = Path(folder) / "records.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            written = write_jsonl(handle, args.events)
        text = path.read_text(encoding="utf-8")
    print(f"{written} records, as of {AS_OF.isoformat()}")

    def stage(name: str) -> bool:
        return args.stage in (name, "all")

    # The profiles are printed once the result is known to compute a commission.
    reports = []
    if stage("validate"):
        records, report = profile_call("read_jsonl", lambda: read_jsonl(text), args.top)
        reports.append(report)
    else:
        records = read_jsonl(text)
    for _ in range(args.warm):
        plan.evaluate(records, AS_OF)
    if stage("evaluate"):
        result, report = profile_call("Plan.evaluate", lambda: plan.evaluate(records, AS_OF),
                                      args.top)
        reports.append(report)
    else:
        result = plan.evaluate(records, AS_OF)
    if not result.statements:
        parser.error(f"the library's result over {written} records (--events {args.events})"
                     f" as of {AS_OF.isoformat()} has no payee period, so the profiles would"
                     " show an evaluation that computes no commission; use more --events"
                     f" (such as {max(2000, args.events * 10)})")
    for report in reports:
        print(report)
    if stage("to-json"):
        print(profile_call("Result.to_json", result.to_json, args.top)[1])

    del result
    for enabled in (True, False, True, False):
        gc.collect()
        if not enabled:
            gc.disable()
        try:
            start = time.perf_counter()
            plan.evaluate(records, AS_OF)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        state = "enabled" if enabled else "disabled"
        print(f"Plan.evaluate with the garbage collector {state}: {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
