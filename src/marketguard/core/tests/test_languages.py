"""Each person reads pages and mail in their language: the choice is saved with the account."""

import pytest
from django.test import Client

from marketguard.core import languages
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-CN", "zh-hans"), ("zh_Hans", "zh-hans"), ("en-GB", "en"), ("EN", "en"), ("fr", ""), ("", "")],
)
def test_language_codes_map_to_the_shipped_languages(code, expected):
    assert languages.supported(code) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("收到的杯子漏水", "zh-hans"),
        ("收到的 iPhone 15 Pro Max 屏幕有划痕", "zh-hans"),  # an English product name
        ("The kettle gave me a shock", "en"),
        ("My Xiaomi 小米 phone broke", "en"),  # a Chinese brand name
        ("The kettle gave me a shock when I touched it. Regards, 张三", "en"),  # a signature
        ("杯子 cup broken leaking", ""),  # mixed: both languages
        ("12345 !!", ""),
    ],
)
def test_the_language_of_a_complaint_is_read_from_its_text(text, expected):
    assert languages.written_in(text) == expected


def _signed_in(user) -> Client:
    client = Client()
    assert (
        client.post("/login/", {"username": user.username, "password": "correct horse battery"}).status_code
        == 302
    )
    return client


@pytest.mark.django_db
def test_the_language_switch_is_saved_with_the_account_and_follows_the_user(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    user = factories.user(Role.AGENT)
    client = _signed_in(user)
    assert '<html lang="zh-hans">' in client.get("/cases/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    user.refresh_from_db()
    assert user.preferred_language == "en"
    assert AuditEntry.objects.filter(action="preferred_language_set", object_id=str(user.pk)).exists()

    # another browser (no language cookie, a Chinese Accept-Language): still English once signed in
    elsewhere = _signed_in(user)
    page = elsewhere.get("/cases/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content.decode()
    assert '<html lang="en">' in page and "Sign out" in page
    # a visitor with the same browser settings gets Chinese
    login_page = Client().get("/login/", headers={"Accept-Language": "zh-CN"}).content.decode()
    assert '<html lang="zh-hans">' in login_page


@pytest.mark.django_db
def test_a_visitor_switching_language_gets_the_cookie_only():
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "en"
    assert not AuditEntry.objects.filter(action="preferred_language_set").exists()


@pytest.mark.django_db
def test_the_api_reads_and_sets_the_preferred_language(api):
    user = factories.user(Role.CONSUMER)
    client = api(user)
    assert client.get("me").json()["preferred_language"] == ""
    refused = client.patch("me", {"preferred_language": "fr"})
    assert refused.status_code == 422 and "preferred_language" in refused.content.decode()
    assert client.patch("me", {"preferred_language": "zh-CN"}).json()["preferred_language"] == "zh-hans"
    assert client.patch("me", {"preferred_language": ""}).json()["preferred_language"] == ""
    assert client.patch("me", {}).status_code == 422  # the field is required
    assert api(None).patch("me", {"preferred_language": "en"}).status_code == 401


@pytest.mark.django_db
def test_api_messages_follow_the_token_owners_language_unless_the_request_asks(api, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    user = factories.user(Role.CONSUMER, preferred_language="en")
    client = api(user)
    refused = client.patch("me", {"preferred_language": "fr"}).json()
    assert refused["errors"][0]["message"].startswith("Unknown language fr")
    asked = client.patch("me", {"preferred_language": "fr"}, headers={"Accept-Language": "zh-CN"}).json()
    assert asked["errors"][0]["message"].startswith("未知语言 fr")
