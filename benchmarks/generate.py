"""Generate canonical records for the benchmarks, as JSON Lines, at a target event count.

The records have the shape of ``tests/cases/worked/*.jsonl`` and pass the
library's validation. One line is one event (a record of any type), and the
generator stops after the first customer that brings the count to the target,
so a file contains the target count plus at most a few dozen lines.

What the data contains:

- Reps: ``events // 100`` of them, at least 30 and at most 10,000, in the
  zones Asia/Shanghai, America/Los_Angeles, Europe/Berlin, America/New_York
  and Australia/Sydney. About one rep in ten is a manager of others.
- Customers created from 2023-12 to 2025-12 in increasing order. About 10%
  are referred by an earlier customer, so a referrer's ``created_at`` is at
  or before that of the customer it referred.
- Contracts in CNY with cents, terms of 6 or 12 months, signed in 2024 and
  2025 (local dates). About 30% of customers return for a second or third
  contract, some signed by another rep, and about 1% of second contracts are
  signed at the same instant as the first, so the id decides which is first.
  Some signing times fall within an hour of local midnight.
- Monthly payments that split each contract amount exactly, the earliest
  taking the extra cents; payments after a full refund are left out.
- Refunds on about 5% of contracts: full or partial, within 90 days of
  signing or after, sometimes two partial refunds that may add up to the
  whole amount, and sometimes a refund of one named payment.
- Surveys on about 85% of contracts. The first score is at least 90 for
  about 30% of them and below 70 for about 20%. Some contracts have a second
  survey, about 2% of them at the same instant as the first.

Ids are not zero-padded (``K9`` sorts after ``K10``), so code that orders
ties by number instead of by text gives different results. Timestamps carry
the UTC offset of the rep's zone, or ``Z`` for about a quarter of them.

Usage::

    python benchmarks/generate.py --events 100000 --seed 7 --output /tmp/records.jsonl

Every draw comes from ``random.Random(seed).random()``, so the same seed gives
the same file on every run.
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import json
import os
import random
import sys
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

__all__ = ["generate_records", "rep_count", "write_jsonl"]

ZONE_WEIGHTS = (
    ("Asia/Shanghai", 0.40),
    ("America/Los_Angeles", 0.15),
    ("Europe/Berlin", 0.15),
    ("America/New_York", 0.15),
    ("Australia/Sydney", 0.15),
)
TEAMS = {
    "Asia/Shanghai": (("HQ", "Beijing"), ("South", "Chengdu"), ("East", "Shanghai")),
    "America/Los_Angeles": (("West", "Los Angeles"), ("West", "Seattle")),
    "Europe/Berlin": (("Europe", "Berlin"), ("Europe", "Munich")),
    "America/New_York": (("East Coast", "New York"), ("East Coast", "Boston")),
    "Australia/Sydney": (("Pacific", "Sydney"), ("Pacific", "Melbourne")),
}
PRODUCT_WEIGHTS = (
    ("individual", 0.35),
    ("couple", 0.15),
    ("family", 0.15),
    ("marriage-repair", 0.25),
    ("teen", 0.10),
)
# Contract amounts in CNY before the cents are drawn.
PRICE_POINTS = (800, 1500, 2400, 3600, 6000, 9800, 12000, 18000, 24000, 36000, 60000)
REFUND_REASONS = ("moved away", "fewer sessions than planned", "complaint upheld",
                  "changed counsellor", "financial hardship")

FIRST_SIGNING_DAY = date(2024, 1, 1)
LAST_SIGNING_DAY = date(2025, 12, 31)
FIRST_CREATION_DAY = date(2023, 12, 1)

MIN_REPS = 30
MAX_REPS = 10_000


def rep_count(events: int) -> int:
    """Return the number of reps for a target event count: one per 100 events, 30 to 10,000."""
    return max(MIN_REPS, min(MAX_REPS, events // 100))


def add_months(day: date, months: int) -> date:
    """Add whole months to a date, clipping to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def split_cents(total_cents: int, parts: int) -> list[int]:
    """Split an amount in cents into parts that differ by at most one, the earliest larger."""
    base, extra = divmod(total_cents, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def money_text(cents: int) -> str:
    """Write an amount in cents as an exact decimal string with two places."""
    return format(Decimal(cents).scaleb(-2), "f")


class _Draws:
    """Random draws built only on ``random.Random.random()``, whose sequence is stable."""

    def __init__(self, seed: int):
        self._random = random.Random(seed).random

    def chance(self, probability: float) -> bool:
        return self._random() < probability

    def integer(self, low: int, high: int) -> int:
        """Draw an integer from ``low`` to ``high``, both included."""
        return low + int(self._random() * (high - low + 1))

    def pick(self, items: tuple[Any, ...] | list[Any]) -> Any:
        return items[int(self._random() * len(items))]

    def weighted(self, pairs: tuple[tuple[Any, float], ...]) -> Any:
        point = self._random() * sum(weight for _, weight in pairs)
        for item, weight in pairs:
            point -= weight
            if point < 0:
                return item
        return pairs[-1][0]

    def fraction(self) -> float:
        return self._random()


class _Generator:
    def __init__(self, events: int, seed: int):
        self.events = events
        self.draws = _Draws(seed)
        self.zones = {name: ZoneInfo(name) for name, _ in ZONE_WEIGHTS}
        self.rep_zones: list[str] = []
        self.customers = 0
        self.creation_dates: list[date] = []
        self.counters = {"K": 0, "P": 0, "F": 0, "Q": 0}

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]}"

    def stamp(self, moment: datetime, zone_name: str) -> str:
        """Write an instant with the zone's UTC offset, or in UTC with ``Z`` about a quarter of the time."""
        if self.draws.chance(0.25):
            return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return moment.astimezone(self.zones[zone_name]).isoformat()

    # ---- reps

    def reps(self) -> Iterator[dict[str, Any]]:
        count = rep_count(self.events)
        managers = max(1, count // 10)
        for number in range(1, count + 1):
            zone_name = self.draws.weighted(ZONE_WEIGHTS)
            team, region = self.draws.pick(TEAMS[zone_name])
            manager = None
            if number > managers and self.draws.chance(0.8):
                manager = f"R{self.draws.integer(1, managers)}"
            self.rep_zones.append(zone_name)
            yield {"type": "rep", "id": f"R{number}", "name": f"Rep {number}",
                   "timezone": zone_name, "kind": "staff" if self.draws.chance(0.7) else "agent",
                   "team": team, "region": region, "manager": manager}

    def random_rep(self) -> str:
        return f"R{self.draws.integer(1, len(self.rep_zones))}"

    def zone_of(self, rep_id: str) -> str:
        return self.rep_zones[int(rep_id[1:]) - 1]

    # ---- customers and what follows from them

    def creation_days(self) -> Iterator[date]:
        """Yield customer creation dates in increasing order, spread over the whole range."""
        # A customer brings about 14.6 records with its contracts and their
        # events, so this many customers reach the target count.
        expected = max(1, (self.events - len(self.rep_zones)) * 10 // 146)
        span = (LAST_SIGNING_DAY - timedelta(days=14) - FIRST_CREATION_DAY).days
        index = 0
        while True:
            offset = min(span, int((index + self.draws.fraction()) * span / expected))
            yield FIRST_CREATION_DAY + timedelta(days=offset)
            index += 1

    def local_time(self, day: date, zone_name: str, near_midnight: float) -> datetime:
        """Draw a local time of day, avoiding 01:00-04:59 where daylight saving moves clocks."""
        if self.draws.chance(near_midnight):
            if self.draws.chance(0.5):
                clock = time(23, self.draws.integer(0, 59), self.draws.integer(0, 59))
            else:
                clock = time(0, self.draws.integer(0, 59), self.draws.integer(0, 59))
        else:
            clock = time(self.draws.integer(8, 21), self.draws.integer(0, 59),
                         self.draws.integer(0, 59))
        return datetime.combine(day, clock, tzinfo=self.zones[zone_name])

    def customer_records(self, created: date) -> list[dict[str, Any]]:
        self.customers += 1
        customer_id = f"C{self.customers}"
        owner = self.random_rep()
        owner_zone = self.zone_of(owner)
        # A referrer comes from the customers created two or more local days
        # earlier: zone offsets and times of day cannot put it after this one.
        referred_by = None
        earlier = bisect.bisect_right(self.creation_dates, created - timedelta(days=2))
        if earlier and self.draws.chance(0.10):
            referred_by = f"C{self.draws.integer(1, earlier)}"
        self.creation_dates.append(created)
        created_at = self.local_time(created, owner_zone, 0.0)

        records: list[dict[str, Any]] = [
            {"type": "customer", "id": customer_id, "owner": owner, "referred_by": referred_by,
             "created_at": self.stamp(created_at, owner_zone)},
        ]

        roll = self.draws.fraction()
        if roll < 0.70:
            contract_count = 1
        elif roll < 0.90:
            contract_count = 2
        else:
            contract_count = 3
        day = max(FIRST_SIGNING_DAY, created + timedelta(days=self.draws.integer(0, 20)))
        previous: datetime | None = None
        for number in range(contract_count):
            rep = owner if number == 0 or self.draws.chance(0.8) else self.random_rep()
            zone_name = self.zone_of(rep)
            if number == 1 and previous is not None and self.draws.chance(0.01):
                signed = previous
            else:
                if number > 0:
                    day = day + timedelta(days=self.draws.integer(10, 300))
                if day > LAST_SIGNING_DAY:
                    break
                signed = self.local_time(day, zone_name, 0.05)
            previous = signed
            records.extend(self.contract_records(customer_id, rep, zone_name, signed))
        return records

    def contract_records(self, customer_id: str, rep: str, zone_name: str,
                         signed: datetime) -> list[dict[str, Any]]:
        contract_id = self.next_id("K")
        price = self.draws.pick(PRICE_POINTS)
        cents = price * 100
        if self.draws.chance(0.5):
            cents += self.draws.integer(-price * 10, price * 10)
        term = 6 if self.draws.chance(0.5) else 12
        records: list[dict[str, Any]] = [
            {"type": "contract", "id": contract_id, "customer": customer_id, "rep": rep,
             "product": self.draws.weighted(PRODUCT_WEIGHTS), "amount": money_text(cents),
             "currency": "CNY", "signed_at": self.stamp(signed, zone_name),
             "term_months": term},
        ]
        refunds = self.refund_plan(cents, signed)
        stop_at = None
        if refunds and sum(amount for amount, _ in refunds) == cents:
            stop_at = refunds[-1][1]
        local_signed = signed.astimezone(self.zones[zone_name])
        payments: list[tuple[str, int, datetime]] = []
        for index, part in enumerate(split_cents(cents, term)):
            paid = datetime.combine(add_months(local_signed.date(), index),
                                    local_signed.timetz())
            if stop_at is not None and paid > stop_at:
                break
            payment_id = self.next_id("P")
            payments.append((payment_id, part, paid))
            records.append({"type": "payment", "id": payment_id, "contract": contract_id,
                            "amount": money_text(part), "paid_at": self.stamp(paid, zone_name)})
        records.extend(self.refund_records(contract_id, zone_name, cents, refunds, payments))
        records.extend(self.survey_records(contract_id, zone_name, signed))
        return records

    def refund_plan(self, cents: int, signed: datetime) -> list[tuple[int, datetime]]:
        """Draw the refunds of a contract as (amount in cents, time), in time order."""
        if not self.draws.chance(0.05):
            return []

        def when() -> datetime:
            if self.draws.chance(0.5):
                days = self.draws.integer(1, 88)
            else:
                days = self.draws.integer(95, 330)
            return signed + timedelta(days=days, seconds=self.draws.integer(0, 36_000))

        first_at = when()
        if self.draws.chance(0.5):
            return [(cents, first_at)]
        first = max(1, int(cents * (0.1 + 0.6 * self.draws.fraction())))
        if not self.draws.chance(0.25):
            return [(first, first_at)]
        second_at = first_at + timedelta(days=self.draws.integer(5, 60))
        rest = cents - first
        second = rest if self.draws.chance(0.4) else max(1, int(rest * self.draws.fraction()))
        return [(first, first_at), (second, second_at)]

    def refund_records(self, contract_id: str, zone_name: str, cents: int,
                       refunds: list[tuple[int, datetime]],
                       payments: list[tuple[str, int, datetime]]) -> list[dict[str, Any]]:
        records = []
        for amount, at in refunds:
            record: dict[str, Any] = {
                "type": "refund", "id": self.next_id("F"), "contract": contract_id,
                "amount": money_text(amount), "refunded_at": self.stamp(at, zone_name),
                "reason": self.draws.pick(REFUND_REASONS),
            }
            if len(refunds) == 1 and amount < cents and payments and self.draws.chance(0.2):
                # A refund of one named payment returns at most that payment.
                payment_id, paid, _ = payments[0]
                record["amount"] = money_text(min(amount, paid))
                record["payment"] = payment_id
            records.append(record)
        return records

    def survey_records(self, contract_id: str, zone_name: str,
                       signed: datetime) -> list[dict[str, Any]]:
        roll = self.draws.fraction()
        if roll < 0.15:
            return []
        band = self.draws.fraction()
        if band < 0.30:
            first_score = self.draws.integer(90, 100)
        elif band < 0.50:
            first_score = self.draws.integer(30, 69)
        else:
            first_score = self.draws.integer(70, 89)
        first_at = signed + timedelta(days=self.draws.integer(3, 120),
                                      seconds=self.draws.integer(0, 36_000))
        surveys = [(first_score, first_at)]
        if roll > 0.85:
            second_at = first_at
            if not self.draws.chance(0.02):
                second_at += timedelta(days=self.draws.integer(7, 90))
            surveys.append((self.draws.integer(20, 100), second_at))
        return [
            {"type": "satisfaction", "id": self.next_id("Q"), "contract": contract_id,
             "score": score, "surveyed_at": self.stamp(at, zone_name)}
            for score, at in surveys
        ]

    def records(self) -> Iterator[dict[str, Any]]:
        written = 0
        for record in self.reps():
            written += 1
            yield record
        for created in self.creation_days():
            if written >= self.events:
                return
            for record in self.customer_records(created):
                written += 1
                yield record


def generate_records(events: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Yield records (plain dicts, amounts as strings) until at least ``events`` are out."""
    if events < 1:
        msg = f"events must be at least 1, not {events}"
        raise ValueError(msg)
    return _Generator(events, seed).records()


def write_jsonl(out: TextIO, events: int, seed: int = 1) -> int:
    """Write the records of ``generate_records`` as JSON Lines; return how many were written."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    count = 0
    buffer: list[str] = []
    for record in generate_records(events, seed):
        buffer.append(encode(record))
        count += 1
        if len(buffer) >= 10_000:
            out.write("\n".join(buffer) + "\n")
            buffer.clear()
    if buffer:
        out.write("\n".join(buffer) + "\n")
    return count


def write_output(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Write the records to standard output or to ``--output``; return how many were written."""
    if args.output == "-":
        if sys.stdout is None:
            # Python sets sys.stdout to None when the process starts with it closed.
            raise OSError("standard output is closed; pass --output FILE")
        count = write_jsonl(sys.stdout, args.events, args.seed)
        # Flush here, so that a full disk raises inside main and not at exit.
        sys.stdout.flush()
        return count
    from benchmarks.arguments import check_output

    path = check_output(parser, "--output", args.output, "records.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("w", encoding="utf-8") as handle:
            return write_jsonl(handle, args.events, args.seed)
    except OSError:
        # A cut-off file would pass for a whole one when read back. A device
        # such as /dev/full is not a regular file and stays.
        if path.is_file():
            path.unlink()
        raise


def _silence_stdout() -> None:
    # Python flushes stdout again at exit. Pointing it at the null device keeps
    # that second flush from failing with a traceback.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    # The repository root, for the shared argument checks (standard library only).
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.arguments import MAX_EVENTS, count, whole_number

    parser = argparse.ArgumentParser(description="Generate benchmark records as JSON Lines.")
    parser.add_argument("--events", type=count(10_000, MAX_EVENTS), default=10_000,
                        help=f"target number of records (lines) to write, from 1 to"
                             f" {MAX_EVENTS:,} (default: 10000)")
    parser.add_argument("--seed", type=whole_number(7), default=1,
                        help="seed of the random draws (default: 1)")
    parser.add_argument("--output", "-o", default="-",
                        help="file to write, or - for standard output (default: -);"
                             " missing folders are created")
    args = parser.parse_args(argv)
    try:
        count = write_output(parser, args)
    except BrokenPipeError:
        # The reader closed the pipe early, as ``head`` does, so end quietly as Unix tools do.
        _silence_stdout()
        return 0
    except OSError as exc:
        if args.output == "-" and sys.stdout is not None:
            _silence_stdout()
        print(f"{parser.prog}: error: cannot write the output: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"wrote {count} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
