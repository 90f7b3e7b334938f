"""Calendar arithmetic: month steps against dateutil's relativedelta, and local day starts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from commission_engine.periods import add_months, start_of_day

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


# ---------------------------------------------------------------- start of a local day

# After a zone's last listed transition, zoneinfo repeats the zone's yearly
# rule, so later years than this range bring no new case.
SCAN_START = datetime(1890, 1, 1, tzinfo=timezone.utc)
SCAN_END = datetime(2110, 1, 1, tzinfo=timezone.utc)


def _round_trip_start(day: date, zone_name: str) -> datetime:
    """The start of a local day as it was computed before: to UTC, to the zone and back."""
    zone = ZoneInfo(zone_name)
    local = datetime.combine(day, time(0, 0), tzinfo=zone)
    return local.astimezone(timezone.utc).astimezone(zone).astimezone(timezone.utc)


def _transitions(zone: ZoneInfo) -> list[datetime]:
    """Return the UTC instants, to the second, where the zone's UTC offset changes.

    Offsets are sampled once a week, and each change is narrowed down by
    bisection, so a change that is undone within a week may be missed.
    """
    step = 7 * 86_400
    start, end = int(SCAN_START.timestamp()), int(SCAN_END.timestamp())

    def offset(seconds: int) -> timedelta | None:
        return datetime.fromtimestamp(seconds, zone).utcoffset()

    found = []
    before_at, before = start, offset(start)
    for at in range(start + step, end, step):
        now = offset(at)
        if now != before:
            low, high = before_at, at
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == before:
                    low = middle
                else:
                    high = middle
            found.append(datetime.fromtimestamp(high, timezone.utc))
        before_at, before = at, now
    return found


def test_start_of_day_matches_round_trip() -> None:
    checked = 0
    for zone_name in sorted(available_timezones()):
        zone = ZoneInfo(zone_name)
        for instant in _transitions(zone):
            local_day = instant.astimezone(zone).date()
            for day in (local_day - timedelta(days=1), local_day, local_day + timedelta(days=1)):
                got = start_of_day.__wrapped__(day, zone_name)
                expected = _round_trip_start(day, zone_name)
                assert got == expected, (zone_name, day)
                assert got.tzinfo is timezone.utc, (zone_name, day)
                assert got.isoformat() == expected.isoformat(), (zone_name, day)
                checked += 1
    # Each transition gives three days, and the zones have tens of thousands of them.
    assert checked > 100_000


@pytest.mark.parametrize(("zone_name", "day", "expected"), [
    # Clocks jumped from 2011-12-29 24:00 to 2011-12-31 00:00: the day never began.
    ("Pacific/Apia", date(2011, 12, 30), "2011-12-30T10:00:00+00:00"),
    # Daylight saving skipped midnight, so the day began at 01:00.
    ("America/Sao_Paulo", date(2018, 11, 4), "2018-11-04T03:00:00+00:00"),
    ("Asia/Shanghai", date(2025, 3, 1), "2025-02-28T16:00:00+00:00"),
    ("America/Los_Angeles", date(2025, 3, 9), "2025-03-09T08:00:00+00:00"),
])
def test_start_of_day_skipped_midnight(zone_name: str, day: date, expected: str) -> None:
    assert start_of_day(day, zone_name).isoformat() == expected
