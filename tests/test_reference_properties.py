"""Property tests of the reference counselling plan over generated record sets.

Each test generates a consistent record set: reps in Asia/Shanghai,
America/Los_Angeles and Europe/Berlin, customers with referrals, contracts
signed near month ends in UTC, refunds and surveys. It evaluates the plan
file examples/counselling/counselling-2025.plan at a far-future or a random
as-of time. Then it checks one rule of the plan against values computed here
from first principles: local dates through ``zoneinfo``, month steps with
clipping, and half-up rounding to cents. The library's own calendar and money
helpers are not used, so a bug in one of them cannot hide itself.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commission_engine import PayoutLine, Result, load_plan, load_records

PLAN_PATH = (
    Path(__file__).resolve().parents[1] / "examples" / "counselling" / "counselling-2025.plan"
)
FAR_FUTURE = datetime.fromisoformat("2030-01-01T00:00:00+08:00")
CENT = Decimal("0.01")

# Midnight exists every day in these zones, because Shanghai has no daylight
# saving and the other two change clocks at 02:00 or 03:00 local time.
ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin")
PRODUCTS = ("marriage-repair", "individual", "couple", "family")
# UTC offsets written into record timestamps, independent of the rep's zone.
OFFSETS = (
    timezone.utc,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-7)),
    timezone(timedelta(hours=1)),
    timezone(timedelta(hours=-8)),
)

# Rates and thresholds written in the reference plan.
NEW_MARRIAGE_REPAIR_RATE = Decimal("0.10")
NEW_MARRIAGE_REPAIR_FROM = date(2025, 3, 1)
NEW_CUSTOMER_RATE = Decimal("0.08")
RETURNING_CUSTOMER_RATE = Decimal("0.12")
PENALTY_SHARE = Decimal("0.10")
PENALTY_BELOW_SCORE = 70
RETENTION_MINIMUM = Decimal("0.8")
RETENTION_BONUS_SHARE = Decimal("0.01")
RETENTION_WINDOW_MONTHS = 3
RETENTION_PAYOUT_OFFSET_MONTHS = 3
REFERRAL_SHARE = Decimal("0.03")

SIGNING_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SIGNING_END = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Month starts from 2024-01 to 2025-12; signing times cluster around them.
MONTH_STARTS = tuple(
    datetime(2024 + index // 12, index % 12 + 1, 1, tzinfo=timezone.utc) for index in range(24)
)
AS_OF_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
AS_OF_END = datetime(2027, 7, 1, tzinfo=timezone.utc)

PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def reference_plan() -> Any:
    """Load the reference plan from its file once per test session."""
    return load_plan(PLAN_PATH.read_text(encoding="utf-8"), str(PLAN_PATH))


# ---------------------------------------------------------------- independent calendar and money


def local_date(moment: datetime, zone_name: str) -> date:
    return moment.astimezone(ZoneInfo(zone_name)).date()


def local_period(moment: datetime, zone_name: str) -> str:
    day = local_date(moment, zone_name)
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: date, months: int) -> date:
    """Add calendar months, clipping to the target month's last day (Jan 31 + 1 = Feb 28)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


def shift_period(period: str, months: int) -> str:
    shifted = add_months(date(int(period[:4]), int(period[5:7]), 1), months)
    return f"{shifted.year:04d}-{shifted.month:02d}"


def start_of_local_day(day: date, zone_name: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone_name))


def round_half_up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- generated records


@dataclass(frozen=True)
class RepSpec:
    id: str
    zone: str


@dataclass(frozen=True)
class CustomerSpec:
    id: str
    owner: str
    referred_by: str | None


@dataclass(frozen=True)
class ContractSpec:
    id: str
    customer: str
    rep: str
    product: str
    amount: Decimal
    signed_at: datetime
    term_months: int


@dataclass(frozen=True)
class RefundSpec:
    id: str
    contract: str
    amount: Decimal
    refunded_at: datetime


@dataclass(frozen=True)
class SurveySpec:
    id: str
    contract: str
    score: int
    surveyed_at: datetime


