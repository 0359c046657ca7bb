"""The outbox and signed webhooks: signatures, backoff, publish in the caller's transaction,
delivery to a real local HTTP server, retries, giving up, two workers at once, and the API."""

import json
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.urls import path
from django.utils import timezone
from hypothesis import assume, given
from hypothesis import strategies as st

from marketguard.api import api as main_api
from marketguard.core import events, webhook_api, webhook_services, webhooks
from marketguard.core.delivery import deliver_due
from marketguard.core.errors import InvalidInput, NotFound, PermissionDenied
from marketguard.core.models import AuditEntry, OutboxEvent, Role, WebhookDelivery, WebhookSubscription
from marketguard.core.testing import factories

# --- the API under test: the real /api/v1/ once marketguard/api.py mounts the router, until then
# --- the same router, auth and error handlers on a test API with this module as URLconf.
if any(router is webhook_api.router for _prefix, router in main_api._routers):
    api_urls = pytest.mark.django_db
else:
    from ninja import NinjaAPI

    from marketguard.api import BearerAuth, CookieSession

    _test_api = NinjaAPI(urls_namespace="webhooks-test", auth=[BearerAuth(), CookieSession()])
    for _exc, _handler in main_api._exception_handlers.items():
        _test_api.add_exception_handler(_exc, _handler)
    _test_api.add_router("/webhooks/", webhook_api.router)
    urlpatterns = [path("api/v1/", _test_api.urls)]
    api_urls = pytest.mark.urls(__name__)


# --- a receiver: http.server on 127.0.0.1, random port ---------------------------------------------


class Receiver:
    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status = status
        self.delay = delay
        self.requests: list[tuple[str, object, bytes]] = []  # (path, headers, body)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append((self.path, self.headers, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the receiver listens on 127.0.0.1
    made = []

    def make(**kw) -> Receiver:
        made.append(Receiver(**kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _subscribe(url: str, **kw) -> WebhookSubscription:
    return webhook_services.create_subscription(actor=None, url=url, **kw)


# --- signatures and backoff (pure) -------------------------------------------------------------------

secrets_st = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=512)
timestamps = st.integers(min_value=0, max_value=4_000_000_000)


@given(secret=secrets_st, body=bodies, ts=timestamps)
def test_sign_verify_round_trip(secret, body, ts):
    header = webhooks.sign(secret, body, ts)
    assert header.startswith(f"t={ts},v1=")
    assert webhooks.verify(secret, body, header, now=ts)
    assert webhooks.verify(secret, body, header, now=ts + 300)
    assert webhooks.verify(secret, body, header, now=ts - 300)


@given(secret=secrets_st, body=st.binary(min_size=1, max_size=512), index=st.integers(0), ts=timestamps)
def test_a_changed_body_fails_verification(secret, body, index, ts):
    header = webhooks.sign(secret, body, ts)
    i = index % len(body)
    tampered = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
    assert not webhooks.verify(secret, tampered, header, now=ts)
    assert not webhooks.verify(secret, body + b" ", header, now=ts)


@given(secret=secrets_st, other=secrets_st, body=bodies, ts=timestamps)
def test_another_secret_fails_verification(secret, other, body, ts):
    assume(secret != other)
    assert not webhooks.verify(other, body, webhooks.sign(secret, body, ts), now=ts)


@given(secret=secrets_st, body=bodies, ts=timestamps, shift=st.integers(1, 10_000))
def test_a_moved_timestamp_or_a_stale_signature_fails(secret, body, ts, shift):
    header = webhooks.sign(secret, body, ts)
    signature = header.split(",v1=")[1]
    assert not webhooks.verify(secret, body, f"t={ts + shift},v1={signature}", now=ts + shift)
    assert not webhooks.verify(secret, body, header, now=ts + 300 + shift)
    assert not webhooks.verify(secret, body, header, now=ts - 300 - shift)


@given(header=st.text(max_size=200), body=bodies)
def test_garbage_headers_are_refused_without_raising(header, body):
    assert webhooks.verify("s3cret", body, header, now=time.time()) is False


def test_one_matching_signature_among_several_is_enough():
    body, ts = b'{"a":1}', 1_732_240_000
    good = webhooks.sign("new", body, ts).split(",v1=")[1]
    bad = webhooks.sign("old", body, ts).split(",v1=")[1]
    assert webhooks.verify("new", body, f"t={ts},v1={bad},v1={good}", now=ts)


def test_backoff_schedule_and_giving_up():
    assert [webhooks.backoff(n) for n in range(1, 8)] == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(hours=6),
        timedelta(hours=6),
    ]
    assert webhooks.MAX_ATTEMPTS == 8
    assert not webhooks.is_exhausted(7) and webhooks.is_exhausted(8)
    with pytest.raises(ValueError):
        webhooks.backoff(0)


