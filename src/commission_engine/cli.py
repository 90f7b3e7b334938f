"""The ``commission-engine`` command: the only module that reads files, the clock or stdout.

Exit status: 0 on success, 1 for an invalid plan, invalid records or a
failing example, 2 for a usage error (a bad option, a file that cannot be read).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import io
import json
import os
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from . import __version__, collector, load_plan, money, periods
from .compile import CompiledPlan
from .errors import CommissionError, escape_hidden, safe_message, shorten
from .explain import show_money
from .jsonl import load_jsonl, parse_jsonl, reject_constant
from .limits import DEFAULT_LIMITS, Limits, raise_hint
from .localize import LANGUAGES
from .records import MAX_YEAR, MIN_YEAR, RecordSet, is_accepted_timestamp
from .results import Result
from .syntax import normal_line_ends

__all__ = ["main"]


class _UsageError(Exception):
    """A command line that cannot run: exit status 2."""


class _InputError(Exception):
    """An input file that is not text the command can read: exit status 1."""


def _read_text(path: str, max_chars: int | None = None) -> str:
    """Read a UTF-8 file, or stdin for ``-``; with ``max_chars``, read no more than one past it."""
    return _read(path, max_chars, None)


def _read_records(path: str) -> str:
    """Read a JSON Lines file, or stdin for ``-``, with every line end as it is written.

    JSON Lines ends a line only at LF (CRLF included), and a CR alone is
    whitespace inside a line, as ``load_jsonl`` reads it. Python's default
    would end a line at a CR alone too, and shift every later line number.
    """
    return _read(path, None, "")


def _read(path: str, max_chars: int | None, newline: str | None) -> str:
    size = -1 if max_chars is None else max_chars + 1
    source = "standard input" if path == "-" else path
    try:
        if path == "-":
            # Python's own stdin may turn bytes that are not UTF-8 into lone
            # surrogates and end a line at a lone CR, so it is read as bytes,
            # as a file is.
            return _read_utf8(sys.stdin.buffer, source, size, newline)
        with Path(path).open("rb") as handle:
            return _read_utf8(handle, source, size, newline)
    except FileNotFoundError:
        raise _UsageError(f"cannot read {_shown(path)}: no such file") from None
    except IsADirectoryError:
        raise _UsageError(f"cannot read {_shown(path)}: it is a folder, not a file") from None
    except OSError as exc:
        raise _UsageError(f"cannot read {_shown(source)}: {exc.strerror}") from None


def _shown(name: str) -> str:
    """Write a file name for a message or a report line: escaped, and at most 200 characters."""
    return safe_message(name, 200)


_CHUNK_BYTES = 1 << 16


def _read_utf8(binary: BinaryIO, source: str, size: int, newline: str | None) -> str:
    """Decode strict UTF-8 in chunks, stopping past ``size`` characters (-1: read all).

    A byte that is not UTF-8 is reported with its offset from the start of
    the input and its line, which a text stream cannot give: it counts
    from the start of its last chunk. With ``newline=None`` every CR LF
    and lone CR becomes LF, as the parser reads a plan, and ``size`` counts
    the characters after that.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    parts: list[str] = []
    chars = offset = 0
    ends_in_cr = False
    while size < 0 or chars < size:
        chunk = binary.read(_CHUNK_BYTES)
        held_back = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise _not_utf8(source, exc, offset - held_back, parts,
                            chunk[:max(exc.start - held_back, 0)], newline) from None
        parts.append(text)
        chars += len(text)
        offset += len(chunk)
        if newline is None and text:
            # A CR LF becomes one LF, so it counts as one character, also
            # when a chunk's edge falls between the two.
            chars -= text.count("\r\n") + (ends_in_cr and text[0] == "\n")
            ends_in_cr = text[-1] == "\r"
        if not chunk:
            break
    text = "".join(parts)
    if newline is None:
        text = normal_line_ends(text)
    return text if size < 0 else text[:size]


def _not_utf8(source: str, exc: UnicodeDecodeError, start: int, parts: list[str],
              before: bytes, newline: str | None) -> _InputError:
    """Describe a byte that is not UTF-8 by its offset and the line the reader would number."""
    # exc.start counts from the bytes the decoder held back from the previous
    # chunk, which are the start of one character and hold no line end.
    read = "".join(parts) + before.decode("utf-8", "replace")
    if newline is None:
        read = normal_line_ends(read)
    return _InputError(
        f"cannot read {_shown(source)}: not UTF-8 text ({exc.reason} at byte {start + exc.start:,},"
        f" line {read.count(chr(10)) + 1:,}); save the file as UTF-8")


