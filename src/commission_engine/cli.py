"""The ``commission-engine`` command: the only module that reads files, the clock or stdout.

Exit status: 0 on success, 1 for an invalid plan, invalid records or a
failing example, 2 for a usage error (a bad option, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__, load_plan, money
from .compile import CompiledPlan
from .errors import CommissionError, Problem, RecordError
from .explain import show_money
from .records import MAX_YEAR, MIN_YEAR, RecordSet, load_records
from .results import Result

__all__ = ["main"]


class _UsageError(Exception):
    """A command line that cannot run: exit status 2."""


class _InputError(Exception):
    """An input file that is not text the command can read: exit status 1."""


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


def _reject_constant(name: str) -> NoReturn:
    msg = f"{name} is not a number a record may hold"
    raise ValueError(msg)


def _read_text(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _UsageError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise _UsageError(f"cannot read {path}: it is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise _InputError(
            f"cannot read {path}: not UTF-8 text ({exc.reason} at byte {exc.start});"
            " save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from None


def read_jsonl(text: str) -> RecordSet:
    """Parse JSON Lines with numbers as Decimal (never float) and validate the records."""
    rows, positions = _parse_jsonl(text)
    return load_records(rows, positions)


def _parse_jsonl(text: str) -> tuple[list[Any], list[str]]:
    """Parse JSON Lines with numbers as Decimal, returning the values and their line positions."""
    rows: list[Any] = []
    positions: list[str] = []
    problems: list[Problem] = []
    # A byte order mark is harmless; split only at newlines, because
    # str.splitlines also breaks at U+2028 and others, which JSON strings may hold.
    text = text.removeprefix("\ufeff")
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=Decimal, parse_constant=_reject_constant,
                               object_pairs_hook=_object_without_duplicates)
        except _DuplicateKeyError as exc:
            problems.append(Problem(f"line {number}", None, str(exc),
                                    "the field is given twice in one record",
                                    "keep one value; JSON readers disagree on which one wins"))
            continue
        except RecursionError:
            problems.append(Problem(f"line {number}", None, None,
                                    "the JSON nests too deeply to be a record",
                                    "write one flat JSON object per line"))
            continue
        except json.JSONDecodeError as exc:
            detail = exc.msg[0].lower() + exc.msg[1:]
            detail += f" column {exc.colno}" if detail.endswith(" at") else f" at column {exc.colno}"
            problems.append(Problem(f"line {number}", None, None, f"not valid JSON: {detail}",
                                    "write one JSON object per line"))
            continue
        except ValueError as exc:
            problems.append(Problem(f"line {number}", None, None, f"not valid JSON: {exc}",
                                    "write one JSON object per line, with numbers as digits"))
            continue
        if "\\ud" in line.lower() and _has_lone_surrogate(value):
            problems.append(Problem(f"line {number}", None, None,
                                    "a string holds a lone UTF-16 surrogate escape (\\ud800 to \\udfff)",
                                    "escape characters outside the basic plane as a surrogate pair"))
            continue
        rows.append(value)
        positions.append(f"line {number}")
    if problems:
        raise RecordError(tuple(problems))
    return rows, positions


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _parse_as_of(text: str | None) -> tuple[datetime, bool]:
    if text is None:
        return datetime.now(timezone.utc).replace(microsecond=0), True
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _UsageError(
            f"--as-of {text!r} is not an ISO 8601 timestamp; write it like"
            " 2025-06-30T00:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        written = text if "T" in text else f"{text}T00:00:00"
        raise _UsageError(f"--as-of {text!r} has no UTC offset; add one, such as {written}+08:00")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise _UsageError(f"--as-of {text!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
    return moment, False


def _load_plan_file(path: str) -> CompiledPlan:
    return load_plan(_read_text(path), path)


# ---------------------------------------------------------------- output


def _write_table(result: Result, out: TextIO, as_of_is_now: bool) -> None:
    currency = result.currency
    source = " (the current time)" if as_of_is_now else ""
    out.write(f"plan {result.plan_name} version {result.plan_version}, as of"
              f" {result.as_of.isoformat()}{source}\n")
    out.write(f"currency {currency}, rounding {result.rounding}\n")
    for statement in result.statements:
        out.write(f"\n{statement.payee}  {statement.period}"
                  f"  total {show_money(statement.total, currency)} {currency}\n")
        for line in statement.lines:
            amount = show_money(line.amount, currency)
            out.write(f"  {line.kind:<11} {line.rule:<16} {amount:>12}  {line.explain()}\n")
    total = money.total(line.amount for line in result.lines)
    future = money.total(line.amount for line in result.schedule)
    out.write(f"\n{_count(len(result.statements), 'statement')},"
              f" {_count(len(result.lines), 'line')},"
              f" total {show_money(total, currency)} {currency};"
              f" {_count(len(result.schedule), 'line')} scheduled after the as-of time"
              f" ({show_money(future, currency)} {currency})\n")
    out.write(f"digest {result.digest}\n")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _cell(text: str) -> str:
    """Keep a text cell from being read as a formula by a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _write_csv(result: Result, out: TextIO) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["payee", "period", "kind", "rule", "amount", "currency", "due",
                     "sources", "explanation"])
    for line in result.lines:
        data = line.to_dict()
        writer.writerow([_cell(data["payee"]), data["period"], data["kind"], _cell(data["rule"]),
                         data["amount"], data["currency"], data["due"],
                         _cell(" ".join(line.sources)), _cell(data["text"])])
    out.write(buffer.getvalue())


# ---------------------------------------------------------------- commands


