"""Filing a case from any channel: validation, triage, the one-time notice, duplicates, SLA deadlines, routing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from marketguard.catalog import services as catalog
from marketguard.catalog.codes import typed_external_id
from marketguard.catalog.models import Buyer, Category, Order, OrderItem
from marketguard.complaints import compensation, materials, sla, triage, workflow
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
    _claim,
    _clean_text,
    _due,
    _event,
    _facts,
    _in_languages,
    _item_dict,
    _least_loaded_agent,
    _lock,
    _Pending,
    _queue_mail,
    _raise_priority_to,
    _recompute_deadlines,
    _require_party,
    _route_to_merchant,
    _save,
    _when,
    _write_pending,
    case_link,
    case_payload,
    consumer_language,
    policies,
    rules,
    same_person,
)
from marketguard.core import audit, events, languages, numbering
from marketguard.core.errors import Conflict, FieldError, InvalidInput, InvalidTransition, PermissionDenied
from marketguard.core.models import Role, User
from marketguard.core.money import format_yuan
from marketguard.core.permissions import has_role

# --- intake -------------------------------------------------------------------------------------------


@dataclass
class Intake:
    """What intake produced, for the caller to show: the case, the checklist told at once, and
    whether a likely duplicate was found."""

    case: Case
    checklist: list[materials.Item]
    duplicate_of: Case | None


#: What a case needs of an order item: its order with the buyer and merchant, its product and category.
_ITEM_RELATED = ("order__buyer", "order__merchant", "product__category")


def _resolve_order(actor, *, order_external_id, item_external_id, buyer_external_id, buyer_phone=""):
    order = item = buyer = None
    items: list[OrderItem] = []
    if order_external_id:
        # One query in the usual case: the item named (or, none named, up to two items of the
        # order) with its order; the order alone only when that finds no item. External ids are
        # unique: the first row is the only one.
        found = OrderItem.objects.select_related(*_ITEM_RELATED).filter(order__external_id=order_external_id)
        if item_external_id:
            items = list(found.filter(external_id=item_external_id)[:1])
        else:
            items = list(found.order_by()[:2])
        if items:
            order = items[0].order
        else:
            order = _first(
                Order.objects.select_related("buyer", "merchant").filter(external_id=order_external_id)
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
        item = items[0] if items else None
        if item is None:
            raise InvalidInput(_("This item is not part of the order."), field="item")
    elif order is not None:
        # no item named: the order's only item, if it has one; with several, the case is about
        # the order as a whole (its paid total is the limit of a claim, no product is blamed)
        item = items[0] if len(items) == 1 else None
    if buyer is None and buyer_external_id:
        buyer = _first(Buyer.objects.filter(external_id=buyer_external_id))
        if buyer is None or (actor is not None and actor.role == Role.CONSUMER and buyer.user_id != actor.pk):
            # a consumer files only in their own name: another buyer is "no such buyer" to them
            raise InvalidInput(_("No such buyer."), field="buyer")
    if buyer is None and actor is not None and actor.role == Role.CONSUMER:
        buyer = _first(Buyer.objects.filter(user=actor))
    if buyer is None and buyer_phone and actor is not None and actor.role != Role.CONSUMER:
        buyer = _buyer_by_phone(actor, buyer_phone)
    return order, item, buyer


def _buyer_by_phone(actor, phone: str) -> Buyer:
    """The caller of a hotline case, found by the number they call from (staff only)."""
    found = catalog.buyers_by_phone(actor, phone)
    if not found:
        raise InvalidInput(_("No buyer has this phone number."), field="buyer_phone")
    if len(found) > 1:
        raise InvalidInput(
            _("%(n)s buyers have this phone number: give the order or the buyer's id.") % {"n": len(found)},
            code="SEVERAL_BUYERS",
            field="buyer_phone",
        )
    return found[0]


def _first(queryset):
    """The row of a lookup by a unique key, or None: `.first()` without its ORDER BY."""
    return next(iter(queryset[:1]), None)


def _duplicate_filter(case: Case, problem_type: str, now: datetime) -> Q | None:
    """A likely duplicate: an open case of the same person (:func:`same_person`), order (or none)
    and problem type filed within the rules' window. None: nobody to compare."""
    who = same_person(case)
    if who is None:
        return None
    window = now - timedelta(hours=rules().duplicate_window_hours)
    found = who & Q(created_at__gte=window, status__in=list(workflow.OPEN))
    if case.pk is not None:
        found &= ~Q(pk=case.pk)
    found &= Q(order_id=case.order_id) if case.order_id else Q(order__isnull=True)
    return found & Q(problem_type=problem_type)


