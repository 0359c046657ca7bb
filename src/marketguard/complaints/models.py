"""Complaints and after-sales cases: one case model from intake to archive.

The case status is changed only by `services.py` through the transition table in `workflow.py`.
Nothing here is ever deleted: messages, evidence, proposals, rulings and remedies are kept at
least 3 years after completion (E-commerce Law art. 31); corrections are new rows.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEPT = "case records are kept for the legal retention period and are never deleted"


class KeptQuerySet(models.QuerySet):
    """A queryset whose rows cannot be deleted in bulk either (`filter(...).delete()`)."""

    def delete(self):
        raise PermissionError(KEPT)

    delete.queryset_only = True


class NeverDelete(models.Model):
    """Rows of a case file are kept: deleting one raises, one by one or in bulk (and the
    services never try)."""

    objects = KeptQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError(KEPT)


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")
    COMPENSATION = "compensation", _("Compensation")


class ProblemType(models.TextChoices):
    QUALITY = "quality", _("Quality problem")
    SAFETY = "safety", _("Personal safety")
    COUNTERFEIT = "counterfeit", _("Counterfeit")
    FALSE_ADVERTISING = "false_advertising", _("False advertising")
    WRONG_OR_MISSING = "wrong_or_missing_item", _("Wrong or missing item")
    SIZE_MISMATCH = "size_mismatch", _("Size mismatch")
    NO_REASON_RETURN = "no_reason_return_7day", _("7-day no-reason return")
    LOGISTICS_DELAY = "logistics_delay", _("Logistics delay")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 · personal safety")
    P2 = "P2", _("P2 · high")
    P3 = "P3", _("P3 · normal")
    P4 = "P4", _("P4 · low")


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    APP = "app", _("App")
    API = "api", _("API")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Online chat")
    HOTLINE = "hotline", _("Hotline")


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    AWAITING_MERCHANT = "awaiting_merchant", _("Awaiting merchant")
    NEGOTIATING = "negotiating", _("Negotiating")
    AGREED = "agreed", _("Agreed")
    ESCALATED = "escalated", _("Escalated to the platform")
    PLATFORM_REVIEW = "platform_review", _("Platform review")
    RULED = "ruled", _("Ruled")
    EXECUTING = "executing", _("Remedy in progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another case")


class Party(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    MERCHANT = "merchant", _("Merchant")
    AGENT = "agent", _("Service agent")
    ARBITRATOR = "arbitrator", _("Arbitrator")
    SYSTEM = "system", _("System")


class Case(models.Model):
    number = models.CharField(_("case number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    problem_type = models.CharField(_("problem type"), max_length=30, choices=ProblemType.choices)
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    safety = models.BooleanField(_("personal safety"), default=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED, editable=False
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    triage = models.JSONField(_("triage"), default=dict, editable=False)

    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_filed",
        verbose_name=_("consumer account"),
    )
    buyer = models.ForeignKey(
        "catalog.Buyer", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("buyer")
    )
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    language = models.CharField(
        _("consumer's language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_(
            "What the consumer is written to in: their choice, else the language of their complaint."
        ),
    )
    order = models.ForeignKey(
        "catalog.Order", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("order")
    )
    order_item = models.ForeignKey(
        "catalog.OrderItem", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("order item")
    )
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("product")
    )
    merchant = models.ForeignKey(
        "catalog.Merchant", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("merchant")
    )
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("category")
    )
    amount_claimed_fen = models.BigIntegerField(_("amount claimed (fen)"), null=True, blank=True)
    paid_amount_fen = models.BigIntegerField(
        _("paid amount (fen)"),
        null=True,
        blank=True,
        help_text=_("What the consumer paid: refunds never exceed it."),
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_owned",
        verbose_name=_("responsible agent"),
    )
    owner_since = models.DateTimeField(_("owner since"), null=True, blank=True)

    sla_policy = models.CharField(_("SLA policy"), max_length=60, blank=True)
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    merchant_since = models.DateTimeField(_("with the merchant since"), null=True, blank=True)
    merchant_response_due = models.DateTimeField(_("merchant response due"), null=True, blank=True)
    merchant_responded_at = models.DateTimeField(_("merchant responded at"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    auto_approve_at = models.DateTimeField(_("approved automatically at"), null=True, blank=True)
    intervention_allowed_at = models.DateTimeField(_("intervention allowed from"), null=True, blank=True)
    intervention_deadline = models.DateTimeField(_("intervention allowed until"), null=True, blank=True)
    waiting_on_consumer_since = models.DateTimeField(
        _("waiting on the consumer since"), null=True, blank=True
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    #: after the consumer asked the platform to step in, the merchant may still settle (or send
    #: its evidence) until this; then the platform rules on the evidence it has (JD: 24 h)
    settle_by = models.DateTimeField(_("the merchant may settle until"), null=True, blank=True)
    execution_due = models.DateTimeField(_("remedy due"), null=True, blank=True)
    #: when the sweep next looks at the case: the earliest warning time of its running clocks
    sla_warn_at = models.DateTimeField(null=True, blank=True, db_index=True, editable=False)
    appeal_deadline = models.DateTimeField(_("appeal allowed until"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    retain_until = models.DateField(_("kept until"), null=True, blank=True)

    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    possible_duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("possible duplicate of"),
    )
    materials_notified = models.JSONField(_("materials requested at intake"), default=list, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = KeptQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "priority"]),
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["consumer", "created_at"]),
            models.Index(fields=["buyer", "order", "problem_type"]),
            # the consumer's other cases are also found by the address a case came from (iexact)
            models.Index(Upper("contact_email"), name="case_contact_email_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_claimed_fen__isnull=True) | models.Q(amount_claimed_fen__gte=0),
                name="case_claim_not_negative",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def delete(self, *args, **kwargs):
        raise PermissionError("cases are kept for the legal retention period and are never deleted")


class CasePause(NeverDelete):
    """An interval while the SLA clocks stand still (waiting for the consumer)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    # the return whose goods are travelling back (a return pause ends with its own remedy)
    remedy = models.ForeignKey(
        "Remedy", on_delete=models.PROTECT, related_name="pauses", null=True, blank=True
    )

    class Meta:
        ordering = ["started_at"]


