"""Working a case: acknowledgement, ownership and handover, messages, requests for materials, evidence, negotiation and remedies."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from marketguard.catalog.models import Order, OrderStatus
from marketguard.complaints import compensation, materials, workflow
from marketguard.complaints import postage as postage_rules
from marketguard.complaints.models import (
    Case,
    CaseEvent,
    CaseMessage,
    CasePause,
    Channel,
    CompensationBasis,
    Evidence,
    MaterialRequest,
    Party,
    Proposal,
    Remedy,
    RemedyKind,
)
from marketguard.complaints.services.common import (
    _alert,
    _all_checked,
    _amount,
    _claim,
    _clean_text,
    _clean_texts,
    _event,
    _first_response,
    _in_languages,
    _item_dict,
    _lock,
    _move,
    _notify_merchant,
    _queue_mail,
    _recompute_deadlines,
    _remedy_text,
    _require_party,
    _route_to_merchant,
    _save,
    _tell_consumer,
    _tell_the_others,
    _to_platform,
    _when,
    case_link,
    consumer_language,
    rules,
    settling,
    timeouts,
)
from marketguard.core import audit, languages
from marketguard.core.calendars import get_calendar
from marketguard.core.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from marketguard.core.models import Role, User
from marketguard.core.money import format_yuan

#: Why a case's clocks stand still: the consumer owes materials, or returned goods travel back
#: (see :func:`request_materials` and :func:`_start_remedy`).
MATERIALS_PAUSE = "materials"
RETURN_PAUSE = "return"

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
    errors = (
        []
        if (to_username or "").strip()
        else [
            FieldError(
                field="to_username",
                message=_("Choose the agent who takes the case over."),
                code="invalid_input",
            )
        ]
    )
    try:
        reason = _clean_text(reason, "reason", limit=500)
    except InvalidInput as exc:  # both said at once when both are missing
        errors += exc.errors
    if errors:
        raise InvalidInput(errors[0].message, errors=errors)
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
    material_code: str = "",
) -> CaseMessage:
    """A message in the negotiation. The merchant's first answer moves the case to negotiating;
    a consumer's answer ends a wait for materials (the SLA clocks run again). A consumer's
    message may answer an item of the materials list that is told in words (what happened, that
    the product is kept...): `material_code` ticks it."""
    body = _clean_text(body, "body")
    material_code = (material_code or "").strip()
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
        if material_code and party != Party.CONSUMER:
            raise PermissionDenied(
                _("Only the consumer's messages answer the materials list."),
                code="NOT_YOUR_MOVE",
                field="material_code",
            )
        if material_code and material_code not in answerable_materials(case):
            raise InvalidInput(
                _("Not an item of this case's list told in words: %(codes)s") % {"codes": material_code[:40]},
                field="material_code",
            )
        fields = _claim(case, actor, party)
        message, more = _add_message(
            case,
            actor,
            party,
            body,
            internal=internal,
            channel=channel,
            email_message_id=email_message_id,
            material_code=material_code,
        )
        _save(case, fields + more)
    return message


def answerable_materials(case: Case) -> list[str]:
    """The items of the case's materials list (told at intake or asked since) that the consumer
    answers in words, by a message: not a file, nor what comes later (the return's tracking
    number, recorded with the return)."""
    asked = list(case.materials_notified or [])
    for items in case.material_requests.filter(party=Party.CONSUMER).values_list("items", flat=True):
        asked += [i.get("code") for i in items or [] if isinstance(i, dict)]
    catalogue = materials.catalogue()
    return [
        code
        for code in dict.fromkeys(asked)
        if code in catalogue and "text" in catalogue[code].accepts and code not in materials.LATER
    ]


def _add_message(
    case: Case,
    actor,
    party: str,
    body: str,
    *,
    internal: bool = False,
    channel: str,
    email_message_id: str = "",
    material_code: str = "",
) -> tuple[CaseMessage, list[str]]:
    """A message of `party` on the locked case, with what it sets going: the first response, the
    merchant's answer, the end of a wait for the consumer, the mail and alerts to the others."""
    message = CaseMessage.objects.create(
        case=case,
        author=actor,
        party=party,
        body=body,
        internal=internal,
        channel=channel,
        email_message_id=email_message_id[:300],
    )
    fields = []
    if not internal:
        fields += _first_response(case, party)
    if party == Party.MERCHANT:
        fields += _merchant_answered(case, actor)
        _merchant_sent(case)
    if party == Party.CONSUMER and case.waiting_on_consumer_since:
        fields += _end_pause(case)
    if not internal and party in (Party.MERCHANT, Party.AGENT, Party.ARBITRATOR):
        _queue_mail(case, text=_reply_text(case, message), subject=f"Re: {case.title}", message=message)
    if not internal and party in (Party.CONSUMER, Party.MERCHANT, Party.AGENT, Party.ARBITRATOR):
        side = {Party.CONSUMER: "consumer", Party.MERCHANT: "merchant"}.get(party, "platform")
        _tell_the_others(case, party, f"{side}_wrote")
    _event(
        case,
        "message_posted",
        actor,
        party,
        {
            "message": message.pk,
            "internal": internal,
            **({"material": material_code} if material_code else {}),
        },
        visibility=CaseEvent.Visibility.PLATFORM if internal else CaseEvent.Visibility.PARTIES,
    )
    return message, fields


#: refusals an agent may overrule: the sender is the consumer's address, only not confirmed
ADDABLE_MAIL = ("not_an_answer", "unverified_sender")


