"""Time commission_engine against a hand-written baseline and rule-engine peers.

Usage::

    python benchmarks/run.py [--events N] [--quick] [--seed S] [--repeats R] [--skip STAGES]

The script generates N events of records (``generate.py``), checks that the
baseline and every peer compute the same totals by payee and period as the
library, to the cent. A first untimed pass runs each contender once under
``tracemalloc`` for its peak of Python allocations, which also warms it up.
Then every stage is timed with all contenders interleaved in one process:
R rounds in which every contender runs once, in an order that rotates
between rounds. The script prints the median of each contender with its
ratio to the stage's reference (the hand-written baseline where there is
one) and writes the same numbers to ``benchmarks/results/latest.json``.

A contender that disagrees with the library is reported and left out of the
timings, and the script exits with status 1. A peer whose rate table alone
gives other rates than the hand-written one counts as disagreeing too. When
the library's result has no payee period to compare (an as-of time before
every record, or too few events to write a contract), the script stops with
a usage error before any timing, because an agreement over nothing proves
nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baseline, peers  # noqa: E402
from benchmarks.arguments import (  # noqa: E402
    MAX_EVENTS, MAX_ROUNDS, as_of_time, check_output, count, end_on_sigterm, whole_number)
from benchmarks.generate import write_jsonl  # noqa: E402
from benchmarks.plan_generator import generate_plan  # noqa: E402

REFERENCE_PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
DEFAULT_AS_OF = "2026-06-30T00:00:00+08:00"
GENERATED_PLAN_RULES = 500
PACKAGES = ("commission-engine", "pydantic", "pydantic-core", "lark", "python-dateutil",
            "zen-engine", "rule-engine", "cel-python", "openfisca-core", "numpy")

Totals = dict[tuple[str, ...], Decimal]

# The stages, by the names --skip takes, in the order they run.
STAGE_KEYS = ("parse", "records", "validation", "evaluation", "rate-table", "to-json",
              "end-to-end", "plan")
# The peers, by the import names --skip-peers takes.
PEER_PACKAGES = tuple(dict.fromkeys(peer.package for peer in peers.PEERS))


@dataclass
class Contender:
    name: str
    run: Callable[[], Any]
    times: list[float] = field(default_factory=list)
    # Per timed call: CPU seconds in user mode and in the kernel, and minor
    # page faults, from getrusage of the whole process around the call.
    usage: list[tuple[float, float, int]] = field(default_factory=list)
    peak_bytes: int | None = None
    note: str = ""
    # False for a row shown for context only, with no ratio to the reference.
    comparable: bool = True


@dataclass
class Stage:
    name: str
    reference: str
    contenders: list[Contender]
    # Events (or contracts, for the rate table) the stage works through, for
    # the per-event columns; None when the stage does not scale with the
    # records (the plan stage).
    events: int | None
    # What ``events`` counts, for the column headers.
    unit: str = "event"


class NothingToCompare(Exception):
    """The library's result has no payee period, so no contender can be checked against it."""


# ---------------------------------------------------------------- inputs


def library_totals(result: Any) -> Totals:
    """Sum a library result's lines by payee and period."""
    totals: dict[tuple[str, ...], Decimal] = {}
    for line in result.lines:
        key = (line.payee, line.period)
        totals[key] = totals.get(key, Decimal(0)) + line.amount
    return totals


def statement_totals(result: Any) -> Totals:
    return {(s.payee, s.period): s.total for s in result.statements}


def describe_difference(expected: Totals, got: Totals, limit: int = 5) -> list[str]:
    keys = sorted(key for key in set(expected) | set(got) if expected.get(key) != got.get(key))
    return [f"{' '.join(key)}: library {expected.get(key)}, contender {got.get(key)}"
            for key in keys[:limit]] + ([f"... {len(keys) - limit} more"] if len(keys) > limit else [])


def describe_rates(facts: list[baseline.RateFacts], expected: list[Decimal | None],
                   got: list[Decimal | None], limit: int = 5) -> list[str]:
    """Name the contracts whose rate from a peer differs from the hand-written one."""
    if len(got) != len(expected):
        return [f"{len(got)} rates for {len(expected)} contracts"]
    rows = [f"contract {index} {fact}: hand-written {want}, contender {have}"
            for index, (fact, want, have) in enumerate(zip(facts, expected, got))
            if want != have]
    return rows[:limit] + ([f"... {len(rows) - limit} more"] if len(rows) > limit else [])


