"""Reads of the shared kernel that other apps and the UI call."""

from __future__ import annotations

import copy

from django.db.models import QuerySet
from django.db.models.query import ModelIterable

from marketguard.catalog.codes import mask_in_data, mask_in_text
from marketguard.core.models import AuditEntry, Role
from marketguard.core.permissions import require_role, sees_personal_data

#: the text fields of an audit entry people or imports wrote, which may hold personal data
_AUDIT_TEXT_FIELDS = ("actor_label", "object_id", "object_repr", "reason")


def masked_audit_entry(entry: AuditEntry) -> AuditEntry:
    """A copy of `entry` for a viewer who may not see personal data: phone numbers, e-mail and
    street addresses, ID numbers in its texts and in every string of `before` / `after` masked.
    The copy cannot be saved (audit entries are append-only)."""
    shown = copy.copy(entry)
    for name in _AUDIT_TEXT_FIELDS:
        setattr(shown, name, mask_in_text(getattr(entry, name)))
    shown.before = mask_in_data(entry.before)
    shown.after = mask_in_data(entry.after)
    return shown


class _MaskedAuditEntries(ModelIterable):
    """Rows of an audit queryset as `masked_audit_entry` shows them, however the queryset is
    filtered, sliced or paginated afterwards."""

    def __iter__(self):
        for entry in super().__iter__():
            yield masked_audit_entry(entry)


def audit_entries(actor) -> QuerySet[AuditEntry]:
    """The audit trail, newest first, for admins and analysts. Personal data in it is masked
    for a viewer whose role may not see it (`sees_personal_data`): analysts read a trail of who
    did what, not the phone numbers and addresses people wrote. The masking applies to the
    entries the queryset yields (filtered, sliced, paginated); `.values()` would bypass it."""
    require_role(actor, Role.ADMIN, Role.ANALYST)
    entries = AuditEntry.objects.order_by("-seq")
    if not sees_personal_data(actor):
        entries._iterable_class = _MaskedAuditEntries
    return entries
