"""Alerts to people at work: what each kind says, and which are urgent enough to be e-mailed
as well as shown on the alerts page. Pure data and one function: used by services and views."""

from django.utils.translation import gettext_lazy as _

TEXT = {
    "case_for_merchant": _("A new case for your store"),
    "remedy_due": _("A remedy is due"),
    "remedy_overdue": _("A remedy is overdue"),
    "return_requested": _("Please send the goods back and enter the tracking number"),
    "materials_requested": _("Please send the materials asked for"),
    "return_shipped": _("The buyer sent the goods back"),
    "return_deemed_received": _("Returned goods deemed received: refund now due"),
    "return_lapsed": _("A return lapsed: the goods were not sent back in time"),
    "return_address_set": _("The merchant gave the address to send the goods back to"),
    "safety_case_assigned": _("A personal-safety case was assigned to you"),
    "safety_signal": _("Personal-safety signal on a product"),
    "case_handed_over": _("A case was handed over to you"),
    "case_reassigned": _("A case was reassigned to you"),
    "case_escalated": _("A case needs platform review"),
    "ruling_appealed": _("A ruling was appealed"),
    "sent_to_platform": _("The case went to the platform to decide"),
    "ruling_recorded": _("The platform ruled on the case"),
    "sla_warning": _("SLA deadline approaching"),
    "sla_breached": _("SLA deadline missed"),
    "sla_warning_supervisor": _("SLA deadline approaching (for supervisors)"),
    "sla_breached_supervisor": _("SLA deadline missed (for supervisors)"),
    "violation_recorded": _("A violation was recorded against your store"),
    "consumer_wrote": _("The consumer wrote"),
    "merchant_wrote": _("The merchant wrote"),
    "platform_wrote": _("The platform wrote"),
    "proposal_received": _("A new proposal"),
    "proposal_accepted": _("A proposal was accepted"),
    "proposal_rejected": _("A proposal was rejected"),
    "settle_before_ruling": _(
        "The platform was asked to step in: settle with the consumer or send your evidence within 24 hours"
    ),
    "ready_to_rule": _("The merchant's time to settle is over: the case is ready to rule on"),
    "materials_overdue": _("Materials asked for were not sent in time"),
    "settled_before_ruling": _(
        "The parties settled a case before the platform ruled: nothing left to decide"
    ),
    "evidence_requested": _("The platform asks your store for evidence: send it within 4 working hours"),
}

#: Kinds e-mailed to the recipient at once (when their account has an address): someone may be
#: hurt, a deadline was missed, or a case now waits on this person; the rest only show in the UI.
MAILED = frozenset(
    {
        "safety_signal",
        "safety_case_assigned",
        "case_escalated",
        "case_handed_over",
        "case_reassigned",
        "ruling_appealed",
        "remedy_overdue",
        "sla_breached",
        "sla_breached_supervisor",
        "violation_recorded",
        "settle_before_ruling",
        "evidence_requested",
        "ready_to_rule",
    }
)


def label(kind: str) -> str:
    """What an alert of this kind says, in the active language (the kind itself if unknown)."""
    return str(TEXT.get(kind, kind))
