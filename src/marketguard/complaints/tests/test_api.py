"""The complaints API end to end, and who may touch what."""

import io
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from PIL import Image

from marketguard.complaints import services
from marketguard.complaints.models import Alert, Case, CaseEvent, MerchantViolation
from marketguard.core import services as core_services
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def world(api):
    consumer = factories.user(Role.CONSUMER)
    buyer = factories.buyer(user=consumer)
    order = factories.order(buyer_obj=buyer, paid_fen=25_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)

    class W:
        pass

    w = W()
    w.consumer, w.buyer, w.order, w.merchant = consumer, buyer, order, merchant
    w.agent = factories.user(Role.AGENT)
    w.agent2 = factories.user(Role.AGENT)
    w.arbitrator = factories.user(Role.ARBITRATOR)
    w.inspector = factories.user(Role.INSPECTOR)
    w.c, w.m, w.a, w.a2, w.arb = (api(u) for u in (consumer, merchant, w.agent, w.agent2, w.arbitrator))
    return w


def _file(w, **kw):
    body = {
        "kind": "return_refund",
        "order": w.order.external_id,
        "description": "鞋底开胶，质量问题",
        "amount_claimed": "259.00",
        "channel": "app",
        **kw,
    }
    response = w.c.post("cases", body)
    assert response.status_code == 201, response.content
    return response.json()


