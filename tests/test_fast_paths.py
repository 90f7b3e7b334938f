"""Shortcuts of evaluation and settlement agree with the plain computation they replace."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from commission_engine import money, periods, schedule
from commission_engine.evaluate import _payout_month, settle
from commission_engine.results import LINE_ORDER, PayoutLine, ordered_groups, statements_of

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
# Each field takes few values, so lines often share a payee, a period and a due time.
lines = st.builds(
    PayoutLine,
    payee=st.sampled_from(["R1", "R10", "R2"]),
    period=st.sampled_from(["2024-12", "2025-01", "2025-02"]),
    kind=st.sampled_from(["installment", "bonus"]),
    rule=st.sampled_from(["base", "retention"]),
    amount=st.sampled_from([Decimal("1.00"), Decimal("-2.50")]),
    currency=st.just("CNY"),
    sources=st.sampled_from([("K1",), ("K2",), ("K1", "F1")]),
    explanation=st.just(()),
    due=st.sampled_from([START, START + timedelta(days=1),
                         (START + timedelta(hours=3)).astimezone(timezone(timedelta(hours=8)))]),
)


@given(st.lists(lines, max_size=30))
def test_ordered_groups_sort_as_the_line_order(found: list[PayoutLine]) -> None:
    expected = [list(group) for _key, group in itertools.groupby(
        sorted(found, key=LINE_ORDER), key=lambda line: (line.payee, line.period))]
    assert ordered_groups(found) == expected


@given(st.from_regex(r"20[0-9]{2}-(0[1-9]|1[0-2])", fullmatch=True), st.integers(0, 24),
       st.sampled_from(["UTC", "Asia/Shanghai", "America/Los_Angeles", "Australia/Sydney"]))
def test_payout_month_shifts_and_starts_the_period(period: str, offset: int, zone: str) -> None:
    shifted = periods.shift_period(period, offset)
    first = date(int(shifted[:4]), int(shifted[5:]), 1)
    assert _payout_month(period, offset, zone) == (shifted, periods.start_of_day(first, zone))


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(1, 24),
       st.sampled_from(["UTC", "Asia/Shanghai", "America/Sao_Paulo", "Pacific/Apia",
                        "Australia/Lord_Howe"]))
def test_due_calendar_matches_plain_steps(signing_day: date, count: int, zone: str) -> None:
    expected = []
    for months in range(count):
        due = periods.start_of_day(periods.add_months(signing_day, months), zone)
        local_day = periods.local_date(due, zone)
        expected.append((due, local_day.isoformat(), periods.period_of_date(local_day)))
    assert schedule.due_calendar(signing_day, count, zone) == tuple(expected)


def test_due_calendar_skipped_day() -> None:
    # Samoa skipped 2011-12-30, so the installment of that day falls due on the 31st.
    _first, second = schedule.due_calendar(date(2011, 11, 30), 2, "Pacific/Apia")
    assert second[1] == "2011-12-31"
    assert second[2] == "2011-12"


@given(st.lists(lines, max_size=30), st.sampled_from([START, START + timedelta(hours=12)]))
def test_settle_matches_two_passes(found: list[PayoutLine], as_of: datetime) -> None:
    owed = [line for line in found if line.due <= as_of]
    groups = ordered_groups(owed)
    with localcontext(money.EVALUATION_CONTEXT):
        expected_statements = statements_of(groups, None)
        got_lines, got_statements, got_later = settle(found, as_of, frozenset())

    assert got_lines == tuple(itertools.chain.from_iterable(groups))
    assert got_statements == expected_statements
    assert [str(s.total) for s in got_statements] == [str(s.total) for s in expected_statements]
    assert got_later == tuple(sorted((line for line in found if line.due > as_of), key=LINE_ORDER))
