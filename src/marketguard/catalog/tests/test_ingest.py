"""The upsert engine behind the API, imports and the seeder."""

import pytest

from marketguard.catalog import services
from marketguard.catalog.models import Category, Merchant, Order, Product
from marketguard.core.errors import InvalidInput, PermissionDenied
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

USCC_1 = "91310000MA1FL1MMXX"  # replaced below by generated valid codes


@pytest.fixture
def codes():
    import random

    from marketguard.catalog.codes import make_uscc

    rng = random.Random(3)
    return [make_uscc(rng) for _ in range(5)]


TEXTILE_TEMPLATE = [
    {
        "key": "fibre_composition",
        "label_zh": "纤维成分",
        "label_en": "Fibre composition",
        "type": "text",
        "required": True,
    },
    {
        "key": "safety_class",
        "label_zh": "安全类别",
        "label_en": "Safety class",
        "type": "enum",
        "required": True,
        "choices": ["A", "B", "C"],
    },
]


def _tree():
    services.upsert_many(
        actor=None,
        kind="categories",
        rows=[
            {
                "external_id": "C02",
                "parent_external_id": "C01",
                "name_zh": "童装",
                "attribute_template": [
                    {
                        "key": "age_range",
                        "label_zh": "适用年龄",
                        "label_en": "Age",
                        "type": "text",
                        "required": False,
                    }
                ],
            },
            {
                "external_id": "C01",
                "name_zh": "服装",
                "risk_level": "medium",
                "attribute_template": TEXTILE_TEMPLATE,
            },
        ],
    )


def test_upsert_is_idempotent_and_updates_in_place(codes):
    rows = [{"external_id": f"M{i}", "name": f"商家{i}", "uscc": codes[i]} for i in range(3)]
    first = services.upsert_many(actor=None, kind="merchants", rows=rows)
    assert (first.created, first.updated, first.failed) == (3, 0, 0)
    rows[1]["name"] = "改名后的商家"
    second = services.upsert_many(actor=None, kind="merchants", rows=rows)
    assert (second.created, second.updated, second.failed) == (0, 3, 0)
    assert Merchant.objects.count() == 3
    assert Merchant.objects.get(external_id="M1").name == "改名后的商家"


def test_bad_rows_are_reported_with_row_and_field_and_good_rows_written(codes):
    rows = [
        {"external_id": "M1", "name": "好商家", "uscc": codes[0]},
        {
            "external_id": "M2",
            "name": "坏代码",
            "uscc": codes[1][:-1] + ("0" if codes[1][-1] != "0" else "1"),
        },
        {"external_id": "M3", "name": "", "uscc": codes[2]},
        {"external_id": "M4", "name": "状态错", "uscc": codes[3], "status": "frozen"},
        {"external_id": "M1", "name": "重复行", "uscc": codes[4]},
    ]
    result = services.upsert_many(actor=None, kind="merchants", rows=rows)
    assert result.created == 1
    by_row = {(e.row, e.field) for e in result.errors}
    assert by_row == {(2, "uscc"), (3, "name"), (4, "status"), (5, "external_id")}
    assert list(Merchant.objects.values_list("external_id", flat=True)) == ["M1"]


def test_a_row_refused_by_the_database_is_isolated(codes):
    services.upsert_many(
        actor=None, kind="merchants", rows=[{"external_id": "M1", "name": "甲", "uscc": codes[0]}]
    )
    result = services.upsert_many(
        actor=None,
        kind="merchants",
        rows=[
            {"external_id": "M2", "name": "乙", "uscc": codes[1]},
            {"external_id": "M3", "name": "丙 (same code as 甲)", "uscc": codes[0]},
            {"external_id": "M4", "name": "丁", "uscc": codes[2]},
        ],
    )
    assert result.created == 2
    assert [(e.row, e.field) for e in result.errors] == [(2, "uscc")]
    assert set(Merchant.objects.values_list("external_id", flat=True)) == {"M1", "M2", "M4"}


def test_references_are_resolved_by_external_id_and_unknown_ones_reported(codes):
    services.upsert_many(
        actor=None, kind="merchants", rows=[{"external_id": "M1", "name": "甲", "uscc": codes[0]}]
    )
    result = services.upsert_many(
        actor=None,
        kind="stores",
        rows=[
            {"external_id": "S1", "merchant_external_id": "M1", "name": "甲店"},
            {"external_id": "S2", "merchant_external_id": "M404", "name": "无主店"},
        ],
    )
    assert result.created == 1
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "merchant_external_id", "unknown merchant 'M404'")
    ]


