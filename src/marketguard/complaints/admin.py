from django.contrib import admin

from marketguard.complaints.models import Case, ComplaintRules, ReplyTemplate, SlaPolicyRow


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["slug", "title_zh", "title_en", "audience", "order", "active"]
    list_editable = ["order", "active"]
    list_filter = ["audience", "active"]


@admin.register(SlaPolicyRow)
class SlaPolicyRowAdmin(admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ComplaintRules)
class ComplaintRulesAdmin(admin.ModelAdmin):
    list_display = ["id", "duplicate_window_hours", "auto_close_days", "reopen_days", "retention_years"]


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
