"""Never more refunded than was paid, for the purchase and not only for one case: a second case on
goods refunded already (or an order the marketplace reports refunded) refunds nothing more, by
agreement, by ruling or by the 72-hour automatic approval."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from marketguard.complaints import services, workflow
from marketguard.complaints.models import Remedy
from marketguard.core.errors import InvalidInput
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _file(w, **kw):
    args = {
        "actor": w.consumer,
        "channel": "web",
        "kind": "refund_only",
        "order_external_id": w.order.external_id,
        "description": "没有收到货，要求退款",
        "amount_claimed": "199.00",
    }
    return services.submit_case(**(args | kw)).case


def _refund(w, case, amount: str, reference: str):
    proposal = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount=amount)
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    remedy = Remedy.objects.get(case=case, kind="refund")
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference=reference
    )


def test_goods_refunded_on_one_case_are_not_approved_again_on_another(world):
    w = world
    first = _file(world)
    _refund(w, first, "199.00", "RF-1")
    second = _file(w, description="商品质量有问题，要求退款", problem_type="quality")
    assert second.status == workflow.AWAITING_MERCHANT
    with pytest.raises(InvalidInput) as refused:
        services.make_proposal(actor=w.merchant, number=second.number, remedy="refund", amount="1.00")
    assert refused.value.code == "REFUND_EXCEEDS_PAYMENT" and refused.value.errors[0].field == "amount"
    assert "¥0.00" in str(refused.value)
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    second.refresh_from_db()
    # the merchant is still recorded silent, but nothing is paid twice: the platform looks at it
    assert second.status == workflow.ESCALATED
    assert not Remedy.objects.filter(case=second).exists()
    assert sum(Remedy.objects.filter(case__order=w.order).values_list("amount_fen", flat=True)) == 19_900


def test_a_part_refunded_on_one_case_leaves_the_rest_for_another(world):
    w = world
    first = _file(w, amount_claimed="50.00")
    _refund(w, first, "50.00", "RF-1")
    second = _file(w, description="商品质量有问题，要求退款", problem_type="quality")
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    second.refresh_from_db()
    assert second.status == workflow.EXECUTING
    assert Remedy.objects.get(case=second).amount_fen == 14_900  # 199 claimed, 149 left


def test_an_order_the_marketplace_reports_refunded_has_nothing_left(world):
    w = world
    w.order.status = "refunded"
    w.order.save(update_fields=["status"])
    case = _file(w)
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        services.sweep()
    case.refresh_from_db()
    assert case.status == workflow.ESCALATED and not Remedy.objects.filter(case=case).exists()


def test_an_items_case_is_held_to_its_order_and_a_whole_order_case_to_every_item(world):
    w = world
    other = factories.order_item(w.order, title="杯盖", paid_fen=5_000)
    w.order.paid_amount_fen = 24_900
    w.order.save(update_fields=["paid_amount_fen"])
    first_item = w.order.items.order_by("pk").first()
    whole = _file(w, amount_claimed="249.00")
    _refund(w, whole, "240.00", "RF-1")  # the whole order, all but ¥9
    lid = _file(
        w,
        item_external_id=other.external_id,
        description="杯盖质量有问题",
        problem_type="quality",
        amount_claimed="50",
    )
    with pytest.raises(InvalidInput) as refused:
        services.make_proposal(actor=w.merchant, number=lid.number, remedy="refund", amount="50.00")
    assert "¥9.00" in str(refused.value)
    _refund(w, lid, "9.00", "RF-2")
    cup = _file(w, item_external_id=first_item.external_id, description="水杯漏水", problem_type="quality")
    with pytest.raises(InvalidInput) as refused:  # the cup's ¥199 were refunded with the order
        services.make_proposal(actor=w.merchant, number=cup.number, remedy="refund", amount="0.01")
    assert "¥0.00" in str(refused.value)
