"""Business calendar: working hours, public holidays and adjusted working days.

A pure module (no Django import). It is the one place that adds business time; every
deadline in MarketGuard (complaint SLAs, after-sales response windows, material requests)
is computed with :meth:`BusinessCalendar.add_business_time` and stored on the object.

Model
-----
* Working hours are local wall-clock intervals per weekday (index 0 = Monday ... 6 = Sunday),
  interpreted in the calendar's IANA zone (``zoneinfo``).
* An interval end of ``None`` (or ``time(0)``) means "until midnight" (24:00), so a 24-hour day is
  ``((time(0), None),)``; consecutive 24-hour days join without a seam. :data:`ALWAYS` is the 24x7
  calendar: adding business time to it is plain elapsed-time addition, also across DST changes.
* ``holidays`` are days off even on a weekday; ``workdays`` are adjusted working days (调休上班),
  usually weekend days, which use ``workday_hours``.
* DST: a local time that does not exist (spring-forward gap) is shifted forward to the first
  instant after the gap (e.g. 02:30 on the Berlin spring-forward day becomes 03:00 CEST); an
  ambiguous local time (fall-back) means its first occurrence.

All public methods take aware datetimes (any zone) and return aware datetimes in UTC, except
:meth:`BusinessCalendar.working_intervals`, which returns local times for display.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "ALWAYS",
    "DEFAULT_HOURS",
    "FULL_DAY",
    "HOLIDAYS_CN_PATH",
    "NINE_TO_SIX",
    "BusinessCalendar",
    "default_calendar",
    "holiday_name_cn",
    "load_holidays",
    "published_years_cn",
    "statutory_holidays_cn",
    "with_statutory_cn",
]

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_ZERO = timedelta(0)

NINE_TO_SIX: tuple = ((time(9), time(18)),)
#: One working interval covering the whole local day (00:00 to 24:00).
FULL_DAY: tuple = ((time(0), None),)
#: Monday to Friday 09:00-18:00, weekend off.
DEFAULT_HOURS: tuple = (NINE_TO_SIX,) * 5 + ((), ())

HOLIDAYS_CN_PATH = Path(__file__).resolve().parent / "data" / "holidays_cn.json"


def _since_midnight(t: time) -> timedelta:
    if t.tzinfo is not None:
        raise ValueError("working hours are local wall-clock times; use naive time objects")
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _normalise_day(day, label: str) -> tuple[tuple, tuple[tuple[timedelta, timedelta], ...]]:
    """Validate one day's intervals; return (canonical tuple, offsets from local midnight)."""
    try:
        intervals = tuple(day)
    except TypeError:
        raise ValueError(f"{label}: expected a tuple of (start, end) intervals") from None
    canonical = []
    offsets: list[tuple[timedelta, timedelta]] = []
    for interval in intervals:
        try:
            start, end = interval
        except (TypeError, ValueError):
            raise ValueError(f"{label}: each interval must be a (start, end) pair") from None
        if not isinstance(start, time) or not (end is None or isinstance(end, time)):
            raise ValueError(f"{label}: interval bounds must be datetime.time (end may be None)")
        lo = _since_midnight(start)
        hi = _ONE_DAY if end is None or end == time(0) else _since_midnight(end)
        if hi <= lo:
            raise ValueError(f"{label}: interval {start}-{end} is empty or reversed")
        if offsets and lo < offsets[-1][1]:
            raise ValueError(f"{label}: intervals must be sorted and must not overlap")
        canonical.append((start, None if hi == _ONE_DAY else end))
        if offsets and offsets[-1][1] == lo:  # touching intervals: merge
            offsets[-1] = (offsets[-1][0], hi)
        else:
            offsets.append((lo, hi))
    return tuple(canonical), tuple(offsets)