# --- publish -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_refuses_unknown_event_types():
    with pytest.raises(ValueError), transaction.atomic():
        events.publish("case.exploded", aggregate=factories.user(), payload={})
    assert all(str(text) for text in events.EVENT_TYPES.values())


@pytest.mark.django_db
def test_publish_writes_one_delivery_per_matching_active_subscription(django_capture_on_commit_callbacks):
    every = _subscribe("https://every.example.com/hook")
    closed_only = _subscribe("https://closed.example.com/hook", event_types=["case.closed"])
    created_too = _subscribe("https://created.example.com/hook", event_types=["case.created", "case.closed"])
    off = _subscribe("https://off.example.com/hook")
    webhook_services.disable_subscription(actor=None, subscription_id=off.pk)
    aggregate = factories.user()
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        event = events.publish(
            "case.created", aggregate=aggregate, payload={"number": "C1", "at": timezone.now()}
        )
    assert event.aggregate_type == "core.user" and event.aggregate_id == str(aggregate.pk)
    assert isinstance(event.payload["at"], str)  # stored JSON-safe
    assert len(event.idempotency_key) == 36
    assert {d.subscription_id for d in event.deliveries.all()} == {every.pk, created_too.pk}
    assert closed_only.pk not in {d.subscription_id for d in event.deliveries.all()}
    assert all(d.status == WebhookDelivery.Status.PENDING for d in event.deliveries.all())
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_publish_inside_a_rolled_back_transaction_leaves_nothing(django_capture_on_commit_callbacks):
    _subscribe("https://every.example.com/hook")

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Boom), transaction.atomic():
        events.publish("case.created", aggregate=factories.user(), payload={"n": 1})
        assert OutboxEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 1
        raise Boom
    assert not OutboxEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        events.publish("case.created", aggregate=factories.user(), payload={})
    assert not OutboxEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_publish_and_commit_delivers_a_signed_event(receiver):
    server = receiver()
    subscription = _subscribe(server.url, event_types=["case.created"])
    aggregate = factories.user()
    with transaction.atomic():
        event = events.publish("case.created", aggregate=aggregate, payload={"number": "C20260101000001"})
        assert server.requests == []  # nothing leaves before the commit
    # the commit enqueued the delivery task (run at once by the test task backend)
    assert len(server.requests) == 1
    req_path, headers, body = server.requests[0]
    assert req_path == "/hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-MarketGuard-Event"] == "case.created"
    assert headers["X-MarketGuard-Delivery"] == event.idempotency_key
    assert webhooks.verify(subscription.secret, body, headers["X-MarketGuard-Signature"], now=time.time())
    assert not webhooks.verify("whsec_wrong", body, headers["X-MarketGuard-Signature"], now=time.time())
    document = json.loads(body)
    assert document["id"] == event.idempotency_key
    assert document["type"] == "case.created"
    assert document["data"] == {"number": "C20260101000001"}
    assert document["created_at"].endswith("+00:00")
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 1 and delivery.last_status_code == 200 and delivery.delivered_at
    assert delivery.claim_token == "" and delivery.claimed_until is None
    assert deliver_due() == 0  # nothing is sent twice


@pytest.mark.django_db
def test_a_500_schedules_a_retry_with_backoff(receiver):
    server = receiver(status=500)
    _subscribe(server.url)
    with transaction.atomic():
        event = events.publish("case.escalated", aggregate=factories.user(), payload={})
    t0 = timezone.now() + timedelta(seconds=1)
    assert deliver_due(now=t0) == 1
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.attempts == 1 and delivery.last_status_code == 500
    assert "500" in delivery.last_error
    assert delivery.next_attempt_at == t0 + timedelta(seconds=30)
    assert deliver_due(now=t0 + timedelta(seconds=29)) == 0  # not due yet
    assert len(server.requests) == 1
    server.status = 204
    t1 = t0 + timedelta(seconds=31)
    assert deliver_due(now=t1) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 2 and delivery.last_status_code == 204 and delivery.delivered_at == t1
    assert delivery.last_error == ""
    keys = {headers["X-MarketGuard-Delivery"] for _p, headers, _b in server.requests}
    assert keys == {event.idempotency_key}  # the retry carries the same idempotency key


