"""Stateful test: an Engine updated record by record always equals a batch evaluation.

A Hypothesis state machine adds, corrects and removes customers, reps,
contracts, payments, refunds, surveys and complaints in random order, under
the reference plan and the plans in tests/plans. A second machine runs the
same steps under plans with draws, tiers by count, plan versions and
exchange rates. After every step the
engine's result (lines, schedule, statements and digest) must equal
``evaluate`` over the same records, and the step's delta must be exactly the
difference between the results before and after. A change that a batch
validation rejects must be rejected by the engine, leaving it unchanged.

Records also get revisions, added or corrected: higher, equal and lower
than the highest held, and without an original. The model keeps every
version a batch file would hold (``add`` appends a version, ``correct``
replaces the version with the same revision), and the batch of those
versions must accept and reject exactly what the engine does.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from helpers import REFERENCE_PLAN, ROOT
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from commission_engine import CommissionError, evaluate, load_plan, load_records
from commission_engine.engine import Delta, Engine

PLANS = (
    REFERENCE_PLAN,
    ROOT / "tests" / "plans" / "overrides.plan",
    ROOT / "tests" / "plans" / "field-tiers.plan",
    ROOT / "tests" / "plans" / "field-tiers-flat.plan",
    ROOT / "tests" / "plans" / "field-split.plan",
    ROOT / "tests" / "plans" / "field-payments.plan",
    ROOT / "tests" / "plans" / "cohort-metrics.plan",
    ROOT / "tests" / "plans" / "satisfaction-and-complaints.plan",
    ROOT / "tests" / "plans" / "field-installments.plan",
)

# Commission repriced by each payee's monthly attainment: one contract can
# move the rate of every other contract of its payee and month.
ACCELERATED_PLAN = """\
plan "accelerated" version "1"
currency CNY

quota bookings on contract:
    measure total of contract.amount
    target from records

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        0.5x below 50%
        1x up to 100%
        1.5x above
    pay in contract.term_months monthly installments
    on refund:
        stop unpaid installments
        claw back overpayment always
"""

# Limits per contract, per line and per period, and an override of the
# capped rule: a period cap's adjustments depend on every line of the period.
CAPPED_PLAN = """\
plan "capped" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 2,500.00 per contract
    floor 20.00 per contract
    cap 4,000.00 per period
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
    cap 250.00 per line
    cap 400.00 per contract
    floor 100.00 per period

override managers of base:
    level 1 5%
    level 2 2%
"""

# Draws of a rule with installments and of a rule capped per period, for
# staff and for agents: a draw walks each rep's periods with a balance.
DRAWS_PLAN = """\
plan "draws" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments
    on refund:
        stop unpaid installments
        claw back overpayment always

commission collected on payment:
    paid to contract.rep
    rate 5% of payment.amount
    cap 300.00 per period

override managers of base:
    level 1 5%

draw ramp of base:
    for rep.kind is "staff"
    recoverable 200.00 per period
    recover at most 150.00 per period
    from 2025-01 until 2025-03

draw minimum of collected:
    for kind is "agent"
    guaranteed 50.00 per period
    from 2025-02
"""

# Tiers by count, flat on contracts and marginal on payments, and an
# override of the counted rule.
COUNT_TIERS_PLAN = """\
plan "count-tiers" version "1"
currency CNY

commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, flat:
        1% up to 2
        2% above

commission collected on payment:
    paid to contract.rep
    tiers of payment.amount per period by count, marginal:
        3% up to 2
        5% below 4
        8% above

override managers of volume:
    level 1 10%
"""

# Three plan versions: the rate, the period cap and the kind of pricing
# change, and the override and the draw read every version's lines.
VERSIONS_PLAN = """\
plan "versions" version "2025.1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    cap 1,000.00 per period
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 3% of payment.amount

override managers of base:
    level 1 5%

draw ramp of base:
    recoverable 100.00 per period
    from 2025-02

version "2025.2" from 2025-03-01

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 1,200.00 per period
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    tiers of payment.amount per period by count, flat:
        2% up to 1
        4% above

version "2025.3" from 2025-05-01

commission base on contract:
    paid to contract.rep
    rate 9% of contract.amount
"""

# Dated exchange rates: the euro has no rate before March, so a contract
# signed earlier in euros, or moved there by its rep's zone, is invalid.
RATES_PLAN = """\
plan "rates" version "1"
currency CNY
exchange rate USD 7.2 from 2025-01-01
exchange rate USD 7.35 from 2025-03-01
exchange rate EUR 7.9 from 2025-03-01

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 3% of payment.amount

commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period, marginal:
        1% up to 10,000.00
        2% above

override managers of base:
    level 1 5%
