"""A refund reprices the period its record was credited in, not its own month.

A tiered rule always claws back, so its plan takes no ``on refund`` clause.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import load_plan, load_records

TIERED = '''plan "t" version "1"
currency CNY

commission flat on contract:
    paid to contract.rep
    tiers of contract.amount per period, flat:
        8% below 100,000.00
        10% above

commission marginal on contract:
    paid to contract.rep
    tiers of contract.amount per period, marginal:
        5% up to 50,000.00
        8% up to 100,000.00
        10% above
'''

AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+08:00")

# (amount in cents, signing month, signing day, months until the refund, refunded in full)
_CONTRACTS = st.lists(
    st.tuples(st.integers(100, 15_000_000), st.integers(1, 6), st.integers(1, 28),
              st.integers(0, 4), st.booleans()),
    min_size=1, max_size=6)


def _rows(contracts: list[tuple[int, int, int, int, bool]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-01-01T00:00:00+08:00"},
    ]
    for index, (cents, month, day, delay, _full) in enumerate(contracts):
        amount = format(Decimal(cents).scaleb(-2), "f")
        rows.append({"type": "contract", "id": f"K{index}", "customer": "C1", "rep": "R1",
                     "product": "f", "amount": amount, "currency": "CNY",
                     "signed_at": f"2025-{month:02d}-{day:02d}T10:00:00+08:00",
                     "term_months": 1})
        rows.append({"type": "refund", "id": f"F{index}", "contract": f"K{index}",
                     "payment": None, "amount": amount, "reason": "",
                     "refunded_at": f"2025-{month + delay:02d}-{day:02d}T11:00:00+08:00"})
    return rows


PLAN = load_plan(TIERED)


def _flat(total: Decimal) -> Decimal:
    rate = Decimal("0.08") if total < 100_000 else Decimal("0.10")
    return (rate * total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _marginal(total: Decimal) -> Decimal:
    commission = (Decimal("0.05") * min(total, Decimal(50_000))
                  + Decimal("0.08") * min(max(total - 50_000, Decimal(0)), Decimal(50_000))
                  + Decimal("0.10") * max(total - 100_000, Decimal(0)))
    return commission.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _net_by_contract(rows: list[dict[str, Any]]) -> dict[tuple[str, str], Decimal]:
    result = PLAN.evaluate(load_records(rows), AS_OF)
    net: dict[tuple[str, str], Decimal] = {}
    for line in result.lines:
        key = (line.rule, line.sources[0])
        net[key] = net.get(key, Decimal(0)) + line.amount
    return net


@settings(max_examples=40, deadline=None)
@given(_CONTRACTS, st.randoms(use_true_random=False))
def test_refunds_net_out_in_credited_period(contracts: list[tuple[int, int, int, int, bool]],
                                            shuffler: Any) -> None:
    """Each rule's lines sum to its tiers on each signing month's net total, in any order.

    So a month whose contracts are all refunded in full nets 0, whatever
    month each refund falls in, and so does a refunded contract alone in its
    month. Next to others, a contract's own lines may differ from 0 by a cent
    per event, because each line is a difference of rounded period totals.
    """
    rows = _rows(contracts)
    with_refunds = [row for row in rows
            if row["type"] != "refund" or contracts[int(row["id"][1:])][4]]
    net = _net_by_contract(with_refunds)
    shuffled = list(with_refunds)
    shuffler.shuffle(shuffled)
    month_totals: dict[int, Decimal] = {}
    for cents, month, _day, _delay, full in contracts:
        net_cents = 0 if full else cents
        month_totals[month] = month_totals.get(month, Decimal(0)) + Decimal(net_cents).scaleb(-2)

    assert _net_by_contract(shuffled) == net
    flat = sum((amount for (rule, _id), amount in net.items() if rule == "flat"), Decimal(0))
    marginal = sum((amount for (rule, _id), amount in net.items() if rule == "marginal"),
                   Decimal(0))
    assert flat == sum((_flat(total) for total in month_totals.values()), Decimal(0))
    assert marginal == sum((_marginal(total) for total in month_totals.values()), Decimal(0))
    for index, (_cents, month, _day, _delay, full) in enumerate(contracts):
        alone = sum(1 for other in contracts if other[1] == month) == 1
        if full and alone:
            assert net.get(("flat", f"K{index}"), Decimal(0)) == 0
            assert net.get(("marginal", f"K{index}"), Decimal(0)) == 0


def test_late_full_refund_nets_zero() -> None:
    rows = _rows([(12_000_000, 1, 10, 1, True)])

    net = _net_by_contract(rows)

    assert net == {("flat", "K0"): Decimal("0.00"), ("marginal", "K0"): Decimal("0.00")}
