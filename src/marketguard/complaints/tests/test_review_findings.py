"""Found in a review of the address confirmation on a linked order, the ruling's legal basis, the
held files' purge, the late note after a decision and the private pages: each test is a behaviour
the review checked (five of them failed before their fixes)."""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone, translation

from marketguard.complaints import held_mail, services

from .test_domain_conformance import _escalated
from .test_link_order import _call

pytestmark = pytest.mark.django_db

NOTE = "电话 13900001111 回访买家本人，确认 work-mail@example.com 也是其本人"


def _client(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _linked_with_note(w):
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    services.link_order(
        actor=w.agent, number=case.number, order_external_id=w.order.external_id, address_confirmed=NOTE
    )
    case.refresh_from_db()
    return case


def _linked_data(response) -> dict:
    [event] = [e for e in response.json()["events"] if e["type"] == "order_linked"]
    return event["data"]


# --- address_confirmed: who may use it, who reads it --------------------------------------------


def test_only_platform_handlers_may_confirm_an_address(world, api):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    body = {"order": w.order.external_id, "address_confirmed": "我确认"}
    for user in (w.consumer, w.merchant, w.inspector):
        answer = api(user).post(f"cases/{case.number}/order", body)
        assert answer.status_code in (403, 404), (user.role, answer.status_code, answer.content)
    case.refresh_from_db()
    assert case.order_id is None and case.buyer_id is None


def test_the_staff_note_on_how_an_address_was_confirmed_is_not_given_to_the_parties_by_the_api(world, api):
    """The web shows it to staff only (views.presentation._event_reason); the API gives the event's data to
    every reader, masked or not: the consumer reads it whole, the merchant masked."""
    w = world
    case = _linked_with_note(w)
    services.forward_to_merchant(actor=w.agent, number=case.number)
    assert NOTE in str(_linked_data(api(w.agent).get(f"cases/{case.number}")))
    for user in (w.consumer, w.merchant):
        data = _linked_data(api(user).get(f"cases/{case.number}"))
        assert "address_confirmed" not in data, (user.role, data)


def test_the_agent_reads_back_the_note_as_written_like_every_other_reason(world):
    """Agents see personal text whole (sees_personal_text; `masked_text:show_personal_text` in
    _timeline.html); _event_reason masks this one note for them anyway."""
    w = world
    case = _linked_with_note(w)
    page = _client(w.agent).get(f"/cases/{case.number}/").content.decode()
    reasons = re.findall(r'<div class="reason">(.*?)</div>', page, re.S)
    assert any("回访买家本人" in r for r in reasons), reasons
    assert any("13900001111" in r for r in reasons), reasons


def test_observers_and_parties_do_not_read_the_note_on_the_web(world):
    w = world
    case = _linked_with_note(w)
    for user in (w.inspector, w.consumer):
        page = _client(user).get(f"/cases/{case.number}/").content.decode()
        assert "回访买家本人" not in page, user.role


@pytest.mark.parametrize("value", ["x" * 10_000, 123, None, ["a"], {"a": 1}])
def test_a_bad_address_confirmed_is_refused_naming_the_field_by_the_api(world, api, value):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    answer = api(w.agent).post(
        f"cases/{case.number}/order", {"order": w.order.external_id, "address_confirmed": value}
    )
    assert answer.status_code == 422, answer.content
    assert "address_confirmed" in [e["field"] for e in answer.json()["errors"]]


def test_a_too_long_address_confirmed_is_refused_naming_the_field_on_the_web(world):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    answer = _client(w.agent).post(
        f"/cases/{case.number}/link-order/",
        {"order": w.order.external_id, "address_confirmed": "x" * 10_000, "version": case.version},
    )
    assert answer.status_code == 422
    assert 'id="err-link-order-address_confirmed"' in answer.content.decode()
    case.refresh_from_db()
    assert case.order_id is None


def test_a_blank_confirmation_does_not_pass_the_address_check(world):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    from marketguard.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.link_order(
            actor=w.agent,
            number=case.number,
            order_external_id=w.order.external_id,
            address_confirmed=" \r\n\t",
        )
    assert refused.value.code == "BUYER_ADDRESS_DIFFERS"


# --- the ruling's basis ----------------------------------------------------------------------------


def test_the_api_refuses_a_compensation_ruling_without_a_basis_naming_the_field(world, api):
    w = world
    case, _asked = _escalated(w)
    services.start_review(actor=w.arbitrator, number=case.number)
    answer = api(w.arbitrator).post(
        f"cases/{case.number}/ruling",
        {"outcome": "consumer_upheld", "reasons": "商家未回应", "remedy": "compensation", "amount": "10.00"},
    )
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["compensation_basis"]


def test_the_chinese_refusal_names_the_basis_as_the_form_does():
    """The form's label is 赔偿的法律依据 and every other compensation text says 赔偿 (补偿 is the
    'goodwill' basis, 酌情补偿): the refusal must not read 补偿."""
    with translation.override("zh-hans"):
        label = translation.gettext("Legal basis of the compensation")
        refusal = translation.gettext("Choose the legal basis of the compensation.")
    assert label == "赔偿的法律依据"
    assert "赔偿的法律依据" in refusal, refusal


# --- held files ------------------------------------------------------------------------------------


def _stamped(at: datetime, n: int) -> list[str]:
    folder = f"{at.astimezone(UTC):{held_mail.STAMP}}-probe{n}"
    return [default_storage.save(f"held/{folder}/{i}", ContentFile(b"x")) for i in range(2)]


def test_purge_by_stamp_and_by_file_time_for_other_names(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    now = timezone.now()
    old = _stamped(now - timedelta(days=40), 1)
    fresh = _stamped(now - timedelta(days=1), 2)
    future = _stamped(now + timedelta(days=400), 3)
    odd_recent = default_storage.save("held/2026-not-a-stamp/0", ContentFile(b"y"))
    odd_old = default_storage.save("held/20261301T000000-bad-month/0", ContentFile(b"y"))
    t = (now - timedelta(days=40)).timestamp()
    os.utime(Path(settings.MEDIA_ROOT) / odd_old, (t, t))
    assert held_mail.purge(older_than=now - timedelta(days=30)) == 3
    assert not any(default_storage.exists(p) for p in [*old, odd_old])
    assert all(default_storage.exists(p) for p in [*fresh, *future, odd_recent])


def test_two_workers_purging_at_once_count_each_file_once(settings, tmp_path, monkeypatch):
    """Worker B runs its whole purge while worker A has listed a folder's files: before the
    change A then found them gone (get_modified_time raised) and counted nothing; now both count."""
    settings.MEDIA_ROOT = str(tmp_path)
    now = timezone.now()
    _stamped(now - timedelta(days=40), 1)
    real = held_mail.default_storage
    inner = []

    class Racing:
        def __getattr__(self, name):
            return getattr(real, name)

        def listdir(self, path):
            out = real.listdir(path)
            if path.count("/") == 1 and not inner:
                inner.append(None)
                inner.append(held_mail.purge(older_than=now - timedelta(days=30)))  # worker B
            return out

    monkeypatch.setattr(held_mail, "default_storage", Racing())
    outer = held_mail.purge(older_than=now - timedelta(days=30))
    assert inner[1] == 2
    assert outer + inner[1] == 2, (outer, inner[1])


# --- private pages ---------------------------------------------------------------------------------


def test_pages_fragments_and_exports_are_not_stored(world):
    w = world
    agent = _client(w.agent)
    page = agent.get("/cases/")
    assert page["Cache-Control"] == "no-store, private"
    fragment = agent.get("/cases/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "no-store" in fragment.get("Cache-Control", "")
    # exports hold personal data too: not stored either
    csv = agent.get("/cases/breaches.csv")
    assert csv.status_code == 200 and csv["Cache-Control"] == "no-store, private"
    case = _linked_with_note(w)
    archive = agent.get(f"/cases/{case.number}/export.zip")
    assert archive.status_code == 200 and archive["Cache-Control"] == "no-store, private"
