"""SLA policies and clocks: matching, deadlines on business calendars, pauses, states (pure)."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.complaints.sla import (
    ACTIONS,
    DEFAULT_POLICIES,
    DEFAULT_TIMEOUTS,
    TARGETS,
    TIMEOUT_ANCHORS,
    CaseFacts,
    Clock,
    SlaPolicy,
    Timeouts,
    format_duration,
    match_policy,
    parse_duration,
    queue_order,
)
from marketguard.core.bizcalendar import ALWAYS, default_calendar

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)


def local(*args):
    return datetime(*args, tzinfo=SH)


# --------------------------------------------------------------------------- durations
@pytest.mark.parametrize(
    "text, value",
    [
        ("PT24H", timedelta(hours=24)),
        ("PT72H", timedelta(hours=72)),
        ("P15D", timedelta(days=15)),
        ("P7D", timedelta(days=7)),
        ("PT4H30M", timedelta(hours=4, minutes=30)),
        ("PT0S", timedelta(0)),
        ("PT1.5S", timedelta(seconds=1.5)),
    ],
)
def test_durations_read_as_the_rules_state_them(text, value):
    assert parse_duration(text) == value
    assert format_duration(value) == text


@pytest.mark.parametrize("text", ["", "P", "PT", "24h", "P1Y", "-PT1H", "PT1H2", None])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_duration_round_trip(value):
    assert parse_duration(format_duration(value)) == value


# --------------------------------------------------------------------------- policies
def test_default_policies_encode_the_rules():
    by_name = {p.name: p for p in DEFAULT_POLICIES}
    default = by_name["default"]
    assert (default.first_response, default.merchant_response, default.resolution) == (24 * H, 24 * H, 48 * H)
    assert default.specificity == 0 and not default.business_hours
    assert "allow_intervention" in default.actions("merchant_response", "breached")
    safety = by_name["p1_personal_safety"]
    assert safety.first_response == 1 * H and safety.business_hours is False
    assert match_policy(DEFAULT_POLICIES, {"priority": "P1", "problem_type": "safety"}) is safety
    assert match_policy(DEFAULT_POLICIES, {"priority": "P3", "kind": "refund_only"}).name == "refund_only"
    assert match_policy(DEFAULT_POLICIES, {"priority": "P4", "channel": "email"}) is default
    for policy in DEFAULT_POLICIES:
        assert all(
            a in ACTIONS for t in TARGETS for s in ("warning", "breached") for a in policy.actions(t, s)
        )


def test_most_specific_policy_wins_then_order_then_name():
    broad = SlaPolicy("broad", first_response=24 * H, order=1)
    hotline = SlaPolicy("hotline", first_response=2 * H, channels=frozenset({"hotline"}), order=50)
    hotline_p2 = SlaPolicy(
        "hotline_p2",
        first_response=1 * H,
        channels=frozenset({"hotline"}),
        priorities=frozenset({"P2"}),
        order=99,
    )
    quality = SlaPolicy("quality", first_response=8 * H, problem_types=frozenset({"quality"}), order=40)
    policies = [broad, hotline, hotline_p2, quality]
    assert match_policy(policies, {"channel": "hotline", "priority": "P2"}) is hotline_p2
    assert match_policy(policies, {"channel": "hotline", "priority": "P3"}) is hotline
    # equally specific (one condition each): lower order wins
    assert match_policy(policies, {"channel": "hotline", "problem_type": "quality"}) is quality
    twin = SlaPolicy("a_twin", first_response=8 * H, problem_types=frozenset({"quality"}), order=40)
    assert match_policy([*policies, twin], {"problem_type": "quality"}) is twin  # then by name
    assert match_policy(policies, {"channel": "web"}) is broad


def test_inactive_and_category_conditions():
    phones = SlaPolicy("phones", resolution=24 * H, category_codes=frozenset({"electronics.phones"}))
    off = SlaPolicy("off", resolution=1 * H, active=False)
    fallback = SlaPolicy("fallback", resolution=48 * H)
    policies = [phones, off, fallback]
    facts = CaseFacts(category_codes=frozenset({"electronics", "electronics.phones"}))
    assert match_policy(policies, facts) is phones
    assert match_policy(policies, {"category_code": "electronics.phones"}) is phones
    assert match_policy(policies, {"category_codes": ["toys"]}) is fallback
    with pytest.raises(LookupError):
        match_policy([phones, off], {"category_code": "toys"})


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": " "}, "name"),
        ({"first_response": timedelta(0)}, "first_response"),
        ({"resolution": 5}, "resolution"),
        ({"priorities": frozenset({"P0"})}, "priorities"),
        ({"channels": "web"}, "channels"),
        ({"kinds": {"refund"}}, "kinds"),
        ({"warn_before": 1.5}, "warn_before"),
        ({"warn_before": -H}, "warn_before"),
        ({"escalation": {"lunch": {}}}, "escalation"),
        ({"escalation": {"resolution": {"soon": ()}}}, "escalation.resolution"),
        ({"escalation": {"resolution": {"breached": ("explode",)}}}, "escalation.resolution.breached"),
    ],
)
def test_policy_validation_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        SlaPolicy(**{"name": "x", **kwargs})


@pytest.mark.parametrize("policy", DEFAULT_POLICIES, ids=lambda p: p.name)
def test_policies_round_trip_through_plain_dicts(policy):
    data = json.loads(json.dumps(policy.to_dict()))
    assert SlaPolicy.from_dict(data) == policy


def test_policy_dict_is_readable_and_strict():
    policy = SlaPolicy("x", first_response=24 * H, warn_before=2 * H, kinds=frozenset({"exchange", "repair"}))
    data = policy.to_dict()
    assert data["first_response"] == "PT24H" and data["resolution"] is None
    assert data["warn_before"] == "PT2H" and data["kinds"] == ["exchange", "repair"]
    assert SlaPolicy.from_dict(data) == policy
    with pytest.raises(ValueError, match="unknown field"):
        SlaPolicy.from_dict({**data, "colour": "red"})
    with pytest.raises(ValueError, match="first_response"):
        SlaPolicy.from_dict({**data, "first_response": "tomorrow"})


def test_policy_clock_uses_the_right_calendar():
    start = local(2026, 9, 30, 17, 0)  # Wednesday before National Day
    office = SlaPolicy("office", resolution=4 * H, business_hours=True)
    nonstop = SlaPolicy("nonstop", resolution=4 * H, business_hours=False)
    assert office.clock("resolution", start).deadline() == local(2026, 10, 8, 12, 0)
    assert nonstop.clock("resolution", start).deadline() == local(2026, 9, 30, 21, 0)
    with pytest.raises(ValueError, match="first_response"):
        office.clock("first_response", start)


# --------------------------------------------------------------------------- clock, 24x7
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_clock_without_pauses():
    clock = Clock(start=START, target=24 * H)
    assert clock.deadline() == START + 24 * H
    assert clock.warning_at() == START + timedelta(hours=19, minutes=12)  # 20 % left
    assert clock.elapsed(START + 6 * H) == 6 * H
    assert clock.remaining(START + 6 * H) == 18 * H
    assert clock.remaining(START + 30 * H) == -6 * H  # overdue
    assert clock.elapsed(START - H) == timedelta(0)


def test_pauses_shift_the_deadline_by_the_paused_time():
    pauses = [(START + 2 * H, START + 5 * H), (START + 4 * H, START + 6 * H), (START - 3 * H, START + H)]
    clock = Clock(start=START, target=24 * H, pauses=pauses)
    # merged and clipped: [start, start+1h) and [start+2h, start+6h) -> 5 h paused
    assert clock.pauses == ((START, START + H), (START + 2 * H, START + 6 * H))
    assert clock.deadline() == START + 29 * H
    assert clock.elapsed(START + 10 * H) == 5 * H


def test_open_pause_makes_the_deadline_unknown_until_resumed():
    clock = Clock(start=START, target=24 * H, pauses=[(START + 10 * H, None)])
    assert clock.deadline() is None
    now = START + 30 * H
    assert clock.deadline(now) == now + 14 * H  # as if the consumer answered now
    assert clock.state(now) == "paused"
    assert clock.remaining(now) == 14 * H


def test_states():
    clock = Clock(start=START, target=10 * H, warn_before=0.2, pauses=[(START + 3 * H, START + 4 * H)])
    assert clock.state(START + H) == "ok"
    assert clock.state(START + 3 * H + timedelta(minutes=30)) == "paused"
    assert clock.state(START + 9 * H) == "warning"  # 2 h left = 20 %
    assert clock.state(START + 11 * H) == "warning"  # at the deadline: not yet breached
    assert clock.state(START + 11 * H + timedelta(seconds=1)) == "breached"


def test_a_pause_after_the_breach_does_not_undo_it():
    clock = Clock(start=START, target=2 * H, pauses=[(START + 3 * H, None)])
    assert clock.deadline() == START + 2 * H
    assert clock.state(START + 4 * H) == "breached"


def test_met_in_time_and_late():
    on_time = Clock(start=START, target=4 * H, met_at=START + 3 * H)
    assert on_time.state(START + 2 * H) == "ok"
    assert on_time.state(START + 10 * H) == "met"
    assert on_time.elapsed(START + 10 * H) == 3 * H  # the clock stopped
    assert on_time.risk(START + 10 * H) == 0.0
    late = Clock(start=START, target=4 * H, met_at=START + 5 * H)
    assert late.state(START + 6 * H) == "breached"


def test_warn_before_as_a_duration():
    clock = Clock(start=START, target=24 * H, warn_before=30 * timedelta(minutes=1))
    assert clock.warning_at() == START + timedelta(hours=23, minutes=30)
    assert clock.state(START + timedelta(hours=23, minutes=29)) == "ok"
    assert clock.state(START + timedelta(hours=23, minutes=31)) == "warning"


def test_risk_orders_the_queue_breached_first():
    now = START + 10 * H
    clocks = [
        Clock(start=START, target=48 * H),  # 10/48 consumed
        Clock(start=START, target=8 * H),  # breached, 2 h over
        Clock(start=START, target=12 * H),  # 10/12
        Clock(start=START, target=8 * H, met_at=START + H),  # done
        Clock(start=START, target=20 * H, pauses=[(START + H, None)]),  # paused at 1/20
    ]
    assert clocks[1].risk(now) == pytest.approx(1.25)
    assert queue_order(clocks, now) == [1, 2, 0, 4, 3]


def test_the_queue_follows_deadlines_not_the_share_used():
    now = START + 10 * H
    clocks = [
        Clock(start=START, target=48 * H),  # 38 h left, 21 % used
        Clock(start=START + 7 * H, target=24 * H),  # 21 h left, 12.5 % used
        Clock(start=START, target=12 * H, pauses=[(START + 9 * H, None)]),  # waiting, 3 h left
        Clock(start=START, target=9 * H, pauses=[(START + 9 * H + H / 2, None)]),  # over before the wait
    ]
    assert clocks[0].risk(now) > clocks[1].risk(now)
    assert queue_order(clocks, now) == [3, 1, 0, 2]


def test_clock_input_validation():
    with pytest.raises(ValueError, match="start"):
        Clock(start=datetime(2026, 1, 1), target=H)
    with pytest.raises(ValueError, match="target"):
        Clock(start=START, target=timedelta(0))
    with pytest.raises(ValueError, match=r"pauses\[0\]"):
        Clock(start=START, target=H, pauses=[(START + 2 * H, START + H)])
    with pytest.raises(ValueError, match="now"):
        Clock(start=START, target=H).state(datetime(2026, 11, 2))


def test_clock_summary_is_plain_data():
    clock = Clock(start=START, target=4 * H, pauses=[(START + H, START + 2 * H)])
    data = clock.to_dict(now=START + 6 * H)
    assert json.loads(json.dumps(data)) == data
    assert data["state"] == "breached" and data["overdue"] is True and data["remaining"] == "PT1H"
    assert data["deadline"] == (START + 5 * H).isoformat()


# --------------------------------------------------------------------------- business calendar
def test_business_hours_clock_skips_nights_weekends_and_national_day():
    cal = default_calendar()
    clock = Clock(start=local(2026, 9, 30, 17, 0), target=4 * H, calendar=cal)
    assert clock.deadline() == local(2026, 10, 8, 12, 0)  # 1 h on 09-30, 3 h on 10-08
    # paused 10:00-11:00 on 10-08 (waiting for the consumer): one working hour later
    paused = Clock(
        start=local(2026, 9, 30, 17, 0),
        target=4 * H,
        calendar=cal,
        pauses=[(local(2026, 10, 8, 10, 0), local(2026, 10, 8, 11, 0))],
    )
    assert paused.deadline() == local(2026, 10, 8, 13, 0)
    assert paused.remaining(local(2026, 10, 8, 10, 30)) == 2 * H
    # a pause over the holiday costs nothing: no working time was lost
    holiday_pause = Clock(
        start=local(2026, 9, 30, 17, 0),
        target=4 * H,
        calendar=cal,
        pauses=[(local(2026, 10, 2), local(2026, 10, 5))],
    )
    assert holiday_pause.deadline() == local(2026, 10, 8, 12, 0)


# --------------------------------------------------------------------------- timeouts
def test_timeouts_defaults_and_names():
    t = DEFAULT_TIMEOUTS
    assert t.merchant_response_for_intervention == 24 * H
    assert t.auto_approve_refund_only == 72 * H
    assert t.ruling_execution == 24 * H
    assert t.intervention_window == timedelta(days=15)
    assert t.appeal_window == timedelta(days=7)
    assert t.extra_evidence == 4 * H
    assert set(TIMEOUT_ANCHORS) == set(Timeouts.names())


def test_extra_evidence_runs_on_the_nine_to_six_clock():
    friday_5pm = local(2026, 11, 6, 17, 0)
    assert DEFAULT_TIMEOUTS.due("extra_evidence", friday_5pm) == local(2026, 11, 9, 12, 0)
    assert DEFAULT_TIMEOUTS.due("ruling_execution", friday_5pm) == local(2026, 11, 7, 17, 0)
    assert DEFAULT_TIMEOUTS.due("appeal_window", friday_5pm) == local(2026, 11, 13, 17, 0)


def test_timeouts_round_trip_and_validation():
    data = DEFAULT_TIMEOUTS.to_dict()
    assert data["intervention_window"] == "P15D" and data["auto_approve_refund_only"] == "PT72H"
    assert Timeouts.from_dict(data) == DEFAULT_TIMEOUTS
    assert Timeouts.from_dict({"appeal_window": "P30D"}).appeal_window == timedelta(days=30)
    with pytest.raises(ValueError, match="unknown"):
        Timeouts.from_dict({"coffee_break": "PT15M"})
    with pytest.raises(ValueError, match="appeal_window"):
        Timeouts(appeal_window=timedelta(0))
    with pytest.raises(ValueError, match="unknown name"):
        DEFAULT_TIMEOUTS.get("coffee_break")


# --------------------------------------------------------------------------- properties
CALENDARS = {"24x7": ALWAYS, "office": default_calendar()}
starts = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC))
targets = st.integers(min_value=1, max_value=72 * 60).map(lambda m: timedelta(minutes=m))
pause_lists = st.lists(
    st.tuples(st.integers(0, 14 * 24 * 60), st.integers(1, 3 * 24 * 60)), max_size=4
)  # (offset from start, length) in minutes


def _pauses(start, raw):
    return [(start + timedelta(minutes=o), start + timedelta(minutes=o + n)) for o, n in raw]


@settings(max_examples=60, deadline=None)
@given(
    cal=st.sampled_from(sorted(CALENDARS)), start=starts, target=targets, raw=pause_lists, extra=pause_lists
)
def test_deadline_is_monotone_in_pauses(cal, start, target, raw, extra):
    calendar = CALENDARS[cal]
    fewer = Clock(start=start, target=target, calendar=calendar, pauses=_pauses(start, raw))
    more = Clock(start=start, target=target, calendar=calendar, pauses=_pauses(start, raw + extra))
    assert more.deadline() >= fewer.deadline()


@settings(max_examples=60, deadline=None)
@given(
    cal=st.sampled_from(sorted(CALENDARS)),
    start=starts,
    target=targets,
    raw=pause_lists,
    fraction=st.floats(0, 1, exclude_max=True),
)
def test_remaining_positive_before_deadline_and_zero_at_it(cal, start, target, raw, fraction):
    clock = Clock(start=start, target=target, calendar=CALENDARS[cal], pauses=_pauses(start, raw))
    deadline = clock.deadline()
    assert clock.elapsed(deadline) == target
    assert clock.remaining(deadline) == timedelta(0)
    now = start + (deadline - start) * fraction
    if now < deadline:  # the deadline is the first instant the whole target is counted
        assert clock.remaining(now) > timedelta(0)
    assert clock.state(now) != "breached"
    assert clock.state(deadline + timedelta(microseconds=1)) == "breached"


@settings(max_examples=60, deadline=None)
@given(
    cal=st.sampled_from(sorted(CALENDARS)),
    start=starts,
    target=targets,
    raw=pause_lists,
    steps=st.lists(st.integers(0, 20 * 24 * 60), min_size=2, max_size=6),
)
def test_elapsed_never_decreases(cal, start, target, raw, steps):
    clock = Clock(start=start, target=target, calendar=CALENDARS[cal], pauses=_pauses(start, raw))
    values = [clock.elapsed(start + timedelta(minutes=m)) for m in sorted(steps)]
    assert values == sorted(values)
    assert all(v >= timedelta(0) for v in values)


def test_a_policy_is_read_by_its_label_in_either_language():
    both = SlaPolicy(
        name="vip", label_zh="大客户", label_en="Key accounts", first_response=timedelta(hours=2)
    )
    assert both.label("zh-hans") == "大客户" and both.label("en") == "Key accounts"
    only_zh = SlaPolicy(name="vip", label_zh="大客户")
    assert only_zh.label("en") == "大客户" and SlaPolicy(name="vip").label("en") == "vip"
    assert SlaPolicy.from_dict(both.to_dict()) == both
    with pytest.raises(ValueError, match="label_en"):
        SlaPolicy(name="vip", label_en=3)
