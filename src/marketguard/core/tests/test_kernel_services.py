from datetime import UTC, date, datetime, timedelta

import pytest

from marketguard.core import calendars, services
from marketguard.core.bizcalendar import default_calendar
from marketguard.core.errors import Conflict, InvalidInput, PermissionDenied
from marketguard.core.models import AuditEntry, CalendarConfig, CalendarDay, Role
from marketguard.core.permissions import can_see_merchant, require_merchant_access
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def test_create_user_checks_links_and_strength_and_audits():
    admin = factories.user(Role.ADMIN)
    with pytest.raises(InvalidInput) as err:
        services.create_user(
            actor=admin, username="m1", password="a-long-enough-passphrase", role=Role.MERCHANT_STAFF
        )
    assert err.value.errors[0].field == "merchant"
    with pytest.raises(InvalidInput) as err:
        services.create_user(actor=admin, username="c1", password="123", role=Role.CONSUMER)
    assert err.value.errors[0].field == "password"
    user = services.create_user(
        actor=admin,
        username="m1",
        password="a-long-enough-passphrase",
        role=Role.MERCHANT_STAFF,
        merchant=factories.merchant(),
    )
    entry = AuditEntry.objects.get(action="user_created", object_id=str(user.pk))
    assert entry.actor == admin and entry.after["role"] == "merchant_staff"
    with pytest.raises(Conflict):
        services.create_user(actor=admin, username="m1", password=None, role=Role.CONSUMER)


def test_only_admins_create_users():
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=factories.user(Role.AGENT), username="x", password=None, role=Role.CONSUMER
        )


def test_merchant_staff_reach_only_their_merchant():
    staff = factories.user(Role.MERCHANT_STAFF)
    other = factories.merchant()
    assert can_see_merchant(staff, staff.merchant_id)
    assert not can_see_merchant(staff, other.pk)
    assert can_see_merchant(factories.user(Role.AGENT), other.pk)
    assert not can_see_merchant(factories.user(Role.CONSUMER), other.pk)
    from marketguard.core.errors import NotFound

    with pytest.raises(NotFound):
        require_merchant_access(staff, other.pk)


def test_inactive_users_have_no_role_rights():
    admin = factories.user(Role.ADMIN, is_active=False)
    with pytest.raises(PermissionDenied):
        services.create_user(actor=admin, username="x", password=None, role=Role.CONSUMER)


def test_default_calendar_from_the_database_matches_the_shipped_holidays():
    calendars.clear_cache()
    from_db = calendars.get_calendar()
    shipped = default_calendar()
    assert from_db.holidays == shipped.holidays and from_db.workdays == shipped.workdays
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wed 10:00 in Shanghai
    assert from_db.add_business_time(start, timedelta(hours=24)) == datetime(2026, 10, 9, 8, 0, tzinfo=UTC)


def test_a_new_holiday_changes_deadlines_at_once():
    admin = factories.user(Role.ADMIN)
    config = CalendarConfig.objects.get(is_default=True)
    calendars.clear_cache()
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tue 09:00 Shanghai
    before = calendars.get_calendar().add_business_time(start, timedelta(hours=9))
    with pytest.raises(InvalidInput):
        services.save_calendar_day(actor=admin, calendar=config, date=date(2026, 12, 1), kind="party")
    services.save_calendar_day(
        actor=admin,
        calendar=config,
        date=date(2026, 12, 1),
        kind=CalendarDay.Kind.HOLIDAY,
        name_en="Company day",
    )
    calendars.clear_cache()
    after = calendars.get_calendar().add_business_time(start, timedelta(hours=9))
    assert after - before == timedelta(days=1)


def test_always_open_calendar_is_plain_elapsed_time():
    calendars.clear_cache()
    cal = calendars.get_calendar("24x7")
    start = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
    assert cal.add_business_time(start, timedelta(hours=72)) == start + timedelta(hours=72)
