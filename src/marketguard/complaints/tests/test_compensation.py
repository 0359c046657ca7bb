"""Compensation by legal basis: the ceilings of the law, checked at intake, in proposals and in
rulings, over the services, the API and the case page."""

import pytest
from django.test import Client

from marketguard.complaints import compensation, services
from marketguard.complaints.models import Case, Proposal, Remedy
from marketguard.core.errors import InvalidInput
from marketguard.core.models import Role
from marketguard.core.testing import factories

from .test_case_rules import _rule
from .test_services import _file

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "basis, paid, limit",
    [
        ("goodwill", 19_900, 19_900),
        ("fraud", 19_900, 59_700),  # three times the price
        ("fraud", 10_000, 50_000),  # at least 500 yuan
        ("food_safety", 19_900, 199_000),  # ten times the price
        ("food_safety", 5_000, 100_000),  # at least 1,000 yuan
        ("injury", 19_900, None),  # the losses shown
        ("fraud", None, None),  # price not known
    ],
)
def test_the_ceiling_of_each_basis(basis, paid, limit):
    assert compensation.ceiling(basis, paid) == limit


def test_an_unknown_basis_is_refused_and_claims_are_capped_unless_someone_was_hurt():
    with pytest.raises(ValueError, match="basis"):
        compensation.ceiling("whatever", 100)
    assert compensation.claim_ceiling(19_900, safety=False) == 199_000
    assert compensation.claim_ceiling(19_900, safety=True) is None


def _compensation_case(w, **kw):
    args = {"kind": "compensation", "description": "商品与描述不符，虚假宣传", "amount_claimed": "500.00"}
    return _file(w, **(args | kw)).case


def _offer(w, case, amount, basis="", *, actor=None):
    """A compensation proposed on `case` (by the merchant's staff unless `actor` is given)."""
    return services.make_proposal(
        actor=actor or w.merchant,
        number=case.number,
        remedy="compensation",
        amount=amount,
        compensation_basis=basis,
    )


def _under_review(w, case, *, merchant=None):
    services.request_intervention(actor=merchant or w.merchant, number=case.number, reason="不同意")
    services.start_review(actor=w.arbitrator, number=case.number)
    return case


def _compensate(w, case, amount, basis="", *, remedy="compensation"):
    return services.record_ruling(
        actor=w.arbitrator,
        number=case.number,
        outcome="consumer_upheld",
        reasons="见证据",
        remedy=remedy,
        amount=amount,
        compensation_basis=basis,
    )


def test_without_a_basis_compensation_is_at_most_the_price(world):
    w = world
    case = _compensation_case(w)
    with pytest.raises(InvalidInput) as err:
        _offer(w, case, "300.00")
    assert err.value.errors[0].field == "amount" and err.value.code == "COMPENSATION_EXCEEDS_LIMIT"
    assert "¥199.00" in err.value.message
    assert not Proposal.objects.filter(case=case).exists()
    ok = _offer(w, case, "199.00")
    assert ok.compensation_basis == "goodwill"


def test_fraud_allows_three_times_the_price_in_all(world):
    w = world
    case = _compensation_case(w)
    first = _offer(w, case, "500.00", "fraud")
    assert first.compensation_basis == "fraud"
    assert case.events.get(type="proposal_made").data["compensation_basis"] == "fraud"
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=first.pk, accept=True)
    remedy = Remedy.objects.get(case=case)
    assert remedy.amount_fen == 50_000
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="PAY1"
    )
    # 597 in all on a 199 purchase: 97 left once 500 are granted
    services.reopen_case(actor=w.consumer, number=case.number, reason="还有运费损失")
    services.forward_to_merchant(actor=w.agent, number=case.number)
    with pytest.raises(InvalidInput) as err:
        _offer(w, case, "100.00", "fraud")
    assert err.value.code == "COMPENSATION_EXCEEDS_LIMIT" and "¥97.00" in err.value.message


def test_personal_injury_only_on_a_safety_case_and_without_a_ceiling(world):
    w = world
    case = _compensation_case(w)
    with pytest.raises(InvalidInput) as err:
        _offer(w, case, "50.00", "injury")
    assert err.value.errors[0].field == "compensation_basis"
    hurt = _file(
        w,
        kind="compensation",
        order_external_id=w.order.external_id,
        description="充电时起火，手被烫伤，去医院花了医药费",
        amount_claimed="8000.00",  # more than ten times the price: someone was hurt
    ).case
    assert hurt.safety
    _under_review(w, hurt)
    ruling = _compensate(w, hurt, "6500.00", "injury")
    assert (ruling.compensation_basis, ruling.amount_fen) == ("injury", 650_000)