def add_refused_mail(*, actor, number: str, event_id: int, version: int | None = None) -> CaseMessage:
    """An agent (or arbitrator) who read an e-mail refused for not answering our mail, or for a
    sender our mail server did not confirm, and judged it the consumer's, adds it to the case as
    the consumer's message (its text as received) with its files as the consumer's evidence
    (checked like any upload; those no longer held are named). Once per e-mail."""
    from marketguard.complaints import held_mail

    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT, Party.ARBITRATOR)
        if case.status in workflow.FINAL:
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        event = case.events.filter(pk=event_id, type="mail_refused").first()
        data = event.data if event is not None else {}
        if event is None or data.get("code") not in ADDABLE_MAIL:
            raise NotFound(_("No such refused e-mail on this case."), field="event_id")
        mid = (data.get("message_id") or "")[:300]
        if case.events.filter(type="mail_added", data__event=event.pk).exists() or (
            mid and CaseMessage.objects.filter(email_message_id=mid).exists()
        ):
            raise Conflict(_("This e-mail was already added to the case."), code="MAIL_ADDED")
        fields = _claim(case, actor, party)
        message, more = _add_message(
            case,
            None,
            Party.CONSUMER,
            data.get("text") or "-",
            channel=Channel.EMAIL,
            email_message_id=data.get("message_id", ""),
        )
        files, gone = _held_files(case, data.get("held") or [])
        _event(
            case,
            "mail_added",
            actor,
            party,
            {
                "event": event.pk,
                "message": message.pk,
                "received_at": event.at.isoformat(),
                "files": len(files),
                "files_not_kept": gone,
            },
            visibility=CaseEvent.Visibility.PLATFORM,
        )
        audit.record(
            actor=actor,
            action="mail_added",
            obj=case,
            after={
                "message": message.pk,
                "from": data.get("from", ""),
                "message_id": data.get("message_id", ""),
                "evidence": [e.blob.sha256 for e in files],
            },
            reason="judged_the_consumers",
        )
        _save(case, fields + more)
        paths = [h.get("path", "") for h in data.get("held") or []]
        transaction.on_commit(lambda: held_mail.discard(paths), robust=True)
    return message


def _held_files(case: Case, held: list[dict]) -> tuple[list[Evidence], list[str]]:
    """The held files of a refused e-mail stored as the consumer's evidence; and the names of
    those no longer held (not kept, or discarded after the time kept)."""
    from marketguard.complaints import held_mail

    files, gone = [], []
    for entry in held:
        data = held_mail.read(entry.get("path", ""))
        if data is None:
            gone.append(entry.get("name", ""))
            continue
        try:
            with transaction.atomic():
                files.append(
                    _store_evidence(
                        case,
                        None,
                        Party.CONSUMER,
                        filename=entry.get("name") or "attachment",
                        data=data,
                        declared_type=entry.get("type") or None,
                        material_code="",
                        internal=False,
                    )
                )
        except InvalidInput as exc:
            attachment_refused(case, entry.get("name", ""), exc.message)
    return files, gone


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


def _decision_made(case: Case) -> list[str]:
    """The merchant proposed a solution or rejected the consumer's: the consumer's 15 days to ask
    the platform to step in count from this decision (never shortened, never reopened once over)."""
    now = timezone.now()
    until = now + timeouts().intervention_window
    if case.intervention_deadline is not None and (
        case.intervention_deadline >= until or case.intervention_deadline < now
    ):
        return []
    case.intervention_deadline = until
    return ["intervention_deadline"]


def _end_pause(case: Case, *, answered: bool = True) -> list[str]:
    """The consumer answered (or, `answered` False, the platform stopped waiting): the clocks run
    again, and the merchant's own timers (automatic approval, the consumer's right to ask for
    intervention and its 15 days) are moved on by the time the platform waited on the consumer."""
    now = timezone.now()
    # the materials pause only: returned goods may still be on their way
    case.pauses.filter(ended_at__isnull=True).exclude(reason=RETURN_PAUSE).update(ended_at=now)
    since = case.waiting_on_consumer_since
    moved = []
    if since is not None:
        for name in ("auto_approve_at", "intervention_allowed_at", "intervention_deadline"):
            at = getattr(case, name)
            if at is not None and at > since:
                setattr(case, name, at + (now - since))
                moved.append(name)
    case.waiting_on_consumer_since = None
    MaterialRequest.objects.filter(
        case=case, party=Party.CONSUMER, fulfilled_at__isnull=True, lapsed_at__isnull=True
    ).update(fulfilled_at=now)
    if answered:  # (otherwise the caller's own event says why the clocks run again)
        _event(case, "clock_resumed", None, Party.SYSTEM, {})
    return ["waiting_on_consumer_since", *moved, *_recompute_deadlines(case)]


def _merchant_sent(case: Case) -> None:
    """The merchant wrote or sent a file: what the platform asked of it is answered."""
    case.material_requests.filter(
        party=Party.MERCHANT, fulfilled_at__isnull=True, lapsed_at__isnull=True
    ).update(fulfilled_at=timezone.now())