@dataclass(frozen=True)
class Scenario:
    """A consistent record set, kept both as typed specs and as raw record dictionaries."""

    reps: tuple[RepSpec, ...]
    customers: tuple[CustomerSpec, ...]
    contracts: tuple[ContractSpec, ...]
    refunds: tuple[RefundSpec, ...]
    surveys: tuple[SurveySpec, ...]
    raw: tuple[dict[str, Any], ...]

    def rep(self, rep_id: str) -> RepSpec:
        return next(rep for rep in self.reps if rep.id == rep_id)

    def customer(self, customer_id: str) -> CustomerSpec:
        return next(customer for customer in self.customers if customer.id == customer_id)

    def contract(self, contract_id: str) -> ContractSpec:
        return next(contract for contract in self.contracts if contract.id == contract_id)

    def visible_contracts(self, as_of: datetime) -> list[ContractSpec]:
        return [contract for contract in self.contracts if contract.signed_at <= as_of]

    def is_new_customer(self, contract: ContractSpec) -> bool:
        """Tell whether the contract is its customer's first by signing time, then id."""
        own = [c for c in self.contracts if c.customer == contract.customer]
        return min(own, key=lambda c: (c.signed_at, c.id)).id == contract.id

    def base_commission(self, contract: ContractSpec) -> Decimal:
        """Compute the base commission as signed: the first matching rate row, rounded once."""
        signing_day = local_date(contract.signed_at, self.rep(contract.rep).zone)
        new = self.is_new_customer(contract)
        if contract.product == "marriage-repair" and new and signing_day >= NEW_MARRIAGE_REPAIR_FROM:
            rate = NEW_MARRIAGE_REPAIR_RATE
        elif new:
            rate = NEW_CUSTOMER_RATE
        else:
            rate = RETURNING_CUSTOMER_RATE
        return round_half_up(rate * contract.amount)

    def without_refund(self, refund_id: str) -> Scenario:
        raw = tuple(
            record for record in self.raw
            if not (record["type"] == "refund" and record["id"] == refund_id)
        )
        refunds = tuple(refund for refund in self.refunds if refund.id != refund_id)
        return Scenario(self.reps, self.customers, self.contracts, refunds, self.surveys, raw)

    def event_times(self) -> list[datetime]:
        times = [contract.signed_at for contract in self.contracts]
        times += [refund.refunded_at for refund in self.refunds]
        times += [survey.surveyed_at for survey in self.surveys]
        return times


def timestamp_text(moment: datetime, offset: timezone) -> str:
    text = moment.astimezone(offset).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def seconds_between(start: datetime, end: datetime) -> st.SearchStrategy[datetime]:
    span = int((end - start).total_seconds())
    return st.builds(lambda s: start + timedelta(seconds=s), st.integers(0, span))


def near(moments: st.SearchStrategy[datetime], hours: int) -> st.SearchStrategy[datetime]:
    """Draw instants within ``hours`` of one drawn from ``moments``."""
    return st.builds(
        lambda moment, seconds: moment + timedelta(seconds=seconds),
        moments,
        st.integers(-hours * 3600, hours * 3600),
    )


def signing_times(months: list[datetime]) -> st.SearchStrategy[datetime]:
    """Signing instants: near a chosen month start in UTC, inside a chosen month, or anywhere."""
    inside_month = st.builds(
        lambda start, seconds: start + timedelta(seconds=seconds),
        st.sampled_from(months),
        st.integers(0, 27 * 24 * 3600),
    )
    # Signed at a local midnight, when the first installment falls due.
    at_local_midnight = st.builds(
        lambda start, days, zone_name: start_of_local_day(
            start.date() + timedelta(days=days), zone_name),
        st.sampled_from(months),
        st.integers(-1, 30),
        st.sampled_from(ZONES),
    )
    last_instant = SIGNING_END - timedelta(seconds=1)
    return st.one_of(
        near(st.sampled_from(months), 20),
        inside_month,
        at_local_midnight,
        seconds_between(SIGNING_START, SIGNING_END),
    ).map(lambda moment: min(max(moment, SIGNING_START), last_instant))


