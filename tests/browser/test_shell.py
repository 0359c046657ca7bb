import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")


def test_sign_in_switch_language_search_and_sign_out(page, live_server, new_context):
    admin = factories.user(Role.ADMIN, username="boss")
    order = factories.order()
    other = factories.order()

    _sign_in(page, live_server, admin)
    expect(page.locator("h1")).to_contain_text("欢迎")
    expect(page.get_by_test_id("role")).to_have_text("平台管理员")

    page.select_option("#lang", "en")
    expect(page.locator("h1")).to_contain_text("Welcome")
    expect(page.locator("nav.mainnav")).to_contain_text("Audit trail")

    page.click("nav.mainnav >> text=Orders")
    expect(page.locator("#results")).to_contain_text(other.external_id)
    page.fill("#q", order.external_id)
    expect(page.locator("#results")).not_to_contain_text(other.external_id)
    expect(page.locator("#results")).to_contain_text(order.external_id)
    expect(page).to_have_url(re.compile(rf"q={order.external_id}"))

    page.click(f"text={order.external_id}")
    expect(page.locator("h1")).to_contain_text(order.external_id)

    page.click("text=Sign out")
    expect(page).to_have_url(re.compile(r"/login/$"))

    # the choice is kept with the account: another browser, set to Chinese, shows English once
    # the same person signs in (and Chinese to the visitor before that)
    elsewhere = new_context("zh-CN").new_page()
    elsewhere.goto(f"{live_server.url}/login/")
    expect(elsewhere.locator("html")).to_have_attribute("lang", "zh-hans")
    _sign_in(elsewhere, live_server, admin)
    expect(elsewhere.locator("h1")).to_contain_text("Welcome")
    expect(elsewhere.locator("#lang")).to_have_value("en")


def test_wrong_password_shows_the_reason(page, live_server):
    user = factories.user(Role.CONSUMER, username="buyer1")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "nope")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误。")


def test_merchant_sees_only_its_orders(page, live_server):
    mine = factories.order()
    other = factories.order()
    staff = factories.user(Role.MERCHANT_STAFF, merchant_obj=mine.merchant)
    _sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/orders/")
    expect(page.locator("#results")).to_contain_text(mine.external_id)
    expect(page.locator("#results")).not_to_contain_text(other.external_id)
    expect(page.locator("nav.mainnav")).not_to_contain_text("审计日志")


def test_the_content_security_policy_blocks_injected_script_and_our_pages_keep_to_it(
    page, live_server, csp_violations
):
    admin = factories.user(Role.ADMIN, username="boss", is_staff=True, is_superuser=True)
    _sign_in(page, live_server, admin)
    # an injected inline script (what a stored XSS would be) does not run, and the watch sees it
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.__injected = 1")
    assert page.evaluate("window.__injected") is None
    assert any("inline script" in v for v in csp_violations), csp_violations
    csp_violations.clear()
    # the pages that bring their own scripts keep to the policy (checked by the watch at teardown)
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MarketGuard API")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/cases/dashboard/")
    expect(page.locator("#chart-opened svg")).to_be_visible()
