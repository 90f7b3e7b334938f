"""Draws: recoverable advances paid back from later commission, and guarantees."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import ClosedPeriods, PlanError, load_plan, load_records
from commission_engine.strategies import record_sets

HEADER = '''plan "d" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
'''

PLAN = load_plan(HEADER + '''
draw ramp of base:
    for rep.kind is "staff"
    recoverable 1,000.00 per period
    recover at most 300.00 per period
    from 2025-01 until 2025-02

draw agent_minimum of base:
    for kind is "agent"
    guaranteed 100.00 per period
    from 2025-01 until 2025-02
''')

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")


def _rep(rep_id: str, kind: str) -> dict[str, Any]:
    return {"type": "rep", "id": rep_id, "name": rep_id, "timezone": "Asia/Shanghai",
            "kind": kind, "team": "", "region": "", "manager": None}


def _contract(contract_id: str, rep: str, amount: str, signed_at: str) -> dict[str, Any]:
    return {"type": "contract", "id": contract_id, "customer": "C1", "rep": rep,
            "product": "family", "amount": amount, "currency": "CNY", "signed_at": signed_at,
            "term_months": 1}


RECORDS = [
    _rep("R1", "staff"),
    _rep("A1", "agent"),
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2024-12-01T00:00:00+08:00"},
    _contract("K1", "R1", "3000.00", "2025-01-15T10:00:00+08:00"),
    _contract("K2", "R1", "15000.00", "2025-02-10T10:00:00+08:00"),
    _contract("K3", "R1", "20000.00", "2025-03-10T10:00:00+08:00"),
    _contract("K4", "R1", "20000.00", "2025-04-10T10:00:00+08:00"),
    _contract("K5", "A1", "400.00", "2025-02-10T10:00:00+08:00"),
]


def _draws(result: Any, payee: str) -> list[tuple[str, str, Decimal]]:
    return [(line.period, line.rule, line.amount) for line in result.lines
            if line.payee == payee and line.kind == "draw"]


def test_recoverable_draw_advances_then_recovers() -> None:
    result = PLAN.evaluate(load_records(RECORDS), AS_OF)

    # January: 300.00 earned, so 700.00 is advanced. February: 1,500.00 is
    # 500.00 above the draw, of which at most 300.00 is recovered. March and
    # April recover 300.00 and the last 100.00 from all they pay.
    assert _draws(result, "R1") == [
        ("2025-01", "ramp", Decimal("700.00")),
        ("2025-02", "ramp", Decimal("-300.00")),
        ("2025-03", "ramp", Decimal("-300.00")),
        ("2025-04", "ramp", Decimal("-100.00")),
    ]


def test_statement_shows_running_balance() -> None:
    result = PLAN.evaluate(load_records(RECORDS), AS_OF)

    balances = [(s.period, s.total, s.draw_balance) for s in result.statements if s.payee == "R1"]
    assert balances == [
        ("2025-01", Decimal("1000.00"), Decimal("700.00")),
        ("2025-02", Decimal("1200.00"), Decimal("400.00")),
        ("2025-03", Decimal("1700.00"), Decimal("100.00")),
        ("2025-04", Decimal("1900.00"), Decimal("0.00")),
    ]
    january = result.statement("R1", "2025-01")
    assert january is not None
    assert january.to_dict()["draw_balance"] == "700.00"
    rows = json.loads(result.to_json())["statements"]
    assert [row.get("draw_balance") for row in rows if row["payee"] == "R1"] == [
        "700.00", "400.00", "100.00", "0.00"]


def test_guaranteed_draw_is_never_recovered() -> None:
    result = PLAN.evaluate(load_records(RECORDS), AS_OF)

    # A1 earns nothing in January and 40.00 in February.
    assert _draws(result, "A1") == [
        ("2025-01", "agent_minimum", Decimal("100.00")),
        ("2025-02", "agent_minimum", Decimal("60.00")),
    ]
    assert [s.draw_balance for s in result.statements if s.payee == "A1"] == [None, None]
    assert result.lines[0].explanation[0].text == (
        "agent_minimum: base paid 0.00 in 2025-01, less than the draw of 100.00, so the draw"
        " pays 100.00; it is guaranteed and never recovered")


def test_draw_explains_recovery() -> None:
    result = PLAN.evaluate(load_records(RECORDS), AS_OF)
    march = next(line for line in result.lines
                 if line.payee == "R1" and line.period == "2025-03" and line.kind == "draw")

    assert march.explanation[0].text == (
        "ramp: base paid 2,000.00 after the draw ended in 2025-03, so 300.00 of the advanced"
        " draw is recovered, at most 300.00 a period (balance 100.00)")
    assert dict(march.explanation[0].values)["balance"] == "100.00"


def test_draw_of_open_period_is_scheduled() -> None:
    as_of = datetime.fromisoformat("2025-01-20T00:00:00+08:00")
    result = PLAN.evaluate(load_records(RECORDS), as_of)

    assert _draws(result, "R1") == []
    assert [(line.period, line.amount) for line in result.schedule if line.kind == "draw"
            and line.payee == "R1"] == [("2025-01", Decimal("700.00"))]


# ---------------------------------------------------------------- check errors


def _errors(body: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + body)
    return [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
            if d.severity == "error"]


def test_draw_needs_rule_amount_and_start() -> None:
    errors = _errors('''
draw ramp of bse:
    for rep.kind is "staff"
''')

    assert errors == [
        (8, 6, "draw 'ramp' does not say how much it pays",
         ("add a line such as 'recoverable 1,000.00 per period' or 'guaranteed 1,000.00 per"
          " period'")),
        (8, 6, "draw 'ramp' does not say when it starts",
         "add a line such as 'from 2025-01' or 'from 2025-01 until 2025-06'"),
        (8, 14, "no commission rule is named 'bse'", "did you mean 'base'?"),
    ]


def test_draw_amounts_and_periods() -> None:
    errors = _errors('''
draw ramp of base:
    guaranteed 0 per period
    recover at most 10.001 per period
    from 2025-06 until 2025-01
''')

    assert errors == [
        (9, 5, "a draw of 0 per period pays nothing", "write a draw above 0, or remove the line"),
        (10, 5, "a limit of 10.001 has more decimals than CNY allows (2)",
         "round the amount to the minor unit of CNY"),
        (10, 5, "a guaranteed draw is never recovered",
         "remove the 'recover at most' line, or make the draw recoverable"),
        (11, 5, "the draw ends (2025-01) before it starts (2025-06)",
         "swap the periods or correct one of them"),
    ]


def test_draw_condition_reads_rep_fields() -> None:
    errors = _errors('''
draw ramp of base:
    for rep.knd is "staff"
    recoverable 100.00 per period
    from 2025-01
''')

    assert len(errors) == 1
    assert errors[0][2] == "rep has no value 'knd'"
    assert errors[0][3] == "did you mean 'kind'?"


def test_draw_month_out_of_range() -> None:
    errors = _errors('''
draw ramp of base:
    recoverable 100.00 per period
    from 2025-13
''')

    assert errors == [(10, 5, "2025-13 is not a month",
                       "write the period as YYYY-MM, such as 2025-01")]


# ---------------------------------------------------------------- properties

LAW_PLAN = load_plan(HEADER + '''
draw ramp of base:
    recoverable 500.00 per period
    recover at most 120.00 per period
    from 2024-01 until 2024-06
''')
LAW_AS_OF = datetime.fromisoformat("2026-06-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3, start=datetime(2024, 1, 1).date(),
                   end=datetime(2025, 6, 30).date()))
def test_draw_never_recovers_more_than_advanced(rows: list[dict[str, Any]]) -> None:
    """Recoveries never pass what was advanced, and none takes more than the limit."""
    result = LAW_PLAN.evaluate(load_records(rows), LAW_AS_OF)

    by_payee: dict[str, Decimal] = {}
    for line in result.lines:
        if line.kind != "draw":
            continue
        assert line.amount >= Decimal("-120.00")
        by_payee[line.payee] = by_payee.get(line.payee, Decimal(0)) + line.amount
        assert by_payee[line.payee] >= 0
    for statement in result.statements:
        if statement.draw_balance is not None:
            assert statement.draw_balance >= 0
            assert statement.draw_balance <= Decimal("3000.00")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 1_500_000), min_size=1, max_size=10))
def test_recovered_total_matches_balance(cents: list[int]) -> None:
    """Month by month, the balance is what was advanced less what was recovered."""
    rows: list[dict[str, Any]] = [
        _rep("R1", "staff"),
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2023-12-01T00:00:00+08:00"},
    ]
    for index, value in enumerate(cents):
        if value:
            month = f"2024-{index + 1:02d}"
            rows.append(_contract(f"K{index}", "R1", str(Decimal(value).scaleb(-2)),
                                  f"{month}-10T10:00:00+08:00"))
    result = LAW_PLAN.evaluate(load_records(rows), LAW_AS_OF)

    advanced = sum((line.amount for line in result.lines
                    if line.kind == "draw" and line.amount > 0), Decimal(0))
    recovered = -sum((line.amount for line in result.lines
                      if line.kind == "draw" and line.amount < 0), Decimal(0))
    assert recovered <= advanced
    last = [s.draw_balance for s in result.statements if s.draw_balance is not None]
    if last:
        assert last[-1] == advanced - recovered


def test_cli_table_shows_draw_balance(tmp_path: Path) -> None:
    plan = tmp_path / "draws.plan"
    plan.write_text(HEADER + '''
draw ramp of base:
    recoverable 1,000.00 per period
    from 2025-01 until 2025-02
''', encoding="utf-8")
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps(row) + "\n" for row in RECORDS), encoding="utf-8")

    completed = run_cli("run", str(plan), str(records), "--as-of", "2025-12-31T00:00:00+08:00")

    assert completed.returncode == 0, completed.stderr
    assert "R1  2025-01  total 1,000.00 CNY, draw balance 700.00 CNY\n" in completed.stdout
    assert "R1  2025-02  total 1,000.00 CNY, draw balance 200.00 CNY\n" in completed.stdout
    assert "R1  2025-03  total 1,800.00 CNY, draw balance 0.00 CNY\n" in completed.stdout


def test_draw_explained_in_chinese() -> None:
    result = PLAN.evaluate(load_records(RECORDS), AS_OF)
    january = next(line for line in result.lines
                   if line.payee == "R1" and line.kind == "draw" and line.period == "2025-01")

    assert january.explain("zh-CN") == (
        "“ramp”：2025年1月规则“base”支付 ¥300.00，低于预支额 ¥1,000.00，因此预支 ¥700.00，"
        "以后从佣金中收回（余额 ¥700.00）")


CLAWBACK_PLAN = '''plan "d" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    on refund:
        claw back overpayment always

draw minimum of base:
    KIND 1,000.00 per period
    from 2024-01 until 2024-06
'''
CLAWBACK_RECORDS = [
    _rep("R1", "staff"),
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2023-12-01T00:00:00+08:00"},
    _contract("K1", "R1", "50000.00", "2024-03-10T10:00:00+08:00"),
    {"type": "refund", "id": "F1", "contract": "K1", "amount": "50000.00",
     "refunded_at": "2024-04-10T10:00:00+08:00", "reason": "request"},
]


@pytest.mark.parametrize("kind", ["guaranteed", "recoverable"])
def test_draw_does_not_top_up_earlier_clawback(kind: str) -> None:
    plan = load_plan(CLAWBACK_PLAN.replace("KIND", kind))
    result = plan.evaluate(load_records(CLAWBACK_RECORDS),
                           datetime.fromisoformat("2024-07-15T00:00:00+08:00"))

    april = [(line.kind, line.amount) for line in result.lines if line.period == "2024-04"]

    assert sorted(april) == [("clawback", Decimal("-5000.00")), ("draw", Decimal("1000.00"))]
    draw_line = next(line for line in result.lines
                     if line.period == "2024-04" and line.kind == "draw")
    assert "(not counting -5,000.00 of clawbacks of earlier periods)" in draw_line.explain()


def test_draw_tops_up_same_period_clawback() -> None:
    plan = load_plan(CLAWBACK_PLAN.replace("KIND", "guaranteed"))
    rows = [*CLAWBACK_RECORDS[:3], {**CLAWBACK_RECORDS[3], "refunded_at":
                                    "2024-03-20T10:00:00+08:00"}]
    result = plan.evaluate(load_records(rows), datetime.fromisoformat("2024-07-15T00:00:00+08:00"))

    march = sorted((line.kind, line.amount) for line in result.lines if line.period == "2024-03")

    assert march == [("clawback", Decimal("-5000.00")), ("commission", Decimal("5000.00")),
                     ("draw", Decimal("1000.00"))]


def test_closed_draw_adjustment_moves_balance() -> None:
    plan = load_plan(HEADER + '''
draw ramp of base:
    recoverable 1,000.00 per period
    from 2024-01 until 2024-02
''')
    base = [_rep("R1", "staff"), {"type": "customer", "id": "C1", "owner": "R1",
                                  "referred_by": None, "created_at": "2023-12-01T00:00:00+08:00"}]
    first = plan.evaluate(load_records(base), datetime.fromisoformat("2024-02-02T00:00:00+08:00"))
    paid = tuple(line for line in first.lines if line.period <= "2024-01")
    late = [_contract("K1", "R1", "5000.00", "2024-01-20T10:00:00+08:00"),
            _contract("K2", "R1", "30000.00", "2024-03-20T10:00:00+08:00")]

    result = plan.evaluate(load_records([*base, *late]),
                           datetime.fromisoformat("2024-06-01T00:00:00+08:00"),
                           closed=ClosedPeriods("2024-01", paid))

    balances = {s.period: s.draw_balance for s in result.statements}
    assert balances == {"2024-01": Decimal("1000.00"), "2024-02": Decimal("1500.00"),
                        "2024-03": Decimal("0.00")}
