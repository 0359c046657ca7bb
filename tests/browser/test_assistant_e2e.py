"""The smart customer service (/help/) in a real browser: a visitor without an account gets an
answer at once and says whether it helped; a safety risk is answered first; a signed-in consumer
gets their own 7-day return deadline and passes the conversation to a person, which files a chat
case holding the transcript; asking too fast is refused with the reason, the question kept."""

import pytest
from playwright.sync_api import expect

from marketguard.complaints import services
from marketguard.complaints.models import AssistantTurn, Case
from marketguard.complaints.services import assistant as assistant_service

from . import test_complaints_e2e as e2e
from .test_complaints_e2e import _sign_in, _world

open_page = e2e.open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_index():
    services.clear_cache()
    yield
    services.clear_cache()


def _ask(page, question):
    before = page.get_by_test_id("assistant-turn").count()
    page.fill("#question", question)
    page.get_by_test_id("ask").click()
    expect(page.get_by_test_id("assistant-turn")).to_have_count(before + 1)
    return page.get_by_test_id("assistant-turn").last


def test_a_visitor_asks_without_an_account_and_rates_the_answer(open_page, live_server):
    page = open_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_test_id("help-link").click()
    expect(page.locator("h1")).to_contain_text("Customer service assistant")

    turn = _ask(page, "How long do refunds take after the seller gets the item back?")
    expect(turn).to_have_attribute("data-kind", "article")
    expect(turn.get_by_test_id("assistant-answer")).to_contain_text("go back to the payment method you used")
    expect(page.locator("#question")).to_have_value("")  # ready for the next question
    turn.get_by_test_id("helpful-no").click()
    expect(turn.get_by_test_id("feedback-done")).to_contain_text("Try other words")
    assert AssistantTurn.objects.get().helpful is False

    danger = _ask(page, "The power bank caught fire while charging and burned my hand")
    expect(danger).to_have_attribute("data-kind", "safety")
    expect(danger.get_by_test_id("assistant-answer")).to_contain_text("Stop using the product now")

    # the conversation survives a reload; a visitor is offered to sign in to talk to a person
    page.reload()
    expect(page.get_by_test_id("assistant-turn")).to_have_count(2)
    expect(page.locator("#handoff")).to_contain_text("Sign in to file a case")


def test_a_consumer_gets_their_own_deadline_and_passes_to_a_person(open_page, live_server):
    consumer, order, _merchant = _world()  # delivered and signed for 3 days ago
    page = open_page()
    _sign_in(page, live_server, consumer)
    page.get_by_role("link", name="Help").click()

    own = _ask(page, "Can I still return my order without a reason?")
    expect(own).to_have_attribute("data-kind", "own_data")
    expect(own).to_contain_text(order.external_id)
    expect(own).to_contain_text("possible until")

    # the offer under a safety answer preselects the problem type of the hand-off form
    danger = _ask(page, "充电宝充电的时候起火了，手被烫伤")
    expect(danger).to_have_attribute("data-kind", "safety")
    danger.get_by_test_id("offer-handoff").click()
    expect(page.locator("#handoff-problem")).to_have_value("safety")
    page.select_option("#handoff-problem", "")

    vague = _ask(page, "鞋子穿了两天鞋底就开胶了")
    expect(vague.get_by_test_id("assistant-answer")).not_to_be_empty()
    page.select_option("#handoff-order", order.external_id)
    page.fill("#handoff-description", "鞋底开胶，想退货退款")
    page.get_by_test_id("hand-off").click()

    expect(page.get_by_test_id("case-number")).to_be_visible()
    number = page.get_by_test_id("case-number").inner_text()
    case = Case.objects.get(number=number)
    assert case.channel == "chat" and case.order_id == order.pk
    assert "鞋底开胶，想退货退款" in case.description
    assert "Can I still return my order without a reason?" in case.description  # the transcript
    expect(page.locator("main")).to_contain_text("鞋底开胶，想退货退款")

    # the next question starts a new conversation
    page.goto(f"{live_server.url}/help/")
    expect(page.get_by_test_id("assistant-turn")).to_have_count(0)


def test_asking_too_fast_is_refused_with_the_reason_and_the_question_kept(
    open_page, live_server, monkeypatch
):
    monkeypatch.setattr(assistant_service, "RATE_LIMIT", (2, 60))
    page = open_page()
    page.goto(f"{live_server.url}/help/")
    _ask(page, "怎么申请平台介入")
    _ask(page, "商家多久要回复")
    page.fill("#question", "退款多久到账")
    page.get_by_test_id("ask").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many questions in a short time")
    expect(page.locator("#question")).to_have_value("退款多久到账")
    assert AssistantTurn.objects.count() == 2
