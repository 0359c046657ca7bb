"""Throttling in the shared cache: login attempts per (username, client address) and per username,
and a plain rate limit per (scope, key) for public endpoints (the assistant).

A login attempt is counted *before* the password is checked, by claiming one of a fixed number of
slots with `cache.add`, which is atomic on every cache backend (locmem, Redis, memcached, the
database cache): forty guesses sent at once claim at most `attempts` slots, and the others are
refused without a password check. A slot lives `window_seconds`; a successful login frees the
slots of its (username, address) and the username slot it took.

The client address is REMOTE_ADDR, unless the request comes from one of
settings.MARKETGUARD_TRUSTED_PROXIES: then it is the last address in X-Forwarded-For that is not
one of those proxies (the one the outermost trusted proxy saw). A client elsewhere cannot choose
its own address with the header.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _username(username: str) -> str:
    return (username or "").strip().lower()


def _key(username: str, address: str) -> str:
    return "login-fail:" + _digest(f"{_username(username)}|{address or ''}")


def _user_key(username: str) -> str:
    return "login-user:" + _digest(_username(username))


def _limits() -> tuple[int, int, int]:
    """(attempts per username and address, attempts per username, window in seconds)."""
    conf = settings.LOGIN_THROTTLE
    attempts = int(conf["attempts"])
    return attempts, int(conf.get("user_attempts", 4 * attempts)), int(conf["window_seconds"])


def _slots(key: str, limit: int) -> list[str]:
    return [f"{key}:{i}" for i in range(max(limit, 0))]


def _claim(key: str, limit: int, window: int) -> str | None:
    """Take one of `limit` slots under `key` for `window` seconds: the slot's key, or None when
    every slot is taken. Two callers never get the same slot (`cache.add` is atomic)."""
    slots = _slots(key, limit)
    taken = cache.get_many(slots)
    for slot in slots:
        if slot not in taken and cache.add(slot, 1, timeout=window):
            return slot
    return None


def _full(key: str, limit: int) -> bool:
    slots = _slots(key, limit)
    return len(cache.get_many(slots)) >= len(slots)


@dataclass(frozen=True)
class LoginAttempt:
    username: str
    address: str
    user_slot: str


def start_login(username: str, address: str) -> LoginAttempt | None:
    """Count one login attempt before its password is checked. None when the attempt is refused:
    `attempts` attempts of this username from this address, or `user_attempts` of this username
    from anywhere, within the window."""
    attempts, user_attempts, window = _limits()
    if _claim(_key(username, address), attempts, window) is None:
        return None
    user_slot = _claim(_user_key(username), user_attempts, window)
    if user_slot is None:
        return None
    return LoginAttempt(username=username, address=address, user_slot=user_slot)


def login_succeeded(attempt: LoginAttempt) -> None:
    """A right password: this address starts afresh for this username, and the attempt no longer
    counts against the username (a busy shared account is not locked by its own logins)."""
    attempts, _user_attempts, _window = _limits()
    cache.delete_many([*_slots(_key(attempt.username, attempt.address), attempts), attempt.user_slot])


def is_locked(username: str, address: str) -> bool:
    """Whether the next login attempt of `username` from `address` would be refused."""
    attempts, user_attempts, _window = _limits()
    return _full(_key(username, address), attempts) or _full(_user_key(username), user_attempts)


def clear(username: str, address: str) -> None:
    """Forget the attempts of `username` from `address` (and of `username` from anywhere)."""
    attempts, user_attempts, _window = _limits()
    cache.delete_many(
        [*_slots(_key(username, address), attempts), *_slots(_user_key(username), user_attempts)]
    )


# --- the client address ------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _ip(value: str):
    """An address as written in REMOTE_ADDR or X-Forwarded-For ("1.2.3.4", "1.2.3.4:5678",
    "[2001:db8::1]:443"), or None."""
    text = value.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(value: str, networks) -> bool:
    ip = _ip(value)
    return ip is not None and any(ip in network for network in networks)


def client_address(request) -> str:
    """The address a request comes from, as login throttling counts it (see the module's docstring)."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    networks = _networks(tuple(getattr(settings, "MARKETGUARD_TRUSTED_PROXIES", ())))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        ip = _ip(hop)
        client = str(ip) if ip is not None else hop[:64]
        if ip is None or not _trusted(hop, networks):
            break
    return client


# --- plain rate limits -------------------------------------------------------------------------


def _count(key: str, window: int) -> int:
    """Count one more event under `key` in a fixed window of `window` seconds; the new count."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def allow(scope: str, key: str, *, limit: int, window: int) -> bool:
    """Whether one more request of `scope` by `key` (a user id, a client address) fits in
    `limit` per `window` seconds. Counts the request."""
    digest = hashlib.sha256(f"{scope}|{key}".encode()).hexdigest()
    return _count(f"rate:{digest}", window) <= limit