def test_a_ruling_is_held_to_its_basis_and_a_basis_means_nothing_for_a_refund(world):
    w = world
    case = _compensation_case(w)
    _under_review(w, case)
    with pytest.raises(InvalidInput) as err:  # the law sets amounts by basis: none is assumed
        _rule(w, case, "consumer_upheld", "compensation", "100.00")
    assert [e.field for e in err.value.errors] == ["compensation_basis"]
    with pytest.raises(InvalidInput) as err:
        _compensate(w, case, "600.00", "goodwill")
    assert err.value.code == "COMPENSATION_EXCEEDS_LIMIT"
    assert not case.rulings.exists()
    with pytest.raises(InvalidInput) as err:
        _compensate(w, case, "10.00", "lucky")
    assert err.value.errors[0].field == "compensation_basis"
    refund = _compensate(w, case, "199.00", "fraud", remedy="refund")
    assert refund.compensation_basis == ""


def test_a_mistyped_claim_is_refused_at_intake_naming_the_field(world):
    w = world
    before = Case.objects.count()
    with pytest.raises(InvalidInput) as err:
        _file(w, kind="compensation", description="虚假宣传，要求赔偿", amount_claimed="19900.00")
    # a cup is not food: three times the price (at least ¥500) is the most any basis allows
    assert err.value.errors[0].field == "amount_claimed" and "¥597.00" in err.value.message
    assert Case.objects.count() == before
    # up to that, a claim is the platform's to weigh
    assert _file(w, kind="compensation", description="虚假宣传，要求赔偿", amount_claimed="597.00").case.pk


def test_the_api_takes_and_shows_the_basis(world, api):
    w = world
    case = _compensation_case(w)
    path = f"cases/{case.number}/proposals"
    bad = api(w.merchant).post(path, {"remedy": "compensation", "amount": "50.00", "compensation_basis": "x"})
    assert bad.status_code == 422 and "compensation_basis" in bad.content.decode()
    over = api(w.merchant).post(
        path, {"remedy": "compensation", "amount": "600.00", "compensation_basis": "fraud"}
    )
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "amount"
    ok = api(w.merchant).post(
        path, {"remedy": "compensation", "amount": "597.00", "compensation_basis": "fraud"}
    )
    assert ok.status_code == 201 and ok.json()["compensation_basis"] == "fraud"
    seen = api(w.consumer).get(f"cases/{case.number}").json()
    assert [p["compensation_basis"] for p in seen["proposals"]] == ["fraud"]
    accepted = api(w.consumer).post(f"{path}/{ok.json()['id']}/accept", {})
    assert accepted.status_code == 200
    seen = api(w.consumer).get(f"cases/{case.number}").json()
    assert [(r["kind"], r["compensation_basis"]) for r in seen["remedies"]] == [("compensation", "fraud")]


def test_a_refused_ruling_names_every_field_wrong_at_once_and_records_nothing(world):
    w = world
    case = _compensation_case(w)
    _under_review(w, case)
    with pytest.raises(InvalidInput) as err:
        services.record_ruling(
            actor=w.arbitrator,
            number=case.number,
            outcome="consumer_upheld",
            reasons=" ",
            remedy="compensation",
        )
    assert [e.field for e in err.value.errors] == ["reasons", "amount", "compensation_basis"]
    with pytest.raises(InvalidInput) as err:
        services.record_ruling(
            actor=w.arbitrator, number=case.number, outcome="x", reasons="见证据", remedy="", amount="-1"
        )
    assert [e.field for e in err.value.errors] == ["outcome", "remedy", "amount"]
    case.refresh_from_db()
    assert case.status == "platform_review" and not case.rulings.exists()

    arbitrator = Client(HTTP_ACCEPT_LANGUAGE="en")
    arbitrator.force_login(w.arbitrator)
    page = arbitrator.get(f"/cases/{case.number}/").content.decode()
    form = page[page.index('id="ruling-basis"') :]
    first = form[: form.index("</option>")]
    assert 'value=""' in first and "Choose the basis" in first  # no basis is chosen for them
    refused = arbitrator.post(
        f"/cases/{case.number}/ruling/",
        {"outcome": "consumer_upheld", "remedy": "compensation", "reasons": "", "amount": ""},
    )
    assert refused.status_code == 422
    page = refused.content.decode()
    for field in ("reasons", "amount", "compensation_basis"):
        assert f'id="err-ruling-{field}"' in page
    assert "Choose the legal basis of the compensation." in page and "Give the amount." in page