def ask_merchant(*, actor, number: str, what: str, version: int | None = None) -> Case:
    """While the platform decides, ask the merchant for evidence (what is needed, in words): due
    in 4 business hours like the consumer's (JD dispute rules), answered by the merchant's next
    message or file; after that the platform decides on what it has."""
    what = _clean_text(what, "what", limit=2000)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.AGENT, Party.ARBITRATOR)
        if case.status not in (workflow.ESCALATED, workflow.PLATFORM_REVIEW) or not case.merchant_id:
            raise InvalidTransition(
                _("The merchant is asked for evidence while the platform decides the case."),
                code="INVALID_TRANSITION",
            )
        fields = _claim(case, actor, party)
        due = timeouts().due("extra_evidence", timezone.now(), business_calendar=get_calendar())
        MaterialRequest.objects.create(
            case=case, party=Party.MERCHANT, items=[], reason=what, requested_by=actor, due_at=due
        )
        _event(
            case,
            "materials_requested",
            actor,
            party,
            {"of": Party.MERCHANT, "items": [], "reason": what, "due": due.isoformat()},
        )
        _notify_merchant(case, "evidence_requested")
        audit.record(
            actor=actor, action="merchant_asked_for_evidence", obj=case, after={"due": due}, reason=what
        )
        _save(case, fields)
    return case


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
        all_codes = materials.catalogue(case.problem_type, case.kind)

        def check_items():
            if not items:
                raise InvalidInput(_("Choose at least one item to ask for."), field="items")
            unknown = [code for code in items if code not in all_codes]
            if unknown:
                raise InvalidInput(
                    _("Unknown material: %(codes)s") % {"codes": ", ".join(unknown)}, field="items"
                )

        def check_reason():
            # everything needed was listed at intake (一次性告知): asking again says why
            if case.material_requests.filter(party=Party.CONSUMER).exists() and not (reason or "").strip():
                raise InvalidInput(
                    _("Say why it is asked again: the consumer reads it."),
                    code="REASON_REQUIRED",
                    field="reason",
                )

        _all_checked(check_items, check_reason)  # both refused at once
        fields = _claim(case, actor, party) + _first_response(case, party)
        due = None
        if case.status in (workflow.ESCALATED, workflow.PLATFORM_REVIEW):
            # the platform deciding: due in 4 business hours, then it decides on what it has
            due = timeouts().due("extra_evidence", timezone.now(), business_calendar=get_calendar())
        MaterialRequest.objects.create(
            case=case,
            items=[_item_dict(all_codes[c]) for c in items],
            reason=reason,
            requested_by=actor,
            due_at=due,
        )
        if case.waiting_on_consumer_since is None:
            now = timezone.now()
            case.waiting_on_consumer_since = now
            CasePause.objects.create(case=case, started_at=now, reason=MATERIALS_PAUSE)
            fields.append("waiting_on_consumer_since")
        _event(
            case,
            "materials_requested",
            actor,
            party,
            {"items": items, "reason": reason, **({"due": due.isoformat()} if due else {})},
        )
        asked = [all_codes[c] for c in items]

        def asking():
            names = languages.join_items(i.label(translation.get_language()) for i in asked)
            lines = [_("Please send us: %(items)s.") % {"items": names}]
            if (reason or "").strip():
                lines.append(_("Why we ask: %(reason)s") % {"reason": reason.strip()})
            if due is None:
                lines.append(
                    _(
                        "Your case waits for them: reply to this e-mail with them attached, or add them on the case page."
                    )
                )
            else:
                lines.append(
                    _(
                        "Please send them by %(due)s, by replying to this e-mail with them attached or on the "
                        "case page: after that the platform decides on the evidence it has."
                    )
                    % {"due": _when(due)}
                )
            return lines

        _tell_consumer(case, asking)
        if case.consumer_id:
            _alert([case.consumer], case, "materials_requested", {"number": case.number})
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
    version: int | None = None,
    with_intake: bool = False,
):
    """Store a file once (by SHA-256), check its type by content, make a thumbnail for images.
    `with_intake`: the files sent with the form that filed the case (the agent recording a call
    does not become its owner by them, nor is refused when a safety case went to another agent)."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        if actor is None and on_behalf_of in (Party.CONSUMER, Party.MERCHANT):
            party = on_behalf_of
        if party == "observer":
            raise PermissionDenied(_("You may read this case but not write in it."), code="READ_ONLY")
        if case.status in workflow.FINAL:
            raise InvalidTransition(_("This case is closed."), code="CASE_CLOSED")
        if internal and party not in (Party.AGENT, Party.ARBITRATOR):
            raise PermissionDenied(_("Only the platform adds internal evidence."), code="NOT_YOUR_MOVE")
        fields = [] if with_intake and _filed_just_now_by(case, actor) else _claim(case, actor, party)
        evidence = _store_evidence(
            case,
            actor,
            party,
            filename=filename,
            data=data,
            declared_type=declared_type,
            material_code=material_code,
            internal=internal,
        )
        if party == Party.CONSUMER and case.waiting_on_consumer_since:
            fields += _end_pause(case)
        if party == Party.MERCHANT:
            _merchant_sent(case)
        _save(case, fields)
    return evidence


def _store_evidence(case: Case, actor, party: str, **file) -> Evidence:
    """A file stored on the case (checked by content, once by SHA-256), on its timeline and in
    the audit trail. InvalidInput when the file is refused: nothing written."""
    from marketguard.complaints import evidence_store

    evidence = evidence_store.store(case=case, actor=actor, party=party, **file)
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
    return evidence


def attachment_refused(case: Case, filename: str, reason: str) -> None:
    """A file sent by e-mail that was not stored (its type, its size...): the platform sees why."""
    _event(
        case,
        "attachment_refused",
        None,
        Party.SYSTEM,
        {"file": filename, "reason": str(reason)},
        visibility=CaseEvent.Visibility.PLATFORM,
    )


# --- negotiation ---------------------------------------------------------------------------------------


REFUNDS = (RemedyKind.REFUND, RemedyKind.RETURN_REFUND)
#: remedies that are an amount of money (given with every one of them)
MONEY_REMEDIES = (*REFUNDS, RemedyKind.COMPENSATION)


def _refunded(purchase: Q) -> int:
    """Refunds (fen) done or to do on the cases matching `purchase` (lapsed and replaced ones
    were never paid)."""
    return (
        Remedy.objects.filter(purchase, kind__in=REFUNDS)
        .exclude(status__in=[Remedy.Status.LAPSED, Remedy.Status.SUPERSEDED])
        .aggregate(s=Sum("amount_fen"))["s"]
        or 0
    )


def refundable_left(case: Case) -> int | None:
    """What may still be refunded for this case's purchase (fen): what was paid less the refunds
    on every case about it, so a second case on goods refunded already refunds nothing more. An
    item's case is held to the item and to its order (a whole-order case refunds items too); an
    order the marketplace reports refunded has nothing left. None when the payment is not known."""
    if case.paid_amount_fen is None:
        return None
    if case.order_id is None:
        return case.paid_amount_fen - _refunded(Q(case=case))
    order = case.order
    if order.status == OrderStatus.REFUNDED:
        return 0
    if case.order_item_id is None:
        return case.paid_amount_fen - _refunded(Q(case__order_id=case.order_id))
    left = case.paid_amount_fen - _refunded(Q(case__order_item_id=case.order_item_id))
    if order.paid_amount_fen is not None:
        left = min(left, order.paid_amount_fen - _refunded(Q(case__order_id=case.order_id)))
    return left


def _filed_just_now_by(case: Case, actor) -> bool:
    """Whether `actor` filed this case a moment ago (the files sent with the intake form)."""
    return (
        actor is not None
        and timezone.now() - case.created_at < timedelta(minutes=10)
        and case.events.filter(type="case_submitted", actor=actor).exists()
    )


def lock_purchase(case: Case) -> None:
    """Hold the order's row until the transaction ends: what was refunded or granted for a
    purchase is summed over every case about it, so two cases must not both spend what is left
    at once (PostgreSQL; SQLite runs one writer at a time)."""
    if case.order_id:
        Order.objects.select_for_update().filter(pk=case.order_id).values_list("pk", flat=True).first()


def _require_amount(remedy: str, amount: int | None, field: str) -> None:
    """A remedy that is money comes with its amount."""
    if remedy in MONEY_REMEDIES and amount is None:
        raise InvalidInput(_("Give the amount."), field=field)


def _check_remedy_amount(case: Case, remedy: str, amount: int | None, field: str) -> None:
    _require_amount(remedy, amount, field)
    if remedy in MONEY_REMEDIES:
        lock_purchase(case)
    left = refundable_left(case) if remedy in REFUNDS else None
    if left is not None and amount > left:
        raise InvalidInput(
            _("A refund cannot exceed what was paid less what is refunded for it already (%(left)s left).")
            % {"left": format_yuan(max(left, 0))},
            code="REFUND_EXCEEDS_PAYMENT",
            field=field,
        )


def _compensation_granted(case: Case, *, but_pending_here: bool = False, losses: bool = False) -> int:
    """Compensation (fen) granted for this case's purchase (the item, else the order) on every
    case about it, that counts against the statutory ceilings: not lapsed or replaced, not for an
    injury's losses (`losses`: only those, the losses the law multiplies). `but_pending_here`:
    leave out this case's remedies still to be carried out (a new ruling replaces them)."""
    if case.order_item_id:
        purchase = Q(case__order_item_id=case.order_item_id)
    elif case.order_id:
        purchase = Q(case__order_id=case.order_id)
    else:
        purchase = Q(case=case)
    granted = Remedy.objects.filter(purchase, kind=RemedyKind.COMPENSATION).exclude(
        status__in=[Remedy.Status.LAPSED, Remedy.Status.SUPERSEDED]
    )
    if losses:
        granted = granted.filter(compensation_basis__in=compensation.NEEDS_SAFETY)
    else:
        granted = granted.exclude(compensation_basis__in=compensation.NEEDS_SAFETY)
    if but_pending_here:
        granted = granted.exclude(case=case, status=Remedy.Status.PENDING)
    return granted.aggregate(s=Sum("amount_fen"))["s"] or 0


