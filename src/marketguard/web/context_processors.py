"""The shell's navigation, built from the user's role."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from marketguard.core.models import Role
from marketguard.core.permissions import sees_personal_text

# (url name, label, roles that see it; empty = every signed-in user)
NAV = [
    ("web:home", _("Overview"), ()),
    (
        "complaints:list",
        _("Cases"),
        (
            Role.CONSUMER,
            Role.MERCHANT_STAFF,
            Role.AGENT,
            Role.ARBITRATOR,
            Role.INSPECTOR,
            Role.ANALYST,
            Role.ADMIN,
        ),
    ),
    (
        "complaints:dashboard",
        _("Service dashboard"),
        (Role.MERCHANT_STAFF, Role.AGENT, Role.ARBITRATOR, Role.INSPECTOR, Role.ANALYST, Role.ADMIN),
    ),
    (
        "web:orders",
        _("Orders"),
        (Role.CONSUMER, Role.MERCHANT_STAFF, Role.AGENT, Role.ARBITRATOR, Role.ADMIN, Role.ANALYST),
    ),
    (
        "web:products",
        _("Products"),
        (Role.MERCHANT_STAFF, Role.INSPECTOR, Role.AGENT, Role.ADMIN, Role.ANALYST),
    ),
    (
        "web:merchants",
        _("Merchants"),
        (Role.INSPECTOR, Role.AGENT, Role.ARBITRATOR, Role.ADMIN, Role.ANALYST),
    ),
    ("web:audit", _("Audit trail"), (Role.ADMIN, Role.ANALYST)),
    ("help:page", _("Help"), (Role.CONSUMER,)),
]


def navigation(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = []
    for name, label, roles in NAV:
        if not roles or user.is_superuser or user.role in roles:
            items.append({"name": name, "label": label, "url": reverse(name)})
    return items


def shell(request):
    user = getattr(request, "user", None)
    nav = navigation(user)
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    for item in nav:
        item["active"] = item["name"] == current
    # free text people wrote (complaints, messages) may hold phone numbers and addresses: shown
    # whole to the platform roles that need them and to consumers (who see only their own cases)
    show_text = user is not None and user.is_authenticated and sees_personal_text(user)
    return {"nav_items": nav, "show_personal_text": show_text}