def test_the_case_page_offers_the_basis_and_names_it_on_the_proposal(world):
    w = world
    case = _compensation_case(w)
    merchant = Client(HTTP_ACCEPT_LANGUAGE="en")
    merchant.force_login(w.merchant)
    page = merchant.get(f"/cases/{case.number}/").content.decode()
    assert 'name="compensation_basis"' in page and "three times the price" in page
    _offer(w, case, "597.00", "fraud")
    consumer = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    consumer.force_login(w.consumer)
    page = consumer.get(f"/cases/{case.number}/").content.decode()
    assert "¥597.00" in page and "欺诈" in page


# --- from a review of the change ------------------------------------------------------------------


def test_one_agreement_closes_the_other_open_proposals(world):
    w = world
    case = _compensation_case(w)
    mine = _offer(w, case, "199.00", actor=w.consumer)
    theirs = _offer(w, case, "150.00")
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=theirs.pk, accept=True)
    mine.refresh_from_db()
    assert mine.status == Proposal.Status.SUPERSEDED  # it can no longer be accepted on top
    assert Remedy.objects.get(case=case).compensation_basis == "goodwill"


def _with_merchant(w, case):
    case.refresh_from_db()
    if case.status == "submitted":  # held as a likely duplicate: an agent sends it on
        services.forward_to_merchant(actor=w.agent, number=case.number)
    return case


def test_a_proposal_is_held_to_the_ceiling_again_when_accepted(world):
    w = world
    first = _compensation_case(w)
    offer = _offer(w, first, "150.00")
    # meanwhile a second case about the same purchase is granted 100
    second = _with_merchant(w, _compensation_case(w))
    granted = _offer(w, second, "100.00")
    services.decide_proposal(actor=w.consumer, number=second.number, proposal_id=granted.pk, accept=True)
    with pytest.raises(InvalidInput) as err:
        services.decide_proposal(actor=w.consumer, number=first.number, proposal_id=offer.pk, accept=True)
    assert err.value.code == "COMPENSATION_EXCEEDS_LIMIT" and "¥99.00" in err.value.message
    offer.refresh_from_db()
    assert offer.status == Proposal.Status.OPEN and not Remedy.objects.filter(case=first).exists()


def test_the_ceiling_is_for_the_purchase_across_cases(world):
    w = world
    first = _compensation_case(w)
    services.decide_proposal(
        actor=w.consumer,
        number=first.number,
        proposal_id=_offer(w, first, "199.00").pk,
        accept=True,
    )
    second = _with_merchant(w, _compensation_case(w))
    with pytest.raises(InvalidInput) as err:
        _offer(w, second, "1.00")
    assert err.value.code == "COMPENSATION_EXCEEDS_LIMIT"


def test_losses_from_an_injury_do_not_use_up_the_fraud_ceiling(world):
    w = world
    hurt = _file(
        w,
        kind="compensation",
        description="充电时起火，手被烫伤，去医院花了医药费",
        amount_claimed="8000.00",
    ).case
    _under_review(w, hurt)
    _compensate(w, hurt, "6500.00", "injury")
    assert Remedy.objects.get(case=hurt).compensation_basis == "injury"
    services.appeal_ruling(actor=w.merchant, number=hurt.number, reason="另查明商家欺诈")
    ruling = _compensate(w, hurt, "597.00", "fraud")
    assert ruling.amount_fen == 59_700


def test_a_ruling_for_the_merchant_orders_nothing(world):
    w = world
    case = _compensation_case(w)
    _under_review(w, case)
    # ... and names no remedy at all: one would read as ordered when nothing is
    with pytest.raises(InvalidInput) as err:
        _rule(w, case, "merchant_upheld", "compensation", "5000.00")
    assert err.value.errors[0].field == "remedy"
    ruling = _rule(w, case, "merchant_upheld", "", None)
    assert ruling.outcome == "merchant_upheld" and not Remedy.objects.filter(case=case).exists()


def test_the_unsafe_food_basis_is_for_food_and_each_case_is_offered_only_its_bases(world):
    from marketguard.core.testing import factories

    w = world
    case = _compensation_case(w)  # a cup: not food
    with pytest.raises(InvalidInput) as err:
        _offer(w, case, "1000.00", "food_safety")
    assert err.value.errors[0].field == "compensation_basis"
    merchant = Client(HTTP_ACCEPT_LANGUAGE="en")
    merchant.force_login(w.merchant)
    select = (
        merchant.get(f"/cases/{case.number}/")
        .content.decode()
        .split('id="propose-basis"')[1]
        .split("</select>")[0]
    )
    assert (
        'value="fraud"' in select and 'value="food_safety"' not in select and 'value="injury"' not in select
    )
    # what each basis still allows for this purchase, before anyone types an amount
    assert "¥199.00 left" in select and "¥597.00 left" in select
    # food (a sub-category of the configured food category C02): ten times the price
    order = _food_order(w, "C0201")
    eaten = _file(
        w,
        kind="compensation",
        order_external_id=order.external_id,
        description="零食过期变质",
        amount_claimed="500.00",
    ).case
    shop = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    proposal = _offer(w, eaten, "1000.00", "food_safety", actor=shop)  # the Food Safety Law's ¥1,000 floor
    assert proposal.compensation_basis == "food_safety"


