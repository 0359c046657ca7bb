"""The audit trail shows analysts who did what, not the personal data people wrote: phone numbers,
e-mail and street addresses in reasons, object names and before/after values are masked for roles
that may not see personal data, on the page and in the API. Admins see the trail as written."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from marketguard.core import audit, selectors
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

PHONE = "13987654321"
LANDLINE = "0571-88886666"
EMAIL = "li.lei@qq.com"
STREET = "文三路90号"
FULL_WIDTH_PHONE = "１３９８７６５４３２１"


def _record_personal_entry() -> AuditEntry:
    subject = factories.user(Role.CONSUMER)
    with transaction.atomic():
        return audit.record(
            actor=subject,
            action="case_withdrawn",
            obj=subject,
            object_repr=f"买家 {PHONE}",
            before={"status": "open", "note": f"座机 {LANDLINE}"},
            after={
                "status": "withdrawn",
                "return_address": f"浙江省杭州市西湖区{STREET}",
                "messages": [{"text": f"邮箱 {EMAIL}"}, f"手机 {FULL_WIDTH_PHONE}"],
                "amount_fen": 138000,
            },
            reason=f"已和商家电话沟通 {PHONE}",
        )


SECRETS = (PHONE, LANDLINE, EMAIL, STREET, FULL_WIDTH_PHONE, "88886666")


def test_an_analyst_reads_the_audit_api_with_personal_data_masked(api):
    _record_personal_entry()
    response = api(factories.user(Role.ANALYST)).get("audit/entries", {"action": "case_withdrawn"})
    assert response.status_code == 200
    text = response.content.decode()
    for secret in SECRETS:
        assert secret not in text, secret
    item = response.json()["items"][0]
    assert item["reason"] == "已和商家电话沟通 139****4321"
    assert item["object_repr"] == "买家 139****4321"
    assert item["before"] == {"status": "open", "note": "座机 0571-****6666"}
    assert item["after"] == {
        "status": "withdrawn",
        "return_address": "浙江省杭州市****",
        "messages": [{"text": "邮箱 l***@qq.com"}, "手机 139****4321"],
        "amount_fen": 138000,
    }
    assert item["action"] == "case_withdrawn"  # what happened stays readable


def test_an_analyst_reads_the_audit_page_with_personal_data_masked():
    _record_personal_entry()
    client = Client()
    client.force_login(factories.user(Role.ANALYST))
    page = client.get(reverse("web:audit"))
    assert page.status_code == 200
    html = page.content.decode()
    assert PHONE not in html
    assert "已和商家电话沟通 139****4321" in html and "买家 139****4321" in html


def test_an_admin_sees_the_trail_as_written(api):
    _record_personal_entry()
    admin = factories.user(Role.ADMIN)
    item = api(admin).get("audit/entries", {"action": "case_withdrawn"}).json()["items"][0]
    assert item["reason"] == f"已和商家电话沟通 {PHONE}"
    assert item["after"]["return_address"] == f"浙江省杭州市西湖区{STREET}"
    assert item["before"]["note"] == f"座机 {LANDLINE}"
    client = Client()
    client.force_login(admin)
    assert PHONE in client.get(reverse("web:audit")).content.decode()


def test_masking_never_changes_the_stored_trail():
    entry = _record_personal_entry()
    shown = selectors.audit_entries(factories.user(Role.ANALYST)).get(pk=entry.pk)
    assert shown.reason != entry.reason
    with pytest.raises(RuntimeError):
        shown.save()  # append-only: a masked copy can never overwrite the row
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.reason == f"已和商家电话沟通 {PHONE}" and stored.after == entry.after
    assert audit.verify().ok
