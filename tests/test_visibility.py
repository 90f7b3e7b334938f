"""``RecordSet.visible_at`` keeps exactly the records dated at or before the as-of time.

The implementation cuts sorted per-contract tuples by bisection and copies
tables only when something is hidden. These tests compare it with a plain
filter of every record, including the order of every mapping, which
evaluation iterates.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commission_engine import RecordSet, load_records
from commission_engine.records import EVENT_TIME_FIELD
from commission_engine.strategies import record_sets

# (table, index, record type) of each event table.
EVENT_TABLES = [("payments", "payments_of", "payment"), ("refunds", "refunds_of", "refund"),
                ("sessions", "sessions_of", "session"), ("surveys", "surveys_of", "satisfaction"),
                ("complaints", "complaints_of", "complaint")]


def _filtered(records: RecordSet, as_of: datetime) -> dict[str, Any]:
    """Return every field of ``visible_at(as_of)``, computed by filtering each record."""
    contracts = {key: contract for key, contract in records.contracts.items()
                 if contract.signed_at <= as_of}
    expected: dict[str, Any] = {"contracts": contracts}
    for table, index, record_type in EVENT_TABLES:
        field = EVENT_TIME_FIELD[record_type]
        expected[table] = {key: record for key, record in getattr(records, table).items()
                           if getattr(record, field) <= as_of}
        visible_events = {key: tuple(item for item in items if getattr(item, field) <= as_of)
                          for key, items in getattr(records, index).items() if key in contracts}
        expected[index] = {key: items for key, items in visible_events.items() if items}
    expected["contracts_of_customer"] = {
        key: signed for key, items in records.contracts_of_customer.items()
        if (signed := tuple(item for item in items if item.id in contracts))}
    return expected


def _check(records: RecordSet, as_of: datetime) -> None:
    visible = records.visible_at(as_of)
    for name, expected in _filtered(records, as_of).items():
        got = getattr(visible, name)
        assert list(got.items()) == list(expected.items()), name
    assert visible.reps == records.reps
    assert visible.customers == records.customers
    assert visible.targets == records.targets


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets(refund_rate=0.5, payment_rate=0.8), st.integers(-3, 800),
       st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                        timezone(timedelta(hours=-7))]))
def test_visible_at_equals_a_filter(rows: list[dict[str, Any]], days: int,
                                    zone: timezone) -> None:
    records = load_records(rows)
    as_of = datetime(2024, 1, 1, 12, tzinfo=zone) + timedelta(days=days)
    _check(records, as_of)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets(refund_rate=0.5, payment_rate=0.8))
def test_visible_at_each_event_time(rows: list[dict[str, Any]]) -> None:
    # An as-of time equal to an event's time keeps that event: "at or before".
    records = load_records(rows)
    moments = {getattr(record, EVENT_TIME_FIELD[record.type])
               for table, _index, _kind in EVENT_TABLES
               for record in getattr(records, table).values()}
    for moment in sorted(moments)[:5]:
        _check(records, moment)
        _check(records, moment - timedelta(microseconds=1))