def test_the_room_shown_to_an_arbitrator_leaves_out_what_a_new_ruling_replaces(world):
    w = world
    case = _compensation_case(w)
    offer = _offer(w, case, "150.00")
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=offer.pk, accept=True)
    assert _room(case)["goodwill"] == 4_900  # 150 of 199 pending
    # a ruling on this case replaces what is still to be carried out here
    assert _room(case, ruling=True)["goodwill"] == 19_900


def _food_order(w, code: str):
    """The buyer's order of ¥50 of food (a sub-category of the configured food category C02)."""
    food = factories.category(parent=factories.category(external_id="C02"), external_id=code)
    return factories.order(
        buyer_obj=w.buyer, product_obj=factories.product(category_obj=food, price_fen=5_000), paid_fen=5_000
    )


def _room(case, *, ruling=False) -> dict:
    return {basis: left for basis, left, _due in services.compensation_room(case, ruling=ruling)}


def test_the_arbitrator_is_shown_what_the_law_sets_on_each_statutory_basis(world):
    w = world
    case = _under_review(w, _compensation_case(w, amount_claimed="520.00"))
    room = {basis: (left, due) for basis, left, due in services.compensation_room(case, ruling=True)}
    assert room["fraud"] == (59_700, 52_000)  # 3 x 199 left; the consumer claims 520
    assert room["goodwill"] == (19_900, None)  # no amount set by law
    assert all(due is None for _b, _l, due in services.compensation_room(case))  # not for proposals


def test_a_ruling_on_a_statutory_basis_gives_what_the_law_sets_an_agreement_may_give_less(world):
    """消费者权益保护法 art. 55: fraud compensation *is* three times the price, at least ¥500;
    a ruling gives it (or the consumer's claim if less); the parties may agree on less."""
    w = world
    case = _under_review(w, _compensation_case(w, amount_claimed="597.00"))
    with pytest.raises(InvalidInput) as err:
        _compensate(w, case, "10.00", "fraud")
    assert err.value.code == "COMPENSATION_BELOW_STATUTORY" and err.value.errors[0].field == "amount"
    assert "¥597.00" in err.value.message  # 3 x 199, all that was claimed
    assert _compensate(w, case, "597.00", "fraud").amount_fen == 59_700
    another = factories.order(buyer_obj=w.buyer, product_obj=w.order.items.get().product, paid_fen=19_900)
    small = _compensation_case(w, amount_claimed="520.00", order_external_id=another.external_id)
    agreed = _offer(w, small, "300.00", "fraud")  # agreeing on less is the parties' right
    assert agreed.compensation_basis == "fraud"
    _under_review(w, small)
    with pytest.raises(InvalidInput) as err:
        _compensate(w, small, "300.00", "fraud")
    assert "¥520.00" in err.value.message  # what the consumer claimed, less than 597
    assert _compensate(w, small, "520.00", "fraud").amount_fen == 52_000


def test_unsafe_food_allows_three_times_the_losses_when_that_is_more(world):
    """食品安全法 art. 148: ten times the price or three times the losses, at least ¥1,000; the
    losses are those granted for the injury on the same purchase."""
    assert compensation.ceiling("food_safety", 5_000, losses_fen=200_000) == 600_000
    assert compensation.ceiling("food_safety", 5_000, losses_fen=10_000) == 100_000  # the floor
    assert compensation.ceiling("fraud", 5_000, losses_fen=200_000) == 50_000  # not for fraud
    w = world
    order = _food_order(w, "C0202")
    sick = _file(
        w,
        kind="compensation",
        order_external_id=order.external_id,
        description="喝了变质的牛奶后食物中毒住院，花了医药费",
        amount_claimed="2000.00",
    ).case
    assert sick.safety
    shop = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    _under_review(w, sick, merchant=shop)
    _compensate(w, sick, "2000.00", "injury")  # the losses shown: medical costs
    room = _room(sick)
    assert room["food_safety"] == 600_000  # 3 x ¥2,000 is more than 10 x ¥50
