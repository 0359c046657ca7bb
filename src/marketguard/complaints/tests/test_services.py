"""Complaint and after-sales flows, service by service (given / when / then)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from marketguard.complaints import selectors, services, workflow
from marketguard.complaints.models import (
    Alert,
    CaseEvent,
    CaseMessage,
    MerchantViolation,
    OutgoingMail,
    Proposal,
    Rating,
    Remedy,
    SlaMark,
)
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _file(w, **kw):
    args = {
        "actor": w.consumer,
        "channel": "web",
        "kind": "return_refund",
        "order_external_id": w.order.external_id,
        "description": "收到的水杯有裂缝，漏水，质量问题",
        "amount_claimed": "199.00",
    }
    args.update(kw)
    return services.submit_case(**args)


def test_quality_request_full_happy_path(world):
    w = world
    intake = _file(w)
    case = intake.case
    assert case.number.startswith("CS") and case.problem_type == "quality"
    assert case.status == workflow.AWAITING_MERCHANT  # after-sales goes straight to the merchant
    assert case.first_response_due and case.merchant_response_due and case.resolution_due
    # told once, at intake, everything needed
    notice = CaseMessage.objects.get(case=case, party="system").body
    assert "一次性" in notice and "（必需）" in notice  # in the language the complaint is written in
    assert [i.code for i in intake.checklist] == case.materials_notified

    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="199.00", note="退货退款"
    )
    case.refresh_from_db()
    assert case.status == workflow.NEGOTIATING and case.merchant_responded_at and case.first_responded_at

    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    case.refresh_from_db()
    assert case.status == workflow.EXECUTING
    remedy = case.remedies.get()
    assert (remedy.kind, remedy.amount_fen, remedy.source) == ("return_refund", 19_900, "agreement")

    with pytest.raises(InvalidInput) as err:
        services.execute_remedy(
            actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference=""
        )
    assert err.value.errors[0].field == "payment_reference"
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF123"
    )
    case.refresh_from_db()
    remedy.refresh_from_db()
    assert case.status == workflow.RESOLVED and case.resolved_at
    assert remedy.refunded_to == w.order.payment_reference  # back to the original payment

    services.rate_case(actor=w.consumer, number=case.number, score=5, comment="很快")
    case.refresh_from_db()
    assert case.status == workflow.CLOSED
    closed = timezone.localdate(case.closed_at)  # kept 3 years from the day it ended
    kept = case.retain_until  # (a case ended on 29 February is kept to the 28th)
    assert (kept.year, kept.month, kept.day in (closed.day, 28)) == (closed.year + 3, closed.month, True)
    types = list(case.events.values_list("type", flat=True))
    for expected in (
        "case_submitted",
        "case_routed_to_merchant",
        "merchant_responded",
        "proposal_made",
        "agreement_reached",
        "remedy_started",
        "remedy_executed",
        "case_resolved",
        "case_rated",
        "case_closed",
    ):
        assert expected in types
    moves = set(
        AuditEntry.objects.filter(object_type="complaints.case", object_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"case_submitted", "route_to_merchant", "merchant_respond", "agree", "resolve", "close"} <= moves


def test_a_refund_never_exceeds_what_was_paid(world):
    w = world
    case = _file(w).case
    with pytest.raises(InvalidInput) as err:
        services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="199.01")
    assert err.value.code == "REFUND_EXCEEDS_PAYMENT" and err.value.errors[0].field == "amount"
    with pytest.raises(InvalidInput) as err:
        _file(w, amount_claimed="500.00")
    assert err.value.errors[0].field == "amount_claimed"


def test_merchant_silence_allows_intervention_and_refund_only_is_approved_after_72h(world):
    w = world
    case = _file(w, kind="refund_only", description="没收到货，申请仅退款").case
    assert case.auto_approve_at - case.merchant_since == timedelta(hours=72)
    with pytest.raises(InvalidTransition) as err:
        services.request_intervention(actor=w.consumer, number=case.number, reason="商家不理")
    assert err.value.code == "INTERVENTION_TOO_EARLY"

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        report = services.sweep()
        assert report.breaches >= 1  # merchant response target (24 h) breached
        assert SlaMark.objects.filter(case=case, target="merchant_response", stage="breached").exists()
        assert services.sweep().breaches == 0  # idempotent

    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        report = services.sweep()
    case.refresh_from_db()
    assert report.auto_approved == 1
    assert case.status == workflow.EXECUTING
    remedy = case.remedies.get()
    assert (remedy.kind, remedy.source, remedy.amount_fen) == ("refund", "auto_approval", 19_900)
    assert MerchantViolation.objects.filter(case=case, kind="silent_on_refund").count() == 1
    assert Alert.objects.filter(recipient=w.merchant, case=case).exists()


def test_consumer_may_ask_for_intervention_after_24h_of_silence(world):
    w = world
    case = _file(w).case
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        services.request_intervention(actor=w.consumer, number=case.number, reason="商家24小时未回复")
    case.refresh_from_db()
    assert case.status == workflow.ESCALATED
    assert Alert.objects.filter(recipient=w.arbitrator, kind="case_escalated").exists()


def test_dispute_ruling_not_executed_becomes_a_violation(world):
    w = world
    case = _file(w).case
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="refund", amount="20.00", note="只退20元"
    )
    services.decide_proposal(
        actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=False, note="太少"
    )
    services.request_intervention(actor=w.consumer, number=case.number, reason="协商失败")
    services.post_message(actor=w.merchant, number=case.number, body="商家陈述：商品出库前已检验")
    services.start_review(actor=w.arbitrator, number=case.number)
    with pytest.raises(InvalidInput) as err:
        services.record_ruling(
            actor=w.arbitrator,
            number=case.number,
            outcome="consumer_upheld",
            reasons="",
            remedy="return_refund",
            amount="199.00",
        )
    assert err.value.errors[0].field == "reasons"
    ruling = services.record_ruling(
        actor=w.arbitrator,
        number=case.number,
        outcome="consumer_upheld",
        reasons="照片显示杯身裂缝，属质量问题",
        remedy="refund",
        amount="199.00",
    )
    case.refresh_from_db()
    assert case.status == workflow.EXECUTING and ruling.execute_due == case.execution_due
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        report = services.sweep()
        services.sweep()
    assert report.violations == 1
    violation = MerchantViolation.objects.get(case=case)
    assert violation.kind == "ruling_not_executed" and violation.merchant == w.order.merchant
    case.refresh_from_db()
    assert case.priority in ("P1", "P2")
    assert Alert.objects.filter(recipient=w.admin, case=case).exists()


def test_safety_complaint_is_top_priority_assigned_and_inspectors_alerted(world):
    w = world
    case = _file(w, kind="complaint", description="充电宝充电时起火，孩子手被烫伤了").case
    assert (case.priority, case.problem_type, case.safety) == ("P1", "safety", True)
    assert case.owner in (w.agent, w.agent2)
    assert Alert.objects.filter(recipient=w.inspector, kind="safety_signal", case=case).exists()
    assert case.first_response_due - case.created_at <= timedelta(hours=1)


def test_the_agent_who_takes_a_call_owns_the_case_it_files(world):
    """首问负责制: the first agent in contact with the consumer follows the case to its end, also
    when the call is about someone's safety (no other agent is picked)."""
    w = world
    for description in ("电话投诉：杯子漏水，质量问题", "电话投诉：充电宝起火，手被烫伤了"):
        case = _file(
            w,
            kind="complaint",
            channel="hotline",
            actor=w.agent2,
            buyer_external_id=w.buyer.external_id,
            description=description,
        ).case
        assert case.owner == w.agent2
        how = case.events.get(type="owner_assigned").data["how"]
        assert how == "first_contact"
        with pytest.raises(Conflict):
            services.post_message(actor=w.agent, number=case.number, body="我来处理")
    assert (
        case.safety and Alert.objects.filter(recipient=w.inspector, kind="safety_signal", case=case).exists()
    )
    assert not Alert.objects.filter(recipient=w.agent, kind="safety_case_assigned").exists()


