from django.db import migrations
from django.db.models import Q
from django.utils import timezone

#: workflow.OPEN as of this migration (frozen: the migration must not follow later changes).
OPEN_STATES = (
    "submitted",
    "acknowledged",
    "awaiting_merchant",
    "negotiating",
    "agreed",
    "escalated",
    "platform_review",
    "ruled",
    "executing",
)


def sweep_open_cases_once(apps, schema_editor):
    """Cases opened before `sla_warn_at` existed have no next warning stored, so a warning due
    more than a day before its deadline (business-hour policies over a weekend) came late. Mark
    each open case with a clock still running as due for the sweep now: its next run looks at
    each once and stores the real next warning (or none)."""
    Case = apps.get_model("complaints", "Case")
    running = (
        Q(first_responded_at__isnull=True, first_response_due__isnull=False)
        | Q(status="awaiting_merchant", merchant_response_due__isnull=False)
        | Q(resolved_at__isnull=True, resolution_due__isnull=False)
    )
    Case.objects.filter(running, status__in=OPEN_STATES, sla_warn_at__isnull=True).update(
        sla_warn_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0018_one_message_per_email")]

    operations = [migrations.RunPython(sweep_open_cases_once, migrations.RunPython.noop)]
