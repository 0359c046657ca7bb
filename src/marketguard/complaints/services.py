"""Complaint and after-sales use cases. Every state change of a case happens here.

Each function: keyword-only arguments, `actor` (None = the system: sweeps, mail intake), one
transaction, the case row locked (`select_for_update`) before a move, an optimistic `version`
check when the caller sends one (409 if someone else acted first), a timeline event, an audit
record, and side effects (webhooks) queued on commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.catalog.models import Buyer, Category, Order, OrderItem
from marketguard.complaints import materials, sla, triage, workflow
from marketguard.complaints.models import (
    Alert,
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    CasePause,
    Channel,
    ComplaintRules,
    Evidence,
    MaterialRequest,
    MerchantViolation,
    Party,
    ProblemType,
    Proposal,
    Rating,
    Remedy,
    RemedyKind,
    Ruling,
    SlaMark,
    SlaPolicyRow,
)
from marketguard.core import audit, events, numbering
from marketguard.core.calendars import get_calendar
from marketguard.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from marketguard.core.jsonsafe import jsonable
from marketguard.core.models import Role, User
from marketguard.core.money import parse_yuan

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
        return sla.Timeouts.from_dict({**sla.DEFAULT_TIMEOUTS.to_dict(), **data})

    return _cached("timeouts", load)


def policies() -> list[sla.SlaPolicy]:
    def load():
        rows = [sla.SlaPolicy.from_dict(r.data) for r in SlaPolicyRow.objects.filter(active=True)]
        return rows or list(sla.DEFAULT_POLICIES)

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
    qs = Case.objects.select_related("merchant", "product", "order", "owner", "buyer", "category")
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


def _pending(case: Case | None) -> _Pending | None:
    return getattr(case, "_pending", None) if case is not None else None


def _write_pending(case: Case) -> list[dict]:
    """Insert the rows a new case collected; returns its audit records (as keyword arguments)."""
    pending = case.__dict__.pop("_pending")
    CaseEvent.objects.bulk_create(pending.events)
    if pending.alerts:
        Alert.objects.bulk_create(pending.alerts)
    return pending.audit


def _save(case: Case, fields: list[str]) -> None:
    case.version += 1
    case.save(update_fields=sorted({*fields, "version", "updated_at"}))


def _move(
    case: Case, name: str, *, actor, party: str, reason: str = "", data: dict | None = None
) -> list[str]:
    """Apply one transition of the table: guard, status, timeline event, audit record."""
    t = workflow.TRANSITIONS[name]
    if not workflow.allowed(name, case.status, party):
        raise InvalidTransition(
            _("This case cannot do “%(move)s” now (it is %(status)s).")
            % {"move": name, "status": case.get_status_display()},
            code="INVALID_TRANSITION",
        )
    if t.needs_reason and not (reason or "").strip():
        raise InvalidInput(_("Please give a reason."), field="reason")
    before = case.status
    case.status = t.target
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
    return ["status"]


def _clean_text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("This field is required."), field=field)
    if len(value) > limit:
        raise InvalidInput(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def _amount(value, field: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        fen = value
    else:
        try:
            fen = parse_yuan(value)
        except ValueError as exc:
            raise InvalidInput(str(exc), field=field) from None
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
    return clock.deadline(timezone.now())


def _recompute_deadlines(case: Case) -> list[str]:
    fields = []
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


def _route_to_merchant(case: Case, *, actor, party: str) -> list[str]:
    if case.merchant_id is None:
        raise InvalidInput(_("This case names no merchant: link it to an order first."), field="order")
    fields = _move(case, "route_to_merchant", actor=actor, party=party)
    now = timezone.now()
    t = timeouts()
    case.merchant_since = now
    case.intervention_allowed_at = now + t.merchant_response_for_intervention
    case.intervention_deadline = now + t.intervention_window
    if case.kind == CaseKind.REFUND_ONLY:
        case.auto_approve_at = now + t.auto_approve_refund_only
    case.merchant_response_due = _due(case, "merchant_response", now)
    _notify_merchant(case, "case_for_merchant")
    return [
        *fields,
        "merchant_since",
        "intervention_allowed_at",
        "intervention_deadline",
        "auto_approve_at",
        "merchant_response_due",
    ]


def _first_response(case: Case, party: str) -> list[str]:
    if case.first_responded_at is None and party in (Party.AGENT, Party.MERCHANT, Party.ARBITRATOR):
        case.first_responded_at = timezone.now()
        return ["first_responded_at"]
    return []


# --- notifications -----------------------------------------------------------------------------------


def _alert(users, case: Case | None, kind: str, data: dict | None = None) -> int:
    rows = [Alert(recipient=u, case=case, kind=kind, data=jsonable(data or {})) for u in users]
    pending = _pending(case)
    if pending is not None:
        pending.alerts.extend(rows)
    elif rows:
        Alert.objects.bulk_create(rows)
    return len(rows)


def _notify_merchant(case: Case, kind: str) -> None:
    if case.merchant_id:
        _alert(
            User.objects.filter(role=Role.MERCHANT_STAFF, merchant_id=case.merchant_id, is_active=True),
            case,
            kind,
            {"number": case.number},
        )


def _least_loaded_agent(exclude: int | None = None) -> User | None:
    open_states = list(workflow.OPEN)
    agents = (
        User.objects.filter(role=Role.AGENT, is_active=True)
        .exclude(pk=exclude)
        .annotate(load=Count("cases_owned", filter=Q(cases_owned__status__in=open_states)))
        .order_by("load", "pk")
    )
    return agents.first()


def my_alerts(actor):
    """The actor's own alerts, newest first."""
    return Alert.objects.filter(recipient=actor).select_related("case").order_by("-created_at")


def mark_alerts_read(*, actor, alert_ids: list[int] | None = None) -> int:
    """Mark the actor's alerts (all, or the given ones) as read. Nobody else's alerts are touched."""
    qs = Alert.objects.filter(recipient=actor, read_at__isnull=True)
    if alert_ids is not None:
        qs = qs.filter(pk__in=alert_ids)
    return qs.update(read_at=timezone.now())


# --- intake -------------------------------------------------------------------------------------------


@dataclass
class Intake:
    """What intake produced, for the caller to show: the case, the checklist told at once, and
    whether a likely duplicate was found."""

    case: Case
    checklist: list[materials.Item]
    duplicate_of: Case | None


def _resolve_order(actor, *, order_external_id, item_external_id, buyer_external_id):
    order = item = buyer = None
    if order_external_id:
        order = (
            Order.objects.select_related("buyer", "merchant").filter(external_id=order_external_id).first()
        )
        if order is None:
            raise InvalidInput(_("No such order."), field="order")
        if actor is not None and actor.role == Role.CONSUMER and order.buyer.user_id != actor.pk:
            raise InvalidInput(_("No such order."), field="order")
        if actor is not None and actor.role == Role.MERCHANT_STAFF:
            raise PermissionDenied(_("Merchants do not file cases."), code="ROLE_REQUIRED")
        buyer = order.buyer
    if item_external_id:
        if order is None:
            raise InvalidInput(_("Give the order of this item."), field="order")
        item = (
            OrderItem.objects.select_related("product__category")
            .filter(external_id=item_external_id, order=order)
            .first()
        )
        if item is None:
            raise InvalidInput(_("This item is not part of the order."), field="item")
    elif order is not None:
        # an order has a handful of items: fetch them by the order index and take the first here
        # (ORDER BY id LIMIT 1 would make PostgreSQL walk the primary key of a large table)
        items = sorted(
            OrderItem.objects.select_related("product__category").filter(order=order), key=lambda i: i.pk
        )
        item = items[0] if items else None
    if buyer is None and buyer_external_id:
        buyer = Buyer.objects.filter(external_id=buyer_external_id).first()
        if buyer is None:
            raise InvalidInput(_("No such buyer."), field="buyer")
    if buyer is None and actor is not None and actor.role == Role.CONSUMER:
        buyer = Buyer.objects.filter(user=actor).first()
    return order, item, buyer


