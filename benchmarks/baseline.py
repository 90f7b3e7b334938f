"""The reference plan "counselling-2025", computed by hand over plain record dicts.

This module is the yardstick of the benchmarks. It does not use
``commission_engine``: every rule of ``examples/counselling/counselling-2025.plan``
is written out here in plain Python with ``Decimal``, from the rules as
``docs/language.md`` states them:

- base: a first-match rate table on the contract amount, with the signing
  date taken in the rep's zone. A new customer's "marriage-repair" contract
  signed on or after 2025-03-01 earns 10%, another new customer's contract 8%
  and a returning customer's 12%. The commission is rounded once and allocated over
  ``term_months`` installments. Installment k falls due at local midnight of
  the signing date plus k months, clipped to the month's end.
- refunds: each refund sets the entitlement to the rate times the net amount,
  rounded once. Installments due at or before the refund stay paid and the
  unpaid ones are re-spread over what is left of the entitlement. When more
  was paid than the entitlement, the excess is clawed back in the refund's
  period if the refund's local date is at most 90 days after the signing date.
- satisfaction bonus and dissatisfaction penalty: 2% of the amount when the
  first survey scores at least 90, minus 10% of the base commission when it
  scores below 70, in the period of that survey.
- retention: a rep's cohort of month M is its new customers' contracts signed
  in M. A member is retained unless its refunds before local midnight of the
  signing date plus 3 months add up to its whole amount. Once every member's
  window has closed at the as-of time, a retention of at least 80% by count
  pays 1% of the retained amounts in month M+3.
- referral: 3% of a new customer's contract to the owner of the customer
  that referred it, in the signing month in that owner's zone.

A customer is new on its first contract, by signing time and then id, among
the contracts signed at or before the as-of time. Only records dated at or
before the as-of time count. Lines due after the as-of time are left out,
and the totals are summed by payee and period (or by payee, period and kind).

The computation runs in three steps so the benchmark peers can replace the
rate table alone: ``prepare`` indexes the records, ``rate_facts`` lists the
inputs of the rate table for each contract, and ``finish`` turns the rates
into lines and totals. ``compute_totals`` runs the three with the hand-written
table ``hand_written_rates``.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "ContractFacts",
    "Prepared",
    "RateFacts",
    "compute_totals",
    "finish",
    "hand_written_rates",
    "prepare",
    "rate_facts",
    "read_dicts",
    "totals_from_file",
]

CENT = Decimal("0.01")
ROUNDING = {"half-up": ROUND_HALF_UP, "half-even": ROUND_HALF_EVEN}
# 60 digits hold every product of an amount below 10**18 and a rate exactly.
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN,
                traps=[InvalidOperation, DivisionByZero, Overflow])

MARRIAGE_REPAIR_FROM = date(2025, 3, 1)
CLAWBACK_DAYS = 90
RETENTION_MONTHS = 3
BONUS_RATE = Decimal("0.02")
PENALTY_RATE = Decimal("0.10")
COHORT_RATE = Decimal("0.01")
REFERRAL_RATE = Decimal("0.03")

# Inputs of the rate table for one contract: product, new customer or not,
# and the signing date in the rep's zone as the integer YYYYMMDD.
RateFacts = tuple[str, bool, int]
Totals = dict[tuple[str, ...], Decimal]


@dataclass(slots=True)
class ContractFacts:
    """A visible contract with what the rules read of it."""

    id: str
    rep: str
    zone: ZoneInfo
    customer: str
    product: str
    amount: Decimal
    signed: datetime
    term: int
    signing_day: date
    new_customer: bool = False
    # (refunded_at, id, amount) of the visible refunds, in time order, then id.
    refunds: list[tuple[datetime, str, Decimal]] = field(default_factory=list)
    # (surveyed_at, id, score) of the first visible survey.
    first_survey: tuple[datetime, str, int] | None = None


@dataclass(slots=True)
class Prepared:
    """The records indexed for the rules, as seen at ``as_of``."""

    as_of: datetime
    zones: dict[str, ZoneInfo]
    owners: dict[str, str]
    referrers: dict[str, str | None]
    contracts: list[ContractFacts]


# ---------------------------------------------------------------- calendar


def add_months(day: date, months: int) -> date:
    """Add whole months to a date, clipping to the last day of the target month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return 00:00 of a local date in the zone.

    NOTE: a zone whose clocks skip midnight for daylight saving would need the
    first existing time of the day instead. None of the generated zones does.
    """
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# ---------------------------------------------------------------- reading


def read_dicts(path: str | Path) -> list[dict[str, Any]]:
    """Read JSON Lines into dicts, with JSON numbers as ``Decimal``."""
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]


def prepare(rows: Iterable[Mapping[str, Any]], as_of: datetime) -> Prepared:
    """Index the records that are visible at ``as_of``."""
    zone_cache: dict[str, ZoneInfo] = {}
    zones: dict[str, ZoneInfo] = {}
    owners: dict[str, str] = {}
    referrers: dict[str, str | None] = {}
    contracts: dict[str, dict[str, Any]] = {}
    refunds: list[Mapping[str, Any]] = []
    surveys: list[Mapping[str, Any]] = []
    parse = datetime.fromisoformat
    for row in rows:
        kind = row["type"]
        if kind == "payment":
            continue
        if kind == "contract":
            signed = parse(row["signed_at"])
            if signed <= as_of:
                contracts[row["id"]] = {**row, "signed_at": signed}
        elif kind == "refund":
            refunds.append(row)
        elif kind == "satisfaction":
            surveys.append(row)
        elif kind == "customer":
            owners[row["id"]] = row["owner"]
            referrers[row["id"]] = row.get("referred_by")
        elif kind == "rep":
            name = row["timezone"]
            if name not in zone_cache:
                zone_cache[name] = ZoneInfo(name)
            zones[row["id"]] = zone_cache[name]

    facts: dict[str, ContractFacts] = {}
    first_of_customer: dict[str, tuple[datetime, str]] = {}
    for contract_id, row in contracts.items():
        zone = zones[row["rep"]]
        signed = row["signed_at"]
        facts[contract_id] = ContractFacts(
            contract_id, row["rep"], zone, row["customer"], row["product"],
            Decimal(row["amount"]), signed, int(row["term_months"]),
            signed.astimezone(zone).date(),
        )
        key = (signed, contract_id)
        first = first_of_customer.get(row["customer"])
        if first is None or key < first:
            first_of_customer[row["customer"]] = key
    for first_signed, contract_id in first_of_customer.values():
        facts[contract_id].new_customer = True

    for row in refunds:
        contract = facts.get(row["contract"])
        if contract is None:
            continue
        at = parse(row["refunded_at"])
        if at <= as_of:
            contract.refunds.append((at, row["id"], Decimal(row["amount"])))
    for row in surveys:
        contract = facts.get(row["contract"])
        if contract is None:
            continue
        at = parse(row["surveyed_at"])
        if at > as_of:
            continue
        survey = (at, row["id"], int(row["score"]))
        if contract.first_survey is None or survey[:2] < contract.first_survey[:2]:
            contract.first_survey = survey
    ordered = [facts[key] for key in sorted(facts)]
    for contract in ordered:
        if len(contract.refunds) > 1:
            contract.refunds.sort(key=lambda refund: (refund[0], refund[1]))
    return Prepared(as_of, zones, owners, referrers, ordered)


# ---------------------------------------------------------------- the rate table


def rate_facts(prepared: Prepared) -> list[RateFacts]:
    """List the rate table's inputs for each contract, in the order of ``prepared.contracts``."""
    return [
        (c.product, c.new_customer,
         c.signing_day.year * 10_000 + c.signing_day.month * 100 + c.signing_day.day)
        for c in prepared.contracts
    ]


