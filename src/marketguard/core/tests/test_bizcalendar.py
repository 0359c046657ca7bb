"""Business calendar: pure tests (no database, no Django)."""

import dataclasses
import json
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.core.bizcalendar import (
    ALWAYS,
    FULL_DAY,
    HOLIDAYS_CN_PATH,
    BusinessCalendar,
    default_calendar,
    holiday_name_cn,
    load_holidays,
    published_years_cn,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CAL = default_calendar()
BERLIN_CAL = BusinessCalendar(tz="Europe/Berlin")  # Mon-Fri 09-18, no holidays
ALWAYS_BERLIN = dataclasses.replace(ALWAYS, tz="Europe/Berlin")
H = timedelta(hours=1)


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def add(cal, start, **kw) -> datetime:
    return cal.add_business_time(start, timedelta(**kw))


# ----------------------------------------------------------------- strategies
starts_sh = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31, 23, 59, 59), timezones=st.just(SH)
)
starts_berlin = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59, 59),
    timezones=st.just(BERLIN),
    allow_imaginary=False,
)
deltas = st.one_of(
    st.integers(0, 400).map(lambda h: timedelta(hours=h)),  # whole working hours
    st.integers(0, 400 * 3600).map(lambda s: timedelta(seconds=s)),  # second resolution
    st.just(timedelta(0)),
)
calendars = st.sampled_from([CAL, BERLIN_CAL])


def inside_or_at_end(cal: BusinessCalendar, instant: datetime) -> bool:
    local_day = instant.astimezone(ZoneInfo(cal.tz)).date()
    for d in (local_day - timedelta(days=1), local_day):
        for a, b in cal.working_intervals(d):
            if a < instant <= b:
                return True
    return False


# ----------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(cal=calendars, start=st.one_of(starts_sh, starts_berlin), delta=deltas)
def test_business_time_between_inverts_add(cal, start, delta):
    end = cal.add_business_time(start, delta)
    assert end.utcoffset() == timedelta(0)
    assert end >= start
    assert cal.business_time_between(start, end) == delta


@settings(max_examples=100, deadline=None)
@given(cal=calendars, start=starts_sh, d1=deltas, d2=deltas)
def test_more_business_time_never_ends_earlier(cal, start, d1, d2):
    small, big = sorted((d1, d2))
    assert cal.add_business_time(start, small) <= cal.add_business_time(start, big)


@settings(max_examples=100, deadline=None)
@given(cal=calendars, start=st.one_of(starts_sh, starts_berlin), delta=deltas.filter(bool))
def test_result_is_inside_working_time_or_at_an_interval_end(cal, start, delta):
    assert inside_or_at_end(cal, cal.add_business_time(start, delta))


@settings(max_examples=100, deadline=None)
@given(start=starts_berlin, seconds=st.integers(0, 400 * 24 * 3600))
def test_always_calendar_is_plain_elapsed_time_across_dst(start, seconds):
    delta = timedelta(seconds=seconds)
    end = ALWAYS_BERLIN.add_business_time(start, delta)
    assert end == start.astimezone(UTC) + delta
    assert ALWAYS_BERLIN.business_time_between(start, end) == delta


@settings(max_examples=50, deadline=None)
@given(start=st.one_of(starts_sh, starts_berlin))
def test_next_working_moment_is_the_start_of_counting(start):
    moment = CAL.next_working_moment(start)
    assert moment >= start
    assert CAL.business_time_between(start, moment) == timedelta(0)
    # one second of work after the next working moment is exactly one second later
    assert CAL.add_business_time(start, timedelta(seconds=1)) == moment + timedelta(seconds=1)


# ----------------------------------------------------------------- concrete cases (Shanghai)
def test_friday_afternoon_plus_two_hours_is_monday_ten():
    # 2026-03-06 is an ordinary Friday: 1 h until 18:00, the second hour Monday 09:00-10:00.
    assert add(CAL, sh(2026, 3, 6, 17), hours=2) == sh(2026, 3, 9, 10)


