"""Kernel API: who am I, the audit trail and its verification."""

from ninja import Query, Router
from ninja.pagination import paginate

from marketguard.core import audit, selectors, services
from marketguard.core.models import Role
from marketguard.core.permissions import require_role
from marketguard.core.schemas import (
    AuditEntryOut,
    AuditFilter,
    AuditVerifyOut,
    BoundedPageNumberPagination,
    MeIn,
    MeOut,
)

router = Router(tags=["core"])


@router.get("/me", response=MeOut)
def me(request):
    return request.auth


@router.patch("/me", response=MeOut)
def update_me(request, body: MeIn):
    """Your preferred language (pages and the mail we send you): zh-hans, en, or empty."""
    return services.set_preferred_language(
        actor=request.auth, user=request.auth, language=body.preferred_language
    )


@router.get("/audit/entries", response=list[AuditEntryOut])
@paginate(BoundedPageNumberPagination)
def audit_entries(request, filters: Query[AuditFilter]):
    return filters.filter(selectors.audit_entries(request.auth))


@router.get("/audit/verify", response=AuditVerifyOut)
def audit_verify(request):
    require_role(request.auth, Role.ADMIN)
    report = audit.verify()
    return {
        "ok": report.ok,
        "checked": report.checked,
        "last_seq": report.last_seq,
        "last_digest": report.last_digest,
        "problems": [{"seq": p.seq, "kind": p.kind, "detail": p.detail} for p in report.problems],
    }