def _ceiling(case: Case, basis: str, *, ruling: bool = False) -> int | None:
    """The statutory ceiling of `basis` for this case's purchase (the losses granted for an
    injury on it count for unsafe food: 3x the losses, 食品安全法 art. 148)."""
    losses = (
        _compensation_granted(case, but_pending_here=ruling, losses=True) if basis == "food_safety" else 0
    )
    return compensation.ceiling(basis, case.paid_amount_fen, losses_fen=losses)


def compensation_room(case: Case, *, ruling: bool = False) -> list[tuple[str, int | None, int | None]]:
    """(basis, what may still be granted on it in fen or None for no ceiling, what a ruling on it
    must give or None) for each basis this case may be compensated on: shown beside the amount
    before anyone proposes or rules (a ruling replaces what an earlier one ordered and is not
    yet done)."""
    bases = compensation.bases_for(safety=case.safety, food=rules().is_food(case.category))
    granted = _compensation_granted(case, but_pending_here=ruling)
    out = []
    for basis in bases:
        limit = _ceiling(case, basis, ruling=ruling)
        left = None if limit is None else max(limit - granted, 0)
        out.append((basis, left, _statutory_due(case, basis, left) if ruling else None))
    return out


def _statutory_due(case: Case, basis: str, left: int | None) -> int | None:
    """What a ruling on `basis` must give (fen): on a statutory basis (3x the price, at least
    ¥500; 10x, at least ¥1,000) what is left of it for the purchase, or the consumer's claim if
    less; None on the other bases (the parties may always agree on less)."""
    if basis not in compensation.STATUTORY or left is None:
        return None
    return left if case.amount_claimed_fen is None else min(left, case.amount_claimed_fen)