def _upload(client, number, data, name="photo.png", content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.client.post(
        f"/api/v1/cases/{number}/evidence",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        headers=client.headers,
    )


def test_quality_complaint_with_photos_to_refund_closed_and_rated(world):
    w = world
    filed = _file(w)
    number = filed["case"]["number"]
    assert filed["checklist"] and filed["case"]["status"] == "awaiting_merchant"
    up = _upload(w.c, number, _png())
    assert up.status_code == 201 and len(up.json()["sha256"]) == 64
    # the same photo again is stored once
    again = _upload(w.c, number, _png(), name="again.png")
    assert again.json()["sha256"] == up.json()["sha256"]
    bad = _upload(w.c, number, b"MZ\x90\x00 not a picture", name="virus.jpg", content_type="image/jpeg")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "file"

    proposal = w.m.post(
        f"cases/{number}/proposals", {"remedy": "return_refund", "amount": "259.00", "note": "寄回后退款"}
    )
    assert proposal.status_code == 201
    accepted = w.c.post(f"cases/{number}/proposals/{proposal.json()['id']}/accept", {})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    detail = w.m.get(f"cases/{number}").json()
    assert detail["case"]["status"] == "executing"
    remedy_id = detail["remedies"][0]["id"]
    assert detail["remedies"][0]["return_ship_by"] is not None
    empty = w.m.post(f"cases/{number}/remedies/{remedy_id}/return-address", {"return_address": " "})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "return_address"
    assert (
        w.c.post(f"cases/{number}/remedies/{remedy_id}/return-address", {"return_address": "x"}).status_code
        == 403
    )
    address = w.m.post(
        f"cases/{number}/remedies/{remedy_id}/return-address",
        {"return_address": "杭州市余杭区仓前街道 8 号 退货组"},
    )
    assert address.status_code == 200
    assert (
        w.c.get(f"cases/{number}").json()["remedies"][0]["return_address"]
        == "杭州市余杭区仓前街道 8 号 退货组"
    )
    missing = w.c.post(f"cases/{number}/remedies/{remedy_id}/return-shipped", {"carrier": "SF"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "tracking_number"
    shipped = w.c.post(
        f"cases/{number}/remedies/{remedy_id}/return-shipped", {"carrier": "顺丰", "tracking_number": "SF42"}
    )
    assert shipped.status_code == 200 and shipped.json()["return_tracking_number"] == "SF42"
    late = w.m.post(f"cases/{number}/remedies/{remedy_id}/return-address", {"return_address": "别处"})
    assert late.status_code == 409 and late.json()["code"] == "RETURN_SHIPPED"
    received = w.m.post(f"cases/{number}/remedies/{remedy_id}/return-received", {})
    assert received.status_code == 200 and received.json()["received_at"] and received.json()["due_at"]
    done = w.m.post(f"cases/{number}/remedies/{remedy_id}/execute", {"payment_reference": "RF-2026-0001"})
    assert done.status_code == 200 and done.json()["refunded_to"] == w.order.payment_reference
    rated = w.c.post(f"cases/{number}/rating", {"score": 5, "comment": "满意"})
    assert rated.status_code == 201 and rated.json()["status"] == "closed"
    photo = w.m.client.get(f"/api/v1/cases/{number}/evidence/{up.json()['id']}", headers=w.m.headers)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"


def test_merchant_silence_escalation_and_auto_approval(world):
    w = world
    number = _file(w, kind="refund_only", description="未收到货")["case"]["number"]
    early = w.c.post(f"cases/{number}/intervention", {"reason": "商家不回复"})
    assert early.status_code == 409 and early.json()["code"] == "INTERVENTION_TOO_EARLY"
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    detail = w.c.get(f"cases/{number}").json()
    assert detail["case"]["status"] == "executing"
    assert detail["remedies"][0]["source"] == "auto_approval"
    assert MerchantViolation.objects.filter(case__number=number).exists()


def test_violations_are_listed_for_their_merchant_and_the_platform_only(world, api):
    w = world
    number = _file(w, kind="refund_only", description="未收到货", amount_claimed="259.00")["case"]["number"]
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    own = w.m.get("cases/violations")
    assert own.status_code == 200, own.content
    body = own.json()
    assert body["count"] == 1
    row = body["items"][0]
    assert row["case"] == number and row["merchant"] == w.order.merchant.external_id
    assert row["kind"] == "silent_on_refund" and row["kind_label"] == "未回应退款申请"  # the default language
    assert row["details"] == {"amount_fen": 25_900}
    assert w.a.get("cases/violations").json()["count"] == 1
    assert w.arb.get("cases/violations", {"since": "2000-01-01T00:00:00Z"}).json()["count"] == 1
    later = (timezone.now() + timedelta(days=10)).isoformat()
    assert w.a.get("cases/violations", {"since": later}).json()["count"] == 0
    assert api(factories.user(Role.MERCHANT_STAFF)).get("cases/violations").json()["count"] == 0
    assert w.c.get("cases/violations").status_code == 403
    assert api(factories.user(Role.LAB_STAFF)).get("cases/violations").status_code == 403
    bad = w.a.get("cases/violations", {"since": "yesterday"})
    assert bad.status_code == 422 and "since" in bad.content.decode()


def test_cases_are_searched_by_number_order_and_title_within_what_one_may_see(world, api):
    w = world
    own = _file(w, description="鞋底开胶，质量问题")["case"]
    elsewhere = factories.order(buyer_obj=w.buyer)
    theirs = _file(
        w, order=elsewhere.external_id, kind="complaint", description="快递太慢", amount_claimed="50.00"
    )["case"]
    by_number = w.a.get("cases", {"q": own["number"][-6:]}).json()
    assert [c["number"] for c in by_number["items"]] == [own["number"]]
    by_order = w.a.get("cases", {"q": elsewhere.external_id}).json()
    assert [c["number"] for c in by_order["items"]] == [theirs["number"]]
    assert w.a.get("cases", {"problem_type": "logistics_delay"}).json()["count"] == 1
    assert w.m.get("cases", {"q": theirs["number"]}).json()["count"] == 0  # another merchant's
    assert w.m.get("cases", {"q": own["number"]}).json()["count"] == 1
    bad = w.a.get("cases", {"problem_type": "weather"})
    assert bad.status_code == 422 and "problem_type" in bad.content.decode()
    long = w.a.get("cases", {"q": "x" * 101})
    assert long.status_code == 422 and "q" in long.json()["errors"][0]["field"]


def test_dispute_ruling_unexecuted_gives_a_violation(world):
    w = world
    number = _file(w)["case"]["number"]
    p = w.m.post(f"cases/{number}/proposals", {"remedy": "refund", "amount": "30.00"}).json()
    w.c.post(f"cases/{number}/proposals/{p['id']}/reject", {"note": "不同意"})
    assert w.c.post(f"cases/{number}/intervention", {"reason": "协商不成"}).status_code == 200
    early = w.arb.post(  # the merchant's 24 h to settle or answer first
        f"cases/{number}/ruling", {"outcome": "merchant_upheld", "reasons": "证据不足"}
    )
    assert early.status_code == 409 and early.json()["code"] == "SETTLE_WINDOW_OPEN"
    assert w.m.post(f"cases/{number}/messages", {"body": "商家陈述：出库前已检验"}).status_code in (200, 201)
    assert w.arb.post(f"cases/{number}/review", {}).status_code == 200
    bad = w.arb.post(
        f"cases/{number}/ruling",
        {"outcome": "consumer_upheld", "reasons": "质量问题", "remedy": "refund", "amount": "999.00"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
    ruling = w.arb.post(
        f"cases/{number}/ruling",
        {"outcome": "consumer_upheld", "reasons": "照片可见开胶", "remedy": "refund", "amount": "259.00"},
    )
    assert ruling.status_code == 201
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        services.sweep()
    assert MerchantViolation.objects.get(case__number=number).kind == "ruling_not_executed"


def test_safety_complaint_alerts_inspectors_at_once(world):
    w = world
    started = timezone.now()
    filed = _file(w, kind="complaint", description="The heater caught fire and burned my hand")
    case = w.a.get(f"cases/{filed['case']['number']}").json()["case"]  # as the platform sees it
    assert (
        case["priority"] == "P1"
        and case["safety"] is True
        and case["owner"] in (w.agent.username, w.agent2.username)
    )
    alert = Alert.objects.get(recipient=w.inspector, kind="safety_signal")
    assert (alert.created_at - started).total_seconds() < 5


def test_merge_of_duplicates_over_the_api(world):
    w = world
    first = _file(w, kind="complaint", description="鞋子开胶")["case"]["number"]
    second = w.a.post(
        "cases",
        {
            "kind": "complaint",
            "channel": "hotline",
            "buyer": w.buyer.external_id,
            "order": w.order.external_id,
            "description": "电话：鞋子开胶",
        },
    ).json()
    assert second["duplicate_of"] == first
    merged = w.a.post(f"cases/{first}/merge", {"duplicate": second["case"]["number"]})
    assert merged.status_code == 200
    messages = w.a.get(f"cases/{first}").json()["messages"]
    assert any("电话：鞋子开胶" in m["body"] for m in messages)


@pytest.mark.django_db(transaction=True)
def test_two_agents_at_once_one_wins_the_other_gets_409(api):
    consumer = factories.user(Role.CONSUMER)
    order = factories.order(buyer_obj=factories.buyer(user=consumer))
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        description="质量问题",
        order_external_id=order.external_id,
    ).case
    agents = [factories.user(Role.AGENT) for _ in range(2)]
    tokens = [core_services.create_api_token(actor=None, user=a)[1] for a in agents]
    barrier = threading.Barrier(2)
    results = []

    def act(token, text):
        try:
            barrier.wait()
            response = Client().post(
                f"/api/v1/cases/{case.number}/acknowledge",
                {"version": case.version, "message": text},
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            results.append((response.status_code, response.json().get("code")))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=act, args=(t, f"agent {i}")) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r[0] for r in results)
    assert codes == [200, 409], results
    case.refresh_from_db()
    assert case.status == "acknowledged" and case.owner in agents
    assert CaseEvent.objects.filter(case=case, type="case_acknowledged").count() == 1
    assert case.messages.filter(party="agent").count() == 1  # the loser's message was not half-written


def _case_operations():
    spec = Client().get("/api/v1/openapi.json").json()
    for path, methods in spec["paths"].items():
        if "{number}" not in path:
            continue
        for method in methods:
            yield path, method


def test_others_can_never_read_or_act_on_a_case_on_any_endpoint(world, api):
    w = world
    number = _file(w)["case"]["number"]
    evidence_id = _upload(w.c, number, _png()).json()["id"]
    outsiders = [
        api(factories.user(Role.CONSUMER)),
        api(factories.user(Role.MERCHANT_STAFF)),
        api(factories.user(Role.LAB_STAFF)),
    ]
    checked = 0
    for path, method in _case_operations():
        url = (
            path.replace("{number}", number)
            .replace("{proposal_id}", "1")
            .replace("{remedy_id}", "1")
            .replace("{evidence_id}", str(evidence_id))
            .replace("{event_id}", "1")
        )
        assert "{" not in url, url  # every path parameter filled: the endpoint itself is asked
        for client in outsiders:
            body = {
                "reason": "x",
                "body": "x",
                "remedy": "refund",
                "amount": "1.00",
                "outcome": "merchant_upheld",
                "reasons": "x",
                "score": 5,
                "items": ["defect_photos"],
                "to_username": "x",
                "duplicate": number,
                "return_address": "x",
                "carrier": "x",
                "tracking_number": "x",
                "what": "x",
            }
            if method == "get":
                response = client.client.get(url, headers=client.headers)
            elif url.endswith("/evidence"):
                response = _upload(client, number, _png())
            else:
                response = client.client.post(
                    url, body, content_type="application/json", headers=client.headers
                )
            assert response.status_code in (403, 404, 422), (
                method,
                url,
                response.status_code,
                response.content[:200],
            )
            assert response.status_code != 422 or "field" in response.content.decode()
            checked += 1
    assert checked >= 60
    case = Case.objects.get(number=number)
    assert case.status == "awaiting_merchant" and not case.messages.exclude(party="system").exists()
    assert case.evidence.count() == 1


def test_the_merchant_reads_the_complaint_over_the_api_without_the_consumers_contact_data(world):
    w = world
    number = _file(w, description="鞋底开胶了。电话 13900001111，邮箱 wang.wu@example.com")["case"]["number"]
    posted = w.c.post(f"cases/{number}/messages", {"body": "再补充：我的手机 13900001111"})
    assert posted.status_code == 201, posted.content
    merchant = w.m.get(f"cases/{number}").json()
    assert any(m["body"] == "再补充：我的手机 139****1111" for m in merchant["messages"])
    assert merchant["case"]["description"] == "鞋底开胶了。电话 139****1111，邮箱 w***@example.com"
    assert all("13900001111" not in m["body"] for m in merchant["messages"])
    assert "13900001111" not in merchant["case"]["title"]
    own = w.c.get(f"cases/{number}").json()
    assert "13900001111" in own["case"]["description"]
    agent = w.a.get(f"cases/{number}").json()
    assert "wang.wu@example.com" in agent["case"]["description"]


def test_ready_replies_for_staff_filled_in_for_the_case(world, api):
    from marketguard.complaints.models import ReplyTemplate

    w = world
    number = _file(w)["case"]["number"]
    agent = w.a.get(f"cases/{number}/reply-templates")
    assert agent.status_code == 200
    rows = {(r["language"], r["slug"]): r for r in agent.json()}
    assert ("zh", "safety-first") in rows and ("en", "safety-first") in rows  # the platform's
    assert ("zh", "merchant-repair") not in rows  # the merchant's are not offered to agents
    assert (
        number in rows[("en", "safety-first")]["body"]
        and "{number}" not in rows[("en", "safety-first")]["body"]
    )
    assert w.order.merchant.name in rows[("zh", "forwarded-to-merchant")]["body"]
    merchant = {(r["language"], r["slug"]) for r in w.m.get(f"cases/{number}/reply-templates").json()}
    assert ("en", "merchant-repair") in merchant and ("en", "is-it-solved") in merchant
    assert ("en", "safety-first") not in merchant
    assert w.c.get(f"cases/{number}/reply-templates").json() == []  # consumers write their own
    # admins edit the rows: a switched-off one is gone, a new one appears
    ReplyTemplate.objects.filter(slug="merchant-repair").update(active=False)
    ReplyTemplate.objects.create(
        slug="holiday",
        audience="merchant",
        title_zh="假期发货",
        title_en="Holiday shipping",
        body_zh="假期期间 {number} 顺延处理。",
        body_en="Over the holiday {number} waits a day.",
    )
    merchant = {
        (r["language"], r["slug"]): r["body"] for r in w.m.get(f"cases/{number}/reply-templates").json()
    }
    assert ("en", "merchant-repair") not in merchant
    assert merchant[("en", "holiday")] == f"Over the holiday {number} waits a day."


def test_ready_replies_fall_back_to_the_shipped_ones_when_there_are_no_rows(world):
    from marketguard.complaints.models import ReplyTemplate

    w = world
    number = _file(w)["case"]["number"]
    ReplyTemplate.objects.all().delete()
    rows = w.m.get(f"cases/{number}/reply-templates").json()
    assert {r["slug"] for r in rows} >= {"merchant-return-agreed", "is-it-solved"}
    assert any(
        r["language"] == "en" and r["body"].startswith("Hello, we are sorry about the product") for r in rows
    )
    assert "safety-first" not in {r["slug"] for r in rows}  # still the merchant's share only


def test_consumers_are_not_shown_internal_triage_over_the_api(world):
    w = world
    filed = _file(w, description="充电时起火了，手被烫伤")  # a safety case: P1 inside
    number = filed["case"]["number"]
    assert filed["case"]["priority"] is None
    mine = w.c.get(f"cases/{number}").json()
    assert mine["case"]["priority"] is None and w.c.get("cases").json()["items"][0]["priority"] is None
    assert mine["clocks"] and all(c["risk"] is None for c in mine["clocks"])
    staff = w.a.get(f"cases/{number}").json()
    assert staff["case"]["priority"] == "P1" and all(isinstance(c["risk"], float) for c in staff["clocks"])
    # the merchant is not shown the platform's own first-response clock
    assert "first_response" not in {c["target"] for c in w.m.get(f"cases/{number}").json()["clocks"]}