def _require_aware(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got naive {dt.isoformat()})")
    return dt.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours in one zone, with public holidays and adjusted working days. Immutable."""

    tz: str = "Asia/Shanghai"
    hours: tuple = DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    workday_hours: tuple = NINE_TO_SIX

    # derived, set in __post_init__
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _week: tuple = field(init=False, repr=False, compare=False)
    _adjusted: tuple = field(init=False, repr=False, compare=False)
    _last_special: date | None = field(init=False, repr=False, compare=False)
    _always: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            zone = ZoneInfo(self.tz)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError for malformed keys
            raise ValueError(f"tz: unknown time zone {self.tz!r}") from exc
        hours = tuple(self.hours)
        if len(hours) != 7:
            raise ValueError(f"hours: expected 7 entries (Monday..Sunday), got {len(hours)}")
        names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        week = [_normalise_day(day, f"hours[{names[i]}]") for i, day in enumerate(hours)]
        adjusted = _normalise_day(self.workday_hours, "workday_hours")
        holidays = frozenset(self.holidays)
        workdays = frozenset(self.workdays)
        for label, days in (("holidays", holidays), ("workdays", workdays)):
            if any(not isinstance(d, date) or isinstance(d, datetime) for d in days):
                raise ValueError(f"{label}: expected datetime.date values")
        both = holidays & workdays
        if both:
            raise ValueError(f"holidays and workdays overlap: {sorted(both)[0].isoformat()}")
        if workdays and not adjusted[1]:
            raise ValueError("workday_hours: adjusted working days need at least one interval")
        set_(self, "hours", tuple(day for day, _ in week))
        set_(self, "workday_hours", adjusted[0])
        set_(self, "holidays", holidays)
        set_(self, "workdays", workdays)
        set_(self, "_zone", zone)
        set_(self, "_week", tuple(offsets for _, offsets in week))
        set_(self, "_adjusted", adjusted[1])
        # Past this date the calendar is purely weekly; used to detect "no working time ever".
        set_(self, "_last_special", max(workdays) if workdays else None)
        # Every moment is working time (24x7, no holidays): business time is elapsed time.
        whole_day = ((_ZERO, _ONE_DAY),)
        set_(
            self,
            "_always",
            not holidays
            and (not workdays or adjusted[1] == whole_day)
            and all(offsets == whole_day for offsets in self._week),
        )

    # ------------------------------------------------------------------ days
    def _offsets(self, d: date) -> tuple[tuple[timedelta, timedelta], ...]:
        if d in self.holidays:
            return ()
        if d in self.workdays:
            return self._adjusted
        return self._week[d.weekday()]

    def is_working_day(self, d: date) -> bool:
        """True when ``d`` (a local date) has working hours: not a holiday, and a weekday with
        hours or an adjusted working day."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; use next_working_moment for datetimes")
        return bool(self._offsets(d))

    def _local_to_utc(self, naive: datetime) -> datetime:
        """Local wall time -> UTC instant. Gap times shift forward to the end of the gap;
        ambiguous times take their first occurrence."""
        local = naive.replace(tzinfo=self._zone)
        before = local.utcoffset()
        after = local.replace(fold=1).utcoffset()
        if after <= before:  # exists (possibly ambiguous: fold=0 is the first occurrence)
            return (naive - before).replace(tzinfo=UTC)
        # Non-existent (spring-forward gap): the transition lies in (naive-after, naive-before].
        # Find it by bisection on whole seconds (zone transitions are on whole seconds).
        lo = (naive - after).replace(tzinfo=UTC)  # still before the transition
        hi = (naive - before).replace(tzinfo=UTC)  # already after it
        zone = self._zone
        while hi - lo > timedelta(seconds=1):
            mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
            if mid.astimezone(zone).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return hi.replace(microsecond=0) if hi.microsecond else hi

    def _utc_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of local date ``d`` as UTC instants (empty ones dropped)."""
        offsets = self._offsets(d)
        if not offsets:
            return []
        zone = self._zone
        midnight = datetime.combine(d, _MIDNIGHT)
        off = zone.utcoffset(midnight)
        if off == zone.utcoffset(midnight + _ONE_DAY):
            # Fast path: no offset change during this local day (zones change offset at most
            # once a day), so every wall time maps with the same offset.
            base = datetime.combine(d, _MIDNIGHT, UTC) - off
            return [(base + lo, base + hi) for lo, hi in offsets]
        out = []
        for lo, hi in offsets:
            a = self._local_to_utc(midnight + lo)
            b = self._local_to_utc(midnight + hi)
            if b > a:  # an interval entirely inside a DST gap does not exist
                out.append((a, b))
        return out

    def working_intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """Working intervals of local date ``d`` as aware datetimes in the calendar's zone.

        For display. To measure or compare, convert to UTC first: Python subtracts datetimes
        that share a zone in wall-clock time, and an ambiguous local time never compares
        equal to a datetime in another zone (PEP 495).
        """
        if isinstance(d, datetime):
            raise TypeError("working_intervals takes a date")
        zone = self._zone
        return [(a.astimezone(zone), b.astimezone(zone)) for a, b in self._utc_intervals(d)]

    def _scan_from(self, instant: datetime):
        """Yield UTC intervals, in order, that end after ``instant``. Starts one local day early
        so that an interval of the previous local date running into ``instant`` is included."""
        d = instant.astimezone(self._zone).date() - _ONE_DAY
        weekly = any(self._week)
        last_special = self._last_special
        while True:
            for a, b in self._utc_intervals(d):
                if b > instant:
                    yield a, b
            d += _ONE_DAY
            if not weekly and (last_special is None or d > last_special):
                raise ValueError("this business calendar has no working time after the given moment")

    # ------------------------------------------------------------------ time
    def next_working_moment(self, dt: datetime) -> datetime:
        """``dt`` (in UTC) if it lies inside working time, else the start of the next interval."""
        s = _require_aware(dt, "dt")
        a, _b = next(self._scan_from(s))
        return max(a, s)

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """Add ``delta`` of working time to ``start``; return an aware datetime in UTC.

        Only time inside working intervals counts. A start outside working hours begins
        counting at the next working moment. ``delta == 0`` returns ``start`` in UTC (not moved
        forward). When the budget runs out exactly at the end of an interval, that end is
        returned (not the next interval's start).
        """
        s = _require_aware(start, "start")
        if not isinstance(delta, timedelta):
            raise TypeError(f"delta must be a timedelta, got {type(delta).__name__}")
        if delta < _ZERO:
            raise ValueError(f"delta must not be negative (got {delta})")
        if not delta:
            return s
        if self._always:
            return s + delta
        remaining = delta
        for a, b in self._scan_from(s):
            a = max(a, s)
            available = b - a
            if remaining <= available:
                return a + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time inside ``[start, end)``; zero when ``end <= start``."""
        s = _require_aware(start, "start")
        e = _require_aware(end, "end")
        if e <= s:
            return _ZERO
        if self._always:
            return e - s
        total = _ZERO
        d = s.astimezone(self._zone).date() - _ONE_DAY
        last = e.astimezone(self._zone).date() + _ONE_DAY
        while d <= last:
            for a, b in self._utc_intervals(d):
                lo, hi = max(a, s), min(b, e)
                if hi > lo:
                    total += hi - lo
            d += _ONE_DAY
        return total


#: 24x7: every moment is working time; adding business time is plain elapsed-time addition.
#: Use ``dataclasses.replace(ALWAYS, tz=...)`` for another zone (the result is the same instant).
ALWAYS = BusinessCalendar(hours=(FULL_DAY,) * 7, workday_hours=FULL_DAY)


# ---------------------------------------------------------------------- holidays
def load_holidays(data: dict, region: str = "CN") -> tuple[frozenset[date], frozenset[date], dict[date, str]]:
    """Read a holiday file (structure of ``data/holidays_cn.json``).

    Returns ``(holidays, workdays, names)``; ``names`` maps each holiday date to its name key
    (e.g. ``"spring_festival"``). A file may carry ``"region"``; asking for another region, a
    date outside its year, or a date both off and worked raises ``ValueError``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise ValueError("holiday data: expected an object with a 'years' mapping")
    file_region = data.get("region", region)
    if file_region != region:
        raise ValueError(f"holiday data is for region {file_region!r}, not {region!r}")
    names: dict[date, str] = {}
    workdays: set[date] = set()

    def parse(value, where: str, year: int) -> date:
        try:
            d = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: {value!r} is not an ISO date (YYYY-MM-DD)") from None
        if d.year != year:
            raise ValueError(f"{where}: {value} is not in year {year}")
        return d

    for year_key, year_data in data["years"].items():
        try:
            year = int(year_key)
        except ValueError:
            raise ValueError(f"years: {year_key!r} is not a year") from None
        for i, holiday in enumerate(year_data.get("holidays", [])):
            where = f"years.{year_key}.holidays[{i}]"
            name = holiday.get("name")
            if not name or not isinstance(name, str):
                raise ValueError(f"{where}.name: required")
            for value in holiday.get("dates", []):
                d = parse(value, f"{where}.dates", year)
                if d in names and names[d] != name:
                    raise ValueError(f"{where}.dates: {value} is already {names[d]!r}")
                names[d] = name
        for value in year_data.get("workdays", []):
            workdays.add(parse(value, f"years.{year_key}.workdays", year))
    both = workdays & names.keys()
    if both:
        raise ValueError(f"holiday data: {min(both).isoformat()} is both a holiday and a workday")
    return frozenset(names), frozenset(workdays), names


#: Years after the last one in ``data/holidays_cn.json`` that still get their statutory days off.
STATUTORY_YEARS_AHEAD = 3

#: the `holidays` library's English names of the PRC statutory days -> our name keys
_STATUTORY_NAMES = (
    ("Chinese New Year", "spring_festival"),
    ("New Year", "new_year"),
    ("Tomb-Sweeping", "qingming"),
    ("Labor Day", "labour_day"),
    ("Dragon Boat", "dragon_boat"),
    ("Mid-Autumn", "mid_autumn"),
    ("National Day", "national_day"),
)


def statutory_holidays_cn(years) -> dict[date, str]:
    """The days off the law itself names for each year (全国年节及纪念日放假办法 art. 2: 元旦,
    春节 from New Year's Eve to the 3rd day, 清明, 劳动节 1-2 May, 端午, 中秋, 国庆 1-3 October),
    lunar dates converted by the `holidays` library. Not the State Council's yearly arrangement:
    no days moved off or worked instead (调休), which only its notice says."""
    import holidays as holiday_rules

    days: dict[date, str] = {}
    for d, label in holiday_rules.China(years=list(years), observed=False, language="en_US").items():
        key = next((k for prefix, k in _STATUTORY_NAMES if label.startswith(prefix)), None)
        if key is not None:
            days[d] = key
    return days


@lru_cache(maxsize=8)
def _statutory_after(last: int) -> dict[date, str]:
    return statutory_holidays_cn(range(last + 1, last + 1 + STATUTORY_YEARS_AHEAD))


def with_statutory_cn(holidays: frozenset[date]) -> frozenset[date]:
    """`holidays` (the published arrangements) and, for the years after the last of them, the
    statutory days off until that year's arrangement is entered: a calendar without them would
    count New Year's Day as a working day."""
    if not holidays:
        return holidays
    return holidays | frozenset(_statutory_after(max(holidays).year))


def published_years_cn() -> frozenset[int]:
    """The years whose State Council arrangement is in ``data/holidays_cn.json``."""
    data = json.loads(HOLIDAYS_CN_PATH.read_text(encoding="utf-8"))
    return frozenset(int(year) for year in data["years"])


@lru_cache(maxsize=1)
def _cn_data() -> tuple[frozenset[date], frozenset[date], dict[date, str]]:
    """(days off, adjusted working days, names): the file's years, then the statutory days."""
    published, workdays, names = load_holidays(json.loads(HOLIDAYS_CN_PATH.read_text(encoding="utf-8")), "CN")
    names = {**_statutory_after(max(published).year), **names}
    return frozenset(names), workdays, names


def default_calendar() -> BusinessCalendar:
    """Asia/Shanghai, Monday-Friday 09:00-18:00, with the PRC public holidays and adjusted
    working days (调休) from ``data/holidays_cn.json``. Cached: the same instance every call."""
    return _default_calendar()


@lru_cache(maxsize=1)
def _default_calendar() -> BusinessCalendar:
    holidays, workdays, _names = _cn_data()
    return BusinessCalendar(tz="Asia/Shanghai", holidays=holidays, workdays=workdays)


def holiday_name_cn(d: date) -> str | None:
    """Name key of the PRC public holiday on ``d`` (e.g. ``"national_day"``), or None."""
    return _cn_data()[2].get(d)
