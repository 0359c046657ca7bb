"""The case file (案件档案) as one ZIP: everything the platform knows about a case, for the
arbitration record, a regulator (12315) or a court, checkable without our software.

Contents: `case.json` (the case and every row that belongs to it: timeline, messages including
internal notes, material requests, proposals, remedies, rulings, rating, SLA marks and pauses,
the people involved), `evidence/` (every file as uploaded) with `evidence/SHA256SUMS`
(`sha256sum -c` checks them), `audit.jsonl` (the case's audit entries, each with the digest
of the hash chain and what it covers) and `README.txt`. Only the platform's case handlers
(agents, arbitrators, admins) may export; each export is itself an audit entry.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from datetime import UTC, datetime

from django.db import transaction
from django.utils.translation import gettext as _

from marketguard.complaints.models import Case, Party, Rating
from marketguard.complaints.services.common import get_case, party_of
from marketguard.core import audit
from marketguard.core.errors import PermissionDenied
from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import AuditEntry

#: Files up to this size stay in memory while the ZIP is built; larger ones spill to disk.
SPOOL_BYTES = 16 * 1024 * 1024

README = """MarketGuard case file / 案件档案 {number}
Exported {at} by {who}.

case.json        the case and every record of it (timeline, messages including internal notes,
                 material requests, proposals, remedies, rulings, rating, SLA marks and pauses)
                 案件及其全部记录（时间线、消息含内部备注、补充材料要求、方案、执行、裁决、评价、时限记录）
evidence/        the evidence files as uploaded; evidence/SHA256SUMS lists their SHA-256
                 (check with: cd evidence && sha256sum -c SHA256SUMS)
                 证据原件；SHA256SUMS 为其 SHA-256 校验值
audit.jsonl      the audit entries of the case, one per line: "payload", "prev_digest", "digest",
                 where digest = SHA-256(prev_digest + "\\n" + payload as JSON with sorted keys,
                 no spaces, UTF-8); compare the digests with the platform's audit log
                 (marketguard audit verify) to show nothing was changed afterwards.
                 审计记录（哈希链），可与平台审计日志核对
"""


def _row(obj) -> dict:
    return jsonable({f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields})


def _rows(qs) -> list[dict]:
    return [_row(o) for o in qs]


def _case_record(case: Case, messages: list, evidence: list) -> dict:
    people = {}
    for user in (case.consumer, case.owner, *(m.author for m in messages)):
        if user is not None:
            people[user.pk] = {"username": user.get_username(), "role": user.role}
    return {
        "case": _row(case),
        "merchant": {"external_id": case.merchant.external_id, "name": case.merchant.name}
        if case.merchant_id
        else None,
        "order": case.order.external_id if case.order_id else None,
        "product": case.product.external_id if case.product_id else None,
        "events": _rows(case.events.order_by("at", "pk")),
        "messages": _rows(messages),
        "material_requests": _rows(case.material_requests.order_by("pk")),
        "evidence": [
            {
                **_row(e),
                "path": _evidence_path(e),
                "sha256": e.blob.sha256,
                "size": e.blob.size,
                "mime": e.blob.mime,
            }
            for e in evidence
        ],
        "proposals": _rows(case.proposals.order_by("pk")),
        "remedies": _rows(case.remedies.order_by("pk")),
        "rulings": _rows(case.rulings.order_by("pk")),
        "rating": _rows(Rating.objects.filter(case=case)),
        "sla_marks": _rows(case.sla_marks.order_by("at", "pk")),
        "pauses": _rows(case.pauses.order_by("started_at", "pk")),
        "people": {str(k): v for k, v in sorted(people.items())},
    }


def _evidence_path(evidence) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in evidence.filename)[-120:] or "file"
    return f"evidence/{evidence.pk:06d}-{safe}"


def export_case(*, actor, number: str):
    """(file name, an open binary file positioned at 0) of the case's ZIP. Agents, arbitrators
    and admins only; the export is audited before the file is built (and so is listed in it)."""
    case = get_case(actor=actor, number=number)
    if party_of(actor, case) not in (Party.AGENT, Party.ARBITRATOR, Party.SYSTEM):
        raise PermissionDenied(
            _("Only the platform's case handlers export a case file."), code="ROLE_REQUIRED"
        )
    with transaction.atomic():
        audit.record(actor=actor, action="case_exported", obj=case)
    case = Case.objects.select_related("merchant", "order", "product", "consumer", "owner").get(pk=case.pk)
    messages = list(case.messages.select_related("author").order_by("created_at", "pk"))
    evidence = list(case.evidence.select_related("blob").order_by("created_at", "pk"))
    record = _case_record(case, messages, evidence)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (handed to the response)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        who = actor.get_username() if actor is not None else "system"
        zf.writestr(
            "README.txt",
            README.format(number=case.number, at=datetime.now(UTC).isoformat(timespec="seconds"), who=who),
        )
        zf.writestr("case.json", json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True))
        sums = []
        for e in evidence:
            path = _evidence_path(e)
            with e.blob.file.open("rb") as src, zf.open(path, "w") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
            sums.append(f"{e.blob.sha256}  {path.removeprefix('evidence/')}\n")
        if sums:
            zf.writestr("evidence/SHA256SUMS", "".join(sums))
        entries = AuditEntry.objects.filter(
            object_type=Case._meta.label_lower, object_id=str(case.pk)
        ).order_by("seq")
        zf.writestr(
            "audit.jsonl", "".join(json.dumps(audit.exported(e), ensure_ascii=False) + "\n" for e in entries)
        )
    out.seek(0)
    return f"{case.number}.zip", out
