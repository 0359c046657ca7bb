from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from marketguard.core import audit, context, webhooks
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

# Kept out of the trail: a changed secret is recorded as changed, its value never.
SECRET_FIELDS = frozenset({"password", "digest", "secret", "claim_token"})
HIDDEN = "[hidden]"


def _stored(obj) -> dict | None:
    """The row as it is in the database now (before the admin's form is saved over it)."""
    if obj.pk is None:
        return None
    row = type(obj)._default_manager.filter(pk=obj.pk).first()
    return audit.snapshot(row) if row is not None else None


def _related(obj) -> dict:
    """Many-to-many fields as the names of what they hold (a user's groups and permissions)."""
    return {f.name: sorted(str(o) for o in getattr(obj, f.name).all()) for f in obj._meta.many_to_many}


def _admin_entry(request, obj, action: str, before: dict | None, after: dict | None):
    before, after = audit.changed(before, after) if before and after else (before, after)
    for side in (before, after):
        for name in SECRET_FIELDS & set(side or ()):
            side[name] = HIDDEN
    return audit.entry(actor=request.user, action=action, obj=obj, before=before, after=after, reason="admin")


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made in the admin (its forms, the list's editable columns, the
    inlines, the delete action) goes to the audit trail in the same transaction, with what changed:
    master data (rules, SLA policies, categories, users and their roles) changes nowhere unrecorded."""

    def save_model(self, request, obj, form, change):
        obj._audit_before = _stored(obj) | _related(obj) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """After the row (save_model), its many-to-many fields (a user's groups and permissions)
        and inlines: one entry for the row with all that changed on it."""
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before, after = getattr(obj, "_audit_before", None), audit.snapshot(obj) | _related(obj)
        if change and before == after:
            return
        action = "admin_changed" if change else "admin_created"
        audit.append([_admin_entry(request, obj, action, before, after)])

    def save_formset(self, request, form, formset, change):
        # before values of the rows an inline changes or deletes, read before they are written
        before = {f.instance.pk: _stored(f.instance) for f in formset.initial_forms if f.has_changed()}
        before.update({f.instance.pk: _stored(f.instance) for f in formset.deleted_forms})
        with transaction.atomic():
            super().save_formset(request, form, formset, change)
            entries = [
                _admin_entry(request, o, "admin_created", None, audit.snapshot(o))
                for o in formset.new_objects
            ]
            entries += [
                _admin_entry(request, o, "admin_changed", before.get(o.pk), audit.snapshot(o))
                for o, _fields in formset.changed_objects
            ]
            entries += [
                _admin_entry(request, o, "admin_deleted", before.get(o.pk) or audit.snapshot(o), None)
                for o in formset.deleted_objects
            ]
            audit.append(entries)

    def delete_model(self, request, obj):
        entry = _admin_entry(request, obj, "admin_deleted", audit.snapshot(obj), None)
        with transaction.atomic():
            super().delete_model(request, obj)
            audit.append([entry])

    def delete_queryset(self, request, queryset):
        entries = [_admin_entry(request, o, "admin_deleted", audit.snapshot(o), None) for o in queryset]
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            audit.append(entries)


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page: the new password is recorded as set (never its hash)."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            audit.record(
                actor=context.current_actor(),  # the signed-in admin (request middleware)
                action="admin_password_set",
                obj=user,
                after={"password": HIDDEN, "usable": user.has_usable_password()},
                reason="admin",
            )
        return user


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(AuditedAdmin, BaseGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "merchant", "lab", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("MarketGuard"), {"fields": ["role", "merchant", "lab", "display_name", "preferred_language"]}),
    ]
    autocomplete_fields = ["merchant"]
    change_password_form = AuditedPasswordChangeForm

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():  # the password and its audit entry together
            return super().user_change_password(request, id, form_url)


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
class CalendarConfigAdmin(AuditedAdmin):
    list_display = ["name", "timezone", "is_default", "statutory_region"]
    inlines = [CalendarDayInline]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
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
    # the error as it may be shown (rows from before answers were cut keep the receiver's words)
    exclude = ["claimed_until", "claim_token", "last_error"]
    readonly_fields = ["error"]

    @admin.display(description=_("last error"))
    def error(self, obj):
        return webhooks.shown_error(obj.last_error)
