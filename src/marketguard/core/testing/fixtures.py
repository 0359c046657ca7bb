"""pytest fixtures shared by every app's tests (loaded from the root conftest)."""

from __future__ import annotations

import pytest

from marketguard.core import services
from marketguard.core.models import Role
from marketguard.core.testing import factories


@pytest.fixture
def make_user(db):
    return factories.user


@pytest.fixture
def admin_user(db):
    return factories.user(Role.ADMIN, is_staff=True)


@pytest.fixture
def api(db):
    """An API client: api(user).get(...) sends the user's bearer token; api(None) sends none."""
    from django.test import Client

    class ApiClient:
        def __init__(self, user):
            self.client = Client()
            self.headers = {}
            if user is not None:
                _, secret = services.create_api_token(actor=None, user=user)
                self.headers["Authorization"] = f"Bearer {secret}"

        def _call(self, method, path, data=None, raw=None, **extra):
            url = path if path.startswith("/") else f"/api/v1/{path}"
            kwargs = {"headers": {**self.headers, **extra.pop("headers", {})}, **extra}
            if raw is not None:
                return getattr(self.client, method)(url, raw, content_type="application/json", **kwargs)
            if method in ("get", "delete"):
                return getattr(self.client, method)(url, data or {}, **kwargs)
            return getattr(self.client, method)(
                url, data if data is not None else {}, content_type="application/json", **kwargs
            )

        def get(self, path, data=None, **kw):
            return self._call("get", path, data, **kw)

        def post(self, path, data=None, **kw):
            return self._call("post", path, data, **kw)

        def put(self, path, data=None, **kw):
            return self._call("put", path, data, **kw)

        def patch(self, path, data=None, **kw):
            return self._call("patch", path, data, **kw)

    return ApiClient


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files of a test go to its own temporary folder, never to var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_rule_caches():
    """Rules and policies cached by a previous test (another database state) are dropped, and so
    are the counters of the throttles (the shared cache)."""
    from django.core.cache import cache

    from marketguard.complaints import services as complaint_services
    from marketguard.core import calendars

    complaint_services.clear_cache()
    calendars.clear_cache()
    cache.clear()
    yield
