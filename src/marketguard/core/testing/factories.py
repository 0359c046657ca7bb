"""Small builders for tests: valid marketplace records and users of every role."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from django.utils import timezone

from marketguard.catalog import codes
from marketguard.catalog.models import Buyer, Category, Merchant, Order, OrderItem, Product, Shipment, Store
from marketguard.core.models import Role, User
from marketguard.inspections.models import Lab

_counter = itertools.count(1)
_rng = random.Random(7)


def n() -> int:
    return next(_counter)


def merchant(**kw) -> Merchant:
    i = n()
    defaults = {"external_id": f"TM{i:05d}", "name": f"测试商家{i}有限公司", "uscc": codes.make_uscc(_rng)}
    return Merchant.objects.create(**{**defaults, **kw})


def store(merchant_obj=None, **kw) -> Store:
    merchant_obj = merchant_obj or merchant()
    i = n()
    return Store.objects.create(
        **{"external_id": f"TS{i:05d}", "merchant": merchant_obj, "name": f"店铺{i}", **kw}
    )


def category(parent=None, **kw) -> Category:
    i = n()
    code = kw.pop("external_id", f"TC{i:04d}")
    return Category.objects.create(  # path and depth follow the parent (Category.save)
        **{
            "external_id": code,
            "parent": parent,
            "name_zh": f"类目{i}",
            "name_en": f"Category {i}",
            **kw,
        }
    )


def product(store_obj=None, category_obj=None, **kw) -> Product:
    store_obj = store_obj or store()
    category_obj = category_obj or category()
    i = n()
    return Product.objects.create(
        **{
            "external_id": f"TP{i:06d}",
            "store": store_obj,
            "merchant": store_obj.merchant,
            "category": category_obj,
            "title": f"测试商品{i}",
            "price_fen": 12_900,
            **kw,
        }
    )


def buyer(user=None, **kw) -> Buyer:
    i = n()
    return Buyer.objects.create(
        **{
            "external_id": f"TB{i:06d}",
            "user": user,
            "name": "张三",
            "phone": "13812345678",
            "address": "浙江省杭州市西湖区文三路100号",
            **kw,
        }
    )


def order(buyer_obj=None, product_obj=None, *, paid_fen=12_900, delivered=True, **kw) -> Order:
    buyer_obj = buyer_obj or buyer()
    product_obj = product_obj or product()
    i = n()
    now = timezone.now()
    o = Order.objects.create(
        **{
            "external_id": f"TO{i:08d}",
            "buyer": buyer_obj,
            "store": product_obj.store,
            "merchant": product_obj.merchant,
            "placed_at": now - timedelta(days=5),
            "paid_at": now - timedelta(days=5),
            "payment_reference": f"PAY{i:010d}",
            "paid_amount_fen": paid_fen,
            **kw,
        }
    )
    OrderItem.objects.create(
        external_id=f"{o.external_id}-1",
        order=o,
        product=product_obj,
        quantity=1,
        unit_price_fen=paid_fen,
        paid_amount_fen=paid_fen,
    )
    Shipment.objects.create(
        external_id=f"{o.external_id}-S1",
        order=o,
        carrier="顺丰速运",
        tracking_number=f"SF{i:012d}",
        shipped_at=now - timedelta(days=4),
        promised_at=now - timedelta(days=2),
        delivered_at=now - timedelta(days=3) if delivered else None,
        signed_at=now - timedelta(days=3) if delivered else None,
    )
    return o


def order_item(order_obj: Order, *, title: str, paid_fen: int) -> OrderItem:
    """Another item in an order (of a new product of the order's store)."""
    return OrderItem.objects.create(
        external_id=f"{order_obj.external_id}-{order_obj.items.count() + 1}",
        order=order_obj,
        product=product(store_obj=order_obj.store, title=title),
        quantity=1,
        unit_price_fen=paid_fen,
        paid_amount_fen=paid_fen,
    )


def lab(**kw) -> Lab:
    i = n()
    return Lab.objects.create(**{"external_id": f"TL{i:03d}", "name": f"检测机构{i}", **kw})


def user(role: str = Role.CONSUMER, *, merchant_obj=None, lab_obj=None, **kw) -> User:
    i = n()
    if role == Role.MERCHANT_STAFF and merchant_obj is None:
        merchant_obj = merchant()
    if role == Role.LAB_STAFF and lab_obj is None:
        lab_obj = lab()
    u = User(username=kw.pop("username", f"{role}{i}"), role=role, merchant=merchant_obj, lab=lab_obj, **kw)
    u.set_password("correct horse battery")
    u.save()
    return u