@pytest.mark.django_db
def test_a_dead_receiver_is_given_up_after_the_last_attempt(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # a closed port on 127.0.0.1
    _subscribe(_closed_port_url())
    with transaction.atomic():
        event = events.publish("case.closed", aggregate=factories.user(), payload={"n": 1})
    now = timezone.now() + timedelta(seconds=1)
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        assert deliver_due(now=now) == 1  # never raises on a refused connection
        delivery = WebhookDelivery.objects.get(event=event)
        assert delivery.attempts == attempt and delivery.last_status_code is None
        assert delivery.last_error
        if attempt < webhooks.MAX_ATTEMPTS:
            assert delivery.status == WebhookDelivery.Status.FAILED
            assert delivery.next_attempt_at == now + webhooks.backoff(attempt)
            now = delivery.next_attempt_at
    assert delivery.status == WebhookDelivery.Status.DEAD
    assert deliver_due(now=now + timedelta(days=30)) == 0


@pytest.mark.django_db
def test_disabled_subscriptions_get_nothing_and_redirects_are_failures(receiver):
    server = receiver(status=302)
    sub = _subscribe(server.url)
    off = _subscribe(_closed_port_url())
    with transaction.atomic():
        events.publish("case.ruled", aggregate=factories.user(), payload={})
    webhook_services.disable_subscription(actor=None, subscription_id=off.pk)
    assert deliver_due(now=timezone.now() + timedelta(seconds=1)) == 1
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == WebhookDelivery.Status.FAILED and delivery.last_status_code == 302
    assert WebhookDelivery.objects.get(subscription=off).attempts == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_deliver_each_row_exactly_once(receiver, monkeypatch):
    monkeypatch.setattr(events, "_enqueue_delivery", lambda: None)  # only the two workers send
    server = receiver(delay=0.01)
    _subscribe(server.url + "/a")
    _subscribe(server.url + "/b")
    aggregate = factories.user()
    for i in range(15):
        with transaction.atomic():
            events.publish("case.created", aggregate=aggregate, payload={"i": i})
    assert WebhookDelivery.objects.count() == 30
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            total = 0
            while sent := deliver_due(limit=4):
                total += sent
            counts.append(total)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    close_old_connections()
    assert not errors, errors
    received = Counter((p, headers["X-MarketGuard-Delivery"]) for p, headers, _b in server.requests)
    assert len(received) == 30 and set(received.values()) == {1}
    assert sum(counts) == 30
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("succeeded", 1)}


# --- services and CLI --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_subscription_is_admin_only_validated_and_audited_without_the_secret():
    admin = factories.user(Role.ADMIN)
    with pytest.raises(PermissionDenied):
        webhook_services.create_subscription(actor=factories.user(Role.AGENT), url="https://x.example.com/")
    for bad in ("", "ftp://x.example.com/", "javascript:alert(1)", "https://", "not a url"):
        with pytest.raises(InvalidInput) as err:
            webhook_services.create_subscription(actor=admin, url=bad)
        assert err.value.errors[0].field == "url"
    with pytest.raises(InvalidInput) as err:
        webhook_services.create_subscription(
            actor=admin, url="https://x.example.com/", event_types=["case.created", "case.vanished"]
        )
    assert err.value.errors[0].field == "event_types" and err.value.code == "UNKNOWN_EVENT_TYPE"
    sub = webhook_services.create_subscription(
        actor=admin, url=" https://x.example.com/hook ", event_types=["case.closed", "case.created"]
    )
    assert sub.url == "https://x.example.com/hook" and sub.name == sub.url
    assert sub.secret.startswith("whsec_") and len(sub.secret) > 40
    entry = AuditEntry.objects.get(action="webhook_subscription_created", object_id=str(sub.pk))
    assert entry.actor == admin and entry.after["event_types"] == ["case.closed", "case.created"]
    assert sub.secret not in json.dumps([entry.before, entry.after])
    with pytest.raises(NotFound):
        webhook_services.disable_subscription(actor=admin, subscription_id=sub.pk + 1000)
    webhook_services.disable_subscription(actor=admin, subscription_id=sub.pk)
    webhook_services.disable_subscription(actor=admin, subscription_id=sub.pk)  # idempotent
    assert AuditEntry.objects.filter(action="webhook_subscription_disabled").count() == 1


@pytest.mark.django_db
def test_webhook_command_adds_lists_disables_and_delivers(capsys):
    call_command(
        "webhook", "add", "--url", "https://hooks.example.com/mg", "--events", "case.created,case.closed"
    )
    secret = capsys.readouterr().out.strip()
    sub = WebhookSubscription.objects.get()
    assert secret == sub.secret and sub.event_types == ["case.closed", "case.created"]
    call_command("webhook", "list")
    listing = capsys.readouterr().out
    assert "https://hooks.example.com/mg" in listing and "active" in listing and secret not in listing
    call_command("webhook", "disable", str(sub.pk))
    sub.refresh_from_db()
    assert not sub.is_active
    call_command("webhook", "deliver")
    assert "0 delivery attempt(s)" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("webhook", "add", "--url", "gopher://x")
    with pytest.raises(CommandError):
        call_command("webhook", "disable", "999999")