def _repeat_count(case: Case) -> int:
    """Cases in the last 30 days by the same buyer, plus others' cases on the same product."""
    by_buyer = Q(buyer_id=case.buyer_id) if case.buyer_id else None
    by_others = Q(product_id=case.product_id) & ~Q(buyer_id=case.buyer_id) if case.product_id else None
    counts = {}
    if by_buyer is not None:
        counts["buyer"] = Count("pk", filter=by_buyer)
    if by_others is not None:
        counts["others"] = Count("pk", filter=by_others)
    if not counts:
        return 0
    who = Q(buyer_id=case.buyer_id) if case.buyer_id else Q()
    if case.product_id:
        who = who | Q(product_id=case.product_id) if case.buyer_id else Q(product_id=case.product_id)
    since = timezone.now() - timedelta(days=30)
    found = Case.objects.filter(who, created_at__gte=since).aggregate(**counts)
    return sum(found.values())


def _find_duplicate(case: Case) -> Case | None:
    window = timezone.now() - timedelta(hours=rules().duplicate_window_hours)
    who = Q()
    if case.buyer_id:
        who |= Q(buyer_id=case.buyer_id)
    if case.consumer_id:
        who |= Q(consumer_id=case.consumer_id)
    if case.contact_email:
        who |= Q(contact_email__iexact=case.contact_email)
    if not who:
        return None
    candidates = Case.objects.filter(who, created_at__gte=window, status__in=list(workflow.OPEN))
    if case.pk is not None:
        candidates = candidates.exclude(pk=case.pk)
    candidates = (
        candidates.filter(order_id=case.order_id) if case.order_id else candidates.filter(order__isnull=True)
    )
    return candidates.filter(problem_type=case.problem_type).order_by("created_at").first()


def submit_case(
    *,
    actor,
    channel: str,
    kind: str,
    description: str,
    title: str = "",
    problem_type: str | None = None,
    order_external_id: str | None = None,
    item_external_id: str | None = None,
    buyer_external_id: str | None = None,
    amount_claimed=None,
    contact_email: str = "",
    safety_confirmed: bool = False,
) -> Intake:
    """File a complaint or an after-sales request from any channel."""
    if (
        actor is not None
        and actor.role not in (Role.CONSUMER, Role.AGENT, Role.ADMIN)
        and not actor.is_superuser
    ):
        raise PermissionDenied(_("Your role may not file cases."), code="ROLE_REQUIRED")
    if channel not in Channel.values:
        raise InvalidInput(_("Unknown channel."), field="channel")
    if kind not in CaseKind.values:
        raise InvalidInput(_("Unknown kind of request."), field="kind")
    if problem_type not in (None, "") and problem_type not in ProblemType.values:
        raise InvalidInput(_("Unknown problem type."), field="problem_type")
    description = _clean_text(description, "description")
    title = _clean_text(title, "title", required=False, limit=200)
    amount = _amount(amount_claimed, "amount_claimed")
    order, item, buyer = _resolve_order(
        actor,
        order_external_id=order_external_id,
        item_external_id=item_external_id,
        buyer_external_id=buyer_external_id,
    )
    if kind in AFTER_SALES_KINDS and order is None:
        raise InvalidInput(_("After-sales requests need the order."), field="order")
    paid = (
        item.paid_amount_fen if item is not None else (order.paid_amount_fen if order is not None else None)
    )
    if amount is not None and paid is not None and amount > paid and kind != CaseKind.COMPENSATION:
        raise InvalidInput(
            _("You cannot claim more than you paid (%(paid)s).") % {"paid": paid / 100},
            field="amount_claimed",
        )
    product = item.product if item is not None else None
    category = product.category if product is not None else None
    consumer = actor if actor is not None and actor.role == Role.CONSUMER else (buyer.user if buyer else None)
    no_reason = None
    if problem_type == ProblemType.NO_REASON_RETURN:
        no_reason = check_no_reason_return(order=order, category=category)
        if not no_reason.eligible:
            raise InvalidInput(
                _("This order cannot be returned without a reason: %(why)s")
                % {"why": ", ".join(str(NO_REASON_TEXT.get(r, r)) for r in no_reason.reasons)},
                code="NO_REASON_RETURN_NOT_ELIGIBLE",
                field="problem_type",
            )

    # The number comes from a short transaction of its own, so concurrent intakes do not wait on
    # the day's counter row; a failed intake leaves a gap in the numbers, never a duplicate.
    number = numbering.next_number(PREFIX) if not transaction.get_connection().in_atomic_block else None
    with transaction.atomic():
        now = timezone.now()
        case = Case(
            number=number or numbering.next_number(PREFIX),
            kind=kind,
            channel=channel,
            title=title or description[:60],
            description=description,
            consumer=consumer,
            buyer=buyer,
            order=order,
            order_item=item,
            product=product,
            merchant=order.merchant if order else None,
            category=category,
            amount_claimed_fen=amount,
            paid_amount_fen=paid,
            contact_email=(contact_email or (buyer.email if buyer else "") or "")[:254],
            problem_type=ProblemType.OTHER,
            priority="P3",
            created_at=now,
        )
        # Everything is decided before the one INSERT of the case; timeline events, alerts and
        # audit records collected meanwhile are written after it, one statement per table.
        case._pending = _Pending()
        case._no_pauses = True  # a case being filed has no pause rows yet: spare the lookups
        result = triage.triage(
            f"{title}\n{description}",
            kind=kind,
            problem_type=ProblemType.SAFETY if safety_confirmed else (problem_type or None),
            amount_fen=amount or paid,
            category_risk=category.risk_level if category else None,
            repeat_count=_repeat_count(case),
            channel=channel,
            **({"rules": triage.TriageRules.from_dict(rules().triage)} if rules().triage else {}),
        )
        case.problem_type = result.problem_type
        case.priority = result.priority
        case.safety = result.safety
        case.triage = result.to_dict()
        if no_reason is not None:
            case.triage["no_reason_return"] = no_reason.to_dict()
        case.sla_policy = sla.match_policy(policies(), _facts(case)).name
        items = materials.checklist(case.problem_type, kind)
        case.materials_notified = [i.code for i in items]
        case.first_response_due = _due(case, "first_response", now)
        case.resolution_due = _due(case, "resolution", now)
        party = Party.CONSUMER if actor is None or actor.role == Role.CONSUMER else Party.AGENT
        _event(case, "case_submitted", actor, party, {"channel": channel, "kind": kind})
        _event(
            case, "case_triaged", None, Party.SYSTEM, case.triage, visibility=CaseEvent.Visibility.PLATFORM
        )
        duplicate = _find_duplicate(case)
        if duplicate is not None:
            case.possible_duplicate_of = duplicate
            _event(
                case,
                "duplicate_suspected",
                None,
                Party.SYSTEM,
                {"of": duplicate.number},
                visibility=CaseEvent.Visibility.PLATFORM,
            )
        if case.safety:
            _safety_response(case)
        if kind in AFTER_SALES_KINDS and case.merchant_id and duplicate is None:
            _route_to_merchant(case, actor=None, party=Party.SYSTEM)
        case.save(force_insert=True)
        moves = _write_pending(case)
        MaterialRequest.objects.create(case=case, items=[_item_dict(i) for i in items], requested_by=None)
        CaseMessage.objects.create(
            case=case,
            party=Party.SYSTEM,
            channel=channel,
            body=acknowledgement_text(case, items),
        )
        events.publish("case.created", aggregate=case, payload=case_payload(case))
        # last: the audit chain head stays locked only until the commit that follows
        submitted = audit.entry(
            actor=actor,
            action="case_submitted",
            obj=case,
            after={
                "kind": kind,
                "priority": case.priority,
                "problem_type": case.problem_type,
                "channel": channel,
                "status": workflow.SUBMITTED,
            },
        )
        audit.append([submitted, *(audit.entry(**m) for m in moves)])
    return Intake(case=case, checklist=items, duplicate_of=duplicate)


