"""Inputs the fuzzing suite found crashing or hanging the library, each kept as a test."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from helpers import one_contract

from commission_engine import RecordError, load_records

SIGNED = "2025-01-15T10:00:00+08:00"


def problems(rows: list[dict[str, Any]]) -> list[str]:
    with pytest.raises(RecordError) as caught:
        load_records(rows)
    return [problem.render() for problem in caught.value.problems]


def test_surrogate_in_whole_number_field() -> None:
    """The validator's message quoted the surrogate, and pydantic-core failed to encode it."""
    rows = one_contract("100.00", SIGNED)
    rows[2]["term_months"] = "\ud800"

    assert problems(rows) == [
        "record 3 (contract K1), field term_months: the text holds a lone UTF-16 surrogate"
        " (\\ud800 to \\udfff), which is not a character; decode the source text as UTF-8,"
        " or join surrogate pairs"]


def test_surrogate_in_id_printable() -> None:
    rows = one_contract("100.00", SIGNED)
    rows[2]["id"] = "K\udfff"

    rendered = problems(rows)

    assert rendered[0].startswith("record 3 (contract K\\udfff), field id:")
    assert rendered[0].encode("utf-8")


def test_surrogate_in_field_name() -> None:
    rows = one_contract("100.00", SIGNED)
    rows[0]["\ud800"] = "x"

    with pytest.raises(RecordError) as caught:
        load_records(rows)

    assert str(caught.value).encode("utf-8")
    assert caught.value.problems[0].position == "record 1"


def test_whole_number_huge_exponent() -> None:
    """int(Decimal("1E+999999999")) built a billion-digit integer, hanging the process."""
    rows = one_contract("100.00", SIGNED)
    rows[2]["term_months"] = Decimal("1E+999999999")

    assert problems(rows)[0].startswith(
        "record 3 (contract K1), field term_months: term_months 1E+999999999 has the exponent")


def test_whole_number_huge_int() -> None:
    """The out-of-range message printed an int of more than 4300 digits, which Python refuses."""
    rows = one_contract("100.00", SIGNED)
    rows[2]["term_months"] = 10**5000

    assert problems(rows)[0].startswith(
        "record 3 (contract K1), field term_months: term_months (a number of more than 30"
        " digits) is out of range")


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        pytest.param("Asia", "'Asia'", id="folder"),
        pytest.param("x" * 5000, "'" + "x" * 60 + "...'", id="name-too-long"),
        pytest.param("zone.tab", "'zone.tab'", id="data-file"),
        pytest.param("../etc/passwd", "'../etc/passwd'", id="path"),
    ],
)
def test_time_zone_never_opens_path(zone: str, shown: str) -> None:
    """ZoneInfo raised IsADirectoryError for "Asia" and OSError for a 5,000-character name."""
    rows = one_contract("100.00", SIGNED)
    rows[0]["timezone"] = zone

    assert problems(rows) == [
        f"record 1 (rep R1), field timezone: time zone {shown} is unknown; write an IANA name"
        ' such as "Asia/Shanghai"']
