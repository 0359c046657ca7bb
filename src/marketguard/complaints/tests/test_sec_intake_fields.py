"""Filing over the API, a consumer cannot make the platform write to an address of their choosing,
nor pass their case off as one taken on the hotline: what the web form offers to staff only, the
API refuses to everyone else, naming the field."""

import pytest

from marketguard.complaints.models import Case, OutgoingMail

pytestmark = pytest.mark.django_db

PHISHING = "Your bank account is frozen - verify at http://evil.example/login"


def _file(client, w, **kw):
    return client.post(
        "cases",
        {"kind": "complaint", "description": "杯子有裂缝，请处理", "order": w.order.external_id, **kw},
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("contact_email", "victim@thirdparty.example"), ("channel", "hotline"), ("buyer_phone", "13812345678")],
)
def test_a_consumer_is_refused_staff_only_fields(world, api, field, value):
    w = world
    response = _file(api(w.consumer), w, title=PHISHING, **{field: value})
    assert response.status_code == 403, response.content
    problem = response.json()
    assert problem["code"] == "STAFF_ONLY"
    assert [e["field"] for e in problem["errors"]] == [field]
    assert not Case.objects.exists() and not OutgoingMail.objects.exists()


def test_every_staff_only_field_given_is_named(world, api):
    w = world
    response = _file(api(w.consumer), w, channel="email", contact_email="a@b.example", buyer_phone="1")
    assert response.status_code == 403
    assert {e["field"] for e in response.json()["errors"]} == {"channel", "contact_email", "buyer_phone"}


@pytest.mark.parametrize("channel", ["web", "app", "api"])
def test_a_consumer_files_on_their_own_channels_and_is_written_to_at_their_address(world, api, channel):
    w = world
    response = _file(api(w.consumer), w, channel=channel, contact_email="  ")
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.channel == channel and case.contact_email == "buyer@example.com"
    assert {m.to_address for m in OutgoingMail.objects.all()} <= {"buyer@example.com"}


def test_staff_still_file_a_hotline_case_for_a_caller(world, api):
    w = world
    for staff in (w.agent, w.admin):
        response = api(staff).post(
            "cases",
            {
                "kind": "complaint",
                "channel": "hotline",
                "description": "来电：杯子有裂缝",
                "buyer_phone": "13812345678",
                "contact_email": "caller@example.com",
            },
        )
        assert response.status_code == 201, response.content
        assert response.json()["case"]["channel"] == "hotline"
    assert set(Case.objects.values_list("contact_email", flat=True)) == {"caller@example.com"}


def test_a_consumer_cannot_label_a_message_as_a_call_or_an_email(world, api):
    w = world
    number = _file(api(w.consumer), w).json()["case"]["number"]
    case = Case.objects.get(number=number)
    refused = api(w.consumer).post(f"cases/{case.number}/messages", {"body": "补充", "channel": "hotline"})
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "channel"
    assert not case.messages.filter(party="consumer").exists()
    assert api(w.consumer).post(f"cases/{case.number}/messages", {"body": "补充"}).status_code == 201
    agent = api(w.agent).post(
        f"cases/{case.number}/messages", {"body": "来电记录：已致电", "channel": "hotline"}
    )
    assert agent.status_code == 201
