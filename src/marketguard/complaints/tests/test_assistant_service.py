"""The smart customer service end to end: answers from articles and from the consumer's own data,
safety first, feedback, hand-off to a person as a chat case, throttling, who may see what."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from marketguard.complaints import services
from marketguard.complaints.models import AssistantTurn, Case, HelpArticle
from marketguard.core.errors import InvalidInput, NotFound, PermissionDenied, Throttled
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_index():
    services.clear_cache()
    yield
    services.clear_cache()


@pytest.fixture
def consumer():
    user = factories.user(Role.CONSUMER, email="zhao@example.com")
    buyer = factories.buyer(user=user, email="zhao@example.com")
    order = factories.order(buyer_obj=buyer, paid_fen=5_900)  # delivered and signed 3 days ago
    return user, order


def _ask(actor, question, key=None, client="10.0.0.1", language="zh-hans"):
    return services.ask_assistant(
        actor=actor, question=question, session_key=key, client=client, language=language
    )


def test_the_shipped_articles_are_in_the_database():
    assert HelpArticle.objects.filter(active=True).count() >= 20
    assert all(a.title_zh and a.title_en and a.body_zh and a.body_en for a in HelpArticle.objects.all())


def test_a_visitor_gets_an_article_answer_in_their_language_and_the_conversation_continues():
    first = _ask(None, "退款一般多久能到账？", client="10.0.0.2")
    assert first.kind == "article" and first.article and first.text
    assert first.text == HelpArticle.objects.get(slug=first.article).body_zh
    second = _ask(
        None,
        "How long do refunds take after the seller gets the item back?",
        key=first.session_key,
        client="10.0.0.2",
        language="en",
    )
    assert second.session_key == first.session_key
    assert second.article == first.article
    assert second.text == HelpArticle.objects.get(slug=second.article).body_en
    # a short question it is not sure of gets the closest articles to choose from, best first
    third = _ask(
        None, "How long does a refund take?", key=first.session_key, client="10.0.0.2", language="en"
    )
    assert third.kind == "fallback" and third.article is None
    assert third.suggestions[0]["slug"] == first.article
    assert third.suggestions[0]["title"] == HelpArticle.objects.get(slug=first.article).title_en
    assert AssistantTurn.objects.filter(session__key=first.session_key).count() == 3


def test_a_safety_risk_is_answered_first_with_an_offer_to_file_at_once():
    reply = _ask(None, "充电宝充电的时候起火了，把桌子都烧黑了", client="10.0.0.3")
    assert reply.kind == "safety"
    assert reply.offer == {"kind": "complaint", "problem_type": "safety"}
    assert "停止使用" in reply.text or "Stop using" in reply.text


def test_the_consumer_gets_their_own_7_day_return_deadline(consumer):
    user, order = consumer
    reply = _ask(user, "我这个订单还能七天无理由退货吗？", client="10.0.0.4", language="en")
    assert reply.kind == "own_data"
    line = next(line for line in reply.text.splitlines() if order.external_id in line)
    assert "possible until" in line  # signed for 3 days ago: still inside the 7 days


def test_a_visitor_asking_about_their_own_parcel_is_asked_to_sign_in(consumer):
    _user, order = consumer
    reply = _ask(None, "我的快递到哪了", client="10.0.0.5", language="en")
    assert reply.kind == "own_data" and "Sign in" in reply.text and order.external_id not in reply.text


def test_the_consumer_sees_their_open_cases_and_nobody_elses(consumer):
    user, order = consumer
    case = services.submit_case(
        actor=user,
        channel="web",
        kind="complaint",
        description="客服不回复",
        order_external_id=order.external_id,
    ).case
    other = factories.user(Role.CONSUMER)
    mine = _ask(user, "我的投诉处理到哪一步了", client="10.0.0.6")
    assert mine.kind == "own_data" and case.number in mine.text
    theirs = _ask(other, "我的投诉处理到哪一步了", client="10.0.0.7")
    assert case.number not in theirs.text


def test_feedback_only_on_ones_own_conversation(consumer):
    user, _order = consumer
    reply = _ask(user, "退货运费谁出", client="10.0.0.8")
    services.rate_assistant_answer(
        actor=user, session_key=reply.session_key, turn_id=reply.turn.pk, helpful=True
    )
    reply.turn.refresh_from_db()
    assert reply.turn.helpful is True
    stranger = factories.user(Role.CONSUMER)
    with pytest.raises(NotFound):
        services.rate_assistant_answer(
            actor=stranger, session_key=reply.session_key, turn_id=reply.turn.pk, helpful=False
        )
    # someone else's key starts a new conversation instead of reading theirs
    fresh = _ask(stranger, "你好", key=reply.session_key, client="10.0.0.9")
    assert fresh.session_key != reply.session_key
    assert services.conversation(actor=stranger, session_key=reply.session_key) == []


def test_hand_off_makes_a_chat_case_with_the_transcript(consumer):
    user, order = consumer
    first = _ask(user, "杯子漏水怎么办", client="10.0.1.1")
    _ask(user, "我要转人工", key=first.session_key, client="10.0.1.1")
    with pytest.raises(PermissionDenied):
        services.hand_off_to_agent(actor=None, session_key=first.session_key)
    intake = services.hand_off_to_agent(
        actor=user,
        session_key=first.session_key,
        kind="return_refund",
        problem_type="quality",
        order_external_id=order.external_id,
        description="保温杯用了两天就漏水",
    )
    case = intake.case
    assert case.channel == "chat" and case.kind == "return_refund" and case.problem_type == "quality"
    assert case.description.startswith("保温杯用了两天就漏水")
    assert "杯子漏水怎么办" in case.description and "我要转人工" in case.description
    with pytest.raises(InvalidInput):  # one conversation, one case
        services.hand_off_to_agent(actor=user, session_key=first.session_key)
    assert Case.objects.count() == 1


def test_a_visitor_asking_too_fast_is_throttled():
    for _ in range(services.assistant.RATE_LIMIT[0]):
        _ask(None, "你好", client="10.9.9.9")
    with pytest.raises(Throttled):
        _ask(None, "你好", client="10.9.9.9")
    _ask(None, "你好", client="10.9.9.8")  # another visitor is not affected


def test_bad_questions_are_refused_by_field():
    with pytest.raises(InvalidInput) as err:
        _ask(None, "   ", client="10.0.2.1")
    assert err.value.errors[0].field == "question"
    with pytest.raises(InvalidInput):
        _ask(None, "x" * 501, client="10.0.2.1")


def test_the_help_page_works_without_an_account_and_with_htmx():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(reverse("help:page")).status_code == 200
    response = client.post(
        reverse("help:ask"), {"question": "How do I return goods?"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'data-testid="assistant-turn"' in response.content.decode()
    page = client.get(reverse("help:page")).content.decode()
    assert "How do I return goods?" in page  # the conversation is kept in the visitor's session
    turn = AssistantTurn.objects.get()
    done = client.post(reverse("help:feedback", args=[turn.pk]), {"helpful": "no"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and 'data-testid="feedback-done"' in done.content.decode()
    # hand-off needs an account
    assert client.post(reverse("help:hand_off"), {}).status_code == 302
    assert Case.objects.count() == 0


def test_the_consumer_hands_off_from_the_page(consumer):
    user, order = consumer
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.post(reverse("help:ask"), {"question": "鞋子开胶了怎么办"})
    response = client.post(
        reverse("help:hand_off"),
        {"kind": "return_refund", "order": order.external_id, "description": "鞋底开胶"},
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"].startswith(f"/cases/{case.number}/")
    assert case.channel == "chat" and "鞋子开胶了怎么办" in case.description


def test_the_api_answers_visitors_and_hand_off_needs_a_token(api, consumer):
    user, order = consumer
    answer = api(None).post("assistant/ask", {"question": "七天无理由退货的规则是什么"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["kind"] in ("article", "fallback") and body["session"] and body["turn"]
    assert api(None).post("assistant/hand-off", {"session": body["session"]}).status_code == 401
    own = api(user).post("assistant/ask", {"question": "我想找人工客服"})
    filed = api(user).post(
        "assistant/hand-off",
        {"session": own.json()["session"], "order": order.external_id, "description": "质量问题"},
    )
    assert filed.status_code == 201 and filed.json()["case"]["channel"] == "chat"
    assert api(None).post("assistant/ask", {"question": ""}).status_code == 422


def test_the_dashboard_counts_what_the_assistant_did(consumer):
    from marketguard.complaints import selectors

    user, order = consumer
    analyst = factories.user(Role.ANALYST)
    a = _ask(user, "退货运费谁出", client="10.0.3.1")
    services.rate_assistant_answer(actor=user, session_key=a.session_key, turn_id=a.turn.pk, helpful=True)
    _ask(None, "今天天气怎么样，适合出门吗", client="10.0.3.2")
    services.hand_off_to_agent(actor=user, session_key=a.session_key, order_external_id=order.external_id)
    figures = selectors.metrics(analyst)["assistant"]
    assert figures["questions"] == 2 and figures["conversations"] == 2
    assert figures["helpful"] == 1.0 and figures["handed_off"] == 0.5
    assert figures["answered"] == 0.5  # the weather is not ours to answer
    page = Client(HTTP_ACCEPT_LANGUAGE="en")
    page.force_login(analyst)
    assert "Assistant answered" in page.get(reverse("complaints:dashboard")).content.decode()
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    assert selectors.metrics(merchant)["assistant"] is None


def test_with_no_article_in_the_database_the_shipped_ones_answer():
    HelpArticle.objects.all().delete()
    services.clear_cache()
    reply = _ask(None, "退款一般多久能到账？", client="10.0.0.9")
    assert reply.kind == "article" and reply.article == "refund-timing"
    assert reply.turn.article is None and "原路" in reply.text


def test_the_consumers_refunds_are_told_with_amounts_written_like_everywhere_else():
    user = factories.user(Role.CONSUMER)
    buyer = factories.buyer(user=user)
    order = factories.order(buyer_obj=buyer, paid_fen=113_700)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    case = services.submit_case(
        actor=user,
        channel="web",
        kind="refund_only",
        order_external_id=order.external_id,
        description="没收到货",
    ).case
    proposal = services.make_proposal(actor=merchant, number=case.number, remedy="refund", amount="1137.00")
    services.decide_proposal(actor=user, number=case.number, proposal_id=proposal.pk, accept=True)
    reply = _ask(user, "我的退款到哪了？")
    assert reply.kind != "article" and "¥1,137.00" in reply.text, reply.text


def test_the_hand_off_form_names_each_order_by_its_goods_and_takes_the_item(consumer):
    user, order = consumer
    second = factories.order_item(order, title="充电宝 20000mAh", paid_fen=9_900)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    client.force_login(user)
    page = client.get(reverse("help:page")).content.decode()
    assert f'value="{order.external_id}::{second.external_id}">充电宝 20000mAh · ¥99.00<' in page
    first = _ask(user, "充电宝充电时起火了")
    session = client.session  # the page keeps the conversation in the session
    session["assistant_session"] = first.session_key
    session.save()
    response = client.post(
        reverse("help:hand_off"),
        {
            "kind": "complaint",
            "order": f"{order.external_id}::{second.external_id}",
            "description": "充电宝起火",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.order_item_id == second.pk and case.product_id == second.product_id


# --- 7-day no-reason return: each item by its own category ------------------------------------------


def _return_lines(user, order):
    reply = _ask(user, "我这个订单还能七天无理由退货吗？", client="10.0.0.30", language="en")
    assert reply.kind == "own_data"
    return [line for line in reply.text.splitlines() if order.external_id in line]


def _excluded_item(order, title):
    item = factories.order_item(order, title=title, paid_fen=3_900)
    item.product.category = factories.category(no_reason_return="excluded")
    item.product.save(update_fields=["category"])
    return item


def test_a_single_item_order_keeps_its_one_line_answer(consumer):
    user, order = consumer
    lines = _return_lines(user, order)
    title = order.items.get().product.title
    assert len(lines) == 1
    assert re.fullmatch(
        rf"- {order.external_id} · {title}: possible until \d{{4}}-\d\d-\d\d \d\d:\d\d \(goods intact\)",
        lines[0],
    )


def test_a_mixed_order_is_answered_per_item(consumer):
    user, order = consumer
    _excluded_item(order, "新鲜荔枝")
    factories.order_item(order, title="纯棉T恤", paid_fen=9_900)
    lines = _return_lines(user, order)
    first = order.items.order_by("external_id").first().product.title
    assert len(lines) == 2
    possible = next(line for line in lines if "possible until" in line)
    refused = next(line for line in lines if "not possible" in line)
    assert f"{first}, 纯棉T恤:" in possible and "新鲜荔枝" not in possible
    assert "新鲜荔枝:" in refused and "excluded by law" in refused and "纯棉T恤" not in refused


def test_an_order_whose_items_are_all_excluded_is_one_refusal(consumer):
    user, _order = consumer
    fresh = factories.category(no_reason_return="excluded")
    order = factories.order(
        buyer_obj=_order.buyer,
        product_obj=factories.product(category_obj=fresh, title="新鲜荔枝"),
    )
    _excluded_item(order, "冷冻水饺")
    lines = _return_lines(user, order)
    assert len(lines) == 1
    assert lines[0].startswith(f"- {order.external_id} · 新鲜荔枝: not possible: ")
    assert "excluded by law" in lines[0] and "possible until" not in lines[0]


def test_a_mixed_order_with_many_items_names_five_and_counts_the_rest(consumer):
    user, order = consumer
    for i in range(7):
        factories.order_item(order, title=f"袜子{i}", paid_fen=900)
    _excluded_item(order, "新鲜荔枝")
    lines = _return_lines(user, order)
    assert len(lines) == 2
    possible = next(line for line in lines if "possible until" in line)
    assert possible.count(", ") == 4 and "and 3 more items:" in possible  # 8 eligible items: 5 named
    assert "新鲜荔枝" in next(line for line in lines if "not possible" in line)
