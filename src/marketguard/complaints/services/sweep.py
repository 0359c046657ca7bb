"""The sweep the worker runs: SLA warnings and breaches, automatic approval, remedies not carried out,
automatic closing, the held files of refused e-mails discarded after the time kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketguard.complaints import held_mail, triage, workflow
from marketguard.complaints.models import (
    Case,
    CaseEvent,
    CaseKind,
    MaterialRequest,
    MerchantViolation,
    Party,
    Proposal,
    Remedy,
    RemedyKind,
    SlaMark,
)
from marketguard.complaints.services.arbitration import _escalate
from marketguard.complaints.services.closing import _close
from marketguard.complaints.services.common import (
    _alert,
    _event,
    _least_loaded_agent,
    _move,
    _notify_merchant,
    _pauses,
    _raise_priority_to,
    _remedy_text,
    _save,
    _tell_consumer,
    _when,
    case_payload,
    merchant_acted_since_escalation,
    policy_for,
    rules,
    timeouts,
)
from marketguard.complaints.services.work import (
    _end_pause,
    _end_return_pause,
    _receive_return,
    _resolve,
    _start_remedy,
    lock_purchase,
    refundable_left,
)
from marketguard.core import audit, events
from marketguard.core.calendars import get_calendar
from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import Role, User

# --- the sweep: SLA warnings and breaches, automatic approval, rulings not executed ------------------


@dataclass
class SweepReport:
    warnings: int = 0
    breaches: int = 0
    auto_approved: int = 0
    violations: int = 0
    closed: int = 0
    returns_lapsed: int = 0
    returns_deemed_received: int = 0
    settle_windows_passed: int = 0
    materials_lapsed: int = 0
    held_files_discarded: int = 0


#: reasons the system gives for a move, as codes (the timeline says them in the reader's language)
NOTHING_LEFT_TO_REFUND = "nothing_left_to_refund"
SLA_BREACHED = "sla_breached"

TARGET_FIELDS = {
    "first_response": ("first_response_due", "first_responded_at"),
    "merchant_response": ("merchant_response_due", "merchant_responded_at"),
    "resolution": ("resolution_due", "resolved_at"),
}


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Run by the worker every minute. Idempotent (each mark, approval and violation is recorded
    once under a unique constraint) and safe with two workers: each case is handled in its own
    transaction with its row locked (SKIP LOCKED on PostgreSQL)."""
    now = now or timezone.now()
    report = SweepReport()
    horizon = now + timedelta(days=1)
    due_soon = Q(status__in=list(workflow.OPEN)) & (
        Q(first_responded_at__isnull=True, first_response_due__lte=horizon)
        | Q(status=workflow.AWAITING_MERCHANT, merchant_response_due__lte=horizon)
        | Q(resolved_at__isnull=True, resolution_due__lte=horizon)
        | Q(sla_warn_at__lte=now)  # a warning due long before its deadline (business hours)
    )
    for number in Case.objects.filter(due_soon, waiting_on_consumer_since__isnull=True).values_list(
        "number", flat=True
    ):
        _sweep_case(number, now, report)
    for number in Case.objects.filter(
        status=workflow.AWAITING_MERCHANT,
        kind=CaseKind.REFUND_ONLY,
        auto_approve_at__lte=now,
        waiting_on_consumer_since__isnull=True,  # the platform waits on the consumer, not the merchant
    ).values_list("number", flat=True):
        _auto_approve(number, now, report)
    for number in Case.objects.filter(status=workflow.EXECUTING, execution_due__lte=now).values_list(
        "number", flat=True
    ):
        _execution_overdue(number, now, report)
    returns = Remedy.objects.filter(
        status=Remedy.Status.PENDING,
        kind=RemedyKind.RETURN_REFUND,
        received_at__isnull=True,
        case__status=workflow.EXECUTING,
    )
    for remedy_id, number in returns.filter(
        return_shipped_at__isnull=True, return_ship_by__lte=now
    ).values_list("pk", "case__number"):
        _return_not_shipped(number, remedy_id, now, report)
    for remedy_id, number in returns.filter(
        return_shipped_at__lte=now - timeouts().return_receipt_window
    ).values_list("pk", "case__number"):
        _return_not_confirmed(number, remedy_id, now, report)
    with_platform = [workflow.ESCALATED, workflow.PLATFORM_REVIEW]
    for number in Case.objects.filter(status__in=with_platform, settle_by__lte=now).values_list(
        "number", flat=True
    ):
        _settle_window_passed(number, now, report)
    overdue = MaterialRequest.objects.filter(
        due_at__lte=now, fulfilled_at__isnull=True, lapsed_at__isnull=True, case__status__in=with_platform
    ).values_list("case__number", flat=True)
    for number in sorted(set(overdue)):
        _materials_overdue(number, now, report)
    report.held_files_discarded = held_mail.purge(older_than=now - timeouts().refused_mail_files_kept)
    close_before = now - timedelta(days=rules().auto_close_days)
    for number in Case.objects.filter(status=workflow.RESOLVED, resolved_at__lte=close_before).values_list(
        "number", flat=True
    ):
        with transaction.atomic():
            case = _lock_for_sweep(number)
            if case is not None and case.status == workflow.RESOLVED:
                fields = _close(case, actor=None, party=Party.SYSTEM)
                _save(case, fields)
                report.closed += 1
    return report


