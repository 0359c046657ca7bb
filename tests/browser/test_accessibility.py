"""Accessibility of the pages people work in, checked by axe-core (vendored, run in Chromium):
no serious or critical WCAG 2 A/AA violation."""

from pathlib import Path

import pytest

from marketguard.complaints import services
from marketguard.core.models import Role
from marketguard.core.testing import factories

from . import test_complaints_e2e as e2e
from .test_complaints_e2e import _sign_in, _world

open_page = e2e.open_page
media = e2e.media

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text(encoding="utf-8")


def _violations(page) -> list[str]:
    page.evaluate(AXE)  # through the DevTools protocol: not an inline script the page's CSP refuses
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"
    )
    return [
        f"{page.url} {v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_main_pages_have_no_serious_accessibility_violations(open_page, live_server):
    consumer, order, merchant = _world()
    agent = factories.user(Role.AGENT, username="agent_a11y")
    analyst = factories.user(Role.ANALYST, username="analyst_a11y")
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        description="杯子有裂缝，漏水",
        amount_claimed="129.00",
    ).case
    # another case of the same consumer: the agent's case page lists it beside this one
    services.submit_case(
        actor=consumer, channel="web", kind="complaint", description="客服态度很差，一直不回复"
    )
    found = []
    visitor = open_page()
    for path in ("/login/", "/help/"):
        visitor.goto(f"{live_server.url}{path}")
        found += _violations(visitor)
    for user, paths in (
        (consumer, ["/cases/", f"/cases/{case.number}/", "/cases/new/"]),
        (merchant, ["/cases/", f"/cases/{case.number}/", "/cases/dashboard/"]),
        (
            agent,
            [
                "/cases/?scope=all",
                f"/cases/{case.number}/",
                "/cases/?view=all",
                f"/cases/?view=all&related={case.number}",
                "/cases/alerts/",
            ],
        ),
        (analyst, ["/cases/dashboard/"]),
    ):
        page = open_page()
        _sign_in(page, live_server, user)
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            found += _violations(page)
    assert not found, "\n".join(found)