def event_delays() -> st.SearchStrategy[timedelta]:
    """Delays after signing, many of them near 90 days and 3 months, where windows close."""
    return st.one_of(
        st.builds(lambda s: timedelta(seconds=s), st.integers(0, 400 * 24 * 3600)),
        st.builds(lambda d, s: timedelta(days=d, seconds=s),
                  st.sampled_from([28, 29, 30, 31, 59, 61, 88, 89, 90, 91, 92]),
                  st.integers(-12 * 3600, 36 * 3600)),
    ).map(lambda delay: max(delay, timedelta(0)))


def refund_times(contract: ContractSpec, zone_name: str) -> st.SearchStrategy[datetime]:
    """Refund instants after signing, some within a second of a window's edge.

    The edges are the start of the signing local date plus 3 months (the
    retention window) and plus 91 days (the first day outside the 90-day
    clawback window), both in the rep's zone.
    """
    signing_day = local_date(contract.signed_at, zone_name)
    edges = [
        start_of_local_day(add_months(signing_day, RETENTION_WINDOW_MONTHS), zone_name),
        start_of_local_day(signing_day + timedelta(days=91), zone_name),
    ]
    at_edge = st.builds(lambda edge, seconds: edge + timedelta(seconds=seconds),
                        st.sampled_from(edges), st.integers(-1, 1))
    return st.one_of(st.builds(lambda delay: contract.signed_at + delay, event_delays()), at_edge)


def contract_cents() -> st.SearchStrategy[int]:
    """Contract amounts in cents from 100.00 to 50000.00, often a multiple of 0.50.

    Amounts ending in .50 make 3% and 1% shares end in exactly half a cent,
    where half-up and half-even rounding differ.
    """
    return st.one_of(st.integers(10_000, 5_000_000), st.integers(200, 100_000).map(lambda k: k * 50))


def survey_scores() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 100), st.sampled_from([0, 68, 69, 70, 71, 89, 90, 91, 100]))


