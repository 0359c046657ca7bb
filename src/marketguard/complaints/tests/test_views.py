"""The complaint pages, through the Django test client: every role's view, intake with a photo,
who may see what, errors shown with their status, htmx fragments."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from marketguard.complaints import selectors, services, workflow
from marketguard.complaints.models import Alert, Case, Evidence, MerchantViolation, Remedy
from marketguard.core.errors import InvalidInput
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world():
    consumer = factories.user(Role.CONSUMER)
    buyer = factories.buyer(user=consumer)
    order = factories.order(buyer_obj=buyer, paid_fen=12_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    other_merchant = factories.user(Role.MERCHANT_STAFF)
    other_consumer = factories.user(Role.CONSUMER)
    agent = factories.user(Role.AGENT)
    arbitrator = factories.user(Role.ARBITRATOR)
    analyst = factories.user(Role.ANALYST)
    inspector = factories.user(Role.INSPECTOR)
    admin = factories.user(Role.ADMIN)

    class W:
        pass

    w = W()
    w.__dict__.update(locals())
    return w


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _png(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="PNG")
    return out.getvalue()


def _file(w, **kw) -> Case:
    args = {
        "actor": w.consumer,
        "channel": "web",
        "kind": "return_refund",
        "order_external_id": w.order.external_id,
        "problem_type": "quality",
        "description": "杯子有裂缝，漏水",
        "amount_claimed": "129.00",
    }
    return services.submit_case(**{**args, **kw}).case


def _agreed_return(w) -> tuple[Case, Remedy]:
    """A filed case whose consumer accepted the merchant's return-and-refund proposal."""
    case = _file(w)
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="129.00"
    )
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    case.refresh_from_db()
    return case, case.remedies.get()


def _detail(case) -> str:
    return reverse("complaints:detail", args=[case.number])


def _act(case, action) -> str:
    return reverse("complaints:act", args=[case.number, action])