def _settle_window_passed(number: str, now: datetime, report: SweepReport) -> None:
    """The merchant's time to settle after intervention is over: the arbitrators are told the
    case is theirs to rule on the evidence held; a merchant that did nothing in that time (no
    message, evidence or proposal) has not handled the dispute: a recorded violation."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if (
            case is None
            or case.status not in (workflow.ESCALATED, workflow.PLATFORM_REVIEW)
            or case.settle_by is None
            or case.settle_by > now
        ):
            return
        missed, case.settle_by = case.settle_by, None
        if case.rulings.exists():  # ruled meanwhile (an appeal brought it back): not a dispute ignored
            _save(case, ["settle_by"])
            return
        acted = merchant_acted_since_escalation(case)
        if not acted and _violation(case, MerchantViolation.Kind.DISPUTE_NOT_HANDLED, {}, due=missed):
            report.violations += 1
        # an offer not taken in time is not taken any more: the platform decides
        case.proposals.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.SUPERSEDED)
        _event(case, "settle_window_passed", None, Party.SYSTEM, {"merchant_acted": acted})
        _alert(
            User.objects.filter(role=Role.ARBITRATOR, is_active=True),
            case,
            "ready_to_rule",
            {"number": case.number},
        )
        _save(case, ["settle_by"])
        report.settle_windows_passed += 1


def _materials_overdue(number: str, now: datetime, report: SweepReport) -> None:
    """Materials the platform asked for while deciding were not sent in time (4 business hours):
    the clocks run again and the platform decides on what it has; the consumer and the one who
    asked are told."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if case is None or case.status not in (workflow.ESCALATED, workflow.PLATFORM_REVIEW):
            return
        open_requests = case.material_requests.filter(fulfilled_at__isnull=True, lapsed_at__isnull=True)
        lapsing = open_requests.filter(due_at__lte=now)
        askers = list(lapsing.exclude(requested_by=None).values_list("requested_by", flat=True))
        lapsed = dict(lapsing.values_list("pk", "party"))
        if not lapsed:
            return
        lapsing.update(lapsed_at=now)
        parties = sorted(set(lapsed.values()))
        fields = []
        # the clocks run again unless the platform still waits on a later request of its own
        still_due = open_requests.filter(party=Party.CONSUMER, due_at__gt=now).exists()
        if Party.CONSUMER in parties and case.waiting_on_consumer_since and not still_due:
            fields = _end_pause(case, answered=False)
        _event(case, "materials_overdue", None, Party.SYSTEM, {"of": parties})
        audit.record(actor=None, action="materials_overdue", obj=case, after={"requests": sorted(lapsed)})
        _alert(
            User.objects.filter(pk__in=askers, is_active=True),
            case,
            "materials_overdue",
            {"number": case.number},
        )
        if Party.CONSUMER in parties:
            _tell_consumer(
                case,
                lambda: [
                    _(
                        "The time to send the materials we asked for has passed: the platform decides on "
                        "the evidence it has. You can still add files on the case page until it rules."
                    )
                ],
            )
        _save(case, fields)
        report.materials_lapsed += 1


