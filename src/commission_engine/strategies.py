"""Hypothesis strategies for commission records and whole consistent record sets.

Use them to property-test your own plans::

    from hypothesis import given
    from commission_engine import load_plan, load_records
    from commission_engine.strategies import record_sets

    @given(record_sets(products=["family", "teen"]))
    def test_no_negative_installments(records):
        result = PLAN.evaluate(load_records(records), AS_OF)
        assert all(l.amount > 0 for l in result.lines if l.kind == "installment")

``record_sets`` draws lists of record dictionaries in the canonical JSON
shape: every reference resolves, every timestamp is written in its rep's time
zone, amounts have exactly the currency's minor digits, refunds never exceed
their contract, and events never precede their contract. Importing this module
registers a strategy for each record model with ``st.register_type_strategy``,
so ``st.from_type(Contract)`` draws valid contracts. It needs Hypothesis,
which the ``test`` extra installs; the library itself never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from pydantic import TypeAdapter

from . import money, periods
from .records import (
    Complaint,
    Contract,
    Customer,
    Payment,
    Refund,
    Rep,
    Satisfaction,
    Session,
    Target,
)

__all__ = [
    "DEFAULT_PRODUCTS",
    "DEFAULT_ZONES",
    "amounts",
    "complaints",
    "contracts",
    "customers",
    "payments",
    "record_sets",
    "refunds",
    "reps",
    "satisfactions",
    "sessions",
    "targets",
    "timestamps",
]

DEFAULT_PRODUCTS = ("marriage-repair", "family", "teen", "individual")
DEFAULT_ZONES = ("Asia/Shanghai", "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney")


def timestamps(zone: str = "Asia/Shanghai", start: date = date(2024, 1, 1),
               end: date = date(2025, 12, 31)) -> st.SearchStrategy[str]:
    """Draw ISO 8601 timestamps between two dates, written with the zone's UTC offset."""
    first = datetime.combine(start, time(0, 0), tzinfo=ZoneInfo(zone))
    span = int((datetime.combine(end, time(23, 59, 59), tzinfo=ZoneInfo(zone)) - first)
               .total_seconds())
    return st.integers(0, max(span, 0)).map(
        lambda seconds: (first + timedelta(seconds=seconds)).astimezone(ZoneInfo(zone))
        .isoformat())


def amounts(currency: str = "CNY", low: Decimal = Decimal("1"),
            high: Decimal = Decimal("100000")) -> st.SearchStrategy[str]:
    """Draw money amounts as strings with exactly the currency's minor digits."""
    digits = money.minor_digits(currency)
    scale = 10**digits
    return st.integers(int(low * scale), int(high * scale)).map(
        lambda units: money.format_amount(Decimal(units).scaleb(-digits), currency))


def reps(ids: st.SearchStrategy[str] = st.just("R1"),
         zones: Sequence[str] = DEFAULT_ZONES) -> st.SearchStrategy[dict[str, Any]]:
    """Draw rep records (as dictionaries) with no manager."""
    return st.fixed_dictionaries({
        "type": st.just("rep"),
        "id": ids,
        "name": st.sampled_from(["Rep One", "Rep Two", "Li Wei", "Ana García"]),
        "timezone": st.sampled_from(list(zones)),
        "kind": st.sampled_from(["staff", "agent"]),
        "team": st.sampled_from(["HQ", "West", "South"]),
        "region": st.sampled_from(["Beijing", "Shanghai", "Los Angeles", "Berlin"]),
        "manager": st.none(),
    })