# ---------------------------------------------------------------- stages


def build_stages(path: Path, events: int, as_of: datetime, peer_list: list[peers.Peer],
                 skip: frozenset[str] = frozenset()) -> tuple[list[Stage], dict[str, Any]]:
    """Build every stage but those in ``skip`` and check that the contenders agree."""
    from pydantic import TypeAdapter

    from commission_engine import load_jsonl, load_plan, load_records
    from commission_engine.cli import read_jsonl
    from commission_engine.jsonl import parse_jsonl
    from commission_engine.records import Record
    from commission_engine.syntax import _PlanIndenter, grammar_text, parse_partial
    from lark import Lark

    plan_text = REFERENCE_PLAN.read_text(encoding="utf-8")
    plan = load_plan(plan_text, str(REFERENCE_PLAN))
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if line.strip()]
    dicts = [json.loads(line, parse_float=Decimal) for line in lines]
    records = load_records(dicts)
    bare_adapter = TypeAdapter(list[Record])

    # Agreement, before anything is timed.
    result = plan.evaluate(records, as_of)
    expected = library_totals(result)
    if not expected:
        # Stop before the slow preparations below, such as the first to_json.
        raise NothingToCompare
    agreement: dict[str, Any] = {}
    candidates: dict[str, Callable[[], Totals]] = {
        "hand-written baseline": lambda: baseline.compute_totals(dicts, as_of),
        "commission_engine statements": lambda: statement_totals(result),
    }
    for peer in peer_list:
        candidates[peer.name] = lambda peer=peer: peer.totals(dicts, as_of)
    for name, compute in candidates.items():
        got = compute()
        agreement[name] = {"agrees": got == expected, "keys": len(got),
                           "differences": describe_difference(expected, got)}
    agreement["commission_engine"] = {"agrees": True, "keys": len(expected), "differences": []}

    def agrees(name: str) -> bool:
        return bool(agreement[name]["agrees"])

    parse = [Contender("json.loads, parse_float=Decimal",
                       lambda: [json.loads(line, parse_float=Decimal) for line in lines])]
    text = "\n".join(lines)
    parse.append(Contender("commission_engine parse_jsonl", lambda: parse_jsonl(text),
                           note="also rejects duplicate keys, NaN and lone surrogates"))

    one_record = TypeAdapter(Record)
    text_to_records = [
        Contender("json.loads, then TypeAdapter(list[Record])",
                  lambda: bare_adapter.validate_python(
                      [json.loads(line, parse_float=Decimal) for line in lines])),
        Contender("pydantic TypeAdapter(Record).validate_json, a line at a time",
                  lambda: [one_record.validate_json(line) for line in lines],
                  note="reads amounts written as JSON numbers through float"),
        Contender("commission_engine load_jsonl", lambda: load_jsonl(text),
                  note="also indexes the records and checks every reference"),
    ]

    validation = [
        Contender("pydantic TypeAdapter(list[Record])",
                  lambda: bare_adapter.validate_python(dicts)),
        Contender("commission_engine load_records", lambda: load_records(dicts)),
    ]

    evaluation = [
        Contender("hand-written baseline", lambda: baseline.compute_totals(dicts, as_of)),
        # The statements are the library's per-payee, per-period totals, summed
        # inside evaluate; the agreement check above compares them with the lines.
        Contender("commission_engine", lambda: statement_totals(plan.evaluate(records, as_of))),
    ]
    for peer in peer_list:
        if agrees(peer.name):
            evaluation.append(Contender(peer.name, lambda peer=peer: peer.totals(dicts, as_of)))

    prepared = baseline.prepare(dicts, as_of)
    facts = baseline.rate_facts(prepared)
    expected_rates = baseline.hand_written_rates(facts)
    rate_table = [Contender("hand-written first match",
                            lambda: baseline.hand_written_rates(facts))]
    for peer in peer_list:
        if not agrees(peer.name):
            continue
        rates = peer.rates(facts)
        if rates == expected_rates:
            rate_table.append(Contender(peer.name, lambda peer=peer: peer.rates(facts)))
        else:
            # Equal totals with other rates: record it, so the run exits 1.
            agreement[f"{peer.name} rate table"] = {
                "agrees": False, "keys": len(facts),
                "differences": describe_rates(facts, expected_rates, rates)}

    if "to-json" not in skip:
        result.to_json()
    to_json = [
        Contender("commission_engine Result.to_json", result.to_json,
                  note="digest already computed"),
        # A copy made with dataclasses.replace has no cached digest, so this
        # also times the digest, as a one-shot run pays it. The records'
        # canonical form stays cached on the RecordSet.
        Contender("commission_engine Result.to_json, new Result",
                  lambda: dataclasses.replace(result).to_json(),
                  note="computes the digest too"),
    ]

    def library_end_to_end() -> Totals:
        whole_plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))
        loaded = read_jsonl(path.read_text(encoding="utf-8"))
        return statement_totals(whole_plan.evaluate(loaded, as_of))

    end_to_end = [
        Contender("hand-written baseline", lambda: baseline.totals_from_file(path, as_of),
                  note="json with parse_float=Decimal, no validation"),
        Contender("commission_engine", library_end_to_end,
                  note="load_plan, read_jsonl, evaluate, statements"),
    ]

    generated_plan = generate_plan(GENERATED_PLAN_RULES)
    bare_lark = Lark(grammar_text(), parser="lalr", postlex=_PlanIndenter())
    plan_stage = [
        Contender(f"lark LALR parse to a bare tree ({GENERATED_PLAN_RULES} rules)",
                  lambda: bare_lark.parse(generated_plan)),
        Contender(f"commission_engine parse_partial ({GENERATED_PLAN_RULES} rules)",
                  lambda: parse_partial(generated_plan),
                  note="parse to the library's own tree"),
        Contender(f"commission_engine load_plan ({GENERATED_PLAN_RULES} rules)",
                  lambda: load_plan(generated_plan),
                  note="parse, check, compile"),
        Contender("commission_engine load_plan (counselling-2025)",
                  lambda: load_plan(plan_text, str(REFERENCE_PLAN)),
                  note="also validates the records of its 14 examples", comparable=False),
    ]

    stages = {
        "parse": Stage("JSON Lines text to dicts", parse[0].name, parse, events),
        "records": Stage("JSON Lines text to records", text_to_records[0].name,
                         text_to_records, events),
        "validation": Stage("record validation", validation[0].name, validation, events),
        "evaluation": Stage("plan evaluation (validated records)", "hand-written baseline",
                            evaluation, events),
        "rate-table": Stage("rate table alone (per contract)", rate_table[0].name, rate_table,
                            len(facts), unit="contract"),
        "to-json": Stage("results to JSON", to_json[0].name, to_json, events),
        "end-to-end": Stage("end to end (JSONL file to totals)", "hand-written baseline",
                            end_to_end, events),
        "plan": Stage("plan parse and check", plan_stage[0].name, plan_stage, None),
    }
    return [stage for key, stage in stages.items() if key not in skip], agreement