def test_category_tree_parents_first_and_paths(codes):
    _tree()
    child = Category.objects.get(external_id="C02")
    assert child.parent.external_id == "C01"
    assert child.path == "/C01/C02/" and child.depth == 1


def test_product_attributes_checked_against_inherited_template(codes):
    _tree()
    services.upsert_many(
        actor=None, kind="merchants", rows=[{"external_id": "M1", "name": "甲", "uscc": codes[0]}]
    )
    services.upsert_many(
        actor=None, kind="stores", rows=[{"external_id": "S1", "merchant_external_id": "M1", "name": "店"}]
    )
    base = {"store_external_id": "S1", "category_external_id": "C02", "title": "婴儿连体衣", "price": "89.00"}
    result = services.upsert_many(
        actor=None,
        kind="products",
        rows=[
            {
                **base,
                "external_id": "P1",
                "attributes": {"fibre_composition": "棉100%", "safety_class": "A", "age_range": "0-12月"},
            },
            {**base, "external_id": "P2", "attributes": {"fibre_composition": "棉100%", "safety_class": "D"}},
            {**base, "external_id": "P3", "attributes": {"safety_class": "A"}},
            {
                **base,
                "external_id": "P4",
                "attributes": {"fibre_composition": "棉", "safety_class": "A"},
                "price": "12.345",
            },
        ],
    )
    assert result.created == 1
    assert {(e.row, e.field) for e in result.errors} == {
        (2, "attributes.safety_class"),
        (3, "attributes.fibre_composition"),
        (4, "price"),
    }
    product = Product.objects.get(external_id="P1")
    assert product.merchant.external_id == "M1" and product.price_fen == 8900


def test_order_amount_rules(codes):
    o = factories.order()
    result = services.upsert_many(
        actor=None,
        kind="order_items",
        rows=[
            {
                "external_id": "X-1",
                "order_external_id": o.external_id,
                "product_external_id": o.items.first().product.external_id,
                "quantity": 2,
                "unit_price": "10.00",
                "paid_amount": "25.00",
            },
        ],
    )
    assert [(e.field, e.message) for e in result.errors] == [
        ("paid_amount", "paid more than quantity × unit price")
    ]
    result = services.upsert_many(
        actor=None,
        kind="orders",
        rows=[
            {
                "external_id": "O-NEW",
                "buyer_external_id": o.buyer.external_id,
                "store_external_id": o.store.external_id,
                "placed_at": "2026-11-01T10:00:00+08:00",
                "paid_at": "2026-11-01T09:00:00+08:00",
                "paid_amount": "10.00",
            },
        ],
    )
    assert [e.field for e in result.errors] == ["paid_at"]
    assert not Order.objects.filter(external_id="O-NEW").exists()


def test_bulk_import_is_audited_once_per_chunk_and_single_upsert_with_before_after(codes):
    services.upsert_many(
        actor=None,
        kind="merchants",
        rows=[{"external_id": f"M{i}", "name": "x", "uscc": codes[i]} for i in range(3)],
    )
    entries = AuditEntry.objects.filter(object_type="catalog.merchant")
    assert entries.count() == 1 and entries.get().after["created"] == 3
    admin = factories.user(Role.ADMIN)
    created, _ = services.upsert_one(
        actor=admin, kind="merchants", external_id="M1", data={"name": "新名字", "uscc": codes[1]}
    )
    assert created is False
    last = AuditEntry.objects.filter(object_type="catalog.merchant").last()
    assert (last.action, last.before, last.after, last.actor) == (
        "upserted",
        {"name": "x"},
        {"name": "新名字"},
        admin,
    )


def test_only_admins_may_write_the_catalog(codes):
    for role in (Role.CONSUMER, Role.MERCHANT_STAFF, Role.AGENT, Role.INSPECTOR):
        with pytest.raises(PermissionDenied):
            services.upsert_many(actor=factories.user(role), kind="merchants", rows=[])


def test_unknown_kind_is_refused():
    with pytest.raises(InvalidInput) as err:
        services.upsert_many(actor=None, kind="widgets", rows=[])
    assert err.value.errors[0].field == "kind"