def test_negated_safety_words_do_not_raise_alarm(world):
    case = _file(world, kind="complaint", description="包装破损但没有起火，也没有人受伤，就是外壳裂了").case
    assert not case.safety and case.priority != "P1"


def test_first_contact_ownership_and_handover(world):
    w = world
    case = _file(w, kind="complaint", description="客服态度很差").case
    services.acknowledge_case(actor=w.agent, number=case.number)
    case.refresh_from_db()
    assert case.owner == w.agent and case.first_responded_at
    with pytest.raises(Conflict) as err:
        services.post_message(actor=w.agent2, number=case.number, body="我来处理")
    assert err.value.code == "OWNED_BY_ANOTHER_AGENT"
    with pytest.raises(InvalidInput):
        services.hand_over_case(actor=w.agent, number=case.number, to_username=w.agent2.username, reason="")
    services.hand_over_case(
        actor=w.agent, number=case.number, to_username=w.agent2.username, reason="下班交接"
    )
    services.post_message(actor=w.agent2, number=case.number, body="我来处理")
    assert CaseEvent.objects.filter(case=case, type="case_handed_over").exists()


def test_stale_version_gets_409(world):
    w = world
    case = _file(w, kind="complaint", description="质量问题").case
    services.acknowledge_case(actor=w.agent, number=case.number, version=case.version)
    with pytest.raises(Conflict) as err:
        services.forward_to_merchant(actor=w.agent, number=case.number, version=case.version)
    assert err.value.code == "CASE_CHANGED"