_TEN, _EIGHT, _TWELVE = Decimal("0.10"), Decimal("0.08"), Decimal("0.12")
_MARRIAGE_REPAIR_FROM_NUMBER = 20250301


def hand_written_rates(facts: Sequence[RateFacts]) -> list[Decimal | None]:
    """Apply the base rate table, first match; None when no row matches."""
    rates: list[Decimal | None] = []
    for product, new_customer, signing_day in facts:
        if (new_customer and product == "marriage-repair"
                and signing_day >= _MARRIAGE_REPAIR_FROM_NUMBER):
            rates.append(_TEN)
        elif new_customer:
            rates.append(_EIGHT)
        else:
            rates.append(_TWELVE)
    return rates


# ---------------------------------------------------------------- lines and totals


def _allocate(total: Decimal, count: int) -> list[Decimal]:
    """Split a rounded amount into ``count`` cents-exact parts, the earliest taking extra cents."""
    units = int(total.scaleb(2))
    base, extra = divmod(units, count)
    return [Decimal(base + 1).scaleb(-2) if index < extra else Decimal(base).scaleb(-2)
            for index in range(count)]


def finish(prepared: Prepared, rates: Sequence[Decimal | None], rounding: str = "half-up",
           by_kind: bool = False) -> Totals:
    """Turn the rate of each contract into the plan's lines and sum them.

    ``rates`` lines up with ``prepared.contracts``. The keys of the result are
    (payee, period), or (payee, period, kind) when ``by_kind`` is true.
    """
    mode = ROUNDING[rounding]
    as_of = prepared.as_of
    totals: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)

    def add(payee: str, period: str, kind: str, amount: Decimal) -> None:
        key = (payee, period, kind) if by_kind else (payee, period)
        totals[key] += amount

    def round_money(amount: Decimal) -> Decimal:
        return amount.quantize(CENT, rounding=mode)

    cohorts: dict[tuple[str, str], list[ContractFacts]] = defaultdict(list)
    with localcontext(EXACT):
        for contract, rate in zip(prepared.contracts, rates, strict=True):
            commission = None
            if rate is not None:
                commission = round_money(rate * contract.amount)
                _base_lines(contract, rate, commission, as_of, round_money, add)
            if contract.first_survey is not None:
                _survey_lines(contract, commission, round_money, add)
            if contract.new_customer:
                cohorts[(contract.rep, period_of(contract.signing_day))].append(contract)
                _referral_line(prepared, contract, round_money, add)
        for (rep, period), members in sorted(cohorts.items()):
            _cohort_line(rep, period, members, as_of, round_money, add)
    return dict(totals)


