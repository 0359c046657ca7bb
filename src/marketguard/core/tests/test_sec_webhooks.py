"""Webhooks reach the public internet only, and what a receiver answers is never shown back.

A subscription naming a loopback, private, link-local or reserved address is refused when it is
saved (422 naming `url`); a host that resolves to such an address is refused again when a delivery
is made; and a failed attempt records the status code and its standard phrase, never the body of
the answer, so the deliveries API cannot be used to read internal services."""

import http.server
import socket
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from marketguard.core import delivery, events, webhook_services, webhooks
from marketguard.core.errors import InvalidInput
from marketguard.core.models import Role, WebhookDelivery, WebhookSubscription
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

INTERNAL_SECRET = "INTERNAL-ONLY: db_password=hunter2; aws_key=AKIAEXAMPLE"

NON_PUBLIC_URLS = [
    "http://127.0.0.1:8000/internal-admin",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:6379/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://10.0.0.5/hook",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/",
]


class _Receiver:
    """An HTTP server on 127.0.0.1 answering every POST with `status` and a secret body."""

    def __init__(self, status: int = 403, body: bytes = INTERNAL_SECRET.encode()):
        self.requests = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests += 1
                self.send_response(status, "Forbidden " + INTERNAL_SECRET)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kw):
        made.append(_Receiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _publish() -> None:
    with transaction.atomic():
        events.publish("case.created", aggregate=factories.user(), payload={"n": 1})


def _deliver() -> None:
    delivery.deliver_due(now=timezone.now() + timedelta(seconds=1))


# --- saving a subscription ---------------------------------------------------------------------


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
def test_a_subscription_to_a_local_or_private_address_is_refused_naming_the_url(api, url):
    response = api(factories.user(Role.ADMIN)).post("webhooks/subscriptions", {"url": url})
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == "URL_NOT_PUBLIC"
    assert problem["errors"][0]["field"] == "url"
    assert not WebhookSubscription.objects.exists()


def test_public_receivers_are_still_accepted(api):
    client = api(factories.user(Role.ADMIN))
    for url in ("https://hooks.example.com/mg", "https://8.8.8.8/hook", "https://[2606:4700::1111]/in"):
        assert client.post("webhooks/subscriptions", {"url": url}).status_code == 201, url


def test_the_command_line_refuses_them_too():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("webhook", "add", "--url", "http://169.254.169.254/latest/meta-data/")
    assert not WebhookSubscription.objects.exists()


def test_development_may_allow_local_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    sub = webhook_services.create_subscription(actor=None, url="http://127.0.0.1:8000/hook")
    assert sub.is_active


# --- delivering ----------------------------------------------------------------------------------


def test_a_name_that_resolves_to_a_local_address_is_not_connected_to(receiver, monkeypatch):
    server = receiver(status=204)
    sub = webhook_services.create_subscription(
        actor=None, url=f"http://hooks.example.com:{server.port}/hook"
    )  # a public-looking name, accepted when saved...
    real = socket.getaddrinfo

    def dns(host, *args, **kwargs):  # ...that resolves to loopback by the time of delivery
        return real("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    _publish()
    _deliver()
    row = WebhookDelivery.objects.get(subscription=sub)
    assert server.requests == 0  # nothing was sent to the internal service
    assert row.status == WebhookDelivery.Status.FAILED and row.last_status_code is None
    assert row.last_error.startswith("BlockedAddress")


def test_a_subscription_saved_while_local_receivers_were_allowed_is_refused_later(receiver, settings):
    server = receiver(status=204)
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    sub = webhook_services.create_subscription(actor=None, url=f"http://127.0.0.1:{server.port}/hook")
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    _publish()
    _deliver()
    row = WebhookDelivery.objects.get(subscription=sub)
    assert server.requests == 0
    assert row.status == WebhookDelivery.Status.FAILED and row.last_error.startswith("BlockedAddress")


def test_a_local_host_is_not_reached_through_a_proxy_either(receiver, monkeypatch):
    proxy = receiver(status=204)  # stands for the proxy: it must not be asked
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "")
    status, error = delivery._post("http://169.254.169.254/latest/meta-data/", b"{}", {})
    assert (status, error.split(":")[0]) == (None, "BlockedAddress")
    assert proxy.requests == 0


def test_the_answer_of_a_receiver_is_never_recorded_nor_shown(receiver, settings, api):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    server = receiver(status=403)
    sub = webhook_services.create_subscription(actor=None, url=f"http://127.0.0.1:{server.port}/admin")
    _publish()
    _deliver()
    assert server.requests == 1
    row = WebhookDelivery.objects.get(subscription=sub)
    assert row.last_status_code == 403
    assert row.last_error == "HTTP 403 Forbidden"  # the standard phrase, not the receiver's
    shown = api(factories.user(Role.ADMIN)).get(f"webhooks/subscriptions/{sub.pk}/deliveries")
    assert shown.status_code == 200
    assert shown.json()["items"][0]["last_error"] == "HTTP 403 Forbidden"
    assert "hunter2" not in shown.content.decode()


def test_a_receiver_that_does_not_speak_http_is_not_quoted(settings):
    """Redis, SMTP and the like answer with a line of their own: the error names its kind only."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def answer():
        conn, _ = srv.accept()
        conn.recv(65536)
        conn.sendall(b"-ERR " + INTERNAL_SECRET.encode() + b"\r\n")
        conn.close()
        srv.close()

    threading.Thread(target=answer, daemon=True).start()
    status, error = delivery._post(f"http://127.0.0.1:{srv.getsockname()[1]}/", b"{}", {})
    assert status is None and error == "BadStatusLine"


def test_errors_recorded_before_the_fix_are_shown_without_the_answer(api):
    sub = webhook_services.create_subscription(actor=None, url="https://hooks.example.com/in")
    _publish()
    WebhookDelivery.objects.filter(subscription=sub).update(
        status=WebhookDelivery.Status.FAILED,
        last_status_code=403,
        last_error=f"HTTP 403 Forbidden: {INTERNAL_SECRET}",
    )
    shown = api(factories.user(Role.ADMIN)).get(f"webhooks/subscriptions/{sub.pk}/deliveries")
    assert shown.json()["items"][0]["last_error"] == "HTTP 403 Forbidden"
    assert "hunter2" not in shown.content.decode()


# --- the address rules (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0.0.0.0",
        "169.254.169.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "[::1]",
        "::",
        "fe80::1%eth0",
        "fc00::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "localhost",
        "LOCALHOST.",
        "db.localhost",
        "metadata.google.internal",
        "nas.local",
        "",
    ],
)
def test_non_public_hosts(host):
    assert webhooks.is_non_public_host(host)


@pytest.mark.parametrize("host", ["8.8.8.8", "2606:4700::1111", "hooks.example.com", "deadbeef.example.com"])
def test_public_hosts(host):
    assert not webhooks.is_non_public_host(host)


def test_invalid_input_for_a_private_url_is_a_domain_error():
    with pytest.raises(InvalidInput) as err:
        webhook_services.create_subscription(actor=None, url="http://[::1]:8080/")
    assert err.value.errors[0].field == "url" and err.value.code == "URL_NOT_PUBLIC"