def test_materials_asked_again_only_with_a_reason_and_the_clock_pauses(world):
    w = world
    case = _file(w, kind="complaint", description="衣服起球严重，质量差").case
    services.acknowledge_case(actor=w.agent, number=case.number)
    with pytest.raises(InvalidInput) as err:
        services.request_materials(actor=w.agent, number=case.number, items=["defect_photos"])
    assert err.value.code == "REASON_REQUIRED"
    case.refresh_from_db()
    due_before = case.resolution_due
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片模糊，看不清起球位置"
    )
    with time_machine.travel(timezone.now() + timedelta(hours=5), tick=False):
        services.post_message(actor=w.consumer, number=case.number, body="已重新上传清晰照片")
    case.refresh_from_db()
    assert case.waiting_on_consumer_since is None
    assert case.resolution_due - due_before >= timedelta(hours=4, minutes=59)


def test_duplicates_are_proposed_and_merge_keeps_everything(world):
    w = world
    first = _file(w, kind="complaint", description="杯子漏水，质量问题").case
    second = _file(
        w,
        kind="complaint",
        channel="hotline",
        actor=w.agent,
        buyer_external_id=w.buyer.external_id,
        description="电话投诉：杯子漏水",
    ).case
    assert second.possible_duplicate_of == first
    services.post_message(actor=w.consumer, number=second.number, body="补充：第二次使用就漏")
    services.merge_cases(actor=w.agent, primary=first.number, duplicate=second.number)
    second.refresh_from_db()
    assert second.status == workflow.MERGED and second.merged_into == first
    bodies = list(CaseMessage.objects.filter(case=first).values_list("body", flat=True))
    assert any("补充：第二次使用就漏" in b for b in bodies)
    assert any("电话投诉" in b for b in bodies)


def test_consumer_cannot_see_or_act_on_someone_elses_case(world):
    w = world
    case = _file(w, kind="complaint", description="质量问题").case
    stranger = factories.user(Role.CONSUMER)
    other_merchant = factories.user(Role.MERCHANT_STAFF)
    for actor in (stranger, other_merchant):
        with pytest.raises(NotFound):
            services.get_case(actor=actor, number=case.number)
        with pytest.raises(NotFound):
            services.post_message(actor=actor, number=case.number, body="hi")
        assert not services.visible_cases(actor).filter(pk=case.pk).exists()


def test_merchant_sees_a_complaint_only_once_it_is_forwarded(world):
    w = world
    case = _file(w, kind="complaint", description="质量问题").case
    assert not services.visible_cases(w.merchant).filter(pk=case.pk).exists()
    services.forward_to_merchant(actor=w.agent, number=case.number)
    assert services.visible_cases(w.merchant).filter(pk=case.pk).exists()


def test_the_wrong_party_cannot_make_a_move(world):
    w = world
    case = _file(w).case
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="10.00")
    with pytest.raises(PermissionDenied):
        services.decide_proposal(actor=w.merchant, number=case.number, proposal_id=proposal.pk, accept=True)
    with pytest.raises(PermissionDenied):
        services.record_ruling(actor=w.agent, number=case.number, outcome="merchant_upheld", reasons="x")
    assert Proposal.objects.get(pk=proposal.pk).status == "open"


def test_cases_and_their_records_are_never_deleted(world):
    case = _file(world).case
    with pytest.raises(PermissionError):
        case.delete()
    with pytest.raises(PermissionError):
        case.messages.first().delete()