def read_jsonl(text: str, limits: Limits = DEFAULT_LIMITS) -> RecordSet:
    """Parse JSON Lines with numbers as Decimal (never float) and validate the records."""
    return load_jsonl(text, limits)


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
    if not is_accepted_timestamp(text):
        # fromisoformat also reads ISO week dates and basic forms, which records reject.
        raise _UsageError(
            f"--as-of {text!r} is not in the accepted ISO 8601 form (a calendar date, T, the"
            " time and an offset); write it like 2025-06-30T00:00:00+08:00")
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise _UsageError(f"--as-of {text!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
    return moment, False


def _load_plan_file(path: str, limits: Limits) -> CompiledPlan:
    # Reading stops one character past the limit, so a huge file is never
    # held in memory whole.
    text = _read_text(path, limits.max_plan_chars)
    if len(text) > limits.max_plan_chars:
        raise _InputError(
            f"cannot read {_shown(path)}: it is longer than the limit of {limits.max_plan_chars:,}"
            " characters (max_plan_chars); split the plan, or "
            + raise_hint("max_plan_chars").removeprefix("to allow more, "))
    return load_plan(text, path, limits)


def _limit_setting(text: str) -> tuple[str, int]:
    name, sign, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sign:
        msg = f"{text!r} is not NAME=N, such as max_rules=5000"
        raise argparse.ArgumentTypeError(msg)
    if name not in Limits.names():
        msg = f"unknown limit {name!r}; the limits are {', '.join(Limits.names())}"
        raise argparse.ArgumentTypeError(msg)
    return name, _positive(value)


def _limits(args: argparse.Namespace) -> Limits:
    try:
        return DEFAULT_LIMITS.replace(**dict(args.limit))
    except ValueError as exc:
        raise _UsageError(str(exc)) from None


# ---------------------------------------------------------------- output


def _write_table(result: Result, out: TextIO, as_of_is_now: bool,
                 lang: str | None = None) -> None:
    currency = result.currency
    source = " (the current time)" if as_of_is_now else ""
    out.write(f"plan {result.plan_name} version {result.plan_version}, as of"
              f" {result.as_of.isoformat()}{source}\n")
    out.write(f"currency {currency}, rounding {result.rounding}\n")
    for statement in result.statements:
        balance = ""
        if statement.draw_balance is not None:
            balance = f", draw balance {show_money(statement.draw_balance, currency)} {currency}"
        out.write(f"\n{statement.payee}  {statement.period}"
                  f"  total {show_money(statement.total, currency)} {currency}{balance}\n")
        for line in statement.lines:
            amount = show_money(line.amount, currency)
            out.write(f"  {line.kind:<11} {line.rule:<16} {amount:>12}  {line.explain(lang)}\n")
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


def _write_csv(result: Result, out: TextIO, lang: str | None = None) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["payee", "period", "kind", "rule", "amount", "currency", "due",
                     "sources", "explanation"])
    for line in result.lines:
        data = line.to_dict()
        writer.writerow([_cell(data["payee"]), data["period"], data["kind"], _cell(data["rule"]),
                         data["amount"], data["currency"], data["due"],
                         _cell(" ".join(line.sources)), _cell(line.explain(lang))])
    out.write(buffer.getvalue())


# ---------------------------------------------------------------- commands


def _command_check(args: argparse.Namespace) -> int:
    plan = _load_plan_file(args.plan, _limits(args))
    for warning in plan.checked.warnings:
        sys.stderr.write(warning.render(args.plan) + "\n")
    sys.stdout.write(f"{_shown(args.plan)}: ok\n")
    return 0


def _command_run(args: argparse.Namespace) -> int:
    limits = _limits(args)
    plan = _load_plan_file(args.plan, limits)
    as_of, is_now = _parse_as_of(args.as_of)
    text = _read_records(args.records)
    if not text.strip():
        # Valid input, but more often a wrong path or a failed export than a
        # month without sales, so the empty result gets a note.
        source = "standard input" if args.records == "-" else args.records
        print(f"note: {source} holds no records, so every total is 0; check the file"
              " name and the export that wrote it", file=sys.stderr)
    if args.dask is not None:
        result = _evaluate_on_dask(plan, text, as_of, args.rounding,
                                   limits, args.dask, args.dask_timeout)
    else:
        result = plan.evaluate(load_jsonl(text, limits), as_of, args.rounding)
    if args.format == "json":
        sys.stdout.write(result.to_json() + "\n")
    elif args.format == "csv":
        _write_csv(result, sys.stdout, args.lang)
    else:
        _write_table(result, sys.stdout, is_now, args.lang)
    return 0


