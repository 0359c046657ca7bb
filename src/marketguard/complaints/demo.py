"""Demo complaints: cases at every stage, made through the services (so every rule applies).

Called by `marketguard demo` once the catalog and the demo accounts exist. Deterministic per seed.
"""

from __future__ import annotations

import random

from django.db.models import Q

from marketguard.catalog.models import Order
from marketguard.complaints import services
from marketguard.complaints.models import Case
from marketguard.core.errors import DomainError
from marketguard.core.models import Role, User

TEXTS = [
    ("complaint", "quality", "收到的保温杯有裂缝，倒水就漏，质量太差了"),
    ("return_refund", "quality", "连衣裙洗一次就严重掉色，申请退货退款"),
    ("exchange", "size_mismatch", "鞋子尺码偏小一码，想换大一号"),
    ("refund_only", "wrong_or_missing_item", "少发了一件，包裹里只有一条裤子"),
    ("complaint", "logistics_delay", "承诺48小时送达，一周了还没到"),
    ("complaint", "false_advertising", "宣传说是纯棉，吊牌上写的是涤纶"),
    ("complaint", "counterfeit", "Serial number on the box does not match, I think this is a fake"),
    ("return_refund", "quality", "The kettle stopped heating after three days"),
    ("complaint", "service_attitude", "客服态度很差，问了三次都不回复"),
    ("complaint", "safety", "充电宝充电时发烫冒烟，差点起火"),
]


SAFETY_AT = (6, 23)


def seed_demo_cases(*, count: int = 60, seed: int = 1) -> int:
    """Create demo cases unless there are some already. Returns how many were made."""
    if Case.objects.exists():
        return 0
    rng = random.Random(seed)
    agent = User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk").first()
    arbitrator = User.objects.filter(role=Role.ARBITRATOR, is_active=True).order_by("pk").first()
    consumer = User.objects.filter(role=Role.CONSUMER, username="consumer").first()
    merchant_staff = User.objects.filter(role=Role.MERCHANT_STAFF, is_active=True).order_by("pk").first()
    if agent is None or merchant_staff is None:
        return 0
    delivered = Order.objects.filter(status__in=["delivered", "completed"]).select_related("buyer")
    own = list(delivered.filter(merchant_id=merchant_staff.merchant_id).order_by("pk")[:count])
    others = list(delivered.filter(~Q(merchant_id=merchant_staff.merchant_id)).order_by("pk")[: count // 2])
    mine = (
        list(
            delivered.filter(buyer__user=consumer, merchant_id=merchant_staff.merchant_id).order_by("pk")[:5]
        )
        if consumer
        else []
    )
    mine_stages = [4, 3, 5, 1, 4]
    own = [o for o in own if o not in mine]
    made = 0
    for i, order in enumerate(mine + own + others):
        # personal-safety cases are rare in real life: two in the demo, the rest rotate
        kind, _problem, text = TEXTS[-1] if i in SAFETY_AT else TEXTS[i % (len(TEXTS) - 1)]
        channel = rng.choice(["app", "web", "hotline", "chat", "email"])
        try:
            if consumer is not None and order.buyer.user_id == consumer.pk:
                intake = services.submit_case(
                    actor=consumer,
                    channel="web",
                    kind=kind,
                    description=text,
                    order_external_id=order.external_id,
                )
            else:
                intake = services.submit_case(
                    actor=agent,
                    channel=channel,
                    kind=kind,
                    description=text,
                    order_external_id=order.external_id,
                    buyer_external_id=order.buyer.external_id,
                )
            made += 1
            stage = mine_stages[i] if i < len(mine) else i % 6
            if order.merchant_id == merchant_staff.merchant_id and stage:
                _advance(
                    intake.case.number,
                    stage=stage,
                    agent=agent,
                    merchant=merchant_staff,
                    arbitrator=arbitrator,
                    consumer=consumer if intake.case.consumer_id else None,
                )
        except DomainError:
            continue
    return made


def _advance(number: str, *, stage: int, agent, merchant, arbitrator, consumer) -> None:
    case = Case.objects.get(number=number)
    if case.status in ("submitted", "acknowledged"):
        if case.owner_id in (None, agent.pk):
            services.forward_to_merchant(
                actor=agent, number=number, message="已转交商家处理，请在24小时内回复。"
            )
        else:
            return
    if stage == 1:
        services.post_message(
            actor=merchant, number=number, body="您好，请提供商品问题部位的照片，我们尽快处理。"
        )
        return
    amount = f"{(case.paid_amount_fen or 1000) / 100:.2f}"
    proposal = services.make_proposal(
        actor=merchant, number=number, remedy="refund", amount=amount, note="同意全额退款"
    )
    if stage == 2:
        return
    if consumer is None:
        # the buyer has no account in the demo: the agent records the buyer's answer by phone
        services.post_message(actor=agent, number=number, body="买家电话确认接受退款方案。")
        return
    if stage in (3, 4):
        services.decide_proposal(actor=consumer, number=number, proposal_id=proposal.pk, accept=True)
        remedy = Case.objects.get(number=number).remedies.get()
        services.execute_remedy(
            actor=merchant, number=number, remedy_id=remedy.pk, payment_reference=f"RF{number[-8:]}"
        )
        if stage == 4:
            services.rate_case(actor=consumer, number=number, score=5, comment="处理很快，满意")
        return
    services.decide_proposal(
        actor=consumer,
        number=number,
        proposal_id=proposal.pk,
        accept=False,
        note="只退款不够，商品有安全隐患",
    )
    services.request_intervention(actor=consumer, number=number, reason="协商未果，请平台介入")
    if arbitrator is not None:
        services.start_review(actor=arbitrator, number=number)
