"""What a merchant reads of a case never names the consumer or the platform's people, nor shows
the phone numbers the consumer typed: on the case page and in the API alike, also after a merge."""

import pytest
from django.test import Client

from marketguard.complaints import services
from marketguard.core.models import Role
from marketguard.core.testing import factories

from .test_services import _file

pytestmark = pytest.mark.django_db
PHONE = "13987654321"
MASKED = "139****4321"


def _page(user, number) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    response = client.get(f"/cases/{number}/")
    assert response.status_code == 200
    return response.content.decode()


def _merged(w):
    first = services.submit_case(
        actor=w.consumer,
        channel="web",
        kind="complaint",
        order_external_id=w.order.external_id,
        problem_type="quality",
        description=f"杯子有裂缝 call me {PHONE}",
    ).case
    second = services.submit_case(
        actor=w.consumer,
        channel="web",
        kind="complaint",
        order_external_id=w.order.external_id,
        problem_type="quality",
        title=f"又漏水了 {PHONE}",
        description=f"again: 杯子漏水 my phone {PHONE}",
    ).case
    services.forward_to_merchant(actor=w.agent, number=first.number)
    assert PHONE not in _page(w.merchant, first.number)  # masked before the merge
    services.merge_cases(actor=w.agent, primary=first.number, duplicate=second.number)
    return first


def test_a_merged_in_case_shows_the_merchant_its_text_masked(world):
    w = world
    case = _merged(w)
    merchant = _page(w.merchant, case.number)
    assert PHONE not in merchant
    assert "again: 杯子漏水 my phone " + MASKED in merchant  # the merged-in text itself is there
    # the people who may read it whole still do
    assert "again: 杯子漏水 my phone " + PHONE in _page(w.agent, case.number)
    assert "again: 杯子漏水 my phone " + PHONE in _page(w.consumer, case.number)


def test_a_merged_in_case_shows_the_merchant_its_text_masked_over_the_api(world, api):
    w = world
    case = _merged(w)
    body = api(w.merchant).get(f"cases/{case.number}").json()
    assert PHONE not in str(body)
    assert any(f"my phone {MASKED}" in m["body"] for m in body["messages"])
    platform = api(w.agent).get(f"cases/{case.number}").json()
    assert any(f"my phone {PHONE}" in m["body"] for m in platform["messages"])


@pytest.fixture
def named_world(world):
    """The consumer's login is their phone number, as it often is; an agent has worked the case."""
    w = world
    w.consumer = factories.user(Role.CONSUMER, username="13700001111")
    buyer = factories.buyer(user=w.consumer, phone="13600002222")
    w.order = factories.order(buyer_obj=buyer)
    w.merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=w.order.merchant)
    w.agent = factories.user(Role.AGENT, username="agent.wang", display_name="客服小王")
    case = _file(
        w, kind="complaint", problem_type="quality", description="杯子有裂缝", amount_claimed=None
    ).case
    services.post_message(actor=w.consumer, number=case.number, body="请尽快处理")
    services.forward_to_merchant(actor=w.agent, number=case.number, message="请商家处理")
    services.post_message(actor=w.merchant, number=case.number, body="收到，我们会联系您")
    w.case = case
    return w


def test_the_api_names_no_one_to_a_merchant(named_world, api):
    w = named_world
    body = api(w.merchant).get(f"cases/{w.case.number}").json()
    text = str(body)
    for name in (w.consumer.username, w.agent.username, w.merchant.username):
        assert name not in text, name
    assert {m["author"] for m in body["messages"]} == {None}
    assert {e["actor"] for e in body["events"]} == {None}
    assert body["case"]["owner"] is None
    # who wrote what is still told, by party, as the case page tells it
    assert {"consumer", "merchant", "agent"} <= {m["party"] for m in body["messages"]}
    listed = api(w.merchant).get("cases").json()["items"]
    assert [c["owner"] for c in listed] == [None]
    page = _page(w.merchant, w.case.number)
    assert w.consumer.username not in page and w.agent.username not in page


def test_the_api_names_no_one_to_the_consumer_either(named_world, api):
    w = named_world
    body = api(w.consumer).get(f"cases/{w.case.number}").json()
    assert w.agent.username not in str(body) and w.merchant.username not in str(body)
    assert body["case"]["owner"] is None
    assert {m["author"] for m in body["messages"]} == {None}


def test_the_platform_still_reads_who_did_what(named_world, api):
    w = named_world
    body = api(w.agent).get(f"cases/{w.case.number}").json()
    assert body["case"]["owner"] == w.agent.username
    assert {m["author"] for m in body["messages"]} >= {w.consumer.username, w.merchant.username}
    assert w.agent.username in {e["actor"] for e in body["events"]}
    observer = api(factories.user(Role.ANALYST)).get(f"cases/{w.case.number}").json()
    assert observer["case"]["owner"] == w.agent.username
