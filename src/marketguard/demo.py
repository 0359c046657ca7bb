"""Demo accounts: one login per role, linked to demo merchant, lab and buyer records."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from marketguard.catalog.models import Buyer, Merchant
from marketguard.core import services as core
from marketguard.core.models import Role, User
from marketguard.inspections.models import Lab

DEMO_PASSWORD = "mg-demo-2026"

ACCOUNTS = [
    ("admin", Role.ADMIN, "平台管理员 Admin"),
    ("analyst", Role.ANALYST, "数据分析 Analyst"),
    ("agent", Role.AGENT, "客服 Agent"),
    ("arbitrator", Role.ARBITRATOR, "仲裁 Arbitrator"),
    ("inspector", Role.INSPECTOR, "质检 Inspector"),
    ("lab", Role.LAB_STAFF, "检测机构 Lab"),
    ("merchant", Role.MERCHANT_STAFF, "商家 Merchant"),
    ("consumer", Role.CONSUMER, "买家 Consumer"),
]


@transaction.atomic
def ensure_demo_accounts() -> list[tuple[str, str, str]]:
    """Create the demo logins that do not exist yet. Returns (username, password, role label)."""
    lab, _ = Lab.objects.get_or_create(
        external_id="L001",
        defaults={
            "name": "华测检测认证集团 (demo)",
            "cma_number": "CMA 200000000001",
            "cnas_number": "CNAS L0001",
        },
    )
    merchant = Merchant.objects.order_by("external_id").first()
    out = []
    for username, role, name in ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            if role == Role.MERCHANT_STAFF and merchant is None:
                continue
            user = core.create_user(
                actor=None,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                display_name=name,
                # people at work get their urgent alerts by mail too (see var/mail-out/ in the
                # demo); a reserved domain (RFC 2606), so real SMTP mails nobody
                email="" if role == Role.CONSUMER else f"{username}@demo.marketguard.example",
                merchant=merchant if role == Role.MERCHANT_STAFF else None,
                lab=lab if role == Role.LAB_STAFF else None,
                check_password_strength=False,
            )
            if role == Role.ADMIN:
                User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        if role == Role.CONSUMER:
            # the buyer with the most orders from the demo merchant, so both demo logins meet in cases
            buyers = Buyer.objects.filter(user__isnull=True)
            if merchant is not None:
                buyers = buyers.annotate(n=Count("orders", filter=Q(orders__merchant=merchant))).order_by(
                    "-n", "pk"
                )
            buyer = buyers.first()
            if buyer is not None and not Buyer.objects.filter(user=user).exists():
                Buyer.objects.filter(pk=buyer.pk).update(user=user)
        out.append((username, DEMO_PASSWORD, str(Role(role).label)))
    return out