@pytest.mark.django_db
def test_admin_pages_show_events_and_deliveries_read_only():
    admin = factories.user(Role.ADMIN, is_staff=True, is_superuser=True)
    _subscribe("https://x.example.com/hook")
    with transaction.atomic():
        events.publish("case.created", aggregate=admin, payload={})
    client = Client()
    client.force_login(admin)
    for model in ("outboxevent", "webhooksubscription", "webhookdelivery"):
        assert client.get(f"/admin/core/{model}/").status_code == 200
        assert client.get(f"/admin/core/{model}/add/").status_code == 403
    delivery = WebhookDelivery.objects.get()
    page = client.get(f"/admin/core/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b"claim_token" not in page.content


# --- API ---------------------------------------------------------------------------------------------

OPERATIONS = [
    ("get", "webhooks/event-types"),
    ("get", "webhooks/subscriptions"),
    ("post", "webhooks/subscriptions"),
    ("post", "webhooks/subscriptions/{id}/disable"),
    ("get", "webhooks/subscriptions/{id}/deliveries"),
]


@api_urls
@pytest.mark.django_db
def test_the_api_needs_authentication_and_the_admin_role(api):
    sub = _subscribe("https://x.example.com/hook")
    for method, url in OPERATIONS:
        url = url.format(id=sub.pk)
        assert getattr(api(None), method)(url).status_code == 401, url
        for role in (Role.AGENT, Role.CONSUMER, Role.MERCHANT_STAFF):
            response = getattr(api(factories.user(role)), method)(
                url, {"url": "https://evil.example.com/"} if method == "post" else None
            )
            assert response.status_code in (403, 404), (url, role, response.status_code)
    sub.refresh_from_db()
    assert sub.is_active and WebhookSubscription.objects.count() == 1


@api_urls
@pytest.mark.django_db
def test_a_bad_url_gets_422_naming_the_url_field(api):
    client = api(factories.user(Role.ADMIN))
    for body in ({"url": "ftp://files.example.com/"}, {"url": "no url"}, {"url": ""}):
        response = client.post("webhooks/subscriptions", body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["code"] in ("INVALID_URL", "URL_REQUIRED")
        assert problem["errors"][0]["field"] == "url"
    response = client.post("webhooks/subscriptions", {"name": "x"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "url"
    response = client.post(
        "webhooks/subscriptions", {"url": "https://x.example.com/", "event_types": ["nope"]}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "event_types"
    assert not WebhookSubscription.objects.exists()


@api_urls
@pytest.mark.django_db
def test_admins_create_list_and_disable_subscriptions_and_see_deliveries(api):
    client = api(factories.user(Role.ADMIN))
    types = client.get("webhooks/event-types").json()
    assert {t["type"] for t in types} >= {"case.created", "case.escalated", "case.ruled", "case.closed"}
    created = client.post(
        "webhooks/subscriptions",
        {"url": "https://hooks.example.com/mg", "name": "ERP", "event_types": ["case.created"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["name"] == "ERP" and body["is_active"]
    listed = client.get("webhooks/subscriptions").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    with transaction.atomic():
        event = events.publish("case.created", aggregate=factories.user(), payload={"n": 1})
    deliveries = client.get(f"webhooks/subscriptions/{body['id']}/deliveries").json()
    assert deliveries["count"] == 1
    assert deliveries["items"][0]["event_id"] == event.idempotency_key
    assert deliveries["items"][0]["event_type"] == "case.created"
    assert deliveries["items"][0]["status"] == "pending"
    assert (
        client.get(f"webhooks/subscriptions/{body['id']}/deliveries", {"status": "dead"}).json()["count"] == 0
    )
    disabled = client.post(f"webhooks/subscriptions/{body['id']}/disable")
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert client.post("webhooks/subscriptions/999999/disable").status_code == 404
    missing = client.get("webhooks/subscriptions/999999/deliveries")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "subscription_id"
    bad_id = client.get("webhooks/subscriptions/{subscription_id}/deliveries")
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"] == "subscription_id"
    for raw in ("not json {", "[]", "{}", json.dumps({"url": "https://x.example.com/", "extra": 1})):
        response = client._call("post", "webhooks/subscriptions", raw=raw)
        assert 400 <= response.status_code < 500 and all(e["field"] for e in response.json()["errors"])
