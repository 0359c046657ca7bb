"""What every case operation shares: rules as data, who is acting, locking, the timeline, moves of the state machine, SLA deadlines, alerts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.catalog.codes import mask_in_text
from marketguard.catalog.models import Category
from marketguard.complaints import alerts, materials, sla, workflow
from marketguard.complaints.models import (
    Alert,
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    CasePause,
    ComplaintRules,
    OutgoingMail,
    Party,
    ProblemType,
    RemedyKind,
    SlaPolicyRow,
)
from marketguard.core import audit, events, languages
from marketguard.core.calendars import get_calendar
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import Role, User
from marketguard.core.money import format_yuan, parse_yuan
from marketguard.core.permissions import sees_personal_text
from marketguard.core.text import plain

logger = logging.getLogger(__name__)

PREFIX = "CS"
MAX_TEXT = 5000
AFTER_SALES_KINDS = frozenset(CaseKind.values) - {CaseKind.COMPLAINT}
# --- rules as data -------------------------------------------------------------------------------


_CACHE: dict[str, tuple[float, object]] = {}
CACHE_SECONDS = 30.0  # an admin's change to rules or SLA policies applies within this


def _cached(key: str, load):
    import time

    hit = _CACHE.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _CACHE[key] = (now, value)
    return value


def clear_cache() -> None:
    _CACHE.clear()


def rules() -> ComplaintRules:
    return _cached("rules", lambda: ComplaintRules.objects.get_or_create(id=1)[0])


def timeouts() -> sla.Timeouts:
    def load():
        data = rules().timeouts or {}
        return sla.Timeouts.from_dict(data)  # a timeout not given keeps its default

    return _cached("timeouts", load)


def policies() -> list[sla.SlaPolicy]:
    """The active SLA policies. A row that does not load (changed past the admin's checks) is
    skipped with an error in the log, and the shipped catch-all is added when no active policy
    applies to every case: a new case always finds its policy."""

    def load():
        rows = []
        for row in SlaPolicyRow.objects.filter(active=True):
            try:
                rows.append(row.policy())
            except (ValueError, TypeError) as exc:
                logger.error("SLA policy %r is invalid and was skipped: %s", row.name, exc)
        if not rows:
            return list(sla.DEFAULT_POLICIES)
        if not any(p.catch_all for p in rows):
            rows.append(next(p for p in sla.DEFAULT_POLICIES if p.catch_all))
        return rows

    return _cached("policies", load)


def policy_for(case: Case) -> sla.SlaPolicy:
    by_name = {p.name: p for p in policies()}
    if case.sla_policy in by_name:
        return by_name[case.sla_policy]
    return sla.match_policy(by_name.values(), _facts(case))


def _category_codes(category: Category | None) -> frozenset[str]:
    if category is None:
        return frozenset()
    return frozenset(code for code in category.path.split("/") if code)


def _facts(case: Case) -> sla.CaseFacts:
    return sla.CaseFacts(
        problem_type=case.problem_type,
        priority=case.priority,
        channel=case.channel,
        kind=case.kind,
        category_codes=_category_codes(case.category),
    )


# --- who is acting --------------------------------------------------------------------------------


def party_of(actor, case: Case) -> str:
    """The actor's side in this case. Someone with no business in the case gets NotFound."""
    if actor is None:
        return Party.SYSTEM
    if not actor.is_active:
        raise NotFound(_("No such case."), code="CASE_NOT_FOUND")
    role = actor.role
    if role == Role.CONSUMER and (
        case.consumer_id == actor.pk or (case.buyer_id and case.buyer.user_id == actor.pk)
    ):
        return Party.CONSUMER
    if (
        role == Role.MERCHANT_STAFF
        and case.merchant_id
        and case.merchant_id == actor.merchant_id
        and case.merchant_since
    ):
        return Party.MERCHANT
    if role == Role.AGENT or (role == Role.ADMIN or actor.is_superuser):
        return Party.AGENT
    if role == Role.ARBITRATOR:
        return Party.ARBITRATOR
    if role in (Role.INSPECTOR, Role.ANALYST):
        return "observer"
    raise NotFound(_("No such case."), code="CASE_NOT_FOUND")


def visible_cases(actor):
    qs = Case.objects.select_related(
        "merchant", "product", "order", "owner", "buyer", "category", "consumer", "possible_duplicate_of"
    )
    if actor is None:
        return qs
    if not actor.is_active:
        return qs.none()
    if actor.is_superuser or actor.role in (
        Role.AGENT,
        Role.ADMIN,
        Role.ARBITRATOR,
        Role.INSPECTOR,
        Role.ANALYST,
    ):
        return qs
    if actor.role == Role.CONSUMER:
        return qs.filter(Q(consumer=actor) | Q(buyer__user=actor))
    if actor.role == Role.MERCHANT_STAFF and actor.merchant_id:
        return qs.filter(merchant_id=actor.merchant_id, merchant_since__isnull=False)
    return qs.none()


def get_case(*, actor, number: str) -> Case:
    case = visible_cases(actor).filter(number=number).first()
    if case is None:
        raise NotFound(_("No such case."), code="CASE_NOT_FOUND", field="number")
    return case


def _lock(case: Case | str, *, actor, version: int | None) -> tuple[Case, str]:
    number = case if isinstance(case, str) else case.number
    locked = Case.objects.select_for_update().filter(number=number).first()
    if locked is None:
        raise NotFound(_("No such case."), code="CASE_NOT_FOUND", field="number")
    party = party_of(actor, locked)
    if version is not None and locked.version != version:
        raise Conflict(
            _("Someone else changed this case a moment ago. Reload it and try again."),
            code="CASE_CHANGED",
            field="version",
        )
    return locked, party


def _require_party(party: str, *allowed: str) -> None:
    if party not in allowed:
        raise PermissionDenied(_("You may not do this on this case."), code="NOT_YOUR_MOVE")


def _claim(case: Case, actor, party: str) -> list[str]:
    """First-contact ownership: the first agent to act owns the case; other agents get 409."""
    if party != Party.AGENT or actor is None:
        return []
    if case.owner_id is None:
        case.owner = actor
        case.owner_since = timezone.now()
        _event(
            case,
            "owner_assigned",
            actor,
            party,
            {"owner": actor.get_username(), "how": "first_contact"},
            visibility=CaseEvent.Visibility.PLATFORM,
        )
        record = {
            "actor": actor,
            "action": "owner_assigned",
            "obj": case,
            "after": {"owner": actor.get_username(), "how": "first_contact"},
        }
        pending = _pending(case)
        if pending is not None:
            pending.audit.append(record)
        else:
            audit.record(**record)
        return ["owner", "owner_since"]
    if case.owner_id != actor.pk and actor.role != Role.ADMIN and not actor.is_superuser:
        raise Conflict(
            _("This case belongs to %(owner)s. Ask for a handover first.") % {"owner": case.owner},
            code="OWNED_BY_ANOTHER_AGENT",
        )
    return []


# --- timeline, moves, saving -------------------------------------------------------------------


def _event(
    case,
    type_,
    actor,
    party,
    data=None,
    *,
    visibility=CaseEvent.Visibility.PARTIES,
    from_status="",
    to_status="",
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        type=type_,
        actor=actor if actor is not None and actor.is_authenticated else None,
        party=party if party in Party.values else Party.AGENT,
        data=jsonable(data or {}),
        visibility=visibility,
        from_status=from_status,
        to_status=to_status,
    )
    pending = _pending(case)
    if pending is not None:
        pending.events.append(event)
    else:
        event.save(force_insert=True)
    return event


@dataclass
class _Pending:
    """Rows that wait for a case being filed to get its id: written in one statement per table
    (see `submit_case`), so that intake stays a short transaction."""

    events: list = field(default_factory=list)
    alerts: list = field(default_factory=list)
    audit: list = field(default_factory=list)
    notices: list = field(default_factory=list)


def _pending(case: Case | None) -> _Pending | None:
    return getattr(case, "_pending", None) if case is not None else None


def _write_pending(case: Case) -> list[dict]:
    """Insert the rows a new case collected; returns its audit records (as keyword arguments)."""
    pending = case.__dict__.pop("_pending")
    CaseEvent.objects.bulk_create(pending.events)
    if pending.alerts:
        Alert.objects.bulk_create(pending.alerts)
    for users, kind in pending.notices:
        _queue_notices(case, users, kind)
    return pending.audit


def _save(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=sorted({*fields, "version", "updated_at"}))


#: Each move of the workflow as people read it (in refusals).
MOVE_TEXT = {
    "acknowledge": gettext_lazy("acknowledge the case"),
    "route_to_merchant": gettext_lazy("send it to the merchant"),
    "merchant_respond": gettext_lazy("answer as the merchant"),
    "agree": gettext_lazy("agree"),
    "auto_approve": gettext_lazy("approve it automatically"),
    "start_execution": gettext_lazy("start the remedy"),
    "resolve": gettext_lazy("resolve it"),
    "close": gettext_lazy("close it"),
    "request_intervention": gettext_lazy("ask the platform to step in"),
    "dispute_return": gettext_lazy("say the returned goods are not intact"),
    "start_review": gettext_lazy("start the review"),
    "rule": gettext_lazy("rule on it"),
    "appeal": gettext_lazy("appeal"),
    "reopen": gettext_lazy("reopen it"),
    "withdraw": gettext_lazy("withdraw it"),
    "reject": gettext_lazy("reject it"),
    "merge": gettext_lazy("merge it"),
}


def _move(
    case: Case, name: str, *, actor, party: str, reason: str = "", data: dict | None = None
) -> list[str]:
    """Apply one transition of the table: guard, status, timeline event, audit record."""
    t = workflow.TRANSITIONS[name]
    if not workflow.allowed(name, case.status, party):
        raise InvalidTransition(
            _("You cannot %(move)s now: the case is %(status)s.")
            % {"move": MOVE_TEXT.get(name, name), "status": case.get_status_display()},
            code="INVALID_TRANSITION",
        )
    reason = plain(reason or "")
    if t.needs_reason and not reason.strip():
        raise InvalidInput(_("Please give a reason."), field="reason")
    before = case.status
    case.status = t.target
    moved = ["status"]
    if before in (workflow.ESCALATED, workflow.PLATFORM_REVIEW) and t.target not in (
        workflow.ESCALATED,
        workflow.PLATFORM_REVIEW,
    ):
        # agreed, ruled or withdrawn: no time to settle runs any more, and what the platform
        # asked for while deciding is no longer awaited (an appeal starts afresh)
        if case.settle_by is not None:
            case.settle_by = None
            moved.append("settle_by")
        if case.pk is not None:
            case.material_requests.filter(
                due_at__isnull=False, fulfilled_at__isnull=True, lapsed_at__isnull=True
            ).update(lapsed_at=timezone.now())
    _event(
        case,
        t.event,
        actor,
        party,
        {**(data or {}), **({"reason": reason} if reason else {})},
        from_status=before,
        to_status=t.target,
    )
    record = {
        "actor": actor,
        "action": name,
        "obj": case,
        "before": {"status": before},
        "after": {"status": t.target},
        "reason": reason,
    }
    pending = _pending(case)
    if pending is not None:
        pending.audit.append(record)
    else:
        audit.record(**record)
    return moved


def _clean_text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    # a form sends a line break as CR LF: counted as one character, as the browser counts it
    value = plain(value or "").replace("\r\n", "\n").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def _all_checked(*checks) -> list:
    """Run every check (a callable): their values in order, or one refusal naming every field
    any of them refused, not only the first (a form then marks them all at once)."""
    out, errors, first = [], [], None
    for check in checks:
        try:
            out.append(check())
        except InvalidInput as exc:
            errors += exc.errors
            first = first or exc
    if first is not None:  # (with the first refusal's code)
        raise InvalidInput(first.message, code=first.code, errors=errors)
    return out


def _clean_texts(*fields: tuple[str, str, int]) -> list[str]:
    """Several required texts, each (value, field, limit), checked together."""
    return _all_checked(*(partial(_clean_text, value, name, limit=limit) for value, name, limit in fields))


def _amount(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        fen = value
    else:
        try:
            fen = parse_yuan(value)
        except ValueError:  # money's own reason is for developers, in English
            raise InvalidInput(
                _("Enter an amount in yuan, not negative, with at most two decimals (e.g. 129.90)."),
                field=field,
            ) from None
    if fen < 0:
        raise InvalidInput(_("The amount must not be negative."), field=field)
    return fen


# --- SLA deadlines ------------------------------------------------------------------------------------


def _pauses(case: Case) -> list[tuple[datetime, datetime | None]]:
    if case.pk is None or getattr(case, "_no_pauses", False):
        return []
    return [(p.started_at, p.ended_at) for p in case.pauses.all()]


def _due(case: Case, target: str, start: datetime) -> datetime | None:
    policy = policy_for(case)
    if policy.target(target) is None:
        return None
    clock = policy.clock(target, start, pauses=_pauses(case), business_calendar=get_calendar())
    now = timezone.now()
    # the sweep looks at a case from its next warning on, however many days (weekends,
    # holidays) lie between that and the deadline
    # (a paused clock has no warning time yet: the sweep or the end of the pause sets it)
    warn = None if clock.paused_at(now) else clock.warning_at(now)
    pending = case.sla_warn_at if case.sla_warn_at is not None and case.sla_warn_at > now else None
    if warn is not None:
        case.sla_warn_at = min(warn, pending) if pending is not None else warn
    return clock.deadline(now)


def _recompute_deadlines(case: Case) -> list[str]:
    fields = ["sla_warn_at"]
    if case.first_responded_at is None:
        case.first_response_due = _due(case, "first_response", case.created_at)
        fields.append("first_response_due")
    if case.resolved_at is None:
        case.resolution_due = _due(case, "resolution", case.created_at)
        fields.append("resolution_due")
    if case.status == workflow.AWAITING_MERCHANT and case.merchant_since:
        case.merchant_response_due = _due(case, "merchant_response", case.merchant_since)
        fields.append("merchant_response_due")
    return fields


def same_person(case: Case) -> Q | None:
    """The cases of the same person as `case`: the same buyer or the same account; by e-mail
    address only between cases that have neither (a shared family address does not make two
    buyers one person). None: nobody to compare with. Duplicates are looked for, and merges
    allowed, only within this."""
    if case.buyer_id or case.consumer_id:
        who = Q()
        if case.buyer_id:
            who |= Q(buyer_id=case.buyer_id)
        if case.consumer_id:
            who |= Q(consumer_id=case.consumer_id)
        return who
    if (case.contact_email or "").strip():
        return Q(contact_email__iexact=case.contact_email.strip(), buyer__isnull=True, consumer__isnull=True)
    return None


#: the reason of a pause for the time a case stood resolved before it was reopened or appealed
RESOLVED_PAUSE = "resolved"


def _back_to_work(case: Case) -> list[str]:
    """A resolved or closed case taken up again (reopened, appealed): the time it stood resolved
    does not count against its resolution clock, it is no longer finished, and outside systems
    that were told it closed are told it is open again (`case.reopened`)."""
    now = timezone.now()
    if case.resolved_at is not None:
        CasePause.objects.create(case=case, started_at=case.resolved_at, ended_at=now, reason=RESOLVED_PAUSE)
    case.resolved_at = case.closed_at = case.retain_until = None
    events.publish("case.reopened", aggregate=case, payload=case_payload(case))
    return ["resolved_at", "closed_at", "retain_until", *_recompute_deadlines(case)]


def _to_platform(case: Case, party: str) -> list[str]:
    """The case is now the platform's to decide (intervention asked for, returned goods
    disputed): the arbitrators are alerted and outside systems told (`case.escalated`, with the
    case's codes, never the people's words), and the merchant's automatic approval stops."""
    case.escalated_at = timezone.now()
    case.auto_approve_at = None
    _alert(
        User.objects.filter(role=Role.ARBITRATOR, is_active=True),
        case,
        "case_escalated",
        {"number": case.number},
    )
    _tell_parties(case, "sent_to_platform", but=party)
    events.publish("case.escalated", aggregate=case, payload={**case_payload(case), "by": party})
    return ["escalated_at", "auto_approve_at"]


def settling(case: Case, now: datetime) -> bool:
    """Whether the parties may still agree between themselves although the case is with the
    platform: within the merchant's time to settle after intervention, before any ruling."""
    return (
        case.status in (workflow.ESCALATED, workflow.PLATFORM_REVIEW)
        and case.settle_by is not None
        and now <= case.settle_by
        and not case.rulings.exists()
    )


def merchant_acted_since_escalation(case: Case) -> bool:
    """Whether the merchant wrote, sent evidence or proposed since the case went to the platform."""
    return (
        case.escalated_at is not None
        and CaseEvent.objects.filter(case=case, party=Party.MERCHANT, at__gte=case.escalated_at).exists()
    )


def ruling_too_early(case: Case, now: datetime) -> InvalidTransition | None:
    """The platform rules once the merchant's time to settle is over, or once the merchant has
    answered (sent its evidence or its word) within it; None when it may rule now."""
    if settling(case, now) and not merchant_acted_since_escalation(case):
        return InvalidTransition(
            _(
                "The merchant may still settle or send its evidence until %(until)s: rule after that, "
                "or once it has answered."
            )
            % {"until": _when(case.settle_by)},
            code="SETTLE_WINDOW_OPEN",
        )
    return None


def _route_to_merchant(case: Case, *, actor, party: str) -> list[str]:
    if case.merchant_id is None:
        raise InvalidInput(_("This case names no merchant: link it to an order first."), field="order")
    fields = _move(case, "route_to_merchant", actor=actor, party=party)
    now = timezone.now()
    t = timeouts()
    case.merchant_since = now
    case.intervention_allowed_at = now + t.merchant_response_for_intervention
    # a merchant who never answers: 15 days from when intervention became possible (a decision
    # of the merchant's moves it on, see work._decision_made)
    case.intervention_deadline = case.intervention_allowed_at + t.intervention_window
    if case.kind == CaseKind.REFUND_ONLY and case.problem_type != ProblemType.NO_REASON_RETURN:
        # (a no-reason return read from the text of a refund-only request is never approved
        # without the goods coming back: the merchant answers it)
        case.auto_approve_at = now + t.auto_approve_refund_only
    case.merchant_response_due = _due(case, "merchant_response", now)
    _notify_merchant(case, "case_for_merchant")
    return [
        *fields,
        "sla_warn_at",
        "merchant_since",
        "intervention_allowed_at",
        "intervention_deadline",
        "auto_approve_at",
        "merchant_response_due",
    ]


def _raise_priority_to(case: Case, priority: str, **why) -> list[str]:
    """Make the case more urgent (never less; P1 only for personal safety), on its timeline for
    the platform with why (`why` goes into the event's data)."""
    if not case.safety and priority == "P1":
        priority = "P2"
    if priority >= case.priority:  # "P1" < "P2" < "P3"
        return []
    _event(
        case,
        "priority_raised",
        None,
        Party.SYSTEM,
        {"from": case.priority, "to": priority, **why},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    case.priority = priority
    return ["priority"]


def _first_response(case: Case, party: str) -> list[str]:
    if case.first_responded_at is None and party in (Party.AGENT, Party.MERCHANT, Party.ARBITRATOR):
        case.first_responded_at = timezone.now()
        return ["first_responded_at"]
    return []


# --- notifications -----------------------------------------------------------------------------------


def _alert(users, case: Case | None, kind: str, data: dict | None = None) -> int:
    """Alert each user (shown on their alerts page); urgent kinds are also e-mailed."""
    users = list(users)
    rows = [Alert(recipient=u, case=case, kind=kind, data=jsonable(data or {})) for u in users]
    pending = _pending(case)
    mailed = case is not None and kind in alerts.MAILED
    if pending is not None:
        pending.alerts.extend(rows)
        if mailed:
            pending.notices.append((users, kind))
    else:
        if rows:
            Alert.objects.bulk_create(rows)
        if mailed:
            _queue_notices(case, users, kind)
    return len(rows)


def _notice_text(case: Case, user, kind: str) -> tuple[str, str]:
    """Subject and body of an alert by e-mail, in the user's language (Chinese then English when
    they chose none). The case title is masked for those who may not see personal data (merchant
    staff)."""
    title = " ".join(case.title.split())
    if not sees_personal_text(user):
        title = mask_in_text(title)
    language = languages.for_person(user)
    labels = _in_languages(lambda: [alerts.label(kind)], language)
    body = _in_languages(
        lambda: [
            alerts.label(kind),
            _("Case %(number)s: %(title)s") % {"number": case.number, "title": title},
            _("Open the case: %(link)s") % {"link": case_link(case)},
            _("This notice was sent automatically; replies to it are not read."),
            "",
        ],
        language,
    )
    return f"[MarketGuard] {' / '.join(labels)} · {case.number}", "\n".join(body)


def _in_languages(lines, language: str) -> list[str]:
    """`lines()` in `language`; in Chinese, then in English, when it is '' (not known)."""
    out = []
    for code in [language] if language else ["zh-hans", "en"]:
        with translation.override(code):
            out += lines()
    return out


def consumer_language(case: Case) -> str:
    """The language the consumer is written to in: their account's choice (it may have changed
    since they filed), else the case's (their choice or the language of their complaint when
    filed), else '' (both)."""
    return (languages.preferred(case.consumer) if case.consumer_id else "") or case.language


def _queue_notices(case: Case, users, kind: str) -> int:
    """E-mail an urgent alert to each user with an address: written in the case's transaction,
    sent after the commit by the worker (retried like the consumer's mail). Not threaded with
    the consumer's mail; a reply to it is never posted into the case."""
    from marketguard.complaints import mailparse

    queued = 0
    for user in users:
        address = (user.email or "").strip() if user is not None and user.is_active else ""
        if not address:
            continue
        subject, text = _notice_text(case, user, kind)
        built = mailparse.build_notice(
            to=address,
            subject=subject,
            text=text,
            from_address=settings.DEFAULT_FROM_EMAIL,
            domain=settings.MAIL_DOMAIN,
        )
        OutgoingMail.objects.create(
            case=case,
            to_address=address[:254],
            subject=built.subject[:300],
            message_id_header=built.message_id,
            raw=built.raw.decode("ascii"),
            automatic=True,
            notice=True,
        )
        queued += 1
    if queued:
        transaction.on_commit(_enqueue_mail)
    return queued


def _tell_the_others(case: Case, party: str, kind: str) -> None:
    """A party wrote or decided something: alert the case's owner (an agent) and, once the case
    is with the merchant, the merchant's staff, except the side that acted (shown on the alerts
    page, not e-mailed)."""
    if party not in (Party.AGENT, Party.ARBITRATOR) and case.owner_id and case.owner.is_active:
        _alert([case.owner], case, kind, {"number": case.number, "party": party})
    if party != Party.MERCHANT and case.merchant_since:
        _notify_merchant(case, kind)


def _tell_parties(case: Case, kind: str, *, but: str = "") -> None:
    """Alert the consumer and, once the case is with the merchant, the merchant's staff (not the
    side that acted): a step of the case that concerns both, on their alerts page."""
    if but != Party.CONSUMER and case.consumer_id and case.consumer.is_active:
        _alert([case.consumer], case, kind, {"number": case.number})
    if but != Party.MERCHANT and case.merchant_since:
        _notify_merchant(case, kind)


def _notify_merchant(case: Case, kind: str) -> None:
    if case.merchant_id:
        _alert(
            User.objects.filter(role=Role.MERCHANT_STAFF, merchant_id=case.merchant_id, is_active=True),
            case,
            kind,
            {"number": case.number},
        )


def agents_by_load(exclude: int | None = None):
    """Active agents, each with `load` (open cases owned), least loaded first."""
    return (
        User.objects.filter(role=Role.AGENT, is_active=True)
        .exclude(pk=exclude)
        .annotate(load=Count("cases_owned", filter=Q(cases_owned__status__in=list(workflow.OPEN))))
        .order_by("load", "pk")
    )


def _least_loaded_agent(exclude: int | None = None) -> User | None:
    return agents_by_load(exclude).first()


def my_alerts(actor):
    """The actor's own alerts, newest first."""
    return Alert.objects.filter(recipient=actor).select_related("case").order_by("-created_at")


def mark_alerts_read(*, actor, alert_ids: list[int] | None = None, case: Case | None = None) -> int:
    """Mark the actor's alerts (all, the given ones, or those about one case: opening the case
    page has shown what they said) as read. Nobody else's alerts are touched."""
    qs = Alert.objects.filter(recipient=actor, read_at__isnull=True)
    if alert_ids is not None:
        qs = qs.filter(pk__in=alert_ids)
    if case is not None:
        qs = qs.filter(case=case)
    return qs.update(read_at=timezone.now())


def _item_dict(item: materials.Item) -> dict:
    return {
        "code": item.code,
        "label_zh": item.label_zh,
        "label_en": item.label_en,
        "required": item.required,
        "accepts": list(item.accepts),
    }


def case_payload(case: Case) -> dict:
    return {
        "number": case.number,
        "kind": case.kind,
        "problem_type": case.problem_type,
        "priority": case.priority,
        "status": case.status,
        "channel": case.channel,
        "safety": case.safety,
        "merchant": case.merchant.external_id if case.merchant_id else None,
        "order": case.order.external_id if case.order_id else None,
        "product": case.product.external_id if case.product_id else None,
    }


# --- e-mail to the consumer -------------------------------------------------------------------------


def _mail_thread(case: Case) -> list[str]:
    """Message-IDs of the case's e-mail so far (the consumer's and ours), oldest first."""
    ours = OutgoingMail.objects.filter(case=case, notice=False).values_list("created_at", "message_id_header")
    theirs = (
        CaseMessage.objects.filter(case=case)
        .exclude(email_message_id="")
        .values_list("created_at", "email_message_id")
    )
    return [mid for _at, mid in sorted([*ours, *theirs])]


def _build_reply(case: Case, to: str, subject: str, text: str, thread: list[str], automatic: bool):
    from marketguard.complaints import mailparse

    return mailparse.build_reply(
        case_number=case.number,
        to=to,
        subject=" ".join((subject or case.title).split()),  # one line: no header injection
        text=text,
        in_reply_to=thread[-1] if thread else None,
        references=thread[-10:],
        from_address=settings.DEFAULT_FROM_EMAIL,
        domain=settings.MAIL_DOMAIN,
        automatic=automatic,
    )


def _queue_mail(
    case: Case,
    *,
    text: str,
    subject: str = "",
    message: CaseMessage | None = None,
    automatic: bool = False,
    in_reply_to: str | None = None,
) -> OutgoingMail | None:
    """Write an e-mail to the consumer in the case's transaction (sent after the commit by the
    worker; retried until it goes). Nothing when the case has no contact address. `in_reply_to`
    None: continue the case's e-mail thread; "" (a new case): no thread yet."""
    to = (case.contact_email or "").strip()
    if not to:
        return None
    thread = _mail_thread(case) if in_reply_to is None else [m for m in [in_reply_to] if m]
    try:
        built = _build_reply(case, to, subject, text, thread, automatic)
    except ValueError:  # an address imported with the orders that cannot be written: no mail
        logger.exception("case %s: cannot write mail to %r", case.number, to)
        return None
    mail = OutgoingMail.objects.create(
        case=case,
        message=message,
        to_address=to[:254],
        subject=built.subject[:300],
        message_id_header=built.message_id,
        raw=built.raw.decode("ascii"),
        automatic=automatic,
    )
    transaction.on_commit(_enqueue_mail)
    return mail


def _tell_consumer(case: Case, lines) -> OutgoingMail | None:
    """An automatic e-mail to the consumer about a step that needs them or decides for them, in
    their language (:func:`consumer_language`): `lines()` returns the text in the active language.
    Threads like the other mail of the case; nothing when the case has no contact address."""
    if not (case.contact_email or "").strip():
        return None
    text = _in_languages(
        lambda: [*lines(), _("Open the case: %(link)s") % {"link": case_link(case)}, ""],
        consumer_language(case),
    )
    return _queue_mail(case, text="\n".join(text).strip(), subject=f"Re: {case.title}", automatic=True)


def _when(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


def _remedy_text(kind: str, amount_fen: int | None) -> str:
    label = str(RemedyKind(kind).label) if kind in RemedyKind.values else kind
    return f"{label} {format_yuan(amount_fen)}" if amount_fen is not None else label


def _enqueue_mail() -> None:
    """After commit: ask a worker to send now. If the queue is down, the periodic task sends later."""
    from marketguard.complaints.tasks import send_mail_task

    try:
        send_mail_task.enqueue()
    except Exception:
        logger.exception("could not enqueue outgoing mail; the periodic task will send it")


def case_link(case: Case) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("complaints:detail", args=[case.number])
