"""The figures on each role's overview page, and what the order page links to (reads only,
through the apps' services and selectors)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketguard.catalog import services as catalog
from marketguard.core.models import Role


def cards(user) -> list[dict]:
    since = timezone.now() - timedelta(days=30)
    orders = catalog.visible_orders(user)
    items = [{"label": _("Orders in the last 30 days"), "value": orders.filter(placed_at__gte=since).count()}]
    if user.is_platform or user.role == "merchant_staff":
        products = catalog.visible_products(user).filter(status="active")
        if not user.is_platform:
            products = products.filter(merchant_id=user.merchant_id)
        items.append({"label": _("Products on sale"), "value": products.count()})
        on_time = catalog.on_time_delivery(user, since=since)
        if on_time is not None:
            items.append({"label": _("Delivered on time (30 days)"), "value": f"{on_time * 100:.1f}%"})
    if user.is_platform:
        items.append({"label": _("Merchants"), "value": catalog.visible_merchants(user).count()})
    return items


def waiting(user) -> list[dict]:
    """A consumer's cases that wait for them (materials, a proposal, goods to send back, a rating),
    with what to do; nothing for other roles (their desks list their work)."""
    if user.role != "consumer":
        return []
    from marketguard.complaints import selectors

    return [{"case": case, "what": what} for case, what in selectors.consumer_waiting(user)]


def order_cases(user, order) -> list:
    """The cases about this order that the user may see, newest first: the complaints app decides
    who sees which case (a consumer their own, merchant staff their merchant's, platform roles all)."""
    from marketguard.complaints import selectors

    return list(selectors.find_cases(user).filter(order_id=order.pk))


def may_file_about(user, order) -> bool:
    """Whether the order page offers the intake form for this order: to the consumer who bought it."""
    return user.role == Role.CONSUMER and not user.is_superuser and order.buyer.user_id == user.pk
