"""Property tests: exact allocation, installment schedules, refunds and reproducibility.

The expected values come from independent models: integer minor units,
calendar month steps and a bisection for the first local instant of a day.
The tests never call the library's helpers for them, so a bug in a helper
cannot hide itself.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    localcontext,
)
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import commission_engine
from commission_engine import money

PLAN_PATH = (
    Path(__file__).resolve().parents[1] / "examples" / "counselling" / "counselling-2025.plan"
)
REFERENCE_CLAWBACK = "claw back overpayment within 90 days of signing"
CLAWBACK_DAYS = 90

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)
CENT = Decimal("0.01")

# America/Santiago starts daylight saving at local midnight, so its first
# instant of such a day is 01:00. The other zones change clocks at 02:00 or 03:00, if at all.
ZONES = (
    "Asia/Shanghai",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Australia/Sydney",
    "America/Santiago",
)
# UTC offsets written into record timestamps, independent of the rep's zone.
OFFSETS = tuple(
    timezone(delta)
    for delta in (
        timedelta(0),
        timedelta(hours=8),
        timedelta(hours=-8),
        timedelta(hours=-7),
        timedelta(hours=10),
        timedelta(hours=11),
        timedelta(hours=5, minutes=45),
        timedelta(hours=-3),
    )
)
PRODUCTS = ("individual", "marriage-repair", "family")

AMOUNT_TEXT = re.compile(r"-?\d+\.\d{2}")
PERIOD_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

# Evaluations take a few milliseconds each, so the evaluating tests have no deadline.
EVALUATION_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ---------------------------------------------------------------- plans and evaluation


@cache
def plan_text(clawback_line: str = REFERENCE_CLAWBACK) -> str:
    text = PLAN_PATH.read_text(encoding="utf-8")
    assert REFERENCE_CLAWBACK in text, "the reference plan no longer has its clawback line"
    return text.replace(REFERENCE_CLAWBACK, clawback_line)


@cache
def compiled_plan(clawback_line: str = REFERENCE_CLAWBACK) -> commission_engine.Plan:
    return commission_engine.load_plan(plan_text(clawback_line))


def evaluate(records: list[dict[str, Any]], as_of: datetime,
             clawback_line: str = REFERENCE_CLAWBACK) -> commission_engine.Result:
    record_set = commission_engine.load_records(records)
    return compiled_plan(clawback_line).evaluate(record_set, as_of)


# ---------------------------------------------------------------- independent models


def money_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def round_half_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months_clipped(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month_index = divmod(index, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def first_instant(day: date, zone_name: str) -> datetime:
    """Find the earliest UTC second whose local date in the zone is ``day``, by bisection."""
    zone = ZoneInfo(zone_name)
    midnight_utc = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())
    # Current UTC offsets lie within -12:00 and +14:00, so the first instant is in this range.
    low = midnight_utc - 15 * 3600
    high = midnight_utc + 13 * 3600

    def reached(seconds: int) -> bool:
        return datetime.fromtimestamp(seconds, timezone.utc).astimezone(zone).date() >= day

    assert not reached(low)
    assert reached(high)
    while high - low > 1:
        middle = (low + high) // 2
        if reached(middle):
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)


def local_day(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(ZoneInfo(zone_name)).date()


def new_customer_rate(product: str, signing_day: date) -> Decimal:
    """Return the reference plan's rate for a customer's first contract."""
    if product == "marriage-repair" and signing_day >= date(2025, 3, 1):
        return Decimal("0.10")
    return Decimal("0.08")


def split_cents(total_cents: int, count: int) -> list[int]:
    base, extra = divmod(total_cents, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


# ---------------------------------------------------------------- strategies


@st.composite
def signing_moments(draw: st.DrawFn) -> datetime:
    """Draw a timestamp with a fixed offset, biased to month ends, leap days and midnight."""
    year = draw(st.sampled_from((2024, 2025, 2026, 2028)))
    month = draw(st.integers(1, 12))
    last_day = calendar.monthrange(year, month)[1]
    day = draw(st.one_of(st.integers(1, last_day), st.integers(28, last_day)))
    hour, minute, second = draw(st.one_of(
        st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
        st.sampled_from(((0, 0, 0), (23, 59, 59))),
    ))
    offset = draw(st.sampled_from(OFFSETS))
    return datetime(year, month, day, hour, minute, second, tzinfo=offset)


def rep_record(rep_id: str, zone_name: str) -> dict[str, Any]:
    return {
        "type": "rep", "id": rep_id, "name": f"Rep {rep_id}", "timezone": zone_name,
        "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None,
    }


def customer_record(customer_id: str, owner: str, created_at: datetime,
                    referred_by: str | None = None) -> dict[str, Any]:
    return {
        "type": "customer", "id": customer_id, "owner": owner,
        "referred_by": referred_by, "created_at": created_at.isoformat(),
    }


def contract_record(contract_id: str, customer: str, rep: str, product: str, cents: int,
                    signed_at: datetime, term_months: int) -> dict[str, Any]:
    return {
        "type": "contract", "id": contract_id, "customer": customer, "rep": rep,
        "product": product, "amount": money_text(cents), "currency": "CNY",
        "signed_at": signed_at.isoformat(), "term_months": term_months,
    }


def refund_record(refund_id: str, contract: str, cents: int,
                  refunded_at: datetime) -> dict[str, Any]:
    return {
        "type": "refund", "id": refund_id, "contract": contract, "amount": money_text(cents),
        "refunded_at": refunded_at.isoformat(), "reason": "customer request",
    }


def survey_record(survey_id: str, contract: str, score: int,
                  surveyed_at: datetime) -> dict[str, Any]:
    return {
        "type": "satisfaction", "id": survey_id, "contract": contract, "score": score,
        "surveyed_at": surveyed_at.isoformat(),
    }


@dataclass(frozen=True)
class SingleContract:
    """One rep, one new customer and one contract, with the values the plan reads."""

    zone: str
    product: str
    cents: int
    term_months: int
    signed_at: datetime

    @property
    def signing_day(self) -> date:
        return local_day(self.signed_at, self.zone)

    @property
    def commission(self) -> Decimal:
        amount = Decimal(self.cents) / 100
        return round_half_up(new_customer_rate(self.product, self.signing_day) * amount)

    def records(self) -> list[dict[str, Any]]:
        created = self.signed_at - timedelta(days=30)
        return [
            rep_record("R1", self.zone),
            customer_record("C1", "R1", created),
            contract_record("K1", "C1", "R1", self.product, self.cents, self.signed_at,
                            self.term_months),
        ]


single_contracts = st.builds(
    SingleContract,
    zone=st.sampled_from(ZONES),
    product=st.sampled_from(PRODUCTS),
    cents=st.one_of(st.integers(1, 5_000), st.integers(1, 10**10)),
    term_months=st.integers(1, 24),
    signed_at=signing_moments(),
)


@dataclass(frozen=True)
class GeneratedRecords:
    records: list[dict[str, Any]]
    as_of: datetime


# Gaps between related events, in minutes: often zero so ties and same-instant
# events occur, otherwise up to about 400 days.
event_gaps = st.one_of(st.just(0), st.integers(0, 60 * 24 * 400))


@st.composite
def record_sets(draw: st.DrawFn) -> GeneratedRecords:
    """Draw reps, customers, contracts, refunds, surveys and referrals that load without error."""
    records: list[dict[str, Any]] = []
    moments: list[datetime] = []

    def moment_after(earlier: datetime) -> datetime:
        later = earlier + timedelta(minutes=draw(event_gaps))
        moments.append(later)
        return later.astimezone(draw(st.sampled_from(OFFSETS)))

    rep_ids = [f"R{index}" for index in range(draw(st.integers(1, 3)))]
    for rep_id in rep_ids:
        records.append(rep_record(rep_id, draw(st.sampled_from(ZONES))))

    start = datetime(2024, 11, 1, tzinfo=timezone.utc)
    creation_minutes = sorted(
        draw(st.lists(st.integers(0, 60 * 24 * 300), min_size=1, max_size=5))
    )
    customers: list[tuple[str, datetime]] = []
    for index, minutes in enumerate(creation_minutes):
        created_at = moment_after(start + timedelta(minutes=minutes))
        # A customer can only be referred by one created strictly earlier.
        referrers = [other for other, other_created in customers if other_created < created_at]
        referrer = draw(st.none() | st.sampled_from(referrers)) if referrers else None
        customer_id = f"C{index}"
        records.append(customer_record(customer_id, draw(st.sampled_from(rep_ids)),
                                       created_at, referrer))
        customers.append((customer_id, created_at))

    for contract_index in range(draw(st.integers(1, 6))):
        contract_id = f"K{contract_index}"
        customer_id, created_at = draw(st.sampled_from(customers))
        cents = draw(st.one_of(st.integers(1, 200), st.integers(100, 5_000_000)))
        signed_at = moment_after(created_at)
        records.append(contract_record(
            contract_id, customer_id, draw(st.sampled_from(rep_ids)),
            draw(st.sampled_from(PRODUCTS)), cents, signed_at, draw(st.integers(1, 24))))

        refundable = cents
        for refund_index in range(draw(st.integers(0, 2))):
            if refundable == 0:
                break
            refund_cents = draw(st.one_of(st.just(refundable), st.integers(1, refundable)))
            refundable -= refund_cents
            records.append(refund_record(f"F{contract_index}-{refund_index}", contract_id,
                                         refund_cents, moment_after(signed_at)))

        for survey_index in range(draw(st.integers(0, 2))):
            records.append(survey_record(f"Q{contract_index}-{survey_index}", contract_id,
                                         draw(st.integers(0, 100)), moment_after(signed_at)))

    as_of = draw(st.one_of(
        st.sampled_from((datetime(2025, 6, 1, tzinfo=timezone.utc), FAR_FUTURE)),
        # Exactly at an event, where "at or before as_of" decides what is visible.
        st.sampled_from(moments),
        st.datetimes(min_value=datetime(2024, 11, 1), max_value=datetime(2027, 12, 31),
                     timezones=st.just(timezone.utc)),
    ))
    return GeneratedRecords(records, as_of)


# A caller's own decimal context, with too few digits for most amounts.
low_precision_contexts = st.builds(
    Context,
    prec=st.integers(1, 6),
    rounding=st.sampled_from((ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, ROUND_DOWN,
                              ROUND_CEILING)),
)


# ---------------------------------------------------------------- 1. allocation

ALLOCATION_DIGITS = {"CNY": 2, "JPY": 0, "KWD": 3}


@settings(max_examples=200)
@given(
    currency=st.sampled_from(sorted(ALLOCATION_DIGITS)),
    units=st.one_of(st.integers(-2_000, 2_000), st.integers(-(10**15), 10**15)),
    count=st.integers(1, 600),
    normalized=st.booleans(),
)
def test_allocate_splits_total_exactly(currency: str, units: int, count: int,
                                       normalized: bool) -> None:
    digits = ALLOCATION_DIGITS[currency]
    quantum = Decimal(1).scaleb(-digits)
    total = Decimal(units).scaleb(-digits)
    if normalized:
        # The same value without trailing zeros, such as 1E+2 for 100.00.
        total = total.normalize()

    parts = money.allocate(total, count, currency)

    assert money.minor_digits(currency) == digits
    assert len(parts) == count
    assert sum(parts, Decimal(0)) == total
    assert max(parts) - min(parts) <= quantum
    magnitudes = [abs(part) for part in parts]
    # The earliest parts take the extra units, so magnitudes never grow along the parts.
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert all(part == 0 or (part < 0) == (units < 0) for part in parts)
    for part in parts:
        assert part.as_tuple().exponent == -digits, f"part {part} of {total} {currency}"


@settings(max_examples=100)
@given(
    currency=st.sampled_from(sorted(ALLOCATION_DIGITS)),
    units=st.integers(-(10**12), 10**12),
    count=st.integers(1, 600),
    caller_context=low_precision_contexts,
)
@example(currency="CNY", units=11, count=1, caller_context=Context(prec=1))
def test_allocate_ignores_caller_context(currency: str, units: int, count: int,
                                         caller_context: Context) -> None:
    total = Decimal(units).scaleb(-ALLOCATION_DIGITS[currency])
    expected = money.allocate(total, count, currency)

    with localcontext(caller_context):
        parts = money.allocate(total, count, currency)

    assert [str(part) for part in parts] == [str(part) for part in expected]


@settings(max_examples=300)
@given(
    currency=st.sampled_from(sorted(ALLOCATION_DIGITS)),
    coefficient=st.integers(-(10**18), 10**18),
    exponent=st.integers(-8, 4),
)
@example(currency="CNY", coefficient=0, exponent=-2)
@example(currency="JPY", coefficient=12, exponent=0)
@example(currency="CNY", coefficient=1, exponent=2)
def test_format_amount_writes_minor_digits(currency: str, coefficient: int,
                                           exponent: int) -> None:
    digits = ALLOCATION_DIGITS[currency]
    amount = Decimal(coefficient).scaleb(exponent)
    if coefficient == 0:
        amount = Decimal("-0").scaleb(exponent)
    # The evaluation context rounds half-even; amounts of lines are already exact.
    expected = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
    expected = abs(expected) if expected == 0 else expected

    text = money.format_amount(amount, currency)

    assert text == f"{expected:.{digits}f}"
    assert "E" not in text
    if Decimal(text) == 0:
        assert not text.startswith("-")


# ---------------------------------------------------------------- 2. installment schedule


def installment_lines(result: commission_engine.Result, contract_id: str = "K1") -> list[Any]:
    lines = [line for line in result.lines + result.schedule
             if line.rule == "base" and line.kind == "installment"
             and line.sources[0] == contract_id]
    return sorted(lines, key=lambda line: line.due)


def installment_number(line: Any) -> int:
    for step in line.explanation:
        if step.code == "installment":
            return int(dict(step.values)["number"])
    raise AssertionError(f"line {line.to_dict()} has no installment step")


def installment_due_day(line: Any) -> str:
    for step in line.explanation:
        if step.code == "installment":
            return dict(step.values)["due"]
    raise AssertionError(f"line {line.to_dict()} has no installment step")


@EVALUATION_SETTINGS
@given(contract=single_contracts)
def test_installments_sum_to_rounded_commission(contract: SingleContract) -> None:
    result = evaluate(contract.records(), FAR_FUTURE)
    lines = installment_lines(result)
    commission_cents = int(contract.commission * 100)

    assert result.schedule == ()
    assert sum((line.amount for line in lines), Decimal(0)) == contract.commission
    # Installments of 0.00 are dropped, so a commission below one cent a month has fewer lines.
    assert len(lines) == min(contract.term_months, commission_cents)
    if lines:
        amounts = [line.amount for line in lines]
        assert max(amounts) - min(amounts) <= CENT


@EVALUATION_SETTINGS
@given(contract=single_contracts)
def test_installments_fall_due_monthly_from_signing(contract: SingleContract) -> None:
    result = evaluate(contract.records(), FAR_FUTURE)
    lines = installment_lines(result)

    for k, line in enumerate(lines):
        due_day = add_months_clipped(contract.signing_day, k)
        assert installment_number(line) == k + 1
        assert line.period == period_text(due_day)
        assert installment_due_day(line) == due_day.isoformat()
        assert line.due == first_instant(due_day, contract.zone), f"installment {k + 1}"
    periods = [line.period for line in lines]
    assert len(set(periods)) == len(periods), "one installment per month"


# ---------------------------------------------------------------- 3. order independence


@EVALUATION_SETTINGS
@given(data=st.data())
def test_result_independent_of_record_order(data: st.DataObject) -> None:
    generated = data.draw(record_sets(), label="records")
    shuffled = data.draw(st.permutations(generated.records), label="shuffled")

    first = evaluate(generated.records, generated.as_of)
    second = evaluate(list(shuffled), generated.as_of)

    assert second.to_json() == first.to_json()
    assert second.digest == first.digest


# ---------------------------------------------------------------- 4. digest


@EVALUATION_SETTINGS
@given(data=st.data())
def test_digest_repeats_and_tracks_amounts(data: st.DataObject) -> None:
    generated = data.draw(record_sets(), label="records")
    contract_positions = [index for index, record in enumerate(generated.records)
                          if record["type"] == "contract"]
    position = data.draw(st.sampled_from(contract_positions), label="changed contract")
    increase_cents = data.draw(st.integers(1, 1_000_000), label="increase in cents")

    first = evaluate(generated.records, generated.as_of)
    again = evaluate(generated.records, generated.as_of)
    assert again.digest == first.digest
    assert again.to_json() == first.to_json()

    changed = [dict(record) for record in generated.records]
    old_cents = int(Decimal(changed[position]["amount"]) * 100)
    # Raising a contract amount keeps its refunds within the amount, so the records stay valid.
    changed[position]["amount"] = money_text(old_cents + increase_cents)
    assert evaluate(changed, generated.as_of).digest != first.digest


# ---------------------------------------------------------------- the caller's decimal context


def one_refund_records(contract_cents: int, refund_cents: int) -> list[dict[str, Any]]:
    signed_at = datetime(2025, 1, 15, 10, tzinfo=timezone(timedelta(hours=8)))
    contract = SingleContract("Asia/Shanghai", "individual", contract_cents, 12, signed_at)
    return [*contract.records(),
            refund_record("F1", "K1", refund_cents, signed_at + timedelta(days=10))]


@EVALUATION_SETTINGS
@given(generated=record_sets(), caller_context=low_precision_contexts)
def test_evaluate_ignores_caller_context(generated: GeneratedRecords,
                                         caller_context: Context) -> None:
    record_set = commission_engine.load_records(generated.records)
    plan = compiled_plan()
    expected = plan.evaluate(record_set, generated.as_of)

    with localcontext(caller_context):
        result = plan.evaluate(record_set, generated.as_of)
        text = result.to_json()

    assert text == expected.to_json()


@EVALUATION_SETTINGS
@given(generated=record_sets(), caller_context=low_precision_contexts)
@example(
    generated=GeneratedRecords(one_refund_records(123_500, 123_500), FAR_FUTURE),
    caller_context=Context(prec=3),
)
def test_load_records_ignores_caller_context(generated: GeneratedRecords,
                                             caller_context: Context) -> None:
    expected = commission_engine.load_records(generated.records).canonical()

    with localcontext(caller_context):
        loaded = commission_engine.load_records(generated.records)

    assert loaded.canonical() == expected


@settings(max_examples=50, deadline=None)
@given(
    contract_cents=st.integers(1, 10**9),
    excess_cents=st.integers(1, 100),
    caller_context=low_precision_contexts,
)
@example(contract_cents=1_000, excess_cents=1, caller_context=Context(prec=3))
def test_over_refund_rejected_in_any_context(contract_cents: int, excess_cents: int,
                                             caller_context: Context) -> None:
    records = one_refund_records(contract_cents, contract_cents + excess_cents)

    with localcontext(caller_context), pytest.raises(commission_engine.RecordError):
        commission_engine.load_records(records)


# ---------------------------------------------------------------- 5. refund entitlement


@dataclass(frozen=True)
class RefundedContract:
    contract: SingleContract
    refund_cents: int
    refunded_at: datetime

    def records(self) -> list[dict[str, Any]]:
        return [*self.contract.records(),
                refund_record("F1", "K1", self.refund_cents, self.refunded_at)]

    @property
    def entitlement(self) -> Decimal:
        net = Decimal(self.contract.cents - self.refund_cents) / 100
        return round_half_up(new_customer_rate(self.contract.product,
                                               self.contract.signing_day) * net)

    @property
    def paid_before_refund(self) -> Decimal:
        """Sum the installments due at or before the refund, as first scheduled."""
        contract = self.contract
        parts = split_cents(int(contract.commission * 100), contract.term_months)
        paid = 0
        for k, part in enumerate(parts):
            due = first_instant(add_months_clipped(contract.signing_day, k), contract.zone)
            if due <= self.refunded_at:
                paid += part
        return Decimal(paid) / 100

    @property
    def days_after_signing(self) -> int:
        return (local_day(self.refunded_at, self.contract.zone) - self.contract.signing_day).days


@st.composite
def refunded_contracts(draw: st.DrawFn) -> RefundedContract:
    contract = draw(single_contracts.filter(lambda c: c.cents >= 2))
    refund_cents = draw(st.integers(1, contract.cents - 1))
    day_seconds = 24 * 3600
    due_instants = [
        first_instant(add_months_clipped(contract.signing_day, k), contract.zone)
        for k in range(contract.term_months)
    ]
    later_dues = [due for due in due_instants if due >= contract.signed_at]
    choices = [
        st.integers(0, 800 * day_seconds).map(lambda s: contract.signed_at + timedelta(seconds=s)),
        # Around the 90-day clawback window.
        st.integers(87 * day_seconds, 93 * day_seconds).map(
            lambda s: contract.signed_at + timedelta(seconds=s)),
    ]
    if later_dues:
        # Exactly at an installment's due instant, or one second before it.
        choices.append(st.tuples(st.sampled_from(later_dues), st.sampled_from((0, -1))).map(
            lambda pair: max(contract.signed_at, pair[0] + timedelta(seconds=pair[1]))))
    refunded_at = draw(st.one_of(choices)).astimezone(draw(st.sampled_from(OFFSETS)))
    return RefundedContract(contract, refund_cents, refunded_at)


def base_rule_total(result: commission_engine.Result) -> Decimal:
    lines = [line for line in result.lines + result.schedule
             if line.rule == "base" and line.kind in ("installment", "clawback")]
    return sum((line.amount for line in lines), Decimal(0))


@EVALUATION_SETTINGS
@given(case=refunded_contracts())
def test_refund_keeps_at_least_entitlement(case: RefundedContract) -> None:
    total = base_rule_total(evaluate(case.records(), FAR_FUTURE))
    entitlement = case.entitlement
    paid = case.paid_before_refund
    within_window = case.days_after_signing <= CLAWBACK_DAYS

    assert total >= entitlement
    if within_window or paid <= entitlement:
        assert total == entitlement
    else:
        assert total == paid, "an overpayment outside the window is kept, not respread"


@EVALUATION_SETTINGS
@given(case=refunded_contracts())
def test_refund_clawback_always_reaches_entitlement(case: RefundedContract) -> None:
    result = evaluate(case.records(), FAR_FUTURE, "claw back overpayment always")
    assert base_rule_total(result) == case.entitlement


@EVALUATION_SETTINGS
@given(case=refunded_contracts())
def test_refund_clawback_never_keeps_overpayment(case: RefundedContract) -> None:
    result = evaluate(case.records(), FAR_FUTURE, "claw back overpayment never")
    assert base_rule_total(result) == max(case.entitlement, case.paid_before_refund)
    assert all(line.kind != "clawback" for line in result.lines)


@EVALUATION_SETTINGS
@given(case=refunded_contracts())
def test_clawback_line_dated_at_refund(case: RefundedContract) -> None:
    result = evaluate(case.records(), FAR_FUTURE, "claw back overpayment always")
    clawbacks = [line for line in result.lines if line.kind == "clawback"]
    overpaid = case.paid_before_refund - case.entitlement

    assert len(clawbacks) == (1 if overpaid > 0 else 0)
    for line in clawbacks:
        assert line.amount == -overpaid
        assert line.due == case.refunded_at
        assert line.period == period_text(local_day(case.refunded_at, case.contract.zone))
        assert line.sources == ("K1", "F1")


# ---------------------------------------------------------------- 6. line format


def check_line_format(line_data: dict[str, Any]) -> None:
    assert AMOUNT_TEXT.fullmatch(line_data["amount"]), f"amount {line_data['amount']!r}"
    assert Decimal(line_data["amount"]) != 0, f"zero line {line_data}"
    assert PERIOD_TEXT.fullmatch(line_data["period"]), f"period {line_data['period']!r}"


@EVALUATION_SETTINGS
@given(generated=record_sets())
def test_lines_are_nonzero_with_cents_and_month(generated: GeneratedRecords) -> None:
    for as_of in (generated.as_of, FAR_FUTURE):
        data = evaluate(generated.records, as_of).to_dict()
        for line_data in data["lines"] + data["schedule"]:
            check_line_format(line_data)
        for statement in data["statements"]:
            assert AMOUNT_TEXT.fullmatch(statement["total"]), f"total {statement['total']!r}"
            assert PERIOD_TEXT.fullmatch(statement["period"])
            for index in statement["lines"]:
                line_data = data["lines"][index]
                check_line_format(line_data)
                assert line_data["period"] == statement["period"]
                assert line_data["payee"] == statement["payee"]


@settings(max_examples=300)
@given(
    currency=st.sampled_from(sorted(ALLOCATION_DIGITS)),
    total=st.decimals(min_value=-(10**15), max_value=10**15, places=None,
                      allow_nan=False, allow_infinity=False),
    count=st.integers(1, 60),
)
def test_allocate_units_match_division(currency: str, total: Decimal, count: int) -> None:
    # The units of any total, at the minor unit or finer, as the division gives them.
    context = money.EVALUATION_CONTEXT
    quantum = Decimal(1).scaleb(-ALLOCATION_DIGITS[currency])
    units = int(context.divide(total.copy_abs(), quantum).to_integral_value(context=context))
    base, extra = divmod(units, count)
    sign = -1 if total < 0 else 1

    parts = money.allocate(total, count, currency)

    assert parts[-1] == quantum * sign * base
    assert parts[0] == quantum * sign * (base + (1 if extra else 0))
    assert sum(parts, Decimal(0)) == quantum * sign * units