def customers(owner: str = "R1", zone: str = "Asia/Shanghai",
              ids: st.SearchStrategy[str] = st.just("C1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw customer records owned by one rep, with no referrer."""
    return st.fixed_dictionaries({
        "type": st.just("customer"), "id": ids, "owner": st.just(owner),
        "referred_by": st.none(), "created_at": timestamps(zone),
    })


def contracts(customer: str = "C1", rep: str = "R1", zone: str = "Asia/Shanghai",
              currency: str = "CNY", products: Sequence[str] = DEFAULT_PRODUCTS,
              ids: st.SearchStrategy[str] = st.just("K1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw contract records of one customer and rep."""
    return st.fixed_dictionaries({
        "type": st.just("contract"), "id": ids, "customer": st.just(customer),
        "rep": st.just(rep), "product": st.sampled_from(list(products)),
        "amount": amounts(currency), "currency": st.just(currency),
        "signed_at": timestamps(zone), "term_months": st.sampled_from([1, 6, 12]),
    })


def _event(record_type: str, time_field: str, extra: dict[str, st.SearchStrategy[Any]],
           contract: str, zone: str, ids: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    fields = {"type": st.just(record_type), "id": ids, "contract": st.just(contract),
              time_field: timestamps(zone), **extra}
    return st.fixed_dictionaries(fields)


def payments(contract: str = "K1", zone: str = "Asia/Shanghai", currency: str = "CNY",
             ids: st.SearchStrategy[str] = st.just("P1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw payment records of one contract (their time is not tied to its signing)."""
    return _event("payment", "paid_at", {"amount": amounts(currency)}, contract, zone, ids)


def refunds(contract: str = "K1", zone: str = "Asia/Shanghai", currency: str = "CNY",
            ids: st.SearchStrategy[str] = st.just("F1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw refund records of one contract, naming no payment."""
    return _event("refund", "refunded_at",
                  {"amount": amounts(currency), "reason": st.just("customer request")},
                  contract, zone, ids)


def sessions(contract: str = "K1", zone: str = "Asia/Shanghai",
             ids: st.SearchStrategy[str] = st.just("S1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw counselling session records of one contract."""
    return _event("session", "held_at", {"minutes": st.integers(30, 120)}, contract, zone, ids)


def satisfactions(contract: str = "K1", zone: str = "Asia/Shanghai",
                  ids: st.SearchStrategy[str] = st.just("Q1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw satisfaction survey records of one contract, scored 0 to 100."""
    return _event("satisfaction", "surveyed_at", {"score": st.integers(0, 100)},
                  contract, zone, ids)


def complaints(contract: str = "K1", zone: str = "Asia/Shanghai",
               ids: st.SearchStrategy[str] = st.just("X1")) -> st.SearchStrategy[dict[str, Any]]:
    """Draw complaint records of one contract."""
    return _event("complaint", "filed_at", {"upheld": st.booleans()}, contract, zone, ids)


def targets(rep: str = "R1", currency: str = "CNY") -> st.SearchStrategy[dict[str, Any]]:
    """Draw monthly target records of one rep."""
    return st.fixed_dictionaries({
        "type": st.just("target"), "rep": st.just(rep),
        "period": st.tuples(st.integers(2024, 2025), st.integers(1, 12)).map(
            lambda ym: f"{ym[0]:04d}-{ym[1]:02d}"),
        "metric": st.just("new_contracts_amount"), "value": amounts(currency),
    })


def _chance(draw: Any, probability: float) -> bool:
    """Draw True with the given probability; shrinking moves toward False."""
    return bool(draw(st.integers(0, 999)) >= 1000 - round(probability * 1000))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _later(draw: Any, after: datetime, zone: str, max_days: int,
           until: datetime | None = None) -> str:
    limit = max_days * 86400
    if until is not None:
        limit = max(0, min(limit, int((until - after).total_seconds())))
    seconds = draw(st.integers(0, limit))
    return (after + timedelta(seconds=seconds)).astimezone(ZoneInfo(zone)).isoformat()


@st.composite
def record_sets(  # noqa: PLR0913
    draw: Any,
    *,
    products: Sequence[str] = DEFAULT_PRODUCTS,
    start: date = date(2024, 1, 1),
    end: date = date(2025, 12, 31),
    refund_rate: float = 0.2,
    zones: Sequence[str] = DEFAULT_ZONES,
    currency: str = "CNY",
    max_reps: int = 3,
    max_customers: int = 6,
    max_contracts: int = 10,
    referral_rate: float = 0.2,
    payment_rate: float = 0.5,
) -> list[dict[str, Any]]:
    """Draw a consistent record set: reps, customers, contracts and their events.

    Customers are created and contracts signed between ``start`` and ``end``
    (local dates of the rep); refunds, surveys and complaints follow within
    about a year of signing. ``refund_rate`` and ``referral_rate`` are the
    chances, from 0 to 1, that a contract has refunds and that a customer was
    referred by an earlier one; ``payment_rate`` is the chance that a contract
    is paid in monthly payments that split its amount exactly.
    """
    rep_count = draw(st.integers(1, max_reps))
    rep_records = []
    for index in range(rep_count):
        manager = None
        if index and draw(st.booleans()):
            manager = f"R{draw(st.integers(1, index))}"
        rep_records.append({
            "type": "rep", "id": f"R{index + 1}", "name": f"Rep {index + 1}",
            "timezone": draw(st.sampled_from(list(zones))),
            "kind": draw(st.sampled_from(["staff", "agent"])),
            "team": draw(st.sampled_from(["HQ", "West"])),
            "region": draw(st.sampled_from(["Beijing", "Los Angeles"])),
            "manager": manager,
        })
    zone_of = {rep["id"]: rep["timezone"] for rep in rep_records}

    customer_records: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, max_customers))):
        owner = f"R{draw(st.integers(1, rep_count))}"
        created = draw(timestamps(zone_of[owner], start, end))
        referred_by = None
        earlier = [c for c in customer_records if _instant(c["created_at"]) <= _instant(created)]
        if earlier and _chance(draw, referral_rate):
            referred_by = draw(st.sampled_from([c["id"] for c in earlier]))
        customer_records.append({
            "type": "customer", "id": f"C{index + 1}", "owner": owner,
            "referred_by": referred_by, "created_at": created,
        })

    records: list[dict[str, Any]] = [*rep_records, *customer_records]
    digits = money.minor_digits(currency)
    for index in range(draw(st.integers(0, max_contracts))):
        customer = draw(st.sampled_from(customer_records))
        rep = customer["owner"] if draw(st.integers(0, 9)) else f"R{draw(st.integers(1, rep_count))}"
        zone = zone_of[rep]
        first = max(_instant(customer["created_at"]),
                    datetime.combine(start, time(0, 0), tzinfo=ZoneInfo(zone)))
        last = datetime.combine(end, time(23, 59, 59), tzinfo=ZoneInfo(zone))
        if first > last:
            # The customer was created after the last day as this rep's calendar has it.
            continue
        signed = _later(draw, first, zone, 400, last)
        amount = draw(amounts(currency, Decimal(100), Decimal(50000)))
        contract_id = f"K{index + 1}"
        records.append({
            "type": "contract", "id": contract_id, "customer": customer["id"], "rep": rep,
            "product": draw(st.sampled_from(list(products))), "amount": amount,
            "currency": currency, "signed_at": signed,
            "term_months": draw(st.sampled_from([1, 3, 6, 12])),
        })
        term = records[-1]["term_months"]
        records += _contract_events(draw, contract_id, amount, _instant(signed), zone,
                                    refund_rate, digits)
        if _chance(draw, payment_rate):
            records += _payments(contract_id, amount, _instant(signed), zone, term, currency)
    return records


def _payments(contract_id: str, amount: str, signed: datetime, zone: str, term: int,
              currency: str) -> list[dict[str, Any]]:
    """Pay a contract in ``term`` monthly payments that split its amount exactly."""
    parts = money.allocate(Decimal(amount), term, currency)
    local = signed.astimezone(ZoneInfo(zone))
    out = []
    for index, part in enumerate(parts):
        day = periods.add_months(local.date(), index)
        moment = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=ZoneInfo(zone))
        out.append({"type": "payment", "id": f"P{contract_id[1:]}-{index + 1}",
                    "contract": contract_id, "amount": money.format_amount(part, currency),
                    "paid_at": max(moment, signed).astimezone(ZoneInfo(zone)).isoformat()})
    return out


def _contract_events(draw: Any, contract_id: str, amount: str, signed: datetime, zone: str,
                     refund_rate: float, digits: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    scale = 10**digits
    if _chance(draw, refund_rate):
        left = int(Decimal(amount) * scale)
        for number in range(draw(st.integers(1, 2))):
            if left <= 0:
                break
            units = left if draw(st.booleans()) else draw(st.integers(1, left))
            left -= units
            events.append({
                "type": "refund", "id": f"F{contract_id[1:]}-{number + 1}",
                "contract": contract_id,
                "amount": format(Decimal(units).scaleb(-digits), f".{digits}f"),
                "refunded_at": _later(draw, signed, zone, 400), "reason": "customer request",
            })
    for number in range(draw(st.integers(0, 2))):
        events.append({
            "type": "satisfaction", "id": f"Q{contract_id[1:]}-{number + 1}",
            "contract": contract_id, "score": draw(st.integers(0, 100)),
            "surveyed_at": _later(draw, signed, zone, 200),
        })
    if _chance(draw, 0.2):
        events.append({
            "type": "complaint", "id": f"X{contract_id[1:]}", "contract": contract_id,
            "filed_at": _later(draw, signed, zone, 200), "upheld": draw(st.booleans()),
        })
    return events


def _model(model: type[Any], strategy: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    adapter = TypeAdapter(model)
    return strategy.map(adapter.validate_python)


st.register_type_strategy(Rep, _model(Rep, reps()))
st.register_type_strategy(Customer, _model(Customer, customers()))
st.register_type_strategy(Contract, _model(Contract, contracts()))
st.register_type_strategy(Payment, _model(Payment, payments()))
st.register_type_strategy(Refund, _model(Refund, refunds()))
st.register_type_strategy(Session, _model(Session, sessions()))
st.register_type_strategy(Satisfaction, _model(Satisfaction, satisfactions()))
st.register_type_strategy(Complaint, _model(Complaint, complaints()))
st.register_type_strategy(Target, _model(Target, targets()))
