"""Inputs that used to answer 500: each now gets a 4xx naming the field (or, for a naive time,
the meaning the API documents)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from marketguard.complaints import services
from marketguard.complaints.models import Case

from .test_services import _file

pytestmark = pytest.mark.django_db


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- amounts beyond decimal's precision ------------------------------------------------------------


@pytest.mark.parametrize("amount", ["9" * 40, "9" * 29])
def test_an_endless_amount_claimed_is_refused_naming_the_field(world, api, amount):
    w = world
    response = api(w.consumer).post(
        "cases",
        {
            "kind": "complaint",
            "description": "杯子有裂缝",
            "order": w.order.external_id,
            "amount_claimed": amount,
        },
    )
    assert response.status_code == 422, response.content
    assert _fields(response) == ["amount_claimed"]
    assert not Case.objects.exists()


def test_an_endless_proposal_amount_is_refused_naming_the_field(world, api):
    w = world
    case = _file(
        w, kind="return_refund", problem_type="quality", description="杯子有裂缝", amount_claimed=None
    ).case
    response = api(w.merchant).post(
        f"cases/{case.number}/proposals", {"remedy": "refund", "amount": "9" * 40}
    )
    assert response.status_code == 422, response.content
    assert _fields(response) == ["amount"]
    assert not case.proposals.exists()


@pytest.mark.parametrize("amount", ["9" * 400, "1e999999"])
def test_the_web_form_refuses_an_endless_amount_too(world, amount):
    w = world
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w.consumer)
    response = client.post(
        "/cases/new/",
        {
            "kind": "complaint",
            "description": "杯子有裂缝",
            "order": w.order.external_id,
            "amount_claimed": amount,
        },
    )
    assert response.status_code == 422
    # the message sits at the amount's field
    assert (
        '<p class="field-error" role="alert">Enter an amount in yuan, not negative, with at most two decimals'
        in response.content.decode()
    )
    assert not Case.objects.exists()


# --- the time the returned goods arrived ------------------------------------------------------------


@pytest.fixture
def awaiting_return(world):
    w = world
    case = _file(w, problem_type="quality", description="杯子有裂缝", amount_claimed="100.00").case
    proposal = services.make_proposal(
        actor=w.merchant, number=case.number, remedy="return_refund", amount="100.00"
    )
    services.decide_proposal(actor=w.consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    return case, case.remedies.get()


def test_a_received_at_without_offset_is_platform_local_time(world, api, settings, awaiting_return):
    w = world
    case, remedy = awaiting_return
    local = ZoneInfo(settings.TIME_ZONE)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        wall = (timezone.now() - timedelta(hours=20)).astimezone(local).replace(tzinfo=None, microsecond=0)
        response = api(w.merchant).post(
            f"cases/{case.number}/remedies/{remedy.pk}/return-received", {"received_at": wall.isoformat()}
        )
    assert response.status_code == 200, response.content
    received = datetime.fromisoformat(response.json()["received_at"])
    assert received == wall.replace(tzinfo=local)
    remedy.refresh_from_db()
    assert remedy.received_at == wall.replace(tzinfo=local)


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1969-12-31T00:00:00"]
)
def test_a_received_at_off_the_calendar_is_refused_naming_the_field(world, api, awaiting_return, when):
    w = world
    case, remedy = awaiting_return
    response = api(w.merchant).post(
        f"cases/{case.number}/remedies/{remedy.pk}/return-received", {"received_at": when}
    )
    assert response.status_code == 422, response.content
    assert _fields(response) == ["received_at"]
    remedy.refresh_from_db()
    assert remedy.received_at is None


# --- report periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("cases/metrics", {"since": "0001-01-01T00:00:00+14:00"}, "since"),
        ("cases/metrics", {"until": "9999-12-31T23:59:59-12:00"}, "until"),
        ("cases/metrics", {"since": "2200-01-01T00:00:00+00:00"}, "since"),
        ("cases/violations", {"until": "9999-12-31T23:59:59-12:00"}, "until"),
        ("cases/breaches.csv", {"since": "0001-01-01T00:00:00-05:00"}, "since"),
    ],
)
def test_a_period_off_the_calendar_is_refused_naming_the_field(world, api, path, params, field):
    response = api(world.agent).get(path, params, headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.content
    assert _fields(response) == [field]
    assert response.json()["errors"][0]["message"] == "Give a time between 1970 and 2099."


def test_a_period_within_the_calendar_still_answers(world, api):
    w = world
    _file(w, kind="complaint", problem_type="quality", description="杯子有裂缝", amount_claimed=None)
    agent = api(w.agent)
    wide = agent.get("cases/metrics", {"since": "1970-01-01T00:00:00+00:00", "until": "2099-12-31T23:59:59"})
    assert wide.status_code == 200 and wide.json()["cases"] == 1
    later = agent.get(
        "cases/metrics", {"since": (timezone.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()}
    )
    assert later.status_code == 200 and later.json()["cases"] == 0
    assert agent.get("cases/breaches.csv", {"since": "2020-01-01T00:00:00"}).status_code == 200


# --- page numbers -------------------------------------------------------------------------------------


def test_an_endless_page_number_is_refused_naming_the_field(world, api):
    w = world
    for path in ("cases", "cases/violations"):
        response = api(w.agent).get(path, {"page": "9" * 30})
        assert response.status_code == 422, (path, response.content)
        assert _fields(response) == ["page"]


def test_a_page_past_the_last_is_empty(world, api):
    w = world
    _file(w, kind="complaint", problem_type="quality", description="杯子有裂缝", amount_claimed=None)
    response = api(w.agent).get("cases", {"page": 1_000_000})
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}
