"""The demo complaints look like three months of real work: texts that fit the products, cases
filed over many days after their orders arrived, each moved on at plausible later times, and
dashboard figures that are neither empty nor perfect."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db.models import Max

from marketguard import demo
from marketguard.catalog.attributes import CATEGORY_TREE
from marketguard.catalog.models import Order, Shipment
from marketguard.complaints import selectors, services, triage
from marketguard.complaints.demo import (
    SAFETY_CATEGORIES,
    SAFETY_TEXTS,
    TEXTS,
    plan_demo_cases,
    seed_demo_cases,
    text_for,
)
from marketguard.complaints.models import Case, Evidence, Rating, Ruling, SlaMark
from marketguard.complaints.views import presentation
from marketguard.core import audit
from marketguard.core.models import AuditEntry, User

#: Noon in Shanghai on the demo catalog's last day of orders.
NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
#: Fewer cases than the demo's 90, to keep the test short; still enough for 30 days of them.
COUNT = 50
SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Words that name a kind of product, and the categories (codes of the catalog's tree, any level)
#: whose products they may be said of. Written independently of the demo's own text table.
NOUNS = {
    "鞋": {"C0104"}, "sole": {"C0104"}, "连衣裙": {"C010201"}, "dress": {"C010201"}, "silk": {"C010201"},
    "文胸": {"C010202"}, "内裤": {"C010202"}, "童装": {"C0103"}, "儿童卫衣": {"C0103"}, "连体衣": {"C010302"},
    "T恤": {"C010101", "C0901"}, "sleeve": {"C0101", "C0102", "C0103"}, "衣服": {"C0101", "C0102", "C0103", "C0901"},
    "饼干": {"C020101"}, "坚果": {"C020101"}, "零食": {"C020101"}, "水果": {"C020201"}, "鸡蛋": {"C020202"}, "保健品": {"C020102"}, "苹果": {"C020201"},
    "fruit": {"C020201"}, "冷鲜肉": {"C020202"}, "牛排": {"C020202"}, "面霜": {"C030101"}, "洗面奶": {"C030101"},
    "防晒": {"C030102"}, "奶瓶": {"C040101"}, "奶嘴": {"C040101"}, "餐盘": {"C040102"}, "餐具": {"C040102"},
    "推车": {"C0402"}, "stroller": {"C0402"}, "充电宝": {"C050101"}, "power bank": {"C050101"},
    "充电器": {"C050102"}, "充电头": {"C050102"}, "耳机": {"C0502"}, "earbud": {"C0502"}, "锅": {"C060101"},
    "non-stick": {"C060101"}, "四件套": {"C0602"}, "床单": {"C0602"}, "duvet": {"C0602"}, "积木": {"C0701"},
    "过家家": {"C0701"}, "遥控": {"C0701"}, "回力": {"C0701"}, "黑胶": {"C0802"}, "毛绒": {"C0702"}, "玩具": {"C07"}, "的书": {"C08"}, "书角": {"C0801"}, "book": {"C0801"}, "盗版": {"C08"},
    "光盘": {"C0802"}, "软件": {"C0803"}, "刻字": {"C0902"}, "相框": {"C0902"}, "engraving": {"C0902"},
    "定制": {"C09"},
}  # fmt: skip


def _top(code: str) -> str:
    return code[:3]


def _under(code: str, allowed: set[str]) -> bool:
    return any(code.startswith(a) for a in allowed)


def test_every_text_names_only_products_of_its_own_categories():
    for text in TEXTS + SAFETY_TEXTS:
        for noun, allowed in NOUNS.items():
            if noun.lower() in text.text.lower():
                assert "*" not in text.codes, f"{text.text!r} names a product but claims to fit any"
                assert all(_under(c, allowed) for c in text.codes), (
                    f"{text.text!r} {text.codes} names {noun!r}"
                )


def test_every_top_level_category_has_several_texts_and_every_product_some():
    for top in [n["code"] for n in CATEGORY_TREE if n["parent"] is None]:
        own = [t for t in TEXTS if any(_top(c) == top for c in t.codes)]
        assert len(own) >= 4, top
        assert len({t.problem_type for t in own}) >= 3, top
    assert 0.1 < sum(t.english for t in TEXTS) / len(TEXTS) < 0.3  # Chinese mostly, some English
    parents = {n["parent"] for n in CATEGORY_TREE}
    for leaf in [n for n in CATEGORY_TREE if n["code"] not in parents]:
        path, node = [], leaf
        while node is not None:
            path.append(node["code"])
            node = next((n for n in CATEGORY_TREE if n["code"] == node["parent"]), None)
        fitting = [t for t in TEXTS if t.fits(path)]
        assert len(fitting) >= 4 and any(t.kind != "complaint" for t in fitting), leaf["code"]


def test_only_the_safety_texts_read_as_personal_safety_to_the_triage():
    for text in TEXTS + SAFETY_TEXTS:
        result = triage.triage(text.text, kind=text.kind)
        assert result.safety == (text.problem_type == "safety"), (text.text, result.matched)
    assert {c for t in SAFETY_TEXTS for c in t.codes} <= set(SAFETY_CATEGORIES)


@pytest.fixture
def marketplace(db):
    """The small demo catalog and the demo logins, with the clock stopped at NOW."""
    with time_machine.travel(NOW, tick=False):
        call_command("seed", scale="small", seed=1, today=date(2026, 11, 22))
        demo.ensure_demo_accounts()
        yield


def _delivered(case: Case) -> datetime:
    shipments = Shipment.objects.filter(order=case.order_id)
    return max(
        shipments.aggregate(d=Max("delivered_at"))["d"] or NOW,
        shipments.aggregate(s=Max("signed_at"))["s"] or NOW,
    )


@pytest.mark.slow
def test_demo_cases_look_like_three_months_of_real_work(marketplace):
    # the same seed plans the same demo, another seed another one
    planned = plan_demo_cases(count=COUNT, seed=1)
    assert plan_demo_cases(count=COUNT, seed=1) == planned
    assert [p["order"] for p in plan_demo_cases(count=COUNT, seed=2)] != [p["order"] for p in planned]
    for plan in planned:  # every step after the one before
        times = [at for at, _action in plan["steps"]]
        assert times == sorted(times) and times[0] == plan["at"]
    audit_before = AuditEntry.objects.aggregate(m=Max("seq"))["m"] or 0

    made = seed_demo_cases(count=COUNT, seed=1)

    cases = list(
        Case.objects.select_related("category", "order", "merchant", "product").order_by("created_at", "pk")
    )
    assert made == len(cases) >= COUNT - 3
    # exactly the planned cases
    assert [(c.created_at, c.order.external_id, c.description) for c in cases] == [
        (p["at"], p["order"], p["description"]) for p in planned
    ]

    # every text fits the category of the product it is filed against
    for case in cases:
        codes = [c for c in case.category.path.split("/") if c]
        text = text_for(case.description)
        pieces = sum(case.order.items.values_list("quantity", flat=True))
        assert text is not None and text.fits(codes, case.product.title, pieces), (
            case.number,
            case.category.external_id,
            case.description,
        )
        for noun, allowed in NOUNS.items():
            if noun.lower() in case.description.lower():
                assert _under(codes[-1], allowed), (case.number, case.category.external_id, case.description)
    safety = [c for c in cases if c.safety]
    assert 2 <= len(safety) <= 3  # rare, as in real life
    assert all(c.category.external_id in SAFETY_CATEGORIES for c in safety)
    assert all(c.priority == "P1" for c in safety)

    # filed over the last 90 days, on many days, each after its order arrived; numbers follow the days
    assert all(NOW - timedelta(days=91) <= c.created_at <= NOW for c in cases)
    assert len({c.created_at.astimezone(SHANGHAI).date() for c in cases}) >= 30
    for case in cases:
        assert case.created_at >= _delivered(case), case.number
        assert case.number[2:10] == case.created_at.astimezone(SHANGHAI).strftime("%Y%m%d"), case.number

    # each case's timeline runs forward in time, from its filing to now at the latest
    for case in cases:
        times = list(case.events.order_by("pk").values_list("at", flat=True))
        assert times[0] == case.created_at
        assert times == sorted(times) and times[-1] <= NOW, case.number
        messages = list(case.messages.order_by("pk").values_list("created_at", flat=True))
        assert messages == sorted(messages), case.number
        for field in ("first_responded_at", "merchant_responded_at", "resolved_at", "closed_at"):
            value = getattr(case, field)
            assert value is None or case.created_at <= value <= NOW, (case.number, field)

    # the audit trail is intact, and what the demo wrote is in time order
    assert audit.verify().ok
    written = list(
        AuditEntry.objects.filter(seq__gt=audit_before).order_by("seq").values_list("at", flat=True)
    )
    assert len(written) > len(cases) * 4
    assert written == sorted(written) and written[-1] <= NOW

    # every stage is there; some SLAs were missed, some disputes ruled, open cases past their deadline
    statuses = {c.status for c in cases}
    assert {"awaiting_merchant", "negotiating", "resolved", "closed", "platform_review"} <= statuses
    assert SlaMark.objects.filter(stage="breached").exists()
    assert SlaMark.objects.filter(
        stage="breached", at__lt=NOW - timedelta(days=7)
    ).exists()  # marked back then
    assert Ruling.objects.count() >= 1

    # evidence on a good share of the cases, sent through the service by the side that has it
    files = list(Evidence.objects.select_related("blob", "case__buyer", "uploaded_by"))
    by_case: dict[int, set[str]] = {}
    for e in files:
        by_case.setdefault(e.case_id, set()).add(e.party)
        assert e.case.created_at <= e.created_at <= NOW, e.filename
        if e.party == "consumer":
            assert e.uploaded_by_id in (e.case.consumer_id, e.case.buyer.user_id), e.filename
            assert e.kind == "image" and e.material_code, e.filename
        else:
            assert e.party == "merchant" and e.uploaded_by.merchant_id == e.case.merchant_id, e.filename
    assert len(cases) / 3 <= len(by_case) <= len(cases) * 0.6
    assert {"image", "text", "pdf"} <= {e.kind for e in files}
    assert len({e.blob_id for e in files}) < len(files)  # a few drawn pictures, stored once each
    # images have their thumbnail (and the copy the parties see)
    for e in files:
        if e.kind == "image":
            assert e.blob.thumbnail and default_storage.exists(e.blob.thumbnail.name), e.filename
            assert e.blob.shown_file and default_storage.exists(e.blob.shown_file.name), e.filename
    # cases the platform reviews or ruled have files from both sides
    reviewed = [c for c in cases if c.status == "platform_review" or Ruling.objects.filter(case=c).exists()]
    both = [c for c in reviewed if by_case.get(c.pk, set()) >= {"consumer", "merchant"}]
    assert any(c.status == "platform_review" for c in both)
    assert len(both) >= len(reviewed) * 0.8
    # and a file ticks its item on the materials checklist (一次性告知) of an open case
    arbitrator = User.objects.get(username="arbitrator")
    ticked = [
        item
        for c in cases
        if c.pk in by_case and c.status in ("awaiting_merchant", "negotiating", "platform_review")
        for item in presentation._notice(selectors.case_view(arbitrator, c.number))
        if item["provided"] and item["code"] not in ("problem_description", "return_tracking")
    ]
    assert ticked

    # the dashboard: figures that vary from day to day, neither empty nor perfect
    analyst = User.objects.get(username="analyst")
    figures = selectors.metrics(analyst)
    assert 0 < figures["resolved_within_48h"] < 1
    assert figures["resolved_within_48h"] > 0.5  # most, not all
    assert 0 < figures["csat"] < 1 and figures["ratings"] >= 15
    assert 0.5 < figures["first_response_avg_hours"] < 24
    series = selectors.daily_series(analyst, days=90)
    assert sum(1 for n in series["opened"] if n) >= 30
    assert len({v for v in series["resolved_within_48h"] if v is not None}) > 1
    assert len([v for v in series["csat"] if v is not None]) > 5

    # the demo consumer has a handful of cases at different stages, with the demo merchant's shop
    consumer = User.objects.get(username="consumer")
    mine = list(selectors.consumer_cases(consumer))
    assert 3 <= len(mine) <= 8
    assert {"closed", "resolved", "platform_review", "negotiating"} <= {c.status for c in mine}
    merchant = User.objects.get(username="merchant")
    shop = set(services.visible_cases(merchant).values_list("number", flat=True))
    assert len([c for c in mine if c.number in shop]) >= 4
    assert Rating.objects.filter(case__in=mine).exists()

    # done once
    assert seed_demo_cases(count=COUNT, seed=1) == 0


@pytest.mark.slow
def test_the_demo_consumer_can_file_about_a_recent_order_of_the_demo_merchant(marketplace):
    from marketguard.complaints.views import INTAKE_ORDERS

    consumer = User.objects.get(username="consumer")
    merchant = User.objects.get(username="merchant").merchant
    listed = Order.objects.filter(buyer__user=consumer).order_by("-placed_at", "-pk")[:INTAKE_ORDERS]
    ours = [o for o in listed if o.merchant_id == merchant.pk and o.status in ("delivered", "completed")]
    assert ours  # on the intake form's list, delivered: the two demo logins can meet in a new case
    fresh = Order.objects.get(external_id=demo.FRESH_ORDER)
    assert fresh in listed and fresh.items.count() == 1 and fresh.shipments.get().signed_at is not None
    # the demo's cases leave it for the consumer to use; made once
    with time_machine.travel(NOW, tick=False):
        seed_demo_cases(count=COUNT, seed=1)
        demo.ensure_demo_accounts()
    assert not Case.objects.filter(order=fresh).exists()
    assert Order.objects.filter(external_id__startswith="DEMO-FRESH").count() == 1
    # filed now by the consumer, it reaches the demo merchant
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=fresh.external_id,
        description="刚收到就发现有破损",
    ).case
    assert case.number in set(
        services.visible_cases(User.objects.get(username="merchant")).values_list("number", flat=True)
    )