def _recent_cases(case: Case, problem_type: str) -> tuple[int, Case | None]:
    """What earlier cases say about a case being filed, in one query: the repeat count (cases
    in the last 30 days by the same buyer, plus others' cases on the same product) and the likely
    duplicate (see `_duplicate_filter`), the earliest one, fetched only when there is one.

    The query reads the cases of the same buyer, product or order (a case without an order: the
    likely duplicates themselves), which any counted case is, through their indexes; each count
    keeps of them what its own whole condition says. It runs on every intake, so it is written
    as SQL: the ORM's aggregate machinery cost more than the query (the duplicate condition,
    which carries the rule of who is the same person, is still compiled by the ORM)."""
    now = timezone.now()
    since = connection.ops.adapt_datetimefield_value(now - timedelta(days=30))
    rows: list[tuple[str, list]] = []
    counts: list[tuple[str, list]] = []
    if case.buyer_id:
        rows.append(("buyer_id = %s", [case.buyer_id]))
        counts.append(("buyer_id = %s AND created_at >= %s", [case.buyer_id, since]))
    if case.product_id:
        rows.append(("product_id = %s", [case.product_id]))
        # others: cases on the product by another buyer (by a known buyer, if this one is unknown)
        others = "(buyer_id <> %s OR buyer_id IS NULL)" if case.buyer_id else "buyer_id IS NOT NULL"
        counts.append(
            (
                f"product_id = %s AND {others} AND created_at >= %s",
                [case.product_id, *([case.buyer_id] if case.buyer_id else []), since],
            )
        )
    duplicates = _duplicate_filter(case, problem_type, now)
    if duplicates is not None:
        query = Case.objects.filter(duplicates).query
        if sum(1 for n in query.alias_refcount.values() if n) > 1:  # pragma: no cover
            raise AssertionError("the duplicate condition must stay on the case table")
        dup_sql, dup_params = query.get_compiler(connection=connection).compile(query.where)
        rows.append(("order_id = %s", [case.order_id]) if case.order_id else (dup_sql, list(dup_params)))
    if not rows:
        return 0, None
    columns = [f"COUNT(*) FILTER (WHERE {cond})" for cond, _params in counts]
    params = [p for _cond, ps in counts for p in ps]
    if duplicates is not None:
        columns.append(f"COUNT(*) FILTER (WHERE {dup_sql})")
        params += list(dup_params)
    where = " OR ".join(f"({cond})" for cond, _params in rows)
    params += [p for _cond, ps in rows for p in ps]
    table = connection.ops.quote_name(Case._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)  # noqa: S608
        found = [n or 0 for n in cursor.fetchone()]
    duplicate = None
    if duplicates is not None and found.pop():
        duplicate = Case.objects.filter(duplicates).order_by("created_at").first()
    return sum(found), duplicate


#: The width of a title made from the text, in columns: a Chinese character takes two.
TITLE_LENGTH = 60
#: where a first sentence ends: Chinese full stops anywhere; a Latin one before a capital letter
#: or a Chinese character ("Order no. 12345" and "the U.S. version" do not end there)
_SENTENCE_END = re.compile(r"[。！？；]|[.!?;](?=\s+[A-Z\u4e00-\u9fff]|\s*$)|[!?;](?=\s)")


def _triage_rules() -> dict:
    """The platform's triage rules as `triage.prioritise` takes them (none: its defaults)."""
    return {"rules": triage.TriageRules.from_dict(rules().triage)} if rules().triage else {}


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def short_title(text: str) -> str:
    """A title made from the start of a text: its first sentence on one line, at most
    TITLE_LENGTH columns wide (a Chinese character counts two, so a phone shows it on one or two
    lines), with an ellipsis where it was cut."""
    line = " ".join(text.split())
    end = _SENTENCE_END.search(line)
    if end and end.start() >= 4:  # "Hi." is no title
        line = line[: end.start()]
    out, used = [], 0
    for ch in line:
        if used + _width(ch) > TITLE_LENGTH:
            while used + 1 > TITLE_LENGTH and out:  # room for the ellipsis
                used -= _width(out.pop())
            return "".join(out).rstrip(" ,，、") + "…"
        used += _width(ch)
        out.append(ch)
    return line


