"""Shared kernel tables: users and roles, API tokens, the audit trail, the business calendar, numbering,
the event outbox and webhooks."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CONSUMER = "consumer", _("Consumer")
    MERCHANT_STAFF = "merchant_staff", _("Merchant staff")
    AGENT = "agent", _("Service agent")
    ARBITRATOR = "arbitrator", _("Arbitrator")
    INSPECTOR = "inspector", _("Quality inspector")
    LAB_STAFF = "lab_staff", _("Lab staff")
    ANALYST = "analyst", _("Platform analyst")
    ADMIN = "admin", _("Platform admin")


# Roles that work for the platform itself (they see every merchant's and buyer's records
# within their function); the others see only what belongs to them.
PLATFORM_ROLES = frozenset({Role.AGENT, Role.ARBITRATOR, Role.INSPECTOR, Role.ANALYST, Role.ADMIN})


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CONSUMER)
    merchant = models.ForeignKey(
        "catalog.Merchant",
        verbose_name=_("merchant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("Required for merchant staff: the merchant this account works for."),
    )
    lab = models.ForeignKey(
        "inspections.Lab",
        verbose_name=_("lab"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("Required for lab staff: the lab this account works for."),
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="merchant_staff") | models.Q(merchant__isnull=False),
                name="merchant_staff_has_merchant",
                violation_error_message=_("Merchant staff must be linked to a merchant."),
            ),
            models.CheckConstraint(
                condition=~models.Q(role="lab_staff") | models.Q(lab__isnull=False),
                name="lab_staff_has_lab",
                violation_error_message=_("Lab staff must be linked to a lab."),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_platform(self) -> bool:
        return self.role in PLATFORM_ROLES or self.is_superuser


class ApiToken(models.Model):
    """A bearer token for machines. Only a SHA-256 digest of the secret is stored."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditEntry(models.Model):
    """One row of the append-only audit trail.

    Rows are chained: `digest` = SHA-256 over the previous row's digest and this row's content,
    and `seq` runs without gaps. Editing or deleting a row breaks the chain, which
    `marketguard audit verify` reports. Database triggers refuse UPDATE and DELETE.
    """

    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    via = models.CharField(_("channel"), max_length=10, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, db_index=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=60)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    prev_digest = models.CharField(_("previous digest"), max_length=64)
    digest = models.CharField(_("digest"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class AuditHead(models.Model):
    """The chain head (a single row): last sequence number and digest. Locked to append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")


class CalendarConfig(models.Model):
    """A business calendar as data: time zone, weekly working hours, holidays and adjusted workdays."""

    name = models.SlugField(_("name"), max_length=50, unique=True)
    timezone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    hours = models.JSONField(
        _("weekly working hours"),
        help_text=_(
            'Seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals; an empty list is a day off.'
        ),
    )
    workday_hours = models.JSONField(
        _("hours on adjusted working days"),
        default=list,
        help_text=_("Working intervals on a worked weekend day."),
    )
    is_default = models.BooleanField(_("default"), default=False)
    statutory_region = models.CharField(
        _("statutory holidays"),
        max_length=2,
        blank=True,
        choices=[("CN", _("PRC statutory days off"))],
        help_text=_(
            "For the years after the last one entered below: the days off the law names, until "
            "that year's arrangement (with its adjusted working days) is entered."
        ),
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_calendar"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday")
        WORKDAY = "workday", _("Adjusted working day")

    calendar = models.ForeignKey(CalendarConfig, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_entry_per_calendar_day")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


class NumberSequence(models.Model):
    """Counter behind readable numbers (prefix + local date + sequence)."""

    prefix = models.CharField(max_length=8)
    day = models.DateField()
    last = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="one_sequence_per_prefix_day")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.day:%Y%m%d}:{self.last}"


# --- transactional outbox and webhooks ------------------------------------------------------------


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


class OutboxEvent(models.Model):
    """An event outsiders may see, written in the same transaction as the change it reports.

    Written only by `core.events.publish`; `core.delivery` sends it to the matching webhooks.
    `idempotency_key` is the event's public id: receivers use it to drop repeated deliveries.
    """

    event_type = models.CharField(_("event type"), max_length=60, db_index=True)
    aggregate_type = models.CharField(_("object type"), max_length=60)
    aggregate_id = models.CharField(_("object id"), max_length=64)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=36, unique=True, default=new_idempotency_key, editable=False
    )

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["aggregate_type", "aggregate_id"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"


class WebhookSubscription(models.Model):
    """An outside endpoint that receives signed events. `event_types` empty = every event."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty: every event type.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one subscription: its attempts so far and when to try next.

    pending: not tried yet; failed: the last attempt failed and another is due at
    `next_attempt_at`; succeeded: the receiver answered 2xx; dead: given up after the last attempt.
    `claimed_until` / `claim_token` are the lease a worker holds while it sends (see core.delivery).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("webhook subscription"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="one_delivery_per_event_subscription"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="core_webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id} ({self.status})"
