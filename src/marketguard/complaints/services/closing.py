"""Rating, closing, withdrawal, rejection, reopening and merging."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketguard.complaints import workflow
from marketguard.complaints.models import (
    Case,
    CaseMessage,
    Evidence,
    Party,
    Rating,
)
from marketguard.complaints.services.common import (
    _back_to_work,
    _claim,
    _clean_text,
    _event,
    _first_response,
    _lock,
    _move,
    _require_party,
    _save,
    case_payload,
    party_of,
    rules,
    same_person,
)
from marketguard.core import audit, events
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound

# --- closing ---------------------------------------------------------------------------------------------


def rate_case(*, actor, number: str, score: int, comment: str = "", version: int | None = None) -> Rating:
    """The consumer's satisfaction (1–5 and a comment); closes a resolved case."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput(_("Give a score from 1 to 5."), field="score")
    comment = _clean_text(comment, "comment", required=False, limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER)
        if case.status not in (workflow.RESOLVED, workflow.CLOSED):
            raise InvalidTransition(
                _("You can rate the service once the case is resolved."), code="NOT_RESOLVED"
            )
        try:
            with transaction.atomic():
                rating = Rating.objects.create(case=case, score=score, comment=comment)
        except IntegrityError:
            raise Conflict(_("This case was already rated."), code="ALREADY_RATED") from None
        _event(case, "case_rated", actor, party, {"score": score})
        audit.record(actor=actor, action="case_rated", obj=case, after={"score": score})
        fields = _close(case, actor=actor, party=party) if case.status == workflow.RESOLVED else []
        _save(case, fields)
    return rating


def _close(case: Case, *, actor, party: str) -> list[str]:
    fields = _move(case, "close", actor=actor, party=party)
    return [*fields, *_finish(case)]


def _finish(case: Case) -> list[str]:
    """A case has ended (closed, withdrawn, rejected, merged): its clocks stop, it is kept for
    the retention period from today (E-commerce Law art. 31: at least 3 years), and outside
    systems are told (`case.closed`, with the final status)."""
    now = timezone.now()
    case.closed_at = now
    case.auto_approve_at = None
    case.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    local = timezone.localdate(now)
    years = rules().retention_years
    case.retain_until = (
        local.replace(year=local.year + years)
        if not (local.month == 2 and local.day == 29)
        else local.replace(year=local.year + years, day=28)
    )
    events.publish("case.closed", aggregate=case, payload=case_payload(case))
    return ["closed_at", "auto_approve_at", "retain_until"]


def withdraw_case(*, actor, number: str, reason: str = "", version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        fields = _move(case, "withdraw", actor=actor, party=party, reason=reason)
        fields += _finish(case)
        _save(case, fields)
    return case


def reject_case(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        fields = _claim(case, actor, party)
        fields += _move(case, "reject", actor=actor, party=party, reason=reason)
        fields += _first_response(case, party) + _finish(case)
        _save(case, fields)
    return case


def reopen_case(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        limit = (case.resolved_at or timezone.now()) + timedelta(days=rules().reopen_days)
        if timezone.now() > limit:
            raise InvalidTransition(_("This case can no longer be reopened."), code="REOPEN_WINDOW_CLOSED")
        fields = _claim(case, actor, party)
        fields += _move(case, "reopen", actor=actor, party=party, reason=reason)
        fields += _back_to_work(case)
        _save(case, fields)
    return case


def merge_cases(*, actor, primary: str, duplicate: str, version: int | None = None) -> Case:
    """Merge a duplicate into the primary case: every message and piece of evidence is kept and
    shown on the primary; the duplicate stays readable, marked merged. `version` is the primary's."""
    if primary == duplicate:
        raise InvalidInput(_("A case cannot be merged into itself."), field="duplicate")
    with transaction.atomic():
        first, second = sorted([primary, duplicate])
        locked = {c.number: c for c in Case.objects.select_for_update().filter(number__in=[first, second])}
        if len(locked) != 2:
            raise NotFound(_("No such case."), field="duplicate" if primary in locked else "primary")
        main, dup = locked[primary], locked[duplicate]
        party = party_of(actor, main)
        _require_party(party, Party.AGENT, Party.SYSTEM)
        party_of(actor, dup)
        if version is not None and main.version != version:
            raise Conflict(
                _("Someone else changed this case a moment ago. Reload it and try again."),
                code="CASE_CHANGED",
                field="version",
            )
        if main.status in workflow.FINAL:
            raise InvalidTransition(_("The primary case is closed."), code="CASE_CLOSED", field="primary")
        refusal = merge_refusal(main, dup)
        if refusal is not None:
            raise refusal
        owner_fields = _claim(main, actor, party)
        fields = _claim(dup, actor, party)  # another agent's case is handed over first
        fields += _move(dup, "merge", actor=actor, party=party, data={"into": main.number})
        dup.merged_into = main
        fields += _finish(dup)
        moved_messages = CaseMessage.objects.filter(case=dup).update(case=main)
        moved_evidence = Evidence.objects.filter(case=dup).update(case=main)
        CaseMessage.objects.create(
            case=main,
            party=Party.SYSTEM,
            channel=dup.channel,
            body=f"[{dup.number} · {dup.get_channel_display()}] {dup.title}\n{dup.description}",
        )
        _event(
            main,
            "case_merged_in",
            actor,
            party,
            {"from": dup.number, "messages": moved_messages, "evidence": moved_evidence},
        )
        audit.record(actor=actor, action="case_merged", obj=main, after={"merged": dup.number})
        _save(dup, [*fields, "merged_into"])
        _save(main, owner_fields)
    return main


#: A duplicate is merged only while nothing was agreed or decided on it (its proposals, remedies
#: and rulings would otherwise be left behind on a case nobody works).
MERGEABLE = frozenset(
    {workflow.SUBMITTED, workflow.ACKNOWLEDGED, workflow.AWAITING_MERCHANT, workflow.NEGOTIATING}
)


def merge_refusal(main: Case, dup: Case) -> InvalidInput | InvalidTransition | None:
    """Why `dup` may not be merged into `main`, or None: the same person (buyer, account or
    e-mail address), the same order (or neither about one) and merchant, and the duplicate not
    yet agreed, escalated or ruled on. Merging moves every message and file into the other case,
    so two people's cases must never be merged."""
    who = same_person(main)
    one_person = who is not None and Case.objects.filter(who, pk=dup.pk).exists()
    if not one_person or (main.buyer_id and dup.buyer_id and main.buyer_id != dup.buyer_id):
        return InvalidInput(_("Only cases of the same consumer can be merged."), field="duplicate")
    if main.order_id != dup.order_id or main.merchant_id != dup.merchant_id:
        return InvalidInput(_("Only cases about the same order can be merged."), field="duplicate")
    if dup.status not in MERGEABLE or dup.remedies.exists() or dup.rulings.exists():
        return InvalidTransition(
            _("This case has gone past negotiation: it cannot be merged away."),
            code="NOT_MERGEABLE",
            field="duplicate",
        )
    return None
