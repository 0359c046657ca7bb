"""Use cases of webhook subscriptions (platform admins only), and the reads behind their API.

Every function: keyword-only arguments, an `actor`, one transaction, an audit record. The signing
secret is generated here, returned once on the new subscription and never written to the audit trail.
A subscription cannot point at a loopback, private, link-local or reserved address (unless
settings.WEBHOOK_ALLOW_PRIVATE_HOSTS, for development); delivery checks the resolved addresses again.
"""

from __future__ import annotations

import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from marketguard.core import audit, webhooks
from marketguard.core.errors import InvalidInput, NotFound
from marketguard.core.events import EVENT_TYPES
from marketguard.core.models import Role, WebhookDelivery, WebhookSubscription
from marketguard.core.permissions import require_role

AUDIT_FIELDS = ["name", "url", "event_types", "is_active"]
_url_validator = URLValidator(schemes=["http", "https"])


def _clean_url(url) -> str:
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url:
        raise InvalidInput(_("A URL is required."), code="URL_REQUIRED", field="url")
    if len(url) > 500:
        raise InvalidInput(_("The URL may have at most 500 characters."), code="INVALID_URL", field="url")
    try:
        _url_validator(url)
    except ValidationError:
        raise InvalidInput(
            _("Enter a valid http:// or https:// URL."), code="INVALID_URL", field="url"
        ) from None
    host = urllib.parse.urlsplit(url).hostname or ""
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS and webhooks.is_non_public_host(host):
        raise InvalidInput(
            _(
                "Webhooks can only be sent to the public internet: %(host)s is a local, private "
                "or reserved address."
            )
            % {"host": host[:100]},
            code="URL_NOT_PUBLIC",
            field="url",
        )
    return url


def _clean_event_types(event_types) -> list[str]:
    if event_types is None:
        return []
    if not isinstance(event_types, list | tuple | set) or not all(isinstance(t, str) for t in event_types):
        raise InvalidInput(
            _("Give the event types as a list."), code="INVALID_EVENT_TYPES", field="event_types"
        )
    cleaned = sorted({t.strip() for t in event_types if t.strip()})
    unknown = [t for t in cleaned if t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            _("Unknown event type: %(types)s.") % {"types": ", ".join(unknown)},
            code="UNKNOWN_EVENT_TYPE",
            field="event_types",
        )
    return cleaned


def create_subscription(
    *, actor, url: str, name: str = "", event_types: list[str] | None = None
) -> WebhookSubscription:
    """A new active subscription. Its `secret` is for the subscriber: show it once."""
    require_role(actor, Role.ADMIN)
    url = _clean_url(url)
    name = (name or "").strip()
    if len(name) > 100:
        raise InvalidInput(_("The name may have at most 100 characters."), code="NAME_TOO_LONG", field="name")
    subscription = WebhookSubscription(
        name=name or url[:100],
        url=url,
        secret=webhooks.new_secret(),
        event_types=_clean_event_types(event_types),
    )
    with transaction.atomic():
        subscription.save()
        audit.record(
            actor=actor,
            action="webhook_subscription_created",
            obj=subscription,
            after=audit.snapshot(subscription, AUDIT_FIELDS),
        )
    return subscription


def disable_subscription(*, actor, subscription_id: int) -> WebhookSubscription:
    """Stop sending to a subscription. Its unsent deliveries stay as they are and are not sent."""
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            raise NotFound(_("No such webhook subscription."), field="subscription_id")
        if subscription.is_active:
            subscription.is_active = False
            subscription.save(update_fields=["is_active"])
            audit.record(
                actor=actor,
                action="webhook_subscription_disabled",
                obj=subscription,
                before={"is_active": True},
                after={"is_active": False},
            )
    return subscription


def visible_subscriptions(actor) -> QuerySet[WebhookSubscription]:
    require_role(actor, Role.ADMIN)
    return WebhookSubscription.objects.order_by("id")


def subscription_deliveries(*, actor, subscription_id: int) -> QuerySet[WebhookDelivery]:
    """The deliveries of one subscription, newest first."""
    require_role(actor, Role.ADMIN)
    if not WebhookSubscription.objects.filter(pk=subscription_id).exists():
        raise NotFound(_("No such webhook subscription."), field="subscription_id")
    return (
        WebhookDelivery.objects.filter(subscription_id=subscription_id)
        .select_related("event")
        .order_by("-id")
    )
