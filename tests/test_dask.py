"""Evaluation on a two-worker Dask cluster gives the single-process result byte for byte.

One ``distributed.LocalCluster`` with two worker processes serves the whole
module. It listens on the loopback interface only, with no dashboard.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, ROOT, WORKED, read_jsonl, run_cli

from commission_engine import (
    ClosedPeriods,
    EvaluationError,
    Limits,
    RecordError,
    load_plan,
    load_records,
)
from commission_engine.examples import example_records

dask_bag = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")
from hypothesis import HealthCheck, given, settings

from commission_engine import dask as scale
from commission_engine.strategies import record_sets

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.generate import generate_records

# With dashboard_address=None the scheduler still serves its health routes on
# the loopback address, at port 8787 or, when another process uses that, at a
# free port, with this warning.
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")

REFERENCE_RECORDS = ROOT / "examples" / "counselling" / "records.jsonl"
PLAN_FILES = sorted((ROOT / "tests" / "plans").glob("*.plan"))
AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+08:00")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, protocol="tcp",
    )
    with cluster, distributed.Client(cluster) as connected:
        yield connected


def bag_of(records: list[Any], npartitions: int = 3) -> Any:
    return scale.records_bag(records, npartitions)


def assert_same(single: Any, spread: Any) -> None:
    assert spread.digest == single.digest
    assert spread.to_json() == single.to_json()


def plan_from(path: Path) -> Any:
    return load_plan(path.read_text(encoding="utf-8"), str(path))


def test_reference_data_matches(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    single = reference_plan.evaluate(load_records(rows), AS_OF)
    spread = scale.evaluate(reference_plan, bag_of(rows, 4), AS_OF, partitions=5)
    assert len(spread.lines) == len(single.lines)
    assert_same(single, spread)


@pytest.mark.parametrize("as_of", [
    "2025-03-31T23:59:59+08:00",
    "2025-12-31T00:00:00-08:00",
    "2027-06-01T00:00:00Z",
])
def test_generated_data_matches(client: Any, reference_plan: Any, as_of: str) -> None:
    rows = list(generate_records(3_000, seed=5))
    moment = datetime.fromisoformat(as_of)
    single = reference_plan.evaluate(load_records(rows), moment, "half-even")
    spread = scale.evaluate(reference_plan, bag_of(rows, 4), moment, "half-even")
    assert single.lines
    assert_same(single, spread)


def test_partition_count_does_not_matter(client: Any, reference_plan: Any) -> None:
    rows = list(generate_records(1_000, seed=9))
    single = reference_plan.evaluate(load_records(rows), AS_OF)
    for partitions in (1, 2, 7, 40):
        spread = scale.evaluate(reference_plan, bag_of(rows, 3), AS_OF, partitions=partitions)
        assert_same(single, spread)


def test_reversed_sequence_bag_matches(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    single = reference_plan.evaluate(load_records(rows), AS_OF)
    bag = dask_bag.from_sequence(rows[::-1], npartitions=5)
    spread = scale.evaluate(reference_plan, bag, AS_OF)
    assert_same(single, spread)


def closed_of(plan: Any, example: Any, rows: list[dict[str, Any]]) -> ClosedPeriods | None:
    """Return the closed periods an example names, paid without its late records."""
    if example.closed_through is None:
        return None
    late = set(example.closed_before)
    early = load_records([row for row in rows if row.get("id") not in late])
    paid = plan.evaluate(early, example.as_of, example.rounding)
    return ClosedPeriods(example.closed_through, tuple(
        line for line in paid.lines if line.period <= example.closed_through))


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda path: path.stem)
def test_plan_examples_match(client: Any, path: Path) -> None:
    plan = plan_from(path)
    examples = plan.checked.tree.examples
    if not examples:
        pytest.skip("the plan has no examples")
    for example in examples:
        rows = example_records(plan, example)
        options = {"partitions": 3}
        try:
            closed = closed_of(plan, example, rows)
        except (RecordError, EvaluationError):
            # The records before the late ones are invalid too. So the test
            # compares the evaluation of all of them without closed periods.
            closed = None
        try:
            single = plan.evaluate(load_records(rows), example.as_of, example.rounding, closed)
        except (RecordError, EvaluationError) as error:
            with pytest.raises(type(error)) as raised:
                scale.evaluate(plan, bag_of(rows, 2), example.as_of, example.rounding, closed,
                               **options)
            assert str(raised.value) == str(error)
            continue
        spread = scale.evaluate(plan, bag_of(rows, 2), example.as_of, example.rounding,
                                closed, **options)
        assert_same(single, spread)


# A plan whose per-payee totals cross payees: a quota credited to the
# customer's owner accelerates the rep's commission, period caps and floors
# hold each payee's total, and split shares go to two payees.
ACCELERATED_PLAN = """plan "accelerated" version "1"
currency CNY