class CaseEvent(NeverDelete):
    """The case timeline: what happened, who did it, when. Written by services only."""

    class Visibility(models.TextChoices):
        PARTIES = "parties", _("Consumer, merchant and platform")
        PLATFORM = "platform", _("Platform only")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(_("event"), max_length=40)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    party = models.CharField(_("party"), max_length=12, choices=Party.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PARTIES)

    class Meta:
        verbose_name = _("case event")
        ordering = ["at", "id"]


class CaseMessage(NeverDelete):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    party = models.CharField(_("party"), max_length=12, choices=Party.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    body = models.TextField(_("message"))
    internal = models.BooleanField(_("internal note"), default=False)
    email_message_id = models.CharField(max_length=300, blank=True, db_index=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at", "id"]
        constraints = [
            # one e-mail is one message, however many workers or copies of it there are
            models.UniqueConstraint(
                fields=["email_message_id"],
                condition=~models.Q(email_message_id=""),
                name="one_case_message_per_email",
            )
        ]


class Blob(models.Model):
    """A stored file, addressed by its SHA-256: the same bytes are stored once."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=10)
    file = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200, blank=True)
    #: images: the copy consumers and merchants get, without EXIF (GPS, time, camera) or other
    #: metadata; the original stays the evidence of record, for the platform
    shown_file = models.FileField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def delete(self, *args, **kwargs):
        raise PermissionError("evidence files are kept for the legal retention period")


class Evidence(NeverDelete):
    class Visibility(models.TextChoices):
        PARTIES = "parties", _("Consumer, merchant and platform")
        PLATFORM = "platform", _("Platform only")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="uses")
    filename = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10)
    party = models.CharField(_("party"), max_length=12, choices=Party.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    material_code = models.CharField(_("material"), max_length=40, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PARTIES)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["created_at", "id"]


class MaterialRequest(NeverDelete):
    """Materials asked of the consumer. The first is the intake notice (一次性告知); asking again
    needs a recorded reason."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="material_requests")
    #: who is asked: the consumer (a checklist of items), or, while the platform decides, the
    #: merchant (what is needed, in words)
    party = models.CharField(_("asked of"), max_length=10, default="consumer")
    items = models.JSONField(_("items"))
    reason = models.TextField(_("reason"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    #: asked by the platform while it decides: due in 4 business hours (JD: extra evidence on a
    #: 09:00-18:00 clock); none for requests made before the case went to the platform
    due_at = models.DateTimeField(_("due by"), null=True, blank=True)
    #: the due time passed without an answer: the case went on on the evidence held
    lapsed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]


class RemedyKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")
    RESHIPMENT = "reshipment", _("Reshipment")
    REPAIR = "repair", _("Repair")
    COMPENSATION = "compensation", _("Compensation")


class CompensationBasis(models.TextChoices):
    """The legal basis of a compensation; its ceiling is :mod:`marketguard.complaints.compensation`."""

    GOODWILL = "goodwill", _("Goodwill compensation (at most the price paid)")
    FRAUD = (
        "fraud",
        _("Fraud: three times the price, at least 500 yuan (Consumer Rights Protection Law art. 55)"),
    )
    FOOD_SAFETY = (
        "food_safety",
        _("Unsafe food: ten times the price, at least 1,000 yuan (Food Safety Law art. 148)"),
    )
    INJURY = "injury", _("Personal injury: the losses shown (Consumer Rights Protection Law art. 49)")


class Proposal(NeverDelete):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="proposals")
    party = models.CharField(_("proposed by"), max_length=12, choices=Party.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    remedy = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices)
    amount_fen = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    compensation_basis = models.CharField(
        _("legal basis of the compensation"), max_length=16, choices=CompensationBasis.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("proposal")
        ordering = ["created_at", "id"]


class Ruling(NeverDelete):
    class Outcome(models.TextChoices):
        CONSUMER = "consumer_upheld", _("Consumer's claim upheld")
        PARTIAL = "partially_upheld", _("Claim partly upheld")
        MERCHANT = "merchant_upheld", _("Merchant's position upheld")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="rulings")
    arbitrator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"))
    remedy = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices, blank=True)
    amount_fen = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    compensation_basis = models.CharField(
        _("legal basis of the compensation"), max_length=16, choices=CompensationBasis.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    execute_due = models.DateTimeField(_("execute by"), null=True, blank=True)
    appeal_deadline = models.DateTimeField(_("appeal allowed until"))

    class Meta:
        verbose_name = _("ruling")
        ordering = ["created_at", "id"]


class Remedy(NeverDelete):
    class Status(models.TextChoices):
        PENDING = "pending", _("To do")
        DONE = "done", _("Done")
        LAPSED = "lapsed", _("Lapsed")
        SUPERSEDED = "superseded", _("Replaced by a new ruling")

    class Source(models.TextChoices):
        AGREEMENT = "agreement", _("Agreement")
        RULING = "ruling", _("Platform ruling")
        AUTO_APPROVAL = "auto_approval", _("Approved automatically")
        PLATFORM = "platform", _("Platform decision")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="remedies")
    kind = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    amount_fen = models.BigIntegerField(_("amount (fen)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    compensation_basis = models.CharField(
        _("legal basis of the compensation"), max_length=16, choices=CompensationBasis.choices, blank=True
    )
    payment_reference = models.CharField(_("refund reference"), max_length=64, blank=True)
    refunded_to = models.CharField(_("refunded to"), max_length=64, blank=True)
    carrier = models.CharField(_("carrier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=50, blank=True)
    repair_due = models.DateField(_("repair due"), null=True, blank=True)
    # the return leg of a return and refund: the consumer ships back, the merchant receives
    return_ship_by = models.DateTimeField(_("send back by"), null=True, blank=True)
    return_address = models.CharField(
        _("return address"),
        max_length=300,
        blank=True,
        help_text=_("The store's, when the return was agreed."),
    )
    return_carrier = models.CharField(_("return carrier"), max_length=50, blank=True)
    return_tracking_number = models.CharField(_("return tracking number"), max_length=50, blank=True)
    return_shipped_at = models.DateTimeField(_("sent back at"), null=True, blank=True)
    #: what the consumer paid to send the goods back, refunded with the price when the merchant
    #: bears it (:mod:`marketguard.complaints.postage`)
    return_postage_fen = models.BigIntegerField(_("return postage (fen)"), null=True, blank=True)
    received_at = models.DateTimeField(_("goods received at"), null=True, blank=True)
    executed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    executed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "kind"])]


class Rating(NeverDelete):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_to_5")
        ]


