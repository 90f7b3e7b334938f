"""The fast paths of field validation give the full path's value or its error.

A field validator reads the usual text in a shorter way and leaves every
other value to the full path, which writes every message. These tests draw
texts near the edge of the usual form and check that both paths agree. They
also check that the validators of one record, which call pydantic-core
directly, give the TypeAdapter's records and errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from commission_engine.limits import DEFAULT_LIMITS, Limits
from commission_engine.records import (
    _RECORD,
    FieldError,
    _parse_money,
    _parse_timestamp,
    _read_money,
    _read_timestamp,
    _whole_number,
    record_validators,
)

OFFSETS = ["Z", "z", "+00:00", "-00:00", "+08:00", "-05:00", "+05:30", "-09:30", "+14:00",
           "-12:00", "+23:59", "+24:00", "-99:99", "+0800", "+08", "", "+08:00Z", " +08:00"]


def _two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda number: f"{number:02d}")


@st.composite
def timestamp_texts(draw: st.DrawFn) -> str:
    """Draw a timestamp text in the usual form or near it, with years at the range edges."""
    year = draw(st.one_of(
        st.sampled_from([1, 999, 1899, 1900, 1901, 1999, 2000, 2025, 2099, 2199, 2200, 2201,
                         2999, 9999]),
        st.integers(0, 9999)))
    year_text = draw(st.sampled_from([f"{year:04d}", f"{year:04d}", str(year), f"{year:05d}"]))
    date = f"{year_text}-{draw(_two_digits(0, 13))}-{draw(_two_digits(0, 32))}"
    separator = draw(st.sampled_from(["T", "T", " ", "t", "x"]))
    time = f"{draw(_two_digits(0, 25))}:{draw(_two_digits(0, 61))}"
    if draw(st.booleans()):
        time += f":{draw(_two_digits(0, 61))}"
        if draw(st.booleans()):
            digits = draw(st.text("0123456789", min_size=0, max_size=8))
            time += draw(st.sampled_from([".", ".", ","])) + digits
    return date + separator + time + draw(st.sampled_from(OFFSETS))


def _outcome(parse: Any, value: Any) -> tuple[Any, ...]:
    try:
        parsed = parse(value)
    except FieldError as error:
        return ("error", error.message, error.fix)
    return ("value", parsed, parsed.isoformat(), id(parsed.tzinfo))


def _assert_paths_agree(value: Any) -> None:
    # The full path runs first and registers the offset, so the fast path can be taken.
    expected = _outcome(_read_timestamp, value)
    assert _outcome(_parse_timestamp, value) == expected
    assert _outcome(_parse_timestamp, value) == expected


@settings(max_examples=1500, deadline=None)
@given(timestamp_texts())
def test_timestamp_paths_agree_on_text(text: str) -> None:
    _assert_paths_agree(text)


@settings(deadline=None)
@given(st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?"
                  r"([+-][0-9]{2}:[0-9]{2}|Z)", fullmatch=True),
    st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8))])),
    st.datetimes(),
    st.integers(), st.none(), st.binary(max_size=30),
))
def test_timestamp_paths_agree_on_anything(value: Any) -> None:
    _assert_paths_agree(value)


@pytest.mark.parametrize("text", [
    "1900-01-01T00:00:00+14:00", "1900-01-01T00:00:00-12:00", "1899-12-31T23:59:59Z",
    "2199-12-31T23:59:59.999999-12:00", "2200-12-31T23:59:59Z", "2201-01-01T00:00:00Z",
    "2025-03-01T10:00:00.5-00:00", "2025-03-01T10:00:00.123456Z", "2024-02-29T10:00:00+08:00",
    "2025-02-29T10:00:00+08:00", "2025-03-01T24:00:00Z", "2025-03-01T23:59:60Z",
    "2025-03-01T10:00:00.1234567+08:00", "2025-03-01T10:00:00+08:00\n",
    "２０２５-03-01T10:00:00Z",
])
def test_timestamp_edge_cases_agree(text: str) -> None:
    _assert_paths_agree(text)


def test_offset_keeps_one_tzinfo() -> None:
    texts = ["2025-03-01 10:00:00+05:45", "2025-03-01T10:00:00+05:45",
             "2025-03-01T10:00:00.5+05:45", "2025-03-01T10:00+05:45"]
    zones = {id(_parse_timestamp(text).tzinfo) for text in texts * 2}
    assert len(zones) == 1
    utc = {id(_parse_timestamp(text).tzinfo) for text in
           ["2025-03-01T10:00:00Z", "2025-03-01T10:00:00+00:00", "2025-03-01T10:00:00-00:00",
            "2025-03-01 10:00Z", "2025-03-02T10:00:00Z"]}
    assert len(utc) == 1


def test_fast_timestamp_equals_datetime() -> None:
    parsed = _parse_timestamp("2025-03-01T10:00:00.25+08:00")
    parsed = _parse_timestamp("2025-03-01T10:00:00.25+08:00")
    assert type(parsed) is datetime
    assert parsed == datetime(2025, 3, 1, 10, 0, 0, 250000, timezone(timedelta(hours=8)))
    assert parsed.fold == 0
    assert parsed.isoformat() == "2025-03-01T10:00:00.250000+08:00"


CONTRACT = {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
            "amount": "1200.00", "currency": "CNY", "signed_at": "2025-03-01T10:00:00+08:00",
            "term_months": 12}


def _validator_outcome(validate: Any, value: Any) -> Any:
    try:
        return validate(value)
    except ValidationError as error:
        # A FieldError compares by identity, so compare its text.
        return [{**item, "ctx": {key: _cause_text(cause)
                                 for key, cause in item.get("ctx", {}).items()}}
                for item in error.errors(include_url=False)]


def _cause_text(cause: Any) -> tuple[str, str, str | None]:
    return (type(cause).__name__, str(cause), getattr(cause, "fix", None))


@pytest.mark.parametrize("limits", [None, Limits(max_term_months=6), Limits(max_amount_digits=3)])
@pytest.mark.parametrize("changes", [{}, {"term_months": 7}, {"amount": "12000.00"},
                                     {"amount": 1.5}, {"signed_at": "2025-02-30T10:00:00Z"},
                                     {"type": "contrat"}, {"extra": 1}])
def test_record_validators_match_adapter(limits: Limits | None, changes: dict[str, Any]) -> None:
    context = None if limits is None else {"limits": limits}
    from_json, from_value = record_validators() if limits is None else record_validators(limits)
    record = {**CONTRACT, **changes}
    text = json.dumps(record)
    expected_json = _validator_outcome(
        lambda line: _RECORD.validate_json(line, context=context), text)
    expected_value = _validator_outcome(
        lambda value: _RECORD.validate_python(value, context=context), record)
    assert _validator_outcome(from_json, text) == expected_json
    assert _validator_outcome(from_value, record) == expected_value


@dataclass
class _Info:
    """The part of pydantic's ValidationInfo that the field validators read."""

    context: Any