def _compensation_basis(
    case: Case, remedy: str, amount: int | None, basis: str, *, ruling: bool = False
) -> str:
    """The legal basis a compensation is given on ('' for any other remedy, whatever was sent),
    checked against its ceiling (:mod:`marketguard.complaints.compensation`) for all the
    compensation granted for the same purchase (the item, else the order), on every case about
    it: lapsed and replaced ones were never paid, and losses from an injury come on top of the
    statutory multiples (消费者权益保护法 art. 49 and 55), so they are not counted."""
    if remedy != RemedyKind.COMPENSATION:
        return ""
    basis = basis or compensation.DEFAULT_BASIS
    if basis not in CompensationBasis.values:
        raise InvalidInput(_("Unknown legal basis."), field="compensation_basis")
    if basis in compensation.NEEDS_SAFETY and not case.safety:
        raise InvalidInput(
            _("Personal injury is a basis only on a personal-safety case."), field="compensation_basis"
        )
    if basis in compensation.NEEDS_FOOD and not rules().is_food(case.category):
        raise InvalidInput(
            _("The unsafe-food basis is for food: these goods are not in a food category."),
            field="compensation_basis",
        )
    limit = _ceiling(case, basis)
    if limit is not None and amount is not None:
        granted = _compensation_granted(case)
        if granted + amount > limit:
            raise InvalidInput(
                _(
                    "On the basis chosen, compensation for this purchase is at most %(limit)s in all; %(left)s left."
                )
                % {"limit": format_yuan(limit), "left": format_yuan(max(limit - granted, 0))},
                code="COMPENSATION_EXCEEDS_LIMIT",
                field="amount",
            )
        due = _statutory_due(case, basis, limit - granted)
        if ruling and due is not None and amount < due:
            raise InvalidInput(
                _(
                    "On this basis the law sets the compensation: rule %(due)s (what is left of "
                    "%(limit)s for this purchase, or the consumer's claim if less), or choose "
                    "goodwill."
                )
                % {"due": format_yuan(due), "limit": format_yuan(limit)},
                code="COMPENSATION_BELOW_STATUTORY",
                field="amount",
            )
    return basis


def make_proposal(
    *,
    actor,
    number: str,
    remedy: str,
    amount=None,
    note: str = "",
    compensation_basis: str = "",
    version: int | None = None,
) -> Proposal:
    if remedy not in RemedyKind.values:
        raise InvalidInput(_("Unknown remedy."), field="remedy")
    fen = _amount(amount, "amount")
    note = _clean_text(note, "note", required=False)
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.CONSUMER, Party.AGENT)
        if case.status not in (workflow.AWAITING_MERCHANT, workflow.NEGOTIATING) and not settling(
            case, timezone.now()
        ):
            raise InvalidTransition(_("Proposals are made while negotiating."), code="INVALID_TRANSITION")
        _check_remedy_amount(case, remedy, fen, "amount")
        basis = _compensation_basis(case, remedy, fen, compensation_basis)
        fields = _claim(case, actor, party) + _first_response(case, party)
        if party == Party.MERCHANT:
            fields += _merchant_answered(case, actor) + _decision_made(case)
        case.proposals.filter(party=party, status=Proposal.Status.OPEN).update(
            status=Proposal.Status.SUPERSEDED
        )
        proposal = Proposal.objects.create(
            case=case,
            party=party,
            proposed_by=actor,
            remedy=remedy,
            amount_fen=fen,
            compensation_basis=basis,
            note=note,
        )
        made = {"remedy": remedy, "amount_fen": fen, **({"compensation_basis": basis} if basis else {})}
        _event(case, "proposal_made", actor, party, {"proposal": proposal.pk, **made})
        audit.record(actor=actor, action="proposal_made", obj=case, after=made)
        _tell_the_others(case, party, "proposal_received")
        if party in (Party.MERCHANT, Party.AGENT):
            if case.consumer_id and case.consumer.is_active:  # on their alerts page as well as by mail
                _alert([case.consumer], case, "proposal_received", {"number": case.number, "party": party})

            def proposed():
                who = _("The merchant") if party == Party.MERCHANT else _("Our service agent")
                lines = [
                    _("%(who)s proposes: %(remedy)s.") % {"who": who, "remedy": _remedy_text(remedy, fen)}
                ]
                if note:
                    lines.append(_("Note: %(note)s") % {"note": note})
                lines.append(_("Accept or reject it on the case page."))
                return lines

            _tell_consumer(case, proposed)
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
        if (
            accept
            and case.status in (workflow.ESCALATED, workflow.PLATFORM_REVIEW)
            and not settling(case, timezone.now())
        ):
            raise InvalidTransition(
                _("The time to settle between yourselves has passed: the platform decides."),
                code="SETTLE_WINDOW_CLOSED",
            )
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
        _tell_the_others(case, party, "proposal_accepted" if accept else "proposal_rejected")
        if accept:
            # checked again now: what was refunded or granted since the proposal was made counts too
            _check_remedy_amount(case, proposal.remedy, proposal.amount_fen, "proposal_id")
            basis = _compensation_basis(
                case, proposal.remedy, proposal.amount_fen, proposal.compensation_basis
            )
            # one agreement: the other side's proposals still open are replaced by it
            case.proposals.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.SUPERSEDED)
            with_platform = case.status in (workflow.ESCALATED, workflow.PLATFORM_REVIEW)
            fields += _move(case, "agree", actor=actor, party=party, data={"proposal": proposal.pk})
            if with_platform:  # the arbitrators alerted to it have nothing left to decide
                _alert(
                    User.objects.filter(role=Role.ARBITRATOR, is_active=True),
                    case,
                    "settled_before_ruling",
                    {"number": case.number},
                )
            fields += _start_remedy(
                case,
                kind=proposal.remedy,
                amount=proposal.amount_fen,
                source=Remedy.Source.AGREEMENT,
                compensation_basis=basis,
            )
        else:
            if party == Party.MERCHANT:
                fields += _decision_made(case)
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
    case: Case,
    *,
    kind: str,
    amount: int | None,
    source: str,
    due: datetime | None = None,
    compensation_basis: str = "",
) -> list[str]:
    """A remedy to carry out. A return and refund waits for the goods: the consumer sends them
    back within `return_ship_window`, and the refund is due 7 days after the merchant receives
    them (暂行办法 art. 13), so it has no refund deadline until then. Never more refunded than
    was paid, whatever started it."""
    _check_remedy_amount(case, kind, amount, "amount")
    now = timezone.now()
    if kind == RemedyKind.RETURN_REFUND:
        due, ship_by = None, now + timeouts().return_ship_window
    else:
        due, ship_by = due or now + timeouts().ruling_execution, None
    address = ""
    if ship_by is not None and case.order_id and case.order.store_id:
        address = case.order.store.return_address
    remedy = Remedy.objects.create(
        case=case,
        kind=kind,
        compensation_basis=compensation_basis if kind == RemedyKind.COMPENSATION else "",
        amount_fen=amount,
        source=source,
        due_at=due,
        return_ship_by=ship_by,
        return_address=address,
    )
    case.execution_due = due
    fields = _move(case, "start_execution", actor=None, party=Party.SYSTEM, data={"remedy": kind})
    if ship_by is not None:
        # the goods travel back: the consumer's and the carrier's time is not the platform's, so
        # the resolution clock stands still until the merchant has them (or the return lapses)
        CasePause.objects.create(case=case, started_at=now, reason=RETURN_PAUSE, remedy=remedy)
        fields += _recompute_deadlines(case)
    _notify_merchant(case, "remedy_due")
    if ship_by is not None and case.consumer_id:
        _alert([case.consumer], case, "return_requested", {"number": case.number, "ship_by": ship_by})
    if ship_by is not None and source != Remedy.Source.RULING:
        _tell_consumer(case, lambda: _return_text(ship_by, address))
    return [*fields, "execution_due"]


