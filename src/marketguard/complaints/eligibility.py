"""Seven-day no-reason return (七日无理由退货): eligibility and the statutory deadlines.

A pure module (no Django import). Sources:

* Consumer Rights Protection Law (消费者权益保护法) art. 25: goods bought online may be returned
  within seven days of receipt without giving a reason; the listed exclusions; goods must be
  intact; the seller refunds within seven days of receiving the returned goods.
* 网络购买商品七日无理由退货暂行办法 (SAMR, 2017, amended 2020):
  art. 6 goods excluded by law (:data:`ART6_EXCLUDED`); art. 7 goods excluded only when the
  consumer confirmed it at purchase (:data:`ART7_CONFIRM_AT_PURCHASE`); art. 8-9 what "intact"
  means (:data:`INTACT_RULES`); art. 10 the seven days count from the day after signing for the
  goods; art. 13 refund within seven days of receiving the returned goods.

Counting days
-------------
Days are calendar days in the consumer-facing zone (default Asia/Shanghai); public holidays and
weekends do not extend the period (the brief's rule; see ``is_day_off`` below for the Civil
Code variant). Signing on day D makes D+1 the first day and D+7 the last day (art. 10, and Civil
Code art. 201: the starting day is not counted; art. 203: a period ends at 24:00 of its last day).

The deadline is returned as an **exclusive bound**: the first instant of day D+8, local time,
converted to UTC. A request is in time iff ``requested_at < deadline``. An exclusive bound needs
no "23:59:59.999999" convention, compares correctly at any precision and is what a database
``<`` filter wants. Example: signed 2026-10-01 15:00 (Shanghai) → counted 10-02 .. 10-08 →
deadline 2026-10-09 00:00 +08:00 = 2026-10-08 16:00 UTC.

Civil Code art. 203 also says that when the last day of a period is a statutory day off, the
period ends on the first working day after it. Whether that applies to this consumer period is a
legal decision, not a computing one: pass ``is_day_off`` (e.g. ``lambda d: not
calendar.is_working_day(d)``) to apply it; by default it is not applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "ART6_EXCLUDED",
    "ART7_CONFIRM_AT_PURCHASE",
    "CATEGORY_RULES",
    "INTACT_RULES",
    "REFUND_DAYS",
    "WINDOW_DAYS",
    "CategoryRule",
    "Eligibility",
    "EligibilityReason",
    "no_reason_deadline",
    "no_reason_return",
    "refund_due",
]

#: Art. 25 / art. 10: seven days from the day after signing.
WINDOW_DAYS = 7
#: Art. 25 / art. 13: refund within seven days of receiving the returned goods.
REFUND_DAYS = 7


class CategoryRule(StrEnum):
    ELIGIBLE = "eligible"
    #: Art. 6: excluded by law (made to order, fresh and perishable, unsealed digital goods, ...).
    EXCLUDED = "excluded"
    #: Art. 7: excluded only if the consumer confirmed the exclusion at purchase.
    CONFIRM_AT_PURCHASE = "confirm_at_purchase"


CATEGORY_RULES: frozenset[str] = frozenset(r.value for r in CategoryRule)


class EligibilityReason(StrEnum):
    """Stable codes; the UI translates them."""

    WINDOW_EXPIRED = "WINDOW_EXPIRED"
    CATEGORY_EXCLUDED = "CATEGORY_EXCLUDED"
    EXCLUDED_CONFIRMED_AT_PURCHASE = "EXCLUDED_CONFIRMED_AT_PURCHASE"
    GOODS_NOT_INTACT = "GOODS_NOT_INTACT"
    #: Not a refusal: eligible subject to the merchant's check on receipt (art. 8-9).
    INTACT_UNKNOWN = "INTACT_UNKNOWN"
    #: The request predates signing: not a return (cancel or refuse delivery instead).
    REQUESTED_BEFORE_SIGNING = "REQUESTED_BEFORE_SIGNING"


#: Art. 6: goods excluded from no-reason return by law. Codes for category configuration.
ART6_EXCLUDED: tuple[dict, ...] = (
    {
        "code": "made_to_order",
        "label_zh": "消费者定作的商品",
        "label_en": "Goods made to the consumer's order",
    },
    {"code": "fresh_perishable", "label_zh": "鲜活易腐的商品", "label_en": "Fresh and perishable goods"},
    {
        "code": "digital_unsealed",
        "label_zh": "在线下载或者消费者拆封的音像制品、计算机软件等数字化商品",
        "label_en": "Audio-video products, software and other digital goods downloaded online or unsealed by the consumer",
    },
    {
        "code": "newspapers_periodicals",
        "label_zh": "交付的报纸、期刊",
        "label_en": "Delivered newspapers and periodicals",
    },
)

#: Art. 7: goods that may be excluded when the consumer confirms it at purchase (the listing must
#: say so, art. 20).
ART7_CONFIRM_AT_PURCHASE: tuple[dict, ...] = (
    {
        "code": "unsealed_health_safety",
        "label_zh": "拆封后易影响人身安全或者生命健康的商品",
        "label_en": "Goods that, once unsealed, may affect personal safety or health",
    },
    {
        "code": "unsealed_quality_change",
        "label_zh": "拆封后易导致商品品质发生改变的商品",
        "label_en": "Goods whose quality easily changes once unsealed",
    },
    {
        "code": "activated_or_tried",
        "label_zh": "一经激活或者试用后价值贬损较大的商品",
        "label_en": "Goods that lose much value once activated or tried",
    },
    {
        "code": "near_expiry_or_flawed",
        "label_zh": "销售时已明示的临近保质期的商品、有瑕疵的商品",
        "label_en": "Goods sold as near expiry or flawed, stated at sale",
    },
)

#: Art. 8-9: what "intact" means, per category group: the checks a merchant may apply on receipt.
#: Art. 8: opening the packaging to inspect, or reasonable trial to confirm quality and function,
#: does not make goods "not intact".
INTACT_RULES: dict[str, tuple[dict, ...]] = {
    "general": (
        {
            "code": "quality_function_kept",
            "label_zh": "商品能够保持原有品质、功能",
            "label_en": "The goods keep their original quality and function",
        },
        {
            "code": "complete",
            "label_zh": "商品本身、配件、商标标识齐全",
            "label_en": "The goods, accessories and brand labels are complete",
        },
    ),
    "food_cosmetics_medical": (
        {
            "code": "seal_unbroken",
            "label_zh": "必要的一次性密封包装未被损坏",
            "label_en": "The necessary one-time seal is not broken",
        },
    ),
    "electronics": (
        {
            "code": "no_unauthorised_repair",
            "label_zh": "未经授权的维修、改动",
            "label_en": "No unauthorised repair or modification",
        },
        {
            "code": "labels_intact",
            "label_zh": "强制性产品认证标志、指示标贴、机器序列号等未被破坏、涂改",
            "label_en": "Compulsory certification marks, labels and serial numbers not damaged or altered",
        },
        {
            "code": "no_visible_use",
            "label_zh": "无难以恢复原状的外观类使用痕迹",
            "label_en": "No visible signs of use that cannot be restored",
        },
        {
            "code": "no_data_traces",
            "label_zh": "无激活、授权信息、不合理的个人使用数据留存等数据类使用痕迹",
            "label_en": "No activation, authorisation or unreasonable personal data left on the device",
        },
    ),
    "apparel_home": (
        {
            "code": "tags_attached",
            "label_zh": "商标标识未被摘、标识未被剪",
            "label_en": "Brand tags and labels not removed or cut",
        },
        {
            "code": "clean_undamaged",
            "label_zh": "商品未受污、受损",
            "label_en": "The goods are not soiled or damaged",
        },
    ),
}


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    #: Exclusive bound in UTC: the request must be made before this instant.
    deadline: datetime
    reasons: list[str] = field(default_factory=list)
    #: Local calendar dates of the first and last counted day (for display).
    first_day: date | None = None
    last_day: date | None = None

    @property
    def conditional(self) -> bool:
        """Eligible subject to the merchant's intact check on receipt."""
        return self.eligible and EligibilityReason.INTACT_UNKNOWN in self.reasons

    def to_dict(self) -> dict:
        return {
            "eligible": self.eligible,
            "deadline": self.deadline.isoformat(),
            "reasons": [str(r) for r in self.reasons],
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
        }


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime")
    return value.astimezone(UTC)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise ValueError(f"tz: unknown time zone {tz!r}") from exc


