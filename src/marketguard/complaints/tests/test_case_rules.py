"""Rules a review found broken, each kept by a test: merges only of one person's cases, never
more refunded than paid, appeals after a ruling that resolved the case, intervention when nothing
is agreed, the merchant's timers paused while the platform waits on the consumer, SLA warnings
across weekends, marks and violations once per deadline, first-contact ownership on every agent
step, webhooks without people's words, and records that cannot be deleted in bulk."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from marketguard.complaints import services, workflow
from marketguard.complaints.models import (
    Case,
    CaseMessage,
    ComplaintRules,
    MerchantViolation,
    Remedy,
    SlaMark,
    SlaPolicyRow,
)
from marketguard.complaints.sla import SlaPolicy
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition
from marketguard.core.models import OutboxEvent, Role
from marketguard.core.testing import factories

from .test_services import _agreed_return, _file

pytestmark = pytest.mark.django_db


def _ruled(w, *, outcome="consumer_upheld", remedy="refund", amount="199.00", **kw):
    case = _file(w, **kw).case
    services.request_intervention(actor=w.merchant, number=case.number, reason="买家要求不合理")
    services.start_review(actor=w.arbitrator, number=case.number)
    _rule(w, case, outcome, remedy, amount, reasons="见证据")
    case.refresh_from_db()
    return case


def _rule(w, case, outcome, remedy, amount, *, reasons="维持"):
    return services.record_ruling(
        actor=w.arbitrator, number=case.number, outcome=outcome, reasons=reasons, remedy=remedy, amount=amount
    )


# --- merges -----------------------------------------------------------------------------------------


def test_two_consumers_cases_are_never_merged(world):
    w = world
    mine = _file(w, kind="complaint", description="鞋子开胶").case
    stranger = factories.user(Role.CONSUMER)
    theirs_order = factories.order(buyer_obj=factories.buyer(user=stranger), paid_fen=5_000)
    theirs = services.submit_case(
        actor=stranger,
        channel="web",
        kind="complaint",
        order_external_id=theirs_order.external_id,
        description="私密信息：身份证 110101199003071234",
    ).case
    with pytest.raises(InvalidInput) as err:
        services.merge_cases(actor=w.agent, primary=mine.number, duplicate=theirs.number)
    assert err.value.errors[0].field == "duplicate"
    assert (
        CaseMessage.objects.filter(case=theirs).exists() and not Case.objects.get(pk=theirs.pk).merged_into_id
    )
    # the same consumer's other order is not a duplicate either
    other_order = factories.order(buyer_obj=w.buyer, paid_fen=3_000)
    other = _file(
        w,
        kind="complaint",
        order_external_id=other_order.external_id,
        description="鞋子开胶",
        amount_claimed=None,
    ).case
    with pytest.raises(InvalidInput):
        services.merge_cases(actor=w.agent, primary=mine.number, duplicate=other.number)


def test_a_case_past_negotiation_is_not_merged_away(world):
    w = world
    case, _remedy = _agreed_return(w)  # executing, a return pending
    again = _file(w, kind="complaint", description="还是漏水").case
    with pytest.raises(InvalidTransition) as err:
        services.merge_cases(actor=w.agent, primary=again.number, duplicate=case.number)
    assert err.value.code == "NOT_MERGEABLE"
    merged = services.merge_cases(actor=w.agent2, primary=case.number, duplicate=again.number)
    again.refresh_from_db()
    assert merged.number == case.number and again.status == workflow.MERGED
    assert again.retain_until is not None  # kept like any finished case
    assert OutboxEvent.objects.filter(event_type="case.closed", payload__number=again.number).exists()


# --- money ------------------------------------------------------------------------------------------


def test_a_remedy_replaced_by_a_new_ruling_cannot_be_carried_out(world):
    w = world
    case = _ruled(w)
    first = Remedy.objects.get(case=case)
    services.appeal_ruling(actor=w.merchant, number=case.number, reason="金额不对")
    _rule(w, case, "consumer_upheld", "refund", "199.00", reasons="维持")
    with pytest.raises(InvalidTransition) as err:
        services.execute_remedy(
            actor=w.merchant, number=case.number, remedy_id=first.pk, payment_reference="RF1"
        )
    assert err.value.code == "REMEDY_NOT_PENDING"
    second = Remedy.objects.get(case=case, status=Remedy.Status.PENDING)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=second.pk, payment_reference="RF2"
    )
    paid = sum(
        Remedy.objects.filter(case=case, status=Remedy.Status.DONE).values_list("amount_fen", flat=True)
    )
    assert paid == 19_900


def test_automatic_approval_never_refunds_more_than_was_paid(world):
    w = world
    case = _file(w, kind="refund_only", description="未收到货", amount_claimed="199.00").case
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    refund = Remedy.objects.get(case=case)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=refund.pk, payment_reference="RF1"
    )
    services.reopen_case(actor=w.consumer, number=case.number, reason="还是没收到")
    services.forward_to_merchant(actor=w.agent, number=case.number)
    case.refresh_from_db()
    assert case.status == workflow.AWAITING_MERCHANT
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=2), tick=False):
        services.sweep()
    case.refresh_from_db()
    # everything was refunded already: no second refund, the platform looks at it instead
    assert Remedy.objects.filter(case=case).count() == 1
    assert case.status == workflow.ESCALATED
    assert case.events.get(type="intervention_requested").data["reason"] == "nothing_left_to_refund"


def test_a_ruling_cannot_order_more_refund_than_is_left(world):
    w = world
    case = _file(w, kind="refund_only", description="未收到货", amount_claimed="150.00").case
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="150.00")
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    remedy = Remedy.objects.get(case=case)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF1"
    )
    services.reopen_case(actor=w.consumer, number=case.number, reason="少退了")
    services.forward_to_merchant(actor=w.agent, number=case.number)
    services.request_intervention(actor=w.merchant, number=case.number, reason="已退款")
    services.start_review(actor=w.arbitrator, number=case.number)
    with pytest.raises(InvalidInput) as err:
        _rule(w, case, "consumer_upheld", "refund", "60.00", reasons="x")
    assert err.value.code == "REFUND_EXCEEDS_PAYMENT" and "¥49.00" in err.value.message


# --- appeal and intervention -------------------------------------------------------------------------


def test_the_losing_consumer_may_appeal_a_ruling_that_resolved_the_case(world):
    w = world
    case = _ruled(w, outcome="merchant_upheld", remedy="", amount=None)
    assert case.status == workflow.RESOLVED
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        services.appeal_ruling(actor=w.consumer, number=case.number, reason="证据没有被考虑")
        case.refresh_from_db()
        assert case.status == workflow.PLATFORM_REVIEW and case.resolved_at is None
        # the days it stood resolved do not count against the resolution clock
        assert case.pauses.filter(reason="resolved").exists()
        assert case.resolution_due > case.created_at + timedelta(hours=48)


def test_an_appeal_after_the_ruling_was_carried_out_and_after_seven_days(world):
    w = world
    case = _ruled(w)
    remedy = Remedy.objects.get(case=case)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF1"
    )
    services.rate_case(actor=w.consumer, number=case.number, score=2)
    case.refresh_from_db()
    assert case.status == workflow.CLOSED
    services.appeal_ruling(actor=w.merchant, number=case.number, reason="金额过高")
    case.refresh_from_db()
    assert case.status == workflow.PLATFORM_REVIEW and case.closed_at is None and case.retain_until is None
    assert OutboxEvent.objects.filter(event_type="case.reopened", payload__number=case.number).exists()
    another = factories.order(buyer_obj=w.buyer, product_obj=w.order.items.first().product, paid_fen=19_900)
    late = _ruled(w, outcome="merchant_upheld", remedy="", amount=None, order_external_id=another.external_id)
    with (
        time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False),
        pytest.raises(InvalidTransition) as err,
    ):
        services.appeal_ruling(actor=w.consumer, number=late.number, reason="太晚了")
    assert err.value.code == "APPEAL_WINDOW_CLOSED"


def test_intervention_when_nothing_is_agreed_24_hours_on_even_if_the_merchant_wrote(world):
    w = world
    case = _file(w).case
    services.post_message(actor=w.merchant, number=case.number, body="我们看一下")
    with pytest.raises(InvalidTransition) as err:
        services.request_intervention(actor=w.consumer, number=case.number, reason="没有进展")
    assert err.value.code == "INTERVENTION_TOO_EARLY"
    with (
        time_machine.travel(timezone.now() + timedelta(days=16), tick=False),
        pytest.raises(InvalidTransition) as err,
    ):
        services.request_intervention(actor=w.consumer, number=case.number, reason="没有进展")
    assert err.value.code == "INTERVENTION_WINDOW_CLOSED"  # says the window closed, not "too early"
    with time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1), tick=False):
        services.request_intervention(actor=w.consumer, number=case.number, reason="没有进展")
    case.refresh_from_db()
    assert case.status == workflow.ESCALATED
    event = OutboxEvent.objects.filter(event_type="case.escalated", payload__number=case.number).get()
    assert "reason" not in event.payload and "没有进展" not in str(event.payload)  # no people's words
    assert event.payload["by"] == "consumer"


def test_automatic_approval_waits_while_the_platform_waits_on_the_consumer(world):
    w = world
    case = _file(w, kind="refund_only", description="未收到货").case
    due = case.auto_approve_at
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        services.request_materials(
            actor=w.agent, number=case.number, items=["tracking_screenshot"], reason="需要物流截图"
        )
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        services.sweep()
        case.refresh_from_db()
        assert (
            case.status == workflow.AWAITING_MERCHANT
            and not MerchantViolation.objects.filter(case=case).exists()
        )
        services.post_message(actor=w.consumer, number=case.number, body="截图见附件")
    case.refresh_from_db()
    assert abs(case.auto_approve_at - (due + timedelta(hours=72))) < timedelta(seconds=1)  # moved by the wait


def test_a_no_reason_return_is_a_return_never_a_refund_with_the_goods_kept(world):
    w = world
    with pytest.raises(InvalidInput) as refused:
        _file(w, kind="refund_only", problem_type="no_reason_return_7day", description="不想要了")
    assert (
        refused.value.errors[0].field == "kind" and refused.value.code == "NO_REASON_RETURN_SENDS_GOODS_BACK"
    )
    # read from the text of a refund-only request: the merchant answers it, no automatic refund
    case = _file(w, kind="refund_only", description="七天无理由退货，不想要了").case
    assert case.problem_type == "no_reason_return_7day" and case.auto_approve_at is None
    with time_machine.travel(timezone.now() + timedelta(hours=73), tick=False):
        assert services.sweep().auto_approved == 0
    case.refresh_from_db()
    assert case.status == workflow.AWAITING_MERCHANT and not case.remedies.exists()


# --- the sweep ---------------------------------------------------------------------------------------


def _weekday_desk() -> None:
    """A policy on business hours whose warning comes more than a day before its deadline."""
    policy = SlaPolicy(
        name="weekday_desk",
        kinds=frozenset({"complaint"}),
        first_response=timedelta(hours=16),
        resolution=timedelta(hours=40),
        business_hours=True,
        warn_before=0.5,
        order=5,
    )
    SlaPolicyRow.objects.create(name=policy.name, data=policy.to_dict(), order=5)
    services.clear_cache()


def test_a_warning_long_before_a_deadline_after_the_weekend_is_given_on_time(world):
    w = world
    _weekday_desk()
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(friday, tick=False):
        case = _file(w, kind="complaint", description="包装破损").case
    assert case.sla_policy == "weekday_desk"
    view = services.policy_for(case).clock("first_response", case.created_at)
    warn_at = view.warning_at(friday)
    assert case.sla_warn_at == warn_at and case.first_response_due - warn_at > timedelta(days=1)
    with time_machine.travel(warn_at - timedelta(minutes=1), tick=False):
        assert services.sweep().warnings == 0
    with time_machine.travel(warn_at + timedelta(minutes=1), tick=False):
        assert services.sweep().warnings == 1  # not on Sunday, a day before the deadline
        case.refresh_from_db()
        assert case.sla_warn_at is None or case.sla_warn_at > timezone.now()  # not looked at every minute
        assert services.sweep().warnings == 0


def test_a_case_opened_before_the_stored_warning_gets_it_on_time_after_the_migration(world):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("marketguard.complaints.migrations.0019_sla_warning_of_open_cases")
    w = world
    _weekday_desk()
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(friday, tick=False):
        case = _file(w, kind="complaint", description="包装破损").case
        closed = _file(w, kind="complaint", description="客服态度差").case
        services.withdraw_case(actor=w.consumer, number=closed.number, reason="已解决")
    Case.objects.filter(pk__in=[case.pk, closed.pk]).update(sla_warn_at=None)  # as before the field
    warn_at = services.policy_for(case).clock("first_response", case.created_at).warning_at(friday)
    with time_machine.travel(friday + timedelta(hours=1), tick=False):
        migration.sweep_open_cases_once(apps, None)
        closed.refresh_from_db()
        assert closed.sla_warn_at is None  # finished cases are left alone
        services.sweep()
        case.refresh_from_db()
        assert case.sla_warn_at == warn_at  # the sweep stored the real next warning
    with time_machine.travel(warn_at + timedelta(minutes=1), tick=False):
        assert services.sweep().warnings == 1  # on Friday evening's business time, not on Sunday


def test_a_second_ruling_not_carried_out_is_a_second_violation(world):
    w = world
    case = _ruled(w)
    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        services.sweep()
        services.appeal_ruling(actor=w.consumer, number=case.number, reason="商家仍未退款")
        _rule(w, case, "consumer_upheld", "refund", "199.00", reasons="维持")
    with time_machine.travel(timezone.now() + timedelta(hours=50), tick=False):
        services.sweep()
        services.sweep()  # idempotent
    assert MerchantViolation.objects.filter(case=case, kind="ruling_not_executed").count() == 2
    assert SlaMark.objects.filter(case=case, target="execution", stage="breached").count() == 2


# --- ownership, retention -----------------------------------------------------------------------------


def test_another_agent_cannot_carry_out_the_remedy_of_a_case_someone_owns(world):
    w = world
    case, remedy = _agreed_return(w)
    services.take_case(actor=w.agent, number=case.number)
    for step in (
        lambda a: services.execute_remedy(
            actor=a, number=case.number, remedy_id=remedy.pk, payment_reference="R"
        ),
        lambda a: services.record_return_received(actor=a, number=case.number, remedy_id=remedy.pk),
        lambda a: services.set_return_address(
            actor=a, number=case.number, remedy_id=remedy.pk, address="别处"
        ),
    ):
        with pytest.raises(Conflict) as err:
            step(w.agent2)
        assert err.value.code == "OWNED_BY_ANOTHER_AGENT"
    remedy.refresh_from_db()
    assert remedy.status == Remedy.Status.PENDING and remedy.received_at is None


def test_case_records_cannot_be_deleted_in_bulk_and_are_kept_three_years_at_least(world):
    w = world
    case = _file(w, kind="complaint", description="鞋子开胶").case
    with pytest.raises(PermissionError):
        CaseMessage.objects.filter(case=case).delete()
    with pytest.raises(PermissionError):
        Case.objects.filter(pk=case.pk).delete()
    assert CaseMessage.objects.filter(case=case).exists()
    rules = ComplaintRules.objects.get(id=1)
    rules.retention_years = 0
    with pytest.raises(ValidationError) as err:
        rules.full_clean()
    assert "retention_years" in err.value.message_dict
    services.withdraw_case(actor=w.consumer, number=case.number, reason="已解决")
    case.refresh_from_db()
    closed = timezone.localdate(case.closed_at)  # kept 3 years from the day it ended
    kept = case.retain_until  # (a case ended on 29 February is kept to the 28th)
    assert (kept.year, kept.month, kept.day in (closed.day, 28)) == (closed.year + 3, closed.month, True)
    assert OutboxEvent.objects.filter(event_type="case.closed", payload__status="withdrawn").exists()


def test_a_refused_move_is_named_in_words_not_codes(world):
    w = world
    case = _file(w, kind="complaint", description="鞋子开胶").case
    with pytest.raises(InvalidTransition) as err:
        services.appeal_ruling(actor=w.consumer, number=case.number, reason="x")
    # no ruling yet: no appeal deadline either
    assert err.value.code == "APPEAL_WINDOW_CLOSED"
    with translation.override("en"), pytest.raises(InvalidTransition) as err:
        services.start_review(actor=w.arbitrator, number=case.number)
    assert "start the review" in err.value.message and "start_review" not in err.value.message
    with translation.override("zh-hans"), pytest.raises(InvalidTransition) as err:
        services.start_review(actor=w.arbitrator, number=case.number)
    assert "开始复核" in err.value.message


def test_goods_returned_not_intact_go_to_the_platform_and_no_refund_falls_due(world):
    w = world
    case, remedy = _agreed_return(w)
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF1"
    )
    with pytest.raises(InvalidInput) as err:  # say what is wrong
        services.record_return_received(
            actor=w.merchant, number=case.number, remedy_id=remedy.pk, intact=False
        )
    assert err.value.errors[0].field == "note"
    services.record_return_received(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, intact=False, note="杯子已摔碎，配件缺失"
    )
    case.refresh_from_db()
    remedy.refresh_from_db()
    assert case.status == workflow.ESCALATED and case.execution_due is None
    assert remedy.received_at is not None and remedy.due_at is None and remedy.status == Remedy.Status.PENDING
    assert not case.pauses.filter(reason="return", ended_at__isnull=True).exists()
    assert case.events.filter(type="return_disputed").exists()
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        services.sweep()  # no refund overdue, no violation while the platform decides
    assert not MerchantViolation.objects.filter(case=case).exists()
    services.start_review(actor=w.arbitrator, number=case.number)
    with pytest.raises(InvalidInput) as err:  # the goods are back already: no second return
        _rule(w, case, "consumer_upheld", "return_refund", "199.00", reasons="x")
    assert err.value.errors[0].field == "remedy"
    _rule(w, case, "partially_upheld", "refund", "120.00", reasons="部分损坏")
    remedy.refresh_from_db()
    assert remedy.status == Remedy.Status.SUPERSEDED
    assert Remedy.objects.get(case=case, status=Remedy.Status.PENDING).amount_fen == 12_000


def test_a_repair_is_scheduled_then_done_and_an_overdue_one_is_escalated(world):
    w = world
    case = _file(w, kind="repair", description="开机没反应，需要维修", amount_claimed=None).case
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="repair")
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    remedy = Remedy.objects.get(case=case)
    today = timezone.localdate()
    with pytest.raises(InvalidInput) as err:  # 三包: at most 15 days
        services.execute_remedy(
            actor=w.merchant, number=case.number, remedy_id=remedy.pk, repair_due=today + timedelta(days=20)
        )
    assert err.value.errors[0].field == "repair_due"
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, repair_due=today + timedelta(days=5)
    )
    remedy.refresh_from_db()
    case.refresh_from_db()
    # a promise, not the repair: still to do, due at the end of that day
    assert remedy.status == Remedy.Status.PENDING and remedy.repair_due == today + timedelta(days=5)
    assert case.status == workflow.EXECUTING and case.execution_due == remedy.due_at
    assert timezone.localtime(remedy.due_at).date() == today + timedelta(days=6)
    with time_machine.travel(remedy.due_at + timedelta(minutes=1), tick=False):
        services.sweep()
    assert SlaMark.objects.filter(case=case, target="execution", stage="breached").exists()
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, carrier="顺丰", tracking_number="SF77"
    )
    remedy.refresh_from_db()
    case.refresh_from_db()
    assert remedy.status == Remedy.Status.DONE and remedy.tracking_number == "SF77"
    assert case.status == workflow.RESOLVED


def test_an_agent_finds_the_caller_by_phone_on_a_hotline_case(world):
    w = world
    w.buyer.phone = "138-1234-56 78"  # written any way at all
    w.buyer.save(update_fields=["phone"])
    w.buyer.refresh_from_db()
    assert w.buyer.phone_key == "13812345678"
    hotline = {"channel": "hotline", "kind": "complaint", "description": "来电投诉：快递员态度很差"}
    case = services.submit_case(actor=w.agent, buyer_phone="+86 138 1234 5678", **hotline).case
    assert case.buyer == w.buyer and case.consumer == w.consumer and case.contact_email == "buyer@example.com"
    with pytest.raises(InvalidInput) as err:
        services.submit_case(actor=w.agent, buyer_phone="13900000000", **hotline)
    assert err.value.errors[0].field == "buyer_phone"
    factories.buyer(phone="13812345678")  # two buyers share the number: the agent must say which
    with pytest.raises(InvalidInput) as err:
        services.submit_case(actor=w.agent, buyer_phone="13812345678", **hotline)
    assert err.value.errors[0].field == "buyer_phone" and err.value.code == "SEVERAL_BUYERS"
    # a consumer cannot look anybody up: the case is their own whatever they send
    mine = services.submit_case(
        actor=w.consumer, buyer_phone="13812345678", **{**hotline, "channel": "web"}
    ).case
    assert mine.buyer == w.buyer


def test_the_sweep_does_not_change_a_case_under_the_peoples_feet(world):
    w = world
    case, remedy = _agreed_return(w)
    case.refresh_from_db()
    seen = case.version
    start = timezone.now() + timedelta(hours=25)
    for minute in range(4):  # the goods travel back: the sweep looks at the case every minute
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            services.sweep()
    case.refresh_from_db()
    assert case.version == seen
    services.record_return_shipped(
        actor=w.consumer,
        number=case.number,
        remedy_id=remedy.pk,
        carrier="SF",
        tracking_number="SF1",
        version=seen,
    )


def test_the_wait_on_the_consumer_moves_the_intervention_window_too(world):
    w = world
    case = _file(w).case
    allowed, deadline = case.intervention_allowed_at, case.intervention_deadline
    services.request_materials(
        actor=w.agent, number=case.number, items=["defect_photos"], reason="照片不清楚"
    )
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        services.post_message(actor=w.consumer, number=case.number, body="已补拍")
    case.refresh_from_db()
    assert abs(case.intervention_allowed_at - allowed - timedelta(days=3)) < timedelta(seconds=2)
    assert abs(case.intervention_deadline - deadline - timedelta(days=3)) < timedelta(seconds=2)


def test_a_note_on_goods_received_intact_is_refused_not_dropped(world):
    w = world
    case, remedy = _agreed_return(w)
    with pytest.raises(InvalidInput) as err:
        services.record_return_received(
            actor=w.merchant, number=case.number, remedy_id=remedy.pk, note="鞋盒压坏"
        )
    assert err.value.errors[0].field == "note"
    remedy.refresh_from_db()
    assert remedy.received_at is None


def test_a_no_reason_return_read_from_the_text_is_checked_and_the_check_shown(world):
    w = world
    shipment = w.order.shipments.get()
    shipment.signed_at = timezone.now() - timedelta(days=20)
    shipment.save()
    case = _file(w, kind="return_refund", description="不想要了，申请七天无理由退货").case
    assert case.problem_type == "no_reason_return_7day"  # read from the text; not refused
    assert case.triage["no_reason_return"]["eligible"] is False
    assert "WINDOW_EXPIRED" in case.triage["no_reason_return"]["reasons"]
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w.agent)
    page = client.get(reverse("complaints:detail", args=[case.number])).content.decode()
    assert "7-day no-reason return not possible: the 7 days after signing for it have passed" in page


def test_one_rule_says_who_is_the_same_person_for_duplicates_and_merges(world):
    w = world
    family = factories.buyer(email="buyer@example.com")  # another buyer, the same family address
    family_order = factories.order(buyer_obj=family, paid_fen=5_000)
    first = services.submit_case(
        actor=w.agent,
        channel="hotline",
        kind="complaint",
        order_external_id=family_order.external_id,
        description="鞋子开胶",
    )
    assert first.case.buyer == family
    # an e-mail case with no buyer: a duplicate only of other cases that have no buyer either
    by_mail = services.submit_case(
        actor=None,
        channel="email",
        kind="complaint",
        description="快递太慢",
        contact_email="Someone@Example.com",
    )
    again = services.submit_case(
        actor=None,
        channel="email",
        kind="complaint",
        description="快递太慢",
        contact_email="someone@example.com",
    )
    assert by_mail.duplicate_of is None and again.duplicate_of == by_mail.case
    services.merge_cases(actor=w.agent, primary=by_mail.case.number, duplicate=again.case.number)
    mine = _file(w, kind="complaint", description="快递太慢", amount_claimed=None, order_external_id=None)
    assert mine.duplicate_of is None  # the consumer's own case is not the stranger's e-mail case
    with pytest.raises(InvalidInput):
        services.merge_cases(actor=w.agent, primary=mine.case.number, duplicate=by_mail.case.number)


def test_only_who_filed_the_case_adds_its_files_without_owning_it(world):
    w = world
    case = _file(w, kind="complaint", description="鞋子开胶").case
    services.take_case(actor=w.agent, number=case.number)
    with pytest.raises(Conflict):  # the intake flag is not a way round another agent's ownership
        services.add_evidence(
            actor=w.agent2, number=case.number, filename="n.txt", data=b"notes", with_intake=True
        )