def test_appeal_within_seven_days_only(world):
    w = world
    case = _file(w).case
    services.request_intervention(actor=w.merchant, number=case.number, reason="买家要求不合理")
    services.start_review(actor=w.arbitrator, number=case.number)
    services.record_ruling(
        actor=w.arbitrator, number=case.number, outcome="merchant_upheld", reasons="无质量问题证据"
    )
    case.refresh_from_db()
    assert case.status == workflow.RESOLVED
    with (
        time_machine.travel(timezone.now() + timedelta(days=8), tick=False),
        pytest.raises(InvalidTransition),
    ):
        services.appeal_ruling(actor=w.consumer, number=case.number, reason="不服")
    assert Remedy.objects.filter(case=case).count() == 0


def test_seven_day_return_outside_the_window_is_refused_with_the_reason(world):
    w = world
    shipment = w.order.shipments.get()
    shipment.signed_at = timezone.now() - timedelta(days=9)
    shipment.save()
    with pytest.raises(InvalidInput) as err:
        _file(w, kind="return_refund", problem_type="no_reason_return_7day", description="不想要了")
    assert err.value.code == "NO_REASON_RETURN_NOT_ELIGIBLE" and err.value.errors[0].field == "problem_type"


def test_seven_day_return_excluded_category(world):
    w = world
    category = w.order.items.first().product.category
    category.no_reason_return = "excluded"
    category.save()
    with pytest.raises(InvalidInput) as err:
        _file(w, kind="return_refund", problem_type="no_reason_return_7day", description="不想要了")
    assert "CATEGORY_EXCLUDED" in str(err.value.message) or err.value.code == "NO_REASON_RETURN_NOT_ELIGIBLE"


def test_seven_day_return_inside_the_window_is_accepted_with_its_deadline(world):
    w = world
    case = _file(w, kind="return_refund", problem_type="no_reason_return_7day", description="不想要了").case
    assert case.triage["no_reason_return"]["eligible"] is True
    assert case.triage["no_reason_return"]["deadline"]


def test_withdraw_and_reopen(world):
    w = world
    case = _file(w, kind="complaint", description="物流太慢了").case
    services.acknowledge_case(actor=w.agent, number=case.number)
    services.resolve_case(actor=w.agent, number=case.number, reason="已催促快递，今日送达")
    services.reopen_case(actor=w.consumer, number=case.number, reason="仍未收到")
    case.refresh_from_db()
    assert case.status == workflow.ACKNOWLEDGED and case.resolved_at is None
    services.withdraw_case(actor=w.consumer, number=case.number)
    case.refresh_from_db()
    assert case.status == workflow.WITHDRAWN


def test_return_and_refund_is_due_seven_days_after_the_goods_arrive(world):
    w = world
    case = _file(w).case
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="199.00"
    )
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    remedy = Remedy.objects.get(case=case)
    assert remedy.due_at is None  # waiting for the goods, no deadline yet
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        assert services.sweep().violations == 0
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF1"
    )
    received = timezone.now()
    services.record_return_received(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, received_at=received
    )
    remedy.refresh_from_db()
    local = timezone.localtime(remedy.due_at)
    # days counted from the day after receipt: 7 full days, due at the start of the 8th (exclusive bound)
    assert (local.date() - timezone.localtime(received).date()).days == 8
    assert (local.hour, local.minute) == (0, 0)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF1"
    )
    with pytest.raises(InvalidTransition):  # already refunded: nothing waits for the goods any more
        services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)


def _agreed_return(w):
    case = _file(w).case
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="199.00"
    )
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    return case, Remedy.objects.get(case=case)


