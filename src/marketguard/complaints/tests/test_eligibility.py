"""Seven-day no-reason return: windows in calendar days, exclusions, intact goods (pure)."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.complaints.eligibility import (
    ART6_EXCLUDED,
    ART7_CONFIRM_AT_PURCHASE,
    INTACT_RULES,
    no_reason_deadline,
    no_reason_return,
    refund_due,
)

SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY_2026 = {date(2026, 10, d) for d in range(1, 8)}


def local(*args):
    return datetime(*args, tzinfo=SH)


def check(requested_at, signed_at=local(2026, 10, 1, 15, 0), **kwargs):
    kwargs.setdefault("category_rule", "eligible")
    kwargs.setdefault("goods_intact", True)
    return no_reason_return(signed_at=signed_at, requested_at=requested_at, **kwargs)


# --------------------------------------------------------------------------- art. 10 window
def test_article_10_example_days_count_from_the_day_after_signing():
    result = check(local(2026, 10, 8, 23, 0))
    assert result.eligible is True
    assert result.reasons == []
    assert (result.first_day, result.last_day) == (date(2026, 10, 2), date(2026, 10, 8))
    # exclusive bound: the start of day 8, local midnight, returned in UTC
    assert result.deadline == datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
    assert result.deadline.tzinfo is UTC


@pytest.mark.parametrize(
    "requested_at, eligible",
    [
        (local(2026, 10, 1, 15, 0), True),  # at signing
        (local(2026, 10, 8, 23, 59, 59, 999_999), True),
        (local(2026, 10, 9, 0, 0, 0), False),  # the deadline itself is late
        (local(2026, 10, 9, 0, 0, 1), False),
        (local(2026, 10, 20, 12, 0), False),
    ],
)
def test_window_edges(requested_at, eligible):
    result = check(requested_at)
    assert result.eligible is eligible
    assert ("WINDOW_EXPIRED" in result.reasons) is (not eligible)


def test_holidays_do_not_extend_the_window():
    # signed the day before National Day: the whole window is public holiday, still 7 days
    result = check(local(2026, 10, 8, 9, 0), signed_at=local(2026, 9, 30, 20, 0))
    assert result.last_day == date(2026, 10, 7)
    assert result.eligible is False
    assert result.reasons == ["WINDOW_EXPIRED"]
    assert check(local(2026, 10, 7, 22, 0), signed_at=local(2026, 9, 30, 20, 0)).eligible is True


def test_civil_code_day_off_extension_is_opt_in():
    signed = local(2026, 9, 27, 10, 0)  # last counted day 10-04, inside National Day
    assert no_reason_deadline(signed) == local(2026, 10, 5, 0, 0)
    extended = no_reason_deadline(signed, is_day_off=lambda d: d in NATIONAL_DAY_2026)
    assert extended == local(2026, 10, 9, 0, 0)  # last day moves to the first working day, 10-08
    result = check(local(2026, 10, 6, 12, 0), signed_at=signed, is_day_off=lambda d: d in NATIONAL_DAY_2026)
    assert result.eligible is True and result.last_day == date(2026, 10, 8)
    with pytest.raises(ValueError, match="is_day_off"):
        no_reason_deadline(signed, is_day_off=lambda d: True)


def test_days_are_counted_in_the_local_zone_not_utc():
    # 2026-09-30 17:30 UTC is already 10-01 01:30 in Shanghai: counting starts 10-02
    signed = datetime(2026, 9, 30, 17, 30, tzinfo=UTC)
    assert no_reason_deadline(signed) == local(2026, 10, 9, 0, 0)
    # the same instant seen from New York is still 09-30: a different deadline there
    assert no_reason_deadline(signed, tz="America/New_York") == datetime(
        2026, 10, 8, 0, 0, tzinfo=ZoneInfo("America/New_York")
    )


def test_deadline_across_a_dst_change_is_local_midnight():
    berlin = ZoneInfo("Europe/Berlin")
    signed = datetime(2026, 3, 22, 12, 0, tzinfo=berlin)  # clocks go forward on 03-29
    deadline = no_reason_deadline(signed, tz="Europe/Berlin")
    assert deadline == datetime(2026, 3, 30, 0, 0, tzinfo=berlin)
    assert deadline == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_request_before_signing_is_not_a_return():
    result = check(local(2026, 10, 1, 14, 0))
    assert result.eligible is False
    assert result.reasons == ["REQUESTED_BEFORE_SIGNING"]


# --------------------------------------------------------------------------- categories, intact
def test_excluded_category_art_6():
    result = check(local(2026, 10, 3, 10, 0), category_rule="excluded")
    assert (result.eligible, result.reasons) == (False, ["CATEGORY_EXCLUDED"])


@pytest.mark.parametrize("confirmed, eligible", [(True, False), (False, True)])
def test_art_7_goods_are_excluded_only_if_confirmed_at_purchase(confirmed, eligible):
    result = check(
        local(2026, 10, 3, 10, 0),
        category_rule="confirm_at_purchase",
        confirmed_excluded_at_purchase=confirmed,
    )
    assert result.eligible is eligible
    assert ("EXCLUDED_CONFIRMED_AT_PURCHASE" in result.reasons) is confirmed


def test_a_confirmation_cannot_exclude_ordinary_goods():
    result = check(local(2026, 10, 3, 10, 0), category_rule="eligible", confirmed_excluded_at_purchase=True)
    assert result.eligible is True


def test_goods_not_intact():
    result = check(local(2026, 10, 3, 10, 0), goods_intact=False)
    assert (result.eligible, result.reasons) == (False, ["GOODS_NOT_INTACT"])


def test_intact_unknown_is_eligible_subject_to_inspection():
    result = check(local(2026, 10, 3, 10, 0), goods_intact=None)
    assert result.eligible is True
    assert result.conditional is True
    assert result.reasons == ["INTACT_UNKNOWN"]


def test_all_grounds_are_reported_at_once():
    result = check(local(2026, 10, 12, 10, 0), category_rule="excluded", goods_intact=False)
    assert result.eligible is False
    assert result.reasons == ["WINDOW_EXPIRED", "CATEGORY_EXCLUDED", "GOODS_NOT_INTACT"]
    assert result.to_dict() == {
        "eligible": False,
        "deadline": "2026-10-08T16:00:00+00:00",
        "reasons": ["WINDOW_EXPIRED", "CATEGORY_EXCLUDED", "GOODS_NOT_INTACT"],
        "first_day": "2026-10-02",
        "last_day": "2026-10-08",
    }


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"signed_at": datetime(2026, 10, 1, 15, 0)}, "signed_at"),
        ({"requested_at": datetime(2026, 10, 2, 15, 0)}, "requested_at"),
        ({"category_rule": "maybe"}, "category_rule"),
        ({"goods_intact": "yes"}, "goods_intact"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"window_days": 0}, "window_days"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    args = {
        "signed_at": local(2026, 10, 1, 15),
        "requested_at": local(2026, 10, 2, 15),
        "category_rule": "eligible",
    }
    with pytest.raises(ValueError, match=field):
        no_reason_return(**{**args, **kwargs})


# --------------------------------------------------------------------------- art. 13 refund
def test_refund_due_seven_calendar_days_after_receipt():
    assert refund_due(local(2026, 10, 1, 15, 0)) == local(2026, 10, 9, 0, 0)
    assert refund_due(local(2026, 10, 1, 15, 0)).tzinfo is UTC
    with pytest.raises(ValueError, match="returned_received_at"):
        refund_due(datetime(2026, 10, 1))


# --------------------------------------------------------------------------- properties
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
offsets = st.sampled_from([timezone(timedelta(hours=h)) for h in (-8, 0, 5, 8, 9)])


@settings(max_examples=200, deadline=None)
@given(signed=instants, zone=offsets)
def test_window_is_seven_to_eight_days_and_ends_at_local_midnight(signed, zone):
    signed = signed.astimezone(zone)  # the caller's zone must not matter
    deadline = no_reason_deadline(signed)
    assert timedelta(days=7) < deadline - signed <= timedelta(days=8)
    local_end = deadline.astimezone(SH)
    assert (local_end.hour, local_end.minute, local_end.second, local_end.microsecond) == (0, 0, 0, 0)
    assert local_end.date() == signed.astimezone(SH).date() + timedelta(days=8)


@settings(max_examples=200, deadline=None)
@given(signed=instants, delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)))
def test_eligible_exactly_before_the_deadline(signed, delay):
    requested = signed + delay
    result = no_reason_return(
        signed_at=signed, requested_at=requested, category_rule="eligible", goods_intact=True
    )
    assert result.eligible is (requested < result.deadline)


# --------------------------------------------------------------------------- data tables
def test_statutory_tables_are_bilingual_and_coded():
    for table in (ART6_EXCLUDED, ART7_CONFIRM_AT_PURCHASE, *INTACT_RULES.values()):
        codes = [row["code"] for row in table]
        assert len(codes) == len(set(codes))
        assert all(row["label_zh"] and row["label_en"] for row in table)
    assert len(ART6_EXCLUDED) == 4 and len(ART7_CONFIRM_AT_PURCHASE) == 4
