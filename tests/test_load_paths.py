"""The clean load of a batch agrees with the full load that reports every problem.

``load_records`` first tries the clean load, for the usual batch of plain
dicts with no revisions and nothing wrong. At the first problem it gives
up, and the full load validates the batch again and reports every problem. These properties
check that the two paths build the same ``RecordSet`` (values and the order
of every table and index). They also check that the clean load gives up
only when the full load finds a problem.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fuzzing import mutated_record_sets
from helpers import assert_same_record_set
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from commission_engine import RecordError, RecordSet, load_records, money, records
from commission_engine.limits import DEFAULT_LIMITS
from commission_engine.strategies import record_sets

TIME_FIELDS = ("created_at", "signed_at", "paid_at", "refunded_at", "held_at", "surveyed_at",
               "filed_at")
REFERENCE_FIELDS = ("customer", "rep", "owner", "manager", "referred_by", "contract", "payment")
AMOUNTS = ("0.00", "-1.00", "12.345", "12", "12.5", "12.30", "0.01", "99999999.99",
           Decimal("12.30"), Decimal("1.2E+3"), Decimal("12.3456"), 100)
OFFSETS = (timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-11)),
           timezone(timedelta(hours=5, minutes=45)))
ZONES = ("Asia/Shanghai", "America/New_York", "Europe/Berlin")


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _change(draw: DrawFn, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make one change that only the cross-record checks or the sorting of events see."""
    rows = [dict(row) for row in rows]
    index = draw(st.integers(0, len(rows) - 1))
    row = rows[index]
    times = [name for name in TIME_FIELDS if name in row]
    kind = draw(st.sampled_from(["offset", "aware", "earlier", "same_time", "paid_by",
                                 "amount", "duplicate", "target", "reference"]))
    moment = _instant(row[times[0]]) if times else None
    if kind == "offset" and moment is not None:
        # The same instant written with another UTC offset.
        row[times[0]] = moment.astimezone(draw(st.sampled_from(OFFSETS))).isoformat()
    elif kind == "aware" and moment is not None:
        # A datetime from the Python API, in a zone with daylight saving time.
        row[times[0]] = moment.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))
    elif kind == "earlier" and moment is not None:
        days = draw(st.integers(1, 800))
        row[times[0]] = (moment - timedelta(days=days)).isoformat()
    elif kind == "same_time" and times:
        # Events of one contract at one instant are ordered by id.
        others = [other for other in rows if times[0] in other and other is not row
                  and other.get("contract") == row.get("contract")]
        if others:
            other = draw(st.sampled_from(others))
            row[times[0]] = other[times[0]]
            if draw(st.booleans()):
                # Swap the two in the batch, so the later id may come first.
                where = next(place for place, item in enumerate(rows) if item is other)
                rows[index], rows[where] = other, row
    elif kind == "paid_by" and row.get("type") == "refund":
        # Name a payment, which may be of another contract, paid later or smaller.
        payments = [other["id"] for other in rows if other.get("type") == "payment"]
        if payments:
            row["payment"] = draw(st.sampled_from(payments))
    elif kind == "amount" and "amount" in row:
        row["amount"] = draw(st.sampled_from(AMOUNTS))
    elif kind == "duplicate":
        copy = dict(row)
        if "amount" in copy and draw(st.booleans()):
            copy["amount"] = "1.00"
        rows.insert(draw(st.integers(0, len(rows))), copy)
    elif kind == "target":
        rep = draw(st.sampled_from(["R1", "R2", "R9"]))
        target = {"type": "target", "rep": rep, "period": draw(st.sampled_from(["2025-01",
                                                                                 "2025-02"])),
                  "metric": draw(st.sampled_from(["sales", "new/customers"])),
                  "value": draw(st.sampled_from(["100", "2500.50"]))}
        rows.insert(draw(st.integers(0, len(rows))), target)
    else:
        names = [name for name in REFERENCE_FIELDS if name in row] or ["manager"]
        ids = sorted({str(other.get("id")) for other in rows} | {"missing"})
        row[draw(st.sampled_from(names))] = draw(st.sampled_from(ids))
    return rows


@st.composite
def changed_batches(draw: DrawFn) -> list[dict[str, Any]]:
    """Draw a consistent batch, make up to four changes, and maybe shuffle it."""
    rows: list[dict[str, Any]] = draw(record_sets(
        max_reps=3, max_customers=4, max_contracts=5, refund_rate=0.5, payment_rate=0.7))
    for _ in range(draw(st.integers(0, 4))):
        rows = _change(draw, rows)
    if draw(st.booleans()):
        rows = list(draw(st.permutations(rows)))
    return rows