NO_REASON_TEXT = {
    "WINDOW_EXPIRED": gettext_lazy("the 7 days after signing for it have passed"),
    "CATEGORY_EXCLUDED": gettext_lazy("goods of this category are excluded by law"),
    "EXCLUDED_CONFIRMED_AT_PURCHASE": gettext_lazy("you confirmed at purchase that it cannot be returned"),
    "GOODS_NOT_INTACT": gettext_lazy("the goods are not intact"),
    "REQUESTED_BEFORE_SIGNING": gettext_lazy("the parcel has not been signed for yet"),
    "NO_DELIVERY": gettext_lazy("the order has not been delivered"),
}


def check_no_reason_return(*, order: Order | None, category: Category | None, now: datetime | None = None):
    """7-day no-reason return (Consumer Rights Protection Law art. 25; 暂行办法 art. 6, 7, 10):
    counted in calendar days from the day after signing; excluded categories are data."""
    from marketguard.complaints import eligibility

    now = now or timezone.now()
    signed = None
    if order is not None:
        signed = (
            order.shipments.filter(signed_at__isnull=False)
            .order_by("-signed_at")
            .values_list("signed_at", flat=True)
            .first()
        )
        if signed is None:
            signed = (
                order.shipments.filter(delivered_at__isnull=False)
                .order_by("-delivered_at")
                .values_list("delivered_at", flat=True)
                .first()
            )
    if signed is None:
        return eligibility.Eligibility(eligible=False, deadline=now, reasons=["NO_DELIVERY"])
    return eligibility.no_reason_return(
        signed_at=signed,
        requested_at=now,
        tz=settings.TIME_ZONE,
        category_rule=category.no_reason_return if category is not None else "eligible",
    )


def _safety_response(case: Case) -> list[str]:
    """Personal safety: top priority, an agent assigned at once, quality inspectors alerted."""
    fields = []
    agent = _least_loaded_agent()
    if agent is not None:
        case.owner, case.owner_since = agent, timezone.now()
        fields += ["owner", "owner_since"]
        _alert([agent], case, "safety_case_assigned", {"number": case.number})
        _event(
            case,
            "owner_assigned",
            None,
            Party.SYSTEM,
            {"owner": agent.get_username(), "how": "safety"},
            visibility=CaseEvent.Visibility.PLATFORM,
        )
    inspectors = list(User.objects.filter(role=Role.INSPECTOR, is_active=True))
    _alert(
        inspectors,
        case,
        "safety_signal",
        {
            "number": case.number,
            "product": case.product.external_id if case.product else None,
            "keywords": case.triage.get("matched", []),
        },
    )
    _event(
        case,
        "inspectors_alerted",
        None,
        Party.SYSTEM,
        {"count": len(inspectors)},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    return fields


def _item_dict(item: materials.Item) -> dict:
    return {
        "code": item.code,
        "label_zh": item.label_zh,
        "label_en": item.label_en,
        "required": item.required,
        "accepts": list(item.accepts),
    }


def acknowledgement_text(case: Case, items: list[materials.Item]) -> str:
    """The one-time notice (一次性告知), in both languages: everything the consumer must provide."""
    lines_zh = [f"您的申请 {case.number} 已受理。为尽快处理，请一次性提供以下材料："]
    lines_en = [f"We have received your request {case.number}. To handle it quickly, please provide:"]
    for i in items:
        mark_zh = "（必需）" if i.required else "（可选）"
        mark_en = " (required)" if i.required else " (optional)"
        lines_zh.append(f"- {i.label_zh}{mark_zh}")
        lines_en.append(f"- {i.label_en}{mark_en}")
    return "\n".join(lines_zh + [""] + lines_en)


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


# --- agent work ------------------------------------------------------------------------------------------


def acknowledge_case(*, actor, number: str, version: int | None = None, message: str = "") -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT)
        fields = _claim(case, actor, party)
        fields += _move(case, "acknowledge", actor=actor, party=party)
        fields += _first_response(case, party)
        if message.strip():
            CaseMessage.objects.create(
                case=case, author=actor, party=party, body=_clean_text(message, "message")
            )
        _save(case, fields)
    return case


def take_case(*, actor, number: str, version: int | None = None) -> Case:
    """An agent takes an unowned case (first-contact ownership)."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT)
        if case.owner_id == actor.pk:
            return case
        if case.owner_id is not None:
            raise Conflict(
                _("This case belongs to %(owner)s. Ask for a handover first.") % {"owner": case.owner},
                code="OWNED_BY_ANOTHER_AGENT",
            )
        fields = _claim(case, actor, party)
        audit.record(actor=actor, action="case_taken", obj=case, after={"owner": actor.pk})
        _save(case, fields)
    return case


def hand_over_case(*, actor, number: str, to_username: str, reason: str, version: int | None = None) -> Case:
    """An explicit, recorded handover to another agent (by the owner or an admin)."""
    reason = _clean_text(reason, "reason", limit=500)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT)
        is_admin = actor.role == Role.ADMIN or actor.is_superuser
        if case.owner_id not in (None, actor.pk) and not is_admin:
            raise PermissionDenied(
                _("Only the responsible agent or an admin may hand this case over."), code="NOT_OWNER"
            )
        target = User.objects.filter(username=to_username, role=Role.AGENT, is_active=True).first()
        if target is None:
            raise InvalidInput(_("No active agent with this username."), field="to_username")
        before = case.owner_id
        case.owner, case.owner_since = target, timezone.now()
        _event(
            case,
            "case_handed_over",
            actor,
            party,
            {"to": target.get_username(), "reason": reason},
            visibility=CaseEvent.Visibility.PLATFORM,
        )
        audit.record(
            actor=actor,
            action="case_handed_over",
            obj=case,
            before={"owner": before},
            after={"owner": target.pk},
            reason=reason,
        )
        _alert([target], case, "case_handed_over", {"number": case.number, "reason": reason})
        _save(case, ["owner", "owner_since"])
    return case


def forward_to_merchant(*, actor, number: str, version: int | None = None, message: str = "") -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT)
        fields = _claim(case, actor, party) + _first_response(case, party)
        fields += _route_to_merchant(case, actor=actor, party=party)
        if message.strip():
            CaseMessage.objects.create(
                case=case, author=actor, party=party, body=_clean_text(message, "message")
            )
        _save(case, fields)
    return case


def post_message(
    *,
    actor,
    number: str,
    body: str,
    internal: bool = False,
    version: int | None = None,
    channel: str = Channel.WEB,
    email_message_id: str = "",
    on_behalf_of: str | None = None,
) -> CaseMessage:
    """A message in the negotiation. The merchant's first answer moves the case to negotiating;
    a consumer's answer ends a wait for materials (the SLA clocks run again)."""
    body = _clean_text(body, "body")
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        if actor is None and on_behalf_of in (Party.CONSUMER, Party.MERCHANT):
            party = on_behalf_of  # the system relays a party's e-mail
        if party == "observer":
            raise PermissionDenied(_("You may read this case but not write in it."), code="READ_ONLY")
        if case.status in workflow.FINAL:
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        if internal and party not in (Party.AGENT, Party.ARBITRATOR):
            raise PermissionDenied(_("Only the platform writes internal notes."), code="NOT_YOUR_MOVE")
        fields = _claim(case, actor, party)
        message = CaseMessage.objects.create(
            case=case,
            author=actor,
            party=party,
            body=body,
            internal=internal,
            channel=channel,
            email_message_id=email_message_id[:300],
        )
        if not internal:
            fields += _first_response(case, party)
        if party == Party.MERCHANT:
            fields += _merchant_answered(case, actor)
        if party == Party.CONSUMER and case.waiting_on_consumer_since:
            fields += _end_pause(case)
        _event(
            case,
            "message_posted",
            actor,
            party,
            {"message": message.pk, "internal": internal},
            visibility=CaseEvent.Visibility.PLATFORM if internal else CaseEvent.Visibility.PARTIES,
        )
        _save(case, fields)
    return message