# ---------------------------------------------------------------- timing


def warm_up(stages: list[Stage], progress: Callable[[str], None]) -> None:
    every = [contender for stage in stages for contender in stage.contenders]
    progress(f"warm-up of {len(every)} contenders")
    for contender in every:
        contender.run()


def time_interleaved(stages: list[Stage], repeats: int, progress: Callable[[str], None]) -> None:
    for round_number in range(repeats):
        progress(f"round {round_number + 1} of {repeats}")
        for stage in stages:
            shift = round_number % len(stage.contenders)
            order = stage.contenders[shift:] + stage.contenders[:shift]
            for contender in order:
                gc.collect()
                before = resource.getrusage(resource.RUSAGE_SELF)
                start = time.perf_counter()
                contender.run()
                contender.times.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_SELF)
                contender.usage.append((after.ru_utime - before.ru_utime,
                                        after.ru_stime - before.ru_stime,
                                        after.ru_minflt - before.ru_minflt))


def measure_memory(stages: list[Stage], progress: Callable[[str], None]) -> None:
    """Run each contender once under tracemalloc and keep its peak; this is also the warm-up."""
    progress("warm-up and memory pass (tracemalloc)")
    for stage in stages:
        for contender in stage.contenders:
            gc.collect()
            tracemalloc.start()
            try:
                contender.run()
                contender.peak_bytes = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()


# ---------------------------------------------------------------- report