def _intake_language(actor, consumer, buyer, channel: str, text: str) -> str:
    """The language a new case writes to the consumer in: their account's choice, else the
    language of their own words. On a call the text is the agent's notes, not the consumer's
    words: then the language of the buyer's last case, else '' (both languages)."""
    chosen = languages.preferred(consumer)
    if chosen:
        return chosen
    if channel == Channel.HOTLINE and (actor is None or actor.role != Role.CONSUMER):
        if buyer is None:
            return ""
        last = Case.objects.filter(buyer=buyer).exclude(language="").order_by("-created_at", "-pk")
        return last.values_list("language", flat=True).first() or ""
    return languages.written_in(text)


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
    buyer_phone: str = "",
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
        # as typed or pasted: full-width characters and spaces are no part of an id
        order_external_id=typed_external_id(order_external_id) or None,
        item_external_id=typed_external_id(item_external_id) or None,
        buyer_external_id=typed_external_id(buyer_external_id) or None,
        buyer_phone=(buyer_phone or "").strip(),
    )
    if kind in AFTER_SALES_KINDS and order is None:
        raise InvalidInput(_("After-sales requests need the order."), field="order")
    paid = (
        item.paid_amount_fen if item is not None else (order.paid_amount_fen if order is not None else None)
    )
    if amount is not None and paid is not None and amount > paid and kind != CaseKind.COMPENSATION:
        raise InvalidInput(
            _("You cannot claim more than you paid (%(paid)s).") % {"paid": format_yuan(paid)},
            field="amount_claimed",
        )
    product = item.product if item is not None else None
    category = product.category if product is not None else None
    consumer = actor if actor is not None and actor.role == Role.CONSUMER else (buyer.user if buyer else None)
    if consumer is None and buyer is None and not contact_email:
        # a hotline or chat case needs someone to answer to
        raise InvalidInput(
            _("Give the order, the buyer's id or phone number, or an e-mail address to answer the consumer."),
            field="buyer",
        )
    no_reason = None
    if problem_type == ProblemType.NO_REASON_RETURN and kind == CaseKind.REFUND_ONLY:
        # the law's no-reason return is a return: the refund follows the goods back
        raise InvalidInput(
            _("A 7-day no-reason return sends the goods back: choose return and refund."),
            code="NO_REASON_RETURN_SENDS_GOODS_BACK",
            field="kind",
        )
    if problem_type == ProblemType.NO_REASON_RETURN and order is not None and item is None:
        # whether the goods may be returned depends on their category: say which item it is
        raise InvalidInput(_("Choose which item of the order you want to return."), field="item")
    if problem_type == ProblemType.NO_REASON_RETURN:
        no_reason = check_no_reason_return(order=order, category=category, item=item)
        if not no_reason.eligible:
            raise InvalidInput(
                _("This order cannot be returned without a reason: %(why)s.")
                % {
                    "why": languages.join_clauses(
                        NO_REASON_TEXT[r] for r in no_reason.reasons if r in NO_REASON_TEXT
                    )
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
            language=_intake_language(actor, consumer, buyer, channel, f"{title}\n{description}"),
            problem_type=ProblemType.OTHER,
            priority="P3",
            created_at=now,
        )
        # Everything is decided before the one INSERT of the case; timeline events, alerts and
        # audit records collected meanwhile are written after it, one statement per table.
        case._pending = _Pending()
        case._no_pauses = True  # a case being filed has no pause rows yet: spare the lookups
        # triage in two halves: the problem type decides which earlier case is a likely
        # duplicate, so the repeat count (for the priority) and the duplicate come in one query
        assessment = triage.assess(
            f"{title}\n{description}",
            kind=kind,
            problem_type=ProblemType.SAFETY if safety_confirmed else (problem_type or None),
        )
        food = rules().is_food(category)
        limit = compensation.claim_ceiling(paid, safety=assessment.safety, food=food)
        if kind == CaseKind.COMPENSATION and amount is not None and limit is not None and amount > limit:
            # a claim is not decided here; a mistyped one (19900 for 199.00) is stopped
            raise InvalidInput(
                (
                    _(
                        "Without anyone hurt, compensation can be at most %(limit)s (ten times the price, "
                        "at least 1,000 yuan). If someone was hurt, say so in the description."
                    )
                    if food
                    else _(
                        "Without anyone hurt, compensation can be at most %(limit)s (three times the price, "
                        "at least 500 yuan). If someone was hurt, say so in the description."
                    )
                )
                % {"limit": format_yuan(limit)},
                code="COMPENSATION_EXCEEDS_LIMIT",
                field="amount_claimed",
            )
        repeat_count, duplicate = _recent_cases(case, assessment.problem_type)
        result = triage.prioritise(
            assessment,
            amount_fen=amount or paid,
            category_risk=category.risk_level if category else None,
            repeat_count=repeat_count,
            channel=channel,
            **_triage_rules(),
        )
        case.problem_type = result.problem_type
        case.priority = result.priority
        case.safety = result.safety
        case.triage = result.to_dict()
        if no_reason is None and case.problem_type == ProblemType.NO_REASON_RETURN and item is not None:
            # read from the text, not chosen: the check is recorded for the agent and the merchant
            # (the consumer is not refused for a type they did not pick)
            no_reason = check_no_reason_return(order=order, category=category, item=item)
            case.triage["reasons"].append(
                {"code": "NO_REASON_NOT_ELIGIBLE", "params": {"why": list(no_reason.reasons)}}
                if not no_reason.eligible
                else {
                    "code": "NO_REASON_ELIGIBLE",
                    "params": {"deadline": no_reason.last_day.isoformat() if no_reason.last_day else ""},
                }
            )
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
        if duplicate is not None:
            _suspect_duplicate(case, duplicate)
        if actor is not None and actor.role == Role.AGENT:
            _claim(case, actor, Party.AGENT)  # 首问负责制: the agent who took the call or chat owns it
            if channel in (Channel.HOTLINE, Channel.CHAT):
                case.first_responded_at = now  # the consumer was answered on the call itself
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


#: Why a field is refused to someone writing for themselves (the web form offers these to staff
#: only): a transcript's channel, a buyer looked up by phone, an address to write to.
STAFF_ONLY_TEXT = {
    "channel": gettext_lazy(
        "Only platform staff record what came by hotline, online chat or e-mail: use web, app or api."
    ),
    "buyer_phone": gettext_lazy("Only platform staff look a buyer up by phone number."),
    "contact_email": gettext_lazy(
        "Only platform staff give a contact e-mail address: we write to the address of your account."
    ),
}


def refuse_staff_fields(actor, given: list[str]) -> None:
    """The staff-only fields `given`, refused (403, each named) unless the actor is an agent or an
    admin. (The services themselves accept them from the mail intake and the assistant's hand-off,
    which write as the consumer on e-mail and chat.)"""
    if not given or has_role(actor, Role.AGENT, Role.ADMIN):
        return
    errors = [FieldError(field=f, message=str(STAFF_ONLY_TEXT[f]), code="staff_only") for f in given]
    raise PermissionDenied(errors[0].message, code="STAFF_ONLY", errors=errors)


def _suspect_duplicate(case: Case, duplicate: Case) -> list[str]:
    """Point the platform to a likely duplicate (the agent decides whether to merge)."""
    case.possible_duplicate_of = duplicate
    _event(
        case,
        "duplicate_suspected",
        None,
        Party.SYSTEM,
        {"of": duplicate.number},
        visibility=CaseEvent.Visibility.PLATFORM,
    )
    return ["possible_duplicate_of"]


# --- an order found after filing -------------------------------------------------------------------


def link_order(
    *,
    actor,
    number: str,
    order_external_id: str,
    item_external_id: str | None = None,
    address_confirmed: str = "",
    version: int | None = None,
) -> Case:
    """Link a case filed without its order (an e-mail, a call) to the order, once the consumer
    has named it: the case then names the item, product, merchant, category and price paid, can
    be sent to the merchant, and a likely duplicate about the same order is pointed out. By the
    platform, or by the consumer (their own orders). The order must be the consumer's of the
    case; a case that names nobody takes the order's buyer (the agent's judgement, audited).
    A case known only by the address it came from needs a buyer with that address, unless the
    agent says how they confirmed the buyer wrote it (`address_confirmed`, recorded).
    Once: a linked order is not changed."""
    address_confirmed = _clean_text(address_confirmed, "address_confirmed", required=False, limit=500)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT, Party.ARBITRATOR, Party.CONSUMER)
        if case.status not in workflow.OPEN:  # resolved too: no merchant is brought into a case done
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        if case.order_id is not None:
            raise Conflict(
                _("This case is already about order %(order)s.") % {"order": case.order.external_id},
                code="ORDER_LINKED",
                field="order",
            )
        order_external_id = typed_external_id(order_external_id)
        if not order_external_id:
            raise InvalidInput(_("Give the order number."), field="order")
        order, item, buyer = _resolve_order(
            actor if party == Party.CONSUMER else None,
            order_external_id=order_external_id,
            item_external_id=typed_external_id(item_external_id) or None,
            buyer_external_id=None,
        )
        named = case.buyer_id is not None or case.consumer_id is not None
        if named and not (
            buyer.pk == case.buyer_id or (case.consumer_id and buyer.user_id == case.consumer_id)
        ):
            raise InvalidInput(_("This order does not belong to this case's consumer."), field="order")
        if not named and case.contact_email:
            # a case known only by the address it came from: the order's buyer must write from it
            # too (else a mistyped order number would show the case to a stranger)
            theirs = {
                (a or "").strip().lower() for a in (buyer.email, buyer.user.email if buyer.user else "")
            }
            if case.contact_email.strip().lower() not in theirs and theirs - {""}:
                if party == Party.CONSUMER or not address_confirmed:
                    raise InvalidInput(
                        _(
                            "This order's buyer has another e-mail address than the one this case "
                            "came from: say how you confirmed the buyer wrote it."
                        ),
                        code="BUYER_ADDRESS_DIFFERS",
                        field="order",
                    )
            else:
                address_confirmed = ""  # nothing to confirm: not recorded as if it had been
        else:
            address_confirmed = ""
        fields = _claim(case, actor, party)
        buyer_known = case.buyer_id is not None  # (then this case counts among the buyer's cases)
        case.order, case.order_item, case.merchant = order, item, order.merchant
        case.product = item.product if item is not None else None
        case.category = case.product.category if case.product is not None else None
        case.paid_amount_fen = item.paid_amount_fen if item is not None else order.paid_amount_fen
        fields += ["order", "order_item", "merchant", "product", "category", "paid_amount_fen"]
        if case.buyer_id is None:
            case.buyer = buyer
            fields.append("buyer")
        if case.consumer_id is None and buyer.user_id is not None:
            case.consumer_id = buyer.user_id
            fields.append("consumer")
        linked = {"order": order.external_id, "item": item.external_id if item is not None else ""}
        confirmed = {"address_confirmed": address_confirmed} if address_confirmed else {}
        _event(case, "order_linked", actor, party, {**linked, **confirmed})
        audit.record(
            actor=actor,
            action="order_linked",
            obj=case,
            before={"order": None, "buyer": None if "buyer" in fields else buyer.external_id},
            after={**linked, "merchant": order.merchant.external_id, "buyer": buyer.external_id, **confirmed},
        )
        repeat_count, duplicate = _recent_cases(case, case.problem_type)
        if duplicate is not None and case.possible_duplicate_of_id is None:
            fields += _suspect_duplicate(case, duplicate)
        # the price, the category's risk and the buyer's other cases, known now, may make it
        # more urgent (never less)
        claimed = case.amount_claimed_fen
        if claimed is not None and case.kind != CaseKind.COMPENSATION:
            claimed = min(claimed, case.paid_amount_fen)  # (a claim beyond the price is never refunded)
        result = triage.prioritise(
            triage.assess(
                f"{case.title}\n{case.description}", kind=case.kind, problem_type=case.problem_type
            ),
            amount_fen=claimed if claimed is not None else case.paid_amount_fen,
            category_risk=case.category.risk_level if case.category else None,
            repeat_count=max(repeat_count - 1, 0) if buyer_known else repeat_count,
            channel=case.channel,
            **_triage_rules(),
        )
        fields += _raise_priority_to(case, result.priority, reason="order_linked")
        # the category and priority now known may call for another SLA policy: its deadlines,
        # counted from filing as if it had been known then
        policy = sla.match_policy(policies(), _facts(case)).name
        if policy != case.sla_policy:
            _event(
                case,
                "sla_policy_changed",
                None,
                Party.SYSTEM,
                {"from": case.sla_policy, "to": policy, "reason": "order_linked"},
                visibility=CaseEvent.Visibility.PLATFORM,
            )
            case.sla_policy = policy
            fields += ["sla_policy", *_recompute_deadlines(case)]
        _save(case, fields)
    return case


