"""Split credit: exact shares by largest remainder, ties to the smaller payee id."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import money


@settings(max_examples=300)
@given(
    units=st.integers(-10**9, 10**9),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    currency=st.sampled_from(["CNY", "JPY", "KWD"]),
)
def test_split_conserves_amount(units: int, weights: list[int], currency: str) -> None:
    digits = money.minor_digits(currency)
    amount = Decimal(units).scaleb(-digits)
    total = sum(weights)
    shares = [(f"R{index}", Decimal(weight) / Decimal(total)) for index, weight in enumerate(weights)]

    parts = money.split(amount, shares, currency)

    assert sum(parts.values()) == amount
    quantum = Decimal(1).scaleb(-digits)
    for key, fraction in shares:
        exact = amount * fraction
        assert abs(parts[key] - exact) < quantum
        assert parts[key].as_tuple().exponent == -digits


def test_split_tie_goes_to_smaller_id() -> None:
    parts = money.split(Decimal("0.01"), [("R2", Decimal("0.5")), ("R1", Decimal("0.5"))], "CNY")

    assert parts == {"R1": Decimal("0.01"), "R2": Decimal("0.00")}


def test_split_of_field_case() -> None:
    parts = money.split(Decimal("100.01"), [("R1", Decimal("0.6")), ("R2", Decimal("0.4"))], "CNY")

    assert parts == {"R1": Decimal("60.01"), "R2": Decimal("40.00")}
