"""Generate the counselling example records in ``records.jsonl``.

The data models a counselling company (marriage and family counselling,
teenage counselling) over 2024 and 2025:

- 30 reps. Twenty are headquarters staff in Asia/Shanghai, split into the
  teams HQ-Family and HQ-Youth, each led by a manager. The head of HQ-Family
  has no manager, and the head of HQ-Youth reports to them. Ten are agents
  in other cities and time zones (teams Overseas-West and Overseas-East).
- Customers created from 2024-01-01 to 2025-12-31. About 10% were referred
  by an earlier customer, and a few never sign (leads).
- Contracts for the products marriage-repair, family, teen and individual,
  with terms of 6 or 12 months. Some customers return for a second or third
  contract. About 5% of contracts are signed by a teammate of the
  customer's owner (a reassignment).
- Monthly payments that split each contract amount exactly to the cent, the
  earliest installments taking the extra cents. Payments after 2025-12-31
  are left out, so contracts signed late have only part of their payments.
- Refunds on about 6% of contracts. A full refund returns the whole
  contract amount and cancels the contract, so later payments, sessions and
  surveys are left out, and the refund can exceed the payments received.
  A partial refund is at most what the customer had paid by then.
- Counselling sessions, satisfaction surveys, complaints (some upheld) and
  one "new_contracts_amount" target per rep and month of 2025. A target is
  the rep's share, by sales weight, of the company's average monthly signed
  amount in 2024, plus growth and a seasonal factor.

Every timestamp is written with the UTC offset of the rep it belongs to: the
owner for a customer, the contract's rep for a contract and its events. The
offset comes from zoneinfo, so it follows daylight saving time. Local times
stay between 08:00 and 23:59, which no daylight saving gap of these zones
reaches.

The output order is reps, customers, contracts, then payments, refunds,
sessions, surveys and complaints merged by instant and id, then targets by
period and rep. Ids are zero-padded so that their string order is their
numeric order, and within a type they increase with time.

Regenerate from any directory with::

    python examples/counselling/generate.py

``--check`` writes nothing and exits with status 1 when the file on disk
differs from what the script would write. The output depends on ``SEED``
and the code, not on the clock, the local time zone or the hash seed, and
CPython 3.11, 3.12 and 3.13 write the same bytes. Every draw is built on
``random.Random.random()``, the one method whose sequence for a seed the
Python documentation of ``random`` ("Notes on Reproducibility") promises to
keep across versions.

NOTE: The UTC offsets come from the system's tz database, so a tzdata
release that changed the 2024-2025 rules of these zones would change the
output.
"""

from __future__ import annotations

import argparse
import calendar
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

SEED = 20240101
FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2025, 12, 31)
TARGET_YEAR = 2025
OUTPUT = Path(__file__).resolve().with_name("records.jsonl")

CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# Probabilities are in percent.
CUSTOMERS_PER_DAY_PERCENT = 25
REFERRAL_PERCENT = 10
REFERRAL_SAME_OWNER_PERCENT = 70
LEAD_ONLY_PERCENT = 5
REASSIGNMENT_PERCENT = 4
RETURN_PERCENT = 24
MAX_CONTRACTS_PER_CUSTOMER = 3
REFUND_PERCENT = 6
COMPLAINT_PERCENT = 5

# Relative intake per calendar month: quieter around the Spring Festival,
# busier when the school year starts.
MONTH_WEIGHTS = (80, 70, 100, 100, 100, 95, 105, 115, 125, 105, 100, 95)

PRODUCTS_BY_TEAM = {
    "HQ-Family": (("marriage-repair", 40), ("family", 35), ("individual", 25)),
    "HQ-Youth": (("teen", 55), ("family", 25), ("individual", 20)),
    "Overseas-West": (
        ("marriage-repair", 25),
        ("family", 25),
        ("teen", 30),
        ("individual", 20),
    ),
    "Overseas-East": (
        ("marriage-repair", 25),
        ("family", 25),
        ("teen", 30),
        ("individual", 20),
    ),
}