quota bookings on contract:
    credited to customer.owner
    measure total of contract.amount
    target from records

quota deals on contract:
    measure count of contracts
    target 2

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        0.5x below 50%
        1x up to 100%
        1.5x above
    cap 3,000.00 per period
    floor 50.00 per period
    pay in contract.term_months monthly installments
    on refund:
        stop unpaid installments

commission shared on contract:
    split between contract.rep 70%, customer.owner 30%
    rate 1% of contract.amount
    accelerate by deals attainment:
        1x below 100%
        2x above
    cap 150.00 per period

override managers of base:
    level 1 5%
"""


def with_targets(rows: list[dict[str, Any]], value: str) -> list[dict[str, Any]]:
    """Add a bookings target of ``value`` for every rep in two months of three.

    The third month has no target, so no attainment applies there.
    """
    reps = [row["id"] for row in rows if row["type"] == "rep"]
    months = [f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13)
              if month % 3]
    targets = [{"type": "target", "rep": rep, "period": month, "metric": "bookings",
                "value": value} for rep in reps for month in months]
    return [*rows, *targets]


# Plans whose rules read across payees: referrals, overrides, splits, tiers,
# cohorts, accelerators, caps and floors, and the reference plan.
CROSS_PAYEE_PLANS = [
    pytest.param(path.read_text(encoding="utf-8"), id=path.stem)
    for path in (REFERENCE_PLAN, *(ROOT / "tests" / "plans" / name for name in (
        "overrides.plan", "field-split.plan", "field-tiers.plan", "field-tiers-flat.plan",
        "cohort-metrics.plan", "field-payments.plan", "field-running-totals.plan")))
] + [pytest.param(ACCELERATED_PLAN, id="accelerated")]


@pytest.mark.parametrize("text", CROSS_PAYEE_PLANS)
def test_generated_record_sets_match(client: Any, text: str) -> None:
    plan = load_plan(text)

    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(record_sets(max_reps=4, max_customers=6, max_contracts=8, referral_rate=0.5))
    def check(rows: list[dict[str, Any]]) -> None:
        rows = with_targets(rows, "20000.00")
        single = plan.evaluate(load_records(rows), AS_OF)
        spread = scale.evaluate(plan, bag_of(rows, 3), AS_OF, partitions=3)
        assert_same(single, spread)

    check()


def test_accelerators_and_limits_on_generated_data(client: Any) -> None:
    plan = load_plan(ACCELERATED_PLAN)
    rows = with_targets(list(generate_records(2_000, seed=13)), "30000.00")
    single = plan.evaluate(load_records(rows), AS_OF)
    kinds = {line.kind for line in single.lines}
    assert {"installment", "commission", "adjustment", "override"} <= kinds
    assert any("x 1.5" in line.explain() for line in single.lines)
    spread = scale.evaluate(plan, bag_of(rows, 4), AS_OF, partitions=5)
    assert_same(single, spread)


# Each plan reads a per-payee total of a payee other than the contract's rep:
# the owner's quota, cohort or tiered total, or the period cap of a split share.
ONE_EDGE_PLANS = {
    "quota-of-owner": """plan "quota of owner" version "1"
currency CNY

quota bookings on contract:
    credited to customer.owner
    measure total of contract.amount
    target 40,000.00

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        1x below 100%
        1.5x above
""",
    "owner-cohort-and-tiers": """plan "owner cohort and tiers" version "1"
currency CNY

cohort retention on contract:
    paid to customer.owner
    members when new customer
    retained when not fully refunded within 3 months
    when retention >= 80%
    amount 1% of total retained.amount
    paid in the cohort month plus 3 months

commission tiered on payment:
    paid to customer.owner
    tiers of payment.amount per period, marginal:
        2% up to 30,000.00
        4% above
""",
    "split-period-cap": """plan "split period cap" version "1"
currency CNY

commission shared on contract:
    split between contract.rep 50%, customer.owner 50%
    rate 5% of contract.amount
    cap 400.00 per period
