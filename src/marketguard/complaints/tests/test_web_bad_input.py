"""Every form on the case page, sent with bad values by each party that may see the case: a
refusal (4xx) or a redirect, never a server error."""

import pytest
from django.test import Client

from marketguard.complaints.views.cases import ACTIONS

from .test_domain_conformance import _escalated

#: every field a case-page form reads, and ids that name records (no version: the forms are read
#: past the check that the case did not change meanwhile)
FIELDS = [
    "address_confirmed",
    "amount",
    "body",
    "carrier",
    "comment",
    "compensation_basis",
    "decision",
    "duplicate",
    "event_id",
    "internal",
    "item",
    "items",
    "material_code",
    "message",
    "not_intact",
    "note",
    "order",
    "outcome",
    "payment_reference",
    "postage",
    "primary",
    "proposal_id",
    "reason",
    "reasons",
    "remedy",
    "remedy_id",
    "repair_due",
    "return_address",
    "score",
    "to_username",
    "tracking_number",
    "what",
]

pytestmark = pytest.mark.django_db

BAD = {
    "huge number": "9" * 40,
    "negative": "-1",
    "not a date": "2026-13-45",
    "very long": "长" * 20_000,
    "control characters": "a\x00b\x1bc",
}


@pytest.mark.parametrize("label", list(BAD))
def test_every_case_form_refuses_bad_values_without_a_server_error(world, label):
    w = world
    case, _asked = _escalated(w)
    value = BAD[label]
    for user in (w.agent, w.arbitrator, w.consumer, w.merchant):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for action in ACTIONS:
            response = client.post(f"/cases/{case.number}/{action}/", dict.fromkeys(FIELDS, value))
            assert response.status_code < 500, (label, user.role, action, response.status_code)
            assert response.status_code in (302, 400, 403, 404, 409, 422), (label, user.role, action)


INTAKE_FIELDS = [
    "amount_claimed",
    "buyer",
    "buyer_phone",
    "channel",
    "contact_email",
    "description",
    "kind",
    "order",
    "order_number",
    "problem_type",
    "safety_confirmed",
    "title",
]


@pytest.mark.parametrize("label", list(BAD))
def test_the_intake_form_refuses_bad_values_without_a_server_error(world, label):
    w = world
    for user in (w.consumer, w.agent):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        response = client.post("/cases/new/", dict.fromkeys(INTAKE_FIELDS, BAD[label]))
        assert response.status_code in (302, 400, 403, 404, 409, 422), (
            label,
            user.role,
            response.status_code,
        )
