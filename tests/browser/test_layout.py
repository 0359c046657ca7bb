"""Layout on a phone (390 x 844) and on a desktop: the lists never make the page scroll sideways
(on a phone each row becomes a card, its cells labelled with the column headings), the assistant's
question box takes the row and the buttons are big enough to touch."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from marketguard.complaints import services
from marketguard.complaints.models import Case, MerchantViolation
from marketguard.core.models import Role
from marketguard.core.testing import factories

from .test_complaints_e2e import _sign_in, _world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
LAPTOP = {"width": 1280, "height": 900}

#: longer than the 60 characters a title is cut to when none is given
LONG = "The sole started peeling off after two weeks of normal walking in light rain."


@pytest.fixture
def open_page(new_context):
    """open_page(locale, viewport) -> a page in a fresh browser context (one person's cookies)."""
    contexts = []

    def make(locale: str = "zh-CN", viewport: dict = PHONE):
        context = new_context(locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.set_viewport_size(viewport)
        return page

    yield make
    for context in contexts:
        context.close()


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _fits(page, width: int = PHONE["width"]):
    """Neither the page nor any table cell reaches past the right edge of the screen (a cell
    clipped by its table's overflow would not widen the page, and still be cut off)."""
    assert _page_width(page) <= width, f"{page.url} scrolls sideways: {_page_width(page)} px"
    right = page.locator("main table.list td").evaluate_all(
        "tds => Math.max(0, ...tds.map(td => td.getBoundingClientRect().right))"
    )
    assert right <= width, f"{page.url}: a table cell ends at {right} px"


def _label(cell) -> str:
    """The column heading a phone shows before a cell (CSS generated content, from data-label)."""
    return cell.evaluate("td => getComputedStyle(td, '::before').content")


def _cases(consumer, order, other_order):
    english = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        description=LONG,
        amount_claimed="129.00",
    ).case
    services.submit_case(
        actor=consumer,
        channel="web",
        kind="exchange",
        order_external_id=other_order.external_id,
        description="平时穿40码，这双40码明显偏小，前面顶得很紧，想换41码。",
    )
    return english


def test_the_case_list_and_the_orders_fit_a_phone_in_chinese_and_in_english(open_page, live_server):
    consumer, order, _merchant = _world()
    other = factories.order(buyer_obj=order.buyer, paid_fen=8_900)
    case = _cases(consumer, order, other)
    assert case.title == LONG[:59] + "…"  # cut with an ellipsis when it was made (60 columns)

    page = open_page("zh-CN", PHONE)
    _sign_in(page, live_server, consumer)
    page.goto(f"{live_server.url}/cases/")
    expect(page.locator("h1")).to_have_text("我的案件")
    cases = page.get_by_test_id("my-cases")
    expect(cases.locator("tbody tr")).to_have_count(2)
    _fits(page)
    # each row is a card: the case first, then the other cells, each after its column heading
    row = cases.locator("tbody tr", has_text=case.number)
    assert row.evaluate("tr => getComputedStyle(tr).display") == "flex"
    assert _label(row.locator("td[data-label]").first) == '"类型"'
    # a title cut where the case was made ends with an ellipsis, not mid-word
    expect(row.locator(".sub")).to_have_text(f"{LONG[:59]}…")

    page.goto(f"{live_server.url}/orders/")
    expect(page.locator("#results")).to_contain_text(order.external_id)
    _fits(page)
    page.goto(f"{live_server.url}/cases/new/")
    page.select_option("#id_problem_type", "counterfeit")  # long labels, a file input per item
    expect(page.locator("#id_files_label_serial_photos")).to_be_visible()
    _fits(page)
    page.goto(f"{live_server.url}/orders/")

    page.select_option("#lang", "en")
    expect(page.locator("h1")).to_have_text("Orders")
    _fits(page)
    page.goto(f"{live_server.url}/cases/")
    expect(page.locator("h1")).to_have_text("My cases")
    _fits(page)
    row = page.get_by_test_id("my-cases").locator("tbody tr", has_text=case.number)
    assert _label(row.locator("td[data-label]").nth(2)) == '"Next step"'
    # "Next step" reads as a line of text, not a word per line
    assert row.locator("td[data-label]").nth(2).bounding_box()["width"] > 300

    # a desktop keeps the table: a header row and a row per case
    page.set_viewport_size(DESKTOP)
    expect(page.get_by_test_id("my-cases").locator("thead th").first).to_be_visible()
    assert row.evaluate("tr => getComputedStyle(tr).display") == "table-row"
    assert _label(row.locator("td[data-label]").first) == "none"
    _fits(page, DESKTOP["width"])


def test_the_queues_and_the_alerts_fit_a_phone(open_page, live_server):
    consumer, order, merchant = _world()
    agent = factories.user(Role.AGENT, username="agent_layout")
    other = factories.order(buyer_obj=order.buyer, paid_fen=8_900)
    _cases(consumer, order, other)

    shop = open_page("zh-CN", PHONE)
    _sign_in(shop, live_server, merchant)
    for path in ("/cases/", "/cases/?view=all", "/cases/alerts/", "/orders/"):
        shop.goto(f"{live_server.url}{path}")
        expect(shop.locator("main table.list tbody tr").first).to_be_visible()
        _fits(shop)
    staff = open_page("en-US", PHONE)
    _sign_in(staff, live_server, agent)
    for path in ("/cases/?scope=all", "/cases/?view=all"):
        staff.goto(f"{live_server.url}{path}")
        expect(staff.locator("main table.list tbody tr").first).to_be_visible()
        _fits(staff)


def test_mark_all_as_read_is_a_button_big_enough_to_touch(open_page, live_server):
    consumer, order, merchant = _world()
    _cases(consumer, order, factories.order(buyer_obj=order.buyer))
    for viewport in (PHONE, DESKTOP):
        page = open_page("zh-CN", viewport)
        _sign_in(page, live_server, merchant)
        page.goto(f"{live_server.url}/cases/alerts/")
        expect(page.get_by_test_id("alert").first).to_be_visible()
        button = page.get_by_test_id("mark-all-read")
        expect(button).to_have_text("全部标为已读")
        assert button.bounding_box()["height"] >= 32
        assert button.evaluate("b => getComputedStyle(b).borderTopStyle") == "solid"  # a .btn
        _fits(page, viewport["width"])
    button.click()
    expect(page.locator("tr.unread")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_question_box_takes_the_row_and_the_send_button_keeps_to_its_label(
    open_page, live_server, viewport
):
    consumer, _order, _merchant = _world()
    for signed_in in (False, True):
        page = open_page("zh-CN", viewport)
        if signed_in:
            _sign_in(page, live_server, consumer)
        page.goto(f"{live_server.url}/help/")
        question = page.locator("#question").bounding_box()
        ask = page.get_by_test_id("ask").bounding_box()
        assert question["width"] >= 200, question
        assert ask["width"] < question["width"] / 2, (question, ask)
        assert abs(ask["y"] - question["y"]) < 2  # on the same row
        assert question["height"] >= 32 and ask["height"] >= 32
        assert _page_width(page) <= viewport["width"]
    # and it still asks
    page.fill("#question", "退款什么时候到账")
    page.get_by_test_id("ask").click()
    expect(page.get_by_test_id("assistant-turn")).to_have_count(1)
    expect(page.locator("#question")).to_have_value("")
    assert re.search(r"/help/$", page.url)


def _header_rows(page) -> int:
    """How many rows the page header takes: its parts (brand, each menu entry, the language, the
    alerts, who is signed in, sign out) grouped by where they sit vertically."""
    tops = page.locator(
        "header.topbar .brand, header.topbar .mainnav a, header.topbar .topbar-right > *"
    ).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; })"
    )
    rows: list[float] = []
    for middle in sorted(tops):
        if not rows or middle - rows[-1] > 12:
            rows.append(middle)
    return len(rows)


