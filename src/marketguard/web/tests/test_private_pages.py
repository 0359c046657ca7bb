"""What a signed-in user is given is not stored by the browser; answers that set their own caching
keep it."""

import pytest
from django.test import Client

from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def test_a_signed_in_users_pages_are_not_stored_and_a_visitors_are_left_alone():
    visitor = Client()
    sign_in = visitor.get("/login/")
    assert sign_in.status_code == 200 and "no-store" not in sign_in.get("Cache-Control", "")
    client = Client()
    client.force_login(factories.user(Role.AGENT))
    page = client.get("/cases/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store, private"
    assert 'data-now="' in page.content.decode()  # when it was made, for the live countdowns
    api = client.get("/api/v1/cases")  # (the session's API answers hold the same data)
    assert api.status_code == 200 and api["Cache-Control"] == "no-store, private"
