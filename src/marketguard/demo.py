"""Demo accounts: one login per role, linked to demo merchant, lab and buyer records."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from marketguard.catalog.models import (
    Buyer,
    Merchant,
    NoReasonReturn,
    Order,
    OrderStatus,
    Product,
    ProductStatus,
)
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
            if merchant is not None:
                _fresh_purchase(user, merchant)
        out.append((username, DEMO_PASSWORD, str(Role(role).label)))
    return out


FRESH_ORDER = "DEMO-FRESH-1"


def _fresh_purchase(consumer, merchant) -> None:
    """A parcel from the demo merchant delivered to the demo consumer a few hours ago, near the
    top of the intake form's list: the two demo logins can meet in a case filed now. Written
    through the catalog's own import (as any order is), once; the demo cases leave it alone (they
    use orders delivered before the hour they are filed)."""
    from marketguard.catalog import services as catalog

    buyer = Buyer.objects.filter(user=consumer).first()
    product = (
        Product.objects.filter(merchant=merchant, status=ProductStatus.ACTIVE, store__isnull=False)
        .exclude(category__no_reason_return=NoReasonReturn.EXCLUDED)
        .order_by("external_id")
        .first()
    )
    if buyer is None or product is None or Order.objects.filter(external_id=FRESH_ORDER).exists():
        return
    admin = User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    now = timezone.now()
    price = f"{product.price_fen / 100:.2f}"
    rows = {
        "orders": {
            "external_id": FRESH_ORDER,
            "buyer_external_id": buyer.external_id,
            "store_external_id": product.store.external_id,
            "placed_at": now - timedelta(days=3),
            "paid_at": now - timedelta(days=3),
            "payment_reference": "PAY-DEMO-FRESH-1",
            "paid_amount": price,
            "status": OrderStatus.DELIVERED,
        },
        "order_items": {
            "external_id": f"{FRESH_ORDER}-1",
            "order_external_id": FRESH_ORDER,
            "product_external_id": product.external_id,
            "quantity": 1,
            "unit_price": price,
            "paid_amount": price,
        },
        "shipments": {
            "external_id": f"{FRESH_ORDER}-S",
            "order_external_id": FRESH_ORDER,
            "carrier": "SF",
            "tracking_number": "SF0000DEMO1",
            "shipped_at": now - timedelta(days=2),
            "promised_at": now - timedelta(hours=12),
            "delivered_at": now - timedelta(hours=3),
            "signed_at": now - timedelta(hours=3),
        },
    }
    for kind, row in rows.items():
        result = catalog.upsert_many(actor=admin, kind=kind, rows=[row], source="demo")
        if result.errors:
            raise RuntimeError(f"demo order {kind}: {result.errors[0].message}")
