"""Compute commissions from the HR database and write statements and lines back.

    python examples/hr_system/hr_sync.py hr.db examples/counselling/counselling-2025.plan \
        --as-of 2025-06-30T23:59:59+08:00

The script reads reps, customers, contracts, payments, refunds and surveys,
and evaluates the plan as of the given time. It then brings the tables
``statements`` and ``payout_lines`` up to date. New rows are inserted, rows
whose values changed are updated, and rows the evaluation no longer
produces are deleted. Each evaluation's result, with its digest and input snapshot, is
kept in ``commission_runs``. Running it again on unchanged data writes
nothing. Customer names, phone numbers and survey comments are never read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from commission_engine import (
    CommissionError,
    PayoutLine,
    Plan,
    Result,
    load_plan,
    load_records,
)
from commission_engine.records import MAX_YEAR, MIN_YEAR, RecordSet, is_accepted_timestamp

# The columns read from each table, as the record fields they become. Only
# what the engine needs is selected, so personal data never leaves the database.
QUERIES = {
    "rep": "SELECT id, name, timezone, kind, team, region, manager FROM reps",
    "customer": "SELECT id, owner, referred_by, created_at FROM customers",
    "contract": ("SELECT id, customer, rep, product, amount, currency, signed_at, term_months"
                 " FROM contracts"),
    "payment": "SELECT id, contract, amount, paid_at FROM payments",
    "refund": "SELECT id, contract, amount, refunded_at, reason, payment FROM refunds",
    "satisfaction": "SELECT id, contract, score, surveyed_at FROM surveys",
}

LINE_COLUMNS = ("payee", "period", "kind", "rule", "amount", "currency", "due", "sources",
                "explanation_en", "explanation_zh")
STATEMENT_COLUMNS = ("currency", "total", "line_count")


@dataclass
class Changes:
    """Rows written to one table by one run."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return f"{self.inserted} inserted, {self.updated} updated, {self.deleted} deleted"

    @property
    def total(self) -> int:
        """The number of rows written."""
        return self.inserted + self.updated + self.deleted


def read_records(connection: sqlite3.Connection) -> RecordSet:
    """Load and validate every record the plan may need; raise ``RecordError`` if any is invalid."""
    rows: list[dict[str, Any]] = []
    positions: list[str] = []
    for record_type, query in QUERIES.items():
        cursor = connection.execute(query + " ORDER BY id")
        names = [column[0] for column in cursor.description]
        table = query.rsplit(" FROM ", 1)[1]
        for values in cursor:
            row = dict(zip(names, values, strict=True))
            rows.append({"type": record_type, **row})
            positions.append(f"table {table}, id {row['id']}")
    return load_records(rows, positions)