def _merchant_answered(case: Case, actor) -> list[str]:
    fields = []
    if case.merchant_responded_at is None:
        case.merchant_responded_at = timezone.now()
        fields.append("merchant_responded_at")
    if case.status == workflow.AWAITING_MERCHANT:
        fields += _move(case, "merchant_respond", actor=actor, party=Party.MERCHANT)
        case.auto_approve_at = None
        fields.append("auto_approve_at")
    return fields


def _end_pause(case: Case) -> list[str]:
    now = timezone.now()
    case.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    case.waiting_on_consumer_since = None
    MaterialRequest.objects.filter(case=case, fulfilled_at__isnull=True).update(fulfilled_at=now)
    _event(case, "clock_resumed", None, Party.SYSTEM, {})
    return ["waiting_on_consumer_since", *_recompute_deadlines(case)]


def request_materials(
    *, actor, number: str, items: list[str], reason: str = "", version: int | None = None
) -> Case:
    """Ask the consumer for materials. Everything needed was told at intake (一次性告知): asking
    again is allowed only with a recorded reason. The SLA clocks pause until the consumer answers."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT, Party.ARBITRATOR)
        if case.status in workflow.FINAL:
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        catalogue = {i.code: i for i in materials.checklist(case.problem_type, case.kind)}
        all_codes = {**catalogue, **{i.code: i for pt in ProblemType.values for i in materials.checklist(pt)}}
        unknown = [code for code in items if code not in all_codes]
        if not items or unknown:
            raise InvalidInput(
                _("Unknown material: %(codes)s") % {"codes": ", ".join(unknown) or "—"}, field="items"
            )
        if case.material_requests.exists() and not (reason or "").strip():
            raise InvalidInput(
                _("Everything needed was listed at intake. Asking again needs a reason."),
                code="REASON_REQUIRED",
                field="reason",
            )
        fields = _claim(case, actor, party) + _first_response(case, party)
        MaterialRequest.objects.create(
            case=case, items=[_item_dict(all_codes[c]) for c in items], reason=reason, requested_by=actor
        )
        if case.waiting_on_consumer_since is None:
            now = timezone.now()
            case.waiting_on_consumer_since = now
            CasePause.objects.create(case=case, started_at=now, reason="materials")
            fields.append("waiting_on_consumer_since")
        _event(case, "materials_requested", actor, party, {"items": items, "reason": reason})
        audit.record(
            actor=actor, action="materials_requested", obj=case, after={"items": items}, reason=reason
        )
        _save(case, fields)
    return case


# --- evidence --------------------------------------------------------------------------------------------


def add_evidence(
    *,
    actor,
    number: str,
    filename: str,
    data: bytes,
    declared_type: str | None = None,
    material_code: str = "",
    internal: bool = False,
    on_behalf_of: str | None = None,
):
    """Store a file once (by SHA-256), check its type by content, make a thumbnail for images."""
    from marketguard.complaints import evidence_store

    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=None)
        if actor is None and on_behalf_of in (Party.CONSUMER, Party.MERCHANT):
            party = on_behalf_of
        if party == "observer":
            raise PermissionDenied(_("You may read this case but not write in it."), code="READ_ONLY")
        if case.status in workflow.FINAL:
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        if internal and party not in (Party.AGENT, Party.ARBITRATOR):
            raise PermissionDenied(_("Only the platform adds internal evidence."), code="NOT_YOUR_MOVE")
        evidence = evidence_store.store(
            case=case,
            actor=actor,
            party=party,
            filename=filename,
            data=data,
            declared_type=declared_type,
            material_code=material_code,
            internal=internal,
        )
        _event(
            case,
            "evidence_added",
            actor,
            party,
            {"file": evidence.filename, "kind": evidence.kind},
            visibility=evidence.visibility,
        )
        audit.record(
            actor=actor,
            action="evidence_added",
            obj=case,
            after={"sha256": evidence.blob.sha256, "file": evidence.filename},
        )
        fields = []
        if party == Party.CONSUMER and case.waiting_on_consumer_since:
            fields += _end_pause(case)
        _save(case, fields)
    return evidence


# --- negotiation ---------------------------------------------------------------------------------------


def _check_remedy_amount(case: Case, remedy: str, amount: int | None, field: str) -> None:
    money_remedies = {RemedyKind.REFUND, RemedyKind.RETURN_REFUND, RemedyKind.COMPENSATION}
    if remedy in money_remedies and amount is None:
        raise InvalidInput(_("Give the amount."), field=field)
    if remedy in (RemedyKind.REFUND, RemedyKind.RETURN_REFUND) and case.paid_amount_fen is not None:
        refunded = (
            case.remedies.filter(kind__in=[RemedyKind.REFUND, RemedyKind.RETURN_REFUND]).aggregate(
                s=Sum("amount_fen")
            )["s"]
            or 0
        )
        if amount > case.paid_amount_fen - refunded:
            raise InvalidInput(
                _("A refund cannot exceed what was paid (%(left)s yuan left).")
                % {"left": f"{(case.paid_amount_fen - refunded) / 100:.2f}"},
                code="REFUND_EXCEEDS_PAYMENT",
                field=field,
            )


def make_proposal(
    *, actor, number: str, remedy: str, amount=None, note: str = "", version: int | None = None
) -> Proposal:
    if remedy not in RemedyKind.values:
        raise InvalidInput(_("Unknown remedy."), field="remedy")
    fen = _amount(amount, "amount")
    note = _clean_text(note, "note", required=False)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.CONSUMER, Party.AGENT)
        if case.status not in (workflow.AWAITING_MERCHANT, workflow.NEGOTIATING):
            raise InvalidTransition(_("Proposals are made while negotiating."), code="INVALID_TRANSITION")
        _check_remedy_amount(case, remedy, fen, "amount")
        fields = _claim(case, actor, party) + _first_response(case, party)
        if party == Party.MERCHANT:
            fields += _merchant_answered(case, actor)
        case.proposals.filter(party=party, status=Proposal.Status.OPEN).update(
            status=Proposal.Status.SUPERSEDED
        )
        proposal = Proposal.objects.create(
            case=case, party=party, proposed_by=actor, remedy=remedy, amount_fen=fen, note=note
        )
        _event(
            case,
            "proposal_made",
            actor,
            party,
            {"proposal": proposal.pk, "remedy": remedy, "amount_fen": fen},
        )
        audit.record(
            actor=actor, action="proposal_made", obj=case, after={"remedy": remedy, "amount_fen": fen}
        )
        _save(case, fields)
    return proposal


def decide_proposal(
    *, actor, number: str, proposal_id: int, accept: bool, note: str = "", version: int | None = None
) -> Proposal:
    """The other party accepts (agreement → the remedy starts) or rejects a proposal."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        proposal = case.proposals.select_for_update().filter(pk=proposal_id).first()
        if proposal is None:
            raise NotFound(_("No such proposal."), field="proposal_id")
        if proposal.status != Proposal.Status.OPEN:
            raise Conflict(_("This proposal was already decided."), code="PROPOSAL_DECIDED")
        counterparty = {
            Party.MERCHANT: (Party.CONSUMER,),
            Party.CONSUMER: (Party.MERCHANT,),
            Party.AGENT: (Party.CONSUMER, Party.MERCHANT),
        }[proposal.party]
        _require_party(party, *counterparty)
        proposal.status = Proposal.Status.ACCEPTED if accept else Proposal.Status.REJECTED
        proposal.decided_by, proposal.decided_at, proposal.decision_note = actor, timezone.now(), note[:2000]
        proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        fields = []
        if party == Party.MERCHANT:
            fields += _merchant_answered(case, actor)
        _event(
            case,
            "proposal_accepted" if accept else "proposal_rejected",
            actor,
            party,
            {"proposal": proposal.pk, "note": note},
        )
        if accept:
            fields += _move(case, "agree", actor=actor, party=party, data={"proposal": proposal.pk})
            fields += _start_remedy(
                case, kind=proposal.remedy, amount=proposal.amount_fen, source=Remedy.Source.AGREEMENT
            )
        else:
            audit.record(
                actor=actor,
                action="proposal_rejected",
                obj=case,
                after={"proposal": proposal.pk},
                reason=note,
            )
        _save(case, fields)
    return proposal


