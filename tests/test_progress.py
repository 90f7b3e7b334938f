"""Progress: pro-rating, ranks, alerts and amounts still needed, with exact values.

The fixture has four reps: R1 and R3 in Asia/Shanghai (team HQ), R2 and R4 in
America/Los_Angeles (team West), one contract each in March 2025, and
bookings targets for R1 (62,000.00), R2 (31,000.00) and R4 (10,000.00).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from helpers import ROOT, read_jsonl, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import EvaluationError, load_plan, load_records
from commission_engine.engine import Engine
from commission_engine.progress import days_elapsed, progress

PLAN = ROOT / "tests" / "plans" / "progress.plan"
RECORDS = ROOT / "tests" / "cases" / "progress" / "records.jsonl"
MIDDLE = "2025-03-16T12:00:00+08:00"


@pytest.fixture(scope="module")
def plan():
    return load_plan(PLAN.read_text(encoding="utf-8"), str(PLAN))


def rows_at(plan, as_of: str, period: str | None = None) -> dict:
    records = load_records(read_jsonl(RECORDS))
    return {row.payee: row for row in progress(plan, records, datetime.fromisoformat(as_of),
                                                period)}


@pytest.mark.parametrize(("period", "as_of", "zone", "expected"), [
    # Month start: the first instant of March completes no day of it.
    ("2025-03", "2025-03-01T00:00:00+08:00", "Asia/Shanghai", (0, 31)),
    # The same instant is still 28 February in Los Angeles: 27 days done.
    ("2025-02", "2025-03-01T00:00:00+08:00", "America/Los_Angeles", (27, 28)),
    ("2025-03", "2025-03-01T00:00:00+08:00", "America/Los_Angeles", (0, 31)),
    # Middle: noon on the 16th in Shanghai is 21:00 on the 15th in Los Angeles.
    ("2025-03", MIDDLE, "Asia/Shanghai", (15, 31)),
    ("2025-03", MIDDLE, "America/Los_Angeles", (14, 31)),
    # End: the last second of March, and the first instant of April.
    ("2025-03", "2025-03-31T23:59:59+08:00", "Asia/Shanghai", (30, 31)),
    ("2025-03", "2025-04-01T00:00:00+08:00", "Asia/Shanghai", (31, 31)),
    ("2025-03", "2025-04-01T00:00:00+08:00", "America/Los_Angeles", (30, 31)),
    ("2025-03", "2025-04-01T00:00:00-07:00", "America/Los_Angeles", (31, 31)),
])
def test_days_elapsed(period, as_of, zone, expected):
    assert days_elapsed(period, datetime.fromisoformat(as_of), zone) == expected


def test_pace_month_middle(plan):
    rows = rows_at(plan, MIDDLE)
    shanghai = rows["R1"].targets[0]
    assert shanghai.measure == Decimal("20000.00")
    assert shanghai.expected == Decimal("30000.00")
    # 20,000 / 62,000 = 10/31, exact to the library's 60 significant digits.
    assert shanghai.completion == Decimal(
        "0.322580645161290322580645161290322580645161290322580645161290")
    los_angeles = rows["R2"].targets[0]
    assert los_angeles.expected == Decimal("14000.00")
    assert rows["R2"].days_elapsed == 14


def test_pace_month_start(plan):
    rows = rows_at(plan, "2025-03-01T00:00:00+08:00", "2025-03")
    assert rows["R1"].targets[0].expected == 0
    assert rows["R1"].days_elapsed == 0
    # Nothing is expected yet, so the pace alert cannot fire on day 0.
    assert [a.name for a in rows["R1"].fired] == ["low_bookings"]


def test_pace_month_end(plan):
    rows = rows_at(plan, "2025-04-01T00:00:00+08:00", "2025-03")
    assert rows["R1"].targets[0].expected == Decimal("62000.00")
    assert rows["R1"].days_elapsed == 31
    # Los Angeles is at 09:00 on 31 March: 30 of 31 days.
    assert rows["R2"].days_elapsed == 30
    assert rows["R2"].targets[0].expected == Decimal(31000) * 30 / 31
    assert rows["R2"].targets[0].expected == Decimal("30000.00")


def test_own_period_by_zone(plan):
    """At 2025-03-01T00:00+08:00 each rep is in its own local month."""
    rows = rows_at(plan, "2025-03-01T00:00:00+08:00")
    assert rows["R1"].period == "2025-03"
    assert rows["R2"].period == "2025-02"
    assert (rows["R2"].days_elapsed, rows["R2"].days_in_period) == (27, 28)


def test_rank_ties_by_payee_id(plan):
    rows = rows_at(plan, MIDDLE)
    ranks = {payee: (row.owed, row.rank_overall, row.rank_in_team) for payee, row in rows.items()}
    assert ranks["R4"] == (Decimal("3300.00"), 1, 1)
    # R1 and R3 both have 1,000.00: the lower payee id ranks first.
    assert ranks["R1"] == (Decimal("1000.00"), 2, 1)
    assert ranks["R3"] == (Decimal("1000.00"), 3, 2)
    assert ranks["R2"] == (Decimal("500.00"), 4, 2)


def test_rows_sorted_by_rank(plan):
    records = load_records(read_jsonl(RECORDS))
    rows = progress(plan, records, datetime.fromisoformat(MIDDLE))
    assert [row.payee for row in rows] == ["R4", "R1", "R3", "R2"]


def test_alert_behind_pace(plan):
    alert = rows_at(plan, MIDDLE)["R1"].alerts[0]
    assert alert.name == "behind_on_bookings"
    assert alert.fired is True
    assert alert.expected == Decimal("30000.00")
    assert alert.threshold == Decimal("24000.00")
    assert alert.needed == Decimal("4000.00")


def test_alert_behind_pace_clear(plan):
    """R4 booked 60,000.00 against a pace of 4,516.13: no alert."""
    alert = rows_at(plan, MIDDLE)["R4"].alerts[0]
    assert alert.fired is False
    assert alert.needed == 0
    assert alert.expected == Decimal(
        "4516.12903225806451612903225806451612903225806451612903225806")


def test_alert_below_target(plan):
    alert = rows_at(plan, MIDDLE)["R2"].alerts[1]
    assert alert.name == "low_bookings"
    assert alert.fired is True
    assert alert.threshold == Decimal("15500.00")
    assert alert.needed == Decimal("5500.00")
    assert alert.expected is None


def test_alert_without_target(plan):
    alert = rows_at(plan, MIDDLE)["R3"].alerts[0]
    assert alert.fired is False
    assert alert.target is None
    assert alert.threshold is None


def test_alert_on_count_rounds_up(plan):
    """3 deals pro-rated for 15 of 31 days less 20% is 1.1612...; 1 deal is behind."""
    alert = rows_at(plan, MIDDLE)["R1"].alerts[2]
    assert alert.name == "few_deals"
    assert alert.threshold == Decimal(
        "1.16129032258064516129032258064516129032258064516129032258065")
    assert alert.fired is True
    assert alert.needed == 1


def test_alert_money_needed_rounds_up(plan, tmp_path):
    """A shortfall of 3,870.9677... CNY needs 3,870.97 to clear."""
    raw = read_jsonl(RECORDS)
    raw = [r for r in raw if not (r["type"] == "contract" and r["rep"] == "R1")]
    raw = [r if not (r["type"] == "target" and r["rep"] == "R1") else
           {**r, "value": "10000.00"} for r in raw]
    rows = {row.payee: row for row in progress(plan, load_records(raw),
                                                datetime.fromisoformat(MIDDLE))}
    alert = rows["R1"].alerts[0]
    assert alert.threshold == Decimal(
        "3870.96774193548387096774193548387096774193548387096774193548")
    assert alert.needed == Decimal("3870.97")


def test_needed_to_reach_target(plan):
    rows = rows_at(plan, MIDDLE)
    assert rows["R1"].targets[0].needed == Decimal("42000.00")
    assert rows["R4"].targets[0].needed == 0
    assert rows["R1"].targets[1].needed == 2
    assert rows["R3"].targets[0].needed is None


def test_needed_next_tier(plan):
    rows = rows_at(plan, MIDDLE)
    # "up to 50,000.00" keeps 50,000.00 in the 5% tier: one cent more is 8%.
    assert rows["R1"].tiers[0].needed == Decimal("30000.01")
    assert rows["R1"].tiers[0].next_tier == "8%"
    # "below 100,000.00" puts 100,000.00 itself in the 10% tier.
    assert rows["R4"].tiers[0].needed == Decimal("40000.00")
    assert rows["R4"].tiers[0].tier == "8%"


def test_needed_top_tier(plan):
    raw = read_jsonl(RECORDS)
    raw = [{**r, "amount": "150000.00"} if r.get("id") == "K4" else r for r in raw]
    rows = {row.payee: row for row in progress(plan, load_records(raw),
                                                datetime.fromisoformat(MIDDLE))}
    tier = rows["R4"].tiers[0]
    assert tier.tier == "10%"
    assert tier.needed is None
    assert tier.next_bound is None


def test_engine_progress_matches(plan):
    raw = read_jsonl(RECORDS)
    as_of = datetime.fromisoformat(MIDDLE)
    engine = Engine(plan, as_of, raw[:-1])
    engine.add(raw[-1])
    assert engine.progress() == progress(plan, load_records(raw), as_of)


def test_progress_command_dashboard():
    completed = run_cli("progress", str(PLAN), str(RECORDS), "--as-of", MIDDLE)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0] == ("progress of plan progress version 1, as of"
                        " 2025-03-16T12:00:00+08:00, currency CNY")
    assert lines[3] == ("#1 R4 Bo (team West, #1 in team)  2025-03, 14 of 31 days elapsed in"
                        " America/Los_Angeles")
    assert lines[4] == "  commission owed 3,300.00, scheduled 0.00, owed to date 3,300.00"
    assert lines[5] == ("  bookings     [####################]  600.0% of 10,000.00"
                        " (pace 4,516.13; target reached)")
    assert lines[6] == "  deals        [######..............]   33.3% of 3 (pace 1.35; 2 to go)"
    assert lines[7] == "  tiered       total 60,000.00, tier 8%; 40,000.00 more reaches 10%"
    assert lines[8] == ("  ALERT few_deals: deals 1 is more than 20% behind the pro-rated 1.35;"
                        " 1 more clears it")
    assert ("  ALERT behind_on_bookings: bookings 20,000.00 is more than 20% behind the"
            " pro-rated 30,000.00; 4,000.00 more clears it") in lines
    assert ("  ALERT low_bookings: bookings 10,000.00 is below 50% of the target 31,000.00;"
            " 5,500.00 more clears it") in lines
    assert "  bookings     20,000.00 measured, no target for the period" in lines
    assert lines[-1] == "4 payees, 8 alerts"


def test_progress_command_json():
    completed = run_cli("progress", str(PLAN), str(RECORDS), "--as-of", MIDDLE,
                        "--format", "json")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    first = data["payees"][0]
    assert first["payee"] == "R4"
    assert first["owed"] == "3300.00"
    assert first["tiers"][0]["needed"] == "40000.00"
    # R4 has reached its bookings target: nothing needed is still written as money.
    assert first["targets"][0]["needed"] == "0.00"
    second = data["payees"][1]
    assert second["alerts"][0] == {
        "alert": "behind_on_bookings", "kind": "behind", "quota": "bookings", "unit": "money",
        "percent": "20%", "fired": True, "measure": "20000.00", "target": "62000.00",
        "expected": "30000.00", "threshold": "24000.000", "needed": "4000.00"}


def test_progress_command_bad_period():
    completed = run_cli("progress", str(PLAN), str(RECORDS), "--period", "2025-13")
    assert completed.returncode == 2
    assert "--period '2025-13' is not a month" in completed.stderr


@pytest.mark.parametrize("command", ["run", "progress"])
def test_zero_target_rejected_by_every_command(command, tmp_path):
    lines = RECORDS.read_text(encoding="utf-8").replace('"62000.00"', '"0"')
    records = tmp_path / "records.jsonl"
    records.write_text(lines, encoding="utf-8")

    completed = run_cli(command, str(PLAN), str(records), "--as-of", MIDDLE)

    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert ("line 10 (target of R1 for 2025-03), field value: target value 0 is not positive"
            in completed.stderr)


ALERT_PLAN = """\
plan "alerts" version "1"
currency CNY

