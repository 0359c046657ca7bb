"""Filing a case from any channel: validation, triage, the one-time notice, duplicates, SLA deadlines, routing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.catalog.models import Buyer, Category, Order, OrderItem
from marketguard.complaints import materials, sla, triage, workflow
from marketguard.complaints.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    Channel,
    MaterialRequest,
    Party,
    ProblemType,
)
from marketguard.complaints.services.common import (
    AFTER_SALES_KINDS,
    PREFIX,
    _alert,
    _amount,
    _clean_text,
    _due,
    _event,
    _facts,
    _in_languages,
    _item_dict,
    _least_loaded_agent,
    _Pending,
    _queue_mail,
    _route_to_merchant,
    _write_pending,
    case_link,
    case_payload,
    consumer_language,
    policies,
    rules,
)
from marketguard.core import audit, events, languages, numbering
from marketguard.core.errors import InvalidInput, PermissionDenied
from marketguard.core.models import Role, User

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
        # no item named: the order's only item, if it has one; with several, the case is about
        # the order as a whole (its paid total is the limit of a claim, no product is blamed)
        items = list(OrderItem.objects.select_related("product__category").filter(order=order).order_by()[:2])
        item = items[0] if len(items) == 1 else None
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


TITLE_LENGTH = 60


def short_title(text: str) -> str:
    """A title made from the start of a text: one line, at most TITLE_LENGTH characters, with an
    ellipsis where it was cut."""
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


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
    email_message_id: str = "",
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
    contact_email = (contact_email or "").strip()
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            raise InvalidInput(_("Enter a valid e-mail address."), field="contact_email") from None
    title = " ".join(_clean_text(title, "title", required=False, limit=200).split())  # one line
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
    if consumer is None and buyer is None and not contact_email:
        # a hotline or chat case needs someone to answer to
        raise InvalidInput(
            _("Give the order, the buyer's id or an e-mail address to answer the consumer."), field="buyer"
        )
    no_reason = None
    if problem_type == ProblemType.NO_REASON_RETURN and order is not None and item is None:
        # whether the goods may be returned depends on their category: say which item it is
        raise InvalidInput(_("Choose which item of the order you want to return."), field="item")
    if problem_type == ProblemType.NO_REASON_RETURN:
        no_reason = check_no_reason_return(order=order, category=category)
        if not no_reason.eligible:
            raise InvalidInput(
                _("This order cannot be returned without a reason: %(why)s")
                % {
                    "why": "; ".join(str(NO_REASON_TEXT[r]) for r in no_reason.reasons if r in NO_REASON_TEXT)
                },
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
            title=title or short_title(description),
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
            language=languages.for_person(consumer, f"{title}\n{description}"),
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
        notice = CaseMessage.objects.create(
            case=case,
            party=Party.SYSTEM,
            channel=channel,
            body=acknowledgement_text(case, items),
            email_message_id=email_message_id[:300],
        )
        _queue_mail(
            case,
            text=f"{notice.body}\n\n{case_link(case)}",
            message=notice,
            automatic=True,
            in_reply_to=email_message_id,
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


def acknowledgement_text(case: Case, items: list[materials.Item]) -> str:
    """The one-time notice (一次性告知): everything the consumer must provide, in their language
    (Chinese then English when it is not known)."""

    def lines() -> list[str]:
        language = translation.get_language()
        return [
            _("We have received your request %(number)s. To handle it quickly, please provide:")
            % {"number": case.number},
            *(
                (_("- %(item)s (required)") if i.required else _("- %(item)s (optional)"))
                % {"item": i.label(language)}
                for i in items
            ),
            "",
        ]

    return "\n".join(_in_languages(lines, consumer_language(case))).strip()
