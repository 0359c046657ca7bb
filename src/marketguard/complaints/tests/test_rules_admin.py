"""SLA policies and complaint rules are data an admin edits: a change that would not load is
refused with the field and the reason, the list's order and active columns are what counts, and
a row broken past those checks never stops intake."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from marketguard.complaints import services
from marketguard.complaints.models import ComplaintRules, SlaPolicyRow
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rules():
    services.clear_cache()
    yield
    services.clear_cache()


def _admin() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(factories.user(Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def test_the_admin_refuses_a_policy_that_would_not_load_and_names_the_reason():
    row = SlaPolicyRow.objects.get(name="p2_high")
    before = dict(row.data)
    response = _admin().post(
        f"/admin/complaints/slapolicyrow/{row.pk}/change/",
        {
            "name": "p2_high",
            "data": '{"priorities": ["P2"], "first_response": "-4h"}',
            "order": "20",
            "active": "on",
        },
    )
    assert response.status_code == 200  # the form again, not a 500
    assert "first_response" in response.content.decode()
    row.refresh_from_db()
    assert row.data == before


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"priorities": ["P9"]}, "priorities"),
        ({"first_reponse": "PT4H"}, "unknown field"),
        ({"escalation": {"resolution": {"breached": ["explode"]}}}, "explode"),
        (["not", "an", "object"], "JSON object"),
        ({"priorities": 5}, ""),
    ],
)
def test_bad_policy_data_is_refused(data, reason):
    row = SlaPolicyRow(name="custom", data=data, order=50)
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert "data" in refused.value.message_dict and reason in " ".join(refused.value.message_dict["data"])


def test_the_last_policy_for_every_case_cannot_be_switched_off():
    catch_all = SlaPolicyRow.objects.get(name="default")
    catch_all.active = False
    with pytest.raises(ValidationError, match="apply to every case"):
        catch_all.full_clean()
    SlaPolicyRow(name="fallback", data={"first_response": "PT12H"}, order=900).save()
    catch_all.full_clean()  # another row now applies to every case


def test_the_order_column_decides_between_equally_specific_policies():
    facts = {"priority": "P3", "kind": "exchange", "problem_type": "quality", "channel": "web"}
    SlaPolicyRow.objects.create(name="web_a", data={"channels": ["web"], "first_response": "PT2H"}, order=40)
    SlaPolicyRow.objects.create(name="web_b", data={"channels": ["web"], "first_response": "PT3H"}, order=50)
    from marketguard.complaints import sla

    assert sla.match_policy(services.policies(), facts).name == "web_a"
    SlaPolicyRow.objects.filter(name="web_b").update(order=30)  # what the list's order column does
    services.clear_cache()
    assert sla.match_policy(services.policies(), facts).name == "web_b"


def test_a_broken_row_never_stops_intake(caplog):
    SlaPolicyRow.objects.filter(name="default").update(data={"first_response": "soon"})
    SlaPolicyRow.objects.filter(name="refund_only").update(data={"kinds": ["nope"]})
    consumer = factories.user(Role.CONSUMER)
    order = factories.order(buyer_obj=factories.buyer(user=consumer))
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="exchange",
        order_external_id=order.external_id,
        description="尺码不合适，想换大一号",
    ).case
    assert case.sla_policy == "default" and case.first_response_due is not None  # the shipped one
    assert "'default' is invalid and was skipped" in caplog.text


def test_bad_timeouts_or_triage_rules_are_refused_with_the_field():
    rules = ComplaintRules.objects.get(id=1)
    rules.timeouts = {"auto_approve_refund_only": "never"}
    rules.triage = {"amount_raise": 5}
    rules.food_categories = ""  # no catalog here (see the test below)
    with pytest.raises(ValidationError) as refused:
        rules.full_clean()
    assert set(refused.value.message_dict) == {"timeouts", "triage"}


def test_food_category_codes_must_name_categories():
    from marketguard.core.testing import factories

    food = factories.category(external_id="C02")
    rules = ComplaintRules.objects.get(id=1)
    rules.food_categories = "C02, c02x"
    with pytest.raises(ValidationError) as refused:
        rules.full_clean()
    assert "c02x" in refused.value.message_dict["food_categories"][0]
    rules.food_categories = "C02"
    rules.full_clean()
    assert rules.is_food(factories.category(parent=food)) and not rules.is_food(factories.category())
    assert not rules.is_food(None)
    rules.timeouts = {"auto_approve_refund_only": "PT96H"}
    rules.triage = {}
    rules.full_clean()
