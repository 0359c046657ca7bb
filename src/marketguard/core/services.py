"""Use cases of the shared kernel: accounts, tokens, login, calendars.

Every function: keyword-only arguments, an `actor`, one transaction, an audit record.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from marketguard.core import audit, calendars, languages, throttle, tokens
from marketguard.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from marketguard.core.models import ApiToken, CalendarConfig, CalendarDay, Role, User
from marketguard.core.permissions import require_role

USER_AUDIT_FIELDS = ["username", "role", "merchant", "lab", "is_active", "email", "display_name"]


def create_user(
    *,
    actor,
    username: str,
    password: str | None,
    role: str,
    merchant=None,
    lab=None,
    email: str = "",
    display_name: str = "",
    check_password_strength: bool = True,
) -> User:
    require_role(actor, Role.ADMIN)
    username = (username or "").strip()
    if not username:
        raise InvalidInput(_("A username is required."), field="username")
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), field="role")
    if role == Role.MERCHANT_STAFF and merchant is None:
        raise InvalidInput(_("Merchant staff must be linked to a merchant."), field="merchant")
    if role == Role.LAB_STAFF and lab is None:
        raise InvalidInput(_("Lab staff must be linked to a lab."), field="lab")
    user = User(
        username=username,
        role=role,
        merchant=merchant if role == Role.MERCHANT_STAFF else None,
        lab=lab if role == Role.LAB_STAFF else None,
        email=email,
        display_name=display_name,
        is_staff=role == Role.ADMIN,
    )
    if password:
        if check_password_strength:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise InvalidInput(" ".join(exc.messages), field="password") from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
            audit.record(
                actor=actor, action="user_created", obj=user, after=audit.snapshot(user, USER_AUDIT_FIELDS)
            )
    except IntegrityError:
        raise Conflict(_("This username is taken."), code="USERNAME_TAKEN", field="username") from None
    return user


def login(*, request, username: str, password: str):
    """Check credentials with throttling. Returns the user or raises PermissionDenied.

    The attempt is counted before the password is checked (`throttle.start_login`), so
    concurrent guesses cannot slip past the limit; per username and client address, and per
    username from anywhere. The site's login page and the admin site's both come here."""
    address = throttle.client_address(request) if request is not None else ""
    attempt = throttle.start_login(username, address)
    if attempt is None:
        raise PermissionDenied(
            _("Too many failed attempts. Try again in 15 minutes."), code="LOGIN_THROTTLED"
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        with transaction.atomic():
            audit.record(
                actor=None,
                action="login_failed",
                object_type="core.user",
                object_id=username[:64],
                object_repr=username[:200],
                after={"address": address},
            )
        raise PermissionDenied(_("Wrong username or password."), code="LOGIN_FAILED")
    throttle.login_succeeded(attempt)
    return user


def create_api_token(*, actor, user: User, name: str = "", days: int | None = None) -> tuple[ApiToken, str]:
    """A new bearer token for `user`. The secret is returned once and never stored."""
    if actor is not None and actor.pk != user.pk:
        require_role(actor, Role.ADMIN)
    if days is not None and days <= 0:
        raise InvalidInput(_("A token must be valid for at least one day."), field="days")
    secret, prefix = tokens.new_secret()
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name[:100],
            prefix=prefix,
            digest=tokens.digest(secret),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        audit.record(
            actor=actor, action="api_token_created", obj=row, after={"user": user.pk, "name": row.name}
        )
    return row, secret


def revoke_api_token(*, actor, token_id: int) -> ApiToken:
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if row is None:
            raise NotFound(_("No such token."), field="token_id")
        if actor is not None and actor.pk != row.user_id:
            require_role(actor, Role.ADMIN)
        if row.revoked_at is None:
            row.revoked_at = timezone.now()
            row.save(update_fields=["revoked_at"])
            audit.record(actor=actor, action="api_token_revoked", obj=row)
    return row


def set_preferred_language(*, actor, user: User, language: str) -> User:
    """The language `user` reads pages and mail in ('' clears it: pages follow the browser, mail
    goes out in both languages). Users set their own; admins anyone's."""
    if actor is None or actor.pk != user.pk:
        require_role(actor, Role.ADMIN)
    code = languages.supported(language)
    if language and not code:
        raise InvalidInput(
            _("Unknown language %(code)s: use zh-hans or en.") % {"code": language[:20]},
            field="preferred_language",
        )
    if code == user.preferred_language:
        return user
    with transaction.atomic():
        before = user.preferred_language
        user.preferred_language = code
        user.save(update_fields=["preferred_language"])
        audit.record(
            actor=actor,
            action="preferred_language_set",
            obj=user,
            before={"preferred_language": before},
            after={"preferred_language": code},
        )
    return user


def save_calendar_day(
    *, actor, calendar: CalendarConfig, date, kind: str, name_zh: str = "", name_en: str = ""
) -> CalendarDay:
    """Add or change one holiday / adjusted working day of a calendar."""
    require_role(actor, Role.ADMIN)
    if kind not in CalendarDay.Kind.values:
        raise InvalidInput(_("Unknown kind of day."), field="kind")
    with transaction.atomic():
        day, created = CalendarDay.objects.update_or_create(
            calendar=calendar, date=date, defaults={"kind": kind, "name_zh": name_zh, "name_en": name_en}
        )
        audit.record(
            actor=actor,
            action="calendar_day_saved",
            obj=day,
            after={"calendar": calendar.name, "date": date, "kind": kind, "created": created},
        )
        transaction.on_commit(calendars.clear_cache)
    return day
