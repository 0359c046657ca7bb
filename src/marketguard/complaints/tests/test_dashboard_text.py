"""The dashboard's KPI cards say their target in words that read naturally, and mention the cases
still inside their window only when there are some."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from marketguard.complaints.views import _with_pending
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