def test_each_role_sees_its_own_queue(world):
    w = world
    routed = _file(w)  # after-sales: straight to the merchant
    complaint = _file(
        w, kind="complaint", description="客服态度很差", problem_type="service_attitude", amount_claimed=None
    )
    assert routed.status == workflow.AWAITING_MERCHANT and complaint.status == workflow.SUBMITTED

    html = _client(w.consumer).get(reverse("complaints:list")).content.decode()
    assert routed.number in html and complaint.number in html
    assert "Waiting for the merchant&#x27;s answer." in html
    # the case's own first-response target, not a general promise
    due = timezone.localtime(complaint.first_response_due).strftime("%Y-%m-%d %H:%M")
    assert f"We will answer by {due}." in html

    html = _client(w.merchant).get(reverse("complaints:list")).content.decode()
    assert "After-sales queue" in html and routed.number in html
    assert complaint.number not in html  # not sent to the merchant yet
    assert "data-deadline=" in html

    agent = _client(w.agent)
    html = agent.get(reverse("complaints:list"), {"scope": "unassigned"}).content.decode()
    assert routed.number in html and complaint.number in html and 'data-testid="queue-row"' in html
    assert 'aria-current="page">Unassigned' in html
    assert complaint.number not in agent.get(reverse("complaints:list")).content.decode()  # "mine" is empty
    fragment = agent.get(
        reverse("complaints:list"), {"scope": "all"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and 'id="queue"' in fragment and routed.number in fragment

    proposal = services.make_proposal(actor=w.merchant, number=routed.number, remedy="refund", amount="50.00")
    services.decide_proposal(actor=w.consumer, number=routed.number, proposal_id=proposal.pk, accept=False)
    services.request_intervention(actor=w.consumer, number=routed.number, reason="商家只肯退一半")
    html = _client(w.arbitrator).get(reverse("complaints:list")).content.decode()
    assert "Arbitration queue" in html and routed.number in html and complaint.number not in html

    analyst = _client(w.analyst)
    html = analyst.get(reverse("complaints:list"), {"status": "submitted"}).content.decode()
    assert complaint.number in html and routed.number not in html
    html = analyst.get(
        reverse("complaints:list"), {"problem_type": "quality"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert routed.number in html and complaint.number not in html and "<html" not in html
    assert routed.number in _client(w.inspector).get(reverse("complaints:list")).content.decode()
    assert _client(factories.user(Role.LAB_STAFF)).get(reverse("complaints:list")).status_code == 404


def test_work_desks_also_list_and_search_every_case_they_may_see(world):
    w = world
    own = _file(w, description="杯子有裂缝，漏水")
    services.withdraw_case(actor=w.consumer, number=own.number, reason="已自行解决")  # no longer in any queue
    elsewhere = factories.order(buyer_obj=w.order.buyer)
    theirs = _file(w, order_external_id=elsewhere.external_id, description="另一家店的杯子也坏了")

    merchant = _client(w.merchant)
    assert own.number not in merchant.get(reverse("complaints:list")).content.decode()  # the queue
    html = merchant.get(reverse("complaints:list"), {"view": "all"}).content.decode()
    assert 'aria-current="page" data-testid="view-all"' in html
    assert f'data-case="{own.number}"' in html and theirs.number not in html
    assert elsewhere.merchant.name not in html  # no merchant column for a merchant
    found = merchant.get(
        reverse("complaints:list"), {"view": "all", "q": own.number[-6:]}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in found and f'data-case="{own.number}"' in found
    none = merchant.get(reverse("complaints:list"), {"view": "all", "q": theirs.number}).content.decode()
    assert 'data-case="' not in none and "No cases match." in none
    withdrawn = merchant.get(reverse("complaints:list"), {"view": "all", "status": "withdrawn"})
    assert f'data-case="{own.number}"' in withdrawn.content.decode()

    agent = _client(w.agent)
    html = agent.get(reverse("complaints:list"), {"view": "all", "q": elsewhere.external_id}).content.decode()
    assert f'data-case="{theirs.number}"' in html and f'data-case="{own.number}"' not in html
    assert elsewhere.merchant.name in html
    html = _client(w.arbitrator).get(reverse("complaints:list"), {"view": "all"}).content.decode()
    assert f'data-case="{own.number}"' in html and f'data-case="{theirs.number}"' in html
    # a consumer keeps their own list; view=all changes nothing
    html = _client(w.other_consumer).get(reverse("complaints:list"), {"view": "all"}).content.decode()
    assert own.number not in html and theirs.number not in html


def test_navigation_links_to_cases_and_the_dashboard(world):
    html = _client(world.consumer).get("/").content.decode()
    assert f'href="{reverse("complaints:list")}"' in html
    assert f'href="{reverse("complaints:dashboard")}"' not in html
    html = _client(world.analyst).get("/").content.decode()
    assert f'href="{reverse("complaints:dashboard")}"' in html


def test_consumer_files_a_case_with_a_photo_and_sees_the_checklist(world):
    w = world
    client = _client(w.consumer)
    form = client.get(reverse("complaints:new")).content.decode()
    assert w.order.external_id in form and "Let us decide" in form and "Was anyone hurt or in danger?" in form

    response = client.post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "order": w.order.external_id,
            "problem_type": "quality",
            "description": "收到的杯子有裂缝",
            "amount_claimed": "129.00",
            "files": [SimpleUploadedFile("cup.png", _png(), content_type="image/png")],
        },
    )
    case = Case.objects.get(consumer=w.consumer)
    assert response.status_code == 302 and response["Location"] == _detail(case) + "?filed=1"
    assert case.amount_claimed_fen == 12_900 and case.channel == "web" and case.problem_type == "quality"
    evidence = Evidence.objects.get(case=case)
    assert evidence.kind == "image" and evidence.party == "consumer"

    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'data-testid="materials-notice"' in html and "notice-new" in html
    assert "Clear photos of the defect" in html and "Photos of the whole product and its packaging" in html
    assert f"Case {case.number} filed." in html
    assert reverse("complaints:evidence_thumb", args=[case.number, evidence.pk]) in html

    thumb = client.get(reverse("complaints:evidence_thumb", args=[case.number, evidence.pk]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    full = client.get(reverse("complaints:evidence", args=[case.number, evidence.pk]))
    assert full.status_code == 200 and full["Content-Type"] == "image/png"
    assert full["X-Content-Type-Options"] == "nosniff" and "attachment" not in full.get(
        "Content-Disposition", ""
    )
    assert full["Cache-Control"] == thumb["Cache-Control"] == "no-store, private"  # personal: not kept
    # the consumer gets the same picture without its metadata; the platform the original bytes
    shown = Image.open(io.BytesIO(b"".join(full.streaming_content)))
    assert shown.size == Image.open(evidence.blob.file.open("rb")).size
    original = _client(w.agent).get(reverse("complaints:evidence", args=[case.number, evidence.pk]))
    assert b"".join(original.streaming_content) == evidence.blob.file.open("rb").read()


def test_intake_errors_are_shown_next_to_the_field(world):
    w = world
    response = _client(w.consumer).post(
        reverse("complaints:new"),
        {
            "kind": "refund_only",
            "order": "",
            "description": "想退款",
            "amount_claimed": "1.234",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="field-error"' in html and "想退款" in html  # the input is kept
    assert not Case.objects.exists()


def test_agent_records_a_hotline_intake_for_a_buyer(world):
    w = world
    client = _client(w.agent)
    form = client.get(reverse("complaints:new")).content.decode()
    assert 'name="channel"' in form and 'name="buyer"' in form
    response = client.post(
        reverse("complaints:new"),
        {
            "channel": "hotline",
            "kind": "complaint",
            "order": w.order.external_id,
            "problem_type": "",
            "description": "电话投诉：商家发错货了",
            "files": [SimpleUploadedFile("call.txt", b"call transcript", "text/plain")],
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.channel == "hotline" and case.buyer == w.order.buyer and case.consumer == w.consumer
    assert case.evidence.get().kind == "text"


def test_merchant_cannot_open_another_merchants_case_nor_its_evidence(world):
    w = world
    case = _file(w)
    evidence = services.add_evidence(actor=w.consumer, number=case.number, filename="cup.png", data=_png())
    outsider = _client(w.other_merchant)
    assert outsider.get(_detail(case)).status_code == 404
    assert outsider.get(reverse("complaints:evidence", args=[case.number, evidence.pk])).status_code == 404
    assert (
        outsider.get(reverse("complaints:evidence_thumb", args=[case.number, evidence.pk])).status_code == 404
    )
    assert outsider.post(_act(case, "message"), {"body": "hi", "version": case.version}).status_code == 404
    assert _client(w.other_consumer).get(_detail(case)).status_code == 404
    # the case's own merchant may
    own = _client(w.merchant)
    assert own.get(_detail(case)).status_code == 200
    assert own.get(reverse("complaints:evidence", args=[case.number, evidence.pk])).status_code == 200
    # evidence is served only under its own case's number
    other = _file(w, description="另一件商品也坏了", problem_type="wrong_or_missing_item")
    assert own.get(reverse("complaints:evidence", args=[other.number, evidence.pk])).status_code == 404


def test_a_consumer_never_sees_an_internal_note(world):
    w = world
    case = _file(w)
    services.post_message(actor=w.agent, number=case.number, body="内部备注：该商家多次被投诉", internal=True)
    services.post_message(actor=w.agent, number=case.number, body="您好，我们正在处理")
    consumer_html = _client(w.consumer).get(_detail(case)).content.decode()
    assert "内部备注" not in consumer_html and "我们正在处理" in consumer_html
    merchant_html = _client(w.merchant).get(_detail(case)).content.decode()
    assert "内部备注" not in merchant_html
    agent_html = _client(w.agent).get(_detail(case)).content.decode()
    assert "内部备注" in agent_html and "Internal note" in agent_html


def test_personal_data_is_masked_for_the_merchant_and_shown_to_the_agent(world):
    w = world
    case = _file(w)
    assert "13812345678" not in _client(w.merchant).get(_detail(case)).content.decode()
    assert "13812345678" in _client(w.agent).get(_detail(case)).content.decode()


def test_the_case_page_shows_what_the_consumer_wrote_with_contact_data_masked_for_the_merchant(world):
    w = world
    case = _file(w, description="杯子第二天就裂了，漏水。\n有问题打我电话 13900001111。")
    services.post_message(actor=w.consumer, number=case.number, body="邮箱 zhang.san@example.com 也可以")
    merchant = _client(w.merchant).get(_detail(case)).content.decode()
    assert "杯子第二天就裂了，漏水。<br>有问题打我电话 139****1111" in merchant
    assert "13900001111" not in merchant and "zhang.san@example.com" not in merchant
    assert "z***@example.com" in merchant
    agent = _client(w.agent).get(_detail(case)).content.decode()
    assert "13900001111" in agent and "zhang.san@example.com" in agent
    own = _client(w.consumer).get(_detail(case)).content.decode()
    assert 'data-testid="case-description"' in own and "13900001111" in own


def test_a_stale_version_is_refused_with_409_and_the_message(world):
    w = world
    case = _file(w, kind="complaint", amount_claimed=None)
    seen = case.version
    agent = _client(w.agent)
    assert f'name="version" value="{seen}"' in agent.get(_detail(case)).content.decode()
    services.post_message(actor=w.consumer, number=case.number, body="补充一下情况")  # someone else acts
    response = agent.post(_act(case, "acknowledge"), {"version": seen, "message": ""})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this case" in html and 'data-testid="action-error"' in html
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED
    # with the version the page now shows, it works
    assert f'name="version" value="{case.version}"' in html
    response = agent.post(_act(case, "acknowledge"), {"version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == workflow.ACKNOWLEDGED and case.owner == w.agent


def test_a_refusal_is_shown_next_to_its_field_with_its_status(world):
    w = world
    case = services.acknowledge_case(
        actor=w.agent, number=_file(w, kind="complaint", amount_claimed=None).number
    )
    agent = _client(w.agent)
    response = agent.post(_act(case, "resolve"), {"version": case.version, "reason": "  "})
    assert response.status_code == 422
    assert 'id="err-resolve-reason"' in response.content.decode()
    factories.user(Role.AGENT, username="colleague")  # somebody to hand over to: the form is shown
    response = agent.post(
        _act(case, "hand-over"), {"version": case.version, "to_username": "nobody", "reason": "休假"}
    )
    assert response.status_code == 422 and 'id="err-hand-over-to_username"' in response.content.decode()
    # a move the workflow does not allow: 409 with the reason
    response = _client(w.consumer).post(_act(case, "appeal"), {"version": case.version, "reason": "不服"})
    assert response.status_code == 409
    assert agent.post(_act(case, "no-such-action"), {}).status_code == 404


def test_no_hand_over_form_without_another_agent_and_a_choice_is_asked_for(world):
    w = world
    case = services.acknowledge_case(
        actor=w.agent, number=_file(w, kind="complaint", amount_claimed=None).number
    )
    page = _client(w.agent).get(_detail(case)).content.decode()
    assert 'data-testid="handover-to"' not in page
    assert 'data-testid="no-handover"' in page and "No other active agent can take it" in page  # said why
    with translation.override("en"):
        with pytest.raises(InvalidInput, match="Choose the agent"):
            services.hand_over_case(actor=w.agent, number=case.number, to_username="", reason="休假")
        with pytest.raises(InvalidInput, match="at least one item"):
            services.request_materials(actor=w.agent, number=case.number, items=[], reason="再补充")
    services.request_materials(actor=w.agent, number=case.number, items=["defect_photos"], reason="看不清")
    refused = _client(w.agent).post(f"/cases/{case.number}/materials/", {"reason": ""})
    assert refused.status_code == 422  # asked again: both the items and the reason, at once
    page = refused.content.decode()
    assert 'id="err-materials-items"' in page and 'id="err-materials-reason"' in page
    assert "Say why it is asked again" in page


def test_hand_over_offers_the_other_agents_with_their_load(world):
    w = world
    busy = factories.user(Role.AGENT, username="busy-agent")
    for _ in range(2):
        other = _file(w, kind="complaint", amount_claimed=None)
        services.take_case(actor=busy, number=other.number)
    case = services.acknowledge_case(
        actor=w.agent, number=_file(w, kind="complaint", amount_claimed=None).number
    )
    agent = _client(w.agent)
    html = agent.get(_detail(case)).content.decode()
    picker = html[
        html.index('data-testid="handover-to"') : html.index(
            "</select>", html.index('data-testid="handover-to"')
        )
    ]
    assert 'value="busy-agent"' in picker and "2 open cases" in picker
    assert f'value="{w.agent.username}"' not in picker  # not to oneself
    response = agent.post(
        _act(case, "hand-over"), {"version": case.version, "to_username": "busy-agent", "reason": "下班交接"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner == busy
    assert 'data-testid="handover-to"' not in _client(w.consumer).get(_detail(case)).content.decode()


def test_posting_a_message_with_htmx_returns_the_timeline_fragment(world):
    w = world
    case = _file(w)
    merchant = _client(w.merchant)
    response = merchant.post(
        _act(case, "message"), {"version": case.version, "body": "您好，请提供照片"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    case.refresh_from_db()
    assert response.status_code == 200 and "<html" not in html and "请提供照片" in html
    assert response["X-Case-Version"] == str(case.version)
    assert 'hx-swap-oob="true"' in html and 'data-status="negotiating"' in html  # the merchant answered
    response = merchant.post(
        _act(case, "message"), {"version": case.version, "body": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and response["HX-Retarget"] == "#err-message"
    # without htmx: redirect to the page
    response = merchant.post(_act(case, "message"), {"version": case.version, "body": "补充说明"})
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    # an agent's first message makes them the owner: the fragment updates the owner on the page too
    case.refresh_from_db()
    response = _client(w.agent).post(
        _act(case, "message"), {"version": case.version, "body": "我来跟进"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert f'id="case-owner" data-testid="owner" hx-swap-oob="true">{w.agent.username}<' in html
    assert (
        'id="case-owner"'
        not in merchant.post(_act(case, "message"), {"body": "好的"}, HTTP_HX_REQUEST="true").content.decode()
    )  # the merchant's page has no owner field


def test_refund_flow_by_plain_posts_up_to_the_rating(world):
    w = world
    case = _file(w)
    merchant, consumer = _client(w.merchant), _client(w.consumer)
    assert (
        merchant.post(
            _act(case, "propose"),
            {"version": case.version, "remedy": "refund", "amount": "129.00", "note": "同意退款"},
        ).status_code
        == 302
    )
    case.refresh_from_db()
    proposal = case.proposals.get()
    html = consumer.get(_detail(case)).content.decode()
    assert 'data-testid="accept-proposal"' in html and "¥129.00" in html
    assert (
        consumer.post(
            _act(case, "decide"), {"version": case.version, "proposal_id": proposal.pk, "decision": "accept"}
        ).status_code
        == 302
    )
    case.refresh_from_db()
    remedy = case.remedies.get()
    assert case.status == workflow.EXECUTING
    response = merchant.post(_act(case, "execute"), {"version": case.version, "remedy_id": remedy.pk})
    assert response.status_code == 422 and 'id="err-execute-payment_reference"' in response.content.decode()
    assert (
        merchant.post(
            _act(case, "execute"),
            {"version": case.version, "remedy_id": remedy.pk, "payment_reference": "RF20261122"},
        ).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.status == workflow.RESOLVED
    html = consumer.get(_detail(case)).content.decode()
    assert 'id="act-rate"' in html and "RF20261122" in html
    assert consumer.post(_act(case, "rate"), {"score": "5", "comment": "很快"}).status_code == 302
    case.refresh_from_db()
    assert case.status == workflow.CLOSED and case.rating.score == 5
    assert 'data-testid="rating"' in consumer.get(_detail(case)).content.decode()


def test_goods_recorded_back_before_any_tracking_number_end_the_send_back_step(world):
    w = world
    case, remedy = _agreed_return(w)
    html = _client(w.merchant).get(_detail(case)).content.decode()
    assert 'data-testid="return-not-shipped"' in html  # warned: nothing was said to be sent
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    for user in (w.merchant, w.consumer):
        html = _client(user).get(_detail(case)).content.decode()
        assert "Send back by" not in html and 'data-testid="return-address-save"' not in html
        assert "Goods received" in html


def test_return_leg_on_the_case_page_consumer_ships_merchant_receives(world):
    w = world
    case, remedy = _agreed_return(w)
    merchant, consumer = _client(w.merchant), _client(w.consumer)
    html = consumer.get(_detail(case)).content.decode()
    assert 'data-testid="return-shipped"' in html and "Send back by" in html
    assert "The merchant will tell you the return address" in html
    assert 'data-testid="return-address-save"' not in html  # the merchant says where, not the buyer
    html = merchant.get(_detail(case)).content.decode()
    assert 'data-testid="return-shipped"' not in html and 'data-testid="return-address-save"' in html
    response = merchant.post(
        _act(case, "return-address"), {"version": case.version, "remedy_id": remedy.pk, "return_address": ""}
    )
    assert (
        response.status_code == 422 and 'id="err-return-address-return_address"' in response.content.decode()
    )
    response = merchant.post(
        _act(case, "return-address"),
        {"version": case.version, "remedy_id": remedy.pk, "return_address": "苏州市工业园区 9 号 售后"},
    )
    assert response.status_code == 302
    html = consumer.get(_detail(case)).content.decode()
    assert "苏州市工业园区 9 号 售后" in html and "Return address given" in html
    case.refresh_from_db()
    response = consumer.post(
        _act(case, "return-shipped"), {"version": case.version, "remedy_id": remedy.pk, "carrier": "SF"}
    )
    assert response.status_code == 422
    assert 'id="err-return-shipped-tracking_number"' in response.content.decode()
    response = consumer.post(
        _act(case, "return-shipped"),
        {"version": case.version, "remedy_id": remedy.pk, "carrier": "顺丰", "tracking_number": "SF7788"},
    )
    assert response.status_code == 302
    html = merchant.get(_detail(case)).content.decode()
    assert "SF7788" in html and 'data-testid="return-received"' in html and "Goods sent back" in html
    case.refresh_from_db()
    assert (
        merchant.post(
            _act(case, "return-received"), {"version": case.version, "remedy_id": remedy.pk}
        ).status_code
        == 302
    )
    remedy.refresh_from_db()
    assert remedy.received_at is not None and remedy.due_at is not None
    html = consumer.get(_detail(case)).content.decode()
    assert "Goods received" in html and 'data-testid="return-shipped"' not in html


def test_uploading_evidence_on_the_case_page(world):
    w = world
    case = _file(w)
    client = _client(w.consumer)
    response = client.post(
        _act(case, "evidence"),
        {
            "version": case.version,
            "material_code": "defect_photos",
            "file": [
                SimpleUploadedFile("a.png", _png(), "image/png"),
                SimpleUploadedFile("log.txt", b"chat", "text/plain"),
            ],
        },
    )
    assert response.status_code == 302
    assert sorted(case.evidence.values_list("filename", flat=True)) == ["a.png", "log.txt"]
    text = case.evidence.get(filename="log.txt")
    download = client.get(reverse("complaints:evidence", args=[case.number, text.pk]))
    assert (
        download["Content-Disposition"].startswith("attachment")
        and download["X-Content-Type-Options"] == "nosniff"
    )
    html = client.get(_detail(case)).content.decode()
    assert 'data-code="defect_photos"' in html and "✓" in html
    stale = case.version
    case.refresh_from_db()
    response = client.post(
        _act(case, "evidence"),
        {"version": stale, "file": [SimpleUploadedFile("b.png", _png((1, 2, 3)), "image/png")]},
    )
    assert response.status_code == 409 and not case.evidence.filter(filename="b.png").exists()
    response = client.post(
        _act(case, "evidence"),
        {
            "version": case.version,
            "file": [SimpleUploadedFile("x.exe", b"MZ\x90\x00binary", "application/octet-stream")],
        },
    )
    assert response.status_code == 422 and 'id="err-evidence-file"' in response.content.decode()


def test_arbitrator_reviews_and_rules(world):
    w = world
    case = _file(w)
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="30.00")
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=False)
    services.request_intervention(actor=w.consumer, number=case.number, reason="协商失败")
    case.refresh_from_db()
    arbitrator = _client(w.arbitrator)
    assert 'data-testid="start-review"' in arbitrator.get(_detail(case)).content.decode()
    assert arbitrator.post(_act(case, "review"), {"version": case.version}).status_code == 302
    # the merchant's 24 h to settle or answer: no ruling form until it has answered
    page = arbitrator.get(_detail(case)).content.decode()
    assert 'id="act-ruling"' not in page and 'data-testid="settle-window"' in page
    services.post_message(actor=w.merchant, number=case.number, body="商家陈述：出库前已检验")
    assert 'id="act-ruling"' in arbitrator.get(_detail(case)).content.decode()
    case.refresh_from_db()
    response = arbitrator.post(
        _act(case, "ruling"),
        {
            "version": case.version,
            "outcome": "consumer_upheld",
            "reasons": "照片显示裂缝",
            "remedy": "",
            "amount": "",
        },
    )
    assert response.status_code == 422 and 'id="err-ruling-remedy"' in response.content.decode()
    assert (
        arbitrator.post(
            _act(case, "ruling"),
            {
                "version": case.version,
                "outcome": "consumer_upheld",
                "reasons": "照片显示裂缝，支持退款",
                "remedy": "refund",
                "amount": "129.00",
            },
        ).status_code
        == 302
    )
    html = _client(w.consumer).get(_detail(case)).content.decode()
    assert 'data-testid="ruling"' in html and "照片显示裂缝，支持退款" in html and 'id="act-appeal"' in html


def test_dashboard_for_the_analyst_and_not_for_a_consumer(world):
    w = world
    for _ in range(4):  # rates are listed for merchants with at least 5 orders in the period
        factories.order(buyer_obj=w.order.buyer, product_obj=w.order.items.first().product)
    _file(w)
    response = _client(w.analyst).get(reverse("complaints:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        'id="dashboard-data"' in html and "echarts-6.1.0.min.js" in html and "complaints/dashboard.js" in html
    )
    assert "Resolved by its deadline" in html and "Resolved within 48 h of filing" in html
    assert "Complaint rate" in html and w.order.merchant.name in html
    assert reverse("complaints:breaches_csv") in html
    assert _client(w.arbitrator).get(reverse("complaints:dashboard"), {"days": "7"}).status_code == 200
    assert _client(w.consumer).get(reverse("complaints:dashboard")).status_code in (403, 404)
    assert _client(factories.user(Role.LAB_STAFF)).get(reverse("complaints:dashboard")).status_code in (
        403,
        404,
    )


def test_the_merchant_dashboard_shows_its_own_figures_and_violations_only(world):
    w = world
    for _ in range(4):  # rates are listed for groups with at least 5 orders in the period
        factories.order(buyer_obj=w.order.buyer, product_obj=w.order.items.first().product)
    own = _file(w, kind="refund_only", problem_type="wrong_or_missing_item", description="没收到货")
    MerchantViolation.objects.create(
        merchant=w.order.merchant, case=own, kind="silent_on_refund", details={"amount_fen": 12_900}
    )
    elsewhere = factories.order(buyer_obj=w.order.buyer)
    theirs = _file(w, order_external_id=elsewhere.external_id, description="另一家店的杯子坏了")
    MerchantViolation.objects.create(
        merchant=elsewhere.merchant,
        case=theirs,
        kind="ruling_not_executed",
        details={"due": "2026-11-30T10:00:00+08:00"},
    )

    response = _client(w.merchant).get(reverse("complaints:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    table = html[html.index('data-testid="violations"') :]
    table = table[: table.index("</table>")]
    assert (
        reverse("complaints:detail", args=[own.number]) in table and "No answer to a refund request" in table
    )
    assert "¥129.00" in table
    assert theirs.number not in html and elsewhere.merchant.name not in html
    assert w.order.merchant.name in html  # the page says whose figures these are
    assert reverse("complaints:breaches_csv") not in html  # the platform's breach report is not theirs
    cases_card = html[html.index(">Cases</div>") - 80 : html.index(">Cases</div>")]
    assert '<div class="stat-value">1</div>' in cases_card
    assert f'href="{reverse("complaints:dashboard")}"' in _client(w.merchant).get("/").content.decode()

    other = _client(w.other_merchant).get(reverse("complaints:dashboard")).content.decode()
    assert own.number not in other and theirs.number not in other

    platform = _client(w.analyst).get(reverse("complaints:dashboard")).content.decode()
    table = platform[platform.index('data-testid="violations"') :]
    table = table[: table.index("</table>")]
    assert own.number in table and theirs.number in table
    assert elsewhere.merchant.name in table and "Ruling not executed in time" in table
    assert "due 2026-11-30 10:00" in table


def test_breaches_csv_is_text_csv(world):
    response = _client(world.analyst).get(reverse("complaints:breaches_csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    body = response.content.decode()
    assert body.startswith("\ufeffcase,priority,target")  # (a byte-order mark for spreadsheets)
    assert _client(world.consumer).get(reverse("complaints:breaches_csv")).status_code == 403


def test_alerts_are_listed_for_their_recipient_only(world):
    w = world
    case = _file(w)  # routed to the merchant: its staff are alerted
    assert Alert.objects.filter(recipient=w.merchant, case=case).exists()
    html = _client(w.merchant).get(reverse("complaints:alerts")).content.decode()
    assert "A new case for your store" in html and case.number in html
    badge = _client(w.merchant).get(reverse("complaints:alerts_badge")).content.decode()
    assert 'data-testid="alert-count"' in badge
    assert case.number not in _client(w.other_merchant).get(reverse("complaints:alerts")).content.decode()


def test_alerts_can_be_marked_read_and_only_ones_own():
    from django.test import Client

    from marketguard.complaints.models import Alert
    from marketguard.core.models import Role
    from marketguard.core.testing import factories

    me, other = factories.user(Role.INSPECTOR), factories.user(Role.INSPECTOR)
    Alert.objects.create(recipient=me, kind="safety_signal")
    theirs = Alert.objects.create(recipient=other, kind="safety_signal")
    client = Client()
    client.force_login(me)
    assert "1" in client.get("/cases/alerts/badge").content.decode()
    assert client.post("/cases/alerts/read").status_code == 302
    assert Alert.objects.get(recipient=me).read_at is not None
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_staff_can_insert_a_ready_reply_and_consumers_are_not_offered_one(world):
    w = world
    case = _file(w)
    html = _client(w.merchant).get(_detail(case)).content.decode()
    assert 'data-testid="reply-template"' in html
    assert 'value="en:merchant-return-agreed"' in html and 'id="reply-template-texts"' in html
    assert 'value="en:safety-first"' not in html
    # the consumer wrote in Chinese: the Chinese replies come first and are named so
    assert html.index('<optgroup label="中文 (the consumer&#x27;s language)">') < html.index(
        '<optgroup label="English">'
    )
    english = _file(w, kind="complaint", description="The cup arrived cracked")
    html = _client(w.agent).get(_detail(english)).content.decode()
    assert html.index('<optgroup label="English (the consumer&#x27;s language)">') < html.index(
        '<optgroup label="中文">'
    )
    assert 'data-testid="reply-template"' not in _client(w.consumer).get(_detail(case)).content.decode()


def test_the_dashboard_shows_each_agents_load_and_results_to_the_platform_only(world):
    from marketguard.complaints.models import SlaMark

    w = world
    busy, steady = w.agent, factories.user(Role.AGENT, display_name="王客服")
    first = _file(w, description="杯子有裂缝")
    second = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差")
    third = _file(w, kind="complaint", problem_type="logistics_delay", description="快递太慢")
    services.take_case(actor=busy, number=first.number)
    services.take_case(actor=busy, number=second.number)
    SlaMark.objects.create(case=second, target="first_response", stage="breached", due_at=timezone.now())
    services.acknowledge_case(actor=steady, number=third.number)
    services.resolve_case(actor=steady, number=third.number, reason="已催促快递")
    services.rate_case(actor=w.consumer, number=third.number, score=5)

    rows = {r["agent"]: r for r in selectors.metrics(w.analyst)["by_agent"]}
    assert (rows[busy.username]["open"], rows[busy.username]["open_late"]) == (2, 1)
    assert rows[steady.username]["resolved"] == 1 and rows[steady.username]["resolved_within_48h"] == 1.0
    assert rows[steady.username]["csat"] == 1.0 and rows[steady.username]["open"] == 0
    assert list(rows)[0] == busy.username  # most at risk first
    assert selectors.metrics(w.merchant)["by_agent"] is None

    html = _client(w.analyst).get(reverse("complaints:dashboard")).content.decode()
    table = html[html.index('data-testid="agents"') :]
    table = table[: table.index("</table>")]
    assert "王客服" in table and f'data-agent="{busy.username}"' in table and "100%" in table
    assert (
        'data-testid="agents"'
        not in _client(w.merchant).get(reverse("complaints:dashboard")).content.decode()
    )


def test_the_case_list_asks_a_visitor_to_sign_in_and_refuses_a_post(world):
    response = Client().get(reverse("complaints:list"), {"view": "all"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert _client(world.agent).post(reverse("complaints:list"), {"view": "all"}).status_code == 405


def test_searching_titles_cannot_reveal_what_is_masked(world):
    w = world
    case = _file(w, title="杯子漏水 电话13900001111")
    client = _client(w.merchant)
    masked = client.get(reverse("complaints:list"), {"view": "all", "q": "1390000"}).content.decode()
    assert case.number not in masked  # a merchant sees 139****1111: the digits are not searchable
    assert (
        f'data-case="{case.number}"'
        in client.get(reverse("complaints:list"), {"view": "all", "q": case.number}).content.decode()
    )
    platform = (
        _client(w.agent).get(reverse("complaints:list"), {"view": "all", "q": "1390000"}).content.decode()
    )
    assert f'data-case="{case.number}"' in platform


def test_the_case_page_and_api_tell_staff_which_language_to_write_in(world, api):
    chinese = _file(world)
    english = _file(world, kind="complaint", description="The cup arrived cracked and leaks")
    page = _client(world.merchant).get(_detail(chinese)).content.decode()
    assert 'data-testid="consumer-language">Simplified Chinese<' in page
    page = _client(world.agent).get(_detail(english)).content.decode()
    assert 'data-testid="consumer-language">English<' in page
    Case.objects.filter(pk=english.pk).update(language="")
    page = _client(world.agent).get(_detail(english)).content.decode()
    assert "Not known: mail in both languages" in page
    rows = {r["number"]: r["language"] for r in api(world.agent).get("cases").json()["items"]}
    assert rows == {chinese.number: "zh-hans", english.number: ""}


def test_the_case_list_api_asks_the_database_the_same_number_of_times_for_more_cases(world, api):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(world.agent)
    _file(world)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("cases").status_code == 200
        return len(ctx.captured_queries)

    count()  # the token's first use is stamped once
    one = count()
    for _ in range(4):
        _file(world, kind="complaint", description="The cup arrived cracked")  # duplicates of each other
    assert count() == one


def test_the_intake_form_asks_which_item_of_an_order_of_several(world):
    w = world
    order = w.order
    order.paid_amount_fen = 12_900 + 3_000
    order.save(update_fields=["paid_amount_fen"])
    first = order.items.get()
    second = factories.order_item(order, title="Phone charger", paid_fen=3_000)
    client = _client(w.consumer)
    page = client.get(reverse("complaints:new")).content.decode()
    assert f'<optgroup label="{order.external_id} · ' in page
    assert f'value="{order.external_id}::{second.external_id}">Phone charger · ¥30.00<' in page
    assert f'value="{order.external_id}">The whole order · ¥159.00<' in page

    def file(choice, amount):
        return client.post(
            reverse("complaints:new"),
            {
                "kind": "refund_only",
                "order": choice,
                "description": "The charger does not charge",
                "amount_claimed": amount,
            },
        )

    # the claim is limited by the item chosen, and the case blames its product
    refused = file(f"{order.external_id}::{second.external_id}", "50.00")
    assert refused.status_code == 422 and "30.0" in refused.content.decode()
    assert file(f"{order.external_id}::{second.external_id}", "30.00").status_code == 302
    case = Case.objects.get()
    assert case.order_item_id == second.pk and case.product_id == second.product_id
    # the whole order: its total is the limit, no product is blamed
    assert file(order.external_id, "159.00").status_code == 302
    case = Case.objects.latest("pk")
    assert case.order_item_id is None and case.product_id is None and first.pk
    # a 7-day no-reason return needs the item (its category decides)
    response = client.post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "problem_type": "no_reason_return_7day",
            "order": order.external_id,
            "description": "不想要了",
        },
    )
    assert response.status_code == 422 and "Choose which item" in response.content.decode()


def test_opening_an_action_address_leads_back_to_the_case(world):
    case = _file(world)
    response = _client(world.consumer).get(_act(case, "intervention"))
    assert response.status_code == 302 and response["Location"] == _detail(case)


def test_countdowns_carry_their_units_in_the_page_language(world):
    case = _file(world)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.force_login(world.consumer)
    page = client.get(_detail(case)).content.decode()
    assert 'data-days="%(d)s天%(h)s小时"' in page and 'data-minutes="%(m)s分钟"' in page


def test_the_consumer_is_told_the_next_step_from_the_facts_and_not_internal_priorities(world):
    w = world
    case = _file(w)
    list_url = reverse("complaints:list")
    consumer = _client(w.consumer)
    page = consumer.get(_detail(case)).content.decode()
    assert (
        'data-testid="priority"' not in page
        and 'data-testid="priority"' in _client(w.agent).get(_detail(case)).content.decode()
    )
    # the agent asks for materials: an alert, and the list says what to do
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片不清楚"
    )
    assert Alert.objects.filter(recipient=w.consumer, case=case, kind="materials_requested").exists()
    assert "Send the materials asked for" in consumer.get(list_url).content.decode()
    services.add_evidence(
        actor=w.consumer, number=case.number, filename="crack.png", data=_png(), declared_type="image/png"
    )
    # the merchant answers without a proposal: no proposal to accept is announced
    services.post_message(actor=w.merchant, number=case.number, body="请问是什么时候发现的？")
    case.refresh_from_db()
    assert case.status == workflow.NEGOTIATING
    page = consumer.get(list_url).content.decode()
    assert "Talking with the merchant" in page and "accept or reject" not in page
    services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="50.00")
    assert "Answer the proposal: accept or reject it." in consumer.get(list_url).content.decode()


def test_the_return_shows_where_to_send_the_goods(world):
    w = world
    w.order.store.return_address = "杭州市余杭区物流园3号库 售后组"
    w.order.store.save(update_fields=["return_address"])
    case, _remedy = _agreed_return(w)
    page = _client(w.consumer).get(_detail(case)).content.decode()
    assert 'data-testid="return-address">杭州市余杭区物流园3号库 售后组<' in page
    assert 'data-testid="clock"' not in page or 'data-target="resolution"' not in page  # paused: not shown


def test_the_materials_checklist_follows_the_case(world):
    w = world
    case, remedy = _agreed_return(w)
    consumer = _client(w.consumer)
    assert '<li class="" data-code="return_tracking">' in consumer.get(_detail(case)).content.decode()
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF123"
    )
    assert '<li class="done" data-code="return_tracking">' in consumer.get(_detail(case)).content.decode()
    # an analyst reads it, but cannot upload: not told to
    analyst_page = _client(w.analyst).get(_detail(case)).content.decode()
    assert "Materials the consumer was asked for" in analyst_page and "Upload the files" not in analyst_page
    assert "Upload the files below" not in analyst_page
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF1"
    )
    case.refresh_from_db()
    assert case.status == workflow.RESOLVED
    assert 'data-testid="materials-notice"' not in consumer.get(_detail(case)).content.decode()


def test_a_form_to_correct_says_the_files_must_be_chosen_again(world):
    photo = SimpleUploadedFile("crack.png", _png(), content_type="image/png")
    response = _client(world.consumer).post(
        reverse("complaints:new"),
        {"kind": "refund_only", "order": world.order.external_id, "description": "", "files": [photo]},
    )
    assert response.status_code == 422
    assert 'data-testid="files-again"' in response.content.decode()
    assert not Evidence.objects.exists()


def test_the_timeline_names_agents_as_people_read_them(world):
    w = world
    w.agent.display_name = "王敏"
    w.agent.save(update_fields=["display_name"])
    case = _file(w, kind="complaint")
    services.take_case(actor=w.agent, number=case.number)
    page = _client(w.agent).get(_detail(case)).content.decode()
    assert "王敏" in page and f">{w.agent.username}<" not in page


def test_the_consumers_overview_lists_what_waits_for_them(world):
    w = world
    home = reverse("web:home")
    consumer = _client(w.consumer)
    assert "Nothing waits for you." in consumer.get(home).content.decode()
    case = _file(w)
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="129.00"
    )
    page = consumer.get(home).content.decode()
    assert case.number in page and "Answer the proposal: accept or reject it." in page
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    assert "Send the goods back and enter the tracking number." in consumer.get(home).content.decode()
    remedy = case.remedies.get()
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF9"
    )
    assert "Nothing waits for you." in consumer.get(home).content.decode()
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF9"
    )
    assert "Rate how we handled it." in consumer.get(home).content.decode()
    services.rate_case(actor=w.consumer, number=case.number, score=5)
    assert "Nothing waits for you." in consumer.get(home).content.decode()
    # nobody else's cases, and no such list for staff
    assert case.number not in _client(w.other_consumer).get(home).content.decode()
    assert 'data-testid="waiting-for-you"' not in _client(w.agent).get(home).content.decode()


def test_what_waits_for_the_consumer_follows_the_status_and_intervention_dates_only_while_true(world):
    w = world
    case = _file(w)
    services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="50.00")
    services.withdraw_case(actor=w.consumer, number=case.number)
    consumer = _client(w.consumer)
    page = consumer.get(reverse("complaints:list")).content.decode()
    assert "You withdrew this case." in page and "Answer the proposal" not in page
    assert "Nothing waits for you." in consumer.get(reverse("web:home")).content.decode()
    # the merchant wrote but nothing is agreed: the consumer may still ask from 24 h on (JD)
    other = _file(w, kind="exchange", problem_type="size_mismatch", description="尺码小了")
    services.post_message(actor=w.merchant, number=other.number, body="请提供尺码照片")
    assert 'data-testid="intervention-from"' in consumer.get(_detail(other)).content.decode()
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        page = _client(w.consumer).get(_detail(other)).content.decode()  # a new sign-in, a day later
        assert 'data-testid="intervention-from"' not in page and _act(other, "intervention") in page


def test_the_intake_form_lists_what_to_send_and_files_each_upload_under_its_item(world):
    w = world
    client = _client(w.consumer)
    form = client.get(reverse("complaints:new")).content.decode()
    assert 'data-testid="intake-checklist"' in form and 'id="intake-materials"' in form
    assert 'name="files_defect_photos"' in form  # a slot for every item; the script shows the right ones
    assert 'accept="image/*"' in form
    response = client.post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "order": w.order.external_id,
            "problem_type": "quality",
            "description": "杯子有裂缝",
            "files_defect_photos": [SimpleUploadedFile("crack.png", _png(), content_type="image/png")],
            "files_bogus_item": [
                SimpleUploadedFile("x.png", _png(color=(1, 2, 3)), content_type="image/png")
            ],
            "files": [SimpleUploadedFile("box.png", _png(color=(9, 9, 9)), content_type="image/png")],
        },
    )
    case = Case.objects.get(consumer=w.consumer)
    assert response.status_code == 302
    tags = dict(Evidence.objects.filter(case=case).values_list("filename", "material_code"))
    assert tags == {"crack.png": "defect_photos", "box.png": ""}  # an unknown item is refused, not kept
    html = client.get(response["Location"]).content.decode()
    assert "x.png: Unknown material: bogus_item" in html
    assert '<li class="done" data-code="defect_photos">' in html  # ticked on the case's list
    assert '<li class="" data-code="product_packaging_photos">' in html


def test_the_intake_list_without_script_is_the_one_for_what_was_posted(world):
    w = world
    client = _client(w.consumer)
    response = client.post(
        reverse("complaints:new"),
        {"kind": "exchange", "problem_type": "size_mismatch", "order": "nope", "description": "偏小"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    shown = [
        chunk.split('"', 1)[0]
        for chunk in html.split('<li data-code="')[1:]
        if not chunk.split(">", 1)[0].endswith("hidden")
    ]
    assert shown == [
        "problem_description",
        "size_tag_photos",
        "measurement_photos",
        "size_chart_screenshot",
        "exchange_preference",
    ]


def test_staff_read_the_sla_policy_by_its_label_in_their_language(world):
    from marketguard.complaints.models import SlaPolicyRow

    case = _file(world)
    assert case.sla_policy == "default"
    assert (
        SlaPolicyRow.objects.get(name="default").data["label_zh"] == "默认"
    )  # the shipped rows carry labels
    page = _client(world.agent).get(_detail(case)).content.decode()
    assert 'data-testid="sla-policy">Default<' in page
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.force_login(world.agent)
    assert 'data-testid="sla-policy">默认<' in client.get(_detail(case)).content.decode()
    assert 'data-testid="sla-policy"' not in _client(world.consumer).get(_detail(case)).content.decode()


def test_the_merchant_says_returned_goods_are_not_intact_on_the_case_page(world):
    w = world
    case, remedy = _agreed_return(w)
    merchant = _client(w.merchant)
    assert "The goods came back damaged, used or incomplete?" in merchant.get(_detail(case)).content.decode()
    form = {"version": case.version, "remedy_id": remedy.pk, "not_intact": "1", "note": ""}
    response = merchant.post(_act(case, "return-received"), form)
    assert response.status_code == 422 and 'id="err-return-received-note"' in response.content.decode()
    response = merchant.post(_act(case, "return-received"), {**form, "note": "鞋盒缺失，鞋底有明显磨损"})
    assert response.status_code == 302
    assert "the platform decides on the refund" in merchant.get(response["Location"]).content.decode()
    html = _client(w.consumer).get(_detail(case)).content.decode()
    assert "Returned goods not intact: sent to the platform" in html and "鞋底有明显磨损" in html


def test_files_sent_with_a_hotline_safety_case_are_kept_and_the_agent_on_the_call_owns_it(world):
    w = world
    factories.user(Role.AGENT)  # a second agent, with no cases
    busy = _file(w)  # the recording agent is the busier one, and still owns the call (首问负责制)
    services.take_case(actor=w.agent, number=busy.number)
    agent = _client(w.agent)
    response = agent.post(
        reverse("complaints:new"),
        {
            "channel": "hotline",
            "kind": "complaint",
            "buyer": w.buyer.external_id,
            "description": "来电：电暖器使用时起火，手被烫伤",
            "files": [
                SimpleUploadedFile("call-notes.txt", "通话记录：起火".encode(), content_type="text/plain")
            ],
        },
    )
    assert response.status_code == 302
    case = Case.objects.exclude(pk=busy.pk).get(buyer=w.buyer, channel="hotline")
    assert case.safety and case.owner == w.agent
    assert Evidence.objects.filter(case=case, filename="call-notes.txt").exists()


def test_the_hotline_form_finds_the_caller_by_phone(world):
    w = world
    w.buyer.phone = "13987654321"
    w.buyer.save(update_fields=["phone"])
    agent = _client(w.agent)
    assert 'name="buyer_phone"' in agent.get(reverse("complaints:new")).content.decode()
    form = {"channel": "hotline", "kind": "complaint", "description": "来电：商品有异味"}
    response = agent.post(reverse("complaints:new"), {**form, "buyer_phone": "139 0000 0000"})
    assert response.status_code == 422 and "No buyer has this phone number." in response.content.decode()
    response = agent.post(reverse("complaints:new"), {**form, "buyer_phone": "+86 139-8765-4321"})
    assert response.status_code == 302
    assert Case.objects.get(channel="hotline").buyer == w.buyer


def test_a_paused_case_in_the_queue_says_what_will_be_left_instead_of_counting_down(world):
    w = world
    case = _file(w, kind="complaint")
    services.take_case(actor=w.agent, number=case.number)
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片不清楚"
    )
    page = _client(w.agent).get(reverse("complaints:list") + "?scope=mine").content.decode()
    row = page[page.index(case.number) :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="queue-paused"' in row and "left once it runs again" in row
    assert "data-deadline" not in row  # nothing ticks while the case waits on the consumer


def test_a_paused_case_in_the_merchants_queue_does_not_count_down_their_answer(world):
    w = world
    case = _file(w)  # an after-sales request, with the merchant at once
    assert case.status == "awaiting_merchant"
    services.take_case(actor=w.agent, number=case.number)
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片不清楚"
    )
    page = _client(w.merchant).get(reverse("complaints:list")).content.decode()
    row = page[page.index(case.number) :]
    cell = row[row.index('data-label="Your deadline"') :]
    cell = cell[: cell.index("</td>")]
    assert 'data-testid="queue-paused"' in cell and "left once it runs again" in cell
    assert "data-deadline" not in cell  # the merchant's time stands still while the consumer is asked


def test_the_breach_report_gives_local_times_and_what_people_read_beside_the_codes(world):
    import csv as csv_module

    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差")
    services.sweep(now=timezone.now() + timedelta(days=4))
    for language, target, status in (("en", "First response", "Submitted"), ("zh-hans", "首次响应", None)):
        analyst = Client(HTTP_ACCEPT_LANGUAGE=language)
        analyst.force_login(w.analyst)
        body = analyst.get(reverse("complaints:breaches_csv")).content.decode().removeprefix("\ufeff")
        rows = list(csv_module.DictReader(io.StringIO(body)))
        row = next(r for r in rows if r["case"] == case.number and r["target"] == "first_response")
        assert row["target_label"] == target and row["status"] == "submitted"
        assert status is None or row["status_label"] == status
        assert row["due_at"].endswith("+08:00") and "." not in row["due_at"]  # Shanghai time, to the second
        assert row["merchant_name"] == w.order.merchant.name


def test_the_90_day_dashboard_counts_by_week(world):
    w = world
    _file(w, kind="complaint", description="客服态度差")
    page = _client(w.analyst).get(reverse("complaints:dashboard") + "?days=90").content.decode()
    assert "Cases opened per week" in page and "Week from" in page
    assert '"weekly": true' in page
    month = _client(w.analyst).get(reverse("complaints:dashboard") + "?days=30").content.decode()
    assert "Cases opened per day" in month and '"weekly": false' in month
