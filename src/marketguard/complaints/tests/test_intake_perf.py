"""Intake asks the database less, and decides exactly as before.

The repeat count and the duplicate check became one query, the order and its item one query, and
triage was split in two halves so the query can use the decided problem type. The earlier
implementations are kept here as the reference the new ones must agree with.
"""

import random
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketguard.complaints import services, triage, workflow
from marketguard.complaints.models import Case
from marketguard.complaints.services.common import rules, same_person
from marketguard.complaints.services.intake import _recent_cases
from marketguard.core.errors import InvalidInput
from marketguard.core.models import NumberSequence, Role
from marketguard.core.numbering import next_number
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


# --- the reference: intake's two queries before they became one ---------------------------------


def _reference_repeat_count(case: Case) -> int:
    by_buyer = Q(buyer_id=case.buyer_id) if case.buyer_id else None
    by_others = Q(product_id=case.product_id) & ~Q(buyer_id=case.buyer_id) if case.product_id else None
    counts = {}
    if by_buyer is not None:
        counts["buyer"] = Count("pk", filter=by_buyer)
    if by_others is not None:
        counts["others"] = Count("pk", filter=by_others)
    if not counts:
        return 0
    who = Q(buyer_id=case.buyer_id) if case.buyer_id else Q()
    if case.product_id:
        who = who | Q(product_id=case.product_id) if case.buyer_id else Q(product_id=case.product_id)
    since = timezone.now() - timedelta(days=30)
    found = Case.objects.filter(who, created_at__gte=since).aggregate(**counts)
    return sum(found.values())


def _reference_duplicate(case: Case) -> Case | None:
    window = timezone.now() - timedelta(hours=rules().duplicate_window_hours)
    who = same_person(case)  # the rule of who is the same person is shared (tested on its own)
    if who is None:
        return None
    candidates = Case.objects.filter(who, created_at__gte=window, status__in=list(workflow.OPEN))
    if case.pk is not None:
        candidates = candidates.exclude(pk=case.pk)
    candidates = (
        candidates.filter(order_id=case.order_id) if case.order_id else candidates.filter(order__isnull=True)
    )
    return candidates.filter(problem_type=case.problem_type).order_by("created_at").first()


STATUSES = [s for s, _ in Case._meta.get_field("status").choices]
PROBLEMS = ["quality", "logistics_delay", "other"]
# ages around the two windows: 72 hours (duplicates) and 30 days (repeat complaints)
AGES = [
    timedelta(hours=1),
    timedelta(hours=71, minutes=59),
    timedelta(hours=72, minutes=1),
    timedelta(days=29, hours=23),
    timedelta(days=30, minutes=1),
    timedelta(days=90),
]


@pytest.mark.parametrize("seed", range(8))
def test_one_query_finds_the_repeat_count_and_the_duplicate_the_two_queries_found(seed):
    rng = random.Random(seed)
    buyers = [factories.buyer() for _ in range(3)]
    consumers = [factories.user(Role.CONSUMER) for _ in range(2)]
    products = [factories.product() for _ in range(2)]
    orders = [
        factories.order(buyer_obj=rng.choice(buyers), product_obj=rng.choice(products)) for _ in range(3)
    ]
    emails = ["a@example.com", "A@Example.COM", "b@example.com", ""]

    def maybe(values):
        return rng.choice([None, *values])

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        for i in range(30):
            Case.objects.create(
                number=f"T{seed}{i:04d}",
                kind="complaint",
                channel="web",
                title="t",
                description="d",
                priority="P3",
                problem_type=rng.choice(PROBLEMS),
                status=rng.choice(STATUSES),
                buyer=maybe(buyers),
                consumer=maybe(consumers),
                product=maybe(products),
                order=maybe(orders),
                contact_email=rng.choice(emails),
                # distinct times: "the earliest" duplicate is one case
                created_at=now - rng.choice(AGES) - timedelta(seconds=i),
            )
        for _ in range(25):
            case = Case(
                buyer=maybe(buyers),
                consumer=maybe(consumers),
                product=maybe(products),
                order=maybe(orders),
                contact_email=rng.choice(emails),
                problem_type=rng.choice(PROBLEMS),
            )
            expected = (_reference_repeat_count(case), _reference_duplicate(case))
            assert _recent_cases(case, case.problem_type) == expected


def test_a_case_with_nobody_to_compare_asks_nothing():
    with CaptureQueriesContext(connection) as ctx:
        assert _recent_cases(Case(problem_type="quality"), "quality") == (0, None)
    assert not ctx.captured_queries


# --- triage in two halves -----------------------------------------------------------------------

