"""Sending webhook deliveries: signed POSTs, retries with backoff, safe with several workers.

Concurrency design (a lease per row, claimed in a short transaction, sent outside it):

1. Claim. In one short transaction a worker selects the due rows (status pending or failed,
   `next_attempt_at` reached, subscription active, no live lease) and stamps them with its own
   random `claim_token` and `claimed_until = now + lease`, then commits. On PostgreSQL the select
   is `FOR UPDATE SKIP LOCKED`: a second worker skips rows the first is claiming, and a row the
   first has already claimed no longer matches once re-checked after its commit. On SQLite the
   claim transaction starts with BEGIN IMMEDIATE (settings), so claims are serialised and the
   second worker sees the first one's leases. Either way no row is claimed by two workers at once.
2. Send, outside any transaction: no row lock or open transaction is held during network I/O.
   The lease covers the whole batch (10 s timeout per row + a margin), so it cannot run out while
   the worker is still working through its batch.
3. Record. The outcome is written with `UPDATE ... WHERE id = ? AND claim_token = ?`, which also
   clears the lease; a worker whose lease was taken over (it crashed or stalled past the lease)
   changes nothing.

If a worker dies after the receiver got the POST but before the outcome was recorded, the row is
sent again once its lease expires: delivery is at least once, and receivers drop repeats by the
`X-MarketGuard-Delivery` idempotency key (the event's id).

Only the public internet is reached (unless settings.WEBHOOK_ALLOW_PRIVATE_HOSTS, for local
development and tests): the receiver's name is resolved, every address it resolves to must be
public (`webhooks.is_public_address`), and the connection goes to those checked addresses, so a
name that resolves to 169.254.169.254 or 127.0.0.1 (at once, or only by the time of delivery) is
never connected to. Through a proxy the environment names, the host is checked as far as it
resolves here and the proxy makes the connection. What is recorded of an answer other than 2xx
is its status code and standard reason phrase, never a byte of its body.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from marketguard.core import webhooks
from marketguard.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
LEASE_MARGIN = timedelta(seconds=60)
USER_AGENT = "MarketGuard-Webhooks/1"
DUE_STATUSES = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.FAILED)


def event_body(event: OutboxEvent) -> bytes:
    """The JSON body every subscriber gets for `event`."""
    document = {
        "id": event.idempotency_key,
        "type": event.event_type,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def _due(now: datetime):
    return (
        WebhookDelivery.objects.filter(
            status__in=DUE_STATUSES,
            next_attempt_at__lte=now,
            # a subquery, not a join: FOR UPDATE then locks only the delivery rows
            subscription__in=WebhookSubscription.objects.filter(is_active=True).values("pk"),
        )
        .filter(unleased(now))
        .order_by("next_attempt_at", "id")
    )


def claim(due, *, now: datetime, limit: int, seconds_per_row: int) -> tuple[str, list[int]]:
    """Lease up to `limit` rows of the queryset `due` (rows with `claim_token` and
    `claimed_until`, already filtered to those without a live lease) for this worker, in a short
    transaction of its own. Returns the worker's token and the ids it holds. Shared by every
    outbox that sends something outside the database (webhooks, e-mail)."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        lease = timedelta(seconds=seconds_per_row * len(ids)) + LEASE_MARGIN
        due.model.objects.filter(pk__in=ids).update(claim_token=token, claimed_until=now + lease)
    return token, ids


def unleased(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)


def _claim(*, now: datetime, limit: int) -> tuple[str, list[WebhookDelivery]]:
    token, ids = claim(_due(now), now=now, limit=limit, seconds_per_row=TIMEOUT_SECONDS)
    rows = (
        WebhookDelivery.objects.filter(pk__in=ids, claim_token=token)
        .select_related("event", "subscription")
        .order_by("next_attempt_at", "id")
    )
    return token, list(rows)


class BlockedAddress(OSError):
    """The receiver's host is, or resolves to, an address off the public internet."""


def _allow_private() -> bool:
    return settings.WEBHOOK_ALLOW_PRIVATE_HOSTS


def _public_addresses(host: str, port: int) -> list[tuple]:
    """`getaddrinfo` for a receiver, refused (BlockedAddress) unless every address is public."""
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    if not _allow_private() and any(not webhooks.is_public_address(info[4][0]) for info in infos):
        raise BlockedAddress(f"{host[:100]} is not a public internet address")
    return infos