# Contract amount ranges in CNY by product and term in months.
PRICE_RANGES = {
    ("marriage-repair", 6): (8000, 18000),
    ("marriage-repair", 12): (15000, 30000),
    ("family", 6): (6000, 15000),
    ("family", 12): (11000, 26000),
    ("teen", 6): (5000, 12000),
    ("teen", 12): (9000, 20000),
    ("individual", 6): (3000, 8000),
    ("individual", 12): (5500, 14000),
}

AGENTS = (
    ("Overseas-West", "America/Los_Angeles", "Los Angeles"),
    ("Overseas-West", "America/Vancouver", "Vancouver"),
    ("Overseas-West", "America/New_York", "New York"),
    ("Overseas-West", "America/Toronto", "Toronto"),
    ("Overseas-West", "Europe/London", "London"),
    ("Overseas-West", "Europe/Berlin", "Berlin"),
    ("Overseas-East", "Asia/Singapore", "Singapore"),
    ("Overseas-East", "Asia/Hong_Kong", "Hong Kong"),
    ("Overseas-East", "Asia/Tokyo", "Tokyo"),
    ("Overseas-East", "Australia/Sydney", "Sydney"),
)

SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu",
    "Xu", "Sun", "Hu", "Zhu", "Gao", "Lin", "He", "Guo", "Ma", "Luo",
)  # fmt: skip
GIVEN_SYLLABLES = (
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yan", "Jie", "Tao", "Ming",
    "Xia", "Hui", "Ying", "Qiang", "Lan", "Ping", "Hao", "Yu", "Xin", "Rui",
    "Ting", "Kai", "Yi", "Jun",
)  # fmt: skip
ENGLISH_GIVEN_NAMES = (
    "Grace", "Kevin", "Olivia", "Daniel", "Emily", "Jason", "Sophie", "Henry",
    "Chloe", "Ryan", "Vivian", "Eric",
)  # fmt: skip

EARLY_REFUND_REASONS = (
    "not a good fit",
    "changed mind",
    "schedule conflict",
    "moved abroad",
)
LATE_REFUND_REASONS = ("relocation", "family emergency", "goals reached early")
PARTIAL_REFUND_REASONS = (
    "unused sessions",
    "fewer sessions than planned",
    "price adjustment",
)
COMPLAINT_REFUND_REASONS = ("complaint upheld", "dissatisfied with counsellor")


class Draw:
    """Random draws built only on ``random.Random.random()``.

    Python promises the sequence of ``random()`` for a seed across versions,
    but not the algorithms behind ``randrange``, ``choice`` or ``gauss``.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        """Return an integer from low to high, both included."""
        return low + int(self._rng.random() * (high - low + 1))

    def percent(self, chance: int) -> bool:
        return self._rng.random() * 100 < chance

    def pick(self, items: tuple | list):
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, pairs: tuple | list):
        """Pick an item from (item, integer weight) pairs, in proportion to weight."""
        total = sum(weight for _, weight in pairs)
        point = self.integer(1, total)
        for item, weight in pairs:
            point -= weight
            if point <= 0:
                return item
        raise ValueError(f"weights must be positive, got {pairs!r}")

    def bell(self, mean: int, spread: int) -> int:
        """Return a bell-shaped integer around mean, at most spread away."""
        third = spread // 3
        parts = [self.integer(-third, third) for _ in range(3)]
        return mean + sum(parts)


@dataclass
class Rep:
    """A rep and the parameters that shape their generated records.

    weight is the rep's relative share of new customers, and quality is the
    mean satisfaction score on their contracts that have no complaint.
    """

    key: str
    name: str
    zone: ZoneInfo
    kind: str
    team: str
    region: str
    manager: Rep | None
    weight: int
    quality: int


@dataclass
class Customer:
    seq: int
    owner: Rep
    referrer: Customer | None
    created_at: datetime
    key: str = ""


@dataclass
class Contract:
    seq: int
    customer: Customer
    rep: Rep
    product: str
    amount: Decimal
    signed_at: datetime
    term_months: int
    fully_refunded: bool = False
    key: str = ""


@dataclass
class Event:
    """A payment, refund, session, survey or complaint of one contract."""

    kind: str
    seq: int
    contract: Contract
    moment: datetime
    fields: dict = field(default_factory=dict)
    key: str = ""


ID_PREFIXES = {
    "payment": "P",
    "refund": "F",
    "session": "S",
    "satisfaction": "Q",
    "complaint": "X",
}


def format_money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def format_moment(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def add_months(start: date, months: int) -> date:
    """Add months to a date, clamping the day to the end of a shorter month."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def local_moment(
    draw: Draw,
    zone: ZoneInfo,
    day: date,
    later_than: datetime | None = None,
    late_evening: bool = False,
) -> datetime | None:
    """Draw a local time on day in zone, at least a minute after later_than.

    Returns None when day has no such time within the working hours, 09:00 to
    21:00, or 08:00 to 23:59:59 with late_evening.
    """
    first, last = (8 * 3600, 86399) if late_evening else (9 * 3600, 21 * 3600)
    if later_than is not None:
        earliest = later_than.astimezone(zone)
        if earliest.date() > day:
            return None
        if earliest.date() == day:
            seconds = earliest.hour * 3600 + earliest.minute * 60 + earliest.second
            first = max(first, seconds + 60)
    if first > last:
        return None
    seconds = draw.integer(first, last)
    clock = time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    moment = datetime.combine(day, clock, tzinfo=zone)

    # zoneinfo accepts a wall time inside a daylight saving gap without
    # complaint, and such a time does not survive a round trip through UTC.
    round_trip = moment.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise ValueError(f"local time {moment} does not exist in {zone.key}")
    return moment


