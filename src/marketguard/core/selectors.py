"""Reads of the shared kernel that other apps and the UI call."""

from __future__ import annotations

from django.db.models import QuerySet

from marketguard.core.models import AuditEntry, Role
from marketguard.core.permissions import require_role


def audit_entries(actor) -> QuerySet[AuditEntry]:
    require_role(actor, Role.ADMIN, Role.ANALYST)
    return AuditEntry.objects.order_by("-seq")