quota bookings on contract:
    measure total of contract.amount
    target from records

alert behind:
    when bookings is more than 20% behind pace

alert low:
    when bookings is below 50% of target
"""


def alert_records(amounts: list[str], target: str) -> list[dict]:
    records = [
        {"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "HQ", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2025-01-01T00:00:00+08:00"},
        {"type": "target", "rep": "R1", "period": "2025-03", "metric": "bookings",
         "value": target},
    ]
    for number, amount in enumerate(amounts, start=1):
        records.append({"type": "contract", "id": f"K{number}", "customer": "C1", "rep": "R1",
                        "product": "f", "amount": amount, "currency": "CNY",
                        "signed_at": "2025-03-01T10:00:00+08:00", "term_months": 1})
    return records


@settings(max_examples=20, deadline=None)
@given(cents=st.integers(1, 5_000_000), target_cents=st.integers(100, 10_000_000),
       day=st.integers(2, 31))
def test_needed_clears_alert(cents: int, target_cents: int, day: int) -> None:
    """Adding the amount needed clears each alert, and one cent less does not."""
    plan = load_plan(ALERT_PLAN)
    amount, target = f"{Decimal(cents) / 100:.2f}", f"{Decimal(target_cents) / 100:.2f}"
    as_of = datetime.fromisoformat(f"2025-03-{day:02d}T12:00:00+08:00")
    (row,) = progress(plan, load_records(alert_records([amount], target)), as_of)
    for index, alert in enumerate(row.alerts):
        if not alert.fired:
            continue
        (cleared,) = progress(plan, load_records(
            alert_records([amount, format(alert.needed, "f")], target)), as_of)
        assert cleared.alerts[index].fired is False
        short = alert.needed - Decimal("0.01")
        if short > 0:
            (still,) = progress(plan, load_records(
                alert_records([amount, format(short, "f")], target)), as_of)
            assert still.alerts[index].fired is True


@settings(max_examples=20, deadline=None)
@given(cents=st.integers(1, 9_999_999))
def test_needed_enters_next_tier(cents: int) -> None:
    """Adding the amount needed moves the period total into the next tier, one cent less does not."""
    plan = load_plan(PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(MIDDLE)
    amount = f"{Decimal(cents) / 100:.2f}"
    (row,) = progress(plan, load_records(alert_records([amount], "1.00")), as_of)
    tier = row.tiers[0]
    assert tier.needed is not None
    (entered,) = progress(plan, load_records(
        alert_records([amount, format(tier.needed, "f")], "1.00")), as_of)
    assert entered.tiers[0].tier == tier.next_tier
    short = tier.needed - Decimal("0.01")
    if short > 0:
        (below,) = progress(plan, load_records(
            alert_records([amount, format(short, "f")], "1.00")), as_of)
        assert below.tiers[0].tier == tier.tier


def test_tier_events_keep_own_period(plan):
    """An earlier month's tiered contract does not move the as-of month."""
    rows = [
        {"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai",
         "kind": "staff", "team": "HQ", "region": "X", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T10:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "20000.00", "currency": "CNY", "signed_at": "2025-02-10T10:00:00+08:00",
         "term_months": 1},
        {"type": "target", "rep": "R1", "period": "2025-03", "metric": "bookings",
         "value": "62000.00"},
    ]
    as_of = datetime.fromisoformat(MIDDLE)

    row, = progress(plan, load_records(rows), as_of)
    chosen, = progress(plan, load_records(rows), as_of, "2025-02")

    assert row.period == "2025-03"
    assert row.days_elapsed == 15
    assert row.targets[0].target == Decimal("62000.00")
    assert chosen.period == "2025-02"


@pytest.mark.parametrize("period", ["2025-13", "June", "2025-3"])
def test_progress_rejects_bad_period(plan, period):
    records = load_records(read_jsonl(RECORDS))
    as_of = datetime.fromisoformat(MIDDLE)

    with pytest.raises(EvaluationError) as caught:
        progress(plan, records, as_of, period)
    with pytest.raises(EvaluationError):
        Engine(plan, as_of, read_jsonl(RECORDS)).progress(period)

    assert str(caught.value) == (f"period {period!r} is not a month; write it as YYYY-MM,"
                                 " such as 2025-03")