def moment_on_or_after(
    draw: Draw,
    zone: ZoneInfo,
    day: date,
    later_than: datetime,
    late_evening: bool = False,
) -> datetime | None:
    """Draw a local time on day, or on the first later day that has one.

    Returns None when no such time falls on or before LAST_DAY.
    """
    while day <= LAST_DAY:
        moment = local_moment(draw, zone, day, later_than, late_evening)
        if moment is not None:
            return moment
        day += timedelta(days=1)
    return None


def split_exactly(amount: Decimal, parts: int) -> list[Decimal]:
    """Split amount into parts that sum to it, the earliest taking extra cents."""
    cents = int((amount / CENT).to_integral_exact())
    share, extra = divmod(cents, parts)
    return [Decimal(share + (1 if i < extra else 0)) * CENT for i in range(parts)]


def make_name(draw: Draw, english: bool, used_names: set[str]) -> str:
    """Draw a fake full name and add it to used_names.

    An English given name is added too, so that no two agents share one.
    """
    while True:
        surname = draw.pick(SURNAMES)
        if english:
            given_name = draw.pick(ENGLISH_GIVEN_NAMES)
        else:
            given_name = draw.pick(GIVEN_SYLLABLES)
            second = draw.pick(GIVEN_SYLLABLES)
            if draw.percent(55) and second != given_name:
                given_name += second.lower()
        if english:
            name = f"{given_name} {surname}"
        else:
            name = f"{surname} {given_name}"
        if name not in used_names and given_name not in used_names:
            used_names.add(name)
            if english:
                used_names.add(given_name)
            return name


def make_reps(draw: Draw) -> list[Rep]:
    shanghai = ZoneInfo("Asia/Shanghai")
    used_names: set[str] = set()
    reps: list[Rep] = []
    for number in range(1, 21):
        team = "HQ-Family" if number <= 10 else "HQ-Youth"
        if number == 1:
            manager = None
        elif number <= 11:
            manager = reps[0]
        else:
            manager = reps[10]

        # Team leads spend part of their time managing, so they sell less.
        is_lead = number in (1, 11)
        weight = draw.integer(40, 60) if is_lead else draw.integer(70, 130)
        rep = Rep(
            key=f"R{number:02d}",
            name=make_name(draw, english=False, used_names=used_names),
            zone=shanghai,
            kind="staff",
            team=team,
            region="Shanghai",
            manager=manager,
            weight=weight,
            quality=draw.integer(74, 88),
        )
        reps.append(rep)

    for offset, (team, zone_name, city) in enumerate(AGENTS):
        rep = Rep(
            key=f"R{21 + offset:02d}",
            name=make_name(draw, english=True, used_names=used_names),
            zone=ZoneInfo(zone_name),
            kind="agent",
            team=team,
            region=city,
            manager=reps[0] if team == "Overseas-West" else reps[10],
            weight=draw.integer(50, 110),
            quality=draw.integer(70, 88),
        )
        reps.append(rep)
    return reps