def _connect_checked(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """`socket.create_connection`, but connecting only to the addresses `_public_addresses`
    checked: a name cannot resolve to a public address for the check and to a private one for
    the connection."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _public_addresses(host, port):
        sock = None
        try:
            sock = socket.socket(family, kind, proto)
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            if sock is not None:
                sock.close()
    raise error or OSError(f"no address for {host[:100]}")


def _check_before_proxy(host: str, port: int) -> None:
    """Through a proxy the proxy connects; refuse here what is known to be off the public
    internet: the host as written, and the addresses it resolves to here (a name only the proxy
    can resolve is left to the proxy)."""
    if _allow_private():
        return
    if webhooks.is_non_public_host(host):
        raise BlockedAddress(f"{host[:100]} is not a public internet address")
    with contextlib.suppress(socket.gaierror):
        _public_addresses(host, port)


def _describe(exc: Exception) -> str:
    """A failed attempt's error without a byte of what the receiver sent: an HTTP protocol error
    (which quotes the answer) by its kind only, a network error by its kind and the system's words."""
    name = type(exc).__name__
    if isinstance(exc, http.client.HTTPException) and not isinstance(exc, http.client.RemoteDisconnected):
        return name
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or exc}"[:300]
    return name


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    """(HTTP status or None, error text). Never raises. Redirects are not followed (an answer
    other than 2xx is a failed attempt, recorded as "HTTP <status> <standard phrase>": the answer's
    body is never read). The whole attempt, from connecting to the last byte of the answer's
    head, takes at most TIMEOUT_SECONDS: a receiver that answers a byte at a time is cut off then
    and the attempt counts as failed (a timeout per read alone would let it hold the worker for
    ever). The environment's HTTP(S)_PROXY and NO_PROXY are honoured. A host off the public
    internet is refused (see the module's docstring)."""
    timed_out = None, f"TimeoutError: no complete answer within {TIMEOUT_SECONDS} s"
    conn = None
    cut = threading.Event()
    lock = threading.Lock()  # the watchdog never touches a connection being closed

    def cut_off():
        with lock:
            cut.set()
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(TIMEOUT_SECONDS, cut_off)
    watchdog.daemon = True
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return None, f"ValueError: not an http(s) URL: {url[:200]}"
        conn, target = _connection(parts)
        watchdog.start()
        conn.connect()
        if cut.is_set():
            return timed_out
        conn.request("POST", target, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        if cut.is_set():  # the head ended because it was cut off, not complete
            return timed_out
        if 200 <= response.status < 300:
            return response.status, ""
        return response.status, webhooks.http_error(response.status)
    except Exception as exc:  # refused, timed out, DNS, TLS, bad URL: a failed attempt, not a crash
        if cut.is_set():
            return timed_out
        return None, _describe(exc)
    finally:
        with lock:
            watchdog.cancel()
            if conn is not None:
                conn.close()


def _connection(parts) -> tuple[http.client.HTTPConnection, str]:
    """The connection for a URL and the request target to send on it: straight to the host (to
    the addresses `_connect_checked` allows), or through the proxy the environment names for its
    scheme (a tunnel for https, the absolute URL for http)."""
    https = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and urllib.request.proxy_bypass(parts.hostname):
        proxy = None
    if not proxy:
        port = parts.port or (443 if https else 80)  # given, so that an IPv6 host is not parsed for one
        if https:
            conn = http.client.HTTPSConnection(
                parts.hostname, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname, port, timeout=TIMEOUT_SECONDS)
        # http.client opens its socket through this attribute; HTTPS wraps it in TLS afterwards,
        # still checking the certificate against the host name
        conn._create_connection = _connect_checked
        return conn, path
    _check_before_proxy(parts.hostname, parts.port or (443 if https else 80))
    via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if https:
        conn = http.client.HTTPSConnection(
            via.hostname, via.port or 8080, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
        conn.set_tunnel(parts.hostname, parts.port or 443)
        return conn, path
    return http.client.HTTPConnection(
        via.hostname, via.port or 8080, timeout=TIMEOUT_SECONDS
    ), urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _attempt(row: WebhookDelivery, *, token: str, now: datetime) -> str:
    event = row.event
    body = event_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-MarketGuard-Event": event.event_type,
        "X-MarketGuard-Delivery": event.idempotency_key,
        "X-MarketGuard-Signature": webhooks.sign(row.subscription.secret, body, int(time.time())),
    }
    status_code, error = _post(row.subscription.url, body, headers)
    attempts = row.attempts + 1
    fields = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": status_code if status_code is not None and 0 < status_code < 1000 else None,
        "last_error": error[:2000],
        "claimed_until": None,
        "claim_token": "",
    }
    if status_code is not None and 200 <= status_code < 300:
        fields.update(status=WebhookDelivery.Status.SUCCEEDED, delivered_at=now, last_error="")
    elif webhooks.is_exhausted(attempts):
        fields.update(status=WebhookDelivery.Status.DEAD)
    else:
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=now + webhooks.backoff(attempts))
    if not WebhookDelivery.objects.filter(pk=row.pk, claim_token=token).update(**fields):
        logger.warning("webhook delivery %s: lease lost before the outcome was recorded", row.pk)
    else:
        logger.info(
            "webhook delivery %s (%s → %s): %s",
            row.pk,
            event.event_type,
            row.subscription_id,
            fields["status"],
        )
    return fields["status"]


def deliver_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Send up to `limit` due deliveries (new ones and retries). Returns how many were attempted.

    `now` fixes the clock (tests); by default each attempt is stamped with the current time.
    Network errors and non-2xx answers become failed attempts with a retry at
    now + `webhooks.backoff(attempts)`, or `dead` after `webhooks.MAX_ATTEMPTS`; nothing raises.
    """
    token, rows = _claim(now=now or timezone.now(), limit=limit)
    for row in rows:
        _attempt(row, token=token, now=now or timezone.now())
    return len(rows)