def test_the_consumer_sends_the_goods_back_with_a_tracking_number_and_the_merchant_is_told(world):
    w = world
    case, remedy = _agreed_return(w)
    assert Alert.objects.filter(recipient=w.consumer, case=case, kind="return_requested").exists()
    assert abs(remedy.return_ship_by - remedy.created_at - timedelta(days=7)) < timedelta(seconds=1)
    with pytest.raises(PermissionDenied):  # the merchant does not send the buyer's parcel
        services.record_return_shipped(
            actor=w.merchant, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="1"
        )
    with pytest.raises(InvalidInput) as err:
        services.record_return_shipped(
            actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number=" "
        )
    assert err.value.errors[0].field == "tracking_number"
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="顺丰", tracking_number="SF123"
    )
    remedy.refresh_from_db()
    assert (remedy.return_carrier, remedy.return_tracking_number) == ("顺丰", "SF123")
    assert remedy.return_shipped_at is not None
    assert Alert.objects.filter(recipient=w.merchant, case=case, kind="return_shipped").exists()
    shipped_at = remedy.return_shipped_at
    # a typo in the tracking number can be corrected; the dispatch time stays
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="顺丰", tracking_number="SF124"
    )
    remedy.refresh_from_db()
    assert remedy.return_tracking_number == "SF124" and remedy.return_shipped_at == shipped_at
    types = list(CaseEvent.objects.filter(case=case).values_list("type", flat=True))
    assert types[-2:] == ["return_shipped", "return_tracking_corrected"]
    with pytest.raises(InvalidInput) as err:  # received before it was sent back
        services.record_return_received(
            actor=w.merchant,
            number=case.number,
            remedy_id=remedy.pk,
            received_at=shipped_at - timedelta(hours=1),
        )
    assert err.value.errors[0].field == "received_at"
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    with pytest.raises(Conflict):  # received twice
        services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    with pytest.raises(Conflict):  # the parcel has arrived: no more tracking changes
        services.record_return_shipped(
            actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="X"
        )


def test_goods_not_sent_back_within_seven_days_the_return_lapses_and_the_case_resolves(world):
    w = world
    case, remedy = _agreed_return(w)
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
        assert services.sweep().returns_lapsed == 0
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        assert services.sweep().returns_lapsed == 1
        assert services.sweep().returns_lapsed == 0  # once
    remedy.refresh_from_db()
    case.refresh_from_db()
    assert remedy.status == Remedy.Status.LAPSED
    assert case.status == workflow.RESOLVED
    assert Alert.objects.filter(recipient=w.consumer, case=case, kind="return_lapsed").exists()
    assert MerchantViolation.objects.filter(case=case).count() == 0  # not the merchant's fault
    with pytest.raises(InvalidTransition):
        services.record_return_shipped(
            actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="1"
        )


def test_receipt_never_confirmed_is_deemed_after_ten_days_and_the_refund_falls_due(world):
    w = world
    case, remedy = _agreed_return(w)
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF9"
    )
    start = timezone.now()
    with time_machine.travel(start + timedelta(days=9, hours=23), tick=False):
        report = services.sweep()
        assert report.returns_deemed_received == 0 and report.returns_lapsed == 0
    later = start + timedelta(days=10, minutes=1)
    with time_machine.travel(later, tick=False):
        assert services.sweep().returns_deemed_received == 1
        assert services.sweep().returns_deemed_received == 0
    remedy.refresh_from_db()
    case.refresh_from_db()
    assert remedy.received_at is not None and remedy.status == Remedy.Status.PENDING
    assert remedy.due_at == case.execution_due
    assert abs(remedy.due_at - (later + timedelta(hours=24))) < timedelta(seconds=1)
    assert Alert.objects.filter(recipient=w.merchant, case=case, kind="return_deemed_received").exists()
    # still not refunded a day later: escalated like any overdue remedy
    with time_machine.travel(later + timedelta(hours=25), tick=False):
        services.sweep()
    assert SlaMark.objects.filter(case=case, target="execution", stage="breached").exists()


def test_merchant_queue_is_ranked_by_the_merchants_own_deadline(world):
    from marketguard.complaints import selectors

    w = world
    case = _file(w).case
    rows = selectors.merchant_queue(w.merchant)
    assert [r.case for r in rows] == [case]
    assert rows[0].target == "merchant_response" and rows[0].next_due == case.merchant_response_due


def test_the_agent_queue_puts_the_case_due_soonest_first(world):
    # Case B was answered (its 48 h resolution clock runs, 38 h left); case A, filed 7 h later,
    # is not (its 24 h first response has 21 h left). A has used the smaller share of its clock
    # (3/24 against 10/48), but it breaches first, so the agent sees it first.
    w = world
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        b = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
        services.acknowledge_case(actor=w.agent, number=b.number)
    with time_machine.travel(start + timedelta(hours=7), tick=False):
        a = _file(w, kind="complaint", problem_type="logistics_delay", description="快递太慢").case
        services.take_case(actor=w.agent, number=a.number)
    with time_machine.travel(start + timedelta(hours=10), tick=False):
        rows = selectors.agent_queue(w.agent)
        assert [(r.case, r.target) for r in rows] == [(a, "first_response"), (b, "resolution")]
        assert rows[0].risk < rows[1].risk  # by share used the order would be the other way
        assert rows[0].next_due < rows[1].next_due


