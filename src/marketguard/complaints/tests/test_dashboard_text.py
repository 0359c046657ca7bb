"""The dashboard's KPI cards say their target in words that read naturally, and mention the cases
still inside their window only when there are some."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from marketguard.complaints.views.dashboard import _with_pending
from marketguard.core.models import Role
from marketguard.core.testing import factories


def test_the_pending_cases_are_mentioned_only_when_there_are_some():
    with translation.override("en"):
        assert _with_pending("target: every case", 0) == "target: every case"
        assert _with_pending("target: every case", None) == "target: every case"
        assert _with_pending("target ≥ 80%", 1) == "target ≥ 80% · 1 case not yet due"
        assert _with_pending("target ≥ 80%", 3) == "target ≥ 80% · 3 cases not yet due"


@pytest.mark.django_db
def test_the_dashboard_cards_read_naturally():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(factories.user(Role.ANALYST))
    html = client.get(reverse("complaints:dashboard")).content.decode()
    assert "target: every case" in html
    assert "target: all" not in html and "0 not yet due" not in html


@pytest.mark.django_db
def test_the_chinese_dashboard_writes_its_units_and_the_dispute_rate_in_chinese():
    from marketguard.complaints import services

    world_consumer = factories.user(Role.CONSUMER)
    order = factories.order(buyer_obj=factories.buyer(user=world_consumer))
    case = services.submit_case(
        actor=world_consumer,
        channel="web",
        kind="complaint",
        order_external_id=order.external_id,
        description="杯子漏水",
    ).case
    services.take_case(actor=factories.user(Role.AGENT), number=case.number)  # a first response
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(factories.user(Role.ANALYST))
    html = client.get(reverse("complaints:dashboard")).content.decode()
    assert " 小时</" in html or " 小时<" in html  # "0.0 小时", never "0.0 h"
    assert " h<" not in html
    assert "笔订单申请平台介入，本期新增有效订单" in html
    assert "目标：100%" in html and "工作时间，不含暂停" not in html
