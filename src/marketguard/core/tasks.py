"""Kernel background tasks."""

from django.core.management import call_command
from django_tasks import task

from marketguard.core.scheduler import periodic


@periodic("17 3 * * *")
@task()
def prune_task_results_task() -> None:
    """Drop finished task results older than 14 days (the work itself is in the audit trail)."""
    call_command("prune_db_task_results", "--min-age-days", "14", verbosity=0)
