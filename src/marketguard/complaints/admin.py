from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketguard.complaints import services
from marketguard.complaints.models import Case, ComplaintRules, OutgoingMail, ReplyTemplate, SlaPolicyRow
from marketguard.core.admin import AuditedAdmin


@admin.register(OutgoingMail)
class OutgoingMailAdmin(AuditedAdmin):
    """Read-only: the outbox as sent (or not). Given-up mail can be sent again."""

    list_display = ["created_at", "case", "to_address", "subject", "notice", "status", "attempts", "sent_at"]
    list_filter = ["status", "notice", "automatic"]
    search_fields = ["to_address", "subject", "case__number"]
    list_select_related = ["case"]
    readonly_fields = [f.name for f in OutgoingMail._meta.fields]
    actions = ["send_again"]

    @admin.action(description=_("Send again at the next delivery"))
    def send_again(self, request, queryset):
        n = services.retry_mail(actor=request.user, ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(n)d e-mail will be sent again.", "%(n)d e-mails will be sent again.", n) % {"n": n},
            messages.SUCCESS,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # the list and its action only

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(AuditedAdmin):
    list_display = ["slug", "title_zh", "title_en", "audience", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["audience", "active"]


@admin.register(SlaPolicyRow)
class SlaPolicyRowAdmin(AuditedAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ComplaintRules)
class ComplaintRulesAdmin(AuditedAdmin):
    list_display = [
        "id",
        "duplicate_window_hours",
        "auto_close_days",
        "reopen_days",
        "retention_years",
        "food_categories",
    ]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the workflow (UI, API)."""

    list_display = ["number", "kind", "problem_type", "priority", "status", "merchant", "created_at"]
    list_filter = ["status", "kind", "priority", "channel"]
    search_fields = ["number", "title"]
    list_select_related = ["merchant"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
