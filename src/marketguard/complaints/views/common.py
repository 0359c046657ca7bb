"""What the complaint pages share: the texts of codes (events, targets, states, parties...),
the form input reader and the error page."""

from __future__ import annotations

from datetime import date

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.complaints import selectors
from marketguard.complaints.models import (
    CaseKind,
    CaseStatus,
    Channel,
    MerchantViolation,
    Party,
    ProblemType,
    Proposal,
    Remedy,
    RemedyKind,
    Ruling,
)
from marketguard.core.errors import DomainError, InvalidInput
from marketguard.core.models import Role
from marketguard.core.money import format_yuan
from marketguard.core.text import plain

PAGE_SIZE = 25
OBSERVER = "observer"

# --- words the page shows for codes -------------------------------------------------------------

EVENT_TEXT = {
    "case_submitted": gettext_lazy("Case filed"),
    "case_triaged": gettext_lazy("Triaged automatically"),
    "owner_assigned": gettext_lazy("Responsible agent assigned"),
    "case_acknowledged": gettext_lazy("Case acknowledged"),
    "case_routed_to_merchant": gettext_lazy("Sent to the merchant"),
    "merchant_responded": gettext_lazy("The merchant answered"),
    "agreement_reached": gettext_lazy("Agreement reached"),
    "approved_automatically": gettext_lazy("Approved automatically: the merchant did not answer"),
    "remedy_started": gettext_lazy("Remedy to carry out"),
    "case_resolved": gettext_lazy("Case resolved"),
    "case_closed": gettext_lazy("Case closed"),
    "intervention_requested": gettext_lazy("Platform intervention requested"),
    "review_started": gettext_lazy("Platform review started"),
    "ruling_recorded": gettext_lazy("Ruling recorded"),
    "ruling_appealed": gettext_lazy("Ruling appealed"),
    "case_reopened": gettext_lazy("Case reopened"),
    "case_withdrawn": gettext_lazy("Case withdrawn"),
    "case_rejected": gettext_lazy("Case rejected"),
    "case_merged": gettext_lazy("Merged into another case"),
    "case_merged_in": gettext_lazy("Another case was merged into this one"),
    "proposal_made": gettext_lazy("Proposal made"),
    "proposal_accepted": gettext_lazy("Proposal accepted"),
    "proposal_rejected": gettext_lazy("Proposal rejected"),
    "remedy_executed": gettext_lazy("Remedy carried out"),
    "return_shipped": gettext_lazy("Goods sent back"),
    "return_tracking_corrected": gettext_lazy("Return tracking number corrected"),
    "return_address_set": gettext_lazy("Return address given"),
    "return_disputed": gettext_lazy("Returned goods not intact: sent to the platform"),
    "repair_scheduled": gettext_lazy("Repair scheduled"),
    "mail_refused": gettext_lazy("E-mail not added to the case"),
    "mail_added": gettext_lazy("A refused e-mail was added as the consumer's message"),
    "mail_sender_unverified": gettext_lazy(
        "Filed from an e-mail whose sender no mail server confirmed: check who wrote before relying on it"
    ),
    "settle_window_passed": gettext_lazy("The merchant's time to settle is over; the platform decides"),
    "materials_overdue": gettext_lazy("Materials not sent in time: the platform decides on what it has"),
    "follow_up_of": gettext_lazy("Filed from an e-mail about an earlier case"),
    "follow_up_filed": gettext_lazy("A later e-mail was filed as a new case"),
    "return_received": gettext_lazy("Returned goods received: refund due"),
    "return_deemed_received": gettext_lazy(
        "Receipt not confirmed in time: goods deemed received, refund due"
    ),
    "return_lapsed": gettext_lazy("Goods not sent back in time: the return lapsed"),
    "remedies_superseded": gettext_lazy("What the earlier ruling ordered was replaced by the new ruling"),
    "rating_requested": gettext_lazy("Satisfaction rating requested"),
    "case_rated": gettext_lazy("Service rated"),
    "materials_requested": gettext_lazy("Materials requested"),
    "evidence_added": gettext_lazy("Evidence added"),
    "clock_resumed": gettext_lazy("Materials received: the clocks run again"),
    "sla_warning": gettext_lazy("SLA warning"),
    "sla_breached": gettext_lazy("SLA breached"),
    "priority_raised": gettext_lazy("Priority raised"),
    "intervention_available": gettext_lazy("Platform intervention may now be requested"),
    "merchant_violation_recorded": gettext_lazy("Merchant violation recorded"),
    "case_handed_over": gettext_lazy("Handed over"),
    "case_reassigned": gettext_lazy("Reassigned"),
    "inspectors_alerted": gettext_lazy("Quality inspectors alerted"),
    "duplicate_suspected": gettext_lazy("Possible duplicate"),
    "attachment_refused": gettext_lazy("Attachment refused"),
    "order_linked": gettext_lazy("Linked to its order"),
    "sla_policy_changed": gettext_lazy("SLA policy changed: deadlines counted again from filing"),
}

