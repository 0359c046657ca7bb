"""Amounts too long for decimal arithmetic are refused like any other bad amount (ValueError), so
every caller (API schemas, services, imports) answers 4xx instead of failing with a 500."""

from decimal import Decimal

import pytest

from marketguard.core.money import parse_yuan


@pytest.mark.parametrize(
    "raw",
    [
        "9" * 40,  # more digits than decimal's precision (28): rounding to the fen fails
        "9" * 27 + ".5",
        "1e999999",
        "1E+100",
        Decimal("1e999999"),
        10**40,
        "¥" + "9" * 400,
    ],
)
def test_amounts_beyond_decimal_precision_are_a_value_error(raw):
    with pytest.raises(ValueError, match="too large"):
        parse_yuan(raw)


def test_tiny_exponents_are_too_many_decimals_not_a_crash():
    with pytest.raises(ValueError, match="decimals"):
        parse_yuan("1e-999999")


def test_the_largest_amount_allowed_still_parses():
    assert parse_yuan("100000000000.00") == 10**13
    with pytest.raises(ValueError, match="too large"):
        parse_yuan("100000000000.01")
