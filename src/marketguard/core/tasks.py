"""Kernel background tasks."""

import time

from django.core.management import call_command
from django_tasks import task

from marketguard.core.delivery import deliver_due
from marketguard.core.scheduler import periodic

WEBHOOK_BATCH = 100


@periodic("17 3 * * *")
@task()
def prune_task_results_task() -> None:
    """Drop finished task results older than 14 days (the work itself is in the audit trail)."""
    call_command("prune_db_task_results", "--min-age-days", "14", verbosity=0)


@periodic("* * * * *")
@task()
def deliver_webhooks_task() -> int:
    """Send due webhook deliveries: new events (enqueued on commit by core.events.publish) and retries.

    Works through full batches for up to ~45 s, so a backlog drains without overlapping the next run
    by much; concurrent runs are safe (see core.delivery).
    """
    started = time.monotonic()
    total = 0
    while True:
        sent = deliver_due(limit=WEBHOOK_BATCH)
        total += sent
        if sent < WEBHOOK_BATCH or time.monotonic() - started > 45:
            return total
