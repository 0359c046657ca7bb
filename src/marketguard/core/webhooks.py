"""Webhook signatures and the retry schedule: plain functions, no Django.

A delivery carries the header

    X-MarketGuard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.".encode() + body)>

Receivers recompute the HMAC over the raw body, compare in constant time and refuse a timestamp
older (or newer) than a few minutes, which stops replays. Several `v1=` values may appear (while a
secret is rotated); one matching value is enough.

Webhooks go to the public internet only: a subscription cannot name a loopback, private,
link-local or reserved address (the metadata service at 169.254.169.254, a cache on localhost,
another host of the platform's own network), and a name is checked again once it is resolved,
right before a delivery connects (`is_public_address`, `is_non_public_host`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
from datetime import timedelta
from http import HTTPStatus

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


# --- where webhooks may go ---------------------------------------------------------------------------

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]+")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public_address(address: str) -> bool:
    """Whether an IP address (as `getaddrinfo` gives it, an IPv6 zone allowed) is on the public
    internet: not loopback, private, link-local, shared (CGNAT), multicast, reserved or
    unspecified, nor an IPv6 form of such an IPv4 address. Anything that is no IP address: False."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def _ip_literal(host: str) -> str | None:
    """`host` as an IP address when it is written as one, the old IPv4 forms included
    ("127.1", "2130706433", "0x7f.0.0.1", which resolvers accept)."""
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_non_public_host(hostname: str) -> bool:
    """Whether the host of a URL, as written, is off the public internet without asking DNS: an
    IP address that is not public (`is_public_address`), or a name kept for local use (localhost,
    *.local, *.internal ...). A public-looking name may still resolve to a private address:
    delivery checks the resolved addresses again."""
    host = (hostname or "").strip().strip("[]").rstrip(".").lower()
    if not host:
        return True
    literal = _ip_literal(host)
    if literal is not None:
        return not is_public_address(literal)
    return host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES)


_HTTP_ERROR = re.compile(r"HTTP (\d{3})\b")
#: errors whose text quotes the receiver's answer ("BadStatusLine: -ERR unknown command ...")
_QUOTING_ERRORS = ("BadStatusLine", "LineTooLong", "IncompleteRead", "UnknownProtocol", "HTTPException")


def shown_error(text: str) -> str:
    """The error of a delivery attempt as it may be shown: a non-2xx answer as its status code and
    the standard reason phrase ("HTTP 403 Forbidden"), never the receiver's own words. Rows
    recorded before answers were cut to that keep only that part too."""
    text = text or ""
    match = _HTTP_ERROR.match(text)
    if match:
        return http_error(int(match[1]))
    name = text.split(":", 1)[0]
    if name in _QUOTING_ERRORS:
        return name
    return text


def http_error(status: int) -> str:
    """ "HTTP 403 Forbidden": a status code and its standard reason phrase (not the receiver's)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP {status} {phrase}".strip()
