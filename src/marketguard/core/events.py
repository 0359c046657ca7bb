"""Events outsiders may see: the transactional outbox.

A service that changes state calls `publish(...)` inside its transaction. The outbox row and one
delivery per matching active webhook subscription are written in that same transaction, so an event
exists if and only if the change it reports was committed. After the commit the delivery task is
enqueued for immediate sending; the periodic sweep (`deliver_webhooks_task`, every minute) retries
what failed and picks up anything an enqueue missed.

The payload is sent to outside systems as-is: put ids, numbers, statuses and times in it, not
personal data (names, phone numbers, addresses).
"""

from __future__ import annotations

import logging

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

# The catalogue of event types. A new event type is added here first (and documented for
# subscribers by its description); `publish` refuses any other.
EVENT_TYPES = {
    "case.created": _("A complaint case was opened."),
    "case.escalated": _("A complaint case was escalated to platform arbitration."),
    "case.ruled": _("A ruling was recorded on a complaint case."),
    "case.closed": _("A complaint case ended (closed, withdrawn, rejected or merged): see its status."),
    "case.remedy_overdue": _("A remedy on a complaint case was not carried out in time."),
    "case.reopened": _("A complaint case that had ended was taken up again (reopened or appealed)."),
    "merchant.violation_recorded": _(
        "A merchant's after-sales violation was recorded (e.g. a ruling not executed)."
    ),
    "alert.raised": _("A quality alert was raised."),
    "listing.blocked": _("A product listing was blocked."),
    "recall.started": _("A product recall was started."),
}


def publish(event_type: str, *, aggregate: models.Model, payload: dict) -> OutboxEvent:
    """Record `event_type` about `aggregate` in the outbox, with one delivery per subscriber.

    Must run inside the caller's `transaction.atomic()`: a rollback leaves neither the event nor
    its deliveries. Sending happens after the commit.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; add it to core.events.EVENT_TYPES")
    if not isinstance(payload, dict):
        raise ValueError("the payload must be a dict")
    if aggregate is None or aggregate.pk is None:
        raise ValueError("publish needs a saved aggregate")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("publish() must run inside the caller's transaction.atomic()")
    now = timezone.now()
    event = OutboxEvent.objects.create(
        event_type=event_type,
        aggregate_type=aggregate._meta.label_lower[:60],
        aggregate_id=str(aggregate.pk)[:64],
        payload=jsonable(payload),
        created_at=now,
    )
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True) if s.wants(event_type)]
    if subscriptions:
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event=event, subscription=s, next_attempt_at=now, created_at=now)
                for s in subscriptions
            ]
        )
        transaction.on_commit(_enqueue_delivery)
    return event


def _enqueue_delivery() -> None:
    """After commit: ask a worker to send now. If the queue is down, the periodic sweep sends later."""
    from marketguard.core.tasks import deliver_webhooks_task

    try:
        deliver_webhooks_task.enqueue()
    except Exception:
        logger.exception("could not enqueue webhook delivery; the periodic sweep will send it")
