"""Background work of the complaints app: the SLA sweep and mailbox intake."""

import logging

from django.conf import settings
from django_tasks import task

from marketguard.complaints import services
from marketguard.core.context import acting
from marketguard.core.scheduler import periodic

logger = logging.getLogger(__name__)


@periodic("* * * * *")
@task()
def sla_sweep_task() -> dict:
    with acting(None, via="task"):
        report = services.sweep()
    return report.__dict__


@periodic("* * * * *")
@task()
def mail_intake_task() -> int:
    path = getattr(settings, "COMPLAINTS_MAILDIR", "")
    if not path:
        return 0
    with acting(None, via="task"):
        return len(services.ingest_maildir(path=path))


@periodic("* * * * *")
@task()
def send_mail_task() -> int:
    """E-mail to consumers waiting in the outbox: enqueued after each commit that writes one,
    and every minute for retries."""
    with acting(None, via="task"):
        return services.deliver_mail()