def test_the_dashboard_fits_a_phone_and_its_header_one_row_on_a_laptop(open_page, live_server):
    consumer, order, merchant = _world()
    agent = factories.user(Role.AGENT, username="agent_dash", display_name="客服 Agent")
    # a reference as long as the marketplace's (O0000000043-01) on the second case
    long_ref = factories.order(
        buyer_obj=order.buyer,
        product_obj=order.items.first().product,
        paid_fen=8_900,
        external_id="O0000000043-01",
    )
    case = _cases(consumer, order, long_ref)
    services.take_case(actor=agent, number=case.number)
    for kind, details in (
        ("ruling_not_executed", {"due": "2026-11-13T10:13:00+08:00"}),
        ("silent_on_refund", {"amount_fen": 12_900}),
    ):
        MerchantViolation.objects.create(merchant=order.merchant, case=case, kind=kind, details=details)

    for locale, title, label in (
        ("zh-CN", "服务看板", '"当前处理中"'),
        ("en-US", "Service dashboard", '"Open now"'),
    ):
        page = open_page(locale, PHONE)
        _sign_in(page, live_server, agent)
        page.goto(f"{live_server.url}/cases/dashboard/")
        expect(page.locator("h1")).to_contain_text(title)
        agents, violations = page.get_by_test_id("agents"), page.get_by_test_id("violations")
        expect(agents.locator("tbody tr")).to_have_count(1)
        expect(violations.locator("tbody tr")).to_have_count(2)
        _fits(page)
        # like the queues: a card per row, the agent (the case) first, the figures labelled
        row = agents.locator("tbody tr").first
        assert row.evaluate("tr => getComputedStyle(tr).display") == "flex"
        assert _label(row.locator("td[data-label]").first) == label
        assert violations.locator("tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "flex"

    # a laptop: the header is one row, for an agent and for the role with the longest menu
    analyst = factories.user(Role.ANALYST, username="analyst_dash", display_name="数据 Analyst")
    for user in (agent, analyst):
        page = open_page("en-US", LAPTOP)
        _sign_in(page, live_server, user)
        page.goto(f"{live_server.url}/cases/dashboard/")
        expect(page.locator("h1")).to_contain_text("Service dashboard")
        assert _header_rows(page) == 1, f"{user.username}: the header wraps"
        _fits(page, LAPTOP["width"])
        # and the table keeps its header row on a laptop
        expect(page.get_by_test_id("agents").locator("thead th").first).to_be_visible()
    # the phone keeps its stacked header: no sideways scroll there either
    page.set_viewport_size(PHONE)
    assert _page_width(page) <= PHONE["width"]

    # the case page's narrow Details column: a long label wraps, the order number stays whole
    shop = open_page("en-US", LAPTOP)
    _sign_in(shop, live_server, merchant)
    number = Case.objects.get(order=long_ref).number
    shop.goto(f"{live_server.url}{reverse('complaints:detail', args=[number])}")
    details = shop.locator("#details")
    expect(details).to_contain_text("Intervention possible until")
    assert _header_rows(shop) == 1, "the merchant's header wraps at 1280 px"
    link = details.locator("dd a", has_text=long_ref.external_id)
    assert link.evaluate("a => a.getClientRects().length") == 1, "the order number breaks inside"
    # on a phone, in Chinese, the right of the header is one row: who is signed in gives way
    merchant.display_name = "商家 Merchant 售后组"  # as long as a store's staff names are
    merchant.save(update_fields=["display_name"])
    phone = open_page("zh-CN", PHONE)
    _sign_in(phone, live_server, merchant)
    phone.goto(f"{live_server.url}/cases/")
    right = phone.locator("header.topbar .topbar-right > *").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"
    )
    tops, bottoms = [t for t, _b in right], [b for _t, b in right]
    assert max(tops) - min(tops) < 12 and max(bottoms) - min(bottoms) < 24, (
        f"the header's right wraps: {right}"
    )
    sign_out = phone.locator("header.topbar .topbar-right button.link")
    assert (
        sign_out.evaluate("b => b.getClientRects().length") == 1
        and sign_out.evaluate("b => b.getBoundingClientRect().height") < 30
    ), "Sign out breaks over two lines"


