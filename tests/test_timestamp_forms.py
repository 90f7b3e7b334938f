"""Timestamp forms: what the loader accepts, what it rejects, and the fix it suggests."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from commission_engine import RecordError, load_records
from commission_engine.json_schema import schema_of


def rows_with(signed_at: str) -> list[dict[str, Any]]:
    return [
        {"type": "rep", "id": "R1", "name": "Rep", "timezone": "Asia/Shanghai",
         "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T10:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "1200.00", "currency": "CNY", "signed_at": signed_at, "term_months": 3},
    ]


def only_problem(signed_at: str) -> Any:
    with pytest.raises(RecordError) as caught:
        load_records(rows_with(signed_at))
    problem, = caught.value.problems
    return problem


@pytest.mark.parametrize(("written", "suggested"), [
    ("2025-03-01", "2025-03-01T00:00:00"),
    ("2025-03-01 10:00:00", "2025-03-01 10:00:00"),
    ("2025-03-01T10:00:00", "2025-03-01T10:00:00"),
    ("2025-03-01T10:00", "2025-03-01T10:00"),
    ("2025-03-01 10:00:00.250", "2025-03-01 10:00:00.250"),
])
def test_missing_offset_fix(written: str, suggested: str) -> None:
    problem = only_problem(written)

    assert problem.message == (f"timestamp {written!r} has no UTC offset,"
                               " so the time it names is ambiguous")
    assert problem.fix == f'add one, such as "{suggested}+08:00" or "{suggested}Z"'


@pytest.mark.parametrize("suggested", ["2025-03-01T00:00:00+08:00", "2025-03-01 10:00:00+08:00",
                                       "2025-03-01 10:00:00.250Z"])
def test_suggested_form_loads(suggested: str) -> None:
    records = load_records(rows_with(suggested))

    assert records.contracts["K1"].signed_at.isoformat().startswith("2025-03-01")


@pytest.mark.parametrize(("written", "fix_start"), [
    ("2025-W10-1T10:00:00+08:00", "an ISO week date is not accepted"),
    ("2025-03-01t10:00:00+08:00", "write the T between date and time in upper case"),
    ("20250301T100000+0800", "write it as YYYY-MM-DDTHH:MM:SS with an offset"),
    ("2025-03-01T10:00:00.1234567+08:00", "write it as YYYY-MM-DDTHH:MM:SS with an offset"),
])
def test_odd_forms_rejected(written: str, fix_start: str) -> None:
    problem = only_problem(written)

    assert problem.message == f"timestamp {written!r} is not ISO 8601 in the accepted form"
    assert problem.fix.startswith(fix_start)


@pytest.mark.parametrize("written", ["2025-02-30T10:00:00+08:00", "2025-02-30"])
def test_impossible_date_rejected(written: str) -> None:
    problem = only_problem(written)

    assert problem.message == f"timestamp {written!r} is not a valid date and time"


@pytest.mark.parametrize("written", [
    "2025-03-01T10:00:00+08:00", "2025-03-01 10:00:00Z", "2025-03-01T10:00+0800",
    "2025-03-01T10:00:00,5-05:00", "2025-W10-1T10:00:00+08:00", "2025-03-01t10:00:00+08:00",
    "20250301T100000+0800", "2025-03-01T10:00:00.1234567+08:00",
])
def test_schema_pattern_matches_loader(written: str) -> None:
    pattern = schema_of("contract")["properties"]["signed_at"]["pattern"]
    try:
        load_records(rows_with(written))
        loaded = True
    except RecordError:
        loaded = False

    assert (re.search(pattern, written) is not None) == loaded


def test_schema_lists_revision() -> None:
    revision = schema_of("payment")["properties"]["revision"]

    assert revision["type"] == "integer"
    assert revision["minimum"] == 1
    assert "revision" not in schema_of("payment")["required"]


def test_schema_money_allows_numbers() -> None:
    amount = schema_of("payment")["properties"]["amount"]

    assert {"type": "number"} in amount["anyOf"]
    assert "parse_float=Decimal" in amount["description"]


def test_offset_with_seconds_rejected() -> None:
    odd_offset = timezone(timedelta(hours=8, seconds=1))
    problem = only_problem(datetime(2024, 1, 1, tzinfo=odd_offset))  # type: ignore[arg-type]

    assert problem.message == ("timestamp 2024-01-01T00:00:00+08:00:01 has a UTC offset"
                               " with seconds, which record text cannot carry")
    assert problem.fix == "convert it to UTC first, with .astimezone(timezone.utc)"


def test_whole_minute_offset_datetime_loads() -> None:
    moment = datetime(2024, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    records = load_records(rows_with(moment))  # type: ignore[arg-type]

    assert records.contracts["K1"].signed_at == moment