def line_key(line: PayoutLine, occurrence: int) -> str:
    """Name a line by what it pays for, so a re-run finds the same row.

    Two lines with the same payee, period, kind, rule, due time and sources
    are distinguished by ``occurrence`` (their order in the result, from 0).
    """
    identity = [line.payee, line.period, line.kind, line.rule,
                line.due.astimezone(timezone.utc).isoformat(), list(line.sources), occurrence]
    text = json.dumps(identity, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def line_rows(result: Result) -> dict[str, tuple[str | int, ...]]:
    """Return every statement line of the result as a table row, by its line key."""
    rows: dict[str, tuple[str | int, ...]] = {}
    seen: dict[tuple[Any, ...], int] = {}
    for line in result.lines:
        data = line.to_dict()
        identity = (line.payee, line.period, line.kind, line.rule, line.due, line.sources)
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        rows[line_key(line, occurrence)] = (
            line.payee, line.period, line.kind, line.rule, data["amount"], line.currency,
            data["due"], " ".join(line.sources), line.explain("en"), line.explain("zh-CN"),
        )
    return rows


def statement_rows(result: Result) -> dict[tuple[str, str], tuple[str | int, ...]]:
    """Return every statement of the result as a table row, by payee and period."""
    return {
        (statement.payee, statement.period): (
            statement.currency, statement.to_dict()["total"], len(statement.lines))
        for statement in result.statements
    }


def write_lines(connection: sqlite3.Connection, result: Result) -> Changes:
    changes = Changes()
    stored = {
        key: tuple(values)
        for key, *values in connection.execute(
            f"SELECT line_key, {', '.join(LINE_COLUMNS)} FROM payout_lines")
    }
    fresh = line_rows(result)
    for key, values in fresh.items():
        if key not in stored:
            connection.execute(
                f"INSERT INTO payout_lines (line_key, {', '.join(LINE_COLUMNS)}, digest)"
                f" VALUES ({', '.join('?' * (len(LINE_COLUMNS) + 2))})",
                (key, *values, result.digest))
            changes.inserted += 1
        elif stored[key] != values:
            assignments = ", ".join(f"{column} = ?" for column in LINE_COLUMNS)
            connection.execute(
                f"UPDATE payout_lines SET {assignments}, digest = ? WHERE line_key = ?",
                (*values, result.digest, key))
            changes.updated += 1
    for key in stored.keys() - fresh.keys():
        connection.execute("DELETE FROM payout_lines WHERE line_key = ?", (key,))
        changes.deleted += 1
    return changes


def write_statements(connection: sqlite3.Connection, result: Result) -> Changes:
    changes = Changes()
    stored = {
        (payee, period): (currency, total, count)
        for payee, period, currency, total, count in connection.execute(
            "SELECT payee, period, currency, total, line_count FROM statements")
    }
    fresh = statement_rows(result)
    for (payee, period), values in fresh.items():
        if (payee, period) not in stored:
            connection.execute("INSERT INTO statements VALUES (?, ?, ?, ?, ?, ?)",
                               (payee, period, *values, result.digest))
            changes.inserted += 1
        elif stored[(payee, period)] != values:
            connection.execute(
                "UPDATE statements SET currency = ?, total = ?, line_count = ?, digest = ?"
                " WHERE payee = ? AND period = ?",
                (*values, result.digest, payee, period))
            changes.updated += 1
    for payee, period in stored.keys() - fresh.keys():
        connection.execute("DELETE FROM statements WHERE payee = ? AND period = ?",
                           (payee, period))
        changes.deleted += 1
    return changes


def write_run(connection: sqlite3.Connection, result: Result) -> Changes:
    cursor = connection.execute(
        "INSERT OR IGNORE INTO commission_runs VALUES (?, ?, ?, ?, ?)",
        (result.digest, result.inputs["plan_sha256"], result.inputs["records_sha256"],
         result.inputs["as_of"], result.to_json()))
    return Changes(inserted=cursor.rowcount)


def sync(connection: sqlite3.Connection, plan: Plan, as_of: datetime) -> dict[str, Changes]:
    """Evaluate the plan over the database and write the result back, in one transaction."""
    records = read_records(connection)
    result = plan.evaluate(records, as_of)
    with connection:
        return {
            "commission_runs": write_run(connection, result),
            "statements": write_statements(connection, result),
            "payout_lines": write_lines(connection, result),
        }


def parse_as_of(parser: argparse.ArgumentParser, text: str) -> datetime:
    """Read --as-of as the commission-engine command does; exit 2 when it is wrong."""
    try:
        as_of = datetime.fromisoformat(text)
    except ValueError:
        parser.error(f"--as-of {text!r} is not an ISO 8601 timestamp;"
                     " write it like 2025-06-30T23:59:59+08:00")
    if as_of.tzinfo is None:
        parser.error(f"--as-of {text!r} has no UTC offset; add one, such as +08:00")
    if not is_accepted_timestamp(text):
        parser.error(f"--as-of {text!r} is not in the accepted ISO 8601 form (a calendar date,"
                     " T, the time and an offset); write it like 2025-06-30T23:59:59+08:00")
    if not MIN_YEAR <= as_of.year <= MAX_YEAR:
        parser.error(f"--as-of {text!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR}")
    return as_of


class PlanFileError(Exception):
    """A plan file that exists but is not text: exit status 1."""


def read_plan(parser: argparse.ArgumentParser, path: str) -> Plan:
    """Load the plan file, exiting with status 2 when it cannot be read.

    Raise ``PlanFileError`` for a file that is not UTF-8 and ``PlanError``
    for a plan with errors.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanFileError(f"cannot read {path}: the file is not UTF-8 text;"
                            " save the plan as UTF-8") from None
    except OSError as exc:
        parser.error(f"cannot read the plan {path}: {exc.strerror or exc}; check the path")
    return load_plan(text, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="the SQLite database (see schema.sql and seed.py)")
    parser.add_argument("plan", help="the plan file")
    parser.add_argument("--as-of", required=True, metavar="TIMESTAMP",
                        help="evaluate as seen at this ISO 8601 time with a UTC offset")
    args = parser.parse_args(argv)
    as_of = parse_as_of(parser, args.as_of)
    if not Path(args.database).is_file():
        parser.error(f"{args.database}: no such database; create it with seed.py")
    try:
        plan = read_plan(parser, args.plan)
    except (CommissionError, PlanFileError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    connection = sqlite3.connect(args.database)
    try:
        changes = sync(connection, plan, as_of)
    except CommissionError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except sqlite3.DatabaseError as exc:
        # A file that is not SQLite, or a database without the tables of schema.sql.
        sys.stderr.write(f"cannot read the database {args.database}: {exc};"
                         " pass a database created with schema.sql (see seed.py)\n")
        return 1
    finally:
        connection.close()
    written = sum(change.total for change in changes.values())
    for table, change in changes.items():
        sys.stdout.write(f"{table}: {change}\n")
    sys.stdout.write(f"{written} rows written\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
