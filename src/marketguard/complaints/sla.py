"""SLA policies and the clock maths for complaints and after-sales cases.

A pure module (no Django import): plain data in and out. Policies are data (``to_dict`` /
``from_dict`` round-trip, durations as ISO 8601 strings) so they can be stored as rows and edited
by an admin; :data:`DEFAULT_POLICIES` and :data:`DEFAULT_TIMEOUTS` are the shipped defaults.

Concepts
--------
* A :class:`SlaPolicy` has match conditions (problem types, priorities, channels, kinds,
  category codes; empty = any) and up to three targets: ``first_response`` (platform agent's
  first answer), ``merchant_response`` (the merchant answers the request) and ``resolution``.
  :func:`match_policy` picks the most specific matching policy (most non-empty conditions), ties
  broken by the explicit ``order`` (lower first), then by name.
* A target is counted on the business calendar (``business_hours=True``, default 09:00-18:00 on
  PRC working days, see :mod:`marketguard.core.bizcalendar`) or around the clock (``False``).
* A :class:`Clock` is one target running for one case: a start, the target, the pauses
  (waiting for the consumer: the clock stops) and, once done, ``met_at``. It answers
  :meth:`~Clock.deadline`, :meth:`~Clock.warning_at`, :meth:`~Clock.elapsed`,
  :meth:`~Clock.remaining`, :meth:`~Clock.state` and :meth:`~Clock.risk` (the share used);
  :func:`queue_key` orders work queues.
  ``elapsed`` and ``remaining`` are counted in the clock's own time: business time for a
  business-hours policy.
* :class:`Timeouts` are the platform's fixed process deadlines (intervention, auto-approval,
  ruling execution, appeal...), also data with defaults.

The maths is exact (microseconds) and deterministic; every datetime going in must be aware and
every datetime coming out is aware UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from marketguard.complaints.triage import CHANNELS, KINDS, PRIORITIES, PROBLEM_TYPES
from marketguard.core.bizcalendar import ALWAYS, BusinessCalendar, default_calendar

__all__ = [
    "ACTIONS",
    "DEFAULT_POLICIES",
    "DEFAULT_TIMEOUTS",
    "RESOLUTION_KPI_GOAL",
    "CSAT_KPI_GOAL",
    "COMPLAINT_RATE_KPI_GOAL",
    "STAGES",
    "STATES",
    "TARGETS",
    "TIMEOUT_ANCHORS",
    "CaseFacts",
    "Clock",
    "SlaPolicy",
    "Timeouts",
    "format_duration",
    "match_policy",
    "parse_duration",
    "queue_key",
    "queue_order",
]

#: The per-case targets a policy can set.
TARGETS: tuple[str, ...] = ("first_response", "merchant_response", "resolution")
#: Clock states.
STATES: tuple[str, ...] = ("ok", "warning", "breached", "paused", "met")
#: When escalation actions fire.
STAGES: tuple[str, ...] = ("warning", "breached")
#: Escalation actions the services layer knows how to perform.
ACTIONS: frozenset[str] = frozenset(
    {
        "notify",  # the assignee (agent or merchant)
        "notify_supervisor",
        "reassign",
        "raise_priority",
        "allow_intervention",  # the consumer may now ask the platform to step in
        "platform_intervention",  # the platform steps in on its own
        "auto_approve",  # the request is granted (merchant silent)
    }
)
#: Share of cases to resolve within the resolution target: a KPI for reports, not a case rule.
RESOLUTION_KPI_GOAL = 0.8
#: Share of ratings of 4 or 5 (MISSION.md KPIs, seeds 002 and 003) and complaints per order (001).
CSAT_KPI_GOAL = 0.85
COMPLAINT_RATE_KPI_GOAL = 0.02

_ZERO = timedelta(0)


# --------------------------------------------------------------------------- durations
_DURATION = re.compile(r"^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,6})?)S)?)?$")


def parse_duration(value: str) -> timedelta:
    """ISO 8601 duration (days, hours, minutes, seconds only): ``PT24H``, ``P15D``, ``PT4H30M``."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 duration string, got {value!r}")
    m = _DURATION.match(value.strip().upper())
    if not m:
        raise ValueError(f"not an ISO 8601 duration (e.g. PT24H, P15D): {value!r}")
    days, hours, minutes, seconds = m.groups()
    return timedelta(
        days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )


def format_duration(value: timedelta) -> str:
    """Inverse of :func:`parse_duration`. Whole days from 4 days up are written as days
    (``P15D``); shorter spans in hours (``PT72H``), as the rules state them."""
    if value < _ZERO:
        raise ValueError("durations must not be negative")
    total_us = value // timedelta(microseconds=1)
    seconds, micro = divmod(total_us, 1_000_000)
    if micro == 0 and seconds % 86_400 == 0 and seconds >= 4 * 86_400:
        return f"P{seconds // 86_400}D"
    hours, rest = divmod(seconds, 3_600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if micro:
        out += f"{secs}.{micro:06d}".rstrip("0") + "S"
    elif secs or out == "PT":
        out += f"{secs}S"
    return out


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name}: expected a timezone-aware datetime")
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- case facts
@dataclass(frozen=True)
class CaseFacts:
    """What a policy matches on. ``category_codes``: the case's category and its ancestors."""

    problem_type: str | None = None
    priority: str | None = None
    channel: str | None = None
    kind: str | None = None
    category_codes: frozenset[str] = frozenset()

    @classmethod
    def coerce(cls, facts: CaseFacts | Mapping) -> CaseFacts:
        if isinstance(facts, CaseFacts):
            return facts
        data = dict(facts)
        codes = set(data.pop("category_codes", ()) or ())
        if data.get("category_code"):
            codes.add(data["category_code"])
        data.pop("category_code", None)
        unknown = set(data) - {"problem_type", "priority", "channel", "kind"}
        if unknown:
            raise ValueError(f"case facts: unknown field(s) {sorted(unknown)}")
        return cls(category_codes=frozenset(codes), **data)


# --------------------------------------------------------------------------- policy
_CONDITIONS: dict[str, frozenset[str] | None] = {
    "problem_types": PROBLEM_TYPES,
    "priorities": frozenset(PRIORITIES),
    "channels": CHANNELS,
    "kinds": KINDS,
    "category_codes": None,  # free codes from the catalogue
}
_FACT_OF = {
    "problem_types": "problem_type",
    "priorities": "priority",
    "channels": "channel",
    "kinds": "kind",
}


