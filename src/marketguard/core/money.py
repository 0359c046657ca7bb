"""Money as integer minor units (fen). Never float.

Pure module: no Django import.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_FEN = 10**13  # 100 billion yuan: anything larger is a data error


def parse_yuan(value) -> int:
    """'129.9' / Decimal / int yuan -> fen. Refuses floats, more than 2 decimals, negatives, NaN and
    amounts too large, always with ValueError (never decimal's own exceptions)."""
    if isinstance(value, (bool, float)):
        raise ValueError("amount must be a decimal string or integer, not a float")
    try:
        return _fen(value)
    except ArithmeticError:
        # decimal's own errors (InvalidOperation, Overflow): more digits than its precision holds
        # ("9" * 40, "1e999999") cannot be rounded to the fen; callers expect ValueError only
        raise ValueError("amount is too large") from None


def _fen(value) -> int:
    if isinstance(value, int):
        amount = Decimal(value)
    else:
        text = str(value).strip().replace(",", "").removeprefix("¥").removeprefix("￥")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError("amount must be finite")
    if amount < 0:
        raise ValueError("amount must not be negative")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("amount has more than 2 decimals")
    fen = int(amount * 100)
    if fen > MAX_FEN:
        raise ValueError("amount is too large")
    return fen


def to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def format_yuan(fen: int | None, *, symbol: bool = True) -> str:
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{'¥' if symbol else ''}{whole:,}.{cents:02d}"


def percent_of(fen: int, percent: Decimal | int | str) -> int:
    """Share of an amount, rounded half up to the fen."""
    return int((Decimal(fen) * Decimal(str(percent)) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` fen in proportion to `weights` (largest remainder): parts sum exactly to total."""
    if total < 0:
        raise ValueError("total must not be negative")
    if not weights or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and not empty")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    shares = [total * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares
