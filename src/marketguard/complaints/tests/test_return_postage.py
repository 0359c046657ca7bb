"""The postage of sending goods back: the merchant refunds it with the price when the problem is
the merchant's (消费者权益保护法 art. 24), the consumer bears it on a 7-day no-reason return
(art. 25, 暂行办法 art. 18); it is refunded on top of the price, not counted against it."""

import pytest
from django.test import Client

from marketguard.complaints import postage, services
from marketguard.complaints.models import Remedy
from marketguard.complaints.services.work import refundable_left
from marketguard.core.errors import InvalidInput

from .test_services import _agreed_return, _file

pytestmark = pytest.mark.django_db


def test_who_pays_by_problem():
    assert postage.merchant_pays("quality") and postage.merchant_pays("wrong_or_missing_item")
    assert postage.merchant_pays("other")  # responsibility unclear: the seller pays (Taobao)
    assert not postage.merchant_pays("no_reason_return_7day")


def test_a_quality_returns_postage_is_refunded_with_the_price(world):
    w = world
    case, remedy = _agreed_return(w)  # a cracked cup: the merchant's problem
    with pytest.raises(InvalidInput) as refused:
        _ship(w, case, remedy, "顺丰", "SF1", postage="2000")
    assert refused.value.errors[0].field == "postage" and "¥200.00" in str(refused.value)
    _ship(w, case, remedy, "顺丰", "SF1", postage="12.50")
    remedy.refresh_from_db()
    assert remedy.return_postage_fen == 1250
    assert case.events.get(type="return_shipped").data["postage_fen"] == 1250
    page = _page(w.merchant, case)
    assert "Refund ¥199.00 and the return postage ¥12.50: ¥211.50 in all." in page
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF9"
    )
    executed = case.events.get(type="remedy_executed").data
    assert (executed["amount_fen"], executed["postage_fen"]) == (19_900, 1250)
    # the price was refunded in full: the postage on top did not count against it
    assert refundable_left(case) == 0


def test_a_no_reason_returns_postage_is_the_consumers(world):
    w = world
    case = _file(w, description="不想要了，七天无理由退货", problem_type="no_reason_return_7day").case
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="199.00"
    )
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    remedy = Remedy.objects.get(case=case)
    assert "at your cost" in _page(w.consumer, case) and 'name="postage"' not in _page(w.consumer, case)
    with pytest.raises(InvalidInput) as refused:
        _ship(w, case, remedy, "中通", "ZT1", postage="10")
    assert refused.value.errors[0].field == "postage"
    assert Remedy.objects.get(pk=remedy.pk).return_shipped_at is None  # nothing half-written


def test_the_consumer_gives_the_postage_on_the_page_and_over_the_api(world, api):
    w = world
    case, remedy = _agreed_return(w)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w.consumer)
    assert 'name="postage"' in _page(w.consumer, case)
    response = client.post(
        f"/cases/{case.number}/return-shipped/",
        {"remedy_id": remedy.pk, "carrier": "顺丰", "tracking_number": "SF2", "postage": "abc"},
    )
    html = response.content.decode()
    assert response.status_code == 422 and 'id="err-return-shipped-postage' in html
    assert 'value="SF2"' in html and 'value="abc"' in html  # what was typed comes back
    body = api(w.consumer).post(
        f"cases/{case.number}/remedies/{remedy.pk}/return-shipped",
        {"carrier": "顺丰", "tracking_number": "SF2", "postage": "9.90"},
    )
    assert body.status_code == 200 and body.json()["return_postage_fen"] == 990


def _ship(w, case, remedy, carrier, tracking, *, postage):
    """The consumer records the parcel sent back, with what it cost."""
    return services.record_return_shipped(
        actor=w.consumer,
        number=case.number,
        remedy_id=remedy.pk,
        carrier=carrier,
        tracking_number=tracking,
        postage=postage,
    )


def _page(user, case) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client.get(f"/cases/{case.number}/").content.decode()