def _start_of_day(d: date, zone: ZoneInfo) -> datetime:
    # fold=0: an ambiguous midnight is its first occurrence; a midnight inside a DST gap maps to
    # the transition instant, which is when that local day begins.
    return datetime.combine(d, time(0), zone).astimezone(UTC)


def _period_end(
    start_instant: datetime, days: int, zone: ZoneInfo, is_day_off: Callable[[date], bool] | None
) -> tuple[date, date, datetime]:
    """First and last counted local day and the exclusive end (UTC) of a ``days``-day period
    that starts the day after ``start_instant``."""
    day0 = start_instant.astimezone(zone).date()
    first, last = day0 + timedelta(days=1), day0 + timedelta(days=days)
    if is_day_off is not None:
        for _ in range(366):  # Civil Code art. 203; bounded so a bad predicate cannot hang
            if not is_day_off(last):
                break
            last += timedelta(days=1)
        else:
            raise ValueError("is_day_off: no working day within a year after the period")
    return first, last, _start_of_day(last + timedelta(days=1), zone)


def no_reason_deadline(
    signed_at: datetime,
    *,
    tz: str = "Asia/Shanghai",
    days: int = WINDOW_DAYS,
    is_day_off: Callable[[date], bool] | None = None,
) -> datetime:
    """Exclusive end (UTC) of the no-reason return window for goods signed for at ``signed_at``."""
    return _period_end(_aware(signed_at, "signed_at"), days, _zone(tz), is_day_off)[2]