def make_customers(draw: Draw, reps: list[Rep]) -> list[Customer]:
    owner_weights = [(rep, rep.weight) for rep in reps]
    customers: list[Customer] = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        chance = CUSTOMERS_PER_DAY_PERCENT * MONTH_WEIGHTS[day.month - 1] // 100
        if draw.percent(chance):
            customers.append(make_customer(draw, day, customers, owner_weights))
        day += timedelta(days=1)
    return customers


def make_customer(
    draw: Draw,
    day: date,
    customers: list[Customer],
    owner_weights: list[tuple[Rep, int]],
) -> Customer:
    # A referrer created at least a week earlier by local date is also earlier
    # as an instant, whatever the two time zones are.
    referrer = None
    earlier = [c for c in customers if c.created_at.date() <= day - timedelta(7)]
    if earlier and draw.percent(REFERRAL_PERCENT):
        referrer = draw.pick(earlier)
    if referrer is not None and draw.percent(REFERRAL_SAME_OWNER_PERCENT):
        owner = referrer.owner
    else:
        owner = draw.weighted(owner_weights)
    created_at = local_moment(draw, owner.zone, day)
    if created_at is None:
        raise ValueError(f"failed to draw a creation time on {day}")
    return Customer(len(customers), owner, referrer, created_at)


def pick_contract_rep(draw: Draw, owner: Rep, reps: list[Rep]) -> Rep:
    if not draw.percent(REASSIGNMENT_PERCENT):
        return owner
    teammates = [rep for rep in reps if rep.team == owner.team and rep is not owner]
    return draw.pick(teammates)