TARGET_TEXT = selectors.TARGET_TEXT  # (the breach report reads them too)

STATE_TEXT = {
    "ok": gettext_lazy("On track"),
    "warning": gettext_lazy("At risk"),
    "breached": gettext_lazy("Breached"),
    "paused": gettext_lazy("Paused"),
    "met": gettext_lazy("Met"),
    "none": gettext_lazy("Nothing due from you"),
}

TRIAGE_TEXT = {
    "SAFETY_KEYWORD": gettext_lazy("Personal-safety word “%(keyword)s”"),
    "SAFETY_OVERRIDE": gettext_lazy("The safety signal overrides the chosen type (%(consumer_choice)s)"),
    "CONSUMER_CHOICE": gettext_lazy("Problem type chosen at intake: %(problem_type)s"),
    "KEYWORD_MATCH": gettext_lazy("Words in the text point to %(problem_type)s: %(keywords)s"),
    "KEYWORD_DISAGREES": gettext_lazy(
        "The text suggests %(suggested)s (%(keywords)s), the chosen type is %(consumer_choice)s"
    ),
    "NEGATED_KEYWORD": gettext_lazy("Negated word ignored: “%(keyword)s”"),
    "NO_MATCH": gettext_lazy("No keyword matched"),
    "KIND_DEFAULT": gettext_lazy("Default for %(kind)s: %(problem_type)s"),
    "BASE_PRIORITY": gettext_lazy("Base priority of %(problem_type)s: %(priority)s"),
    "AMOUNT_HIGH": gettext_lazy("High amount %(amount_fen)s (from %(threshold_fen)s)"),
    "AMOUNT_VERY_HIGH": gettext_lazy(
        "Very high amount %(amount_fen)s (from %(threshold_fen)s): at least %(floor)s"
    ),
    "REPEAT_COMPLAINT": gettext_lazy("Repeat complaints: %(count)s in 30 days (from %(threshold)s)"),
    "HIGH_RISK_CATEGORY": gettext_lazy("High-risk category for %(problem_type)s"),
    "CHANNEL_RAISE": gettext_lazy("Raised for the channel %(channel)s"),
    "PRIORITY_CAPPED": gettext_lazy("Capped at %(ceiling)s without a safety signal"),
    "CLASSIFIER": gettext_lazy(
        "The trained classifier suggests %(problem_type)s (probability %(probability)s)"
    ),
    "CLASSIFIER_UNSURE": gettext_lazy(
        "The trained classifier is unsure (best guess %(problem_type)s, probability %(probability)s)"
    ),
    "CLASSIFIER_SAFETY": gettext_lazy(
        "The trained classifier reads a personal-safety risk (probability %(probability)s)"
    ),
    "NO_REASON_ELIGIBLE": gettext_lazy("7-day no-reason return possible until %(deadline)s"),
    "NO_REASON_NOT_ELIGIBLE": gettext_lazy("7-day no-reason return not possible: %(why)s."),
}

DONE_TEXT = {
    "acknowledge": gettext_lazy("Case acknowledged."),
    "take": gettext_lazy("The case is now yours."),
    "forward": gettext_lazy("Sent to the merchant."),
    "link-order": gettext_lazy("The case is linked to its order."),
    "materials": gettext_lazy("Materials requested."),
    "add-mail": gettext_lazy("The e-mail was added to the case as the consumer's message."),
    "ask-merchant": gettext_lazy("The merchant was asked: it has 4 working hours to send it."),
    "hand-over": gettext_lazy("Case handed over."),
    "resolve": gettext_lazy("Case resolved."),
    "reject": gettext_lazy("Case rejected."),
    "merge": gettext_lazy("Cases merged."),
    "message": gettext_lazy("Message sent."),
    "evidence": gettext_lazy("Evidence uploaded."),
    "propose": gettext_lazy("Proposal sent."),
    "decide": gettext_lazy("Decision recorded."),
    "execute": gettext_lazy("Remedy recorded as done."),
    "return-shipped": gettext_lazy("Return shipment recorded: the merchant has been told."),
    "return-received": gettext_lazy("Receipt recorded: the refund is due within 7 days."),
    "return-address": gettext_lazy("Return address saved: the consumer has been told."),
    "intervention": gettext_lazy("Platform intervention requested."),
    "withdraw": gettext_lazy("Case withdrawn."),
    "appeal": gettext_lazy("Appeal filed."),
    "reopen": gettext_lazy("Case reopened."),
    "rate": gettext_lazy("Thank you for your rating."),
    "review": gettext_lazy("Review started."),
    "ruling": gettext_lazy("Ruling recorded."),
}