def no_reason_return(
    *,
    signed_at: datetime,
    requested_at: datetime,
    category_rule: str,
    confirmed_excluded_at_purchase: bool = False,
    goods_intact: bool | None = None,
    tz: str = "Asia/Shanghai",
    window_days: int = WINDOW_DAYS,
    is_day_off: Callable[[date], bool] | None = None,
) -> Eligibility:
    """May this no-reason return request be accepted?

    * ``category_rule``: ``"eligible"``; ``"excluded"`` (art. 6: always excluded);
      ``"confirm_at_purchase"`` (art. 7: excluded only if ``confirmed_excluded_at_purchase``).
      For an ``"eligible"`` category a confirmation is ignored: a seller cannot exclude other
      goods by asking the consumer to agree.
    * ``goods_intact``: ``False`` → not eligible; ``None`` (not yet inspected) → eligible, with
      ``INTACT_UNKNOWN`` (the merchant checks on receipt, art. 8-9).

    ``reasons`` lists every ground that applies, in a stable order, so the consumer is told all
    of them at once.
    """
    signed = _aware(signed_at, "signed_at")
    requested = _aware(requested_at, "requested_at")
    if category_rule not in CATEGORY_RULES:
        raise ValueError(f"category_rule: expected one of {sorted(CATEGORY_RULES)}, got {category_rule!r}")
    if not isinstance(confirmed_excluded_at_purchase, bool):
        raise ValueError("confirmed_excluded_at_purchase: expected a boolean")
    if goods_intact is not None and not isinstance(goods_intact, bool):
        raise ValueError("goods_intact: expected true, false or null")
    if not isinstance(window_days, int) or isinstance(window_days, bool) or window_days < 1:
        raise ValueError(f"window_days: expected a positive integer, got {window_days!r}")
    first, last, deadline = _period_end(signed, window_days, _zone(tz), is_day_off)

    reasons: list[str] = []
    refusal = False
    if requested < signed:
        reasons.append(EligibilityReason.REQUESTED_BEFORE_SIGNING)
        refusal = True
    elif requested >= deadline:
        reasons.append(EligibilityReason.WINDOW_EXPIRED)
        refusal = True
    if category_rule == CategoryRule.EXCLUDED:
        reasons.append(EligibilityReason.CATEGORY_EXCLUDED)
        refusal = True
    elif category_rule == CategoryRule.CONFIRM_AT_PURCHASE and confirmed_excluded_at_purchase:
        reasons.append(EligibilityReason.EXCLUDED_CONFIRMED_AT_PURCHASE)
        refusal = True
    if goods_intact is False:
        reasons.append(EligibilityReason.GOODS_NOT_INTACT)
        refusal = True
    elif goods_intact is None:
        reasons.append(EligibilityReason.INTACT_UNKNOWN)
    return Eligibility(
        eligible=not refusal,
        deadline=deadline,
        reasons=[str(r) for r in reasons],
        first_day=first,
        last_day=last,
    )


def refund_due(
    returned_received_at: datetime,
    *,
    tz: str = "Asia/Shanghai",
    days: int = REFUND_DAYS,
    is_day_off: Callable[[date], bool] | None = None,
) -> datetime:
    """Exclusive bound (UTC) by which the refund must be made: seven calendar days counted from
    the day after the merchant received the returned goods (art. 13), ending at local midnight.
    A refund at or after this instant is late."""
    received = _aware(returned_received_at, "returned_received_at")
    return _period_end(received, days, _zone(tz), is_day_off)[2]