def summarise(stages: list[Stage]) -> list[dict[str, Any]]:
    summary = []
    for stage in stages:
        medians = {c.name: statistics.median(c.times) for c in stage.contenders}
        reference = medians.get(stage.reference)
        rows = []
        for contender in stage.contenders:
            median = medians[contender.name]
            user_times, system_times, fault_counts = zip(*contender.usage, strict=True)
            user = statistics.median(user_times)
            system = statistics.median(system_times)
            # The lower median, so that the count is a whole number that a round
            # observed, even with an even number of rounds.
            faults = statistics.median_low(fault_counts)
            rows.append({
                "name": contender.name,
                "median_s": median,
                "times_s": contender.times,
                "median_user_s": user,
                "median_system_s": system,
                "median_minor_faults": faults,
                "ratio_to_reference": (median / reference
                                       if reference and contender.comparable else None),
                "median_us_per_event": (median * 1e6 / stage.events) if stage.events else None,
                "peak_bytes": contender.peak_bytes,
                "peak_bytes_per_event": (contender.peak_bytes / stage.events
                                         if stage.events and contender.peak_bytes is not None
                                         else None),
                "note": contender.note,
            })
        # The *_per_event keys divide by ``events``, which counts ``unit``.
        summary.append({"stage": stage.name, "reference": stage.reference,
                        "events": stage.events, "unit": stage.unit, "contenders": rows})
    return summary


def format_table(summary: list[dict[str, Any]]) -> str:
    out = []
    for stage in summary:
        unit = stage.get("unit", "event")
        out.append(f"\n{stage['stage']} (ratio to: {stage['reference']})")
        out.append(f"  {'contender':<58} {'median s':>10} {'ratio':>8} {'us/' + unit:>11}"
                   f" {'peak B/' + unit:>15} {'user s':>8} {'system s':>9} {'faults':>9}")
        for row in stage["contenders"]:
            per_event = row["median_us_per_event"]
            peak = row["peak_bytes_per_event"]
            if peak is None and row["peak_bytes"] is not None:
                peak_text = f"{row['peak_bytes'] / 1e6:.1f} MB"
            else:
                peak_text = "-" if peak is None else f"{peak:,.0f}"
            ratio = row["ratio_to_reference"]
            ratio_text = "-" if ratio is None else f"{ratio:.2f}"
            per_event_text = "-" if per_event is None else f"{per_event:.2f}"
            out.append(f"  {row['name']:<58} {row['median_s']:>10.4f} {ratio_text:>8}"
                       f" {per_event_text:>11} {peak_text:>15} {row['median_user_s']:>8.3f}"
                       f" {row['median_system_s']:>9.3f} {row['median_minor_faults']:>9,.0f}")
    return "\n".join(out)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def library_provenance() -> dict[str, Any]:
    """Return where the imported commission_engine lives and, in a git checkout, its commit."""
    import commission_engine

    folder = Path(commission_engine.__file__).resolve().parent
    provenance: dict[str, Any] = {"path": str(folder), "git_commit": None, "modified": None}
    try:
        commit = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=30, check=False)
        status = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--", "."],
                                capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return provenance
    if commit.returncode == 0:
        provenance["git_commit"] = commit.stdout.strip()
        provenance["modified"] = bool(status.stdout.strip())
    return provenance


def _names(values: list[str]) -> frozenset[str]:
    """Collect the comma-separated names of every use of a repeatable option."""
    return frozenset(name.strip() for value in values for name in value.split(",") if name.strip())


