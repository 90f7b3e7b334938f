"""Month steps: the library's add_months against dateutil's relativedelta as the oracle."""

from __future__ import annotations

from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from commission_engine.periods import add_months

# Anchors whose steps of up to 100 years either way stay within date's years 1 to 9999.
anchors = st.dates(min_value=date(101, 1, 1), max_value=date(9898, 12, 31))
month_steps = st.integers(min_value=-1200, max_value=1200)


@given(anchors, month_steps)
def test_add_months_matches_relativedelta(anchor: date, months: int) -> None:
    assert add_months(anchor, months) == anchor + relativedelta(months=months)


@pytest.mark.parametrize(("anchor", "months", "expected"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 1, 31), 2, date(2025, 3, 31)),
    (date(2024, 1, 31), 3, date(2024, 4, 30)),
    (date(2025, 3, 31), -1, date(2025, 2, 28)),
    (date(2025, 12, 15), 1, date(2026, 1, 15)),
    (date(2025, 1, 15), -1, date(2024, 12, 15)),
])
def test_add_months_clips_to_month_end(anchor: date, months: int, expected: date) -> None:
    assert add_months(anchor, months) == expected


def test_add_months_outside_years_raises() -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        add_months(date(9999, 12, 1), 1)
