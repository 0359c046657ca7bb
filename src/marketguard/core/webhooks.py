"""Webhook signatures and the retry schedule: plain functions, no Django.

A delivery carries the header

    X-MarketGuard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.".encode() + body)>

Receivers recompute the HMAC over the raw body, compare in constant time and refuse a timestamp
older (or newer) than a few minutes, which stops replays. Several `v1=` values may appear (while a
secret is rotated); one matching value is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

SCHEME = "v1"
SECRET_PREFIX = "whsec_"

# Delay before attempt n+1 after n failed attempts. After MAX_ATTEMPTS failures: dead.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=6),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1  # 8


def new_secret() -> str:
    """A fresh signing secret (shown to the subscriber once)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},{SCHEME}={_mac(secret, body, int(timestamp))}"


def parse(header: str) -> tuple[int | None, list[str]]:
    """(timestamp, [v1 signatures]) from a header value; (None, []) when it is malformed."""
    timestamp = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return None, []
        elif key == SCHEME and value:
            signatures.append(value)
    return timestamp, signatures


def verify(secret: str, body: bytes, header: str, *, now: float, tolerance: int = 300) -> bool:
    """True when `header` is a valid signature of `body` with `secret`, made within `tolerance`
    seconds of `now` (unix seconds). Never raises on a malformed header."""
    timestamp, signatures = parse(header)
    if timestamp is None or not signatures or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, body, timestamp).encode()
    ok = False
    for candidate in signatures:  # compare with every candidate: no early exit on a match
        ok |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
    return ok


def backoff(attempt: int) -> timedelta:
    """How long to wait after the `attempt`-th failed attempt (1-based) before the next one.

    30 s, 2 min, 10 min, 1 h, then 6 h; `is_exhausted(attempt)` says when to stop instead.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    return RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]


def is_exhausted(attempts: int) -> bool:
    """After this many failed attempts, give up (the delivery is dead)."""
    return attempts >= MAX_ATTEMPTS