def _base_lines(contract: ContractFacts, rate: Decimal, commission: Decimal, as_of: datetime,
                round_money: Callable[[Decimal], Decimal],
                add: Callable[[str, str, str, Decimal], None]) -> None:
    zone = contract.zone
    count = contract.term
    days = [add_months(contract.signing_day, k) for k in range(count)]
    dues = [local_midnight(day, zone) for day in days]
    amounts = _allocate(commission, count)
    paid = Decimal(0)
    refunded = Decimal(0)
    next_index = 0
    for at, _refund_id, refund_amount in contract.refunds:
        while next_index < count and dues[next_index] <= at:
            paid += amounts[next_index]
            next_index += 1
        refunded += refund_amount
        entitlement = round_money(rate * max(contract.amount - refunded, Decimal(0)))
        remaining = count - next_index
        if entitlement >= paid:
            if remaining:
                amounts[next_index:] = _allocate(entitlement - paid, remaining)
            continue
        amounts[next_index:] = [Decimal(0)] * remaining
        refund_day = at.astimezone(zone).date()
        if (refund_day - contract.signing_day).days <= CLAWBACK_DAYS:
            add(contract.rep, period_of(refund_day), "clawback", entitlement - paid)
            paid = entitlement
    for day, due, amount in zip(days, dues, amounts):
        if amount and due <= as_of:
            add(contract.rep, period_of(day), "installment", amount)


def _survey_lines(contract: ContractFacts, commission: Decimal | None,
                  round_money: Callable[[Decimal], Decimal],
                  add: Callable[[str, str, str, Decimal], None]) -> None:
    assert contract.first_survey is not None
    at, _survey_id, score = contract.first_survey
    period = period_of(at.astimezone(contract.zone).date())
    if score >= 90:
        bonus = round_money(BONUS_RATE * contract.amount)
        if bonus:
            add(contract.rep, period, "bonus", bonus)
    elif score < 70 and commission is not None:
        penalty = round_money(PENALTY_RATE * commission)
        if penalty:
            add(contract.rep, period, "penalty", -penalty)


def _referral_line(prepared: Prepared, contract: ContractFacts,
                   round_money: Callable[[Decimal], Decimal],
                   add: Callable[[str, str, str, Decimal], None]) -> None:
    referrer = prepared.referrers.get(contract.customer)
    if referrer is None:
        return
    owner = prepared.owners[referrer]
    amount = round_money(REFERRAL_RATE * contract.amount)
    if amount:
        day = contract.signed.astimezone(prepared.zones[owner]).date()
        add(owner, period_of(day), "referral", amount)


def _cohort_line(rep: str, period: str, members: list[ContractFacts], as_of: datetime,
                 round_money: Callable[[Decimal], Decimal],
                 add: Callable[[str, str, str, Decimal], None]) -> None:
    zone = members[0].zone
    windows = [local_midnight(add_months(c.signing_day, RETENTION_MONTHS), zone)
               for c in members]
    decided = max(windows)
    if decided > as_of:
        return
    retained_total = Decimal(0)
    retained = 0
    for contract, window_end in zip(members, windows):
        refunded = sum((amount for at, _id, amount in contract.refunds if at < window_end),
                       Decimal(0))
        if refunded < contract.amount:
            retained += 1
            retained_total += contract.amount
    # Retention of at least 80% by count, compared in integers.
    if retained * 5 < len(members) * 4:
        return
    amount = round_money(COHORT_RATE * retained_total)
    year, month = int(period[:4]), int(period[5:])
    payout_day = add_months(date(year, month, 1), RETENTION_MONTHS)
    due = max(decided, local_midnight(payout_day, zone))
    if amount and due <= as_of:
        add(rep, period_of(payout_day), "bonus", amount)


def compute_totals(rows: Iterable[Mapping[str, Any]], as_of: datetime,
                   rounding: str = "half-up", by_kind: bool = False) -> Totals:
    """Compute the plan over record dicts and sum the lines due at or before ``as_of``."""
    prepared = prepare(rows, as_of)
    return finish(prepared, hand_written_rates(rate_facts(prepared)), rounding, by_kind)


def totals_from_file(path: str | Path, as_of: datetime, rounding: str = "half-up") -> Totals:
    """Read a JSON Lines file and compute its totals by payee and period."""
    return compute_totals(read_dicts(path), as_of, rounding)
