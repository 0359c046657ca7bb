"""Throttling in the shared cache: login failures per (username, client address), and a plain
rate limit per (scope, key) for public endpoints (the assistant)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(username: str, address: str) -> str:
    raw = f"{(username or '').strip().lower()}|{address or ''}"
    return "login-fail:" + hashlib.sha256(raw.encode()).hexdigest()


def is_locked(username: str, address: str) -> bool:
    return cache.get(_key(username, address), 0) >= settings.LOGIN_THROTTLE["attempts"]


def _count(key: str, window: int) -> int:
    """Count one more event under `key` in a fixed window of `window` seconds; the new count."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def register_failure(username: str, address: str) -> int:
    return _count(_key(username, address), settings.LOGIN_THROTTLE["window_seconds"])


def allow(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Whether one more request of `scope` by `key` (a user id, a client address) fits in
    `limit` per `window` seconds. Counts the request."""
    digest = hashlib.sha256(f"{scope}|{key}".encode()).hexdigest()
    return _count(f"rate:{digest}", window) <= limit


def clear(username: str, address: str) -> None:
    cache.delete(_key(username, address))
