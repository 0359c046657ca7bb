"""Complaints and after-sales in a real browser: the consumer and the merchant each in their own
browser context, htmx and the live countdowns included."""

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from marketguard.complaints import services
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_page(new_context):
    """open_page() -> a page in a fresh browser context (its own cookies: one person each)."""
    contexts = []

    def make():
        context = new_context("en-US")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login/"))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (180, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def _status(page):
    return page.get_by_test_id("case-status")


def _world():
    consumer = factories.user(Role.CONSUMER, username="buyer_e2e")
    order = factories.order(buyer_obj=factories.buyer(user=consumer), paid_fen=12_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant, username="shop_e2e")
    return consumer, order, merchant


def test_quality_complaint_with_a_photo_refund_agreed_executed_and_rated(open_page, live_server):
    consumer, order, merchant = _world()
    buyer, shop = open_page(), open_page()

    _sign_in(buyer, live_server, consumer)
    buyer.goto(f"{live_server.url}/cases/new/")
    buyer.select_option("#id_kind", "return_refund")
    buyer.select_option("#id_order", order.external_id)
    to_send = buyer.get_by_test_id("intake-checklist")
    expect(to_send.locator("#id_files_defect_photos")).to_be_hidden()  # "let us decide": the common items
    buyer.select_option("#id_problem_type", "size_mismatch")
    expect(to_send.locator("#id_files_size_tag_photos")).to_be_visible()
    buyer.select_option("#id_kind", "refund_only")
    buyer.select_option("#id_problem_type", "no_reason_return_7day")  # a return: not refund-only
    expect(buyer.locator("#id_kind")).to_have_value("return_refund")
    expect(buyer.locator('#id_kind option[value="refund_only"]')).to_be_disabled()
    buyer.select_option("#id_problem_type", "quality")  # the list follows the choice
    expect(buyer.locator('#id_kind option[value="refund_only"]')).to_be_enabled()
    expect(to_send.locator("#id_files_size_tag_photos")).to_be_hidden()
    expect(to_send.locator("li:not([hidden])")).to_have_count(
        6
    )  # description, 2 photos, video, report, return tracking
    expect(to_send.locator('li[data-code="defect_photos"] .req')).to_be_visible()
    buyer.fill("#id_description", "杯子收到就有裂缝，倒水会漏")
    # what is typed is counted against the limit (pasted text beyond it would be cut off unseen)
    expect(buyer.locator("#description-count")).to_have_text(re.compile(r"^\D*13\D+5000"))
    buyer.fill("#id_amount", "129.00")
    buyer.set_input_files(
        "#id_files_defect_photos", files=[{"name": "crack.png", "mimeType": "image/png", "buffer": _png()}]
    )
    buyer.click("form.intake button[type=submit]")

    notice = buyer.get_by_test_id("materials-notice")
    expect(notice).to_contain_text("Clear photos of the defect")
    expect(notice).to_contain_text("required")
    expect(notice.locator('li[data-code="defect_photos"]')).to_have_class("done")  # filed under its item
    expect(buyer.get_by_test_id("evidence")).to_have_count(1)
    thumbnail = buyer.locator("[data-testid=evidence] img")
    expect(thumbnail).to_have_attribute("alt", "crack.png")
    # the thumbnail really loaded (polled from here: a string predicate would be an eval the
    # page's Content Security Policy refuses)
    for _ in range(100):
        if thumbnail.evaluate("img => img.complete && img.naturalWidth") > 0:
            break
        buyer.wait_for_timeout(100)
    assert thumbnail.evaluate("img => img.naturalWidth") > 0
    expect(_status(buyer)).to_have_attribute("data-status", "awaiting_merchant")
    number = buyer.get_by_test_id("case-number").inner_text()

    _sign_in(shop, live_server, merchant)
    shop.goto(f"{live_server.url}/cases/")
    shop.click(f"text={number}")
    # a ready reply goes into the message box, to be edited before it is sent
    shop.select_option("#reply-template", "en:need-clear-photos")
    body = shop.locator("#message-body")
    expect(body).to_have_value(re.compile(r"^Hello, to confirm the problem quickly, please add"))
    expect(shop.locator("#reply-template")).to_have_value("")
    body.fill(body.input_value() + " Thank you!")
    shop.click("#act-message button[type=submit]")
    expect(shop.get_by_test_id("timeline")).to_contain_text("photos of the packaging and the shipping label")
    expect(shop.get_by_test_id("timeline")).to_contain_text("Thank you!")
    expect(body).to_have_value("")
    shop.select_option("#propose-remedy", "refund")
    shop.fill("#propose-amount", "129.00")
    shop.fill("#propose-note", "抱歉，全额退款")
    shop.click("#act-propose button[type=submit]")
    expect(shop.get_by_test_id("proposal")).to_have_attribute("data-status", "open")
    expect(_status(shop)).to_have_attribute("data-status", "negotiating")

    buyer.reload()
    expect(buyer.get_by_test_id("proposal")).to_contain_text("¥129.00")
    buyer.get_by_test_id("accept-proposal").click()
    expect(_status(buyer)).to_have_attribute("data-status", "executing")

    shop.reload()
    shop.locator("[name=payment_reference]").fill("RF20261122001")
    shop.get_by_test_id("execute-remedy").click()
    expect(_status(shop)).to_have_attribute("data-status", "resolved")

    buyer.reload()
    expect(_status(buyer)).to_have_attribute("data-status", "resolved")
    expect(buyer.get_by_test_id("remedy")).to_contain_text("RF20261122001")
    buyer.click("label[for=score-5]")
    buyer.fill("#rate-comment", "处理很快")
    buyer.click("#act-rate button[type=submit]")
    expect(_status(buyer)).to_have_attribute("data-status", "closed")
    expect(buyer.get_by_test_id("rating")).to_contain_text("★★★★★")


