"""Webhooks API (platform admins): the event catalogue, subscriptions and their deliveries.

Mounted under /api/v1/webhooks/. The signing secret appears once, in the answer to the create call.
"""

from datetime import datetime

from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from marketguard.core import webhook_services, webhooks
from marketguard.core.events import EVENT_TYPES
from marketguard.core.models import Role
from marketguard.core.permissions import require_role
from marketguard.core.schemas import BoundedPageNumberPagination

router = Router(tags=["webhooks"])


class EventTypeOut(Schema):
    type: str
    description: str


class SubscriptionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str
    name: str = ""
    event_types: list[str] = Field(default_factory=list, description="Empty: every event type.")


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="Signing secret for X-MarketGuard-Signature. Shown only here: keep it.")


class DeliveryOut(Schema):
    id: int
    event_id: str = Field(alias="event.idempotency_key")
    event_type: str = Field(alias="event.event_type")
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str = Field(description="Why the last attempt failed: the HTTP status or the network error.")
    delivered_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_last_error(obj) -> str:
        return webhooks.shown_error(obj.last_error)


class DeliveryFilter(FilterSchema):
    status: str | None = None


@router.get("/event-types", response=list[EventTypeOut])
def event_types(request):
    require_role(request.auth, Role.ADMIN)
    return [{"type": key, "description": str(text)} for key, text in EVENT_TYPES.items()]


@router.get("/subscriptions", response=list[SubscriptionOut])
@paginate(BoundedPageNumberPagination)
def list_subscriptions(request):
    return webhook_services.visible_subscriptions(request.auth)


@router.post("/subscriptions", response={201: SubscriptionCreatedOut})
def create_subscription(request, payload: SubscriptionIn):
    subscription = webhook_services.create_subscription(
        actor=request.auth, url=payload.url, name=payload.name, event_types=payload.event_types
    )
    return Status(201, subscription)


@router.post("/subscriptions/{subscription_id}/disable", response=SubscriptionOut)
def disable_subscription(request, subscription_id: int):
    return webhook_services.disable_subscription(actor=request.auth, subscription_id=subscription_id)


@router.get("/subscriptions/{subscription_id}/deliveries", response=list[DeliveryOut])
@paginate(BoundedPageNumberPagination)
def list_deliveries(request, subscription_id: int, filters: Query[DeliveryFilter]):
    deliveries = webhook_services.subscription_deliveries(actor=request.auth, subscription_id=subscription_id)
    return filters.filter(deliveries)