@st.composite
def tied_batches(draw: DrawFn) -> list[dict[str, Any]]:
    """Draw a consistent batch where events of one contract share an instant, ids out of order."""
    rows: list[dict[str, Any]] = [dict(row) for row in draw(record_sets(
        max_reps=2, max_customers=3, max_contracts=4, refund_rate=0.7, payment_rate=0.8))]
    for _ in range(draw(st.integers(1, 4))):
        pairs = [(first, second) for first, row in enumerate(rows)
                 for second, other in enumerate(rows)
                 if first < second and "contract" in row and row["type"] == other["type"]
                 and row["contract"] == other["contract"]]
        if not pairs:
            break
        first, second = draw(st.sampled_from(pairs))
        field = records.EVENT_TIME_FIELD[rows[first]["type"]]
        rows[first][field] = rows[second][field]
        rows[first], rows[second] = rows[second], rows[first]
    return rows


def _outcome(load: Any, rows: list[Any]) -> Any:
    try:
        return load(rows)
    except RecordError as error:
        return error.problems, error.omitted


def _full(rows: list[Any], positions: list[str] | None = None) -> Any:
    return _outcome(lambda batch: records._load_reporting(batch, positions, DEFAULT_LIMITS),
                    rows)


def _assert_same_set(loaded: RecordSet, full: RecordSet) -> None:
    """Check the record sets as ``assert_same_record_set`` does, and the loaded one's event order."""
    assert_same_record_set(loaded, full)
    _assert_in_time_order(loaded)


def _assert_in_time_order(record_set: RecordSet) -> None:
    """Check that each per-contract and per-customer tuple is sorted by time, then id."""
    indexes = [(record_set.contracts_of_customer, "signed_at")]
    indexes += [(getattr(record_set, f"{name}_of"), field)
                for name, field in (("payments", "paid_at"), ("refunds", "refunded_at"),
                                    ("sessions", "held_at"), ("surveys", "surveyed_at"),
                                    ("complaints", "filed_at"))]
    for index, field in indexes:
        for items in index.values():
            assert list(items) == sorted(items, key=lambda item: (getattr(item, field), item.id))


def _plain(rows: list[Any]) -> bool:
    return all(type(row) is dict and "revision" not in row for row in rows)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(changed_batches(), tied_batches()))
def test_clean_load_matches_full_load(rows: list[dict[str, Any]]) -> None:
    # The command line names records by line, and blank lines are skipped.
    for positions in (None, [f"line {2 * number + 1}" for number in range(len(rows))]):
        clean = records._load_clean(rows, positions, DEFAULT_LIMITS)
        full = _full(rows, positions)
        if clean is not None:
            assert isinstance(full, RecordSet), full
            _assert_same_set(clean, full)
        else:
            assert not (isinstance(full, RecordSet) and _plain(rows))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_record_sets())
def test_load_records_matches_full_load(rows: list[Any]) -> None:
    got, expected = _outcome(load_records, rows), _full(rows)
    if isinstance(expected, RecordSet):
        assert isinstance(got, RecordSet), got
        _assert_same_set(got, expected)
    else:
        assert got == expected


BATCH = [
    {"type": "rep", "id": "R1", "name": "Rep", "timezone": "Asia/Shanghai", "kind": "staff",
     "team": "HQ", "region": "Beijing", "manager": None},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2024-12-01T10:00:00+08:00"},
    {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
     "amount": "1200.00", "currency": "CNY", "signed_at": "2025-01-01T10:00:00+08:00",
     "term_months": 3},
]


def test_revised_batch_takes_full_load() -> None:
    assert records._load_clean(BATCH, None, DEFAULT_LIMITS) is not None
    for revision in (1, 2):
        revised = [*BATCH, {**BATCH[-1], "amount": "1300.00", "revision": revision}]
        assert records._load_clean(revised, None, DEFAULT_LIMITS) is None
        assert _outcome(load_records, revised) == _full(revised)


amounts = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
    lambda amount: abs(amount.adjusted()) < 40)


@given(st.lists(st.lists(amounts, max_size=6), max_size=6))
def test_clean_totals_match_money_total(groups: list[list[Decimal]]) -> None:
    totals = records._totals(groups)
    expected = [money.total(group) for group in groups]
    assert [str(total) for total in totals] == [str(total) for total in expected]


@given(st.lists(st.sampled_from([Decimal("12.30"), Decimal("12.3"), Decimal("12"),
                                 Decimal("0.00"), Decimal("-1.00"), Decimal("1.234"),
                                 Decimal("1E+2")]), max_size=5),
       st.sampled_from(["CNY", "JPY", "BHD"]))
def test_one_currency_check_matches(found: list[Decimal], currency: str) -> None:
    def outcome(check: Any, *arguments: Any) -> bool:
        try:
            check(*arguments)
        except records._ProblemFound:
            return False
        return True

    expected = outcome(records._check_amounts_clean, found, [currency] * len(found))
    assert outcome(records._check_amounts_in, found, currency) == expected


def test_referral_loop_leaves_clean_load() -> None:
    customer = BATCH[1]
    rows = [BATCH[0], {**customer, "referred_by": "C2"},
            {**customer, "id": "C2", "referred_by": "C1",
             "created_at": "2024-12-01T02:00:00Z"}]
    assert records._load_clean(rows, None, DEFAULT_LIMITS) is None
    problems, _omitted = _outcome(load_records, rows)
    assert [problem.message for problem in problems] == [
        "the referral chain is a cycle: C1 -> C2 -> C1"]