def check_no_reason_return(
    *,
    order: Order | None,
    category: Category | None,
    item: OrderItem | None = None,
    now: datetime | None = None,
):
    """7-day no-reason return (Consumer Rights Protection Law art. 25; 暂行办法 art. 6, 7, 10):
    counted in calendar days from the day after the goods were signed for (the item's own parcel
    when the order came in several; else the last parcel of the order); excluded categories are
    data, and goods of a "confirm at purchase" category are excluded when the buyer confirmed."""
    from marketguard.complaints import eligibility

    now = now or timezone.now()
    signed = None
    if order is not None:
        parcels = list(order.shipments.all())
        if item is not None and any(p.carries(item) for p in parcels):
            parcels = [p for p in parcels if p.carries(item)]
        signed = max((p.signed_at for p in parcels if p.signed_at), default=None) or max(
            (p.delivered_at for p in parcels if p.delivered_at), default=None
        )
    if signed is None:
        return eligibility.Eligibility(eligible=False, deadline=now, reasons=["NO_DELIVERY"])
    return eligibility.no_reason_return(
        signed_at=signed,
        requested_at=now,
        tz=settings.TIME_ZONE,
        category_rule=category.no_reason_return if category is not None else "eligible",
        confirmed_excluded_at_purchase=item is not None and item.no_reason_excluded_confirmed,
    )