PROPOSAL_DECIDED_TEXT = {
    True: gettext_lazy("Accepted: the remedy is under “Remedies”, with what happens next and by when."),
    False: gettext_lazy(
        "Rejected: the other side is told. Propose something else or, if you cannot agree, ask the "
        "platform to step in."
    ),
}
#: a merchant's offer rejected (by the consumer, who makes no offers of their own)
MERCHANT_OFFER_REJECTED_TEXT = gettext_lazy(
    "Rejected: the merchant is told and may offer something else. If you cannot agree, ask the platform "
    "to step in."
)
REPAIR_SCHEDULED_TEXT = gettext_lazy("Repair date recorded: the consumer has been told.")
RETURN_DISPUTED_TEXT = gettext_lazy("Recorded as not intact: the platform decides on the refund.")
#: reasons the system gives for a move (codes in the timeline's data), in the reader's language
SYSTEM_REASON_TEXT = {
    "nothing_left_to_refund": gettext_lazy("Nothing is left to refund: the platform decides."),
    "sla_breached:first_response": gettext_lazy("No first response in time"),
    "sla_breached:merchant_response": gettext_lazy("The merchant did not answer in time"),
    "sla_breached:resolution": gettext_lazy("Not resolved in time"),
}


SETTLE_PASSED_TEXT = {
    True: gettext_lazy("the merchant had answered in time"),
    False: gettext_lazy("the merchant did nothing in that time"),
}
VIOLATION_TEXT = dict(MerchantViolation.Kind.choices)


def _done_text(action: str, result) -> str:
    """What the page says after an action went through."""
    if action == "decide" and isinstance(result, Proposal):
        if result.status != Proposal.Status.ACCEPTED and result.party == Party.MERCHANT:
            return MERCHANT_OFFER_REJECTED_TEXT
        return PROPOSAL_DECIDED_TEXT[result.status == Proposal.Status.ACCEPTED]
    if isinstance(result, Remedy) and result.status == Remedy.Status.PENDING:
        if action == "execute" and result.kind == RemedyKind.REPAIR:
            return REPAIR_SCHEDULED_TEXT  # a date promised, not the repair done
        if action == "return-received" and result.due_at is None:
            return RETURN_DISPUTED_TEXT
    return DONE_TEXT[action]


PARTY_TEXT = dict(Party.choices)
PROBLEM_TEXT = dict(ProblemType.choices)
KIND_TEXT = dict(CaseKind.choices)
REMEDY_TEXT = dict(RemedyKind.choices)
CHANNEL_TEXT = dict(Channel.choices)
OUTCOME_TEXT = dict(Ruling.Outcome.choices)
STATUS_TEXT = dict(CaseStatus.choices)


# --- small helpers (parsing and presentation only) -------------------------------------------------


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _desk(user) -> str:
    """Which work view this user gets on /cases/."""
    if user.is_superuser or user.role in (Role.AGENT, Role.ADMIN):
        return "agent"
    return {
        Role.CONSUMER: "consumer",
        Role.MERCHANT_STAFF: "merchant",
        Role.ARBITRATOR: "arbitrator",
        Role.INSPECTOR: OBSERVER,
        Role.ANALYST: OBSERVER,
    }.get(user.role, "")


class _Input:
    """Typed reads of a POST body: a bad value raises InvalidInput naming the field."""

    def __init__(self, data):
        self.data = data

    def text(self, name: str) -> str:
        return plain(self.data.get(name, ""))  # no control characters (core.text)

    def optional(self, name: str) -> str | None:
        return self.text(name).strip() or None

    def flag(self, name: str) -> bool:
        return self.data.get(name, "") in ("1", "on", "true", "yes")

    def items(self, name: str) -> list[str]:
        return self.data.getlist(name)

    def integer(self, name: str, *, required: bool = True) -> int | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            if required:
                raise InvalidInput(_("This field is required."), field=name)
            return None
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(_("Enter a whole number."), field=name) from None

    def day(self, name: str) -> date | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(_("Enter a date (YYYY-MM-DD)."), field=name) from None

    @property
    def version(self) -> int | None:
        return self.integer("version", required=False)


def _error_page(request, exc: DomainError):
    """The app's own page for a refusal, 404 included (not Django's: in development that one
    lists every URL of the site)."""
    return render(
        request, "complaints/error.html", {"message": exc.message, "status": exc.status}, status=exc.status
    )


def _field(exc: DomainError) -> str:
    return exc.errors[0].field if exc.errors else ""


def _money_text(value) -> str:
    return format_yuan(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)