def test_complaint_rate_is_the_share_of_orders_with_a_case(world):
    from marketguard.complaints import selectors

    w = world
    more = [factories.order(buyer_obj=w.buyer, product_obj=w.order.items.first().product) for _ in range(4)]
    _file(w, kind="complaint", description="质量问题")
    _file(w, kind="complaint", description="又来投诉同一订单", order_external_id=w.order.external_id)
    _file(
        w,
        kind="complaint",
        description="另一单也有问题",
        order_external_id=more[0].external_id,
        amount_claimed=None,
    )
    m = selectors.metrics(w.agent)
    assert m["orders"] == 5 and m["orders_with_case"] == 2 and m["complaint_rate"] == 0.4
    (merchant_row,) = m["by_merchant"]
    assert (merchant_row["orders"], merchant_row["cases"], merchant_row["rate"]) == (5, 2, 0.4)
    assert m["by_product"][0]["rate"] == 0.4
    (category_row,) = m["by_category"]
    assert (category_row["orders"], category_row["cases"]) == (5, 2)
    # a second product in one of those orders, never complained about, is not listed
    from marketguard.catalog.models import OrderItem

    other = factories.product()
    OrderItem.objects.create(
        external_id=f"{more[1].external_id}-2",
        order=more[1],
        product=other,
        quantity=1,
        unit_price_fen=100,
        paid_amount_fen=100,
    )
    m = selectors.metrics(w.agent)
    assert [r["product__external_id"] for r in m["by_product"]] == [w.order.items.first().product.external_id]


def test_rating_evidence_and_merge_refuse_a_stale_version(world):
    w = world
    case = _file(w, kind="complaint", description="物流太慢").case
    dup = _file(w, kind="complaint", description="物流太慢，一周没到").case
    stale = case.version
    services.post_message(actor=w.consumer, number=case.number, body="还没到")
    with pytest.raises(Conflict) as err:
        services.add_evidence(
            actor=w.consumer,
            number=case.number,
            filename="a.txt",
            data=b"chat log: the parcel is late\n",
            version=stale,
        )
    assert err.value.code == "CASE_CHANGED"
    with pytest.raises(Conflict):
        services.merge_cases(actor=w.agent, primary=case.number, duplicate=dup.number, version=stale)
    dup.refresh_from_db()
    assert dup.merged_into_id is None and dup.status != workflow.MERGED  # nothing half-done
    case.refresh_from_db()
    services.merge_cases(actor=w.agent, primary=case.number, duplicate=dup.number, version=case.version)
    services.acknowledge_case(actor=w.agent, number=case.number)
    services.resolve_case(actor=w.agent, number=case.number, reason="已催促快递")
    case.refresh_from_db()
    with pytest.raises(Conflict):
        services.rate_case(actor=w.consumer, number=case.number, score=4, version=case.version - 1)
    assert not Rating.objects.filter(case=case).exists()
    services.rate_case(actor=w.consumer, number=case.number, score=4, version=case.version)
    case.refresh_from_db()
    assert case.status == workflow.CLOSED


def test_each_side_is_alerted_when_another_writes_or_decides(world):
    w = world
    case = _file(w).case  # an after-sales request: with the merchant at once
    services.take_case(actor=w.agent, number=case.number)

    def kinds(user):
        return list(
            Alert.objects.filter(recipient=user, case=case).values_list("kind", flat=True).order_by("pk")
        )

    before_merchant, before_agent = kinds(w.merchant), kinds(w.agent)
    services.post_message(actor=w.consumer, number=case.number, body="裂缝在杯底，照片已上传")
    assert kinds(w.merchant)[len(before_merchant) :] == ["consumer_wrote"]
    assert kinds(w.agent)[len(before_agent) :] == ["consumer_wrote"]
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="50.00")
    assert kinds(w.merchant)[-1] == "consumer_wrote"  # not told of its own proposal
    assert kinds(w.agent)[-1] == "proposal_received"
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=False)
    assert kinds(w.merchant)[-1] == "proposal_rejected" and kinds(w.agent)[-1] == "proposal_rejected"
    services.post_message(actor=w.agent, number=case.number, body="请商家再看看照片", internal=True)
    assert kinds(w.merchant)[-1] == "proposal_rejected"  # internal notes tell nobody
    services.post_message(actor=w.agent, number=case.number, body="请商家再看看照片")
    assert kinds(w.merchant)[-1] == "platform_wrote" and kinds(w.agent)[-1] == "proposal_rejected"
    assert not Alert.objects.filter(recipient=w.consumer, kind__endswith="_wrote").exists()


