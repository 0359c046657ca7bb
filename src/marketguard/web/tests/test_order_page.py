"""The order page leads on: to the cases about the order that the viewer may see, and, for the
consumer who bought it, to the intake form with the order chosen."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from marketguard.complaints import services
from marketguard.complaints.models import Case
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A consumer with a delivered order and a case about it; another consumer with their own order
    and case; the order's merchant staff and an agent."""
    consumer = factories.user(Role.CONSUMER)
    order = factories.order(buyer_obj=factories.buyer(user=consumer), paid_fen=19_900)
    other = factories.user(Role.CONSUMER)
    other_order = factories.order(buyer_obj=factories.buyer(user=other), paid_fen=8_900)

    class W:
        pass

    w = W()
    w.__dict__.update(locals())
    w.case = _file(consumer, order, kind="return_refund")  # after-sales: goes to the merchant
    w.other_case = _file(other, other_order, kind="exchange")
    w.merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    w.agent = factories.user(Role.AGENT)
    return w


def _file(consumer, order, *, kind: str) -> Case:
    return services.submit_case(
        actor=consumer,
        channel="web",
        kind=kind,
        order_external_id=order.external_id,
        description="The sole came off after two weeks of normal use.",
    ).case


def _page(user, order):
    client = Client()
    client.force_login(user)
    return client.get(reverse("web:order", args=[order.external_id]), HTTP_ACCEPT_LANGUAGE="en")


def _case_link(case) -> str:
    return f'href="{reverse("complaints:detail", args=[case.number])}"'


def _intake_link(order) -> str:
    return f'href="{reverse("complaints:new")}?order={order.external_id}"'


def test_the_buyer_sees_the_case_about_the_order_and_may_file_another(world):
    response = _page(world.consumer, world.order)
    assert response.status_code == 200
    html = response.content.decode()
    assert _case_link(world.case) in html
    with translation.override("en"):
        assert f">{world.case.get_status_display()}</span>" in html
    assert _intake_link(world.order) in html
    assert 'data-testid="file-case"' in html
    # another consumer's case is not on this page
    assert world.other_case.number not in html


def test_a_case_of_another_consumer_naming_the_order_is_not_shown_to_the_buyer(world):
    # made directly (the services file a case about an order for its buyer only): the page lists
    # what the complaints app lets the viewer see, not every case naming the order
    Case.objects.filter(pk=world.other_case.pk).update(order=world.order)
    html = _page(world.consumer, world.order).content.decode()
    assert world.other_case.number not in html
    assert _case_link(world.case) in html


def test_the_intake_form_opens_with_the_order_chosen(world):
    client = Client()
    client.force_login(world.consumer)
    html = client.get(f"{reverse('complaints:new')}?order={world.order.external_id}").content.decode()
    assert re.search(rf'<option data-paid="\d+" value="{world.order.external_id}" selected>', html)


def test_an_order_without_cases_says_so_and_offers_the_form(world):
    order = factories.order(buyer_obj=world.order.buyer)
    html = _page(world.consumer, order).content.decode()
    assert "No case about this order." in html
    assert world.case.number not in html
    assert html.count(_intake_link(order)) == 2  # the page's button and the empty list's link


def test_another_consumer_cannot_open_the_order(world):
    assert _page(world.other, world.order).status_code == 404


def test_the_merchant_sees_only_cases_sent_to_it_and_no_intake_button(world):
    complaint = _file(world.consumer, world.order, kind="complaint")  # stays with the platform
    assert complaint.merchant_since is None and world.case.merchant_since is not None
    html = _page(world.merchant, world.order).content.decode()
    assert _case_link(world.case) in html
    assert complaint.number not in html
    assert reverse("complaints:new") not in html


def test_an_agent_sees_every_case_about_the_order_and_no_intake_button(world):
    complaint = _file(world.consumer, world.order, kind="complaint")
    html = _page(world.agent, world.order).content.decode()
    assert _case_link(world.case) in html and _case_link(complaint) in html
    assert world.other_case.number not in html  # about another order
    assert reverse("complaints:new") not in html
