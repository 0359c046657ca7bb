"""The consumer's other cases beside a case: the platform's history of them, never shown to the
parties."""

import pytest

from marketguard.complaints import services
from marketguard.core.testing import factories

from .test_link_order import _call, _client
from .test_services import _file

pytestmark = pytest.mark.django_db


def test_the_agent_sees_the_consumers_other_cases_newest_first_and_no_one_elses(world, api):
    w = world
    first = _file(w, kind="complaint", description="鞋子开胶").case
    second = _call(w)  # the same buyer on the hotline, no order named
    other_order = factories.order(buyer_obj=w.buyer, paid_fen=30_000)
    third = _file(w, kind="complaint", description="衣服掉色", order_external_id=other_order.external_id).case
    stranger = services.submit_case(
        actor=w.agent,
        channel="hotline",
        kind="complaint",
        description="别人的投诉：物流太慢",
        contact_email="someone-else@example.com",
    ).case
    by_mail = _call(w, buyer_external_id=None, contact_email="Buyer@Example.com")  # the buyer's address

    seen = api(w.agent).get(f"cases/{first.number}/related").json()
    numbers = [c["number"] for c in seen["items"]]
    assert numbers == [by_mail.number, third.number, second.number]
    assert first.number not in numbers and stranger.number not in numbers

    page = _client(w.agent).get(f"/cases/{first.number}/").content.decode()
    panel = page[page.index('data-testid="related-cases"') :]
    panel = panel[: panel.index("</section>")]
    assert "The consumer&#x27;s other cases" in panel or "The consumer's other cases" in panel
    assert [n for n in (by_mail.number, third.number, second.number) if n in panel] == numbers
    assert stranger.number not in panel


def test_the_parties_get_no_history_of_the_consumers_cases(world, api):
    w = world
    case = _file(w, kind="complaint", description="鞋子开胶").case
    _file(
        w,
        kind="complaint",
        description="衣服掉色",
        order_external_id=factories.order(buyer_obj=w.buyer, paid_fen=30_000).external_id,
    )
    services.forward_to_merchant(actor=w.agent, number=case.number)
    for user in (w.consumer, w.merchant):
        assert api(user).get(f"cases/{case.number}/related").status_code == 403
        assert (
            'data-testid="related-cases"' not in _client(user).get(f"/cases/{case.number}/").content.decode()
        )
    outsider = factories.user("consumer")
    assert api(outsider).get(f"cases/{case.number}/related").status_code == 404


def test_a_long_history_shows_the_newest_and_leads_to_the_whole_list_by_buyer(world):
    w = world
    cases = [_call(w, description=f"电话投诉第{i}次：客服态度差") for i in range(10)]
    agent = _client(w.agent)
    page = agent.get(f"/cases/{cases[0].number}/").content.decode()
    assert 'data-testid="related-all"' in page
    assert sum(c.number in page for c in cases[1:]) == 8  # the newest eight of the nine others
    listing = agent.get(f"/cases/?view=all&related={cases[0].number}").content.decode()
    assert 'data-testid="related-filter"' in listing
    assert all(c.number in listing for c in cases[1:])
    by_buyer = agent.get(f"/cases/?view=all&q={w.buyer.external_id}").content.decode()  # searched by buyer id
    assert all(c.number in by_buyer for c in cases)
    refused = _client(w.merchant).get(f"/cases/?view=all&related={cases[0].number}")
    assert refused.status_code in (403, 404)  # the consumer's history is the platform's