def test_countdowns_read_the_same_overdue_or_not_a_day_or_more_in_days_with_the_date(open_page, live_server):
    """app.js writes every countdown: a day or more in days and hours followed by the date, under a
    day in hours and minutes (47 h 13 min overdue is "1d 23h overdue · date", not "47h 13m")."""
    consumer, _order, _merchant = _world()
    page = open_page("en-US", DESKTOP)
    _sign_in(page, live_server, consumer)
    page.goto(f"{live_server.url}/cases/")
    texts = page.evaluate(
        """() => {
          const minutes = [-(4 * 24 + 6) * 60 - 1, -(47 * 60 + 13) - 0.5, -(24 * 60) - 0.5, -(23 * 60 + 59) - 0.5,
                           -5.5, 5.5, (3 * 60 + 2) + 0.5, (30 * 60 + 1) + 0.5];
          const made = minutes.map(function (m) {
            const el = document.createElement("time");
            el.dataset.deadline = new Date(Date.now() + m * 60000).toISOString();
            el.dataset.leftLabel = "%s left"; el.dataset.overLabel = "%s overdue";
            el.title = "DATE";
            document.body.appendChild(el);
            return el;
          });
          document.dispatchEvent(new Event("htmx:afterSwap"));
          return made.map(function (el) { return el.textContent; });
        }"""
    )
    assert texts == [
        "4d 6h overdue · DATE",
        "1d 23h overdue · DATE",
        "1d 0h overdue · DATE",
        "23h 59m overdue",
        "5m overdue",
        "5m left",
        "3h 2m left",
        "1d 6h left · DATE",
    ], texts


