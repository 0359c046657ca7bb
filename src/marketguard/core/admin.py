from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from marketguard.core.models import (
    ApiToken,
    AuditEntry,
    CalendarConfig,
    CalendarDay,
    OutboxEvent,
    User,
    WebhookDelivery,
    WebhookSubscription,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "display_name", "role", "merchant", "lab", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("MarketGuard"), {"fields": ["role", "merchant", "lab", "display_name", "preferred_language"]}),
    ]
    autocomplete_fields = ["merchant"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["seq", "at", "actor_label", "action", "object_type", "object_id", "reason"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_id", "object_repr", "correlation_id", "actor_label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 0


@admin.register(CalendarConfig)
class CalendarConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "is_default", "statutory_region"]
    inlines = [CalendarDayInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are made with `marketguard token create`, which shows the secret once


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never edited here: changes go through the services (CLI `marketguard webhook`, the API),
    which check permissions and write the audit trail."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(_ReadOnlyAdmin):
    list_display = ["id", "event_type", "aggregate_type", "aggregate_id", "created_at", "idempotency_key"]
    list_filter = ["event_type"]
    search_fields = ["aggregate_id", "idempotency_key"]
    date_hierarchy = "created_at"


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(_ReadOnlyAdmin):
    list_display = ["id", "name", "url", "event_types", "is_active", "created_at"]
    list_filter = ["is_active"]
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "subscription"]
    list_select_related = ["event", "subscription"]
    search_fields = ["event__idempotency_key", "event__aggregate_id"]
    exclude = ["claimed_until", "claim_token"]
