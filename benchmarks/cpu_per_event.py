"""Time validation and evaluation once each at one size, in CPU time per event.

Usage::

    python benchmarks/cpu_per_event.py --events N [--records FILE] [--end-to-end]

The script generates N events (``generate.py``, seed 1), then times, one
call each and in this order:
``json.loads`` with ``parse_float=Decimal``, a bare
``TypeAdapter(list[Record])``, ``load_records``, the hand-written baseline
and ``Plan.evaluate``. It prints the CPU time of the process
(``time.process_time``) per event, the wall-clock time, the load average and
the highest resident memory so far, and checks that the baseline's totals
equal the library's. Waiting for a core does not count in CPU time, so the
load of a shared machine inflates it less than wall-clock time; ``run.py``
is the interleaved comparison.

``--records FILE`` keeps the generated file for another run. A file that
exists already is read as it is, so ``--events`` does not change it, and the
first line of output reports that.

With ``--end-to-end`` it times only the file to per-payee, per-period
totals, by the hand-written baseline and then by the library
(``load_plan``, ``read_jsonl``, ``Plan.evaluate``), so the library's run
starts with no calendar cached, as a one-shot command line run does.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baseline  # noqa: E402
from benchmarks.arguments import (  # noqa: E402
    MAX_EVENTS, check_lines, check_output, count, end_on_sigterm, first_line, listed_problems,
    read_lines)
from benchmarks.generate import write_jsonl  # noqa: E402

REFERENCE_PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"
AS_OF = datetime.fromisoformat("2026-06-30T00:00:00+08:00")
DEFAULT_EVENTS = 100_000


def timed(label: str, events: int, call: Callable[[], Any]) -> Any:
    """Run ``call`` once and print its CPU and wall-clock time.

    The CPU time is also split into user and system time, with the page
    faults of the call. On a virtual machine, a page the guest touches for
    the first time can cost the host a fault of its own. That system time
    then grows with the memory a stage allocates, not with its Python work.
    """
    gc.collect()
    usage_start = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    value = call()
    cpu = time.process_time() - cpu_start
    wall = time.perf_counter() - wall_start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user = usage.ru_utime - usage_start.ru_utime
    system = usage.ru_stime - usage_start.ru_stime
    faults = usage.ru_minflt - usage_start.ru_minflt
    load = os.getloadavg()[0]
    # ru_maxrss is in KiB on Linux.
    peak = usage.ru_maxrss / 1024
    print(f"{label:34} cpu {cpu:8.2f} s {cpu * 1e6 / events:8.2f} us/event"
          f" (user {user * 1e6 / events:.2f}, system {system * 1e6 / events:.2f},"
          f" {faults / events:.2f} page faults/event)"
          f"  wall {wall:8.2f} s  load {load:5.2f}  max RSS {peak:,.0f} MB", flush=True)
    return value


def _end_to_end(path: Path, read_jsonl: Callable[[str], Any], load_plan: Callable[..., Any]
                ) -> dict[tuple[str, str], Decimal]:
    """Load the reference plan and the file, evaluate, and return the statement totals."""
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))
    result = plan.evaluate(read_jsonl(path.read_text(encoding="utf-8")), AS_OF)
    return {(statement.payee, statement.period): statement.total
            for statement in result.statements}


def main(argv: list[str] | None = None) -> int:
    end_on_sigterm()
    parser = argparse.ArgumentParser(description="Time validation and evaluation in CPU time.")
    parser.add_argument("--events", type=count(10_000, MAX_EVENTS),
                        help=f"records to generate, from 1 to {MAX_EVENTS:,}"
                             f" (default: {DEFAULT_EVENTS});"
                             " not used when the --records file exists")
    parser.add_argument("--records", type=Path,
                        help="JSON Lines file to read, written first (with --events records)"
                             " when it does not exist; an existing file is reused as it is,"
                             " whatever --events is, and the output gives how many records"
                             " it contains")
    parser.add_argument("--end-to-end", action="store_true",
                        help="time only the JSON Lines file to per-payee, per-period totals")
    args = parser.parse_args(argv)
    events_to_write = DEFAULT_EVENTS if args.events is None else args.events
    reused = args.records is not None and args.records.exists()
    if reused:
        lines = read_lines(parser, "--records", args.records)
        # Reject a line that is not a JSON object before the first timing is printed.
        check_lines(parser, "--records", args.records, lines)
        ignored = "" if args.events is None else f"; --events {args.events} is not used"
        print(f"reusing {args.records}: {len(lines)} records{ignored}"
              " (delete the file to write a new one)", flush=True)
    elif args.records is not None:
        check_output(parser, "--records", args.records, "records.jsonl")

    with tempfile.TemporaryDirectory(prefix="commission-cpu-") as folder:
        path = args.records or Path(folder) / "records.jsonl"
        if not reused:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8") as handle:
                write_jsonl(handle, events_to_write, 1)
            lines = [line for line in path.read_text(encoding="utf-8").split("\n")
                     if line.strip()]
        try:
            return _measure(path, lines, args.end_to_end)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if not reused:
                raise
            # A file from elsewhere whose lines are JSON objects. Name its first
            # invalid records without a traceback.
            problems = "".join(f"\n  {problem}" for problem in listed_problems(exc))
            parser.error(f"--records {str(path)!r} contains invalid records"
                         f" ({first_line(exc)}); name a file that generate.py wrote,"
                         " or a missing file to write a new one" + problems)


def _measure(path: Path, lines: list[str], end_to_end: bool) -> int:
    """Time the stages over the records of ``path`` (its non-blank ``lines``)."""
    from pydantic import TypeAdapter

    from commission_engine import load_plan, load_records
    from commission_engine.cli import read_jsonl
    from commission_engine.records import Record

    events = len(lines)
    if end_to_end:
        print(f"{events} records, as of {AS_OF.isoformat()}")
        expected = timed("end to end, hand-written baseline", events,
                         lambda: baseline.totals_from_file(path, AS_OF))
        got = timed("end to end, commission_engine", events,
                    lambda: _end_to_end(path, read_jsonl, load_plan))
        return _report_agreement(got == expected, len(got), events)
    print(f"{events} records, as of {AS_OF.isoformat()}")
    dicts = timed("json.loads, parse_float=Decimal", events,
                  lambda: [json.loads(line, parse_float=Decimal) for line in lines])
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))
    adapter = TypeAdapter(list[Record])
    timed("bare TypeAdapter(list[Record])", events, lambda: adapter.validate_python(dicts))
    records = timed("load_records", events, lambda: load_records(dicts))
    expected = timed("hand-written baseline", events,
                     lambda: baseline.compute_totals(dicts, AS_OF))
    result = timed("Plan.evaluate", events, lambda: plan.evaluate(records, AS_OF))
    totals: dict[tuple[str, ...], Decimal] = {}
    for line in result.lines:
        key = (line.payee, line.period)
        totals[key] = totals.get(key, Decimal(0)) + line.amount
    return _report_agreement(totals == expected, len(totals), events)


def _report_agreement(agrees: bool, keys: int, events: int) -> int:
    if not keys:
        print(f"{Path(__file__).name}: error: the library's result over {events} records as of"
              f" {AS_OF.isoformat()} has no payee period, so the agreement check compared"
              " nothing and the times above cover no commission; use more --events (such as"
              f" {max(2000, events * 10)}) and a new --records file",
              file=sys.stderr)
        return 2
    print(f"the baseline {'agrees' if agrees else 'DISAGREES'} with the library"
          f" ({keys} payee periods)")
    return 0 if agrees else 1


if __name__ == "__main__":
    sys.exit(main())
