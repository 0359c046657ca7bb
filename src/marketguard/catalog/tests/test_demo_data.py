"""The demo marketplace generator: shape, determinism, consistency, and the planted signal."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from marketguard.catalog.attributes import CATEGORY_TREE, clean_attributes, effective_template, leaf_codes
from marketguard.catalog.codes import validate_gtin, validate_uscc
from marketguard.catalog.demo_data import (
    BUYER_KEYS,
    CARRIERS,
    CATEGORY_KEYS,
    MERCHANT_KEYS,
    ORDER_ITEM_KEYS,
    ORDER_KEYS,
    ORDER_STATUSES,
    PRODUCT_KEYS,
    SCALES,
    SHIPMENT_KEYS,
    STORE_KEYS,
    generate,
)

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, tzinfo=UTC)
MONEY = re.compile(r"^\d+\.\d{2}$")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
SRC = str(Path(__file__).resolve().parents[3])


def fen(text: str) -> int:
    assert MONEY.match(text), text
    whole, cents = text.split(".")
    return int(whole) * 100 + int(cents)


def ts(text: str) -> datetime:
    assert ISO_Z.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def materialise(demo, chunk_size=5000):
    data = {
        "category": demo.categories,
        "merchant": demo.merchants,
        "store": demo.stores,
        "product": list(demo.products),
        "buyer": list(demo.buyers),
        "order": [],
        "order_item": [],
        "shipment": [],
    }
    for orders, items, shipments in demo.order_chunks(chunk_size):
        data["order"] += orders
        data["order_item"] += items
        data["shipment"] += shipments
    return data


def digest(data) -> str:
    h = hashlib.sha256()
    for kind, rows in data.items():
        h.update(kind.encode())
        for row in rows:
            h.update(json.dumps(row, ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def demo():
    return generate("small", 42, today=TODAY)


@pytest.fixture(scope="module")
def data(demo):
    return materialise(demo)


# --- shape ------------------------------------------------------------------------------------------


def test_small_sizes(demo, data):
    merchants, products, buyers, orders = SCALES["small"]
    assert len(data["merchant"]) == merchants
    assert len(data["product"]) == products
    assert len(data["buyer"]) == buyers
    assert len(data["order"]) == orders
    assert len(data["category"]) == len(CATEGORY_TREE)
    assert 1.2 < len(data["order_item"]) / orders < 1.7
    assert demo.counts["stores"] == len(data["store"]) >= merchants


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("category", CATEGORY_KEYS), ("merchant", MERCHANT_KEYS), ("store", STORE_KEYS),
        ("product", PRODUCT_KEYS), ("buyer", BUYER_KEYS), ("order", ORDER_KEYS),
        ("order_item", ORDER_ITEM_KEYS), ("shipment", SHIPMENT_KEYS),
    ],
)  # fmt: skip
def test_rows_have_exactly_the_documented_keys(data, kind, keys):
    assert data[kind]
    for row in data[kind]:
        assert tuple(row) == keys


def test_rows_are_json_serialisable(data):
    for rows in data.values():
        json.dumps(rows, ensure_ascii=False)


def test_external_ids_are_unique_and_formatted(data):
    patterns = {
        "merchant": r"M\d{6}", "store": r"S\d{6}", "product": r"P\d{7}", "buyer": r"B\d{7}",
        "order": r"O\d{11}", "order_item": r"O\d{11}-[1-4]", "shipment": r"SH\d{11}",
    }  # fmt: skip
    for kind, pattern in patterns.items():
        ids = [row["external_id"] for row in data[kind]]
        assert len(set(ids)) == len(ids), kind
        assert all(re.fullmatch(pattern, i) for i in ids), kind


def test_unknown_scale_and_bad_chunk_size():
    with pytest.raises(ValueError, match="scale"):
        generate("huge", 1)
    with pytest.raises(ValueError, match="chunk_size"):
        generate("small", 1).order_chunks(0)


# --- determinism ------------------------------------------------------------------------------------


def test_same_inputs_same_output_and_seed_matters(data):
    again = materialise(generate("small", 42, today=TODAY), chunk_size=777)
    assert digest(again) == digest(data)
    other = generate("small", 43, today=TODAY)
    assert [m["uscc"] for m in other.merchants] != [m["uscc"] for m in data["merchant"]]
    assert digest(materialise(other)) != digest(data)


def test_iterables_can_be_consumed_twice(demo):
    assert list(demo.products)[:5] == list(demo.products)[:5]
    assert list(demo.buyers)[-3:] == list(demo.buyers)[-3:]


def test_output_is_the_same_in_another_process_with_another_hash_seed(data):
    script = (
        "import hashlib, json, sys\n"
        "from datetime import date\n"
        "from marketguard.catalog.demo_data import generate\n"
        "from marketguard.catalog.tests.test_demo_data import digest, materialise\n"
        "print(digest(materialise(generate('small', 42, today=date(2026, 11, 22)))))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(data)


def test_iter_all_yields_every_row_in_dependency_order(data):
    kinds = [kind for kind, _row in generate("small", 42, today=TODAY).iter_all(chunk_size=2000)]
    assert Counter(kinds) == {kind: len(rows) for kind, rows in data.items()}
    first = {
        kind: kinds.index(kind) for kind in ("category", "merchant", "store", "product", "buyer", "order")
    }
    assert list(first.values()) == sorted(first.values())


def test_today_moves_the_window():
    demo = generate("small", 42, today=date(2025, 3, 1))
    orders, _items, _shipments = next(demo.order_chunks(100))
    assert orders[0]["placed_at"].startswith("2024-08-30")


# --- master data ------------------------------------------------------------------------------------


def test_categories_mirror_the_tree(data):
    assert [c["external_id"] for c in data["category"]] == [n["code"] for n in CATEGORY_TREE]
    by_code = {n["code"]: n for n in CATEGORY_TREE}
    for row in data["category"]:
        node = by_code[row["external_id"]]
        assert row["parent_external_id"] == node["parent"]
        assert row["attribute_template"] == node["template"]
        assert row["no_reason_return"] == node["no_reason_return"]


def test_merchants(data):
    merchants = data["merchant"]
    usccs = [validate_uscc(m["uscc"], strict=True) for m in merchants]
    assert len(set(usccs)) == len(usccs)
    assert {u[0] for u in usccs} >= {"9", "1", "5", "N", "Y"}, (
        "non-company registrations exercise the validator"
    )
    assert Counter(u[:2] for u in usccs).most_common(1)[0][0] == "91"
    statuses = Counter(m["status"] for m in merchants)
    assert set(statuses) == {"active", "suspended"} and statuses["active"] > statuses["suspended"]
    assert len({m["name"] for m in merchants}) == len(merchants)
    assert all(re.fullmatch(r"1\d{10}|0\d{2,3}-\d{8}", m["contact_phone"]) for m in merchants)
    for m in merchants:
        assert ts(m["registered_at"]) < NOW - timedelta(days=183)


def test_stores_belong_to_merchants(data):
    merchant_ids = {m["external_id"] for m in data["merchant"]}
    assert all(s["merchant_external_id"] in merchant_ids for s in data["store"])
    assert len({s["name"] for s in data["store"]}) == len(data["store"])


def test_products_are_valid_listings_on_leaf_categories(data):
    leaves = set(leaf_codes())
    store_ids = {s["external_id"] for s in data["store"]}
    for p in data["product"]:
        assert p["store_external_id"] in store_ids
        assert p["category_external_id"] in leaves
        assert p["status"] == "active"
        assert fen(p["price"]) > 0
        assert p["title"] and p["description"]
        cleaned, errors = clean_attributes(effective_template(p["category_external_id"]), p["attributes"])
        assert errors == {}, (p["external_id"], p["category_external_id"], errors)
        if "gtin" in cleaned:
            validate_gtin(cleaned["gtin"])
        if "isbn" in cleaned:
            validate_gtin(cleaned["isbn"])
        if "production_date" in cleaned:
            assert cleaned["production_date"] < TODAY
    assert len({p["category_external_id"] for p in data["product"]}) >= 15


def test_every_leaf_gets_valid_demo_attributes():
    # Small scale does not reach every leaf; medium-sized plans do, and all must validate.
    demo = generate("medium", 3, today=TODAY)
    seen = {}
    for p in demo.products:
        seen.setdefault(p["category_external_id"], p)
        if len(seen) == len(leaf_codes()):
            break
    assert set(seen) == set(leaf_codes())
    for code, p in seen.items():
        assert clean_attributes(effective_template(code), p["attributes"])[1] == {}, code


def test_titles_agree_with_attributes(data):
    for p in data["product"]:
        a = p["attributes"]
        if p["category_external_id"] == "C050101":
            assert f"{a['capacity_mah']}mAh" in p["title"]
        if "net_content" in a and p["category_external_id"] != "C030102":  # sunscreen titles show SPF
            assert a["net_content"] in p["title"]
        if "spf" in a:
            assert f"SPF{a['spf']}" in p["title"]


def test_buyers(data):
    buyers = data["buyer"]
    phones = [b["phone"] for b in buyers]
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) for p in phones)
    assert len(set(phones)) == len(phones)
    emails = [b["email"] for b in buyers]
    # Reserved top-level domain (RFC 2606): a demo with real SMTP configured mails nobody.
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9]+\.example", e) for e in emails)
    assert len(set(emails)) == len(emails)
    chinese = sum(bool(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", b["name"])) for b in buyers)
    assert chinese > 0.9 * len(buyers)
    assert all(re.match(r"[\u4e00-\u9fff]+(省|自治区|市)", b["address"]) for b in buyers)


# --- orders, items, shipments -----------------------------------------------------------------------


def test_orders_reference_existing_rows_and_items_come_from_the_order_store(data):
    buyers = {b["external_id"] for b in data["buyer"]}
    product_store = {p["external_id"]: p["store_external_id"] for p in data["product"]}
    orders = {o["external_id"]: o for o in data["order"]}
    for o in data["order"]:
        assert o["buyer_external_id"] in buyers
    for item in data["order_item"]:
        order = orders[item["order_external_id"]]
        assert product_store[item["product_external_id"]] == order["store_external_id"]
        assert item["external_id"].startswith(order["external_id"] + "-")
    for s in data["shipment"]:
        assert s["order_external_id"] in orders


def test_money_is_consistent(data):
    paid_by_order = defaultdict(int)
    discounted = 0
    for item in data["order_item"]:
        gross = item["quantity"] * fen(item["unit_price"])
        paid = fen(item["paid_amount"])
        assert 0 < paid <= gross
        discounted += paid < gross
        paid_by_order[item["order_external_id"]] += paid
    for o in data["order"]:
        assert fen(o["paid_amount"]) == paid_by_order[o["external_id"]]
        assert re.fullmatch(r"PAY\d{19}", o["payment_reference"])
    assert 0.1 < discounted / len(data["order_item"]) < 0.3


def test_times_are_consistent(data):
    start, end = NOW - timedelta(days=183), NOW
    orders = {o["external_id"]: o for o in data["order"]}
    placed = [ts(o["placed_at"]) for o in data["order"]]
    assert placed == sorted(placed), "order numbers follow placement time"
    for o, p in zip(data["order"], placed, strict=True):
        assert start <= p < end
        assert p <= ts(o["paid_at"]) <= p + timedelta(minutes=30)
    for s in data["shipment"]:
        paid = ts(orders[s["order_external_id"]]["paid_at"])
        shipped = ts(s["shipped_at"])
        assert paid < shipped < NOW
        assert ts(s["promised_at"]) - paid in (timedelta(hours=48), timedelta(hours=72))
        if s["delivered_at"] is None:
            assert s["signed_at"] is None
            assert paid > NOW - timedelta(days=10), "only recent orders are still in transit"
        else:
            assert shipped < ts(s["delivered_at"]) <= NOW
            if s["signed_at"] is not None:
                assert ts(s["delivered_at"]) <= ts(s["signed_at"]) <= NOW


def test_statuses_follow_the_shipments(data):
    shipments = {s["order_external_id"]: s for s in data["shipment"]}
    statuses = Counter()
    for o in data["order"]:
        status = o["status"]
        statuses[status] += 1
        assert status in ORDER_STATUSES
        s = shipments.get(o["external_id"])
        if status in ("paid", "cancelled"):
            assert s is None
        elif status == "shipped":
            assert s["delivered_at"] is None
        elif status == "delivered":
            assert s["delivered_at"] is not None and s["signed_at"] is None
        else:
            assert s["signed_at"] is not None
    assert statuses["completed"] > 0.9 * len(data["order"])
    assert 0 < statuses["cancelled"] < 0.05 * len(data["order"])
    assert statuses["shipped"] > 0


def test_tracking_numbers_look_like_the_carriers(data):
    formats = {
        "顺丰速运": r"SF\d{13}", "中通快递": r"78\d{13}", "圆通速递": r"YT\d{13}", "韵达快递": r"43\d{11}",
        "京东物流": r"JDV\d{12}", "EMS": r"11\d{11}",
    }  # fmt: skip
    assert set(formats) == {c[0] for c in CARRIERS}
    pairs = [(s["carrier"], s["tracking_number"]) for s in data["shipment"]]
    assert len(set(pairs)) == len(pairs)
    for carrier, number in pairs:
        assert re.fullmatch(formats[carrier], number), (carrier, number)
    assert len({c for c, _ in pairs}) >= 4


def test_late_deliveries_and_bad_merchants(demo, data):
    merchant_of_store = {s["external_id"]: s["merchant_external_id"] for s in data["store"]}
    orders = {o["external_id"]: o for o in data["order"]}
    late = Counter()
    total = Counter()
    for s in data["shipment"]:
        if s["delivered_at"] is None:
            continue
        bad = merchant_of_store[orders[s["order_external_id"]]["store_external_id"]] in demo.late_merchants
        total[bad] += 1
        late[bad] += s["delivered_at"] > s["promised_at"]
    overall = (late[True] + late[False]) / (total[True] + total[False])
    assert 0.05 <= overall <= 0.09
    assert late[True] / total[True] > 2 * late[False] / total[False]


def test_problem_merchants_and_products_are_recorded(demo, data):
    merchant_ids = {m["external_id"] for m in data["merchant"]}
    product_ids = {p["external_id"] for p in data["product"]}
    assert demo.problem_merchants and demo.problem_merchants < merchant_ids
    assert demo.late_merchants and demo.late_merchants < merchant_ids
    assert demo.problem_products and demo.problem_products < product_ids
    assert demo.suspended_merchants == {
        m["external_id"] for m in data["merchant"] if m["status"] == "suspended"
    }
    merchant_of_store = {s["external_id"]: s["merchant_external_id"] for s in data["store"]}
    share = defaultdict(lambda: [0, 0])
    for p in data["product"]:
        bad_merchant = merchant_of_store[p["store_external_id"]] in demo.problem_merchants
        share[bad_merchant][0] += p["external_id"] in demo.problem_products
        share[bad_merchant][1] += 1
    assert share[True][0] / share[True][1] > 5 * share[False][0] / max(1, share[False][1])
    claims = re.compile(
        r"第一|国家级|顶级|最好|首款|史无前例|治疗|祛斑|降血压|治愈|替代药物|预防|根治|无菌|医用"
    )
    flagged = [p for p in data["product"] if claims.search(p["description"])]
    assert flagged and all(p["external_id"] in demo.problem_products for p in flagged)


# --- large ------------------------------------------------------------------------------------------


def test_large_streams_its_first_chunk_quickly():
    started = time.process_time()
    demo = generate("large", 1, today=TODAY)
    chunks = demo.order_chunks(5000)
    orders, items, shipments = next(chunks)
    elapsed = time.process_time() - started
    assert len(orders) == 5000
    assert demo.counts == {
        **demo.counts,
        "merchants": 2000,
        "products": 50_000,
        "buyers": 300_000,
        "orders": 1_000_000,
    }
    assert {i["order_external_id"] for i in items} == {o["external_id"] for o in orders}
    assert {s["order_external_id"] for s in shipments} <= {o["external_id"] for o in orders}
    assert max(int(o["buyer_external_id"][1:]) for o in orders) <= 300_000
    assert elapsed < 5, "planning must stay cheap: products and buyers are produced lazily"
    chunks.close()