def _safety_response(case: Case) -> list[str]:
    """Personal safety: top priority, an agent assigned at once (unless the agent who took the call
    owns it already), quality inspectors alerted."""
    fields = []
    agent = _least_loaded_agent() if case.owner_id is None else None
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


def next_steps(case: Case) -> list[str]:
    """What happens next and by when, one sentence each, in the active language (shown on the
    case page the consumer lands on after filing; the acknowledgement lists the same). Dates
    keep together on a narrow screen (non-breaking hyphens)."""
    stop = pgettext("end of a sentence", ".")
    out = []
    for line in _next_steps(case)[2:]:
        text = line.removeprefix("- ").rstrip(";；.。")
        text = re.sub(r"(?<=\d)-(?=\d)", "\u2011", text[:1].upper() + text[1:])
        out.append(text + stop)
    return out


def _next_steps(case: Case) -> list[str]:
    """What happens next and by when (一次性告知 names the process and its time limits too)."""
    steps = [_("What happens next:")]
    if case.merchant_since is not None:
        if case.merchant_response_due:
            steps.append(
                _("- the merchant answers by %(date)s;") % {"date": _when(case.merchant_response_due)}
            )
        if case.intervention_allowed_at:
            steps.append(
                _("- without an agreement, you may ask the platform to step in from %(date)s;")
                % {"date": _when(case.intervention_allowed_at)}
            )
        if case.auto_approve_at:
            steps.append(
                _("- if the merchant does not answer by %(date)s, your refund is approved automatically;")
                % {"date": _when(case.auto_approve_at)}
            )
    elif case.first_response_due:
        steps.append(_("- our service team answers by %(date)s;") % {"date": _when(case.first_response_due)})
    if case.resolution_due:
        steps.append(_("- we aim to resolve it by %(date)s.") % {"date": _when(case.resolution_due)})
    return ["", *steps] if len(steps) > 1 else []


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
            *_next_steps(case),
            "",
        ]

    return "\n".join(_in_languages(lines, consumer_language(case))).strip()