def test_24_business_hours_from_eve_of_national_day():
    # Wed 2026-09-30 10:00 + 24 h:
    #   Wed 09-30 10:00-18:00  ->  8 h  (16 h left)
    #   Thu 10-01 .. Wed 10-07 National Day holiday (Sat/Sun 10-03/04 inside it): 0 h
    #   Thu 10-08 09:00-18:00  ->  9 h  (7 h left)
    #   Fri 10-09 09:00 + 7 h  -> 16:00 Shanghai = 08:00 UTC
    end = add(CAL, sh(2026, 9, 30, 10), hours=24)
    assert end == sh(2026, 10, 9, 16)
    assert end == datetime(2026, 10, 9, 8, tzinfo=UTC)


def test_budget_ending_at_close_of_day_stays_on_that_day():
    # 8 + 9 + 9 = 26 h ends exactly at Fri 10-09 18:00, not at the next day's 09:00.
    assert add(CAL, sh(2026, 9, 30, 10), hours=26) == sh(2026, 10, 9, 18)


def test_adjusted_saturday_after_national_day_is_worked():
    # 26 h reach Fri 10-09 18:00; Sat 10-10 is an adjusted working day: 09:00 + 7 h = 16:00.
    assert add(CAL, sh(2026, 9, 30, 10), hours=33) == sh(2026, 10, 10, 16)


def test_working_days_follow_the_2026_arrangement():
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday, worked before Spring Festival
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday, worked before National Day
    assert CAL.is_working_day(date(2026, 1, 4))  # Sunday, worked after New Year
    assert not CAL.is_working_day(date(2026, 10, 1))  # National Day
    assert not CAL.is_working_day(date(2026, 2, 23))  # Monday inside Spring Festival
    assert not CAL.is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert CAL.is_working_day(date(2026, 3, 9))  # ordinary Monday
    assert CAL.working_intervals(date(2026, 2, 14)) == [(sh(2026, 2, 14, 9), sh(2026, 2, 14, 18))]
    assert CAL.working_intervals(date(2026, 10, 1)) == []


def test_start_inside_a_holiday_counts_from_the_first_day_back():
    # Tue 2026-02-17 is inside Spring Festival (02-15..02-23); work resumes Tue 02-24 09:00.
    assert add(CAL, sh(2026, 2, 17, 10), hours=1) == sh(2026, 2, 24, 10)
    assert CAL.next_working_moment(sh(2026, 2, 17, 10)) == sh(2026, 2, 24, 9)


def test_start_before_opening_counts_from_nine():
    assert add(CAL, sh(2026, 3, 9, 7, 30), minutes=30) == sh(2026, 3, 9, 9, 30)
    assert add(CAL, sh(2026, 3, 9, 7, 30), hours=9) == sh(2026, 3, 9, 18)
    assert add(CAL, sh(2026, 3, 9, 7, 30), hours=9, seconds=1) == sh(2026, 3, 10, 9, 0, 1)


def test_zero_delta_returns_start_in_utc_without_moving_it():
    saturday_night = sh(2026, 3, 7, 23)
    result = CAL.add_business_time(saturday_night, timedelta(0))
    assert result == saturday_night
    assert result.tzinfo is UTC


def test_start_in_another_zone_is_the_same_instant():
    # 01:00 UTC on Monday 2026-03-09 is 09:00 in Shanghai.
    assert add(CAL, datetime(2026, 3, 9, 1, tzinfo=UTC), hours=1) == sh(2026, 3, 9, 10)


def test_business_time_between():
    assert CAL.business_time_between(sh(2026, 3, 6, 17), sh(2026, 3, 9, 10)) == 2 * H
    assert CAL.business_time_between(sh(2026, 3, 9, 10), sh(2026, 3, 6, 17)) == timedelta(0)
    # a whole 2026 National Day week: Sep 28-30 (3 days) + Oct 8-10 (3 days incl. Sat 10-10)
    assert CAL.business_time_between(sh(2026, 9, 28), sh(2026, 10, 11)) == 6 * 9 * H