def _return_text(ship_by: datetime, address: str) -> list[str]:
    """What the consumer reads about a return: by when, where to, what to enter afterwards."""
    lines = [
        _(
            "Please send the goods back by %(date)s and enter the carrier and tracking number on the case page."
        )
        % {"date": _when(ship_by)}
    ]
    if address:
        lines.append(_("Send them to: %(address)s") % {"address": address})
    else:
        lines.append(_("The merchant will tell you the return address in the case."))
    return lines


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
    with tracking, compensation. A repair takes two steps: first the date it will be done by
    (the remedy's deadline from then, watched by the sweep), then that it is done (with the
    tracking number when the goods go back by carrier). When all are done the case resolves."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.AGENT)
        remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
        if remedy is None:
            raise NotFound(_("No such remedy."), field="remedy_id")
        if remedy.status == Remedy.Status.DONE:
            raise Conflict(_("This remedy was already carried out."), code="REMEDY_DONE")
        if remedy.status != Remedy.Status.PENDING:  # lapsed, or replaced by a new ruling
            raise InvalidTransition(
                _("This remedy is no longer to be carried out (%(status)s).")
                % {"status": remedy.get_status_display()},
                code="REMEDY_NOT_PENDING",
            )
        fields = _claim(case, actor, party)
        if remedy.kind in (RemedyKind.REFUND, RemedyKind.RETURN_REFUND, RemedyKind.COMPENSATION):
            remedy.payment_reference = _clean_text(payment_reference, "payment_reference", limit=64)
            remedy.refunded_to = case.order.payment_reference if case.order_id else ""
        if remedy.kind in (RemedyKind.EXCHANGE, RemedyKind.RESHIPMENT):
            remedy.carrier = _clean_text(carrier, "carrier", limit=50)
            remedy.tracking_number = _clean_text(tracking_number, "tracking_number", limit=50)
        if remedy.kind == RemedyKind.REPAIR and remedy.repair_due is None:
            fields += _schedule_repair(case, remedy, repair_due, actor=actor, party=party)
            _save(case, fields)
            return remedy
        if remedy.kind == RemedyKind.REPAIR:
            remedy.carrier = _clean_text(carrier, "carrier", required=False, limit=50)
            remedy.tracking_number = _clean_text(tracking_number, "tracking_number", required=False, limit=50)
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
                **({"postage_fen": remedy.return_postage_fen} if remedy.return_postage_fen else {}),
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
                "postage_fen": remedy.return_postage_fen,
                "payment_reference": remedy.payment_reference,
            },
        )
        if not case.remedies.filter(status=Remedy.Status.PENDING).exists():
            fields += _resolve(case, actor=None, party=Party.SYSTEM)
        _save(case, fields)
    return remedy


