"""Login throttling: at most N failed attempts per (username, client address) in a window."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(username: str, address: str) -> str:
    raw = f"{(username or '').strip().lower()}|{address or ''}"
    return "login-fail:" + hashlib.sha256(raw.encode()).hexdigest()


def is_locked(username: str, address: str) -> bool:
    return cache.get(_key(username, address), 0) >= settings.LOGIN_THROTTLE["attempts"]


def register_failure(username: str, address: str) -> int:
    key = _key(username, address)
    window = settings.LOGIN_THROTTLE["window_seconds"]
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def clear(username: str, address: str) -> None:
    cache.delete(_key(username, address))