def test_dispute_goes_to_the_platform_and_gets_a_ruling(open_page, live_server, confirmations):
    consumer, order, merchant = _world()
    arbitrator = factories.user(Role.ARBITRATOR, username="judge_e2e")
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        problem_type="quality",
        description="鞋底开胶",
        amount_claimed="129.00",
    ).case
    services.make_proposal(
        actor=merchant, number=case.number, remedy="refund", amount="20.00", note="只能补偿20元"
    )
    buyer, judge = open_page(), open_page()

    _sign_in(buyer, live_server, consumer)
    buyer.goto(f"{live_server.url}/cases/{case.number}/")
    buyer.get_by_test_id("reject-proposal").click()
    expect(buyer.get_by_test_id("proposal")).to_have_attribute("data-status", "rejected")
    assert "cannot be accepted afterwards" in confirmations[-1] or "之后不能再接受" in confirmations[-1]
    buyer.click("#act-intervention summary")
    buyer.fill("#intervention-reason", "商家只肯退20元，要求平台介入")
    buyer.get_by_test_id("request-intervention").click()
    expect(_status(buyer)).to_have_attribute("data-status", "escalated")

    _sign_in(judge, live_server, arbitrator)
    judge.goto(f"{live_server.url}/cases/")
    expect(judge.locator(f"[data-testid=queue-row][data-case='{case.number}']")).to_be_visible()
    judge.click(f"text={case.number}")
    judge.get_by_test_id("start-review").click()
    expect(_status(judge)).to_have_attribute("data-status", "platform_review")
    # the merchant has 24 h to settle or answer: the ruling form waits until it has answered
    expect(judge.get_by_test_id("settle-window")).to_be_visible()
    expect(judge.locator("#act-ruling")).to_have_count(0)
    services.post_message(actor=merchant, number=case.number, body="商家陈述：鞋子出库前检验合格")
    judge.reload()
    judge.select_option("#ruling-outcome", "consumer_upheld")
    # the legal basis of a compensation is asked only when compensation is the remedy
    expect(judge.locator("#ruling-basis")).to_be_hidden()
    judge.select_option("#ruling-remedy", "compensation")
    expect(judge.locator("#ruling-basis")).to_be_visible()
    expect(judge.locator("#ruling-basis")).to_have_value("")  # the arbitrator names the basis
    # what the basis still allows for the purchase is said as the amount is typed
    judge.fill("#ruling-amount", "200.00")
    expect(judge.locator("#ruling-basis-over")).to_be_hidden()
    judge.select_option("#ruling-basis", "goodwill")  # at most the ¥129.00 paid
    expect(judge.locator("#ruling-basis-over")).to_be_visible()
    judge.select_option("#ruling-basis", "fraud")  # three times the price, at least ¥500
    expect(judge.locator("#ruling-basis-over")).to_be_hidden()
    # the law sets the amount (here the consumer's claim of ¥129.00, less than ¥500): less is said
    fraud = judge.locator('#ruling-basis option[value="fraud"]')
    expect(fraud).to_contain_text("the consumer's claim ¥129.00 (the law sets ¥500.00)")
    judge.fill("#ruling-amount", "100.00")
    expect(judge.locator("#ruling-basis-under")).to_be_visible()
    judge.fill("#ruling-amount", "129.00")
    expect(judge.locator("#ruling-basis-under")).to_be_hidden()
    judge.select_option("#ruling-remedy", "refund")
    expect(judge.locator("#ruling-basis")).to_be_hidden()
    judge.fill("#ruling-amount", "")
    asked = len(confirmations)
    judge.click("#act-ruling button[type=submit]")  # no amount, no reasons: said before any confirmation
    expect(judge.locator("#ruling-amount:invalid")).to_have_count(1)
    expect(judge.locator("#ruling-reasons:invalid")).to_have_count(1)
    assert len(confirmations) == asked and _status(judge).get_attribute("data-status") == "platform_review"
    judge.fill("#ruling-amount", "129.00")
    judge.fill("#ruling-reasons", "照片显示鞋底开胶，属质量问题，支持全额退款。")
    judge.click("#act-ruling button[type=submit]")
    expect(judge.get_by_test_id("ruling")).to_contain_text("支持全额退款")
    expect(_status(judge)).to_have_attribute("data-status", "executing")
    # the arbitrator keeps the case file: one ZIP with the record, the evidence and the audit
    with judge.expect_download() as download:
        judge.get_by_test_id("export-case").click()
    assert download.value.suggested_filename == f"{case.number}.zip"
    with zipfile.ZipFile(download.value.path()) as case_file:
        record = json.loads(case_file.read("case.json"))
    assert record["rulings"][0]["reasons"] == "照片显示鞋底开胶，属质量问题，支持全额退款。"

    buyer.reload()
    expect(buyer.get_by_test_id("export-case")).to_have_count(0)
    expect(buyer.get_by_test_id("ruling")).to_contain_text("Consumer's claim upheld")
    expect(buyer.get_by_test_id("ruling")).to_contain_text("¥129.00")