def _check_period_argument(period: str | None) -> None:
    if period is not None and not periods.is_period(period):
        raise _UsageError(f"--period {period!r} is not a month; write it as YYYY-MM,"
                          " such as 2025-03")


def _command_statement(args: argparse.Namespace) -> int:
    from .evaluate import attainments
    from .payslip import build_payslips, payslip_csv
    from .payslip_html import payslip_html

    _check_period_argument(args.period)
    limits = _limits(args)
    plan = _load_plan_file(args.plan, limits)
    as_of, _ = _parse_as_of(args.as_of)
    records = read_jsonl(_read_records(args.records), limits)
    result = plan.evaluate(records, as_of, args.rounding)
    payslips = build_payslips(result, args.lang, args.payee, args.period,
                              attainments(plan, records, as_of))
    if not payslips:
        raise _UsageError(f"no statement matches {_selection(args)}; check --payee and --period"
                          " against the output of run")
    if args.output_dir is None:
        if args.format != "csv" and len(payslips) > 1:
            raise _UsageError(
                f"{len(payslips)} statements match {_selection(args)}; name one with"
                " --payee and --period, or write them all with --output-dir DIR")
        if args.format == "csv":
            sys.stdout.write(payslip_csv(payslips))
        elif args.format == "json":
            sys.stdout.write(json.dumps(payslips[0].to_dict(), ensure_ascii=False, indent=1) + "\n")
        else:
            sys.stdout.write(payslip_html(payslips[0]))
        return 0
    folder = Path(args.output_dir)
    if not folder.is_dir():
        raise _UsageError(f"--output-dir {_shown(args.output_dir)}: no such folder; create it first")
    for payslip, name in zip(payslips, _file_names(payslips, args.format)):
        if args.format == "csv":
            text = payslip_csv((payslip,))
        elif args.format == "json":
            text = json.dumps(payslip.to_dict(), ensure_ascii=False, indent=1) + "\n"
        else:
            text = payslip_html(payslip)
        try:
            (folder / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _InputError(f"cannot write {folder / name}: {exc.strerror or exc};"
                              " check that the folder is writable and has free space") from None
    sys.stdout.write(f"wrote {_count(len(payslips), 'payslip')} to {_shown(args.output_dir)}\n")
    return 0


def _selection(args: argparse.Namespace) -> str:
    parts = []
    if args.payee is not None:
        parts.append(f"payee {args.payee!r}")
    if args.period is not None:
        parts.append(f"period {args.period!r}")
    return " and ".join(parts) if parts else "the records"


# ext4 takes file names of up to 255 bytes, and APFS and NTFS take 255
# characters, so a name of at most 255 bytes of UTF-8 fits all three.
MAX_FILE_NAME_BYTES = 255
# Hex digits of the SHA-256 of the payee id that end a shortened name.
_HASH_DIGITS = 12


def _file_name(payee: str, period: str, suffix: str, hashed: bool = False) -> str:
    """Return the payslip file name ``PAYEE-PERIOD.SUFFIX`` for a payee id.

    Letters and digits of any script, "-" and "_" are kept. Every other
    character, "~" included, is written as ``~HEX~`` (its code point), so two
    payees never share a name and no id can name another folder or a name
    that Windows, macOS or Linux rejects. A name longer than 255 bytes in
    UTF-8, or any name when ``hashed``, keeps the start of the id and ends it
    with ``~-`` and a hash of the whole id, so it stays distinct.
    """
    units = [c if c.isalnum() or c in "-_" else f"~{ord(c):x}~" for c in payee]
    tail = f"-{period}.{suffix}"
    name = "".join(units) + tail
    if not hashed and len(name.encode("utf-8")) <= MAX_FILE_NAME_BYTES:
        return name
    digest = hashlib.sha256(payee.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]
    marker = f"~-{digest}"
    budget = MAX_FILE_NAME_BYTES - len((marker + tail).encode("utf-8"))
    prefix: list[str] = []
    used = 0
    for unit in units:
        size = len(unit.encode("utf-8"))
        if used + size > budget:
            break
        prefix.append(unit)
        used += size
    return "".join(prefix) + marker + tail


def _file_names(payslips: Sequence[Any], suffix: str) -> list[str]:
    """Return a file name for each payslip, distinct even where case is ignored.

    Windows and macOS compare names without case and, on macOS, without
    Unicode normalization, so "R1" and "r1" would share a file. Names equal
    under that comparison end with the hash of their payee id instead.
    """
    names = [_file_name(p.statement.payee, p.statement.period, suffix) for p in payslips]
    folded = Counter(_folded(name) for name in names)
    return [
        _file_name(p.statement.payee, p.statement.period, suffix, hashed=True)
        if folded[_folded(name)] > 1 else name
        for p, name in zip(payslips, names)
    ]


def _folded(name: str) -> str:
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


def _command_verify(args: argparse.Namespace) -> int:
    from .verify import StoredResultError, verify

    text = _read_text(args.result)
    try:
        stored = json.loads(text, parse_float=Decimal, parse_constant=reject_constant)
    except ValueError as exc:
        raise _InputError(f"cannot read {_shown(args.result)}: not valid JSON ({exc});"
                          " pass the file that run --format json wrote") from None
    except RecursionError:
        # The json module reads arrays and objects by recursion.
        raise _InputError(f"cannot read {_shown(args.result)}: the JSON nests too deeply to be a"
                          " stored result; pass the file that run --format json wrote") from None
    limits = _limits(args)
    plan = _load_plan_file(args.plan, limits)
    records = read_jsonl(_read_records(args.records), limits)
    try:
        outcome = verify(stored, plan, records)
    except StoredResultError as exc:
        raise _InputError(f"cannot verify {_shown(args.result)}: {exc}") from None
    if outcome.matches:
        sys.stdout.write(f"{_shown(args.result)}: match, every output reproduced"
                         f" (digest {stored.get('digest')})\n")
        return 0
    # The differences quote the stored file, which anyone may have edited.
    sys.stdout.write(_for_terminal(f"{args.result}: mismatch") + "\n")
    if outcome.input_difference is not None:
        sys.stdout.write(_for_terminal(f"  {outcome.input_difference}") + "\n")
    if outcome.output_difference is not None:
        sys.stdout.write(_for_terminal(f"  first difference: {outcome.output_difference}") + "\n")
    return 1


def _command_schema(args: argparse.Namespace) -> int:
    from .json_schema import schema_document, schema_of

    document = schema_document() if args.type is None else schema_of(args.type)
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    return 0


def _evaluate_on_dask(plan: CompiledPlan, text: str, as_of: datetime, rounding: str | None,
                      limits: Limits, address: str, timeout: float) -> Result:
    """Evaluate on the Dask cluster whose scheduler listens at ``address``."""
    try:
        import distributed

        from . import dask as scale
    except ImportError:
        raise _UsageError("--dask needs Dask; install it with"
                          " pip install 'commission-engine[dask]'") from None
    rows, positions = parse_jsonl(text, limits)
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
        return scale.evaluate(plan, bag, as_of, rounding, positioned=True, limits=limits)


def _command_test(args: argparse.Namespace) -> int:
    from .examples import run_examples
    from .invariants import search

    plan = _load_plan_file(args.plan, _limits(args))
    outcomes = run_examples(plan, args.plan)
    failed = 0
    for outcome in outcomes:
        # A report quotes the plan's example names and strings.
        sys.stdout.write(_for_terminal(outcome.report(plan.currency)) + "\n")
        failed += not outcome.passed
    for invariant in plan.invariants:
        result = search(plan, invariant, args.max_examples)
        if result.passed:
            sys.stdout.write(f'invariant "{result.name}": ok ({result.examples} record sets)\n')
            continue
        failed += 1
        _write_counterexample(_shown(args.plan), result, sys.stdout)
    total = len(outcomes) + len(plan.invariants)
    sys.stdout.write(f"{_shown(args.plan)}: {total - failed} passed, {failed} failed\n")
    return 1 if failed else 0


def _command_diff(args: argparse.Namespace) -> int:
    from .whatif import compare_plans, render_diff

    limits = _limits(args)
    plan_a = _load_plan_file(args.plan_a, limits)
    plan_b = _load_plan_file(args.plan_b, limits)
    as_of, _is_now = _parse_as_of(args.as_of)
    records = read_jsonl(_read_records(args.records), limits)
    diff = compare_plans(plan_a, plan_b, records, as_of, args.rounding)
    if args.format == "json":
        sys.stdout.write(json.dumps(diff.to_dict(), ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render_diff(diff, args.all))
    return 0


def _command_progress(args: argparse.Namespace) -> int:
    from .dashboard import render_progress
    from .progress import progress

    limits = _limits(args)
    plan = _load_plan_file(args.plan, limits)
    as_of, _is_now = _parse_as_of(args.as_of)
    _check_period_argument(args.period)
    records = read_jsonl(_read_records(args.records), limits)
    rows = progress(plan, records, as_of, args.period)
    if args.format == "json":
        data = {"plan": {"name": plan.name, "version": plan.version},
                "as_of": as_of.isoformat(), "currency": plan.currency,
                "payees": [row.to_dict(plan.currency) for row in rows]}
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    else:
        sys.stdout.write(render_progress(rows, plan.name, plan.version, as_of, plan.currency))
    return 0


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


# The names the schema command accepts; json_schema.SCHEMA_TYPES, written
# here so that the command line parses without building any schema.
_SCHEMA_TYPES = ("rep", "customer", "contract", "payment", "refund", "session",
                 "satisfaction", "complaint", "target", "record", "result", "payslip")


# An hour is far beyond any scheduler's connect time. A larger value, or
# infinity, is most likely a mistake that would leave the command waiting.
_MAX_DASK_TIMEOUT = 3600.0


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= _MAX_DASK_TIMEOUT:
        msg = (f"{text!r} is not a number of seconds above 0 and at most"
               f" {_MAX_DASK_TIMEOUT:.0f}")
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
    _add_limit_option(check)
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
    run.add_argument("--lang", choices=tuple(LANGUAGES),
                     help="write the explanations of table and CSV output as payslip text"
                          " in this language, with its money and date formats"
                          " (default: plain English with ISO dates); JSON output ignores"
                          " it and always contains the structured steps and English text")
    run.add_argument("--dask", metavar="SCHEDULER_ADDRESS",
                     help="evaluate on the Dask cluster of this scheduler, such as"
                          " tcp://127.0.0.1:8786, partitioned by payee (needs the dask extra)")
    run.add_argument("--dask-timeout", type=_positive_seconds, default=10.0, metavar="SECONDS",
                     help="seconds to wait for the Dask scheduler to respond, above 0 and at"
                          " most 3600 (default: 10)")
    _add_limit_option(run)
    run.set_defaults(handler=_command_run)

    diff = commands.add_parser(
        "diff", help="show what a plan change would move, per payee and period")
    diff.add_argument("plan_a", metavar="PLAN_A", help="the current plan file")
    diff.add_argument("plan_b", metavar="PLAN_B", help="the changed plan file")
    diff.add_argument("records", metavar="RECORDS", help="JSON Lines records, or - for stdin")
    diff.add_argument("--as-of", metavar="TIMESTAMP",
                      help="compare as seen at this ISO 8601 time with a UTC offset"
                           " (default: now)")
    diff.add_argument("--format", choices=("table", "json"), default="table",
                      help="output format (default: table)")
    diff.add_argument("--rounding", choices=("half-up", "half-even"),
                      help="override both plans' rounding mode")
    diff.add_argument("--all", action="store_true",
                      help="list every payee and period, not only those that change")
    _add_limit_option(diff)
    diff.set_defaults(handler=_command_diff)

    report = commands.add_parser(
        "progress", help="print each payee's progress: targets, commission, rank, alerts")
    report.add_argument("plan", metavar="PLAN", help="the plan file")
    report.add_argument("records", metavar="RECORDS", help="JSON Lines records, or - for stdin")
    report.add_argument("--as-of", metavar="TIMESTAMP",
                        help="report as seen at this ISO 8601 time with a UTC offset"
                             " (default: now)")
    report.add_argument("--period", metavar="YYYY-MM",
                        help="the period to report for every payee (default: each payee's"
                             " period of the as-of time, in its own zone)")
    report.add_argument("--format", choices=("table", "json"), default="table",
                        help="output format (default: table)")
    _add_limit_option(report)
    report.set_defaults(handler=_command_progress)

    statement = commands.add_parser(
        "statement", help="write payslips (HTML, JSON or CSV) by payee and period")
    statement.add_argument("plan", metavar="PLAN", help="the plan file")
    statement.add_argument("records", metavar="RECORDS",
                           help="JSON Lines records, or - for stdin")
    statement.add_argument("--payee", metavar="ID", help="only the statements of this payee")
    statement.add_argument("--period", metavar="YYYY-MM",
                           help="only the statements of this period")
    statement.add_argument("--as-of", metavar="TIMESTAMP",
                           help="evaluate as seen at this ISO 8601 time with a UTC offset"
                                " (default: now)")
    statement.add_argument("--format", choices=("html", "json", "csv"), default="html",
                           help="output format (default: html)")
    statement.add_argument("--lang", choices=tuple(LANGUAGES), default="en",
                           help="language of the payslip text (default: en)")
    statement.add_argument("--rounding", choices=("half-up", "half-even"),
                           help="override the plan's rounding mode")
    statement.add_argument("--output-dir", metavar="DIR",
                           help="write one file per payslip, named PAYEE-PERIOD.FORMAT,"
                                " into this existing folder")
    _add_limit_option(statement)
    statement.set_defaults(handler=_command_statement)

    check_result = commands.add_parser(
        "verify", help="recompute a stored JSON result and report a match or the first"
                       " difference (exit 0 or 1)")
    check_result.add_argument("result", metavar="RESULT",
                              help="the JSON that run --format json or statement"
                                   " --format json wrote")
    check_result.add_argument("plan", metavar="PLAN", help="the plan file")
    check_result.add_argument("records", metavar="RECORDS",
                              help="JSON Lines records, or - for stdin")
    _add_limit_option(check_result)
    check_result.set_defaults(handler=_command_verify)

    schema = commands.add_parser(
        "schema", help="print the JSON Schema of a record type, of results or of payslips")
    schema.add_argument("type", metavar="TYPE", nargs="?", choices=_SCHEMA_TYPES,
                        help=f"one of {', '.join(_SCHEMA_TYPES)} (default: one document"
                             " with all of them, validating any one record)")
    schema.set_defaults(handler=_command_schema)

    test = commands.add_parser(
        "test", help="run a plan file's examples and search for breaks of its invariants")
    test.add_argument("plan", metavar="PLAN", help="the plan file")
    test.add_argument("--max-examples", type=_positive, default=200, metavar="N",
                      help="record sets to draw for each invariant (default: 200)")
    _add_limit_option(test)
    test.set_defaults(handler=_command_test)
    return parser


def _add_limit_option(command: argparse.ArgumentParser) -> None:
    defaults = ", ".join(f"{name} {getattr(DEFAULT_LIMITS, name)}" for name in Limits.names())
    command.add_argument(
        "--limit", type=_limit_setting, action="append", default=[], metavar="NAME=N",
        help=f"change one bound on the input, repeatable (defaults: {defaults})")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    for stream in (sys.stdout, sys.stderr):
        # A terminal that cannot show a character gets an escape, not a crash.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    # A command keeps every record and line until it has written its output,
    # so the cyclic collector's passes over them cost time and free little.
    # `run --format json` on 100,002 events took 5.1 s of CPU with them
    # paused and 6.8 s without, at the same peak memory.
    with collector.paused():
        return _run_handler(args)


def _run_handler(args: argparse.Namespace) -> int:
    """Run the parsed command; turn its errors into messages and an exit status."""
    try:
        status: int = args.handler(args)
        sys.stdout.flush()
    except _UsageError as exc:
        sys.stderr.write(_for_terminal(f"commission-engine: error: {exc}") + "\n")
        return 2
    except _InputError as exc:
        sys.stderr.write(_for_terminal(f"commission-engine: error: {exc}") + "\n")
        return 1
    except CommissionError as exc:
        sys.stderr.write(_for_terminal(str(exc)) + "\n")
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as exc:
        _silence_stdout()
        sys.stderr.write(f"commission-engine: error: cannot write the output: {exc.strerror}\n")
        return 1
    return status


def _for_terminal(message: str) -> str:
    """Escape the characters that would drive a terminal, and shorten each line of a message.

    The library's own messages already do so. This also covers text that
    the command line quotes itself, such as a file name or a stored value.
    """
    return "\n".join(shorten(escape_hidden(line), _MAX_MESSAGE_LINE)
                     for line in message.split("\n"))


# Characters of one line of a message; a longer line is cut, with its length.
_MAX_MESSAGE_LINE = 2000


def _silence_stdout() -> None:
    # Python flushes stdout again at exit. Pointing it at the null device keeps
    # that second flush from failing with a traceback.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
