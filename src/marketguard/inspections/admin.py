from django.contrib import admin

from marketguard.core.admin import AuditedAdmin
from marketguard.inspections.models import Lab


@admin.register(Lab)
class LabAdmin(AuditedAdmin):
    list_display = ["name", "cma_number", "cnas_number", "accreditation_expires", "is_active"]
    search_fields = ["name", "cma_number", "cnas_number"]