@dataclass(frozen=True)
class SlaPolicy:
    """One SLA policy row. Immutable; validated on creation (``ValueError`` names the field)."""

    name: str
    first_response: timedelta | None = None
    merchant_response: timedelta | None = None
    resolution: timedelta | None = None
    problem_types: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    category_codes: frozenset[str] = frozenset()
    #: True: targets count working time on the business calendar; False: 24x7.
    business_hours: bool = False
    #: Warn when this share of the target is left (0.2 = the last 20 %), or this much time.
    warn_before: float | timedelta = 0.2
    #: target -> stage ("warning" / "breached") -> actions.
    escalation: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Tie-break between equally specific policies: lower first.
    order: int = 100
    active: bool = True
    description: str = ""
    #: what people at work read (the name is the policy's code)
    label_zh: str = ""
    label_en: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("name: required")
        for text in ("description", "label_zh", "label_en"):
            if not isinstance(getattr(self, text), str):
                raise ValueError(f"{text}: expected text")
        for target in TARGETS:
            value = getattr(self, target)
            if value is not None and (not isinstance(value, timedelta) or value <= _ZERO):
                raise ValueError(f"{target}: expected a positive duration, got {value!r}")
        for cond, allowed in _CONDITIONS.items():
            raw = getattr(self, cond)
            if isinstance(raw, str):
                raise ValueError(f"{cond}: expected a collection of codes, got a string")
            values = frozenset(raw)
            if allowed is not None and not values <= allowed:
                raise ValueError(f"{cond}: unknown value(s) {sorted(values - allowed)}")
            set_(self, cond, values)
        warn = self.warn_before
        if isinstance(warn, timedelta):
            if warn < _ZERO:
                raise ValueError("warn_before: must not be negative")
        elif isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 <= warn < 1:
            raise ValueError(f"warn_before: expected a fraction in [0, 1) or a duration, got {warn!r}")
        escalation = {}
        for target, stages in dict(self.escalation).items():
            if target not in TARGETS:
                raise ValueError(f"escalation: unknown target {target!r}")
            escalation[target] = {}
            for stage, actions in dict(stages).items():
                if stage not in STAGES:
                    raise ValueError(f"escalation.{target}: unknown stage {stage!r}")
                actions = tuple(actions)
                bad = [a for a in actions if a not in ACTIONS]
                if bad:
                    raise ValueError(f"escalation.{target}.{stage}: unknown action(s) {bad}")
                escalation[target][stage] = actions
        set_(self, "escalation", escalation)
        if not isinstance(self.order, int) or isinstance(self.order, bool):
            raise ValueError("order: expected an integer")

    def label(self, language: str) -> str:
        """The policy's label in `language` (zh or en), else the other one, else its name."""
        first, second = (
            (self.label_zh, self.label_en)
            if language.lower().startswith("zh")
            else (self.label_en, self.label_zh)
        )
        return first or second or self.name

    # ---------------------------------------------------------------- matching
    @property
    def specificity(self) -> int:
        """How many conditions the policy sets; more = more specific."""
        return sum(1 for cond in _CONDITIONS if getattr(self, cond))

    @property
    def catch_all(self) -> bool:
        """True when the policy sets no condition: it applies to every case."""
        return self.specificity == 0

    def matches(self, facts: CaseFacts | Mapping) -> bool:
        facts = CaseFacts.coerce(facts)
        if not self.active:
            return False
        for cond, fact in _FACT_OF.items():
            wanted = getattr(self, cond)
            if wanted and getattr(facts, fact) not in wanted:
                return False
        return not (self.category_codes and not self.category_codes & facts.category_codes)

    # ---------------------------------------------------------------- targets
    def target(self, name: str) -> timedelta | None:
        if name not in TARGETS:
            raise ValueError(f"target: expected one of {TARGETS}, got {name!r}")
        return getattr(self, name)

    def actions(self, target: str, stage: str) -> tuple[str, ...]:
        """Escalation actions for ``target`` at ``stage`` (``warning`` / ``breached``)."""
        if stage not in STAGES:
            raise ValueError(f"stage: expected one of {STAGES}, got {stage!r}")
        self.target(target)
        return tuple(self.escalation.get(target, {}).get(stage, ()))

    def calendar(self, business_calendar: BusinessCalendar | None = None) -> BusinessCalendar:
        """The calendar the targets count on."""
        if not self.business_hours:
            return ALWAYS
        return business_calendar if business_calendar is not None else default_calendar()

    def clock(
        self,
        target: str,
        start: datetime,
        *,
        pauses: Iterable[tuple[datetime, datetime | None]] = (),
        met_at: datetime | None = None,
        business_calendar: BusinessCalendar | None = None,
    ) -> Clock:
        """A running clock for ``target`` of this policy. Raises ``ValueError`` if the policy
        sets no such target."""
        duration = self.target(target)
        if duration is None:
            raise ValueError(f"target: policy {self.name!r} sets no {target}")
        return Clock(
            start=start,
            target=duration,
            pauses=tuple(pauses),
            calendar=self.calendar(business_calendar),
            warn_before=self.warn_before,
            met_at=met_at,
        )

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "active": self.active,
            "order": self.order,
            **{cond: sorted(getattr(self, cond)) for cond in _CONDITIONS},
            **{t: format_duration(getattr(self, t)) if getattr(self, t) else None for t in TARGETS},
            "business_hours": self.business_hours,
            "warn_before": (
                format_duration(self.warn_before)
                if isinstance(self.warn_before, timedelta)
                else self.warn_before
            ),
            "escalation": {
                t: {s: list(a) for s, a in stages.items()} for t, stages in self.escalation.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> SlaPolicy:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"SlaPolicy: unknown field(s) {sorted(unknown)}")
        kwargs = dict(data)
        for t in TARGETS:
            if kwargs.get(t) is not None:
                kwargs[t] = _duration_field(kwargs[t], t)
        if isinstance(kwargs.get("warn_before"), str):
            kwargs["warn_before"] = _duration_field(kwargs["warn_before"], "warn_before")
        for cond in _CONDITIONS:
            if cond in kwargs:
                kwargs[cond] = frozenset(kwargs[cond] or ())
        return cls(**kwargs)