def test_next_working_moment():
    assert CAL.next_working_moment(sh(2026, 3, 9, 10)) == sh(2026, 3, 9, 10)  # inside: itself
    assert CAL.next_working_moment(sh(2026, 3, 9, 18)) == sh(2026, 3, 10, 9)  # closing time: next
    assert CAL.next_working_moment(sh(2026, 3, 7, 12)) == sh(2026, 3, 9, 9)  # Saturday
    assert CAL.next_working_moment(sh(2026, 3, 7, 12)).tzinfo is UTC


def test_lunch_break_is_not_counted():
    hours = (((time(9), time(12)), (time(13, 30), time(18))),) * 5 + ((), ())
    cal = BusinessCalendar(hours=hours)
    assert add(cal, sh(2026, 3, 9, 11), hours=2) == sh(2026, 3, 9, 14, 30)
    assert add(cal, sh(2026, 3, 9, 11), hours=1) == sh(2026, 3, 9, 12)  # ends at the break


def test_one_year_of_business_time_is_fast():
    start = sh(2026, 1, 5, 10)
    began = clock.perf_counter()
    end = CAL.add_business_time(start, timedelta(days=365))  # ~4 calendar years of 9-hour days
    elapsed = clock.perf_counter() - began
    assert CAL.business_time_between(start, end) == timedelta(days=365)
    assert elapsed < 0.05


# ----------------------------------------------------------------- DST (Europe/Berlin)
def test_always_calendar_across_spring_forward_and_fall_back():
    # 2026-03-29 has 23 hours in Berlin, 2026-10-25 has 25.
    start = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    end = add(ALWAYS_BERLIN, start, hours=24)
    assert end == start.astimezone(UTC) + 24 * H
    assert end == datetime(2026, 3, 29, 13, tzinfo=BERLIN)  # wall clock moved 25 h
    start = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    end = add(ALWAYS_BERLIN, start, hours=24)
    assert end == datetime(2026, 10, 25, 11, tzinfo=BERLIN)  # wall clock moved 23 h
    assert (
        ALWAYS_BERLIN.business_time_between(
            datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN)
        )
        == 25 * H
    )


def test_office_hours_keep_local_wall_clock_across_dst():
    # Fri 17:00 CET + 2 h -> Mon 10:00 CEST (the weekend changed the offset).
    end = add(BERLIN_CAL, datetime(2026, 3, 27, 17, tzinfo=BERLIN), hours=2)
    assert end == datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    assert end == datetime(2026, 3, 30, 8, tzinfo=UTC)
    for d in (date(2026, 3, 30), date(2026, 10, 26), date(2026, 7, 1), date(2026, 12, 1)):
        ((a, b),) = BERLIN_CAL.working_intervals(d)
        assert (a.time(), b.time(), b - a) == (time(9), time(18), 9 * H)


def test_nonexistent_local_start_shifts_forward_to_end_of_gap():
    # Berlin 2026-03-29: 02:00-03:00 does not exist; a 02:30 opening becomes 03:00 CEST.
    night = BusinessCalendar(tz="Europe/Berlin", hours=(((time(2, 30), time(5)),),) * 7)
    ((a, b),) = night.working_intervals(date(2026, 3, 29))
    assert a == datetime(2026, 3, 29, 1, tzinfo=UTC)  # 03:00 CEST
    assert b - a == 2 * H
    # an ambiguous local time (fall back) is its first occurrence: 02:30 CEST. (Compare in UTC:
    # by PEP 495 an ambiguous local datetime never compares equal across zones.)
    ((a, b),) = night.working_intervals(date(2026, 10, 25))
    assert a.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert b.astimezone(UTC) - a.astimezone(UTC) == 3.5 * H  # same-zone subtraction is wall time