@st.composite
def scenarios(draw: Any, refunds: bool = True, surveys: bool = True,
              min_refunds: int = 0) -> Scenario:
    """Draw a record set whose references, orderings and refund totals are all consistent.

    Every customer is created in 2023, before any contract, so a referrer is
    always visible when a contract it referred is.
    """
    zones = draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=3))
    reps = tuple(RepSpec(f"R{index + 1}", zone) for index, zone in enumerate(zones))

    customer_count = draw(st.integers(1, 6))
    customers = []
    for index in range(customer_count):
        owner = draw(st.sampled_from(reps)).id
        # Only an earlier customer can refer this one, because a referral
        # chain that loops back is invalid input.
        referred_by = None
        if index > 0:
            referrer_index = draw(st.none() | st.integers(0, index - 1))
            if referrer_index is not None:
                referred_by = f"C{referrer_index + 1}"
        customers.append(CustomerSpec(f"C{index + 1}", owner, referred_by))

    months = draw(st.lists(st.sampled_from(MONTH_STARTS), min_size=1, max_size=3))
    contract_fields = st.fixed_dictionaries({
        "customer": st.sampled_from(customers),
        "rep": st.sampled_from(reps),
        "product": st.sampled_from(PRODUCTS),
        "cents": contract_cents(),
        "signed_at": signing_times(months),
        "term_months": st.integers(1, 12),
    })
    drawn_contracts = draw(st.lists(contract_fields, min_size=1, max_size=10))
    contracts = [
        ContractSpec(f"K{index + 1}", fields["customer"].id, fields["rep"].id, fields["product"],
                     Decimal(fields["cents"]).scaleb(-2), fields["signed_at"], fields["term_months"])
        for index, fields in enumerate(drawn_contracts)
    ]
    if draw(st.booleans()):
        # A cohort of 5 to 8 new customers of one rep in one month, signed in
        # its middle so that every zone puts them in the same month. Random
        # months rarely give a cohort big enough to reach exactly 80%.
        rep = draw(st.sampled_from(reps))
        month = draw(st.sampled_from(months))
        for _ in range(draw(st.integers(5, 8))):
            customer = CustomerSpec(f"C{len(customers) + 1}", rep.id, None)
            customers.append(customer)
            signed_at = month + timedelta(days=10, seconds=draw(st.integers(0, 10 * 24 * 3600)))
            contracts.append(ContractSpec(
                f"K{len(contracts) + 1}", customer.id, rep.id, draw(st.sampled_from(PRODUCTS)),
                Decimal(draw(contract_cents())).scaleb(-2), signed_at,
                draw(st.integers(1, 12)),
            ))

    rep_zones = {rep.id: rep.zone for rep in reps}
    refund_specs = []
    if refunds:
        for contract in contracts:
            remaining = int(contract.amount * 100)
            for _ in range(draw(st.integers(0, 2))):
                if remaining == 0:
                    break
                full = draw(st.booleans())
                cents = remaining if full or remaining == 1 else draw(st.integers(1, remaining - 1))
                remaining -= cents
                refund_specs.append(RefundSpec(
                    f"F{len(refund_specs) + 1}", contract.id, Decimal(cents).scaleb(-2),
                    draw(refund_times(contract, rep_zones[contract.rep])),
                ))
    if len(refund_specs) < min_refunds:
        # A scenario drawn without refunds gets one full refund of its first
        # contract, so that every example has a refund to remove.
        first = contracts[0]
        refund_specs.append(RefundSpec("F1", first.id, first.amount,
                                       first.signed_at + draw(event_delays())))

    survey_specs = []
    if surveys:
        for contract in contracts:
            for _ in range(draw(st.integers(0, 2))):
                survey_specs.append(SurveySpec(
                    f"Q{len(survey_specs) + 1}", contract.id, draw(survey_scores()),
                    contract.signed_at + draw(event_delays()),
                ))

    offsets = st.sampled_from(OFFSETS)
    raw: list[dict[str, Any]] = []
    for rep in reps:
        raw.append({"type": "rep", "id": rep.id, "name": f"Rep {rep.id}", "timezone": rep.zone,
                    "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None})
    for customer in customers:
        raw.append({"type": "customer", "id": customer.id, "owner": customer.owner,
                    "referred_by": customer.referred_by,
                    "created_at": "2023-06-01T10:00:00+08:00"})
    for contract in contracts:
        raw.append({"type": "contract", "id": contract.id, "customer": contract.customer,
                    "rep": contract.rep, "product": contract.product,
                    "amount": format(contract.amount, "f"), "currency": "CNY",
                    "signed_at": timestamp_text(contract.signed_at, draw(offsets)),
                    "term_months": contract.term_months})
    for refund in refund_specs:
        raw.append({"type": "refund", "id": refund.id, "contract": refund.contract,
                    "amount": format(refund.amount, "f"),
                    "refunded_at": timestamp_text(refund.refunded_at, draw(offsets)),
                    "reason": "generated"})
    for survey in survey_specs:
        raw.append({"type": "satisfaction", "id": survey.id, "contract": survey.contract,
                    "score": survey.score,
                    "surveyed_at": timestamp_text(survey.surveyed_at, draw(offsets))})
    return Scenario(reps, tuple(customers), tuple(contracts), tuple(refund_specs),
                    tuple(survey_specs), tuple(raw))


def local_midnights() -> st.SearchStrategy[datetime]:
    """Local midnights in a rep zone, the instants installments and retention bonuses fall due."""
    return st.builds(
        start_of_local_day,
        st.dates(AS_OF_START.date(), AS_OF_END.date()),
        st.sampled_from(ZONES),
    )


def as_of_times(scenario: Scenario) -> st.SearchStrategy[datetime]:
    """As-of instants from 2024 to mid-2027: anywhere, at a local midnight, or near a record."""
    return st.one_of(
        seconds_between(AS_OF_START, AS_OF_END),
        local_midnights(),
        st.sampled_from(scenario.event_times()),
        near(st.sampled_from(scenario.event_times()), 3),
    ).map(lambda moment: moment.astimezone(timezone(timedelta(hours=8))))


def evaluate(scenario: Scenario, as_of: datetime) -> Result:
    return reference_plan().evaluate(load_records(list(scenario.raw)), as_of)


def all_lines(result: Result) -> tuple[PayoutLine, ...]:
    """Return the lines due by the as-of time followed by the scheduled ones."""
    return result.lines + result.schedule


def describe(lines: Any) -> list[str]:
    """Write each line as one short text, for readable assertion failures."""
    return [f"{line.payee} {line.period} {line.kind} {line.rule} {line.amount}"
            f" {','.join(line.sources)} due {line.due.isoformat()}" for line in lines]


def line_order(line: PayoutLine) -> tuple[Any, ...]:
    return (line.payee, line.period, line.due, line.rule, line.kind, line.sources, line.amount)


def first_survey(scenario: Scenario, contract_id: str, as_of: datetime) -> SurveySpec | None:
    seen = [s for s in scenario.surveys if s.contract == contract_id and s.surveyed_at <= as_of]
    return min(seen, key=lambda s: (s.surveyed_at, s.id)) if seen else None


# ---------------------------------------------------------------- 1. satisfaction penalty


@PROPERTY_SETTINGS
@given(data=st.data())
def test_penalty_is_tenth_of_base_commission(data: Any) -> None:
    """Each penalty is 10% of its contract's base commission as signed, rounded half-up.

    So it never exceeds that commission in magnitude. A penalty line exists
    exactly for the contracts whose first visible survey scores below 70.
    """
    scenario = data.draw(scenarios())
    as_of = data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario)))

    result = evaluate(scenario, as_of)

    penalties = [line for line in all_lines(result) if line.kind == "penalty"]
    for line in penalties:
        contract = scenario.contract(line.sources[0])
        commission = scenario.base_commission(contract)
        assert line.amount < 0, line
        assert -line.amount <= commission, (line, commission)
        assert -line.amount == round_half_up(PENALTY_SHARE * commission), (line, commission)
        assert line.payee == contract.rep

    expected = {}
    for contract in scenario.visible_contracts(as_of):
        survey = first_survey(scenario, contract.id, as_of)
        if survey is not None and survey.score < PENALTY_BELOW_SCORE:
            expected[contract.id] = (
                -round_half_up(PENALTY_SHARE * scenario.base_commission(contract)),
                local_period(survey.surveyed_at, scenario.rep(contract.rep).zone),
                survey.surveyed_at,
            )
    actual = {line.sources[0]: (line.amount, line.period, line.due) for line in penalties}
    assert len(penalties) == len(actual), penalties
    assert actual == expected