"""

CONSTRUCT_PLANS = (
    ("draws.plan", DRAWS_PLAN),
    ("count-tiers.plan", COUNT_TIERS_PLAN),
    ("versions.plan", VERSIONS_PLAN),
    ("rates.plan", RATES_PLAN),
    ("quotas-accelerators-draws.plan",
     (ROOT / "tests" / "plans" / "quotas-accelerators-draws.plan").read_text(encoding="utf-8")),
    ("exchange-rates.plan",
     (ROOT / "tests" / "plans" / "exchange-rates.plan").read_text(encoding="utf-8")),
)

AS_OF = (
    "2025-03-15T00:00:00+08:00",
    "2025-07-31T23:30:00-07:00",
    "2026-12-31T00:00:00+08:00",
)

ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin")
START = datetime.fromisoformat("2025-01-01T00:00:00+08:00")


@cache
def plan_of(index: int) -> Any:
    if index == len(PLANS):
        return load_plan(ACCELERATED_PLAN, "accelerated.plan")
    if index == len(PLANS) + 1:
        return load_plan(CAPPED_PLAN, "capped.plan")
    path = PLANS[index]
    return load_plan(path.read_text(encoding="utf-8"), str(path))


@cache
def construct_plan_of(index: int) -> Any:
    name, text = CONSTRUCT_PLANS[index]
    return load_plan(text, name)


def rep(rep_id: str, zone: str, manager: str | None, kind: str = "staff") -> dict[str, Any]:
    return {"type": "rep", "id": rep_id, "name": rep_id, "timezone": zone, "kind": kind,
            "team": "T1" if rep_id < "R3" else "T2", "region": "", "manager": manager}


def customer(customer_id: str, owner: str, referred_by: str | None) -> dict[str, Any]:
    return {"type": "customer", "id": customer_id, "owner": owner, "referred_by": referred_by,
            "created_at": "2024-01-01T00:00:00+08:00"}


def base_records() -> list[dict[str, Any]]:
    return [
        rep("R3", "Europe/Berlin", None),
        rep("R1", "Asia/Shanghai", "R3"),
        rep("R2", "America/Los_Angeles", "R3"),
        customer("C1", "R1", None),
        customer("C2", "R2", None),
        customer("C3", "R1", "C1"),
        customer("C4", "R2", "C3"),
    ]


# Hours land near local midnight in every zone used, so periods differ by zone.
instants = st.builds(
    lambda days, hours: (START + timedelta(days=days, hours=hours)).isoformat(),
    st.integers(0, 200), st.sampled_from([0, 9, 15.5, 16.5, 23]),
)
offsets = st.builds(lambda days, hours: timedelta(days=days, hours=hours),
                    st.integers(-2, 150), st.sampled_from([0, 1, 12]))
amounts = st.sampled_from(["1000.00", "1234.50", "12000.00", "333.33", "60000.00", "5"])


def key_of(record: dict[str, Any]) -> tuple[str, str]:
    if record["type"] == "target":
        return ("target", f"{record['rep']}/{record['period']}")
    return (record["type"], record["id"])


def revision(record: dict[str, Any]) -> int:
    return int(record.get("revision", 1))


def current(versions: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the version a batch evaluates: the highest revision."""
    return max(versions, key=revision)


