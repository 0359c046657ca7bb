"""Permission helpers every service calls: role checks and ownership checks.

A service receives `actor` (a User, or None for the system itself: worker sweeps and CLI
commands run as the system). Views and API handlers never decide permissions on their own.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from marketguard.core.errors import NotFound, PermissionDenied
from marketguard.core.models import PLATFORM_ROLES, Role


def is_system(actor) -> bool:
    return actor is None


def has_role(actor, *roles: str) -> bool:
    if actor is None:
        return True
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return actor.is_superuser or actor.role in roles


def require_role(actor, *roles: str) -> None:
    """Allow the system, superusers and the given roles; refuse everyone else."""
    if not has_role(actor, *roles):
        raise PermissionDenied(_("Your role may not do this."), code="ROLE_REQUIRED")


def require_platform(actor) -> None:
    require_role(actor, *PLATFORM_ROLES)


def is_platform(actor) -> bool:
    return has_role(actor, *PLATFORM_ROLES)


def can_see_merchant(actor, merchant_id: int | None) -> bool:
    if is_platform(actor):
        return True
    return (
        actor is not None
        and actor.role == Role.MERCHANT_STAFF
        and merchant_id is not None
        and actor.merchant_id == merchant_id
    )


def require_merchant_access(actor, merchant_id: int | None) -> None:
    """Platform roles may act on any merchant; merchant staff only on their own.

    Others get NotFound rather than PermissionDenied, so that ids of other parties' records
    cannot be probed.
    """
    if not can_see_merchant(actor, merchant_id):
        raise NotFound(_("Not found."), code="NOT_FOUND")


def can_see_buyer(actor, buyer_user_id: int | None) -> bool:
    if is_platform(actor):
        return True
    return actor is not None and actor.role == Role.CONSUMER and buyer_user_id == actor.pk


def require_buyer_access(actor, buyer_user_id: int | None) -> None:
    if not can_see_buyer(actor, buyer_user_id):
        raise NotFound(_("Not found."), code="NOT_FOUND")


def sees_personal_text(actor) -> bool:
    """Whether free text people wrote (complaints, messages), which may hold phone numbers and
    addresses, is shown whole: to the platform roles that need personal data, and to consumers,
    who only ever see their own cases."""
    return sees_personal_data(actor) or has_role(actor, Role.CONSUMER)


def sees_personal_data(actor) -> bool:
    """Whether unmasked phone numbers and addresses may be shown to this actor."""
    return actor is None or has_role(actor, Role.AGENT, Role.ARBITRATOR, Role.ADMIN)