def _return_not_shipped(number: str, remedy_id: int, now: datetime, report: SweepReport) -> None:
    """The consumer did not send the goods back in time: the return lapses (the consumer is told
    and may ask to reopen); with nothing else left to do, the case resolves."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if case is None or case.status != workflow.EXECUTING:
            return
        remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
        if (
            remedy is None
            or remedy.status != Remedy.Status.PENDING
            or remedy.return_shipped_at is not None
            or remedy.return_ship_by is None
            or remedy.return_ship_by > now
        ):
            return
        remedy.status = Remedy.Status.LAPSED
        remedy.save(update_fields=["status"])
        _event(case, "return_lapsed", None, Party.SYSTEM, {"ship_by": remedy.return_ship_by})
        audit.record(actor=None, action="return_lapsed", obj=case, after={"remedy": remedy.pk})
        if case.consumer_id:
            _alert([case.consumer], case, "return_lapsed", {"number": case.number})
        _notify_merchant(case, "return_lapsed")
        fields = _end_return_pause(case, now, remedy)
        if not case.remedies.filter(status=Remedy.Status.PENDING).exists():
            fields += _resolve(case, actor=None, party=Party.SYSTEM)
        report.returns_lapsed += 1
        _save(case, fields)


def _return_not_confirmed(number: str, remedy_id: int, now: datetime, report: SweepReport) -> None:
    """The merchant never confirmed receipt of goods sent back: deemed received, refund due."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if case is None or case.status != workflow.EXECUTING:
            return
        remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
        if (
            remedy is None
            or remedy.status != Remedy.Status.PENDING
            or remedy.received_at is not None
            or remedy.return_shipped_at is None
            or remedy.return_shipped_at > now - timeouts().return_receipt_window
        ):
            return
        fields = _receive_return(case, remedy, now, actor=None, party=Party.SYSTEM, deemed=True)
        report.returns_deemed_received += 1
        _save(case, fields)


def _lock_for_sweep(number: str) -> Case | None:
    qs = Case.objects.filter(number=number)
    from django.db import connection

    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True).first()
    return qs.select_for_update().first()


def _sweep_case(number: str, now: datetime, report: SweepReport) -> None:
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if case is None or case.status not in workflow.OPEN or case.waiting_on_consumer_since:
            return
        policy = policy_for(case)
        fields: list[str] = []
        upcoming = []
        for target, (due_field, met_field) in TARGET_FIELDS.items():
            due = getattr(case, due_field)
            if due is None or getattr(case, met_field) is not None or policy.target(target) is None:
                continue
            if target == "merchant_response" and case.status != workflow.AWAITING_MERCHANT:
                continue
            start = case.merchant_since if target == "merchant_response" else case.created_at
            clock = policy.clock(target, start, pauses=_pauses(case), business_calendar=get_calendar())
            warn_at = None if clock.paused_at(now) else clock.warning_at(now)
            if warn_at is not None and warn_at > now:
                upcoming.append(warn_at)
            state = clock.state(now)
            stage = {"warning": "warning", "breached": "breached"}.get(state)
            if stage is None:
                continue
            if (
                stage == "breached"
                and not SlaMark.objects.filter(case=case, target=target, stage="warning", due_at=due).exists()
            ):
                _mark(case, target, "warning", due, (), report)
            actions = policy.actions(target, stage)
            if _mark(case, target, stage, due, actions, report):
                fields += _apply_actions(case, target, stage, actions)
        next_warning = min(upcoming, default=None)
        if case.sla_warn_at != next_warning:
            # the sweep's own bookkeeping: not a change anyone made, so the version stays (forms
            # open on the case are not refused for it)
            case.sla_warn_at = next_warning
            Case.objects.filter(pk=case.pk).update(sla_warn_at=next_warning)
        if fields:
            _save(case, fields)


