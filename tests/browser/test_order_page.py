"""The consumer's order page on a phone (390 x 844): it fits the screen in Chinese and in English
(the tables become cards, the header spans the page), it leads to the case about the order and to
the intake form with the order chosen; and the chosen score of the rating form is readable."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from marketguard.complaints import services
from marketguard.core.models import Role
from marketguard.core.testing import factories

from . import test_layout
from .test_complaints_e2e import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# the phone-sized pages of test_layout.py: phone(locale) -> a 390 x 844 page in its own context
phone = test_layout.open_page


def _world():
    consumer = factories.user(Role.CONSUMER, username="buyer_order_page")
    order = factories.order(buyer_obj=factories.buyer(user=consumer), paid_fen=12_900)
    factories.order_item(order, title="Waterproof hiking boots, men's size 42, dark brown", paid_fen=45_900)
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        description="The sole started peeling off after two weeks of normal walking in light rain.",
    ).case
    return consumer, order, case


def _fits(page, width: int = test_layout.PHONE["width"]):
    """Neither the page nor a table cell reaches past the right edge; the header spans the screen."""
    test_layout._fits(page, width)
    assert page.locator(".topbar").evaluate("el => el.getBoundingClientRect().width") == width


def test_the_order_page_fits_a_phone_and_leads_to_the_case_and_the_intake_form(phone, live_server):
    consumer, order, case = _world()
    page = phone("zh-CN")
    _sign_in(page, live_server, consumer)
    page.goto(f"{live_server.url}/orders/{order.external_id}/")
    cases = page.get_by_test_id("order-cases")
    expect(cases.locator("tbody tr")).to_have_count(1)
    with translation.override("zh-hans"):
        status = str(case.get_status_display())
    expect(cases.locator(f".badge.status-{case.status}")).to_have_text(status)
    _fits(page)

    page.select_option("#lang", "en")
    expect(page.locator("h1")).to_have_text(f"Order {order.external_id}")
    _fits(page)
    # the shipment is a card: the carrier first, then each cell after its column heading
    shipment = page.locator("table.list", has_text="Tracking number").locator("tbody tr")
    assert shipment.evaluate("tr => getComputedStyle(tr).display") == "flex"
    label = shipment.locator("td[data-label]").first.evaluate(
        "td => getComputedStyle(td, '::before').content"
    )
    assert label == '"Tracking number"'

    page.get_by_test_id("file-case").click()
    expect(page).to_have_url(re.compile(r"/cases/new/\?order="))
    expect(page.locator("#id_order")).to_have_value(order.external_id)

    page.go_back()
    page.get_by_test_id("order-cases").get_by_role("link", name=case.number).click()
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)


def _luminance(rgb: str) -> float:
    channels = [int(v) / 255 for v in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_chosen_score_of_the_rating_form_is_readable(phone, live_server):
    consumer, order, _case = _world()
    complaint = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        order_external_id=order.external_id,
        description="The parcel arrived late and the courier was rude on the phone.",
    ).case
    agent = factories.user(Role.AGENT)
    services.acknowledge_case(actor=agent, number=complaint.number)
    services.resolve_case(actor=agent, number=complaint.number, reason="Apologised and explained.")
    page = phone("en")
    _sign_in(page, live_server, consumer)
    page.goto(f"{live_server.url}/cases/{complaint.number}/")
    page.click("label[for=score-4]")
    chosen = page.locator("label[for=score-4]")
    expect(page.locator("#score-4")).to_be_checked()
    color, background = chosen.evaluate(
        "l => [getComputedStyle(l).color, getComputedStyle(l).backgroundColor]"
    )
    assert _contrast(color, background) >= 4.5, (color, background)