def test_the_resolution_clock_stands_still_while_the_goods_travel_back(world):
    from marketguard.complaints.models import SlaMark

    w = world
    case, remedy = _agreed_return(w)
    case.refresh_from_db()
    assert case.status == workflow.EXECUTING
    view = selectors.case_view(w.agent, case.number)
    assert view.clocks["resolution"].state(timezone.now()) == "paused"  # while the goods travel
    # five days later the platform's 48 h are long gone, yet nothing is at risk or breached
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        services.sweep()
        services.record_return_shipped(
            actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF1"
        )
    assert not SlaMark.objects.filter(case=case, target="resolution").exists()
    with time_machine.travel(timezone.now() + timedelta(days=7), tick=False):
        services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
        case.refresh_from_db()
        # the clock runs again from where it stopped: the deadline lies ahead, not in the past
        assert case.resolution_due is not None and case.resolution_due > timezone.now()
        assert case.pauses.get(reason="return").ended_at is not None
        view = selectors.case_view(w.agent, case.number)
        assert view.clocks["resolution"].state(timezone.now()) == "ok"


def test_a_return_never_sent_back_restarts_the_clock_as_it_lapses(world):
    w = world
    case, _remedy = _agreed_return(w)
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        services.sweep()
    case.refresh_from_db()
    assert case.pauses.get(reason="return").ended_at is not None
    assert case.status == workflow.RESOLVED  # nothing else was left to do


def test_a_title_made_from_a_text_is_its_first_sentence_cut_to_fit_a_phone(world):
    # the first sentence, not the whole text
    case = _file(world, description="收到的水杯有裂缝，漏水，质量问题。" * 6).case
    assert case.title == "收到的水杯有裂缝，漏水，质量问题"
    # a long first sentence: 60 columns, a Chinese character counting two, then an ellipsis
    run_on = "这双鞋子穿了不到一个星期鞋底就开胶了，走路的时候还会进水，我联系了客服好几次都没有人回复"
    long = _file(world, kind="complaint", description=run_on).case
    assert long.title == "这双鞋子穿了不到一个星期鞋底就开胶了，走路的时候还会进水…"
    english = _file(world, kind="complaint", problem_type="other", description="The zipper broke. Poor.").case
    assert english.title == "The zipper broke"
    short = _file(world, kind="complaint", description="杯子漏水").case
    assert short.title == "杯子漏水"


def test_a_return_refunded_before_the_goods_came_back_does_not_leave_the_clock_paused(world):
    w = world
    case, remedy = _agreed_return(w)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF2"
    )
    case.refresh_from_db()
    assert case.status == workflow.RESOLVED
    assert not case.pauses.filter(reason="return", ended_at__isnull=True).exists()
    services.reopen_case(actor=w.consumer, number=case.number, reason="退款金额不对")
    view = selectors.case_view(w.agent, case.number)
    assert view.clocks["resolution"].state(timezone.now()) != "paused"


def test_answering_a_request_for_materials_during_a_return_keeps_the_return_pause(world):
    w = world
    case, _remedy = _agreed_return(w)
    services.request_materials(actor=w.agent, number=case.number, items=["defect_photos"], reason="补拍裂缝")
    services.post_message(actor=w.consumer, number=case.number, body="已补拍，见附件")
    case.refresh_from_db()
    assert case.waiting_on_consumer_since is None  # the materials pause ended
    assert case.pauses.filter(reason="return", ended_at__isnull=True).exists()  # the goods still travel