def test_agent_queue_puts_the_breached_case_first_with_live_countdowns(open_page, live_server):
    consumer = factories.user(Role.CONSUMER)
    buyer = factories.buyer(user=consumer)
    agent = factories.user(Role.AGENT, username="agent_e2e")
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        old = services.submit_case(
            actor=consumer,
            channel="web",
            kind="complaint",
            description="上个月的投诉没人理",
            problem_type="service_attitude",
        ).case
    fresh = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        description="物流太慢了",
        problem_type="logistics_delay",
    ).case
    assert buyer.pk and old.created_at < fresh.created_at
    page = open_page()

    _sign_in(page, live_server, agent)
    page.goto(f"{live_server.url}/cases/")
    expect(page.get_by_test_id("queue-row")).to_have_count(0)  # nothing of mine yet
    page.click("nav.tabs >> text=Unassigned")
    expect(page).to_have_url(re.compile(r"scope=unassigned"))
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-case", old.number)
    expect(rows.first).to_have_attribute("data-state", "breached")
    expect(rows.nth(1)).to_have_attribute("data-case", fresh.number)
    # app.js replaced the printed deadline by a live countdown
    # long overdue: in days and hours, with the date
    expect(rows.first.locator("time.countdown")).to_have_text(
        re.compile(r"^\d+d \d+h overdue · \d{4}-\d\d-\d\d \d\d:\d\d$")
    )
    expect(rows.first.locator("time.countdown")).to_have_class(re.compile(r"overdue"))
    expect(rows.nth(1).locator("time.countdown")).to_have_text(re.compile(r"^(\d+h )?\d+m left$"))

    page.click(f"text={old.number}")
    expect(page.get_by_test_id("clock").first).to_contain_text("Breached")
    page.click("#act-take button[type=submit]")
    expect(page.get_by_test_id("owner")).to_have_text("agent_e2e")
    page.click("#act-message button[type=submit]")  # empty: the reason comes back next to the form
    expect(page.locator("#err-message")).to_contain_text("This field is required.")
    page.fill("#message-body", "您好，我们已经开始处理")  # posted with htmx, the timeline re-rendered
    page.click("#act-message button[type=submit]")
    expect(page.get_by_test_id("timeline")).to_contain_text("我们已经开始处理")
    expect(page.locator("#message-body")).to_have_value("")
    expect(page.locator("#err-message")).to_be_empty()
    page.fill("#message-body", "第二条消息也能发出")  # the version was refreshed: no 409
    page.click("#act-message button[type=submit]")
    expect(page.get_by_test_id("timeline")).to_contain_text("第二条消息也能发出")