# ----------------------------------------------------------------- validation
def test_naive_datetimes_are_rejected():
    naive = datetime(2026, 3, 9, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_business_time(naive, H)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.business_time_between(naive, sh(2026, 3, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.business_time_between(sh(2026, 3, 10), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.next_working_moment(naive)


def test_negative_delta_is_rejected():
    with pytest.raises(ValueError, match="negative"):
        CAL.add_business_time(sh(2026, 3, 9, 10), -timedelta(seconds=1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tz": "Mars/Olympus"},
        {"hours": ((),) * 6},  # six days
        {"hours": (((time(18), time(9)),),) * 7},  # reversed
        {"hours": (((time(9), time(12)), (time(11), time(18))),) * 7},  # overlapping
        {"holidays": frozenset({date(2026, 1, 4)}), "workdays": frozenset({date(2026, 1, 4)})},
    ],
)
def test_invalid_calendars_are_rejected(kwargs):
    with pytest.raises(ValueError):
        BusinessCalendar(**kwargs)


def test_calendar_without_any_working_time_fails_clearly():
    never = BusinessCalendar(hours=((),) * 7)
    with pytest.raises(ValueError, match="no working time"):
        never.add_business_time(sh(2026, 3, 9), H)


def test_full_day_representations_are_equivalent():
    assert BusinessCalendar(hours=(((time(0), time(0)),),) * 7, workday_hours=FULL_DAY) == ALWAYS
    assert ALWAYS.is_working_day(date(2026, 10, 1))


# ----------------------------------------------------------------- holiday data
def test_holiday_file_matches_the_state_council_notices():
    data = json.loads(HOLIDAYS_CN_PATH.read_text(encoding="utf-8"))
    holidays, workdays, names = load_holidays(data)
    y2026 = {d for d in holidays if d.year == 2026}
    y2025 = {d for d in holidays if d.year == 2025}
    assert len(y2026) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert len(y2025) == 1 + 8 + 3 + 5 + 3 + 8
    assert {d.isoformat() for d in workdays if d.year == 2026} == {
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    }
    assert {d.isoformat() for d in workdays if d.year == 2025} == {
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
    }
    assert all(d.weekday() >= 5 for d in workdays)  # adjusted working days are weekend days
    assert names[date(2026, 2, 15)] == "spring_festival"
    assert names[date(2026, 10, 7)] == "national_day"
    assert holiday_name_cn(date(2026, 9, 25)) == "mid_autumn"
    assert holiday_name_cn(date(2026, 9, 28)) is None
    assert "gmw.cn" in data["source"]


def test_load_holidays_rejects_bad_data():
    with pytest.raises(ValueError, match="region"):
        load_holidays({"region": "CN", "years": {}}, region="HK")
    with pytest.raises(ValueError, match="not in year"):
        load_holidays({"years": {"2026": {"holidays": [{"name": "x", "dates": ["2025-01-01"]}]}}})
    with pytest.raises(ValueError, match="both"):
        load_holidays(
            {
                "years": {
                    "2026": {"holidays": [{"name": "x", "dates": ["2026-01-04"]}], "workdays": ["2026-01-04"]}
                }
            }
        )
    with pytest.raises(ValueError, match="ISO date"):
        load_holidays({"years": {"2026": {"workdays": ["04/01/2026"]}}})


def test_default_calendar_is_shanghai_office_hours():
    assert CAL.tz == "Asia/Shanghai"
    assert default_calendar() is CAL
    assert CAL.working_intervals(date(2026, 3, 9)) == [(sh(2026, 3, 9, 9), sh(2026, 3, 9, 18))]


#: 24x7 too, but with a (far away) holiday: counted interval by interval, not by the shortcut.
WALKED_24X7 = dataclasses.replace(ALWAYS_BERLIN, holidays=frozenset({date(1990, 1, 1)}))


@settings(max_examples=100, deadline=None)
@given(start=starts_berlin, seconds=st.integers(0, 120 * 24 * 3600), back=st.integers(0, 60 * 24 * 3600))
def test_the_24x7_shortcut_agrees_with_counting_day_by_day(start, seconds, back):
    assert ALWAYS_BERLIN._always and not WALKED_24X7._always
    delta = timedelta(seconds=seconds)
    fast, walked = ALWAYS_BERLIN.add_business_time(start, delta), WALKED_24X7.add_business_time(start, delta)
    assert fast == walked and fast.utcoffset() == timedelta(0)
    earlier = start - timedelta(seconds=back)
    assert ALWAYS_BERLIN.business_time_between(earlier, fast) == WALKED_24X7.business_time_between(
        earlier, fast
    )


def test_an_adjusted_working_day_with_shorter_hours_turns_the_shortcut_off():
    day = date(2026, 10, 10)
    cal = dataclasses.replace(ALWAYS_BERLIN, workdays=frozenset({day}), workday_hours=((time(9), time(18)),))
    assert not cal._always
    start = datetime(2026, 10, 10, 0, 0, tzinfo=BERLIN)
    assert cal.business_time_between(start, start + timedelta(days=1)) == timedelta(hours=9)


def test_the_years_after_the_published_ones_keep_the_statutory_days_off():
    from marketguard.core.bizcalendar import statutory_holidays_cn, with_statutory_cn

    days = statutory_holidays_cn([2027])
    assert days[date(2027, 1, 1)] == "new_year"
    # 春节: New Year's Eve to the third day (2027: 5-8 February); 劳动节 1-2 May; 国庆 1-3 October
    assert [d for d, k in sorted(days.items()) if k == "spring_festival"] == [
        date(2027, 2, 5),
        date(2027, 2, 6),
        date(2027, 2, 7),
        date(2027, 2, 8),
    ]
    assert {d for d, k in days.items() if k == "labour_day"} == {date(2027, 5, 1), date(2027, 5, 2)}
    assert len(days) == 1 + 4 + 1 + 2 + 1 + 1 + 3  # the 13 days of art. 2
    published = frozenset({date(2026, 10, 1)})
    assert date(2027, 1, 1) in with_statutory_cn(published) and date(2026, 1, 1) not in with_statutory_cn(
        published
    )
    calendar = default_calendar()
    assert not calendar.is_working_day(date(2027, 1, 1)) and calendar.is_working_day(date(2027, 1, 4))


@pytest.mark.django_db
def test_the_shipped_calendar_counts_the_statutory_days_and_an_entered_year_replaces_them():
    from marketguard.core.calendars import clear_cache, get_calendar
    from marketguard.core.models import CalendarConfig, CalendarDay

    clear_cache()
    assert not get_calendar().is_working_day(date(2027, 10, 1))
    config = CalendarConfig.objects.get(is_default=True)
    # the 2027 arrangement entered (say it moved a day): the statutory guess for 2027 gives way
    CalendarDay.objects.create(calendar=config, date=date(2027, 1, 1), kind="holiday", name_zh="元旦")
    clear_cache()
    assert get_calendar().is_working_day(date(2027, 10, 1))  # not entered: a plain Friday now
    assert date(2028, 10, 2) in get_calendar().holidays  # the years after it keep theirs


def test_a_missing_holiday_year_is_reported_from_november():
    from marketguard.core.checks import missing_holiday_years

    last = max(published_years_cn())
    assert missing_holiday_years(date(last, 6, 1)) == []
    assert missing_holiday_years(date(last, 11, 15)) == [last + 1]
    assert missing_holiday_years(date(last + 1, 3, 1)) == [last + 1]


def test_the_holiday_check_reads_the_marketplaces_day_not_the_servers():
    """At 2027-01-01 00:30 in Shanghai the server's UTC day is still 2026: the missing 2027
    arrangement is this year's already (a warning), not next year's (a note)."""
    import time_machine

    from marketguard.core import checks

    last = max(published_years_cn())
    with time_machine.travel(datetime(last + 1, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        ids = [issue.id for issue in checks.holiday_data_check()]
    assert "marketguard.W001" in ids