def test_a_new_ruling_after_an_appeal_replaces_what_the_first_one_ordered(world):
    w = world
    case = _file(w).case
    services.request_intervention(actor=w.merchant, number=case.number, reason="买家要求不合理")
    services.start_review(actor=w.arbitrator, number=case.number)
    services.record_ruling(
        actor=w.arbitrator,
        number=case.number,
        outcome="consumer_upheld",
        reasons="有裂缝",
        remedy="return_refund",
        amount="199.00",
    )
    first = Remedy.objects.get(case=case)
    services.appeal_ruling(actor=w.merchant, number=case.number, reason="裂缝是买家摔的")
    case.refresh_from_db()
    assert not case.pauses.filter(reason="return", ended_at__isnull=True).exists()  # review time counts
    assert case.status == workflow.PLATFORM_REVIEW
    services.record_ruling(
        actor=w.arbitrator,
        number=case.number,
        outcome="partially_upheld",
        reasons="部分支持",
        remedy="refund",
        amount="50.00",
    )
    first.refresh_from_db()
    assert first.status == Remedy.Status.SUPERSEDED
    second = Remedy.objects.get(case=case, status=Remedy.Status.PENDING)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=second.pk, payment_reference="RF3"
    )
    case.refresh_from_db()
    assert case.status == workflow.RESOLVED  # nothing of the first ruling is left waiting
    assert case.events.filter(type="remedies_superseded").exists()


def test_a_lapsed_return_does_not_count_as_refunded(world):
    w = world
    case, _remedy = _agreed_return(w)
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        services.sweep()
    from marketguard.complaints.services.work import _check_remedy_amount

    case.refresh_from_db()
    assert case.remedies.get().status == Remedy.Status.LAPSED
    _check_remedy_amount(case, "refund", 19_900, "amount")  # the whole payment is still refundable
    with pytest.raises(InvalidInput):
        _check_remedy_amount(case, "refund", 19_901, "amount")


def test_the_merchant_gives_a_return_address_for_this_case_and_the_consumer_is_told(world):
    import email
    from email import policy

    w = world
    w.order.store.return_address = "上海市闵行区 1 号仓"
    w.order.store.save(update_fields=["return_address"])
    case, remedy = _agreed_return(w)
    assert remedy.return_address == "上海市闵行区 1 号仓"  # the store's, by default
    with pytest.raises(PermissionDenied):  # the consumer does not choose where the goods go
        services.set_return_address(actor=w.consumer, number=case.number, remedy_id=remedy.pk, address="x")
    with pytest.raises(InvalidInput) as err:
        services.set_return_address(actor=w.merchant, number=case.number, remedy_id=remedy.pk, address="  ")
    assert err.value.errors[0].field == "return_address"
    mails_before = OutgoingMail.objects.filter(case=case).count()
    services.set_return_address(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, address="杭州市  西湖区\n2 号 售后组"
    )
    remedy.refresh_from_db()
    assert remedy.return_address == "杭州市 西湖区 2 号 售后组"  # one line
    assert Alert.objects.filter(recipient=w.consumer, case=case, kind="return_address_set").exists()
    told = OutgoingMail.objects.filter(case=case).order_by("pk")
    assert told.count() == mails_before + 1
    assert (
        "杭州市 西湖区 2 号 售后组"
        in email.message_from_string(told.last().raw, policy=policy.default).get_content()
    )
    assert case.events.filter(type="return_address_set").exists()
    assert AuditEntry.objects.filter(action="return_address_set", object_id=str(case.pk)).exists()
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF9"
    )
    with pytest.raises(Conflict):  # the parcel is on its way: too late to send it elsewhere
        services.set_return_address(actor=w.merchant, number=case.number, remedy_id=remedy.pk, address="别处")


def test_each_return_ends_only_its_own_pause(world):
    from marketguard.complaints.models import CasePause
    from marketguard.complaints.services.work import RETURN_PAUSE

    w = world
    case, first = _agreed_return(w)
    # a second return on the same case (two parcels): its own pause
    second = Remedy.objects.create(
        case=case,
        kind="return_refund",
        source=Remedy.Source.PLATFORM,
        amount_fen=0,
        return_ship_by=first.return_ship_by,
    )
    CasePause.objects.create(case=case, started_at=timezone.now(), reason=RETURN_PAUSE, remedy=second)
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=first.pk)
    assert case.pauses.get(remedy=first).ended_at is not None
    assert case.pauses.get(remedy=second).ended_at is None  # the other parcel still travels
    view = selectors.case_view(w.agent, case.number)
    assert view.clocks["resolution"].state(timezone.now()) == "paused"
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=second.pk)
    view = selectors.case_view(w.agent, case.number)
    assert view.clocks["resolution"].state(timezone.now()) != "paused"
