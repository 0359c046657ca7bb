"""Bearer tokens: `mg_<prefix>_<secret>`; only the SHA-256 digest is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from marketguard.core.models import ApiToken

TOKEN_PREFIX = "mg_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """(token, prefix) for a fresh token."""
    prefix = secrets.token_hex(4)
    return f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def user_for_token(token: str):
    """The active user the token belongs to, or None (unknown, revoked, expired, inactive user)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    # the digest is unique: `[:1]` rather than `.first()`, which would compile an ORDER BY per request
    row = next(iter(ApiToken.objects.select_related("user").filter(digest=digest(token))[:1]), None)
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user
