"""How much compensation the law allows on top of a refund, by its legal basis (pure module).

Compensation (赔偿) is money beyond giving back what was paid; what was paid is the ceiling of
refunds (:func:`~marketguard.complaints.services.refundable_left`), not of compensation. Chinese
law sets its size by basis:

* ``goodwill``: what the parties agree or the platform grants without a statutory basis (协商补偿):
  at most the price paid;
* ``fraud``: Consumer Rights Protection Law (消费者权益保护法) art. 55 para. 1, fraud by the seller:
  three times the price paid, at least 500 yuan;
* ``food_safety``: Food Safety Law (食品安全法) art. 148 para. 2, food not meeting the safety
  standard: ten times the price paid, at least 1,000 yuan;
* ``injury``: Consumer Rights Protection Law art. 49 (and art. 55 para. 2), personal injury:
  the losses shown (medical costs, lost income...), no ceiling from the price; only on a
  personal-safety case.

On ``fraud`` and ``food_safety`` the multiple is what the law awards, not only a ceiling: a
ruling on them gives it (or the consumer's claim, if less); an agreement may be for less.
Food Safety Law art. 148 also allows three times the losses, when larger: the losses are those
granted on the injury basis for the same purchase (an arbitrator rules them on a safety case).

The ceiling is for all compensation of a case together. A consumer's claim at intake may be at
most the largest ceiling without injury (:func:`claim_ceiling`), unless someone was hurt: it
stops mistyped amounts (19900 for 199.00), it does not decide the claim.
"""

from __future__ import annotations

BASES: tuple[str, ...] = ("goodwill", "fraud", "food_safety", "injury")
DEFAULT_BASIS = "goodwill"
#: basis → (multiple of the price paid, floor in fen); ``None``: the losses shown, no ceiling.
LIMITS: dict[str, tuple[int, int] | None] = {
    "goodwill": (1, 0),
    "fraud": (3, 500_00),
    "food_safety": (10, 1_000_00),
    "injury": None,
}
#: Bases whose amount the law sets (a ruling gives it; the parties may agree on less).
STATUTORY: frozenset[str] = frozenset({"fraud", "food_safety"})
#: Bases that need a personal-safety case.
NEEDS_SAFETY: frozenset[str] = frozenset({"injury"})
#: Bases only for food (the categories the complaint rules name as food).
NEEDS_FOOD: frozenset[str] = frozenset({"food_safety"})


def bases_for(*, safety: bool, food: bool) -> tuple[str, ...]:
    """The bases a case may be compensated on: injury on a personal-safety case, unsafe food for
    food."""
    return tuple(b for b in BASES if (safety or b not in NEEDS_SAFETY) and (food or b not in NEEDS_FOOD))


#: basis → multiple of the losses shown that the law allows instead of the price's multiple.
LOSS_MULTIPLES: dict[str, int] = {"food_safety": 3}


def ceiling(basis: str, paid_fen: int | None, *, losses_fen: int = 0) -> int | None:
    """The most compensation (fen) allowed on ``basis`` for a purchase of ``paid_fen``, where
    ``losses_fen`` were shown and granted for an injury (unsafe food: 10x the price or 3x the
    losses, whichever is more, at least ¥1,000); ``None`` when there is no ceiling (injury, or
    the price is not known)."""
    if basis not in LIMITS:
        raise ValueError(f"basis: expected one of {BASES}, got {basis!r}")
    limit = LIMITS[basis]
    if limit is None or paid_fen is None:
        return None
    multiple, floor = limit
    return max(multiple * paid_fen, LOSS_MULTIPLES.get(basis, 0) * losses_fen, floor)


def claim_ceiling(paid_fen: int | None, *, safety: bool, food: bool = True) -> int | None:
    """The largest compensation a consumer may claim at intake: the highest statutory ceiling of
    the bases the goods allow; none when someone was hurt or the price is not known."""
    if safety:
        return None
    limits = [ceiling(b, paid_fen) for b in bases_for(safety=False, food=food)]
    return None if None in limits else max(limits)