CONTEXTS = [None, {"limits": DEFAULT_LIMITS}, {"limits": Limits(max_amount_digits=5)},
            {"limits": Limits(max_amount_digits=24)}, {"other": 1}]


@st.composite
def amount_texts(draw: st.DrawFn) -> str:
    """Draw amount text in the usual form or near it, with lengths at the limits."""
    sign = draw(st.sampled_from(["", "", "-", "+", " "]))
    whole = draw(st.text("0123456789", max_size=25))
    if draw(st.booleans()):
        whole = "0" * draw(st.integers(1, 4)) + whole
    text = sign + whole
    if draw(st.booleans()):
        text += draw(st.sampled_from([".", ".", ","])) + draw(st.text("0123456789", max_size=25))
    return text + draw(st.sampled_from(["", "", "e5", "E-2", " ", "\n", "٣"]))


def _money_outcome(parse: Any, value: Any, context: Any) -> tuple[Any, ...]:
    try:
        amount = parse(value, _Info(context))
    except FieldError as error:
        return ("error", error.message, error.fix)
    return ("value", type(amount), str(amount))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(
    amount_texts(),
    st.text(max_size=45),
    st.integers(), st.decimals(), st.floats(), st.booleans(), st.none(),
), st.sampled_from(CONTEXTS))
def test_money_paths_agree(value: Any, context: Any) -> None:
    assert _money_outcome(_parse_money, value, context) == _money_outcome(_read_money, value,
                                                                           context)


@pytest.mark.parametrize("text", [
    "999999999999999999", "-999999999999999999", "1000000000000000000",
    "999999999999999999.99999999999999999999", "-999999999999999999.99999999999999999999",
    "999999999999999999.999999999999999999999", "-999999999999999999.999999999999999999999",
    "0.00000000000000000000000000000000000000",
    "000000000000000000001", "-0", "-0.00", "0", "1.", ".5", "",
])
def test_money_edge_cases_agree(text: str) -> None:
    for context in CONTEXTS:
        assert _money_outcome(_parse_money, text, context) == _money_outcome(_read_money, text,
                                                                              context)


WHOLE_NUMBERS = [_whole_number("score", 0, 100, "points"),
                 _whole_number("term_months", 1, "max_term_months", "months")]


def _whole_outcome(validator: Any, value: Any, context: Any) -> tuple[Any, ...]:
    try:
        number = validator.func(value, _Info(context))
    except FieldError as error:
        return ("error", error.message, error.fix)
    return ("value", type(number), number)


@settings(deadline=None)
@given(st.one_of(st.integers(-5, 700), st.integers(), st.booleans(), st.decimals(),
                 st.floats(), st.text(max_size=5), st.none()),
       st.sampled_from(WHOLE_NUMBERS))
def test_whole_number_paths_agree(value: Any, validator: Any) -> None:
    # With the default limits passed as context, the validator skips its fast path.
    expected = _whole_outcome(validator, value, {"limits": DEFAULT_LIMITS})
    assert _whole_outcome(validator, value, None) == expected


@pytest.mark.parametrize("value", [-1, 0, 1, 100, 101, 599, 600, 601, True, False])
def test_whole_number_edges_agree(value: int) -> None:
    for validator in WHOLE_NUMBERS:
        expected = _whole_outcome(validator, value, {"limits": DEFAULT_LIMITS})
        assert _whole_outcome(validator, value, None) == expected