def _mark(case, target, stage, due, actions, report) -> bool:
    try:
        with transaction.atomic():
            SlaMark.objects.create(case=case, target=target, stage=stage, due_at=due, actions=list(actions))
    except IntegrityError:
        return False
    if stage == "warning":
        report.warnings += 1
    else:
        report.breaches += 1
    _event(
        case,
        f"sla_{stage}",
        None,
        Party.SYSTEM,
        {"target": target, "due": due, "actions": list(actions)},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    audit.record(
        actor=None, action=f"sla_{stage}", obj=case, after={"target": target, "actions": list(actions)}
    )
    return True


def _supervisors():
    return User.objects.filter(role=Role.ADMIN, is_active=True)


def _apply_actions(case: Case, target: str, stage: str, actions) -> list[str]:
    fields: list[str] = []
    data = {"number": case.number, "target": target, "stage": stage}
    for action in actions:
        if action == "notify":
            if target == "merchant_response":
                _notify_merchant(case, f"sla_{stage}")
            elif case.owner_id:
                _alert([case.owner], case, f"sla_{stage}", data)
            else:
                _alert(User.objects.filter(role=Role.AGENT, is_active=True), case, f"sla_{stage}", data)
        elif action == "notify_supervisor":
            _alert(_supervisors(), case, f"sla_{stage}_supervisor", data)
        elif action == "reassign":
            agent = _least_loaded_agent(exclude=case.owner_id)
            if agent is not None:
                before = case.owner_id
                case.owner, case.owner_since = agent, timezone.now()
                fields += ["owner", "owner_since"]
                _alert([agent], case, "case_reassigned", data)
                _event(
                    case,
                    "case_reassigned",
                    None,
                    Party.SYSTEM,
                    {"to": agent.get_username(), "why": target},
                    visibility=CaseEvent.Visibility.PLATFORM,
                )
                audit.record(
                    actor=None,
                    action="case_reassigned",
                    obj=case,
                    before={"owner": before},
                    after={"owner": agent.pk},
                    reason=f"SLA {target} {stage}",
                )
        elif action == "raise_priority":
            fields += _raise_priority_to(case, triage.raise_priority(case.priority, 1))
        elif action == "allow_intervention":
            if case.intervention_allowed_at is None or case.intervention_allowed_at > timezone.now():
                case.intervention_allowed_at = timezone.now()
                fields.append("intervention_allowed_at")
            _event(case, "intervention_available", None, Party.SYSTEM, {})
        elif (
            action == "platform_intervention"
            and case.status in workflow.TRANSITIONS["request_intervention"].sources
        ):
            fields += _escalate(case, actor=None, party=Party.SYSTEM, reason=f"{SLA_BREACHED}:{target}")
    return fields


def _auto_approve(number: str, now: datetime, report: SweepReport) -> None:
    """Merchant silent 72 h on a refund-only request: approved automatically, merchant recorded."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if (
            case is None
            or case.status != workflow.AWAITING_MERCHANT
            or not case.auto_approve_at
            or case.auto_approve_at > now
        ):
            return
        hours = timeouts().auto_approve_refund_only.total_seconds() / 3600
        amount = case.amount_claimed_fen if case.amount_claimed_fen is not None else case.paid_amount_fen
        lock_purchase(case)
        left = refundable_left(case)
        if left is not None:
            amount = min(amount, left) if amount is not None else left
        missed = case.auto_approve_at
        case.auto_approve_at = None
        _violation(case, MerchantViolation.Kind.SILENT_ON_REFUND, {"amount_fen": amount}, due=missed)
        if amount is None or amount <= 0:
            # everything paid was refunded already: nothing to approve, the platform looks at it
            fields = _escalate(case, actor=None, party=Party.SYSTEM, reason=NOTHING_LEFT_TO_REFUND)
            _save(case, [*fields, "auto_approve_at"])
            return
        fields = _move(case, "auto_approve", actor=None, party=Party.SYSTEM, data={"after_hours": hours})
        fields += _start_remedy(
            case, kind=RemedyKind.REFUND, amount=amount, source=Remedy.Source.AUTO_APPROVAL
        )
        fields.append("auto_approve_at")

        def approved():
            lines = [
                _(
                    "The merchant did not answer within %(hours)s hours, so your refund-only request "
                    "was approved automatically: %(amount)s."
                )
                % {"hours": f"{hours:g}", "amount": _remedy_text(RemedyKind.REFUND, amount)}
            ]
            if case.execution_due:
                lines.append(_("The refund is due by %(date)s.") % {"date": _when(case.execution_due)})
            return lines

        _tell_consumer(case, approved)
        report.auto_approved += 1
        _save(case, fields)


def _violation(case: Case, kind: str, details: dict, *, due: datetime | None) -> bool:
    """Record the merchant's violation once per deadline missed (`due`)."""
    try:
        with transaction.atomic():
            MerchantViolation.objects.create(
                merchant=case.merchant, case=case, kind=kind, due_at=due, details=jsonable(details)
            )
    except IntegrityError:
        return False
    _event(
        case,
        "merchant_violation_recorded",
        None,
        Party.SYSTEM,
        {"kind": kind},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    audit.record(actor=None, action="merchant_violation_recorded", obj=case, after={"kind": kind, **details})
    _notify_merchant(case, "violation_recorded")
    events.publish(
        "merchant.violation_recorded",
        aggregate=case,
        payload={"merchant": case.merchant.external_id, "case": case.number, "kind": kind},
    )
    return True


def _execution_overdue(number: str, now: datetime, report: SweepReport) -> None:
    """A remedy not carried out in time: escalated, and for a ruling a recorded violation."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if (
            case is None
            or case.status != workflow.EXECUTING
            or not case.execution_due
            or case.execution_due > now
        ):
            return
        from_ruling = case.remedies.filter(status=Remedy.Status.PENDING, source=Remedy.Source.RULING).exists()
        if from_ruling and _violation(
            case,
            MerchantViolation.Kind.RULING_NOT_EXECUTED,
            {"due": case.execution_due},
            due=case.execution_due,
        ):
            report.violations += 1
        fields = []
        if _mark(
            case, "execution", "breached", case.execution_due, ("notify_supervisor", "raise_priority"), report
        ):
            fields += _apply_actions(case, "execution", "breached", ("notify_supervisor", "raise_priority"))
            _notify_merchant(case, "remedy_overdue")
            events.publish("case.remedy_overdue", aggregate=case, payload=case_payload(case))
        if fields:
            _save(case, fields)