class SlaMark(NeverDelete):
    """A warning or breach of one SLA target of one case: recorded once (the sweep is idempotent)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sla_marks")
    target = models.CharField(max_length=30)
    stage = models.CharField(max_length=10)
    due_at = models.DateTimeField()
    at = models.DateTimeField(auto_now_add=True)
    actions = models.JSONField(default=list)

    class Meta:
        # once per deadline: a reopened case, a second ruling or a moved deadline is marked again
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "stage", "due_at"], name="one_sla_mark_per_stage_and_deadline"
            )
        ]
        ordering = ["at"]


class MerchantViolation(NeverDelete):
    """A merchant's after-sales violation (e.g. a ruling not executed in time): a domain event
    that merchant credit consumes."""

    class Kind(models.TextChoices):
        RULING_NOT_EXECUTED = "ruling_not_executed", _("Ruling not executed in time")
        SILENT_ON_REFUND = "silent_on_refund", _("No answer to a refund request")
        DISPUTE_NOT_HANDLED = "dispute_not_handled", _("Dispute not handled after the platform stepped in")

    merchant = models.ForeignKey(
        "catalog.Merchant", on_delete=models.PROTECT, related_name="after_sales_violations"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="violations")
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    #: the deadline missed: one violation per deadline (a second ruling not executed is another)
    due_at = models.DateTimeField(_("deadline missed"), null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("merchant violation")
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "due_at"], name="one_violation_per_deadline")
        ]


class Alert(NeverDelete):
    """A notice to a user (agent, supervisor, inspector, merchant): shown in the UI, e-mailed later."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="alerts")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class OutgoingMail(NeverDelete):
    """An e-mail about a case, written in the case's transaction and sent after the commit by
    the worker: an outbox, retried with backoff. To the consumer (acknowledgement, replies) or,
    with `notice`, an urgent alert to a person at work. The exact message (RFC 5322, 7-bit) is
    kept as sent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="mails")
    message = models.ForeignKey(
        CaseMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="mails"
    )
    to_address = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300)
    message_id_header = models.CharField("Message-ID", max_length=300, unique=True)
    raw = models.TextField(_("message as sent"))
    automatic = models.BooleanField(_("automatic"), default=False)
    notice = models.BooleanField(
        _("notice to staff"),
        default=False,
        help_text=_("An alert e-mailed to a person at work: not part of the consumer's thread."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mail")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class HelpArticle(models.Model):
    """An answer of the smart customer service (智能客服), in both languages; admins edit these
    rows (the shipped ones come from `data/help_articles.json`)."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_zh = models.TextField(_("answer (Chinese)"))
    body_en = models.TextField(_("answer (English)"))
    keywords = models.TextField(_("other words people use"), blank=True, help_text=_("One per line."))
    problem_type = models.CharField(_("problem type"), max_length=30, choices=ProblemType.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("help article")
        verbose_name_plural = _("help articles")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.slug


class ReplyTemplate(models.Model):
    """A ready reply (快捷回复) an agent or a merchant inserts into a message and edits before
    sending, in both languages; `{number}` and `{merchant}` are filled in for the case. Admins
    edit these rows (the shipped ones come from `data/reply_templates.json`)."""

    class Audience(models.TextChoices):
        PLATFORM = "platform", _("Platform staff")
        MERCHANT = "merchant", _("Merchant staff")
        ALL = "all", _("Platform and merchant staff")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    audience = models.CharField(_("for"), max_length=10, choices=Audience.choices, default=Audience.ALL)
    title_zh = models.CharField(_("title (Chinese)"), max_length=100)
    title_en = models.CharField(_("title (English)"), max_length=100)
    body_zh = models.TextField(_("text (Chinese)"), max_length=5000)
    body_en = models.TextField(_("text (English)"), max_length=5000)
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["order", "slug"]

    def __str__(self) -> str:
        return self.slug


class AssistantSession(models.Model):
    """One conversation with the smart customer service; anonymous visitors have one too."""

    key = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="assistant_sessions"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("assistant conversation")
        verbose_name_plural = _("assistant conversations")


class AssistantTurn(NeverDelete):
    """A question and the answer given, kept like any other record of the service."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Help article")
        OWN_DATA = "own_data", _("The consumer's own orders or cases")
        SAFETY = "safety", _("Personal safety")
        GREETING = "greeting", _("Greeting")
        HUMAN = "human", _("Asked for a person")
        FALLBACK = "fallback", _("Not understood")

    session = models.ForeignKey(AssistantSession, on_delete=models.PROTECT, related_name="turns")
    question = models.TextField(_("question"))
    kind = models.CharField(_("answer kind"), max_length=10, choices=Kind.choices)
    article = models.ForeignKey(
        HelpArticle, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer"))
    score = models.FloatField(null=True, blank=True)
    helpful = models.BooleanField(_("helpful"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("assistant answer")
        verbose_name_plural = _("assistant answers")
        ordering = ["created_at", "id"]


class SlaPolicyRow(models.Model):
    """An SLA policy as data (see `sla.SlaPolicy`); admins edit these rows."""

    name = models.SlugField(_("name"), max_length=60, unique=True)
    data = models.JSONField(_("policy"))
    active = models.BooleanField(_("active"), default=True)
    order = models.IntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def policy(self):
        """The policy this row holds. The row's name, order and active flag (the columns an admin
        edits in the list) win over the same keys in `data`. ValueError/TypeError when invalid."""
        from marketguard.complaints import sla

        if not isinstance(self.data, dict):
            raise ValueError("expected a JSON object of policy fields")
        return sla.SlaPolicy.from_dict({**self.data, "name": self.name, "order": self.order, "active": True})

    def clean(self) -> None:
        """Refuse a policy that would not load, and leave at least one active policy that
        applies to every case (no conditions), so that every new case finds its policy."""
        try:
            policy = self.policy()
        except (ValueError, TypeError) as exc:
            raise ValidationError({"data": str(exc)}) from None
        others = SlaPolicyRow.objects.filter(active=True).exclude(pk=self.pk)
        if not others.exists() and not self.active:
            return  # no active row at all: the shipped defaults apply
        if self.active and policy.catch_all:
            return
        for row in others:
            try:
                if row.policy().catch_all:
                    return
            except (ValueError, TypeError):
                continue
        raise ValidationError(
            _("At least one active policy must apply to every case: keep one without conditions.")
        )


class ComplaintRules(models.Model):
    """Tunable rules of the after-sales process (one row): timeouts, triage thresholds, windows."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    timeouts = models.JSONField(_("timeouts"), default=dict, blank=True)
    triage = models.JSONField(_("triage rules"), default=dict, blank=True)
    duplicate_window_hours = models.PositiveIntegerField(_("duplicate window (hours)"), default=72)
    auto_close_days = models.PositiveIntegerField(_("close resolved cases after (days)"), default=7)
    reopen_days = models.PositiveIntegerField(_("reopen allowed within (days)"), default=15)
    retention_years = models.PositiveIntegerField(
        _("keep closed cases for (years)"),
        default=3,
        validators=[MinValueValidator(3)],  # E-commerce Law art. 31: at least 3 years
    )
    food_categories = models.CharField(
        _("food categories"),
        max_length=500,
        default="C02",
        blank=True,
        help_text=_(
            "Category codes, separated by commas, whose goods (sub-categories included) are food: "
            "compensation on the unsafe-food basis is offered only for them."
        ),
    )

    class Meta:
        verbose_name = _("complaint rules")
        verbose_name_plural = _("complaint rules")

    def is_food(self, category) -> bool:
        """Whether goods of this category are food (it or a parent is one of `food_categories`)."""
        codes = [c.strip() for c in self.food_categories.split(",") if c.strip()]
        return category is not None and any(f"/{code}/" in category.path for code in codes)

    def clean(self) -> None:
        """Refuse timeouts or triage rules that would not load, and food category codes that name
        no category (the field and the reason named)."""
        from marketguard.catalog.models import Category
        from marketguard.complaints import sla, triage

        checks = (
            ("timeouts", sla.Timeouts.from_dict),
            ("triage", triage.TriageRules.from_dict),
        )
        errors = {}
        # a code with no category would silently turn the unsafe-food basis off
        codes = [c.strip() for c in (self.food_categories or "").split(",") if c.strip()]
        known = set(Category.objects.filter(external_id__in=codes).values_list("external_id", flat=True))
        if set(codes) - known:
            errors["food_categories"] = _("No category with the code: %(codes)s") % {
                "codes": ", ".join(sorted(set(codes) - known))
            }
        for name, load in checks:
            value = getattr(self, name)
            if not isinstance(value, dict):
                errors[name] = _("Expected a JSON object.")
                continue
            try:
                load(value)
            except (ValueError, TypeError) as exc:
                errors[name] = str(exc)
        if errors:
            raise ValidationError(errors)