# ---------------------------------------------------------------- 2. removing a refund


def cumulative_by_payee(lines: tuple[PayoutLine, ...], cutoff: datetime | None) -> dict[str, Decimal]:
    """Sum the lines due at or before ``cutoff`` (all lines when None) per payee."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if cutoff is None or line.due <= cutoff:
            sums[line.payee] = sums.get(line.payee, Decimal(0)) + line.amount
    return sums


@PROPERTY_SETTINGS
@given(data=st.data())
def test_removing_refund_never_lowers_totals(data: Any) -> None:
    """Removing a refund never lowers a payee's sum of lines due by any time t.

    This covers both the lifetime total (lines plus schedule) and the total
    due by the as-of time. Only the base commission and the retention bonus
    read refunds, and each is monotone:

    * Base commission: after each refund the rest of the schedule is a
      function g(P, E) of the amount P paid so far and the new entitlement E.
      Either the remaining installments split E - P exactly, which gives a
      cumulative P + (first parts of the split of E - P), or, when E < P, the
      remaining installments are dropped and the cumulative stays at P, or
      drops to E if the refund falls within the 90-day clawback window. Each
      form is non-decreasing in both P and E. This is true because one more
      cent to split adds at most one cent to any prefix of the split, so one
      cent less paid never raises the cumulative. E falls as the refunded
      total grows, and a skipped refund keeps the old schedule, which is
      g(P, E_before) >= g(P, E_after). By induction over the refunds in time
      order, every cumulative without the refund is >= the one with it.
    * Retention bonus: a cohort's decision time depends on signing dates
      only, so the same cohorts are decided. Removing a refund can only turn
      a contract from fully refunded into retained, which raises both the
      retention rate and the retained total.

    Penalties, satisfaction bonuses and referrals ignore refunds.
    """
    scenario = data.draw(scenarios(min_refunds=1))
    removed = data.draw(st.sampled_from(scenario.refunds))
    as_of = data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario)))

    with_refund = all_lines(evaluate(scenario, as_of))
    without_refund = all_lines(evaluate(scenario.without_refund(removed.id), as_of))

    cutoffs: list[datetime | None] = [None, as_of]
    cutoffs += sorted({line.due for line in with_refund + without_refund})
    for cutoff in cutoffs:
        before = cumulative_by_payee(with_refund, cutoff)
        after = cumulative_by_payee(without_refund, cutoff)
        for payee in set(before) | set(after):
            total_with = before.get(payee, Decimal(0))
            total_without = after.get(payee, Decimal(0))
            assert total_without >= total_with, (removed.id, payee, cutoff, total_with,
                                                 total_without)


# ---------------------------------------------------------------- 3. retention bonus


@dataclass(frozen=True)
class ExpectedCohort:
    payee: str
    members: tuple[str, ...]
    decided: datetime
    retained_ratio: Decimal
    retained_total: Decimal
    period: str


def expected_cohorts(scenario: Scenario, as_of: datetime) -> list[ExpectedCohort]:
    """Group the visible new-customer contracts by rep and local signing month."""
    groups: dict[tuple[str, str], list[ContractSpec]] = {}
    for contract in scenario.visible_contracts(as_of):
        if scenario.is_new_customer(contract):
            zone = scenario.rep(contract.rep).zone
            groups.setdefault((contract.rep, local_period(contract.signed_at, zone)), []).append(
                contract)
    cohorts = []
    for (rep_id, period), members in sorted(groups.items()):
        zone = scenario.rep(rep_id).zone
        window_ends = {
            contract.id: start_of_local_day(
                add_months(local_date(contract.signed_at, zone), RETENTION_WINDOW_MONTHS), zone)
            for contract in members
        }
        retained = []
        for contract in members:
            refunded = sum(
                (refund.amount for refund in scenario.refunds
                 if refund.contract == contract.id and refund.refunded_at < window_ends[contract.id]),
                Decimal(0),
            )
            if refunded < contract.amount:
                retained.append(contract)
        cohorts.append(ExpectedCohort(
            rep_id,
            tuple(sorted(contract.id for contract in members)),
            max(window_ends.values()),
            Decimal(len(retained)) / Decimal(len(members)),
            sum((contract.amount for contract in retained), Decimal(0)),
            shift_period(period, RETENTION_PAYOUT_OFFSET_MONTHS),
        ))
    return cohorts


@PROPERTY_SETTINGS
@given(data=st.data())
def test_retention_bonus_matches_cohorts(data: Any) -> None:
    """A decided cohort with >= 80% retained pays 1% of the retained amounts, else nothing.

    A cohort is a rep's new-customer contracts of one signing month in the
    rep's zone. A contract is retained unless its refunds before the start of
    its signing local date plus 3 months sum to its amount. The cohort is
    decided when the last member's window has closed, and only then is a line
    written, due at that instant in the cohort month plus 3 months.
    """
    scenario = data.draw(scenarios(surveys=False))
    as_of = data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario)))

    result = evaluate(scenario, as_of)

    bonuses = [line for line in all_lines(result) if line.rule == "retention"]
    actual = {(line.payee, line.sources): line for line in bonuses}
    assert len(actual) == len(bonuses), bonuses
    expected_keys = set()
    for cohort in expected_cohorts(scenario, as_of):
        key = (cohort.payee, cohort.members)
        if cohort.decided > as_of or cohort.retained_ratio < RETENTION_MINIMUM:
            assert key not in actual, (cohort, actual.get(key))
            continue
        expected_keys.add(key)
        assert key in actual, (cohort, bonuses)
        line = actual[key]
        assert line.kind == "bonus"
        assert line.amount == round_half_up(RETENTION_BONUS_SHARE * cohort.retained_total)
        assert line.period == cohort.period
        assert line.due == cohort.decided
    assert set(actual) == expected_keys


# ---------------------------------------------------------------- 4. referral


@PROPERTY_SETTINGS
@given(data=st.data())
def test_referral_pays_referrer_owner_once(data: Any) -> None:
    """A referred new customer's contract pays the referrer's owner 3% once, in the owner's month.

    A returning customer's contract pays no referral, even when referred.
    """
    scenario = data.draw(scenarios(refunds=False, surveys=False))
    as_of = data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario)))

    result = evaluate(scenario, as_of)

    referrals = [line for line in all_lines(result) if line.kind == "referral"]
    by_contract: dict[str, list[PayoutLine]] = {}
    for line in referrals:
        by_contract.setdefault(line.sources[0], []).append(line)
    for contract in scenario.visible_contracts(as_of):
        customer = scenario.customer(contract.customer)
        lines = by_contract.pop(contract.id, [])
        if customer.referred_by is None or not scenario.is_new_customer(contract):
            assert lines == [], (contract, customer)
            continue
        owner = scenario.rep(scenario.customer(customer.referred_by).owner)
        assert len(lines) == 1, (contract, lines)
        line = lines[0]
        assert line.payee == owner.id
        assert line.amount == round_half_up(REFERRAL_SHARE * contract.amount)
        assert line.period == local_period(contract.signed_at, owner.zone)
        assert line.due == contract.signed_at
    assert by_contract == {}, "referral lines of contracts that are not visible"


# ---------------------------------------------------------------- 5. as-of monotonicity


def signed_by(scenario: Scenario, line: PayoutLine, as_of: datetime) -> bool:
    """Tell whether every contract a line names was signed at or before ``as_of``."""
    return all(scenario.contract(source).signed_at <= as_of
               for source in line.sources if source.startswith("K"))


def known_at(scenario: Scenario, lines: tuple[PayoutLine, ...],
             as_of: datetime) -> tuple[list[PayoutLine], list[PayoutLine]]:
    """Split the lines whose contracts were all signed by ``as_of`` into due and scheduled.

    Retention bonuses are due when their cohort is decided, so one not yet due
    is not yet decided and is dropped, because an evaluation writes no line
    for an undecided cohort.
    """
    known = [line for line in lines if signed_by(scenario, line, as_of)]
    due = [line for line in known if line.due <= as_of]
    scheduled = [line for line in known if line.due > as_of and line.rule != "retention"]
    return due, scheduled


@PROPERTY_SETTINGS
@given(data=st.data())
def test_earlier_as_of_matches_known_lines(data: Any) -> None:
    """Without refunds and surveys, an earlier as-of time gives exactly the lines known by then.

    For as_of1 < as_of2, the lines due at as_of1 are exactly the lines of the
    as_of2 result (due or scheduled) whose due time is <= as_of1 and whose
    contracts were all signed by as_of1. The schedule at as_of1 is the rest of
    the lines of those contracts, minus retention bonuses, which are written
    only once decided. The first installment falls due at local midnight of
    the signing day, before the signature, so the signing condition matters.
    """
    scenario = data.draw(scenarios(refunds=False, surveys=False))
    first, second = sorted([
        data.draw(as_of_times(scenario)),
        data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario))),
    ])

    earlier = evaluate(scenario, first)
    later = evaluate(scenario, second)

    due, scheduled = known_at(scenario, all_lines(later), first)
    assert describe(earlier.lines) == describe(due)
    assert list(earlier.lines) == due
    # The expected schedule joins two sorted tuples of the later result, so
    # both sides are put in one order before comparing.
    assert sorted(describe(earlier.schedule)) == sorted(describe(scheduled))
    assert sorted(earlier.schedule, key=line_order) == sorted(scheduled, key=line_order)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_due_lines_never_change_later(data: Any) -> None:
    """With refunds and surveys too, the lines due at as_of1 are those of as_of2 known by then.

    For as_of1 < as_of2, the lines due at as_of1 are exactly the lines of the
    as_of2 result due by as_of1 whose contracts were all signed by as_of1. A
    later record cannot change them. A refund after as_of1 only replaces
    installments due after it and claws back at its own time. A survey sets
    a satisfaction line due at the survey itself. A retention bonus due by
    as_of1 reads only refunds before its cohort's decision time.
    """
    scenario = data.draw(scenarios())
    first, second = sorted([
        data.draw(as_of_times(scenario)),
        data.draw(st.one_of(st.just(FAR_FUTURE), as_of_times(scenario))),
    ])

    earlier = evaluate(scenario, first)
    later = evaluate(scenario, second)

    due, _ = known_at(scenario, all_lines(later), first)
    assert describe(earlier.lines) == describe(due)
    assert list(earlier.lines) == due