def _schedule_repair(case: Case, remedy: Remedy, repair_due: date | None, *, actor, party) -> list[str]:
    """The merchant says by when the repair will be done: that day's end becomes the remedy's
    deadline (overdue → escalated like any remedy), and the consumer is told."""
    if repair_due is None:
        raise InvalidInput(_("Give the date the repair will be done."), field="repair_due")
    if repair_due < timezone.localdate():
        raise InvalidInput(_("The repair date is in the past."), field="repair_due")
    longest = timeouts().repair_window
    if repair_due > timezone.localdate() + longest:
        raise InvalidInput(
            _("A repair may take at most %(days)s days.") % {"days": longest.days}, field="repair_due"
        )
    remedy.repair_due = repair_due
    end_of_day = datetime.combine(repair_due + timedelta(days=1), time.min)
    remedy.due_at = timezone.make_aware(end_of_day, timezone.get_current_timezone())
    remedy.save(update_fields=["repair_due", "due_at"])
    case.execution_due = remedy.due_at
    _event(case, "repair_scheduled", actor, party, {"repair_due": repair_due})
    audit.record(
        actor=actor,
        action="repair_scheduled",
        obj=case,
        after={"remedy": remedy.pk, "repair_due": repair_due},
    )
    _tell_consumer(
        case,
        lambda: [_("The merchant will have the repair done by %(date)s.") % {"date": repair_due.isoformat()}],
    )
    return ["execution_due"]


def _pending_return(case: Case, remedy_id: int) -> Remedy:
    remedy = case.remedies.select_for_update().filter(pk=remedy_id).first()
    if remedy is None:
        raise NotFound(_("No such remedy."), field="remedy_id")
    if remedy.kind != RemedyKind.RETURN_REFUND or remedy.status != Remedy.Status.PENDING:
        raise InvalidTransition(
            _("Only a pending return and refund waits for the goods."), code="NOT_A_RETURN"
        )
    return remedy


def record_return_shipped(
    *,
    actor,
    number: str,
    remedy_id: int,
    carrier: str,
    tracking_number: str,
    postage=None,
    version: int | None = None,
) -> Remedy:
    """The consumer (or an agent for them) sent the goods back: carrier and tracking number kept,
    the merchant told, and the merchant's time to confirm receipt starts. `postage` (yuan): what
    sending it cost, refunded with the price when the merchant bears it (not on a no-reason
    return: :mod:`~marketguard.complaints.postage`)."""
    fen = _amount(postage, "postage")
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.CONSUMER, Party.AGENT)
        remedy = _pending_return(case, remedy_id)
        if remedy.received_at is not None:
            raise Conflict(_("The merchant has already received the goods."), code="RETURN_RECEIVED")
        owner_fields = _claim(case, actor, party)
        carrier, tracking = _clean_texts((carrier, "carrier", 50), (tracking_number, "tracking_number", 50))
        if fen is not None and not postage_rules.merchant_pays(case.problem_type):
            raise InvalidInput(
                _("Sending back goods of a no-reason return is at your cost: leave the postage empty."),
                field="postage",
            )
        if fen is not None and fen > postage_rules.LIMIT_FEN:
            raise InvalidInput(
                _("Postage of one parcel is at most %(limit)s: check the amount.")
                % {"limit": format_yuan(postage_rules.LIMIT_FEN)},
                field="postage",
            )
        first = remedy.return_shipped_at is None
        remedy.return_carrier, remedy.return_tracking_number = carrier, tracking
        remedy.return_postage_fen = fen  # given again with each correction (empty: none)
        if first:
            remedy.return_shipped_at = timezone.now()
        remedy.save(
            update_fields=[
                "return_carrier",
                "return_tracking_number",
                "return_shipped_at",
                "return_postage_fen",
            ]
        )
        shipped = {"carrier": carrier, "tracking_number": tracking, "postage_fen": remedy.return_postage_fen}
        _event(case, "return_shipped" if first else "return_tracking_corrected", actor, party, shipped)
        audit.record(
            actor=actor,
            action="return_shipped" if first else "return_tracking_corrected",
            obj=case,
            after={"remedy": remedy.pk, **shipped},
        )
        _notify_merchant(case, "return_shipped")
        _save(case, owner_fields)
    return remedy


def set_return_address(
    *, actor, number: str, remedy_id: int, address: str, version: int | None = None
) -> Remedy:
    """The merchant (or an agent for them) gives where this return goes, when the store's usual
    address is not the place or the store has none. Only before the goods are sent; the consumer
    is told."""
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.AGENT)
        remedy = _pending_return(case, remedy_id)
        if remedy.return_shipped_at is not None:
            raise Conflict(_("The goods have already been sent back."), code="RETURN_SHIPPED")
        owner_fields = _claim(case, actor, party)
        address = " ".join(_clean_text(address, "return_address", limit=300).split())
        if address == remedy.return_address:
            _save(case, owner_fields)
            return remedy
        before = remedy.return_address
        remedy.return_address = address
        remedy.save(update_fields=["return_address"])
        _event(case, "return_address_set", actor, party, {"address": address})
        audit.record(
            actor=actor,
            action="return_address_set",
            obj=case,
            before={"return_address": before},
            after={"remedy": remedy.pk, "return_address": address},
        )
        if case.consumer_id:
            _alert([case.consumer], case, "return_address_set", {"number": case.number})
        _tell_consumer(case, lambda: _return_text(remedy.return_ship_by, address))
        _save(case, owner_fields)
    return remedy


