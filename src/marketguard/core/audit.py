"""The append-only audit trail, chained by SHA-256 digests.

Every service that changes state calls `record(...)` inside its transaction. Each row's digest
covers the previous row's digest and the row's own content, and sequence numbers have no gaps,
so `verify()` finds a row that was edited, deleted or inserted out of band. The chain head is a
locked row: appends are serialised, which also makes the sequence gap-free on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection, models, transaction
from django.utils import timezone

from marketguard.core import context
from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def exported(entry: AuditEntry) -> dict:
    """An entry as others can check it: its payload, the digest before it and its own digest,
    where digest = SHA-256(prev_digest + "\\n" + canonical(payload))."""
    return {"payload": _payload(entry), "prev_digest": entry.prev_digest, "digest": entry.digest}


def entry_digest(prev_digest: str, payload: dict) -> str:
    return hashlib.sha256(prev_digest.encode() + b"\n" + canonical(payload)).hexdigest()


def _payload(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "via": entry.via,
        "correlation_id": entry.correlation_id,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
    }


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict:
    """The values of an object's concrete fields (foreign keys as ids), JSON-safe.
    Automatic timestamps are left out: the audit entry has its own time."""
    data = {}
    for f in obj._meta.concrete_fields:
        if fields is not None and f.name not in fields:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        data[f.name] = getattr(obj, f.attname)
    return jsonable(data)


def changed(before: dict | None, after: dict | None) -> tuple[dict, dict]:
    """Only the keys whose values differ, for a compact before/after pair."""
    before, after = before or {}, after or {}
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys if k in before}, {k: after.get(k) for k in keys if k in after}


def _head_sql() -> tuple[str, str]:
    """The two statements on the chain head: read it locked, and move it. Plain SQL: they run on
    every append, and the ORM would compile the same two statements again each time."""
    quote, column = connection.ops.quote_name, AuditHead._meta.get_field
    table = quote(AuditHead._meta.db_table)
    seq, digest, pk = (quote(column(name).column) for name in ("last_seq", "last_digest", "id"))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {seq}, {digest} FROM {table} WHERE {pk} = 1{lock}",  # noqa: S608 - our names
        f"UPDATE {table} SET {seq} = %s, {digest} = %s WHERE {pk} = 1",  # noqa: S608 - our names
    )


def _lock_head(cursor, select: str) -> tuple[int, str]:
    """(last sequence number, last digest), the head row locked until the transaction ends."""
    cursor.execute(select)
    row = cursor.fetchone()
    if row is None:  # the very first entry (or a flushed test database)
        AuditHead.objects.bulk_create(
            [AuditHead(id=1, last_seq=0, last_digest=GENESIS)], ignore_conflicts=True
        )
        cursor.execute(select)
        row = cursor.fetchone()
    return row[0], row[1]


def entry(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEntry:
    """An unsaved audit entry (no sequence, no digest yet): give it to :func:`append`."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    if not object_type or not action:
        raise ValueError("audit entries need an object type and an action")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEntry(
        actor=actor,
        actor_label=(actor.get_username() if actor is not None else "system")[:150],
        via=context.channel()[:10],
        correlation_id=context.correlation_id()[:64],
        object_type=object_type[:60],
        object_id=str(object_id)[:64],
        object_repr=str(object_repr)[:200],
        action=action[:60],
        before=jsonable(before),
        after=jsonable(after),
        reason=reason or "",
    )


def append(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Chain and insert entries in order, under one lock of the chain head (three statements
    however many entries). Call inside the service's transaction."""
    if not entries:
        return entries
    # savepoint=False: entries belong to the caller's transaction and fail with it
    select, update = _head_sql()
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        seq, digest = _lock_head(cursor, select)
        now = timezone.now()
        for e in entries:
            seq += 1
            e.seq, e.at, e.prev_digest = seq, now, digest
            e.digest = digest = entry_digest(e.prev_digest, _payload(e))
        AuditEntry.objects.bulk_create(entries)
        cursor.execute(update, [seq, digest])
    return entries


def record(**kwargs) -> AuditEntry:
    """Append one audit entry (arguments as :func:`entry`). Call inside the service's transaction."""
    return append([entry(**kwargs)])[0]


@dataclass
class Problem:
    seq: int
    kind: str  # altered | missing | broken_link | head_mismatch | anchor_mismatch
    detail: str


@dataclass
class VerifyReport:
    checked: int = 0
    last_seq: int = 0
    last_digest: str = GENESIS
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, anchor: tuple[int, str] | None = None, progress=None) -> VerifyReport:
    """Walk the whole chain. `anchor` = (seq, digest) kept elsewhere detects a rewrite of the chain."""
    report = VerifyReport()
    expected_seq = 1
    prev = GENESIS
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        report.checked += 1
        if progress is not None:
            progress(1)
        if entry.seq != expected_seq:
            missing = (
                f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}–{entry.seq - 1}"
            )
            report.problems.append(Problem(expected_seq, "missing", f"entries {missing} are missing"))
        if entry.prev_digest != prev:
            report.problems.append(
                Problem(entry.seq, "broken_link", "does not follow the previous entry's digest")
            )
        recomputed = entry_digest(entry.prev_digest, _payload(entry))
        if recomputed != entry.digest:
            report.problems.append(Problem(entry.seq, "altered", "content does not match its digest"))
        if anchor is not None and entry.seq == anchor[0] and entry.digest != anchor[1]:
            report.problems.append(Problem(entry.seq, "anchor_mismatch", "digest differs from the anchor"))
        prev = entry.digest
        expected_seq = entry.seq + 1
        report.last_seq, report.last_digest = entry.seq, entry.digest
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.last_seq, head.last_digest) != (report.last_seq, report.last_digest):
        report.problems.append(
            Problem(
                head.last_seq,
                "head_mismatch",
                f"chain head is #{head.last_seq} but the last entry is #{report.last_seq}",
            )
        )
    if anchor is not None and anchor[0] > report.last_seq:
        report.problems.append(Problem(anchor[0], "anchor_mismatch", "anchored entry no longer exists"))
    return report