def test_on_time_delivery_share_counts_only_what_the_actor_sees():
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(days=30)
    on_time = factories.order()
    late = factories.order()
    shipment = late.shipments.get()
    shipment.delivered_at = shipment.promised_at + timedelta(hours=5)
    shipment.save()
    assert services.on_time_delivery(factories.user(Role.ADMIN), since=since) == 0.5
    staff = factories.user(Role.MERCHANT_STAFF, merchant_obj=on_time.merchant)
    assert services.on_time_delivery(staff, since=since) == 1.0
    assert services.on_time_delivery(factories.user(Role.MERCHANT_STAFF), since=since) is None


def test_a_store_feed_without_the_return_address_keeps_the_one_on_file(codes):
    from marketguard.catalog.models import Store

    services.upsert_many(
        actor=None, kind="merchants", rows=[{"external_id": "M1", "name": "甲", "uscc": codes[0]}]
    )
    services.upsert_many(
        actor=None,
        kind="stores",
        rows=[
            {
                "external_id": "S1",
                "merchant_external_id": "M1",
                "name": "甲店",
                "return_address": "杭州市退货仓",
            }
        ],
    )
    # an older feed (no such column), and a mixed batch: the address stays, the name changes
    services.upsert_many(
        actor=None,
        kind="stores",
        rows=[
            {"external_id": "S1", "merchant_external_id": "M1", "name": "甲店新名"},
            {
                "external_id": "S2",
                "merchant_external_id": "M1",
                "name": "乙店",
                "return_address": "宁波市退货仓",
            },
            {"external_id": "S3", "merchant_external_id": "M1", "name": "丙店"},
        ],
    )
    stores = {s.external_id: (s.name, s.return_address) for s in Store.objects.all()}
    assert stores == {"S1": ("甲店新名", "杭州市退货仓"), "S2": ("乙店", "宁波市退货仓"), "S3": ("丙店", "")}


def test_a_buyer_feed_keeps_the_phone_findable_however_it_is_written():
    from marketguard.catalog.models import Buyer

    services.upsert_many(
        actor=None, kind="buyers", rows=[{"external_id": "B1", "name": "王五", "phone": "+86 139-0000 1111"}]
    )
    assert Buyer.objects.get(external_id="B1").phone_key == "13900001111"
    services.upsert_many(
        actor=None, kind="buyers", rows=[{"external_id": "B1", "name": "王五", "phone": "13900002222"}]
    )
    assert Buyer.objects.get(external_id="B1").phone_key == "13900002222"


def test_an_order_in_several_parcels_names_what_each_carried_and_items_carry_the_art_7_confirmation(tmp_path):
    """For the 7-day no-reason return: which parcel brought which item (the window runs from that
    parcel's signing), and whether the buyer confirmed at purchase that the item is excluded."""
    o = factories.order()
    item = o.items.get()
    path = tmp_path / "shipments.csv"
    path.write_text(
        "external_id,order_external_id,carrier,tracking_number,signed_at,item_external_ids\n"
        f'P2,{o.external_id},顺丰速运,SF2,2026-11-02T10:00:00+08:00,"[""{item.external_id}""]"\n'
        f"P3,{o.external_id},顺丰速运,SF3,2026-11-03T10:00:00+08:00,\n",
        encoding="utf-8",
    )
    result = services.import_file(actor=factories.user(Role.ADMIN), kind="shipments", path=path)
    assert result.errors == [] and result.created == 2
    assert {s.external_id: s.item_external_ids for s in o.shipments.filter(external_id__in=["P2", "P3"])} == {
        "P2": [item.external_id],
        "P3": [],
    }
    result = services.upsert_many(
        actor=None,
        kind="shipments",
        rows=[
            {
                "external_id": "P4",
                "order_external_id": o.external_id,
                "carrier": "x",
                "tracking_number": "1",
                "item_external_ids": "not a list",
            }
        ],
    )
    assert [e.field for e in result.errors] == ["item_external_ids"]
    services.upsert_many(
        actor=None,
        kind="order_items",
        rows=[
            {
                "external_id": item.external_id,
                "order_external_id": o.external_id,
                "product_external_id": item.product.external_id,
                "quantity": 1,
                "unit_price": "129.00",
                "paid_amount": "129.00",
                "no_reason_excluded_confirmed": True,
            }
        ],
    )
    item.refresh_from_db()
    assert item.no_reason_excluded_confirmed