def draw_amount(draw: Draw, product: str, term: int) -> Decimal:
    low, high = PRICE_RANGES[(product, term)]
    style = draw.integer(1, 100)
    if style <= 70:
        return Decimal(draw.integer(low // 500, high // 500) * 500)
    whole = Decimal(draw.integer(low, high))
    if style <= 85:
        return whole
    cents = draw.pick((50, 50, 80, 88, 99, draw.integer(1, 99)))
    return whole + Decimal(cents) * CENT


def make_contracts(
    draw: Draw, customers: list[Customer], reps: list[Rep]
) -> tuple[list[Contract], list[Event]]:
    contracts: list[Contract] = []
    events: list[Event] = []
    for customer in customers:
        if draw.percent(LEAD_ONLY_PERCENT):
            continue
        after = customer.created_at
        day = after.date() + timedelta(days=draw.integer(0, 21))
        previous: Contract | None = None
        for _ in range(MAX_CONTRACTS_PER_CUSTOMER):
            rep = pick_contract_rep(draw, customer.owner, reps)
            signed_at = moment_on_or_after(draw, rep.zone, day, after)
            if signed_at is None:
                break
            contract = make_contract(draw, customer, rep, signed_at, previous)
            contract.seq = len(contracts)
            contracts.append(contract)
            events.extend(make_contract_events(draw, contract, len(events)))
            if contract.fully_refunded or not draw.percent(RETURN_PERCENT):
                break
            previous = contract
            after = signed_at
            day = signed_at.date() + timedelta(days=draw.integer(60, 400))
    return contracts, events


def make_contract(
    draw: Draw,
    customer: Customer,
    rep: Rep,
    signed_at: datetime,
    previous: Contract | None,
) -> Contract:
    # A returning customer often renews the same product.
    if previous is not None and draw.percent(40):
        product = previous.product
    else:
        product = draw.weighted(PRODUCTS_BY_TEAM[customer.owner.team])
    term = 12 if draw.percent(40) else 6
    amount = draw_amount(draw, product, term)
    return Contract(0, customer, rep, product, amount, signed_at, term)


def make_contract_events(draw: Draw, contract: Contract, first_seq: int) -> list[Event]:
    """Draw the payments, refunds, sessions, surveys and complaints of a contract.

    Sequence numbers start at first_seq so that ties sort by creation order.
    """
    events: list[Event] = []

    def add(kind: str, moment: datetime, **fields) -> None:
        seq = first_seq + len(events)
        events.append(Event(kind, seq, contract, moment, fields))

    payments = draw_payments(draw, contract)
    complaint = draw_complaint(draw, contract)
    refunds = draw_refunds(draw, contract, payments, complaint)

    # A full refund cancels the contract, so no payment, session, survey or
    # complaint follows it.
    cancelled_at = None
    if contract.fully_refunded:
        cancelled_at = refunds[-1][0]
        payments = [payment for payment in payments if payment[0] < cancelled_at]
        if complaint is not None and complaint[0] > cancelled_at:
            complaint = None

    for moment, amount in payments:
        add("payment", moment, amount=format_money(amount))
    for moment, amount, reason in refunds:
        add("refund", moment, amount=format_money(amount), reason=reason)
    if complaint is not None:
        add("complaint", complaint[0], upheld=complaint[1])

    for moment in draw_visits(draw, contract, cancelled_at, draw.integer(2, 5), 2):
        minutes = draw.pick((50, 50, 60, 60, 60, 75, 90, 90))
        if draw.percent(15):
            minutes = draw.integer(50, 90)
        add("session", moment, minutes=minutes)

    # A complaint follows a worse experience, so its surveys score lower.
    mean = contract.rep.quality - (15 if complaint is not None else 0)
    for moment in draw_visits(draw, contract, cancelled_at, draw.integer(1, 3), 14):
        score = min(100, max(0, draw.bell(mean, 27)))
        add("satisfaction", moment, score=score)
    return events


def draw_payments(draw: Draw, contract: Contract) -> list[tuple[datetime, Decimal]]:
    """Draw one payment per month of the term, up to LAST_DAY.

    The first is paid at signing. The others fall due on the signing day of
    each later month and are sometimes paid a few days late.
    """
    zone = contract.rep.zone
    signed_day = contract.signed_at.date()
    amounts = split_exactly(contract.amount, contract.term_months)
    payments = []
    for index, amount in enumerate(amounts):
        if index == 0:
            minutes = draw.integer(5, 90)
            moment = (contract.signed_at + timedelta(minutes=minutes)).astimezone(zone)
        else:
            days_late = ((0, 60), (draw.integer(1, 7), 35), (draw.integer(8, 20), 5))
            lateness = draw.weighted(days_late)
            day = add_months(signed_day, index) + timedelta(days=lateness)
            late_evening = draw.percent(10)
            moment = local_moment(draw, zone, day, late_evening=late_evening)
        if moment is None or moment.date() > LAST_DAY:
            break
        payments.append((moment, amount))
    return payments


def draw_complaint(draw: Draw, contract: Contract) -> tuple[datetime, bool] | None:
    chance = COMPLAINT_PERCENT + (4 if contract.rep.quality < 78 else 0)
    if not draw.percent(chance):
        return None
    day = contract.signed_at.date() + timedelta(days=draw.integer(10, 120))
    moment = moment_on_or_after(draw, contract.rep.zone, day, contract.signed_at)
    if moment is None:
        return None
    return moment, draw.percent(50)


def draw_refunds(
    draw: Draw,
    contract: Contract,
    payments: list[tuple[datetime, Decimal]],
    complaint: tuple[datetime, bool] | None,
) -> list[tuple[datetime, Decimal, str]]:
    """Draw none, one or two refunds and mark the contract when fully refunded."""
    if complaint is not None:
        chance = 50 if complaint[1] else 15
    else:
        chance = REFUND_PERCENT
    if not draw.percent(chance):
        return []

    signed_day = contract.signed_at.date()
    if complaint is not None:
        day = complaint[0].date() + timedelta(days=draw.integer(3, 30))
        full = draw.percent(35)
        reason = draw.pick(COMPLAINT_REFUND_REASONS)
    else:
        # Day 90 is the last day inside a 90-day clawback window, day 91 the
        # first day outside it.
        early = draw.percent(45)
        if draw.percent(15):
            days = draw.pick((90, 91))
        elif early:
            days = draw.integer(1, 89)
        else:
            days = draw.integer(92, contract.term_months * 30)
        day = signed_day + timedelta(days=days)
        full = draw.percent(50 if days <= 90 else 20)
        reasons = EARLY_REFUND_REASONS if days <= 90 else LATE_REFUND_REASONS
        reason = draw.pick(reasons if full else PARTIAL_REFUND_REASONS)

    moment = moment_on_or_after(draw, contract.rep.zone, day, contract.signed_at)
    if moment is None or moment.date() != day:
        return []
    if full:
        contract.fully_refunded = True
        return [(moment, contract.amount, reason)]

    refunds = []
    refunded = Decimal(0)
    while moment is not None and len(refunds) < 2:
        paid = sum((a for m, a in payments if m < moment), Decimal(0)) - refunded
        amount = draw_partial_amount(draw, paid)
        if amount is None:
            break
        refunds.append((moment, amount, reason))
        refunded += amount
        if not draw.percent(20):
            break
        day = moment.date() + timedelta(days=draw.integer(20, 90))
        moment = moment_on_or_after(draw, contract.rep.zone, day, moment)
        reason = draw.pick(PARTIAL_REFUND_REASONS)
    return refunds


def draw_partial_amount(draw: Draw, paid: Decimal) -> Decimal | None:
    """Draw 20% to 60% of what the customer has paid, or None below 100.00."""
    share = Decimal(draw.integer(20, 60)) / HUNDRED
    amount = paid * share
    if draw.percent(70):
        amount = (amount / HUNDRED).to_integral_value(ROUND_DOWN) * HUNDRED
    else:
        amount = amount.quantize(CENT, ROUND_DOWN)
    if amount < HUNDRED:
        return None
    return amount


def draw_visits(
    draw: Draw,
    contract: Contract,
    cancelled_at: datetime | None,
    count: int,
    first_after_days: int,
) -> list[datetime]:
    """Draw count moments spread over the term, before LAST_DAY and any cancellation."""
    zone = contract.rep.zone
    term_days = contract.term_months * 30
    step = (term_days - first_after_days) // count
    moments = []
    after = contract.signed_at
    for index in range(count):
        offset = first_after_days + index * step + draw.integer(0, max(1, step // 2))
        day = contract.signed_at.date() + timedelta(days=offset)
        moment = moment_on_or_after(draw, zone, day, after)
        if moment is None:
            break
        if cancelled_at is not None and moment >= cancelled_at:
            break
        moments.append(moment)
        after = moment
    return moments


def make_targets(reps: list[Rep], contracts: list[Contract]) -> list[dict]:
    """Set each rep's monthly targets from the company's 2024 signings.

    A rep's share of the 2024 monthly average is in proportion to their
    weight, because one rep signs too few contracts for their own average to
    be stable. The share grows by 15%, is scaled by MONTH_WEIGHTS and is
    rounded to 500.00, with a floor of 2,000.00.
    """
    signed_2024 = sum(
        (c.amount for c in contracts if c.signed_at.year == 2024), Decimal(0)
    )
    total_weight = sum(rep.weight for rep in reps)
    targets = []
    for rep in reps:
        monthly = signed_2024 / 12 * rep.weight / total_weight * Decimal("1.15")
        for month in range(1, 13):
            value = monthly * MONTH_WEIGHTS[month - 1] / HUNDRED
            value = (value / 500).quantize(Decimal(1), ROUND_HALF_UP) * 500
            value = max(value, Decimal(2000))
            target = {
                "type": "target",
                "rep": rep.key,
                "period": f"{TARGET_YEAR}-{month:02d}",
                "metric": "new_contracts_amount",
                "value": format_money(value),
            }
            targets.append(target)
    return targets


def assign_ids(
    customers: list[Customer], contracts: list[Contract], events: list[Event]
) -> None:
    """Number every record in time order, so that ids increase with time."""
    for number, customer in enumerate(
        sorted(customers, key=lambda c: (c.created_at, c.seq)), start=1
    ):
        customer.key = f"C{number:04d}"
    for number, contract in enumerate(
        sorted(contracts, key=lambda c: (c.signed_at, c.seq)), start=1
    ):
        contract.key = f"K{number:04d}"

    counters = dict.fromkeys(ID_PREFIXES, 0)
    for event in sorted(events, key=lambda e: (e.moment, e.seq)):
        counters[event.kind] += 1
        event.key = f"{ID_PREFIXES[event.kind]}{counters[event.kind]:04d}"

    for count in (len(customers), len(contracts), *counters.values()):
        if count >= 10_000:
            msg = f"{count} records of one type exceed 4-digit ids: widen the ids"
            raise ValueError(msg)


def rep_record(rep: Rep) -> dict:
    return {
        "type": "rep",
        "id": rep.key,
        "name": rep.name,
        "timezone": rep.zone.key,
        "kind": rep.kind,
        "team": rep.team,
        "region": rep.region,
        "manager": rep.manager.key if rep.manager is not None else None,
    }


def customer_record(customer: Customer) -> dict:
    referrer = customer.referrer
    return {
        "type": "customer",
        "id": customer.key,
        "owner": customer.owner.key,
        "referred_by": referrer.key if referrer is not None else None,
        "created_at": format_moment(customer.created_at),
    }


def contract_record(contract: Contract) -> dict:
    return {
        "type": "contract",
        "id": contract.key,
        "customer": contract.customer.key,
        "rep": contract.rep.key,
        "product": contract.product,
        "amount": format_money(contract.amount),
        "currency": "CNY",
        "signed_at": format_moment(contract.signed_at),
        "term_months": contract.term_months,
    }


def event_record(event: Event) -> dict:
    """Build the record of an event, with its fields in the public order."""
    record = {"type": event.kind, "id": event.key, "contract": event.contract.key}
    timestamp = format_moment(event.moment)
    fields = event.fields
    if event.kind == "payment":
        record.update(amount=fields["amount"], paid_at=timestamp)
    elif event.kind == "refund":
        record.update(amount=fields["amount"], refunded_at=timestamp)
        record.update(reason=fields["reason"])
    elif event.kind == "session":
        record.update(held_at=timestamp, minutes=fields["minutes"])
    elif event.kind == "satisfaction":
        record.update(score=fields["score"], surveyed_at=timestamp)
    else:
        record.update(filed_at=timestamp, upheld=fields["upheld"])
    return record


def build_records() -> list[dict]:
    draw = Draw(SEED)
    reps = make_reps(draw)
    customers = make_customers(draw, reps)
    contracts, events = make_contracts(draw, customers, reps)
    assign_ids(customers, contracts, events)

    records = [rep_record(rep) for rep in reps]
    customers = sorted(customers, key=lambda c: c.key)
    records += [customer_record(customer) for customer in customers]
    contracts = sorted(contracts, key=lambda c: c.key)
    records += [contract_record(contract) for contract in contracts]
    events = sorted(events, key=lambda e: (e.moment, e.key))
    records += [event_record(event) for event in events]
    records += make_targets(reps, contracts)
    return records


def render(records: list[dict]) -> bytes:
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record in records]
    return "".join(lines).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit with status 1 if the output file is out of date",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT,
        help=f"file to write or check (default: {OUTPUT.name} next to this script)",
    )
    args = parser.parse_args(argv)
    content = render(build_records())

    if args.check:
        try:
            current = args.output.read_bytes()
        except FileNotFoundError:
            current = None
        if current != content:
            print(
                f"{args.output} is missing or out of date: "
                f"run {Path(__file__).name} without --check to regenerate it",
                file=sys.stderr,
            )
            return 1
        return 0

    args.output.write_bytes(content)
    return 0


if __name__ == "__main__":
    sys.exit(main())
