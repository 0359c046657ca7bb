"""Contract of the whole API: authentication, one error format, and no 500 on bad input anywhere."""

import json
import re

import pytest
from django.test import Client

from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

PROBLEM_KEYS = {"type", "title", "status", "code", "detail", "errors"}


def _openapi():
    return Client().get("/api/v1/openapi.json").json()


def _operations():
    spec = _openapi()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def _fill_path(path: str) -> str:
    return path.replace("{external_id}", "X1")


def test_openapi_and_docs_are_served_without_a_cdn():
    client = Client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "MarketGuard API"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    # nothing fetched from elsewhere: every script, style and icon is our own (not a search for
    # "cdn", which the page's random CSRF token spells now and then)
    assert not re.search(rb'(?:src|href)="(?:https?:)?//', docs.content)
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content


#: The only operations a visitor without a token or session may call: the smart customer service.
PUBLIC_OPERATIONS = {("post", "/api/v1/assistant/ask"), ("post", "/api/v1/assistant/feedback")}


def test_every_operation_requires_authentication():
    client = Client()
    checked = 0
    for path, method, _op in _operations():
        url = "/api/v1" + _fill_path(path) if not path.startswith("/api/v1") else _fill_path(path)
        response = getattr(client, method)(url, content_type="application/json")
        if (method, url) in PUBLIC_OPERATIONS:  # open to visitors: an empty body is a 422, not a 401
            assert response.status_code == 422, (method, path, response.status_code)
            continue
        assert response.status_code == 401, (method, path, response.status_code)
        assert set(response.json()) >= PROBLEM_KEYS
        checked += 1
    assert checked >= 10


def test_wrong_token_gets_401_and_a_good_token_reaches_the_api(api):
    user = factories.user(Role.ADMIN)
    wrong = Client().get("/api/v1/me", headers={"Authorization": "Bearer mg_0000_notatoken"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "UNAUTHENTICATED"
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    ok = api(user).get("me")
    assert ok.status_code == 200
    assert ok.json()["role"] == "admin"


def test_revoked_and_expired_tokens_are_refused(api):
    from datetime import timedelta

    from django.utils import timezone

    from marketguard.core import services
    from marketguard.core.models import ApiToken

    user = factories.user(Role.AGENT)
    row, secret = services.create_api_token(actor=None, user=user)
    headers = {"Authorization": f"Bearer {secret}"}
    assert Client().get("/api/v1/me", headers=headers).status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get("/api/v1/me", headers=headers).status_code == 401
    ApiToken.objects.filter(pk=row.pk).update(expires_at=None)
    services.revoke_api_token(actor=None, token_id=row.pk)
    assert Client().get("/api/v1/me", headers=headers).status_code == 401


def test_session_api_calls_need_the_csrf_token():
    user = factories.user(Role.ADMIN)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me").status_code == 200
    response = client.put("/api/v1/catalog/buyers/B1", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403


def _bad_bodies(op):
    yield "not json at all {"
    yield "[]"
    yield "{}"
    yield json.dumps({"unexpected_field": 1})
    schema_ref = (
        op.get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
        .get("schema", {})
        .get("$ref", "")
    )
    if schema_ref:
        yield json.dumps({"name": {"nested": True}, "price": 1.5, "placed_at": "yesterday", "rows": "x"})


def test_bad_input_gets_4xx_naming_the_field_never_500(api):
    admin = factories.user(Role.ADMIN)
    client = api(admin)
    seen = 0
    for path, method, op in _operations():
        url = _fill_path(path)
        if method in ("post", "put", "patch"):
            for body in _bad_bodies(op):
                response = client._call(method, url, raw=body)
                assert 400 <= response.status_code < 500, (method, path, body, response.status_code)
                problem = response.json()
                assert set(problem) >= PROBLEM_KEYS, problem
                assert problem["errors"], (method, path, body, problem)
                assert all(e["field"] for e in problem["errors"])
                seen += 1
        else:
            for params in (
                {"page": "zero"},
                {"page": -1},
                {"page": "9" * 30},
                {"status": "no-such-status"},
                {"placed_after": "soon"},
            ):
                response = client.get(url, params)
                assert response.status_code < 500, (path, params, response.status_code)
                if response.status_code >= 400:
                    assert response.json()["errors"][0]["field"]
                seen += 1
    assert seen > 40


def test_validation_error_names_the_field(api):
    client = api(factories.user(Role.ADMIN))
    response = client.put("catalog/merchants/M1", {"name": "A", "uscc": "91310000MA1FL0000X"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_INPUT"
    assert body["errors"][0]["field"] == "uscc"
    assert "check" in body["errors"][0]["message"].lower()