def _command_check(args: argparse.Namespace) -> int:
    plan = _load_plan_file(args.plan)
    for warning in plan.checked.warnings:
        sys.stderr.write(warning.render(args.plan) + "\n")
    sys.stdout.write(f"{args.plan}: ok\n")
    return 0


def _command_run(args: argparse.Namespace) -> int:
    plan = _load_plan_file(args.plan)
    as_of, is_now = _parse_as_of(args.as_of)
    if args.dask is not None:
        result = _evaluate_on_dask(plan, _read_text(args.records), as_of, args.rounding,
                                   args.dask, args.dask_timeout)
    else:
        records = read_jsonl(_read_text(args.records))
        result = plan.evaluate(records, as_of, args.rounding)
    if args.format == "json":
        sys.stdout.write(result.to_json() + "\n")
    elif args.format == "csv":
        _write_csv(result, sys.stdout)
    else:
        _write_table(result, sys.stdout, is_now)
    return 0


def _evaluate_on_dask(plan: CompiledPlan, text: str, as_of: datetime, rounding: str | None,
                      address: str, timeout: float) -> Result:
    """Evaluate on the Dask cluster whose scheduler listens at ``address``."""
    try:
        import distributed

        from . import dask as scale
    except ImportError:
        raise _UsageError("--dask needs Dask; install it with"
                          " pip install 'commission-engine[dask]'") from None
    rows, positions = _parse_jsonl(text)
    try:
        client = distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        raise _UsageError(f"cannot connect to the Dask scheduler at {address}: {exc};"
                          " check the address and that the scheduler is running") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise _UsageError(f"the Dask scheduler at {address} has no workers after"
                              f" {timeout:g} s; start one with: dask worker {address}") from None
        # Several bag partitions per worker thread let the scheduler balance
        # partitions of uneven size.
        threads = sum(client.nthreads().values()) or 1
        count = max(1, min(len(rows), 4 * threads))
        bag = scale.records_bag(list(zip(positions, rows)), count)
        return scale.evaluate(plan, bag, as_of, rounding, positioned=True)


def _command_test(args: argparse.Namespace) -> int:
    from .examples import run_examples
    from .invariants import search

    plan = _load_plan_file(args.plan)
    outcomes = run_examples(plan, args.plan)
    failed = 0
    for outcome in outcomes:
        sys.stdout.write(outcome.report(plan.currency) + "\n")
        failed += not outcome.passed
    for invariant in plan.invariants:
        result = search(plan, invariant, args.max_examples)
        if result.passed:
            sys.stdout.write(f'invariant "{result.name}": ok ({result.examples} record sets)\n')
            continue
        failed += 1
        _write_counterexample(args.plan, result, sys.stdout)
    total = len(outcomes) + len(plan.invariants)
    sys.stdout.write(f"{args.plan}: {total - failed} passed, {failed} failed\n")
    return 1 if failed else 0


def _write_counterexample(plan_path: str, outcome: Any, out: TextIO) -> None:
    assert outcome.violation is not None and outcome.counterexample is not None
    as_of = outcome.as_of.isoformat()
    out.write(f'invariant "{outcome.name}" (line {outcome.line}) failed:'
              f" {outcome.violation.describe()}\n")
    out.write(f"counterexample, shrunk, as JSON Lines (reproduce it with"
              f" commission-engine run {plan_path} FILE --as-of {as_of}):\n")
    for record in outcome.counterexample:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.write("end of counterexample\n")


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"{text!r} is not a whole number of at least 1"
        raise argparse.ArgumentTypeError(msg)
    return number


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        msg = f"{text!r} is not a number of seconds above 0"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commission-engine",
        description="Check commission plans and compute payouts from lifecycle records.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="parse and type-check a plan file")
    check.add_argument("plan", metavar="PLAN", help="the plan file")
    check.set_defaults(handler=_command_check)

    run = commands.add_parser("run", help="evaluate a plan over JSON Lines records")
    run.add_argument("plan", metavar="PLAN", help="the plan file")
    run.add_argument("records", metavar="RECORDS", help="JSON Lines records, or - for stdin")
    run.add_argument("--as-of", metavar="TIMESTAMP",
                     help="evaluate as seen at this ISO 8601 time with a UTC offset"
                          " (default: now)")
    run.add_argument("--format", choices=("table", "json", "csv"), default="table",
                     help="output format (default: table)")
    run.add_argument("--rounding", choices=("half-up", "half-even"),
                     help="override the plan's rounding mode")
    run.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                     help="evaluate on the Dask cluster of this scheduler, such as"
                          " tcp://127.0.0.1:8786, partitioned by payee (needs the dask extra)")
    run.add_argument("--dask-timeout", type=_positive_seconds, default=10.0, metavar="SECONDS",
                     help="seconds to wait for the Dask scheduler to respond (default: 10)")
    run.set_defaults(handler=_command_run)

    test = commands.add_parser(
        "test", help="run a plan file's examples and search for breaks of its invariants")
    test.add_argument("plan", metavar="PLAN", help="the plan file")
    test.add_argument("--max-examples", type=_positive, default=200, metavar="N",
                      help="record sets to draw for each invariant (default: 200)")
    test.set_defaults(handler=_command_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character gets an escape, not a crash.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
        sys.stdout.flush()
    except _UsageError as exc:
        sys.stderr.write(f"commission-engine: error: {exc}\n")
        return 2
    except _InputError as exc:
        sys.stderr.write(f"commission-engine: error: {exc}\n")
        return 1
    except CommissionError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as exc:
        _silence_stdout()
        sys.stderr.write(f"commission-engine: error: cannot write the output: {exc.strerror}\n")
        return 1
    return status


def _silence_stdout() -> None:
    # Python flushes stdout again at exit. Pointing it at the null device keeps
    # that second flush from failing with a traceback.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
