"""A case filed without its order (a call, an e-mail) is linked to it once the consumer names it:
then it names the merchant, goods and price, and can be sent to the merchant."""

from datetime import timedelta

import pytest
from django.test import Client

from marketguard.complaints import services, workflow
from marketguard.complaints.models import Case, SlaPolicyRow
from marketguard.complaints.sla import SlaPolicy
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _call(w, **kw) -> Case:
    """A hotline call about a problem, the caller known by their buyer id, no order named."""
    args = {
        "actor": w.agent,
        "channel": "hotline",
        "kind": "complaint",
        "description": "电话投诉：收到的水杯有裂缝，漏水",
        "buyer_external_id": w.buyer.external_id,
    }
    return services.submit_case(**(args | kw)).case


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_agent_links_the_order_and_the_case_can_go_to_the_merchant(world):
    w = world
    case = _call(w)
    assert case.merchant_id is None
    with pytest.raises(InvalidInput) as refused:  # nothing to send it to yet
        services.forward_to_merchant(actor=w.agent, number=case.number)
    assert refused.value.errors[0].field == "order"

    typed = " ".join([w.order.external_id[:3], w.order.external_id[3:]])  # read out on the phone
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=typed)
    item = w.order.items.get()
    assert case.order == w.order and case.order_item == item and case.merchant == w.order.merchant
    assert case.product == item.product and case.category == item.product.category
    assert case.paid_amount_fen == item.paid_amount_fen
    assert case.owner == w.agent  # the agent who acted owns it (首问负责制)
    event = case.events.get(type="order_linked")
    assert event.data == {"order": w.order.external_id, "item": item.external_id}
    entry = AuditEntry.objects.get(action="order_linked", object_id=str(case.pk))
    assert entry.after["merchant"] == w.order.merchant.external_id and entry.actor == w.agent

    case = services.forward_to_merchant(actor=w.agent, number=case.number)
    assert case.status == workflow.AWAITING_MERCHANT
    assert case.number in _client(w.merchant).get("/cases/").content.decode()


def test_an_order_that_is_not_the_consumers_is_refused_and_nothing_changes(world):
    w = world
    case = _call(w)
    stranger = factories.order(paid_fen=5_000)
    version = Case.objects.get(pk=case.pk).version
    with pytest.raises(InvalidInput) as refused:
        services.link_order(actor=w.agent, number=case.number, order_external_id=stranger.external_id)
    assert refused.value.errors[0].field == "order"
    with pytest.raises(InvalidInput) as unknown:
        services.link_order(actor=w.agent, number=case.number, order_external_id="NO-SUCH-ORDER")
    assert unknown.value.errors[0].field == "order"
    with pytest.raises(InvalidInput) as wrong_item:
        services.link_order(
            actor=w.agent, number=case.number, order_external_id=w.order.external_id, item_external_id="X-9"
        )
    assert wrong_item.value.errors[0].field == "item"
    case.refresh_from_db()
    assert case.order_id is None and case.merchant_id is None and case.version == version
    assert not case.events.filter(type="order_linked").exists()
    assert not AuditEntry.objects.filter(action="order_linked").exists()


def test_an_order_is_linked_once(world):
    w = world
    case = _call(w)
    services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    other = factories.order(buyer_obj=w.buyer, paid_fen=3_000)
    with pytest.raises(Conflict) as again:
        services.link_order(actor=w.agent, number=case.number, order_external_id=other.external_id)
    assert again.value.code == "ORDER_LINKED"
    assert Case.objects.get(pk=case.pk).order == w.order


def test_a_case_that_names_nobody_takes_the_orders_buyer_who_writes_from_its_address(world):
    w = world
    stranger = _call(w, buyer_external_id=None, contact_email="caller@example.com")
    with pytest.raises(InvalidInput) as refused:  # a mistyped order would show it to its buyer
        services.link_order(actor=w.agent, number=stranger.number, order_external_id=w.order.external_id)
    assert refused.value.errors[0].field == "order"
    assert Case.objects.get(pk=stranger.pk).buyer_id is None
    case = _call(w, buyer_external_id=None, contact_email="Buyer@Example.com")
    assert case.buyer_id is None and case.consumer_id is None
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    assert case.buyer == w.buyer and case.consumer == w.consumer
    assert case.number in _client(w.consumer).get("/cases/").content.decode()  # now the consumer's too


def test_the_agent_links_a_buyer_with_another_address_saying_how_it_was_confirmed(world, api):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="work-mail@example.com")
    refused = api(w.agent).post(f"cases/{case.number}/order", {"order": w.order.external_id})
    assert refused.status_code == 422 and refused.json()["code"] == "BUYER_ADDRESS_DIFFERS"
    assert refused.json()["errors"][0]["field"] == "order"
    agent = _client(w.agent)
    page = agent.get(f"/cases/{case.number}/").content.decode()
    assert 'name="address_confirmed"' in page
    reason = "电话回访买家本人，确认工作邮箱也是其本人"
    linked = agent.post(
        f"/cases/{case.number}/link-order/",
        {"order": w.order.external_id, "address_confirmed": reason, "version": case.version},
    )
    assert linked.status_code == 302
    case.refresh_from_db()
    assert case.buyer == w.buyer and case.consumer == w.consumer
    event = case.events.get(type="order_linked")
    assert event.data["address_confirmed"] == reason
    assert AuditEntry.objects.filter(action="order_linked", after__address_confirmed=reason).exists()
    assert reason in agent.get(f"/cases/{case.number}/").content.decode()  # on the timeline
    assert reason not in _client(w.consumer).get(f"/cases/{case.number}/").content.decode()  # staff's note


def test_an_address_confirmation_is_not_recorded_where_none_was_needed(world):
    w = world
    case = _call(w, buyer_external_id=None, contact_email="buyer@example.com")
    services.link_order(
        actor=w.agent, number=case.number, order_external_id=w.order.external_id, address_confirmed="电话确认"
    )
    assert "address_confirmed" not in case.events.get(type="order_linked").data


def test_the_consumer_links_only_their_own_order_and_merchants_may_not(world, api):
    w = world
    case = services.submit_case(
        actor=w.consumer, channel="web", kind="complaint", description="客服态度很差，问了三次都不回复"
    ).case
    stranger = factories.order(paid_fen=5_000)
    refused = api(w.consumer).post(f"cases/{case.number}/order", {"order": stranger.external_id})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "order"
    merchant = api(w.merchant).post(f"cases/{case.number}/order", {"order": w.order.external_id})
    assert merchant.status_code in (403, 404)
    done = api(w.consumer).post(f"cases/{case.number}/order", {"order": w.order.external_id})
    assert done.status_code == 200, done.content
    assert (
        done.json()["order"] == w.order.external_id
        and done.json()["merchant"] == w.order.merchant.external_id
    )
    again = api(w.consumer).post(f"cases/{case.number}/order", {"order": w.order.external_id})
    assert again.status_code == 409 and again.json()["code"] == "ORDER_LINKED"


def test_a_case_about_the_same_order_and_problem_is_pointed_out(world):
    w = world
    earlier = services.submit_case(
        actor=w.consumer,
        channel="web",
        kind="complaint",
        order_external_id=w.order.external_id,
        description="收到的水杯有裂缝，漏水",
    ).case
    case = _call(w)
    assert case.problem_type == earlier.problem_type
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    assert case.possible_duplicate_of == earlier
    assert case.events.filter(type="duplicate_suspected", data__of=earlier.number).exists()


def test_a_closed_case_is_not_linked(world):
    w = world
    case = _call(w)
    services.reject_case(actor=w.agent, number=case.number, reason="不属于平台受理范围")
    with pytest.raises(InvalidTransition):
        services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)


def test_the_agent_links_the_order_on_the_case_page(world):
    w = world
    case = _call(w)
    agent = _client(w.agent)
    page = agent.get(f"/cases/{case.number}/").content.decode()
    assert 'data-testid="link-order"' in page
    wrong = agent.post(
        f"/cases/{case.number}/link-order/", {"order": "NO-SUCH-ORDER", "item": "", "version": case.version}
    )
    assert wrong.status_code == 422
    page = wrong.content.decode()
    assert (
        'id="err-link-order-order"' in page and "No such order." in page and 'value="NO-SUCH-ORDER"' in page
    )
    done = agent.post(
        f"/cases/{case.number}/link-order/",
        {"order": w.order.external_id, "item": "", "version": case.version},
    )
    assert done.status_code == 302
    page = agent.get(f"/cases/{case.number}/").content.decode()
    assert "Linked to its order" in page and 'data-testid="link-order"' not in page
    assert f"/cases/{case.number}/forward/" in page  # it can go to the merchant now


def test_a_merchant_may_not_link_an_order(world):
    w = world
    case = _call(w)
    with pytest.raises((PermissionDenied, NotFound)):
        services.link_order(actor=w.merchant, number=case.number, order_external_id=w.order.external_id)
    assert Case.objects.get(pk=case.pk).order_id is None
    assert w.merchant.role == Role.MERCHANT_STAFF


def test_the_consumer_picks_the_order_from_their_list_on_the_case_page(world):
    w = world
    second = factories.order_item(w.order, title="杯盖", paid_fen=1_500)
    case = services.submit_case(
        actor=w.consumer, channel="web", kind="complaint", description="杯盖拧不紧，一直漏水"
    ).case
    consumer = _client(w.consumer)
    page = consumer.get(f"/cases/{case.number}/").content.decode()
    assert "Which order is this about?" in page
    choice = f"{w.order.external_id}::{second.external_id}"
    assert f'<option data-paid="1500" value="{choice}">' in page  # an order of two items: a choice per item
    done = consumer.post(f"/cases/{case.number}/link-order/", {"order": choice, "version": case.version})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.order == w.order and case.order_item == second and case.paid_amount_fen == 1_500
    assert "Which order is this about?" not in consumer.get(f"/cases/{case.number}/").content.decode()


def test_what_the_order_tells_can_make_the_case_more_urgent_never_less(world):
    w = world
    expensive = factories.order(buyer_obj=w.buyer, paid_fen=680_000)  # ¥6,800: a very high amount
    case = _call(w, description="电话投诉：客服态度很差")
    before = case.priority
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=expensive.external_id)
    assert case.priority < before  # "P2" < "P3"
    raised = case.events.get(type="priority_raised")
    assert raised.data == {"from": before, "to": case.priority, "reason": "order_linked"}
    assert raised.visibility == "platform"
    cheap_case = _call(w, description="电话投诉：物流太慢了，一周还没到")
    urgent = Case.objects.filter(pk=cheap_case.pk).update(priority="P1") and Case.objects.get(
        pk=cheap_case.pk
    )
    urgent = services.link_order(actor=w.agent, number=urgent.number, order_external_id=w.order.external_id)
    assert urgent.priority == "P1" and not urgent.events.filter(type="priority_raised").exists()


def test_a_resolved_case_is_not_linked(world):
    w = world
    case = _call(w)
    services.acknowledge_case(actor=w.agent, number=case.number)
    services.resolve_case(actor=w.agent, number=case.number, reason="电话中已解答")
    with pytest.raises(InvalidTransition):
        services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    assert Case.objects.get(pk=case.pk).merchant_id is None


def test_a_claim_beyond_the_price_does_not_raise_the_priority_by_itself(world):
    w = world
    case = _call(w, description="电话投诉：客服态度很差", amount_claimed="5000.00")
    before = case.priority
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    assert case.priority == before  # ¥199 paid: weighed as ¥199, not the ¥5,000 claimed


def test_the_buyers_earlier_cases_count_when_the_order_brings_the_buyer(world):
    w = world
    for text in ("杯子漏水", "杯盖裂了"):
        services.submit_case(
            actor=w.consumer,
            channel="web",
            kind="complaint",
            order_external_id=w.order.external_id,
            description=text,
        )
    case = _call(
        w, buyer_external_id=None, contact_email="buyer@example.com", description="电话投诉：物流太慢"
    )
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    raised = case.events.filter(type="priority_raised").first()
    assert raised is not None, "two recent cases of the buyer make a repeat complaint"


def test_a_policy_that_fits_the_order_counts_its_deadlines_from_filing(world):
    w = world
    category = w.order.items.get().product.category
    policy = SlaPolicy(
        name="fast_for_this_category",
        category_codes=frozenset({category.external_id}),
        first_response=timedelta(hours=2),
        resolution=timedelta(hours=24),
        order=1,
    )
    SlaPolicyRow.objects.create(name=policy.name, data=policy.to_dict(), order=1)
    services.clear_cache()
    case = _call(w)
    assert case.sla_policy != "fast_for_this_category"
    case = services.link_order(actor=w.agent, number=case.number, order_external_id=w.order.external_id)
    assert case.sla_policy == "fast_for_this_category"
    assert case.resolution_due == case.created_at + timedelta(hours=24)
    changed = case.events.get(type="sla_policy_changed")
    assert changed.data["to"] == "fast_for_this_category" and changed.visibility == "platform"


def test_an_agents_notes_on_a_call_do_not_set_the_consumers_language(world):
    """On a call the agent writes the notes (here in English) about a consumer who wrote to us
    in Chinese before: the case writes to them in Chinese; with nothing known, in both."""
    w = world
    w.consumer.preferred_language = ""
    w.consumer.save(update_fields=["preferred_language"])
    earlier = services.submit_case(
        actor=w.consumer, channel="web", kind="complaint", description="客服态度很差，问了三次都不回复"
    ).case
    assert earlier.language == "zh-hans"
    call = _call(w, description="Caller says the kettle lid cracked after a week; wants a replacement.")
    assert call.language == "zh-hans"
    stranger = _call(
        w,
        buyer_external_id=None,
        contact_email="new-caller@example.com",
        description="Caller says the parcel never arrived.",
    )
    assert stranger.language == ""  # both languages, until the consumer says which
    chat = _call(w, channel="chat", description="Consumer: the zipper broke on the second day, poor quality.")
    assert chat.language == "en"  # a chat transcript is the consumer's own words