def _start_remedy(
    case: Case, *, kind: str, amount: int | None, source: str, due: datetime | None = None
) -> list[str]:
    """A remedy to carry out. A return and refund waits for the goods: its refund is due 7 days
    after the merchant receives them (暂行办法 art. 13), so it has no deadline until then."""
    due = None if kind == RemedyKind.RETURN_REFUND else (due or timezone.now() + timeouts().ruling_execution)
    Remedy.objects.create(case=case, kind=kind, amount_fen=amount, source=source, due_at=due)
    case.execution_due = due
    fields = _move(case, "start_execution", actor=None, party=Party.SYSTEM, data={"remedy": kind})
    _notify_merchant(case, "remedy_due")
    return [*fields, "execution_due"]


def execute_remedy(
    *,
    actor,
    number: str,
    remedy_id: int,
    payment_reference: str = "",
    carrier: str = "",
    tracking_number: str = "",
    repair_due: date | None = None,
    version: int | None = None,
) -> Remedy:
    """Record the remedy as done: refund to the original payment (reference kept), reshipment
    with tracking, repair with its due date, compensation. When all are done the case resolves."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.AGENT)
        remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
        if remedy is None:
            raise NotFound(_("No such remedy."), field="remedy_id")
        if remedy.status == Remedy.Status.DONE:
            raise Conflict(_("This remedy was already carried out."), code="REMEDY_DONE")
        if remedy.kind in (RemedyKind.REFUND, RemedyKind.RETURN_REFUND, RemedyKind.COMPENSATION):
            remedy.payment_reference = _clean_text(payment_reference, "payment_reference", limit=64)
            remedy.refunded_to = case.order.payment_reference if case.order_id else ""
        if remedy.kind in (RemedyKind.EXCHANGE, RemedyKind.RESHIPMENT):
            remedy.carrier = _clean_text(carrier, "carrier", limit=50)
            remedy.tracking_number = _clean_text(tracking_number, "tracking_number", limit=50)
        if remedy.kind == RemedyKind.REPAIR:
            if repair_due is None:
                raise InvalidInput(_("Give the date the repair will be done."), field="repair_due")
            if repair_due < timezone.localdate():
                raise InvalidInput(_("The repair date is in the past."), field="repair_due")
            remedy.repair_due = repair_due
        remedy.status, remedy.executed_by, remedy.executed_at = Remedy.Status.DONE, actor, timezone.now()
        remedy.save()
        _event(
            case,
            "remedy_executed",
            actor,
            party,
            {
                "remedy": remedy.kind,
                "amount_fen": remedy.amount_fen,
                "payment_reference": remedy.payment_reference,
                "refunded_to": remedy.refunded_to,
                "tracking_number": remedy.tracking_number,
            },
        )
        audit.record(
            actor=actor,
            action="remedy_executed",
            obj=case,
            after={
                "remedy": remedy.pk,
                "kind": remedy.kind,
                "amount_fen": remedy.amount_fen,
                "payment_reference": remedy.payment_reference,
            },
        )
        fields = []
        if not case.remedies.filter(status=Remedy.Status.PENDING).exists():
            fields += _resolve(case, actor=None, party=Party.SYSTEM)
        _save(case, fields)
    return remedy


def record_return_received(
    *, actor, number: str, remedy_id: int, received_at: datetime | None = None, version: int | None = None
) -> Remedy:
    """The merchant has the returned goods: the refund is now due within 7 calendar days."""
    from marketguard.complaints import eligibility

    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.AGENT)
        remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
        if remedy is None:
            raise NotFound(_("No such remedy."), field="remedy_id")
        if remedy.kind != RemedyKind.RETURN_REFUND or remedy.status != Remedy.Status.PENDING:
            raise InvalidTransition(
                _("Only a pending return and refund waits for the goods."), code="NOT_A_RETURN"
            )
        received_at = received_at or timezone.now()
        if received_at > timezone.now():
            raise InvalidInput(_("The goods cannot be received in the future."), field="received_at")
        remedy.due_at = eligibility.refund_due(received_at, tz=settings.TIME_ZONE)
        remedy.save(update_fields=["due_at"])
        case.execution_due = remedy.due_at
        _event(
            case, "return_received", actor, party, {"received_at": received_at, "refund_due": remedy.due_at}
        )
        audit.record(
            actor=actor,
            action="return_received",
            obj=case,
            after={"remedy": remedy.pk, "refund_due": remedy.due_at},
        )
        _save(case, ["execution_due"])
    return remedy


def _resolve(case: Case, *, actor, party: str, reason: str = "") -> list[str]:
    fields = _move(case, "resolve", actor=actor, party=party, reason=reason)
    case.resolved_at = timezone.now()
    case.execution_due = None
    _event(case, "rating_requested", None, Party.SYSTEM, {})
    return [*fields, "resolved_at", "execution_due"]


def resolve_case(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    """An agent resolves a complaint directly (explained, settled by phone ...), with a reason."""
    reason = _clean_text(reason, "reason", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT)
        fields = _claim(case, actor, party) + _first_response(case, party)
        if case.remedies.filter(status=Remedy.Status.PENDING).exists():
            raise InvalidTransition(_("A remedy is still to be carried out."), code="REMEDY_PENDING")
        fields += _resolve(case, actor=actor, party=party, reason=reason)
        _save(case, fields)
    return case


# --- platform intervention and ruling --------------------------------------------------------------------


def request_intervention(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    """Ask the platform to step in: after the merchant has been silent for 24 h, or when the
    negotiation failed (a proposal rejected); within 15 days."""
    reason = _clean_text(reason, "reason", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER, Party.MERCHANT, Party.AGENT)
        now = timezone.now()
        if party == Party.CONSUMER:
            silent = (
                case.merchant_responded_at is None
                and case.intervention_allowed_at
                and now >= case.intervention_allowed_at
            )
            failed = case.proposals.filter(status=Proposal.Status.REJECTED).exists()
            if not (silent or failed):
                raise InvalidTransition(
                    _(
                        "You can ask the platform to step in once the merchant has had 24 hours to answer, "
                        "or after a proposal was rejected."
                    ),
                    code="INTERVENTION_TOO_EARLY",
                )
            if case.intervention_deadline and now > case.intervention_deadline:
                raise InvalidTransition(
                    _("The 15 days to ask for intervention have passed."), code="INTERVENTION_WINDOW_CLOSED"
                )
        fields = _escalate(case, actor=actor, party=party, reason=reason)
        _save(case, fields)
    return case


def _escalate(case: Case, *, actor, party: str, reason: str) -> list[str]:
    fields = _move(case, "request_intervention", actor=actor, party=party, reason=reason)
    case.escalated_at = timezone.now()
    case.auto_approve_at = None
    arbitrators = User.objects.filter(role=Role.ARBITRATOR, is_active=True)
    _alert(arbitrators, case, "case_escalated", {"number": case.number})
    events.publish("case.escalated", aggregate=case, payload={**case_payload(case), "reason": reason})
    return [*fields, "escalated_at", "auto_approve_at"]


def start_review(*, actor, number: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.ARBITRATOR)
        fields = _move(case, "start_review", actor=actor, party=party)
        _save(case, fields)
    return case


def record_ruling(
    *,
    actor,
    number: str,
    outcome: str,
    reasons: str,
    remedy: str = "",
    amount=None,
    version: int | None = None,
) -> Ruling:
    """The arbitrator's written decision, with reasons and remedy; the merchant executes it within 24 h."""
    if outcome not in Ruling.Outcome.values:
        raise InvalidInput(_("Unknown outcome."), field="outcome")
    reasons = _clean_text(reasons, "reasons")
    if remedy and remedy not in RemedyKind.values:
        raise InvalidInput(_("Unknown remedy."), field="remedy")
    if outcome != Ruling.Outcome.MERCHANT and not remedy:
        raise InvalidInput(_("Say what the merchant must do."), field="remedy")
    fen = _amount(amount, "amount")
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.ARBITRATOR)
        if remedy:
            _check_remedy_amount(case, remedy, fen, "amount")
        now = timezone.now()
        t = timeouts()
        ruling = Ruling.objects.create(
            case=case,
            arbitrator=actor,
            outcome=outcome,
            reasons=reasons,
            remedy=remedy or "",
            amount_fen=fen,
            execute_due=now + t.ruling_execution if remedy else None,
            appeal_deadline=now + t.appeal_window,
        )
        fields = _move(
            case,
            "rule",
            actor=actor,
            party=party,
            data={"outcome": outcome, "remedy": remedy, "amount_fen": fen, "ruling": ruling.pk},
        )
        case.appeal_deadline = ruling.appeal_deadline
        fields.append("appeal_deadline")
        if remedy and outcome != Ruling.Outcome.MERCHANT:
            fields += _start_remedy(
                case, kind=remedy, amount=fen, source=Remedy.Source.RULING, due=ruling.execute_due
            )
        else:
            fields += _resolve(case, actor=None, party=Party.SYSTEM)
        events.publish(
            "case.ruled",
            aggregate=case,
            payload={**case_payload(case), "outcome": outcome, "remedy": remedy, "amount_fen": fen},
        )
        _save(case, fields)
    return ruling


