from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketguard.core.money import allocate, format_yuan, parse_yuan, percent_of


@pytest.mark.parametrize(
    ("raw", "fen"),
    [("129.00", 12900), ("0.01", 1), ("1,299.5", 129950), ("¥12", 1200), (Decimal("3.10"), 310), (7, 700)],
)
def test_parse_yuan(raw, fen):
    assert parse_yuan(raw) == fen


@pytest.mark.parametrize("raw", ["1.001", "-1", "abc", "NaN", "Infinity", 1.5, True, "1e20"])
def test_parse_yuan_refuses(raw):
    with pytest.raises(ValueError):
        parse_yuan(raw)


def test_format_yuan():
    assert format_yuan(123456789) == "¥1,234,567.89"
    assert format_yuan(-5) == "-¥0.05"
    assert format_yuan(None) == ""


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20),
)
def test_allocate_sums_exactly_and_is_proportional(total, weights):
    if sum(weights) == 0:
        with pytest.raises(ValueError):
            allocate(total, weights)
        return
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, w in zip(parts, weights):
        exact = Decimal(total) * w / sum(weights)
        assert abs(Decimal(part) - exact) < 1


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_format_round_trip(fen):
    assert parse_yuan(format_yuan(fen, symbol=False)) == fen


def test_percent_of_rounds_half_up():
    assert percent_of(105, 50) == 53
    assert percent_of(12900, "12.5") == 1613