def record_return_received(
    *,
    actor,
    number: str,
    remedy_id: int,
    received_at: datetime | None = None,
    intact: bool = True,
    note: str = "",
    version: int | None = None,
) -> Remedy:
    """The merchant has the returned goods: the refund is now due within 7 calendar days. Goods
    that came back damaged, used or incomplete (a 7-day return needs them intact: 暂行办法 art.
    8-9) are recorded as such with what is wrong, and the platform decides: no refund falls due
    until it has ruled."""
    note = _clean_text(note, "note", required=not intact, limit=2000)
    if intact and note:
        raise InvalidInput(
            _("A note is for goods that came back not intact: tick that box, or leave the note empty."),
            field="note",
        )
    with transaction.atomic():
        case, party = _lock(number, actor=actor, version=version)
        _require_party(party, Party.MERCHANT, Party.AGENT)
        remedy = _pending_return(case, remedy_id)
        if remedy.received_at is not None:
            raise Conflict(_("The goods were already recorded as received."), code="RETURN_RECEIVED")
        received_at = received_at or timezone.now()
        if received_at > timezone.now():
            raise InvalidInput(_("The goods cannot be received in the future."), field="received_at")
        if received_at < (remedy.return_shipped_at or remedy.created_at):
            raise InvalidInput(
                _("The goods cannot be received before they were sent back."), field="received_at"
            )
        fields = _claim(case, actor, party)
        if intact:
            fields += _receive_return(case, remedy, received_at, actor=actor, party=party)
        else:
            fields += _dispute_return(case, remedy, received_at, note, actor=actor, party=party)
        _save(case, fields)
    return remedy


def _dispute_return(
    case: Case, remedy: Remedy, received_at: datetime, note: str, *, actor, party
) -> list[str]:
    """The goods are back but not as they left: the receipt is kept, the return's pause ends, and
    the case goes to the platform, whose ruling replaces the pending refund."""
    remedy.received_at = received_at
    remedy.due_at = None
    remedy.save(update_fields=["received_at", "due_at"])
    case.execution_due = None
    fields = _move(case, "dispute_return", actor=actor, party=party, reason=note, data={"remedy": remedy.pk})
    fields += _end_return_pause(case, min(received_at, timezone.now()), remedy)
    fields += _to_platform(case, party)
    _tell_consumer(
        case,
        lambda: [
            _("The merchant received the goods you sent back but says they are not intact: %(note)s")
            % {"note": note},
            _(
                "The platform will look at both sides and decide on the refund. You can add photos or a reply on the case page."
            ),
        ],
    )
    return [*fields, "execution_due"]


def _end_return_pause(case: Case, at: datetime, remedy: Remedy | None = None) -> list[str]:
    """The goods of `remedy` are back (or will not come) at `at`: its pause ends, never before
    it began. Without `remedy` (the case resolves, is appealed), every return pause ends. The
    resolution clock runs again once no return is travelling."""
    open_pauses = case.pauses.filter(reason=RETURN_PAUSE, ended_at__isnull=True)
    if remedy is not None:
        open_pauses = open_pauses.filter(Q(remedy=remedy) | Q(remedy__isnull=True))
    open_pauses = list(open_pauses)
    if not open_pauses:
        return []
    for pause in open_pauses:
        pause.ended_at = max(at, pause.started_at)
    CasePause.objects.bulk_update(open_pauses, ["ended_at"])
    return _recompute_deadlines(case)


def _receive_return(
    case: Case, remedy: Remedy, received_at: datetime, *, actor, party: str, deemed: bool = False
) -> list[str]:
    """Record receipt of returned goods and start the refund clock. Receipt the merchant never
    confirmed is deemed at the end of `return_receipt_window`, and the refund is due within
    `ruling_execution` (the merchant has had the goods for days already)."""
    from marketguard.complaints import eligibility

    remedy.received_at = received_at
    if deemed:
        remedy.due_at = timezone.now() + timeouts().ruling_execution
    else:
        remedy.due_at = eligibility.refund_due(received_at, tz=settings.TIME_ZONE)
    remedy.save(update_fields=["received_at", "due_at"])
    case.execution_due = remedy.due_at
    action = "return_deemed_received" if deemed else "return_received"
    _event(case, action, actor, party, {"received_at": received_at, "refund_due": remedy.due_at})
    audit.record(
        actor=actor, action=action, obj=case, after={"remedy": remedy.pk, "refund_due": remedy.due_at}
    )
    if deemed:
        _notify_merchant(case, "return_deemed_received")
    return ["execution_due", *_end_return_pause(case, min(received_at, timezone.now()), remedy)]


def _reply_text(case: Case, message: CaseMessage) -> str:
    """A message from the merchant or the platform, as the consumer reads it by e-mail (the
    lines around it in the consumer's language)."""
    who = {
        Party.MERCHANT: pgettext_lazy("who wrote to the consumer", "The merchant"),
        Party.AGENT: pgettext_lazy("who wrote to the consumer", "Customer service"),
        Party.ARBITRATOR: pgettext_lazy("who wrote to the consumer", "The platform"),
    }[message.party]
    language = consumer_language(case)
    head = _in_languages(
        lambda: [_("%(who)s wrote about your case %(number)s:") % {"who": who, "number": case.number}],
        language,
    )
    foot = _in_languages(
        lambda: [_("Reply to this e-mail (keep the case number in the subject), or open the case:")],
        language,
    )
    return "\n".join([*head, "", message.body, "", *foot, case_link(case)])


def _resolve(case: Case, *, actor, party: str, reason: str = "") -> list[str]:
    fields = _move(case, "resolve", actor=actor, party=party, reason=reason)
    case.resolved_at = timezone.now()
    case.execution_due = None
    # a return that ended some other way (refunded before the goods came back ...): the clock
    # must not stay paused into a reopened case
    fields += _end_return_pause(case, case.resolved_at)
    _event(case, "rating_requested", None, Party.SYSTEM, {})
    _tell_consumer(
        case,
        lambda: [
            _("Your case %(number)s is resolved. Please rate our service (1-5 stars) on the case page.")
            % {"number": case.number},
            _("If the problem is not solved, you can ask to reopen the case on that page."),
        ],
    )
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