def replaced(versions: list[dict[str, Any]], record: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the versions after ``correct``: the one with the same revision replaced."""
    return [v for v in versions if revision(v) != revision(record)] + [record]


class EngineMachine(RuleBasedStateMachine):
    """Random changes to one engine, each checked against a batch evaluation."""

    @initialize(plan_index=st.integers(0, len(PLANS) + 1), as_of=st.sampled_from(AS_OF))
    def start(self, plan_index: int, as_of: str) -> None:
        self.begin(plan_of(plan_index), as_of)

    def begin(self, plan: Any, as_of: str) -> None:
        self.plan = plan
        self.as_of = datetime.fromisoformat(as_of)
        # Every version of each record, as a batch file would hold them.
        self.records: dict[tuple[str, str], list[dict[str, Any]]] = {
            key_of(r): [r] for r in base_records()}
        self.engine = Engine(self.plan, self.as_of, self.flat(self.records))
        self.previous = self.engine.result()

    # ---- helpers

    def ids(self, record_type: str) -> list[str]:
        return sorted(i for t, i in self.records if t == record_type)

    @staticmethod
    def flat(records: dict[tuple[str, str], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [version for versions in records.values() for version in versions]

    def batch(self, records: dict[tuple[str, str], list[dict[str, Any]]]) -> Any:
        return evaluate(self.plan, load_records(self.flat(records)), self.as_of)

    def change(self, proposed: dict[tuple[str, str], list[dict[str, Any]]], run: Any) -> None:
        """Apply a change to the engine and to the model, or check both reject it."""
        try:
            expected = self.batch(proposed)
        except CommissionError as exc:
            batch_error: CommissionError | None = exc
        else:
            batch_error = None
        try:
            delta = run()
        except CommissionError as exc:
            assert batch_error is not None, f"engine rejected a valid change: {exc}"
            assert type(exc) is type(batch_error)
            assert self.engine.result().digest == self.previous.digest
            event(f"rejected {type(exc).__name__}")
            return
        assert batch_error is None, f"engine accepted a change batch rejects: {batch_error}"
        event("accepted, lines moved" if not delta.empty else "accepted, no line moved")
        self.records = proposed
        result = self.engine.result()
        assert result.digest == expected.digest
        self.check_delta(delta, result)
        self.previous = result

    def check_delta(self, delta: Delta, result: Any) -> None:
        before = Counter(self.previous.lines)
        before.subtract(delta.removed)
        before.update(delta.added)
        assert +before == Counter(result.lines)
        scheduled = Counter(self.previous.schedule)
        scheduled.subtract(delta.scheduled_removed)
        scheduled.update(delta.scheduled_added)
        assert +scheduled == Counter(result.schedule)
        for statement in delta.statements:
            assert result.statement(statement.payee, statement.period) == statement
        for payee, period in delta.emptied:
            assert result.statement(payee, period) is None
        old = {(s.payee, s.period): s for s in self.previous.statements}
        new = {(s.payee, s.period): s for s in result.statements}
        moved = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        reported = {(s.payee, s.period) for s in delta.statements} | set(delta.emptied)
        assert moved <= reported

    def upsert(self, record: dict[str, Any]) -> None:
        key = key_of(record)
        proposed = dict(self.records)
        if key in self.records:
            proposed[key] = replaced(self.records[key], record)
            self.change(proposed, lambda: self.engine.correct(record))
        else:
            proposed[key] = [record]
            self.change(proposed, lambda: self.engine.add(record))

    def signed_at(self, contract_id: str) -> datetime:
        versions = self.records.get(("contract", contract_id))
        if versions is None:
            return START
        return datetime.fromisoformat(current(versions)["signed_at"])

    # ---- rules

    @rule(number=st.integers(1, 6), customer_number=st.integers(1, 4), rep_number=st.integers(1, 2),
          product=st.sampled_from(["marriage-repair", "individual", "family"]),
          amount=amounts, signed_at=instants, term=st.sampled_from([1, 3, 12]),
          currency=st.sampled_from(["plan", "plan", "USD", "EUR"]))
    def put_contract(self, number: int, customer_number: int, rep_number: int, product: str,
                     amount: str, signed_at: str, term: int, currency: str) -> None:
        # Other currencies only under a plan with exchange rates, where they convert.
        if currency == "plan" or not self.plan.exchange_rates:
            currency = self.plan.currency
        self.upsert({"type": "contract", "id": f"K{number}", "customer": f"C{customer_number}",
                     "rep": f"R{rep_number}", "product": product, "amount": amount,
                     "currency": currency, "signed_at": signed_at, "term_months": term})

    @rule(number=st.integers(1, 10), contract=st.integers(1, 6), offset=offsets,
          amount=st.sampled_from(["100.00", "500.00", "1000.00", "0.01", "6000.00"]))
    def put_payment(self, number: int, contract: int, offset: timedelta, amount: str) -> None:
        paid_at = (self.signed_at(f"K{contract}") + offset).isoformat()
        self.upsert({"type": "payment", "id": f"P{number}", "contract": f"K{contract}",
                     "amount": amount, "paid_at": paid_at})

    @rule(number=st.integers(1, 5), contract=st.integers(1, 6), offset=offsets,
          amount=st.sampled_from(["100.00", "333.33", "1000.00", "12000.00"]),
          payment=st.none() | st.integers(1, 10))
    def put_refund(self, number: int, contract: int, offset: timedelta, amount: str,
                   payment: int | None) -> None:
        refunded_at = (self.signed_at(f"K{contract}") + offset).isoformat()
        self.upsert({"type": "refund", "id": f"F{number}", "contract": f"K{contract}",
                     "amount": amount, "refunded_at": refunded_at, "reason": "r",
                     "payment": None if payment is None else f"P{payment}"})

    @rule(number=st.integers(1, 6), contract=st.integers(1, 6), offset=offsets,
          score=st.sampled_from([30, 60, 75, 95]))
    def put_survey(self, number: int, contract: int, offset: timedelta, score: int) -> None:
        surveyed_at = (self.signed_at(f"K{contract}") + offset).isoformat()
        self.upsert({"type": "satisfaction", "id": f"S{number}", "contract": f"K{contract}",
                     "score": score, "surveyed_at": surveyed_at})

    @rule(number=st.integers(1, 4), contract=st.integers(1, 6), offset=offsets,
          upheld=st.booleans())
    def put_complaint(self, number: int, contract: int, offset: timedelta, upheld: bool) -> None:
        filed_at = (self.signed_at(f"K{contract}") + offset).isoformat()
        self.upsert({"type": "complaint", "id": f"Q{number}", "contract": f"K{contract}",
                     "filed_at": filed_at, "upheld": upheld})

    @rule(rep_number=st.integers(1, 2), month=st.integers(1, 6),
          value=st.sampled_from(["1000.00", "12000.00", "30000.00"]))
    def put_target(self, rep_number: int, month: int, value: str) -> None:
        self.upsert({"type": "target", "rep": f"R{rep_number}", "period": f"2025-{month:02d}",
                     "metric": "bookings", "value": value})

    @rule(number=st.integers(1, 4), owner=st.integers(1, 2),
          referrer=st.none() | st.integers(1, 4))
    def correct_customer(self, number: int, owner: int, referrer: int | None) -> None:
        referred_by = None if referrer is None or referrer == number else f"C{referrer}"
        self.upsert(customer(f"C{number}", f"R{owner}", referred_by))

    @rule(number=st.integers(1, 2), zone=st.sampled_from(ZONES),
          manager=st.sampled_from([None, "R3", "R1", "R2"]),
          kind=st.sampled_from(["staff", "staff", "agent"]))
    def correct_rep(self, number: int, zone: str, manager: str | None, kind: str) -> None:
        self.upsert(rep(f"R{number}", zone, manager, kind))

    @precondition(lambda self: any(key[0] != "rep" for key in self.records))
    @rule(data=st.data())
    def remove_record(self, data: st.DataObject) -> None:
        removable = sorted(k for k in self.records if k[0] not in ("rep",))
        key = data.draw(st.sampled_from(removable))
        proposed = {k: v for k, v in self.records.items() if k != key}
        record = current(self.records[key])
        self.change(proposed, lambda: self.engine.remove(record))

    @rule(data=st.data(), kind=st.sampled_from(["higher", "equal", "lower", "no original"]),
          correcting=st.booleans(), amount=amounts, explicit_one=st.booleans())
    def put_revision(self, data: st.DataObject, kind: str, correcting: bool, amount: str,
                     explicit_one: bool) -> None:
        """Add or correct a revision of a record, as a batch file would hold it."""
        if kind == "no original":
            number = data.draw(st.integers(1, 6))
            key = ("contract", f"K{number}")
            if key in self.records:
                return
            record = {"type": "contract", "id": f"K{number}", "customer": "C1", "rep": "R1",
                      "product": "individual", "amount": amount,
                      "currency": self.plan.currency, "signed_at": START.isoformat(),
                      "term_months": 1}
            top = 1
        else:
            key = data.draw(st.sampled_from(sorted(self.records)))
            record = dict(current(self.records[key]))
            record.pop("revision", None)
            if "amount" in record:
                record["amount"] = amount
            top = max(revision(v) for v in self.records[key])
        if kind == "lower":
            if top == 1:
                return
            number = data.draw(st.integers(1, top - 1))
        else:
            number = {"higher": top + data.draw(st.integers(1, 3)), "equal": top,
                      "no original": top + data.draw(st.integers(1, 3))}[kind]
        if number > 1 or explicit_one:
            record["revision"] = number
        proposed = dict(self.records)
        if correcting and key in self.records:
            proposed[key] = replaced(self.records[key], record)
            self.change(proposed, lambda: self.engine.correct(record))
        else:
            proposed[key] = [*self.records.get(key, []), record]
            self.change(proposed, lambda: self.engine.add(record))

    @rule()
    def export_and_restore(self) -> None:
        state = json.loads(json.dumps(self.engine.export_state()))
        restored = Engine.restore(self.plan, state)
        assert restored.result().digest == self.engine.result().digest
        assert restored.result().lines == self.engine.result().lines
        self.engine = restored

    @invariant()
    def equals_batch(self) -> None:
        if not hasattr(self, "engine"):
            return
        expected = self.batch(self.records)
        result = self.engine.result()
        assert result.lines == expected.lines
        assert result.schedule == expected.schedule
        assert result.statements == expected.statements
        assert result.digest == expected.digest


EngineMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestEngineMachine = EngineMachine.TestCase


class ConstructMachine(EngineMachine):
    """The same random changes under plans with draws, count tiers, versions and rates."""

    @initialize(plan_index=st.integers(0, len(CONSTRUCT_PLANS) - 1),
                as_of=st.sampled_from(AS_OF))
    def start(self, plan_index: int, as_of: str) -> None:
        self.begin(construct_plan_of(plan_index), as_of)


ConstructMachine.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestConstructMachine = ConstructMachine.TestCase