""",
}


@pytest.mark.parametrize("name", sorted(ONE_EDGE_PLANS))
def test_one_cross_payee_total_matches(client: Any, name: str) -> None:
    plan = load_plan(ONE_EDGE_PLANS[name])
    rows = list(generate_records(3_000, seed=17))
    single = plan.evaluate(load_records(rows), AS_OF)
    spread = scale.evaluate(plan, bag_of(rows, 4), AS_OF, partitions=12)
    assert_same(single, spread)


def test_tiers_and_overrides_of_many_payees(client: Any) -> None:
    plan = load_plan(
        'plan "tiers and overrides" version "1"\n'
        "currency CNY\n\n"
        "commission tiered on payment:\n"
        "    paid to contract.rep\n"
        "    tiers of payment.amount per period, marginal:\n"
        "        5% up to 20,000.00\n"
        "        9% above\n\n"
        "override managers of tiered:\n"
        "    level 1 10%\n"
        "    level 2 5%\n"
    )
    rows = list(generate_records(2_000, seed=3))
    single = plan.evaluate(load_records(rows), AS_OF)
    assert any(line.kind == "override" for line in single.lines)
    spread = scale.evaluate(plan, bag_of(rows, 4), AS_OF, partitions=4)
    assert_same(single, spread)


def test_closed_periods_match(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    records = load_records(rows)
    before = reference_plan.evaluate(records, AS_OF)
    # Paid statements that miss every fifth line of the closed periods.
    closed_lines = [line for line in before.lines if line.period <= "2025-03"]
    paid = tuple(line for index, line in enumerate(closed_lines) if index % 5)
    closed = ClosedPeriods("2025-03", paid)
    single = reference_plan.evaluate(records, AS_OF, closed=closed)
    assert any(line.kind == "adjustment" for line in single.lines)
    spread = scale.evaluate(reference_plan, bag_of(rows, 3), AS_OF, closed=closed)
    assert_same(single, spread)


def test_worked_case_referral_matches(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(WORKED / "E8.jsonl")
    single = reference_plan.evaluate(load_records(rows), AS_OF)
    assert any(line.kind == "referral" for line in single.lines)
    spread = scale.evaluate(reference_plan, bag_of(rows, 2), AS_OF, partitions=2)
    assert_same(single, spread)


# ---------------------------------------------------------------- invalid input


def records_error(plan: Any, rows: list[Any], **options: Any) -> str:
    with pytest.raises(RecordError) as raised:
        scale.evaluate(plan, bag_of(rows, 3), AS_OF, **options)
    return str(raised.value)


def test_invalid_event_error_matches(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    payments = [index for index, row in enumerate(rows) if row["type"] == "payment"]
    rows[payments[0]] = {**rows[payments[0]], "amount": "-5.00"}
    rows[payments[-1]] = {**rows[payments[-1]], "contract": "K-missing"}
    with pytest.raises(RecordError) as single:
        load_records(rows)
    assert records_error(reference_plan, rows, partitions=4) == str(single.value)


def test_duplicate_event_ids_across_partitions(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    payments = [row for row in rows if row["type"] == "payment"]
    first, last = payments[0], payments[-1]
    assert first["contract"] != last["contract"]
    rows.append({**last, "id": first["id"]})
    with pytest.raises(RecordError) as single:
        load_records(rows)
    assert "duplicate id" in str(single.value)
    assert records_error(reference_plan, rows, partitions=6) == str(single.value)


def test_invalid_contract_error_matches(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(REFERENCE_RECORDS)
    contract = next(index for index, row in enumerate(rows) if row["type"] == "contract")
    rows[contract] = {**rows[contract], "customer": "C-missing"}
    with pytest.raises(RecordError) as single:
        load_records(rows)
    assert records_error(reference_plan, rows) == str(single.value)


def test_evaluation_error_matches(client: Any) -> None:
    plan = load_plan(
        'plan "terms" version "1"\n'
        "currency CNY\n\n"
        "commission base on contract:\n"
        "    paid to contract.rep\n"
        "    rate 8% of contract.amount\n"
        "    pay in contract.term_months * 100 monthly installments\n"
    )
    rows = read_jsonl(WORKED / "E1.jsonl")
    with pytest.raises(EvaluationError) as single:
        plan.evaluate(load_records(rows), AS_OF)
    with pytest.raises(EvaluationError) as spread:
        scale.evaluate(plan, bag_of(rows, 2), AS_OF)
    assert str(spread.value) == str(single.value)


def test_plan_limits_apply_on_workers(client: Any) -> None:
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"),
                     limits=Limits(max_installments=2))
    rows = read_jsonl(WORKED / "E1.jsonl")

    with pytest.raises(EvaluationError) as single:
        plan.evaluate(load_records(rows), AS_OF)
    with pytest.raises(EvaluationError) as spread:
        scale.evaluate(plan, bag_of(rows, 2), AS_OF)

    assert "(max_installments)" in str(single.value)
    assert str(spread.value) == str(single.value)


def revised_rows() -> list[dict[str, Any]]:
    """Return the reference records with corrections of an event, a contract and a customer.

    The corrected survey moves to a contract of another rep, so its two
    versions start out in different partitions.
    """
    rows = read_jsonl(REFERENCE_RECORDS)
    contracts = {row["id"]: row for row in rows if row["type"] == "contract"}
    survey = next(row for row in rows if row["type"] == "satisfaction")
    first = contracts[survey["contract"]]
    other = next(row for row in contracts.values() if row["rep"] != first["rep"])
    customer = next(row for row in rows if row["type"] == "customer")
    return [
        *rows,
        {**survey, "contract": other["id"], "score": 95, "surveyed_at": other["signed_at"],
         "revision": 2},
        {**other, "product": "teen", "revision": 3},
        {**customer, "referred_by": None, "revision": 2},
    ]


def test_revised_records_match(client: Any, reference_plan: Any) -> None:
    rows = revised_rows()
    single = reference_plan.evaluate(load_records(rows), AS_OF)
    spread = scale.evaluate(reference_plan, bag_of(rows, 4), AS_OF, partitions=6)
    assert_same(single, spread)


def test_clashing_revisions_error_matches(client: Any, reference_plan: Any) -> None:
    rows = revised_rows()
    rows.append({**rows[-3], "amount": "2.00"})
    with pytest.raises(RecordError) as single:
        load_records(rows)
    assert records_error(reference_plan, rows, partitions=6) == str(single.value)


def test_invalid_target_error_matches(client: Any) -> None:
    plan = load_plan(ONE_EDGE_PLANS["quota-of-owner"].replace(
        "target 40,000.00", "target from records"))
    rows = read_jsonl(WORKED / "E1.jsonl")
    reps = [row["id"] for row in rows if row["type"] == "rep"]
    # A rep without contracts, alone in the second partition, whose target
    # of 0 the partition that prices K1 must see too.
    idle = "R-idle"
    rows.append({"type": "rep", "id": idle, "name": "Idle", "timezone": "Asia/Shanghai",
                 "kind": "staff", "team": "", "region": "", "manager": None})
    rows += [{"type": "target", "rep": rep, "period": "2025-03", "metric": "bookings",
              "value": "50000.00"} for rep in reps]
    rows.append({"type": "target", "rep": idle, "period": "2025-03", "metric": "bookings",
                 "value": "0.00"})
    # A target of 0 is invalid input, rejected when the records load.
    with pytest.raises(RecordError) as single:
        plan.evaluate(load_records(rows), AS_OF)
    assert idle in str(single.value)
    with pytest.raises(RecordError) as spread:
        scale.evaluate(plan, bag_of(rows, 2), AS_OF, partitions=2)
    assert str(spread.value) == str(single.value)


def test_positions_name_lines(client: Any, reference_plan: Any) -> None:
    rows = read_jsonl(WORKED / "E1.jsonl")
    rows[-1] = {**rows[-1], "amount": "12000.001"}
    positioned = [(f"line {index * 2 + 1}", row) for index, row in enumerate(rows)]
    message = records_error(reference_plan, positioned, positioned=True)
    assert f"line {len(rows) * 2 - 1} (contract K1), field amount" in message


def test_arguments_are_checked(reference_plan: Any) -> None:
    rows = read_jsonl(WORKED / "E1.jsonl")
    with pytest.raises(TypeError, match="dask.bag.Bag"):
        scale.evaluate(reference_plan, rows, AS_OF)
    with pytest.raises(EvaluationError, match="no UTC offset"):
        scale.evaluate(reference_plan, bag_of(rows), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="at least 1"):
        scale.evaluate(reference_plan, bag_of(rows), AS_OF, partitions=0)


# ---------------------------------------------------------------- command line


def test_cli_dask_output_matches(client: Any) -> None:
    address = client.scheduler.address
    common = ("run", str(REFERENCE_PLAN), str(REFERENCE_RECORDS), "--as-of",
              "2026-01-01T00:00:00+08:00", "--format", "json")
    single = run_cli(*common)
    spread = run_cli(*common, "--dask", address)
    assert single.returncode == 0, single.stderr
    assert spread.returncode == 0, spread.stderr
    assert spread.stdout == single.stdout
    assert json.loads(spread.stdout)["digest"].startswith("sha256:")


def test_cli_dask_invalid_records_exit_1(client: Any, tmp_path: Path) -> None:
    rows = (WORKED / "E1.jsonl").read_text(encoding="utf-8").splitlines()
    rows.append('{"type": "payment", "id": "P-x", "contract": "K404",'
                ' "amount": "1.00", "paid_at": "2025-02-01T10:00:00+08:00"}')
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    common = ("run", str(REFERENCE_PLAN), str(path), "--as-of", "2026-01-01T00:00:00+08:00")
    single = run_cli(*common)
    spread = run_cli(*common, "--dask", client.scheduler.address)
    assert single.returncode == 1
    assert spread.returncode == 1
    assert spread.stderr == single.stderr
    assert f"line {len(rows)}" in spread.stderr


def test_cli_dask_unreachable_scheduler_exit_2() -> None:
    completed = run_cli("run", str(REFERENCE_PLAN), str(WORKED / "E1.jsonl"), "--as-of",
                        "2026-01-01T00:00:00+08:00", "--dask", "tcp://127.0.0.1:9",
                        "--dask-timeout", "2")
    assert completed.returncode == 2
    assert "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_dask_scheduler_without_workers_exit_2() -> None:
    with distributed.LocalCluster(n_workers=0, processes=False, host="127.0.0.1",
                                  protocol="tcp", dashboard_address=None) as empty:
        completed = run_cli("run", str(REFERENCE_PLAN), str(WORKED / "E1.jsonl"), "--as-of",
                            "2026-01-01T00:00:00+08:00", "--dask", empty.scheduler_address,
                            "--dask-timeout", "1")
    assert completed.returncode == 2
    assert "has no workers after 1 s" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "1e9", "abc"])
def test_cli_dask_timeout_bounded(seconds: str) -> None:
    completed = run_cli("run", str(REFERENCE_PLAN), str(WORKED / "E1.jsonl"), "--dask",
                        "tcp://127.0.0.1:9", "--dask-timeout", seconds)
    assert completed.returncode == 2
    assert (f"{seconds!r} is not a number of seconds above 0 and at most 3600"
            in completed.stderr)
    assert "Traceback" not in completed.stderr


def test_cli_dask_applies_limits(client: Any, tmp_path: Path) -> None:
    rows = (WORKED / "E1.jsonl").read_text(encoding="utf-8").splitlines()
    rows += [f'{{"type": "payment", "id": "P-x{index}", "contract": "K404",'
             f' "amount": "1.00", "paid_at": "2025-02-01T10:00:00+08:00"}}'
             for index in range(3)]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    common = ("run", str(REFERENCE_PLAN), str(path), "--as-of", "2026-01-01T00:00:00+08:00",
              "--limit", "max_reported_errors=2")
    single = run_cli(*common)
    spread = run_cli(*common, "--dask", client.scheduler.address)
    assert single.returncode == 1
    assert "and 1 more not shown" in single.stderr
    assert spread.returncode == 1
    assert spread.stderr == single.stderr


DRAW_PLAN = """plan "draws" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    pay in contract.term_months monthly installments

draw ramp of base:
    for rep.kind is "staff"
    recoverable 1,000.00 per period
    recover at most 300.00 per period
    from 2025-01 until 2025-06

draw agent_minimum of base:
    for kind is "agent"
    guaranteed 100.00 per period
    from 2025-01
"""


def test_draws_match_and_are_paid_once(client: Any) -> None:
    plan = load_plan(DRAW_PLAN)
    rows = list(generate_records(2_000, seed=23))
    single = plan.evaluate(load_records(rows), AS_OF)
    draws = [line for line in single.lines if line.kind == "draw"]
    assert any(line.amount > 0 for line in draws)
    assert any(line.amount < 0 for line in draws)
    assert any(statement.draw_balance for statement in single.statements)
    spread = scale.evaluate(plan, bag_of(rows, 4), AS_OF, partitions=5)
    assert_same(single, spread)