def appeal_ruling(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    reason = _clean_text(reason, "reason", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER, Party.MERCHANT)
        if case.appeal_deadline is None or timezone.now() > case.appeal_deadline:
            raise InvalidTransition(_("The 7 days to appeal have passed."), code="APPEAL_WINDOW_CLOSED")
        fields = _move(case, "appeal", actor=actor, party=party, reason=reason)
        case.remedies.filter(status=Remedy.Status.PENDING).update(due_at=None)
        case.execution_due = None
        _alert(
            User.objects.filter(role=Role.ARBITRATOR, is_active=True),
            case,
            "ruling_appealed",
            {"number": case.number},
        )
        _save(case, [*fields, "execution_due"])
    return case


# --- closing ---------------------------------------------------------------------------------------------


def rate_case(*, actor, number: str, score: int, comment: str = "") -> Rating:
    """The consumer's satisfaction (1–5 and a comment); closes a resolved case."""
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput(_("Give a score from 1 to 5."), field="score")
    comment = _clean_text(comment, "comment", required=False, limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=None)
        _require_party(party, Party.CONSUMER)
        if case.status not in (workflow.RESOLVED, workflow.CLOSED):
            raise InvalidTransition(
                _("You can rate the service once the case is resolved."), code="NOT_RESOLVED"
            )
        try:
            with transaction.atomic():
                rating = Rating.objects.create(case=case, score=score, comment=comment)
        except IntegrityError:
            raise Conflict(_("This case was already rated."), code="ALREADY_RATED") from None
        _event(case, "case_rated", actor, party, {"score": score})
        audit.record(actor=actor, action="case_rated", obj=case, after={"score": score})
        fields = _close(case, actor=actor, party=party) if case.status == workflow.RESOLVED else []
        _save(case, fields)
    return rating


def _close(case: Case, *, actor, party: str) -> list[str]:
    fields = _move(case, "close", actor=actor, party=party)
    now = timezone.now()
    case.closed_at = now
    local = timezone.localdate(now)
    years = rules().retention_years
    case.retain_until = (
        local.replace(year=local.year + years)
        if not (local.month == 2 and local.day == 29)
        else local.replace(year=local.year + years, day=28)
    )
    events.publish("case.closed", aggregate=case, payload=case_payload(case))
    return [*fields, "closed_at", "retain_until"]


def withdraw_case(*, actor, number: str, reason: str = "", version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        fields = _move(case, "withdraw", actor=actor, party=party, reason=reason)
        fields += _stop_clocks(case)
        _save(case, fields)
    return case


def reject_case(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        fields = _claim(case, actor, party)
        fields += _move(case, "reject", actor=actor, party=party, reason=reason)
        fields += _first_response(case, party) + _stop_clocks(case)
        _save(case, fields)
    return case


def _stop_clocks(case: Case) -> list[str]:
    case.closed_at = timezone.now()
    case.auto_approve_at = None
    case.pauses.filter(ended_at__isnull=True).update(ended_at=case.closed_at)
    return ["closed_at", "auto_approve_at"]


def reopen_case(*, actor, number: str, reason: str, version: int | None = None) -> Case:
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        limit = (case.resolved_at or timezone.now()) + timedelta(days=rules().reopen_days)
        if timezone.now() > limit:
            raise InvalidTransition(_("This case can no longer be reopened."), code="REOPEN_WINDOW_CLOSED")
        fields = _move(case, "reopen", actor=actor, party=party, reason=reason)
        case.resolved_at = case.closed_at = None
        fields += ["resolved_at", "closed_at", *_recompute_deadlines(case)]
        _save(case, fields)
    return case


def merge_cases(*, actor, primary: str, duplicate: str) -> Case:
    """Merge a duplicate into the primary case: every message and piece of evidence is kept and
    shown on the primary; the duplicate stays readable, marked merged."""
    if primary == duplicate:
        raise InvalidInput(_("A case cannot be merged into itself."), field="duplicate")
    with transaction.atomic():
        first, second = sorted([primary, duplicate])
        locked = {c.number: c for c in Case.objects.select_for_update().filter(number__in=[first, second])}
        if len(locked) != 2:
            raise NotFound(_("No such case."), field="duplicate" if primary in locked else "primary")
        main, dup = locked[primary], locked[duplicate]
        party = party_of(actor, main)
        _require_party(party, Party.AGENT, Party.SYSTEM)
        party_of(actor, dup)
        if main.status in workflow.FINAL:
            raise InvalidTransition(_("The primary case is closed."), code="CASE_CLOSED", field="primary")
        fields = _move(dup, "merge", actor=actor, party=party, data={"into": main.number})
        dup.merged_into = main
        dup.closed_at = timezone.now()
        moved_messages = CaseMessage.objects.filter(case=dup).update(case=main)
        moved_evidence = Evidence.objects.filter(case=dup).update(case=main)
        CaseMessage.objects.create(
            case=main,
            party=Party.SYSTEM,
            channel=dup.channel,
            body=f"[{dup.number} · {dup.get_channel_display()}] {dup.title}\n{dup.description}",
        )
        dup.pauses.filter(ended_at__isnull=True).update(ended_at=dup.closed_at)
        _event(
            main,
            "case_merged_in",
            actor,
            party,
            {"from": dup.number, "messages": moved_messages, "evidence": moved_evidence},
        )
        audit.record(actor=actor, action="case_merged", obj=main, after={"merged": dup.number})
        _save(dup, [*fields, "merged_into", "closed_at"])
        _save(main, [])
    return main


# --- the sweep: SLA warnings and breaches, automatic approval, rulings not executed ------------------


@dataclass
class SweepReport:
    warnings: int = 0
    breaches: int = 0
    auto_approved: int = 0
    violations: int = 0
    closed: int = 0


TARGET_FIELDS = {
    "first_response": ("first_response_due", "first_responded_at"),
    "merchant_response": ("merchant_response_due", "merchant_responded_at"),
    "resolution": ("resolution_due", "resolved_at"),
}


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Run by the worker every minute. Idempotent (each mark, approval and violation is recorded
    once under a unique constraint) and safe with two workers: each case is handled in its own
    transaction with its row locked (SKIP LOCKED on PostgreSQL)."""
    now = now or timezone.now()
    report = SweepReport()
    horizon = now + timedelta(days=1)
    due_soon = Q(status__in=list(workflow.OPEN)) & (
        Q(first_responded_at__isnull=True, first_response_due__lte=horizon)
        | Q(status=workflow.AWAITING_MERCHANT, merchant_response_due__lte=horizon)
        | Q(resolved_at__isnull=True, resolution_due__lte=horizon)
    )
    for number in Case.objects.filter(due_soon, waiting_on_consumer_since__isnull=True).values_list(
        "number", flat=True
    ):
        _sweep_case(number, now, report)
    for number in Case.objects.filter(
        status=workflow.AWAITING_MERCHANT, kind=CaseKind.REFUND_ONLY, auto_approve_at__lte=now
    ).values_list("number", flat=True):
        _auto_approve(number, now, report)
    for number in Case.objects.filter(status=workflow.EXECUTING, execution_due__lte=now).values_list(
        "number", flat=True
    ):
        _execution_overdue(number, now, report)
    close_before = now - timedelta(days=rules().auto_close_days)
    for number in Case.objects.filter(status=workflow.RESOLVED, resolved_at__lte=close_before).values_list(
        "number", flat=True
    ):
        with transaction.atomic():
            case = _lock_for_sweep(number)
            if case is not None and case.status == workflow.RESOLVED:
                fields = _close(case, actor=None, party=Party.SYSTEM)
                _save(case, fields)
                report.closed += 1
    return report


def _lock_for_sweep(number: str) -> Case | None:
    qs = Case.objects.filter(number=number)
    from django.db import connection

    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True).first()
    return qs.select_for_update().first()


def _sweep_case(number: str, now: datetime, report: SweepReport) -> None:
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if case is None or case.status not in workflow.OPEN or case.waiting_on_consumer_since:
            return
        policy = policy_for(case)
        fields: list[str] = []
        for target, (due_field, met_field) in TARGET_FIELDS.items():
            due = getattr(case, due_field)
            if due is None or getattr(case, met_field) is not None or policy.target(target) is None:
                continue
            if target == "merchant_response" and case.status != workflow.AWAITING_MERCHANT:
                continue
            start = case.merchant_since if target == "merchant_response" else case.created_at
            clock = policy.clock(target, start, pauses=_pauses(case), business_calendar=get_calendar())
            state = clock.state(now)
            stage = {"warning": "warning", "breached": "breached"}.get(state)
            if stage is None:
                continue
            if (
                stage == "breached"
                and not SlaMark.objects.filter(case=case, target=target, stage="warning").exists()
            ):
                _mark(case, target, "warning", due, (), report)
            actions = policy.actions(target, stage)
            if _mark(case, target, stage, due, actions, report):
                fields += _apply_actions(case, target, stage, actions)
        if fields:
            _save(case, fields)


def _mark(case, target, stage, due, actions, report) -> bool:
    try:
        with transaction.atomic():
            SlaMark.objects.create(case=case, target=target, stage=stage, due_at=due, actions=list(actions))
    except IntegrityError:
        return False
    if stage == "warning":
        report.warnings += 1
    else:
        report.breaches += 1
    _event(
        case,
        f"sla_{stage}",
        None,
        Party.SYSTEM,
        {"target": target, "due": due, "actions": list(actions)},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    audit.record(
        actor=None, action=f"sla_{stage}", obj=case, after={"target": target, "actions": list(actions)}
    )
    return True


def _supervisors():
    return User.objects.filter(role=Role.ADMIN, is_active=True)


def _apply_actions(case: Case, target: str, stage: str, actions) -> list[str]:
    fields: list[str] = []
    data = {"number": case.number, "target": target, "stage": stage}
    for action in actions:
        if action == "notify":
            if target == "merchant_response":
                _notify_merchant(case, f"sla_{stage}")
            elif case.owner_id:
                _alert([case.owner], case, f"sla_{stage}", data)
            else:
                _alert(User.objects.filter(role=Role.AGENT, is_active=True), case, f"sla_{stage}", data)
        elif action == "notify_supervisor":
            _alert(_supervisors(), case, f"sla_{stage}_supervisor", data)
        elif action == "reassign":
            agent = _least_loaded_agent(exclude=case.owner_id)
            if agent is not None:
                before = case.owner_id
                case.owner, case.owner_since = agent, timezone.now()
                fields += ["owner", "owner_since"]
                _alert([agent], case, "case_reassigned", data)
                _event(
                    case,
                    "case_reassigned",
                    None,
                    Party.SYSTEM,
                    {"to": agent.get_username(), "why": target},
                    visibility=CaseEvent.Visibility.PLATFORM,
                )
                audit.record(
                    actor=None,
                    action="case_reassigned",
                    obj=case,
                    before={"owner": before},
                    after={"owner": agent.pk},
                    reason=f"SLA {target} {stage}",
                )
        elif action == "raise_priority":
            raised = triage.raise_priority(case.priority, 1)
            if raised != case.priority and case.priority != "P1":
                if raised == "P1" and not case.safety:
                    raised = "P2"
                if raised != case.priority:
                    _event(
                        case,
                        "priority_raised",
                        None,
                        Party.SYSTEM,
                        {"from": case.priority, "to": raised},
                        visibility=CaseEvent.Visibility.PLATFORM,
                    )
                    case.priority = raised
                    fields.append("priority")
        elif action == "allow_intervention":
            if case.intervention_allowed_at is None or case.intervention_allowed_at > timezone.now():
                case.intervention_allowed_at = timezone.now()
                fields.append("intervention_allowed_at")
            _event(case, "intervention_available", None, Party.SYSTEM, {})
        elif (
            action == "platform_intervention"
            and case.status in workflow.TRANSITIONS["request_intervention"].sources
        ):
            fields += _escalate(case, actor=None, party=Party.SYSTEM, reason=f"SLA {target} breached")
    return fields


def _auto_approve(number: str, now: datetime, report: SweepReport) -> None:
    """Merchant silent 72 h on a refund-only request: approved automatically, merchant recorded."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if (
            case is None
            or case.status != workflow.AWAITING_MERCHANT
            or not case.auto_approve_at
            or case.auto_approve_at > now
        ):
            return
        fields = _move(
            case,
            "auto_approve",
            actor=None,
            party=Party.SYSTEM,
            data={"after_hours": timeouts().auto_approve_refund_only.total_seconds() / 3600},
        )
        amount = case.amount_claimed_fen if case.amount_claimed_fen is not None else case.paid_amount_fen
        fields += _start_remedy(
            case, kind=RemedyKind.REFUND, amount=amount, source=Remedy.Source.AUTO_APPROVAL
        )
        case.auto_approve_at = None
        fields.append("auto_approve_at")
        _violation(case, MerchantViolation.Kind.SILENT_ON_REFUND, {"amount_fen": amount})
        report.auto_approved += 1
        _save(case, fields)


def _violation(case: Case, kind: str, details: dict) -> bool:
    try:
        with transaction.atomic():
            MerchantViolation.objects.create(
                merchant=case.merchant, case=case, kind=kind, details=jsonable(details)
            )
    except IntegrityError:
        return False
    _event(
        case,
        "merchant_violation_recorded",
        None,
        Party.SYSTEM,
        {"kind": kind},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    audit.record(actor=None, action="merchant_violation_recorded", obj=case, after={"kind": kind, **details})
    events.publish(
        "merchant.violation_recorded",
        aggregate=case,
        payload={"merchant": case.merchant.external_id, "case": case.number, "kind": kind},
    )
    return True


def _execution_overdue(number: str, now: datetime, report: SweepReport) -> None:
    """A remedy not carried out in time: escalated, and for a ruling a recorded violation."""
    with transaction.atomic():
        case = _lock_for_sweep(number)
        if (
            case is None
            or case.status != workflow.EXECUTING
            or not case.execution_due
            or case.execution_due > now
        ):
            return
        from_ruling = case.remedies.filter(status=Remedy.Status.PENDING, source=Remedy.Source.RULING).exists()
        if from_ruling and _violation(
            case, MerchantViolation.Kind.RULING_NOT_EXECUTED, {"due": case.execution_due}
        ):
            report.violations += 1
        fields = []
        if _mark(
            case, "execution", "breached", case.execution_due, ("notify_supervisor", "raise_priority"), report
        ):
            fields += _apply_actions(case, "execution", "breached", ("notify_supervisor", "raise_priority"))
            _notify_merchant(case, "remedy_overdue")
            events.publish(
                "case.escalated", aggregate=case, payload={**case_payload(case), "reason": "remedy_overdue"}
            )
        if fields:
            _save(case, fields)


# --- e-mail intake ----------------------------------------------------------------------------------------


@dataclass
class MailResult:
    action: str  # created | threaded | ignored
    case: Case | None
    reason: str = ""


def ingest_email(*, raw: bytes) -> MailResult:
    """One e-mail: a reply to a case (its number in the subject or references) threads into it;
    anything else from a known buyer opens a new complaint. Attachments become evidence."""
    from marketguard.complaints import mailparse

    mail = mailparse.parse_message(raw)
    if mail.is_auto_reply:
        return MailResult("ignored", None, "auto_reply")
    if mail.message_id and CaseMessage.objects.filter(email_message_id=mail.message_id).exists():
        return MailResult("ignored", None, "already_ingested")
    sender = mail.from_address
    if mail.case_number:
        case = Case.objects.filter(number=mail.case_number).select_related("buyer", "consumer").first()
        if case is not None:
            author, party = _mail_author(case, sender)
            if party is None:
                return MailResult("ignored", case, "sender_not_a_party")
            post_message(
                actor=author,
                number=case.number,
                body=mail.text or mail.subject,
                channel=Channel.EMAIL,
                email_message_id=mail.message_id or "",
                on_behalf_of=party,
            )
            for att in mail.attachments:
                _mail_evidence(author, case.number, att, party)
            return MailResult("threaded", case)
    user = User.objects.filter(email__iexact=sender, role=Role.CONSUMER, is_active=True).first()
    buyer = (
        Buyer.objects.filter(Q(user=user) if user else Q(email__iexact=sender)).first() if sender else None
    )
    if user is None and buyer is None:
        return MailResult("ignored", None, "unknown_sender")
    intake = submit_case(
        actor=user,
        channel=Channel.EMAIL,
        kind=CaseKind.COMPLAINT,
        title=mail.subject[:200],
        description=mail.text or mail.subject or "(empty)",
        buyer_external_id=buyer.external_id if buyer else None,
        contact_email=sender,
    )
    CaseMessage.objects.filter(case=intake.case, party=Party.SYSTEM).update(
        email_message_id=mail.message_id or ""
    )
    for att in mail.attachments:
        _mail_evidence(user, intake.case.number, att, Party.CONSUMER)
    return MailResult("created", intake.case)


def _mail_author(case: Case, sender: str) -> tuple[User | None, str | None]:
    """(account, party) of the sender of a reply; (None, None) when the sender has no part in it."""
    if not sender:
        return None, None
    consumer = case.consumer or (case.buyer.user if case.buyer_id else None)
    consumer_emails = {
        e.lower()
        for e in (
            case.contact_email,
            consumer.email if consumer else "",
            case.buyer.email if case.buyer_id else "",
        )
        if e
    }
    if sender in consumer_emails:
        return consumer, Party.CONSUMER
    staff = User.objects.filter(email__iexact=sender, is_active=True).first()
    if staff is not None and staff.role == Role.MERCHANT_STAFF and staff.merchant_id == case.merchant_id:
        return staff, Party.MERCHANT
    if staff is not None and staff.role in (Role.AGENT, Role.ARBITRATOR):
        return staff, Party.AGENT
    return None, None


def _mail_evidence(actor, number: str, attachment, party: str) -> None:
    try:
        add_evidence(
            actor=actor,
            number=number,
            filename=attachment.filename or "attachment",
            data=attachment.data,
            declared_type=attachment.content_type,
            on_behalf_of=party,
        )
    except InvalidInput as exc:
        with transaction.atomic():
            case = Case.objects.get(number=number)
            _event(
                case,
                "attachment_refused",
                None,
                Party.SYSTEM,
                {"file": attachment.filename, "reason": exc.message},
                visibility=CaseEvent.Visibility.PLATFORM,
            )


def ingest_maildir(*, path) -> list[MailResult]:
    from marketguard.complaints import mailparse

    results = []
    for key, raw in mailparse.iter_maildir(path):
        results.append(ingest_email(raw=raw))
        mailparse.mark_seen(path, key)
    return results