def _duration_field(value, name: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def match_policy(policies: Iterable[SlaPolicy], facts: CaseFacts | Mapping) -> SlaPolicy:
    """The most specific active policy matching ``facts``; ties by ``order``, then name.
    Raises ``LookupError`` when none matches (ship a catch-all policy to avoid it)."""
    facts = CaseFacts.coerce(facts)
    candidates = [p for p in policies if p.matches(facts)]
    if not candidates:
        raise LookupError(f"no SLA policy matches {facts}")
    return min(candidates, key=lambda p: (-p.specificity, p.order, p.name))


# --------------------------------------------------------------------------- clock
def _merge_pauses(
    start: datetime, pauses: Iterable[tuple[datetime, datetime | None]]
) -> tuple[tuple[datetime, datetime | None], ...]:
    """Sorted, non-overlapping pauses clipped to start at ``start`` or later. ``None`` = open."""
    items = []
    for i, pause in enumerate(pauses):
        try:
            ps, pe = pause
        except (TypeError, ValueError):
            raise ValueError(f"pauses[{i}]: expected a (start, end) pair") from None
        ps = _aware(ps, f"pauses[{i}].start")
        pe = None if pe is None else _aware(pe, f"pauses[{i}].end")
        if pe is not None and pe < ps:
            raise ValueError(f"pauses[{i}]: ends before it starts")
        if pe is not None and pe <= start:
            continue
        items.append((max(ps, start), pe))
    items.sort(key=lambda p: p[0])
    merged: list[tuple[datetime, datetime | None]] = []
    for ps, pe in items:
        if merged:
            last_s, last_e = merged[-1]
            if last_e is None:
                continue  # an open pause swallows everything after it
            if ps <= last_e:
                merged[-1] = (last_s, None if pe is None else max(last_e, pe))
                continue
        merged.append((ps, pe))
    return tuple(p for p in merged if p[1] is None or p[1] > p[0])


@dataclass(frozen=True)
class Clock:
    """One SLA target running for one case.

    ``pauses``: intervals during which the clock stands still (waiting for the consumer);
    an open pause has end ``None``. Pauses may overlap or start before ``start``; they are
    merged and clipped. ``met_at``: when the target was met (the clock stops there).
    """

    start: datetime
    target: timedelta
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    calendar: BusinessCalendar = ALWAYS
    warn_before: float | timedelta = 0.2
    met_at: datetime | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        start = _aware(self.start, "start")
        set_(self, "start", start)
        if not isinstance(self.target, timedelta) or self.target <= _ZERO:
            raise ValueError(f"target: expected a positive duration, got {self.target!r}")
        set_(self, "pauses", _merge_pauses(start, self.pauses))
        if self.met_at is not None:
            set_(self, "met_at", _aware(self.met_at, "met_at"))
        if not isinstance(self.calendar, BusinessCalendar):
            raise ValueError("calendar: expected a BusinessCalendar")
        warn = self.warn_before
        if isinstance(warn, timedelta):
            if warn < _ZERO:
                raise ValueError("warn_before: must not be negative")
        elif isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 <= warn < 1:
            raise ValueError(f"warn_before: expected a fraction in [0, 1) or a duration, got {warn!r}")

    # ---------------------------------------------------------------- helpers
    @property
    def warn_threshold(self) -> timedelta:
        """How much remaining time turns the state to ``warning``."""
        if isinstance(self.warn_before, timedelta):
            return min(self.warn_before, self.target)
        return self.target * self.warn_before

    def _now(self, now: datetime | None) -> datetime | None:
        return None if now is None else _aware(now, "now")

    def paused_at(self, now: datetime) -> bool:
        now = _aware(now, "now")
        return any(ps <= now and (pe is None or now < pe) for ps, pe in self.pauses)

    def _reach(self, amount: timedelta, now: datetime | None) -> datetime | None:
        """The instant the clock has counted ``amount``; ``None`` if an open pause makes it
        unknown and no ``now`` is given (with ``now``, the pause is taken to end at ``now``)."""
        cal = self.calendar
        cur, left = self.start, amount
        if left <= _ZERO:
            return cur
        for ps, pe in self.pauses:
            if ps > cur:
                available = cal.business_time_between(cur, ps)
                if left <= available:
                    return cal.add_business_time(cur, left)
                left -= available
            if pe is None:
                if now is None:
                    return None
                pe = max(now, ps)
            cur = max(cur, pe)
        return cal.add_business_time(cur, left)

    # ---------------------------------------------------------------- public maths
    def deadline(self, now: datetime | None = None) -> datetime | None:
        """When the target is due, in UTC, shifted by the paused time. While an open pause
        runs, the deadline is unknown: ``None``, or, given ``now``, the deadline if the clock
        resumed at ``now``."""
        return self._reach(self.target, self._now(now))

    def warning_at(self, now: datetime | None = None) -> datetime | None:
        """When the state turns to ``warning`` (for scheduling the notification)."""
        return self._reach(self.target - self.warn_threshold, self._now(now))

    def elapsed(self, now: datetime) -> timedelta:
        """Counted time from ``start`` to ``now`` (or ``met_at`` if earlier), minus pauses."""
        now = _aware(now, "now")
        end = min(now, self.met_at) if self.met_at is not None else now
        if end <= self.start:
            return _ZERO
        cal = self.calendar
        total = cal.business_time_between(self.start, end)
        for ps, pe in self.pauses:
            if ps >= end:
                break
            total -= cal.business_time_between(ps, end if pe is None else min(pe, end))
        return total

    def remaining(self, now: datetime) -> timedelta:
        """Target minus elapsed: positive before the deadline, zero at it, negative (overdue)
        after it. Counted in the clock's time (business time on a business-hours policy)."""
        return self.target - self.elapsed(now)

    def state(self, now: datetime) -> str:
        """``met`` (done in time), ``breached`` (overdue, or done late), ``paused``,
        ``warning`` (within the warning threshold) or ``ok``."""
        now = _aware(now, "now")
        if self.met_at is not None and self.met_at <= now:
            due = self.deadline(self.met_at)
            return "met" if due is not None and self.met_at <= due else "breached"
        due = self.deadline(now)
        if due is not None and now > due:
            return "breached"
        if self.paused_at(now):
            return "paused"
        if self.remaining(now) <= self.warn_threshold:
            return "warning"
        return "ok"

    def risk(self, now: datetime) -> float:
        """The share of the target consumed (0 at start, 1 at the deadline), above 1 once breached (1.5 = overdue by half the
        target). A met clock has risk 0. Paused clocks keep their share."""
        now = _aware(now, "now")
        if self.met_at is not None and self.met_at <= now:
            return 0.0
        return self.elapsed(now) / self.target

    def to_dict(self, now: datetime | None = None) -> dict:
        out = {
            "start": self.start.isoformat(),
            "target": format_duration(self.target),
            "pauses": [[ps.isoformat(), pe.isoformat() if pe else None] for ps, pe in self.pauses],
            "met_at": self.met_at.isoformat() if self.met_at else None,
        }
        if now is not None:
            due = self.deadline(now)
            out.update(
                deadline=due.isoformat() if due else None,
                state=self.state(now),
                remaining=format_duration(abs(self.remaining(now))),
                overdue=self.remaining(now) < _ZERO,
                risk=round(self.risk(now), 4),
            )
        return out


def queue_key(clock: Clock, now: datetime) -> tuple[int, datetime]:
    """How urgent a clock is, for sorting work queues (smallest first): clocks that run or are
    breached, by deadline (the most overdue first, then the one due soonest, whatever its
    target: 21 h left on a 24 h clock comes before 38 h left on a 48 h one); then clocks paused
    while waiting on the consumer, by the deadline they would have if they resumed now; then met
    clocks."""
    now = _aware(now, "now")
    far = datetime.max.replace(tzinfo=UTC)
    if clock.met_at is not None and clock.met_at <= now:
        return 2, far
    return int(clock.state(now) == "paused"), clock.deadline(now) or far


def queue_order(clocks: Iterable[Clock], now: datetime) -> list[int]:
    """Indexes of ``clocks`` in work-queue order (:func:`queue_key`), ties in input order."""
    keyed = sorted((queue_key(clock, now), i) for i, clock in enumerate(clocks))
    return [i for _k, i in keyed]


# --------------------------------------------------------------------------- defaults
_H = timedelta(hours=1)

#: Shipped policies. After-sales rules (domain/after-sales-rules.md): first response within
#: 24 h; merchant silent 24 h → the consumer may ask the platform to intervene; resolution target
#: 48 h (the "80 % within target" goal is :data:`RESOLUTION_KPI_GOAL`, a KPI, not a case rule).
#: Personal-safety cases (P1) run faster and around the clock.
DEFAULT_POLICIES: tuple[SlaPolicy, ...] = (
    SlaPolicy(
        name="p1_personal_safety",
        label_zh="人身安全（P1）",
        label_en="Personal safety (P1)",
        description="Personal-safety complaints: answer within the hour, around the clock.",
        priorities=frozenset({"P1"}),
        first_response=1 * _H,
        merchant_response=12 * _H,
        resolution=24 * _H,
        business_hours=False,
        warn_before=0.25,
        order=10,
        escalation={
            "first_response": {"warning": ("notify",), "breached": ("notify_supervisor", "reassign")},
            "merchant_response": {"breached": ("platform_intervention", "notify_supervisor")},
            "resolution": {"warning": ("notify_supervisor",), "breached": ("notify_supervisor", "reassign")},
        },
    ),
    SlaPolicy(
        name="p2_high",
        label_zh="高优先级（P2）",
        label_en="High priority (P2)",
        description="High priority: first response within 4 hours.",
        priorities=frozenset({"P2"}),
        first_response=4 * _H,
        merchant_response=24 * _H,
        resolution=48 * _H,
        business_hours=False,
        order=20,
        escalation={
            "first_response": {"warning": ("notify",), "breached": ("notify_supervisor", "reassign")},
            "merchant_response": {"breached": ("allow_intervention", "notify")},
            "resolution": {"warning": ("notify",), "breached": ("notify_supervisor",)},
        },
    ),
    SlaPolicy(
        name="refund_only",
        label_zh="仅退款",
        label_en="Refund only",
        description="Refund without return: the merchant answers within 24 h; silent 72 h → approved "
        "(see Timeouts.auto_approve_refund_only).",
        kinds=frozenset({"refund_only"}),
        first_response=24 * _H,
        merchant_response=24 * _H,
        resolution=48 * _H,
        business_hours=False,
        order=30,
        escalation={
            "first_response": {"warning": ("notify",), "breached": ("notify", "reassign")},
            "merchant_response": {"warning": ("notify",), "breached": ("allow_intervention", "notify")},
            "resolution": {"warning": ("notify",), "breached": ("notify_supervisor", "raise_priority")},
        },
    ),
    SlaPolicy(
        name="default",
        label_zh="默认",
        label_en="Default",
        description="Every other case.",
        first_response=24 * _H,
        merchant_response=24 * _H,
        resolution=48 * _H,
        business_hours=False,
        order=1000,
        escalation={
            "first_response": {"warning": ("notify",), "breached": ("notify", "reassign")},
            "merchant_response": {"warning": ("notify",), "breached": ("allow_intervention", "notify")},
            "resolution": {"warning": ("notify",), "breached": ("notify_supervisor", "raise_priority")},
        },
    ),
)


#: What each timeout counts from (the services layer starts the clock at this event).
TIMEOUT_ANCHORS: dict[str, str] = {
    "merchant_response_for_intervention": "the consumer submitted the after-sales request (or opened the "
    "dispute) and the merchant has not settled it",
    "auto_approve_refund_only": "the consumer submitted a refund-only request and the merchant has not answered",
    "merchant_settle_after_intervention": "the platform accepted the consumer's intervention request",
    "extra_evidence": "the platform asked a party for extra evidence (counted 09:00-18:00 on working days)",
    "ruling_execution": "the platform recorded its ruling",
    "intervention_window": "the merchant's decision on the after-sales request (rejection or proposed "
    "solution) - or, if the merchant never answers, the moment intervention became available "
    "(request + merchant_response_for_intervention)",
    "appeal_window": "the ruling was notified to the parties",
    "return_ship_window": "a return and refund was agreed (or ruled) and the goods are to be sent back",
    "return_receipt_window": "the consumer recorded the return shipment (carrier and tracking number)",
    "repair_window": "the merchant scheduled the repair (the date it will be done by may be at most this far)",
    "refused_mail_files_kept": "an e-mail the case did not take was received (its files are held for an agent "
    "to add with it)",
}


@dataclass(frozen=True)
class Timeouts:
    """Process deadlines of the after-sales and dispute flow (JD dispute rules 2025, Amazon
    A-to-z 72 h). Stable names; services read them by name. ``extra_evidence`` is counted on
    the business calendar (09:00-18:00 working days); every other timeout around the clock."""

    #: Merchant silent this long → the consumer may ask for platform intervention.
    merchant_response_for_intervention: timedelta = timedelta(hours=24)
    #: Merchant silent this long on a refund-only request → approved automatically.
    auto_approve_refund_only: timedelta = timedelta(hours=72)
    #: After intervention, the merchant settles or submits evidence within this, else the
    #: platform rules on the evidence it has.
    merchant_settle_after_intervention: timedelta = timedelta(hours=24)
    #: Extra evidence asked by the platform is due within this much business time.
    extra_evidence: timedelta = timedelta(hours=4)
    #: A ruling is executed (refund issued, return label sent...) within this.
    ruling_execution: timedelta = timedelta(hours=24)
    #: The consumer may ask for intervention within this (anchor: see TIMEOUT_ANCHORS).
    intervention_window: timedelta = timedelta(days=15)
    #: A party may appeal a ruling within this.
    appeal_window: timedelta = timedelta(days=7)
    #: The consumer sends the goods back within this once a return and refund is agreed, or the
    #: return lapses (Taobao and JD practice: 7 days).
    return_ship_window: timedelta = timedelta(days=7)
    #: The merchant confirms receipt of returned goods within this of their dispatch, or they are
    #: deemed received (Taobao practice: 10 days) and the refund falls due.
    return_receipt_window: timedelta = timedelta(days=10)
    #: A repair is done within this (三包规定: a repair takes at most 15 days from hand-over).
    repair_window: timedelta = timedelta(days=15)
    #: The files of an e-mail a case did not take are held this long for an agent to add them
    #: with it (complaints.held_mail), then discarded.
    refused_mail_files_kept: timedelta = timedelta(days=30)

    #: Timeouts counted on the business calendar.
    BUSINESS_HOURS: ClassVar[frozenset[str]] = frozenset({"extra_evidence"})

    def __post_init__(self) -> None:
        for name in self.names():
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= _ZERO:
                raise ValueError(f"{name}: expected a positive duration, got {value!r}")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def get(self, name: str) -> timedelta:
        if name not in self.names():
            raise ValueError(f"timeout: unknown name {name!r}")
        return getattr(self, name)

    def due(
        self, name: str, start: datetime, *, business_calendar: BusinessCalendar | None = None
    ) -> datetime:
        """When timeout ``name`` expires for a clock started at ``start`` (aware UTC)."""
        delta = self.get(name)
        cal = (business_calendar or default_calendar()) if name in self.BUSINESS_HOURS else ALWAYS
        return cal.add_business_time(_aware(start, "start"), delta)

    def to_dict(self) -> dict:
        return {name: format_duration(getattr(self, name)) for name in self.names()}

    @classmethod
    def from_dict(cls, data: Mapping) -> Timeouts:
        unknown = set(data) - set(cls.names())
        if unknown:
            raise ValueError(f"Timeouts: unknown field(s) {sorted(unknown)}")
        return cls(**{k: _duration_field(v, k) for k, v in data.items()})


DEFAULT_TIMEOUTS = Timeouts()