TEXTS = [
    "收到的水杯有裂缝，漏水，质量问题",
    "充电器用了两天就冒烟起火，手被烫伤了",
    "没有起火，只是外壳有点变形",
    "The zipper broke after two days, poor quality",
    "快递太慢了，承诺两天到，一周还没到",
    "怀疑是假货，防伪码查不到",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"kind": "repair", "amount_fen": 150_000, "repeat_count": 3, "channel": "hotline"},
        {"problem_type": "logistics_delay", "category_risk": "high", "amount_fen": 900_000},
        {"problem_type": "safety", "repeat_count": 2},
    ],
)
def test_assess_then_prioritise_is_triage(text, kw):
    first = {k: v for k, v in kw.items() if k in ("kind", "problem_type")}
    second = {k: v for k, v in kw.items() if k not in first}
    assert triage.prioritise(triage.assess(text, **first), **second) == triage.triage(text, **kw)


def test_the_halves_check_their_own_inputs():
    with pytest.raises(ValueError, match="kind"):
        triage.assess("x", kind="nonsense")
    with pytest.raises(ValueError, match="repeat_count"):
        triage.prioritise(triage.assess("x"), repeat_count=-1)


# --- the order and its item in one query ---------------------------------------------------------


@pytest.fixture
def world():
    consumer = factories.user(Role.CONSUMER, email="buyer@example.com")
    buyer = factories.buyer(user=consumer, email="buyer@example.com")
    order = factories.order(buyer_obj=buyer, paid_fen=19_900)
    agent = factories.user(Role.AGENT)

    class W:
        pass

    w = W()
    w.__dict__.update(locals())
    return w


def _file(w, **kw):
    args = {
        "actor": w.consumer,
        "channel": "web",
        "kind": "complaint",
        "order_external_id": w.order.external_id,
        "description": "收到的水杯有裂缝，漏水，质量问题",
    }
    args.update(kw)
    return services.submit_case(**args)


def _selects(ctx, table: str) -> int:
    return sum(q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"] for q in ctx.captured_queries)


def test_the_order_its_only_item_and_the_earlier_cases_are_read_once_each(world):
    with CaptureQueriesContext(connection) as ctx:
        case = _file(world).case
    assert case.order_item == world.order.items.get() and case.product == case.order_item.product
    assert case.merchant == world.order.merchant and case.buyer == world.buyer
    assert _selects(ctx, "catalog_orderitem") == 1 and _selects(ctx, "catalog_order") == 0
    assert _selects(ctx, "complaints_case") == 1
    # a likely duplicate: it is fetched too
    with CaptureQueriesContext(connection) as ctx:
        intake = _file(world)
    assert intake.duplicate_of == case and _selects(ctx, "complaints_case") == 2


def test_an_order_of_several_items_is_the_case_of_the_whole_order(world):
    w = world
    w.order.paid_amount_fen = 19_900 + 3_000
    w.order.save(update_fields=["paid_amount_fen"])
    second = factories.order_item(w.order, title="Phone charger", paid_fen=3_000)
    case = _file(w).case
    assert case.order == w.order and case.order_item is None and case.product is None
    assert case.paid_amount_fen == 22_900
    named = _file(w, item_external_id=second.external_id, description="充电器坏了").case
    assert named.order_item == second and named.product == second.product and named.paid_amount_fen == 3_000


def test_an_order_without_items_is_still_found(world):
    w = world
    bare = factories.order(buyer_obj=w.buyer)
    bare.items.all().delete()
    case = _file(w, order_external_id=bare.external_id).case
    assert case.order == bare and case.order_item is None and case.merchant == bare.merchant


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"order_external_id": "NO-SUCH-ORDER"}, "order"),
        ({"order_external_id": "NO-SUCH-ORDER", "item_external_id": "NO-SUCH-ITEM"}, "order"),
        ({"order_external_id": None, "item_external_id": "X-1"}, "order"),
        ({"item_external_id": "NO-SUCH-ITEM"}, "item"),
    ],
)
def test_wrong_orders_and_items_are_refused_naming_the_field(world, kw, field):
    with pytest.raises(InvalidInput) as caught:
        _file(world, **kw)
    assert caught.value.errors[0].field == field


def test_an_item_of_another_order_is_not_part_of_this_one(world):
    other = factories.order(buyer_obj=world.buyer)
    with pytest.raises(InvalidInput) as caught:
        _file(world, item_external_id=other.items.get().external_id)
    assert caught.value.errors[0].field == "item"


def test_someone_elses_order_is_no_such_order(world):
    stranger = factories.user(Role.CONSUMER)
    with pytest.raises(InvalidInput) as caught:
        _file(world, actor=stranger)
    assert caught.value.errors[0].field == "order"


# --- numbering outside a transaction ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_number_taken_outside_a_transaction_is_committed_by_its_one_statement():
    with CaptureQueriesContext(connection) as ctx:
        first = next_number("PF")
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"]
    seen = []

    def other_connection():
        try:
            seen.append(NumberSequence.objects.get(prefix="PF").last)
        finally:
            close_old_connections()

    t = threading.Thread(target=other_connection)
    t.start()
    t.join()
    assert seen == [1] and first.endswith("000001")


def test_a_number_taken_in_a_transaction_that_rolls_back_is_reused():
    with transaction.atomic():
        first = next_number("PR")
        transaction.set_rollback(True)
    assert next_number("PR") == first
