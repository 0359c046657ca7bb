"""Platform intervention, review, ruling and appeal."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketguard.complaints import workflow
from marketguard.complaints.models import (
    Case,
    Party,
    Proposal,
    Remedy,
    RemedyKind,
    Ruling,
)
from marketguard.complaints.services.common import (
    _alert,
    _all_checked,
    _amount,
    _back_to_work,
    _claim,
    _clean_text,
    _event,
    _lock,
    _move,
    _notify_merchant,
    _remedy_text,
    _require_party,
    _save,
    _tell_consumer,
    _tell_parties,
    _to_platform,
    _when,
    case_payload,
    ruling_too_early,
    timeouts,
)
from marketguard.complaints.services.work import (
    _check_remedy_amount,
    _compensation_basis,
    _end_return_pause,
    _require_amount,
    _resolve,
    _return_text,
    _start_remedy,
)
from marketguard.core import audit, events
from marketguard.core.errors import InvalidInput, InvalidTransition
from marketguard.core.models import Role, User

# --- platform intervention and ruling --------------------------------------------------------------------


def intervention_refusal(case: Case, *, now, proposal_rejected: bool) -> InvalidTransition | None:
    """Why the consumer may not ask the platform to step in now, or None when they may: when
    there is no agreement 24 h after the request reached the merchant (whether the merchant
    wrote or not: JD's dispute rule), or at once after a proposal was rejected; within 15 days.
    The case page asks this too, so that it never offers what would be refused."""
    if case.intervention_deadline and now > case.intervention_deadline:
        return InvalidTransition(
            _("The 15 days to ask for intervention have passed."), code="INTERVENTION_WINDOW_CLOSED"
        )
    no_agreement = case.intervention_allowed_at is not None and now >= case.intervention_allowed_at
    if not (no_agreement or proposal_rejected):
        return InvalidTransition(
            _(
                "You can ask the platform to step in when there is no agreement 24 hours after "
                "the merchant got your request, or after a proposal was rejected."
            ),
            code="INTERVENTION_TOO_EARLY",
        )
    return None


def intervention_offer(case: Case, *, now, proposal_rejected: bool) -> tuple[bool, datetime | None]:
    """For the consumer's case page: (may they ask the platform to step in now, from when they
    may if the merchant's time to answer is still running). Never offers what
    :func:`request_intervention` would refuse."""
    refusal = intervention_refusal(case, now=now, proposal_rejected=proposal_rejected)
    if refusal is None:
        return True, None
    waiting = (
        refusal.code == "INTERVENTION_TOO_EARLY"
        and case.intervention_allowed_at is not None
        and case.intervention_allowed_at > now
    )
    return False, case.intervention_allowed_at if waiting else None


def request_intervention(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    """Ask the platform to step in (the consumer: see :func:`intervention_refusal`)."""
    reason = _clean_text(reason, "reason", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER, Party.MERCHANT, Party.AGENT)
        if party == Party.CONSUMER:
            rejected = case.proposals.filter(status=Proposal.Status.REJECTED).exists()
            refusal = intervention_refusal(case, now=timezone.now(), proposal_rejected=rejected)
            if refusal is not None:
                raise refusal
        fields = _claim(case, actor, party)
        fields += _escalate(case, actor=actor, party=party, reason=reason)
        if party != Party.MERCHANT and case.merchant_id:
            # the merchant may still settle, or send its evidence, before the platform decides
            case.settle_by = timezone.now() + timeouts().merchant_settle_after_intervention
            fields.append("settle_by")
            _notify_merchant(case, "settle_before_ruling")
        _save(case, fields)
    return case


def _escalate(case: Case, *, actor, party: str, reason: str) -> list[str]:
    fields = _move(case, "request_intervention", actor=actor, party=party, reason=reason)
    return [*fields, *_to_platform(case, party)]


def start_review(*, actor, number: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.ARBITRATOR)
        fields = _move(case, "start_review", actor=actor, party=party)
        _save(case, fields)
    return case


def record_ruling(
    *,
    actor,
    number: str,
    outcome: str,
    reasons: str,
    remedy: str = "",
    amount=None,
    compensation_basis: str = "",
    version: int | None = None,
) -> Ruling:
    """The arbitrator's written decision, with reasons and remedy; the merchant executes it within
    24 h. What the form sent is checked as a whole first: one refusal names every field wrong."""

    def check_outcome():
        if outcome not in Ruling.Outcome.values:
            raise InvalidInput(_("Unknown outcome."), field="outcome")

    def check_remedy():
        if remedy and remedy not in RemedyKind.values:
            raise InvalidInput(_("Unknown remedy."), field="remedy")
        if outcome != Ruling.Outcome.MERCHANT and not remedy:
            raise InvalidInput(_("Say what the merchant must do."), field="remedy")
        if outcome == Ruling.Outcome.MERCHANT and remedy:
            # upheld for the merchant: nothing is ordered, and nothing must read as if it were
            raise InvalidInput(
                _("A ruling for the merchant orders no remedy: choose “None”."), field="remedy"
            )

    def check_amount():
        fen = _amount(amount, "amount")
        _require_amount(remedy, fen, "amount")
        return fen

    def check_basis():
        # the law sets some amounts by basis: the arbitrator names it, no default is assumed
        if remedy == RemedyKind.COMPENSATION and not compensation_basis:
            raise InvalidInput(_("Choose the legal basis of the compensation."), field="compensation_basis")

    _outcome, reasons, _remedy, fen, _basis = _all_checked(
        check_outcome, lambda: _clean_text(reasons, "reasons"), check_remedy, check_amount, check_basis
    )
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.ARBITRATOR)
        too_early = ruling_too_early(case, timezone.now())
        if too_early is not None:
            raise too_early
        # a ruling after an appeal replaces what the earlier one ordered and was not yet done (its
        # amount no longer counts against what was paid; all of it is undone if this one fails)
        if (
            remedy == RemedyKind.RETURN_REFUND
            and case.remedies.filter(status=Remedy.Status.PENDING, received_at__isnull=False).exists()
        ):
            raise InvalidInput(
                _("The merchant already has the goods back: rule a refund (of the amount due)."),
                field="remedy",
            )
        replaced = case.remedies.filter(status=Remedy.Status.PENDING).update(status=Remedy.Status.SUPERSEDED)
        basis = ""
        if remedy:
            _check_remedy_amount(case, remedy, fen, "amount")
            basis = _compensation_basis(case, remedy, fen, compensation_basis, ruling=True)
        now = timezone.now()
        t = timeouts()
        ruling = Ruling.objects.create(
            case=case,
            arbitrator=actor,
            outcome=outcome,
            reasons=reasons,
            remedy=remedy or "",
            amount_fen=fen,
            compensation_basis=basis,
            execute_due=now + t.ruling_execution if remedy else None,
            appeal_deadline=now + t.appeal_window,
        )
        fields = _move(
            case,
            "rule",
            actor=actor,
            party=party,
            data={
                "outcome": outcome,
                "remedy": remedy,
                "amount_fen": fen,
                "ruling": ruling.pk,
                **({"compensation_basis": basis} if basis else {}),
            },
        )
        case.appeal_deadline = ruling.appeal_deadline
        fields.append("appeal_deadline")
        _tell_parties(case, "ruling_recorded")
        if replaced:
            _event(case, "remedies_superseded", actor, party, {"count": replaced, "ruling": ruling.pk})
            audit.record(
                actor=actor,
                action="remedies_superseded",
                obj=case,
                after={"count": replaced, "ruling": ruling.pk},
            )
        if remedy and outcome != Ruling.Outcome.MERCHANT:
            fields += _start_remedy(
                case,
                kind=remedy,
                amount=fen,
                source=Remedy.Source.RULING,
                due=ruling.execute_due,
                compensation_basis=basis,
            )
        else:
            fields += _resolve(case, actor=None, party=Party.SYSTEM)

        def ruled():
            lines = [
                _("The platform has ruled on your case: %(outcome)s.")
                % {"outcome": Ruling.Outcome(outcome).label},
                _("Reasons: %(reasons)s") % {"reasons": reasons},
            ]
            returned = case.remedies.filter(return_ship_by__isnull=False).order_by("-pk").first()
            if remedy == RemedyKind.RETURN_REFUND and outcome != Ruling.Outcome.MERCHANT and returned:
                # the refund waits for the goods: due 7 days after the merchant receives them
                lines += [
                    _("The merchant must carry out: %(remedy)s.") % {"remedy": _remedy_text(remedy, fen)},
                    *_return_text(returned.return_ship_by, returned.return_address),
                ]
            elif remedy and outcome != Ruling.Outcome.MERCHANT:
                lines.append(
                    _("The merchant must carry out: %(remedy)s, by %(due)s.")
                    % {"remedy": _remedy_text(remedy, fen), "due": _when(ruling.execute_due)}
                )
            lines.append(
                _("Either side may appeal until %(date)s.") % {"date": _when(ruling.appeal_deadline)}
            )
            return lines

        _tell_consumer(case, ruled)
        events.publish(
            "case.ruled",
            aggregate=case,
            payload={**case_payload(case), "outcome": outcome, "remedy": remedy, "amount_fen": fen},
        )
        _save(case, fields)
    return ruling


def appeal_ruling(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    reason = _clean_text(reason, "reason", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER, Party.MERCHANT)
        if case.appeal_deadline is None or timezone.now() > case.appeal_deadline:
            raise InvalidTransition(_("The 7 days to appeal have passed."), code="APPEAL_WINDOW_CLOSED")
        # a ruling for the merchant, or one carried out at once, resolved the case: it is still
        # open to appeal for its 7 days
        finished = case.status in (workflow.RESOLVED, workflow.CLOSED)
        fields = _move(case, "appeal", actor=actor, party=party, reason=reason)
        if finished:
            fields += _back_to_work(case)
        case.remedies.filter(status=Remedy.Status.PENDING).update(due_at=None)
        case.execution_due = None
        fields += _end_return_pause(case, timezone.now())  # the platform's review counts again
        _alert(
            User.objects.filter(role=Role.ARBITRATOR, is_active=True),
            case,
            "ruling_appealed",
            {"number": case.number},
        )
        _save(case, [*fields, "execution_due"])
    return case
