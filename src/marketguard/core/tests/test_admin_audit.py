"""What an administrator changes in the admin (rules, SLA policies, categories, users and their
roles, calendars, reply templates) is in the audit trail like any other change: who, when, what
was before and after, in the same transaction; a password or token digest never is."""

import json
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from marketguard.catalog.models import Category
from marketguard.complaints import services
from marketguard.complaints.models import ReplyTemplate, SlaPolicyRow
from marketguard.core import audit
from marketguard.core.admin import AuditedAdmin
from marketguard.core.models import AuditEntry, CalendarConfig, CalendarDay, Role, User
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return factories.user(Role.ADMIN, is_staff=True, is_superuser=True, username="boss")


@pytest.fixture
def client(boss):
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(boss)
    return c


class _Form(HTMLParser):
    """The values an admin page's form would post as it is shown (the inline's empty template
    left out), so a test changes only what it means to change."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._multiple, self._textarea = {}, None, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name") or ""
        if "__prefix__" in name:
            return
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._multiple = name, "multiple" in a
            if not self._multiple:
                self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            if self._multiple:
                self.values.setdefault(self._select, []).append(a.get("value"))
            else:
                self.values[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n")


def _shown(client, url: str) -> dict:
    form = _Form()
    form.feed(client.get(url).content.decode())
    form.values.pop("csrfmiddlewaretoken", None)
    return form.values


def _entries(obj, action: str):
    return list(
        AuditEntry.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
        ).order_by("seq")
    )


def test_every_admin_page_that_can_change_data_writes_the_audit_trail(boss):
    request = RequestFactory().get("/admin/")
    request.user = boss
    writable = []
    for model, model_admin in admin.site._registry.items():
        can_write = (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
        if can_write and not isinstance(model_admin, AuditedAdmin):
            writable.append(model._meta.label)
    assert writable == []


def test_a_changed_policy_is_recorded_with_what_changed_and_who(client, boss):
    row = SlaPolicyRow.objects.get(name="p2_high")
    data = dict(row.data)
    response = client.post(
        f"/admin/complaints/slapolicyrow/{row.pk}/change/",
        {"name": row.name, "data": json.dumps(data), "order": "7", "active": "on"},
    )
    assert response.status_code == 302
    (entry,) = _entries(row, "admin_changed")
    assert entry.actor == boss and entry.reason == "admin"
    assert entry.before == {"order": row.order} and entry.after == {"order": 7}
    assert audit.verify().ok


def test_saving_a_form_unchanged_records_nothing(client):
    row = SlaPolicyRow.objects.get(name="p2_high")
    client.post(
        f"/admin/complaints/slapolicyrow/{row.pk}/change/",
        {"name": row.name, "data": json.dumps(row.data), "order": str(row.order), "active": "on"},
    )
    assert _entries(row, "admin_changed") == []


def test_a_refused_change_records_nothing(client):
    row = SlaPolicyRow.objects.get(name="p2_high")
    response = client.post(
        f"/admin/complaints/slapolicyrow/{row.pk}/change/",
        {"name": row.name, "data": '{"first_response": "-4h"}', "order": "7", "active": "on"},
    )
    assert response.status_code == 200
    assert _entries(row, "admin_changed") == []


def test_the_lists_editable_columns_and_the_delete_action_are_recorded(client):
    template = ReplyTemplate.objects.create(
        slug="t1", title_zh="标题", title_en="Title", body_zh="正文", body_en="Text", order=5
    )
    response = client.post(
        "/admin/complaints/replytemplate/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(template.pk),
            "form-0-order": "9",
            "_save": "Save",
            # the other templates of the list are not posted: only this row's form
        }
        | {"form-0-active": ""},
    )
    assert response.status_code == 302
    (changed,) = _entries(template, "admin_changed")
    assert changed.after == {"active": False, "order": 9}
    pk = template.pk
    response = client.post(
        "/admin/complaints/replytemplate/",
        {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ReplyTemplate.objects.filter(pk=pk).exists()
    deleted = AuditEntry.objects.get(
        object_type="complaints.replytemplate", object_id=str(pk), action="admin_deleted"
    )
    assert deleted.before["slug"] == "t1" and deleted.after is None


def test_a_role_change_is_recorded_and_a_password_never(client, boss):
    agent = factories.user(Role.AGENT, username="li.agent")
    agent.set_password("first-secret-123")
    agent.date_joined = agent.date_joined.replace(microsecond=0)  # the form shows whole seconds
    agent.save()
    posted = _shown(client, f"/admin/core/user/{agent.pk}/change/") | {"role": Role.ARBITRATOR}
    response = client.post(f"/admin/core/user/{agent.pk}/change/", posted)
    assert response.status_code == 302
    (entry,) = _entries(agent, "admin_changed")
    assert entry.before == {"role": Role.AGENT} and entry.after == {"role": Role.ARBITRATOR}

    response = client.post(
        f"/admin/core/user/{agent.pk}/password/",
        {"password1": "Another-secret-456", "password2": "Another-secret-456", "set_usable_password": "true"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("Another-secret-456")
    (entry,) = _entries(agent, "admin_password_set")
    assert entry.actor == boss and entry.after["password"] == "[hidden]"
    trail = json.dumps(list(AuditEntry.objects.values("before", "after")))
    assert agent.password not in trail and "pbkdf2" not in trail
    assert audit.verify().ok


def test_a_holiday_added_in_the_calendars_inline_is_recorded(client):
    calendar = CalendarConfig.objects.get(is_default=True)
    url = f"/admin/core/calendarconfig/{calendar.pk}/change/"
    posted = _shown(client, url)
    prefix = next(k for k in posted if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    new = int(posted[f"{prefix}-TOTAL_FORMS"])
    posted |= {
        f"{prefix}-TOTAL_FORMS": str(new + 1),
        f"{prefix}-{new}-date": "2031-05-20",
        f"{prefix}-{new}-kind": CalendarDay.Kind.HOLIDAY,
        f"{prefix}-{new}-name_zh": "公司日",
        f"{prefix}-{new}-name_en": "Company day",
    }
    response = client.post(url, posted)
    assert response.status_code == 302
    day = CalendarDay.objects.get(calendar=calendar, date="2031-05-20")
    (entry,) = _entries(day, "admin_created")
    assert entry.after["name_en"] == "Company day"


def _category_form(parent: Category | None, code: str, **kw) -> dict:
    return {
        "external_id": code,
        "parent": str(parent.pk) if parent else "",
        "name_zh": kw.get("name_zh", "零食"),
        "name_en": kw.get("name_en", "Snacks"),
        "risk_level": "low",
        "attribute_template": "[]",
        "no_reason_return": "eligible",
    }


def test_a_category_added_in_the_admin_sits_in_the_tree_and_counts_as_food(client):
    food = factories.category(external_id="C02")
    response = client.post("/admin/catalog/category/add/", _category_form(food, "C0299"))
    assert response.status_code == 302
    snacks = Category.objects.get(external_id="C0299")
    assert snacks.path == "/C02/C0299/" and snacks.depth == 1
    assert services.rules().is_food(snacks)
    (entry,) = _entries(snacks, "admin_created")
    assert entry.after["path"] == "/C02/C0299/"


def test_a_category_moved_in_the_admin_takes_its_sub_categories_along(client):
    home, food = factories.category(external_id="H1"), factories.category(external_id="C02")
    snacks = factories.category(home, external_id="S1")
    nuts = factories.category(snacks, external_id="N1")
    response = client.post(f"/admin/catalog/category/{snacks.pk}/change/", _category_form(food, "S1"))
    assert response.status_code == 302
    nuts.refresh_from_db()
    assert nuts.path == "/C02/S1/N1/" and nuts.depth == 2
    assert services.rules().is_food(nuts)


def test_a_category_cannot_be_placed_under_its_own_sub_category(client):
    top = factories.category(external_id="T1")
    below = factories.category(top, external_id="T2")
    response = client.post(f"/admin/catalog/category/{top.pk}/change/", _category_form(below, "T1"))
    assert response.status_code == 200
    assert "cannot be placed under itself" in response.content.decode()
    top.refresh_from_db()
    assert top.parent is None and top.path == "/T1/"
    assert _entries(top, "admin_changed") == []
    assert User.objects.filter(username="boss").exists()


def test_recoding_a_category_while_moving_it_under_its_own_sub_category_is_refused(client):
    top = factories.category(external_id="T1")
    below = factories.category(top, external_id="T2")
    response = client.post(f"/admin/catalog/category/{top.pk}/change/", _category_form(below, "T1X"))
    assert response.status_code == 200 and "cannot be placed under itself" in response.content.decode()
    top.refresh_from_db()
    assert (top.external_id, top.parent_id, top.path) == ("T1", None, "/T1/")
