"""Password guessing is throttled everywhere a password is checked: on /login/ and on the admin
site's login, for guesses sent all at once, per username from many addresses, and with the client
address taken from X-Forwarded-For only when the request comes through a trusted proxy."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client, RequestFactory
from django.urls import reverse

from marketguard.core import services, throttle
from marketguard.core.errors import PermissionDenied
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _admin():
    return factories.user(Role.ADMIN, is_staff=True, is_superuser=True, username="boss")


def _admin_login(client, password, address="10.0.0.1", **extra):
    return client.post(
        "/admin/login/",
        {"username": "boss", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **extra,
    )


def _site_login(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def _locked_out(response) -> bool:
    text = response.content.decode()
    return "Too many failed attempts" in text or "尝试次数过多" in text


# --- the admin site's login ------------------------------------------------------------------------


def test_the_admin_login_locks_out_after_five_failures():
    _admin()
    client = Client()
    for i in range(5):
        response = _admin_login(client, f"wrong{i}")
        assert response.status_code == 200 and not _locked_out(response)
    response = _admin_login(client, PASSWORD)  # the right password, too late
    assert response.status_code == 200 and _locked_out(response)
    assert client.get("/admin/").status_code == 302  # not signed in
    # the failures are in the audit trail, as on /login/
    assert AuditEntry.objects.filter(action="login_failed", object_id="boss").count() == 5
    # another address is not locked out
    assert _admin_login(Client(), PASSWORD, address="10.0.0.2").status_code == 302


def test_guesses_on_the_site_and_on_the_admin_share_one_count():
    _admin()
    client = Client()
    for i in range(3):
        assert _site_login(client, "boss", f"wrong{i}").status_code == 400
    for i in range(2):
        assert not _locked_out(_admin_login(client, f"wrong-admin{i}"))
    assert _locked_out(_admin_login(client, PASSWORD))
    assert _locked_out(_site_login(client, "boss", PASSWORD))


def test_the_admin_login_still_signs_staff_in_and_refuses_others():
    _admin()
    client = Client()
    response = _admin_login(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    factories.user(Role.AGENT, username="agent-x")
    response = Client().post("/admin/login/", {"username": "agent-x", "password": PASSWORD})
    assert response.status_code == 200 and not _locked_out(response)  # not staff: refused, no lockout


# --- guesses sent at once --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_forty_guesses_at_once_get_no_more_password_checks_than_five(monkeypatch):
    user = factories.user(Role.AGENT)
    real = services.authenticate
    checked = []

    def slow_authenticate(request, **credentials):  # a real password hash takes a while
        checked.append(credentials["password"])
        threading.Event().wait(0.05)
        return real(request, **credentials)

    monkeypatch.setattr(services, "authenticate", slow_authenticate)
    request = RequestFactory().post("/login/", REMOTE_ADDR="203.0.113.9")
    barrier = threading.Barrier(40)
    outcomes, errors = [], []

    def guess(i):
        try:
            barrier.wait(timeout=10)
            services.login(request=request, username=user.username, password=f"guess{i}")
        except PermissionDenied as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    assert not errors, errors
    assert len(checked) == 5  # only five passwords were tried
    assert sorted(outcomes) == ["LOGIN_FAILED"] * 5 + ["LOGIN_THROTTLED"] * 35


# --- per username ------------------------------------------------------------------------------


def test_guesses_from_many_addresses_lock_the_username(settings):
    settings.LOGIN_THROTTLE = {"attempts": 5, "user_attempts": 20, "window_seconds": 900}
    user = factories.user(Role.AGENT)
    for i in range(20):  # one guess each from twenty addresses
        response = _site_login(Client(), user.username, "wrong", address=f"198.51.100.{i + 1}")
        assert response.status_code == 400 and not _locked_out(response)
    response = _site_login(Client(), user.username, PASSWORD, address="198.51.100.200")
    assert response.status_code == 400 and _locked_out(response)
    # other users are not affected
    other = factories.user(Role.AGENT)
    assert _site_login(Client(), other.username, PASSWORD, address="198.51.100.200").status_code == 302


def test_a_busy_shared_account_is_not_locked_by_its_own_logins(settings):
    settings.LOGIN_THROTTLE = {"attempts": 5, "user_attempts": 6, "window_seconds": 900}
    user = factories.user(Role.MERCHANT_STAFF)
    for i in range(15):
        assert _site_login(Client(), user.username, PASSWORD, address=f"192.0.2.{i + 1}").status_code == 302


def test_the_default_per_username_limit_is_above_the_per_address_one():
    user = factories.user(Role.AGENT)
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        for _ in range(5):
            _site_login(Client(), user.username, "wrong", address=address)
    assert throttle.is_locked(user.username, "10.0.0.1")
    assert not throttle.is_locked(user.username, "10.0.0.4")
    assert _site_login(Client(), user.username, PASSWORD, address="10.0.0.4").status_code == 302


# --- the client address behind a proxy -----------------------------------------------------------


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy():
    user = factories.user(Role.AGENT)
    client = Client()
    for i in range(5):  # a new made-up address in the header each time
        _site_login(client, user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}")
    response = _site_login(client, user.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert _locked_out(response)


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(settings):
    settings.MARKETGUARD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    user = factories.user(Role.AGENT)
    proxy = "10.1.2.3"
    for _ in range(5):
        _site_login(Client(), user.username, "wrong", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEntry.objects.filter(action="login_failed").last().after == {"address": "198.51.100.7"}
    # the guesser is locked out, even when it puts another address in front of its own ...
    locked = _site_login(
        Client(), user.username, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7"
    )
    assert _locked_out(locked)
    # ... while another customer coming through the same proxy signs in
    ok = _site_login(Client(), user.username, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert ok.status_code == 302


@pytest.mark.parametrize(
    "remote, forwarded, expected",
    [
        ("198.51.100.1", "203.0.113.5", "198.51.100.1"),  # not from a proxy: the header is ignored
        ("10.0.0.2", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.2", "1.2.3.4, 203.0.113.5", "203.0.113.5"),  # a forged first hop is skipped
        ("10.0.0.2", "203.0.113.5, 10.0.0.9", "203.0.113.5"),  # two trusted proxies in a row
        ("10.0.0.2", "203.0.113.5:51234", "203.0.113.5"),
        ("10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "unknown", "unknown"),
    ],
)
def test_the_client_address(settings, remote, forwarded, expected):
    settings.MARKETGUARD_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert throttle.client_address(request) == expected
