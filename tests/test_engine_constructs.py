"""Engine: exact deltas under draws, tiers by count, plan versions and exchange rates.

Each test also checks that the engine's result equals a batch evaluation of
the same records, digest included.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from commission_engine import RecordError, evaluate, load_plan
from commission_engine.engine import Delta, Engine

HEADER = '''plan "c" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
'''


def rep(zone: str = "Asia/Shanghai") -> dict[str, Any]:
    return {"type": "rep", "id": "R1", "name": "Li", "timezone": zone, "kind": "staff",
            "team": "HQ", "region": "Beijing", "manager": None}


CUSTOMER = {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
            "created_at": "2024-12-01T10:00:00+08:00"}


def contract(contract_id: str, amount: str, signed_at: str, term: int = 1,
             currency: str = "CNY") -> dict[str, Any]:
    return {"type": "contract", "id": contract_id, "customer": "C1", "rep": "R1",
            "product": "family", "amount": amount, "currency": currency,
            "signed_at": signed_at, "term_months": term}


def rows(lines: Any) -> list[tuple[str, str, str, Decimal]]:
    return [(line.period, line.kind, line.rule, line.amount) for line in lines]


def balances(delta: Delta) -> list[tuple[str, Decimal | None]]:
    return [(statement.period, statement.draw_balance) for statement in delta.statements]


def assert_batch(engine: Engine) -> None:
    expected = evaluate(engine.plan, engine.records(), engine.as_of)
    result = engine.result()
    assert result.lines == expected.lines
    assert result.schedule == expected.schedule
    assert result.statements == expected.statements
    assert result.digest == expected.digest


DRAW_PLAN = load_plan(HEADER + '''    rate 8% of contract.amount

draw ramp of base:
    recoverable 100.00 per period
    from 2025-01 until 2025-02
''')


def test_draw_recovers_added_contract() -> None:
    # January and February each advance 100.00, so the balance is 200.00.
    # K1 pays 80.00 in March, after the window, and all of it is recovered.
    engine = Engine(DRAW_PLAN, datetime.fromisoformat("2025-04-15T00:00:00+08:00"),
                    [rep(), CUSTOMER])
    assert rows(engine.result().lines) == [
        ("2025-01", "draw", "ramp", Decimal("100.00")),
        ("2025-02", "draw", "ramp", Decimal("100.00"))]
    assert [s.draw_balance for s in engine.result().statements] == [
        Decimal("100.00"), Decimal("200.00")]

    added = engine.add(contract("K1", "1000.00", "2025-03-05T10:00:00+08:00"))

    assert rows(added.added) == [
        ("2025-03", "commission", "base", Decimal("80.00")),
        ("2025-03", "draw", "ramp", Decimal("-80.00"))]
    assert added.removed == ()
    assert balances(added) == [("2025-03", Decimal("120.00"))]
    assert_batch(engine)

    removed = engine.remove(("contract", "K1"))

    assert rows(removed.removed) == rows(added.added)
    assert removed.added == ()
    assert removed.emptied == (("R1", "2025-03"),)
    assert [s.draw_balance for s in engine.result().statements] == [
        Decimal("100.00"), Decimal("200.00")]
    assert_batch(engine)


def test_draw_balance_moves_later_statements() -> None:
    # K1 pays 80.00 in January, so January advances only 20.00. February
    # still advances 100.00, but the balance its line explains falls from
    # 200.00 to 120.00, so the line is replaced.
    engine = Engine(DRAW_PLAN, datetime.fromisoformat("2025-03-15T00:00:00+08:00"),
                    [rep(), CUSTOMER])

    delta = engine.add(contract("K1", "1000.00", "2025-01-10T10:00:00+08:00"))

    assert rows(delta.added) == [
        ("2025-01", "commission", "base", Decimal("80.00")),
        ("2025-01", "draw", "ramp", Decimal("20.00")),
        ("2025-02", "draw", "ramp", Decimal("100.00"))]
    assert rows(delta.removed) == [("2025-01", "draw", "ramp", Decimal("100.00")),
                                   ("2025-02", "draw", "ramp", Decimal("100.00"))]
    assert balances(delta) == [("2025-01", Decimal("20.00")), ("2025-02", Decimal("120.00"))]
    assert_batch(engine)


def test_draw_balance_without_line_change() -> None:
    # April has only a line of another rule, so it shows the balance with no
    # draw line. K2 lifts January above the draw, so nothing is advanced in
    # January and April's balance falls from 120.00 to 100.00.
    plan = load_plan(DRAW_PLAN.source + '''
commission collected on payment:
    paid to contract.rep
    rate 1% of payment.amount
''')
    payment = {"type": "payment", "id": "P1", "contract": "K1", "amount": "1000.00",
               "paid_at": "2025-04-05T10:00:00+08:00"}
    engine = Engine(plan, datetime.fromisoformat("2025-05-15T00:00:00+08:00"),
                    [rep(), CUSTOMER, contract("K1", "1000.00", "2025-01-10T10:00:00+08:00"),
                     payment])
    april = engine.statement("R1", "2025-04")
    assert april is not None
    assert april.draw_balance == Decimal("120.00")

    delta = engine.add(contract("K2", "500.00", "2025-01-12T10:00:00+08:00"))

    assert balances(delta) == [("2025-01", None), ("2025-02", Decimal("100.00")),
                               ("2025-04", Decimal("100.00"))]
    assert_batch(engine)


COUNT_PLAN = load_plan(HEADER + '''    tiers of contract.amount per period by count, flat:
        1% up to 2
        2% above
''')


def test_count_tier_reprices_on_remove() -> None:
    # The third contract of March moves the month from 1% to 2% of 3,000.00,
    # so it is paid 60.00 less the 20.00 already paid. Removing the second
    # contract drops the count to 2, and the third contract is paid at 1%.
    engine = Engine(COUNT_PLAN, datetime.fromisoformat("2025-04-30T00:00:00+08:00"),
                    [rep(), CUSTOMER])
    engine.add(contract("K1", "1000.00", "2025-03-02T10:00:00+08:00"),
               contract("K2", "1000.00", "2025-03-03T10:00:00+08:00"))

    third = engine.add(contract("K3", "1000.00", "2025-03-04T10:00:00+08:00"))

    assert rows(third.added) == [("2025-03", "commission", "base", Decimal("40.00"))]
    assert [line.sources for line in engine.result().lines] == [("K1",), ("K2",), ("K3",)]

    removed = engine.remove(("contract", "K2"))

    assert rows(removed.removed) == [("2025-03", "commission", "base", Decimal("10.00")),
                                     ("2025-03", "commission", "base", Decimal("40.00"))]
    assert rows(removed.added) == [("2025-03", "commission", "base", Decimal("10.00"))]
    assert [s.total for s in removed.statements] == [Decimal("20.00")]
    assert_batch(engine)


VERSION_PLAN = load_plan(HEADER + '''    rate 8% of contract.amount
    cap 100.00 per period
    pay in contract.term_months monthly installments

version "2" from 2025-06-01

commission base on contract:
    paid to contract.rep
    rate 9% of contract.amount
    cap 150.00 per period
    pay in contract.term_months monthly installments
''')


def test_version_follows_corrected_date() -> None:
    engine = Engine(VERSION_PLAN, datetime.fromisoformat("2025-12-31T00:00:00+08:00"),
                    [rep(), CUSTOMER])

    may = engine.add(contract("K1", "1000.00", "2025-05-31T10:00:00+08:00"))
    june = engine.correct(contract("K1", "1000.00", "2025-06-01T10:00:00+08:00"))

    assert rows(may.added) == [("2025-05", "installment", "base", Decimal("80.00"))]
    assert may.added[0].explanation[-1].text == "priced by plan version 1"
    assert rows(june.added) == [("2025-06", "installment", "base", Decimal("90.00"))]
    assert june.added[0].explanation[-1].text == "priced by plan version 2"
    assert june.emptied == (("R1", "2025-05"),)
    assert_batch(engine)


def test_version_caps_own_lines() -> None:
    # K1's June installment (80.00) is priced by version 1 and K2 (180.00)
    # by version 2. Each version caps its own June lines, so only K2 is cut,
    # by 30.00 to version 2's cap of 150.00.
    engine = Engine(VERSION_PLAN, datetime.fromisoformat("2025-12-31T00:00:00+08:00"),
                    [rep(), CUSTOMER, contract("K1", "3000.00", "2025-05-20T10:00:00+08:00", 3)])

    delta = engine.add(contract("K2", "2000.00", "2025-06-10T10:00:00+08:00"))

    assert rows(delta.added) == [("2025-06", "adjustment", "base", Decimal("-30.00")),
                                 ("2025-06", "installment", "base", Decimal("180.00"))]
    assert delta.removed == ()
    assert [s.total for s in delta.statements] == [Decimal("230.00")]
    assert_batch(engine)


RATE_PLAN = load_plan(HEADER.replace("currency CNY\n", '''currency CNY
exchange rate USD 7.2 from 2025-01-01
exchange rate USD 7.3 from 2025-03-01
''') + '''    rate 8% of contract.amount
''')


def test_rate_follows_rep_zone() -> None:
    # 20:00 UTC on February 28 is March 1 in Shanghai (7.3) but February 28
    # in Los Angeles (7.2): 8% of 1,000.00 USD is 584.00 or 576.00 CNY.
    engine = Engine(RATE_PLAN, datetime.fromisoformat("2025-12-31T00:00:00+08:00"),
                    [rep(), CUSTOMER])

    added = engine.add(contract("K1", "1000.00", "2025-02-28T20:00:00Z", currency="USD"))
    moved = engine.correct(rep("America/Los_Angeles"))

    assert rows(added.added) == [("2025-03", "commission", "base", Decimal("584.00"))]
    assert added.added[0].explanation[0].text == (
        "contract K1 is in USD, converted at 1 USD = 7.3 CNY (the rate from 2025-03-01)")
    assert rows(moved.added) == [("2025-02", "commission", "base", Decimal("576.00"))]
    assert rows(moved.removed) == rows(added.added)
    assert_batch(engine)


def test_rate_missing_after_zone_change() -> None:
    # 02:00 on January 1 in Shanghai is still December 31 in Los Angeles,
    # before the first dollar rate, so the rep's new zone is rejected.
    engine = Engine(RATE_PLAN, datetime.fromisoformat("2025-12-31T00:00:00+08:00"),
                    [rep(), CUSTOMER,
                     contract("K1", "1000.00", "2025-01-01T02:00:00+08:00", currency="USD")])
    before = engine.result().digest

    with pytest.raises(RecordError) as caught:
        engine.correct(rep("America/Los_Angeles"))

    problem, = caught.value.problems
    assert problem.message == ("no exchange rate of USD is in force on 2024-12-31, its signing"
                               " date (the first is from 2025-01-01)")
    assert engine.result().digest == before
    assert rows(engine.result().lines) == [("2025-01", "commission", "base", Decimal("576.00"))]
    assert_batch(engine)
