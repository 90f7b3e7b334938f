"""The fast builders of result objects give the same objects as their constructors."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commission_engine import explain
from commission_engine.results import PayoutLine, Statement, new_line, statements_of

texts = st.text(max_size=8)
amounts = st.decimals(allow_nan=False, allow_infinity=False, places=2,
                      min_value=-10**6, max_value=10**6)
dues = st.datetimes(timezones=st.sampled_from([timezone.utc]))
steps = st.builds(explain.condition_step, texts)
line_fields = st.tuples(texts, texts, texts, texts, amounts, texts,
                        st.tuples(texts, texts), st.lists(steps, max_size=3).map(tuple), dues)


@given(line_fields)
def test_new_line_equals_the_constructor(fields: tuple) -> None:
    built, constructed = new_line(*fields), PayoutLine(*fields)
    assert type(built) is PayoutLine
    assert built == constructed
    assert hash(built) == hash(constructed)
    assert tuple(getattr(built, field.name) for field in dataclasses.fields(built)) == fields
    assert pickle.loads(pickle.dumps(built)) == constructed
    assert copy.copy(built) == constructed
    assert dataclasses.replace(built, kind="bonus") == dataclasses.replace(constructed,
                                                                           kind="bonus")


@given(line_fields)
def test_new_line_is_frozen(fields: tuple) -> None:
    built = new_line(*fields)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.amount = fields[4]  # type: ignore[misc]


@given(st.lists(line_fields, min_size=1, max_size=4), st.one_of(st.none(), amounts))
def test_statements_of_builds_ordinary_statements(many: list[tuple], balance: object) -> None:
    lines = [PayoutLine("R1", "2025-01", *fields[2:]) for fields in many]
    balances = None if balance is None else {("R1", "2025-01"): balance}
    (built,) = statements_of([lines], balances)
    expected = Statement("R1", "2025-01", lines[0].currency, tuple(lines),
                         sum((line.amount for line in lines), Decimal(0)), balance)
    assert type(built) is Statement
    assert built == expected
    assert pickle.loads(pickle.dumps(built)) == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.total = Decimal(0)  # type: ignore[misc]
