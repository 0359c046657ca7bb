"""Business calendars from the database, as pure `BusinessCalendar` values.

Deadlines everywhere are computed with `get_calendar().add_business_time(...)`: one function,
one source of working hours and holidays (the CalendarConfig / CalendarDay tables).
"""

from __future__ import annotations

import time as _time
from datetime import time

from marketguard.core.bizcalendar import BusinessCalendar, with_statutory_cn
from marketguard.core.models import CalendarConfig, CalendarDay

_CACHE: dict[str, tuple[float, BusinessCalendar]] = {}
_TTL_SECONDS = 60.0


def _intervals(raw) -> tuple:
    result = []
    for start, end in raw or []:
        # "24:00" (end of day) is written as None in the pure calendar
        result.append(
            (time.fromisoformat(start), None if end in ("24:00", "00:00") else time.fromisoformat(end))
        )
    return tuple(result)


def build_calendar(config: CalendarConfig) -> BusinessCalendar:
    days = list(CalendarDay.objects.filter(calendar=config).values_list("date", "kind"))
    hours = tuple(_intervals(day) for day in config.hours)
    if len(hours) != 7:
        raise ValueError("a calendar needs working hours for 7 weekdays")
    holidays = frozenset(d for d, kind in days if kind == CalendarDay.Kind.HOLIDAY)
    if config.statutory_region == "CN":
        holidays = with_statutory_cn(holidays)
    return BusinessCalendar(
        tz=config.timezone,
        hours=hours,
        holidays=holidays,
        workdays=frozenset(d for d, kind in days if kind == CalendarDay.Kind.WORKDAY),
        workday_hours=_intervals(config.workday_hours) or hours[0],
    )


def get_calendar(name: str | None = None) -> BusinessCalendar:
    """The named calendar, or the default one. Cached briefly per process."""
    key = name or ""
    hit = _CACHE.get(key)
    now = _time.monotonic()
    if hit is not None and now - hit[0] < _TTL_SECONDS:
        return hit[1]
    qs = CalendarConfig.objects.filter(name=name) if name else CalendarConfig.objects.filter(is_default=True)
    config = qs.first()
    if config is None:
        from marketguard.core.bizcalendar import default_calendar

        calendar = default_calendar()
    else:
        calendar = build_calendar(config)
    _CACHE[key] = (now, calendar)
    return calendar


def clear_cache() -> None:
    _CACHE.clear()