def test_countdowns_count_on_the_servers_clock_when_the_device_clock_is_wrong(open_page, live_server):
    """A phone set two hours fast still reads the time left to a deadline as the server counts it;
    the page is not kept in the browser's cache (it says when it was made)."""
    from datetime import UTC, datetime, timedelta

    consumer, _order, _merchant = _world()
    page = open_page("en-US", DESKTOP)
    _sign_in(page, live_server, consumer)
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=2))  # the device's clock
    response = page.goto(f"{live_server.url}/cases/")
    assert "no-store" in response.headers["cache-control"]
    deadline = (datetime.now(UTC) + timedelta(hours=3, minutes=2, seconds=30)).isoformat()
    text = page.evaluate(
        """(deadline) => {
          const el = document.createElement("time");
          el.dataset.deadline = deadline; el.dataset.leftLabel = "%s left";
          document.body.appendChild(el);
          document.dispatchEvent(new Event("htmx:afterSwap"));
          return el.textContent;
        }""",
        deadline,
    )
    assert text == "3h 2m left", text  # the device's clock would say 1h 2m


def test_a_days_share_on_the_dashboard_says_how_many_cases_it_is_of(open_page, live_server):
    """100 % of one case is no trend: the tooltip of a day's share says what it is of."""
    consumer, _order, _merchant = _world()
    agent = factories.user(Role.AGENT, username="agent_chart")
    analyst = factories.user(Role.ANALYST, username="analyst_chart")
    case = services.submit_case(
        actor=consumer, channel="web", kind="complaint", description="客服态度很差，问了三次都不回复"
    ).case
    services.acknowledge_case(actor=agent, number=case.number)
    services.resolve_case(actor=agent, number=case.number, reason="已电话致歉")
    page = open_page("en-US", DESKTOP)
    _sign_in(page, live_server, analyst)
    page.goto(f"{live_server.url}/cases/dashboard/?days=7")
    chart = page.locator("#chart-resolved")
    expect(chart.locator("svg")).to_be_visible()
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] / 2)  # today, the last day
    expect(chart).to_contain_text("100% of 1 case")