def main(argv: list[str] | None = None) -> int:
    end_on_sigterm()
    parser = argparse.ArgumentParser(description="Benchmark commission_engine against a"
                                                 " hand-written baseline and rule-engine peers.")
    parser.add_argument("--events", type=count(10_000, MAX_EVENTS), default=100_000,
                        help=f"records to generate, from 1 to {MAX_EVENTS:,} (default: 100000);"
                             " the run stops if they hold no payee period to compare")
    parser.add_argument("--quick", action="store_true",
                        help="3 timed rounds instead of 5")
    parser.add_argument("--repeats", type=count(5, MAX_ROUNDS),
                        help=f"timed rounds, from 1 to {MAX_ROUNDS:,} (overrides --quick)")
    parser.add_argument("--seed", type=whole_number(7), default=1,
                        help="seed of the generator (default: 1)")
    parser.add_argument("--as-of", type=as_of_time, default=DEFAULT_AS_OF,
                        help="as-of time of the evaluation, ISO 8601 with a UTC offset, in the"
                             f" years the library accepts (default: {DEFAULT_AS_OF})")
    parser.add_argument("--output", default=str(RESULTS),
                        help="JSON file for the results, checked before any timing; missing"
                             " folders are created (default: benchmarks/results/latest.json)")
    # Both may be repeated; the names of every use add up.
    parser.add_argument("--skip", action="append", default=[],
                        help="stages to leave out, separated by commas: "
                             + ", ".join(STAGE_KEYS))
    parser.add_argument("--skip-peers", action="append", default=[],
                        help="peers to leave out, by import name, separated by commas:"
                             " " + ", ".join(PEER_PACKAGES))
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the tracemalloc pass and warm up without it")
    args = parser.parse_args(argv)
    repeats = args.repeats
    if repeats is None:
        repeats = 3 if args.quick else 5
    skip = _names(args.skip)
    if not skip <= set(STAGE_KEYS):
        parser.error(f"--skip names unknown stages: {', '.join(sorted(skip - set(STAGE_KEYS)))};"
                     f" use {', '.join(STAGE_KEYS)}")
    if skip == set(STAGE_KEYS):
        parser.error(f"--skip {','.join(STAGE_KEYS)} leaves no stage to time;"
                     " leave at least one out of the list")
    left_out = _names(args.skip_peers)
    if not left_out <= set(PEER_PACKAGES):
        parser.error(f"--skip-peers names unknown peers:"
                     f" {', '.join(sorted(left_out - set(PEER_PACKAGES)))};"
                     f" use {', '.join(PEER_PACKAGES)}")
    as_of = args.as_of
    as_of_text = as_of.isoformat()
    # Last of the argument checks, because it creates the output's folders for a moment.
    output = check_output(parser, "--output", args.output)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    peer_list, missing = peers.available_peers()
    for peer in [peer for peer in peer_list if peer.package in left_out]:
        peer_list.remove(peer)
        missing[peer.name] = "left out with --skip-peers"
    for name, reason in missing.items():
        progress(f"skipping {name}: {reason}")

    with tempfile.TemporaryDirectory(prefix="commission-bench-") as folder:
        path = Path(folder) / "records.jsonl"
        generation_start = time.perf_counter()
        with path.open("w", encoding="utf-8") as handle:
            written = write_jsonl(handle, args.events, args.seed)
        generation_s = time.perf_counter() - generation_start
        progress(f"generated {written} records in {generation_s:.1f} s")
        try:
            stages, agreement = build_stages(path, written, as_of, peer_list, skip)
        except NothingToCompare:
            more = f"more --events (such as {max(2000, args.events * 10)})"
            if as_of_text != DEFAULT_AS_OF:
                more = f"a later --as-of (such as {DEFAULT_AS_OF}) or " + more
            parser.error(f"the library's result over {written} records (--events {args.events},"
                         f" --seed {args.seed}) as of {as_of_text} has no payee period, so"
                         f" the agreement check would compare nothing; use {more}")
        disagreeing = [name for name, outcome in agreement.items() if not outcome["agrees"]]
        for name in disagreeing:
            progress(f"DISAGREES with the library: {name}")
            for difference in agreement[name]["differences"]:
                progress(f"  {difference}")
        progress("every contender agrees with the library to the cent" if not disagreeing
                 else "disagreeing contenders are left out of the timings")
        if args.no_memory:
            warm_up(stages, progress)
        else:
            measure_memory(stages, progress)
        time_interleaved(stages, repeats, progress)

    summary = summarise(stages)
    report = {
        "events": written,
        "seed": args.seed,
        "as_of": as_of_text,
        "repeats": repeats,
        "generation_s": generation_s,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "versions": package_versions(),
        "library": library_provenance(),
        "missing_peers": missing,
        "skipped_stages": sorted(skip),
        "agreement": agreement,
        "stages": summary,
    }
    library = report["library"]
    # The table goes out first, so a failure to write the file loses nothing.
    print(f"{written} records, seed {args.seed}, as of {as_of_text}, medians of {repeats} rounds")
    print(f"commission_engine from {library['path']}"
          + (f" (git {library['git_commit'][:10]}{', modified' if library['modified'] else ''})"
             if library["git_commit"] else ""), flush=True)
    print(format_table(summary), flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten to {output}")
    progress("done")
    return 1 if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main())
