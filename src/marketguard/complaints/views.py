"""Complaint and after-sales pages for every role. No logic here: parse the input, call one
service or selector, render. A `DomainError` is shown next to the field it names, with its
HTTP status; every form also works without JavaScript (POST, then redirect)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from marketguard.catalog import services as catalog
from marketguard.catalog.codes import mask_in_text
from marketguard.catalog.models import OrderStatus
from marketguard.complaints import alerts as alerts_text
from marketguard.complaints import materials, selectors, services, workflow
from marketguard.complaints import postage as postage_rules
from marketguard.complaints.models import (
    Case,
    CaseKind,
    CaseStatus,
    Channel,
    CompensationBasis,
    MerchantViolation,
    Party,
    Priority,
    ProblemType,
    Proposal,
    Remedy,
    RemedyKind,
    Ruling,
)
from marketguard.core import languages
from marketguard.core.errors import DomainError, InvalidInput, PermissionDenied
from marketguard.core.models import Role, User
from marketguard.core.money import format_yuan
from marketguard.core.text import plain

PAGE_SIZE = 25
OBSERVER = "observer"

# --- words the page shows for codes -------------------------------------------------------------

EVENT_TEXT = {
    "case_submitted": gettext_lazy("Case filed"),
    "case_triaged": gettext_lazy("Triaged automatically"),
    "owner_assigned": gettext_lazy("Responsible agent assigned"),
    "case_acknowledged": gettext_lazy("Case acknowledged"),
    "case_routed_to_merchant": gettext_lazy("Sent to the merchant"),
    "merchant_responded": gettext_lazy("The merchant answered"),
    "agreement_reached": gettext_lazy("Agreement reached"),
    "approved_automatically": gettext_lazy("Approved automatically: the merchant did not answer"),
    "remedy_started": gettext_lazy("Remedy to carry out"),
    "case_resolved": gettext_lazy("Case resolved"),
    "case_closed": gettext_lazy("Case closed"),
    "intervention_requested": gettext_lazy("Platform intervention requested"),
    "review_started": gettext_lazy("Platform review started"),
    "ruling_recorded": gettext_lazy("Ruling recorded"),
    "ruling_appealed": gettext_lazy("Ruling appealed"),
    "case_reopened": gettext_lazy("Case reopened"),
    "case_withdrawn": gettext_lazy("Case withdrawn"),
    "case_rejected": gettext_lazy("Case rejected"),
    "case_merged": gettext_lazy("Merged into another case"),
    "case_merged_in": gettext_lazy("Another case was merged into this one"),
    "proposal_made": gettext_lazy("Proposal made"),
    "proposal_accepted": gettext_lazy("Proposal accepted"),
    "proposal_rejected": gettext_lazy("Proposal rejected"),
    "remedy_executed": gettext_lazy("Remedy carried out"),
    "return_shipped": gettext_lazy("Goods sent back"),
    "return_tracking_corrected": gettext_lazy("Return tracking number corrected"),
    "return_address_set": gettext_lazy("Return address given"),
    "return_disputed": gettext_lazy("Returned goods not intact: sent to the platform"),
    "repair_scheduled": gettext_lazy("Repair scheduled"),
    "mail_refused": gettext_lazy("E-mail not added to the case"),
    "mail_added": gettext_lazy("A refused e-mail was added as the consumer's message"),
    "mail_sender_unverified": gettext_lazy(
        "Filed from an e-mail whose sender no mail server confirmed: check who wrote before relying on it"
    ),
    "settle_window_passed": gettext_lazy("The merchant's time to settle is over: the platform decides"),
    "materials_overdue": gettext_lazy("Materials not sent in time: the platform decides on what it has"),
    "follow_up_of": gettext_lazy("Filed from an e-mail about an earlier case"),
    "follow_up_filed": gettext_lazy("A later e-mail was filed as a new case"),
    "return_received": gettext_lazy("Returned goods received: refund due"),
    "return_deemed_received": gettext_lazy(
        "Receipt not confirmed in time: goods deemed received, refund due"
    ),
    "return_lapsed": gettext_lazy("Goods not sent back in time: the return lapsed"),
    "remedies_superseded": gettext_lazy("What the earlier ruling ordered was replaced by the new ruling"),
    "rating_requested": gettext_lazy("Satisfaction rating requested"),
    "case_rated": gettext_lazy("Service rated"),
    "materials_requested": gettext_lazy("Materials requested"),
    "evidence_added": gettext_lazy("Evidence added"),
    "clock_resumed": gettext_lazy("Materials received: the clocks run again"),
    "sla_warning": gettext_lazy("SLA warning"),
    "sla_breached": gettext_lazy("SLA breached"),
    "priority_raised": gettext_lazy("Priority raised"),
    "intervention_available": gettext_lazy("Platform intervention may now be requested"),
    "merchant_violation_recorded": gettext_lazy("Merchant violation recorded"),
    "case_handed_over": gettext_lazy("Handed over"),
    "case_reassigned": gettext_lazy("Reassigned"),
    "inspectors_alerted": gettext_lazy("Quality inspectors alerted"),
    "duplicate_suspected": gettext_lazy("Possible duplicate"),
    "attachment_refused": gettext_lazy("Attachment refused"),
    "order_linked": gettext_lazy("Linked to its order"),
    "sla_policy_changed": gettext_lazy("SLA policy changed: deadlines counted again from filing"),
}

TARGET_TEXT = {
    "first_response": gettext_lazy("First response"),
    "merchant_response": gettext_lazy("Merchant answer"),
    "resolution": gettext_lazy("Resolution"),
    "execution": gettext_lazy("Remedy"),
    "settle": gettext_lazy("Time to settle"),
}

STATE_TEXT = {
    "ok": gettext_lazy("On track"),
    "warning": gettext_lazy("At risk"),
    "breached": gettext_lazy("Breached"),
    "paused": gettext_lazy("Paused"),
    "met": gettext_lazy("Met"),
    "none": gettext_lazy("Nothing due from you"),
}

TRIAGE_TEXT = {
    "SAFETY_KEYWORD": gettext_lazy("Personal-safety word “%(keyword)s”"),
    "SAFETY_OVERRIDE": gettext_lazy("The safety signal overrides the chosen type (%(consumer_choice)s)"),
    "CONSUMER_CHOICE": gettext_lazy("Problem type chosen at intake: %(problem_type)s"),
    "KEYWORD_MATCH": gettext_lazy("Words in the text point to %(problem_type)s: %(keywords)s"),
    "KEYWORD_DISAGREES": gettext_lazy(
        "The text suggests %(suggested)s (%(keywords)s), the chosen type is %(consumer_choice)s"
    ),
    "NEGATED_KEYWORD": gettext_lazy("Negated word ignored: “%(keyword)s”"),
    "NO_MATCH": gettext_lazy("No keyword matched"),
    "KIND_DEFAULT": gettext_lazy("Default for %(kind)s: %(problem_type)s"),
    "BASE_PRIORITY": gettext_lazy("Base priority of %(problem_type)s: %(priority)s"),
    "AMOUNT_HIGH": gettext_lazy("High amount %(amount_fen)s (from %(threshold_fen)s)"),
    "AMOUNT_VERY_HIGH": gettext_lazy(
        "Very high amount %(amount_fen)s (from %(threshold_fen)s): at least %(floor)s"
    ),
    "REPEAT_COMPLAINT": gettext_lazy("Repeat complaints: %(count)s in 30 days (from %(threshold)s)"),
    "HIGH_RISK_CATEGORY": gettext_lazy("High-risk category for %(problem_type)s"),
    "CHANNEL_RAISE": gettext_lazy("Raised for the channel %(channel)s"),
    "PRIORITY_CAPPED": gettext_lazy("Capped at %(ceiling)s without a safety signal"),
    "CLASSIFIER": gettext_lazy(
        "The trained classifier suggests %(problem_type)s (probability %(probability)s)"
    ),
    "CLASSIFIER_UNSURE": gettext_lazy(
        "The trained classifier is unsure (best guess %(problem_type)s, probability %(probability)s)"
    ),
    "CLASSIFIER_SAFETY": gettext_lazy(
        "The trained classifier reads a personal-safety risk (probability %(probability)s)"
    ),
    "NO_REASON_ELIGIBLE": gettext_lazy("7-day no-reason return possible until %(deadline)s"),
    "NO_REASON_NOT_ELIGIBLE": gettext_lazy("7-day no-reason return not possible: %(why)s."),
}

DONE_TEXT = {
    "acknowledge": gettext_lazy("Case acknowledged."),
    "take": gettext_lazy("The case is now yours."),
    "forward": gettext_lazy("Sent to the merchant."),
    "link-order": gettext_lazy("The case is linked to its order."),
    "materials": gettext_lazy("Materials requested."),
    "add-mail": gettext_lazy("The e-mail was added to the case as the consumer's message."),
    "ask-merchant": gettext_lazy("The merchant was asked: it has 4 working hours to send it."),
    "hand-over": gettext_lazy("Case handed over."),
    "resolve": gettext_lazy("Case resolved."),
    "reject": gettext_lazy("Case rejected."),
    "merge": gettext_lazy("Cases merged."),
    "message": gettext_lazy("Message sent."),
    "evidence": gettext_lazy("Evidence uploaded."),
    "propose": gettext_lazy("Proposal sent."),
    "decide": gettext_lazy("Decision recorded."),
    "execute": gettext_lazy("Remedy recorded as done."),
    "return-shipped": gettext_lazy("Return shipment recorded: the merchant has been told."),
    "return-received": gettext_lazy("Receipt recorded: the refund is due within 7 days."),
    "return-address": gettext_lazy("Return address saved: the consumer has been told."),
    "intervention": gettext_lazy("Platform intervention requested."),
    "withdraw": gettext_lazy("Case withdrawn."),
    "appeal": gettext_lazy("Appeal filed."),
    "reopen": gettext_lazy("Case reopened."),
    "rate": gettext_lazy("Thank you for your rating."),
    "review": gettext_lazy("Review started."),
    "ruling": gettext_lazy("Ruling recorded."),
}

PROPOSAL_DECIDED_TEXT = {
    True: gettext_lazy("Accepted: the remedy is under “Remedies”, with what happens next and by when."),
    False: gettext_lazy(
        "Rejected: the other side is told. Propose something else or, if you cannot agree, ask the "
        "platform to step in."
    ),
}
#: a merchant's offer rejected (by the consumer, who makes no offers of their own)
MERCHANT_OFFER_REJECTED_TEXT = gettext_lazy(
    "Rejected: the merchant is told and may offer something else. If you cannot agree, ask the platform "
    "to step in."
)
REPAIR_SCHEDULED_TEXT = gettext_lazy("Repair date recorded: the consumer has been told.")
RETURN_DISPUTED_TEXT = gettext_lazy("Recorded as not intact: the platform decides on the refund.")
#: reasons the system gives for a move (codes in the timeline's data), in the reader's language
SYSTEM_REASON_TEXT = {
    "nothing_left_to_refund": gettext_lazy("Nothing is left to refund: the platform decides."),
    "sla_breached:first_response": gettext_lazy("No first response in time"),
    "sla_breached:merchant_response": gettext_lazy("The merchant did not answer in time"),
    "sla_breached:resolution": gettext_lazy("Not resolved in time"),
}


SETTLE_PASSED_TEXT = {
    True: gettext_lazy("the merchant answered in time"),
    False: gettext_lazy("the merchant did nothing in that time"),
}
VIOLATION_TEXT = dict(MerchantViolation.Kind.choices)


def _done_text(action: str, result) -> str:
    """What the page says after an action went through."""
    if action == "decide" and isinstance(result, Proposal):
        if result.status != Proposal.Status.ACCEPTED and result.party == Party.MERCHANT:
            return MERCHANT_OFFER_REJECTED_TEXT
        return PROPOSAL_DECIDED_TEXT[result.status == Proposal.Status.ACCEPTED]
    if isinstance(result, Remedy) and result.status == Remedy.Status.PENDING:
        if action == "execute" and result.kind == RemedyKind.REPAIR:
            return REPAIR_SCHEDULED_TEXT  # a date promised, not the repair done
        if action == "return-received" and result.due_at is None:
            return RETURN_DISPUTED_TEXT
    return DONE_TEXT[action]


PARTY_TEXT = dict(Party.choices)
PROBLEM_TEXT = dict(ProblemType.choices)
KIND_TEXT = dict(CaseKind.choices)
REMEDY_TEXT = dict(RemedyKind.choices)
CHANNEL_TEXT = dict(Channel.choices)
OUTCOME_TEXT = dict(Ruling.Outcome.choices)
STATUS_TEXT = dict(CaseStatus.choices)


# --- small helpers (parsing and presentation only) -------------------------------------------------


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _desk(user) -> str:
    """Which work view this user gets on /cases/."""
    if user.is_superuser or user.role in (Role.AGENT, Role.ADMIN):
        return "agent"
    return {
        Role.CONSUMER: "consumer",
        Role.MERCHANT_STAFF: "merchant",
        Role.ARBITRATOR: "arbitrator",
        Role.INSPECTOR: OBSERVER,
        Role.ANALYST: OBSERVER,
    }.get(user.role, "")


class _Input:
    """Typed reads of a POST body: a bad value raises InvalidInput naming the field."""

    def __init__(self, data):
        self.data = data

    def text(self, name: str) -> str:
        return plain(self.data.get(name, ""))  # no control characters (core.text)

    def optional(self, name: str) -> str | None:
        return self.text(name).strip() or None

    def flag(self, name: str) -> bool:
        return self.data.get(name, "") in ("1", "on", "true", "yes")

    def items(self, name: str) -> list[str]:
        return self.data.getlist(name)

    def integer(self, name: str, *, required: bool = True) -> int | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            if required:
                raise InvalidInput(_("This field is required."), field=name)
            return None
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(_("Enter a whole number."), field=name) from None

    def day(self, name: str) -> date | None:
        raw = self.data.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(_("Enter a date (YYYY-MM-DD)."), field=name) from None

    @property
    def version(self) -> int | None:
        return self.integer("version", required=False)


def _error_page(request, exc: DomainError):
    """The app's own page for a refusal, 404 included (not Django's: in development that one
    lists every URL of the site)."""
    return render(
        request, "complaints/error.html", {"message": exc.message, "status": exc.status}, status=exc.status
    )


def _field(exc: DomainError) -> str:
    return exc.errors[0].field if exc.errors else ""


def _money_text(value) -> str:
    return format_yuan(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _triage_reasons(case: Case) -> list[str]:
    labels = {**PROBLEM_TEXT, **KIND_TEXT, **CHANNEL_TEXT}
    out = []
    for reason in (case.triage or {}).get("reasons", []):
        params = {}
        for key, value in (reason.get("params") or {}).items():
            if key.endswith("_fen"):
                params[key] = _money_text(value)
            elif key == "probability" and isinstance(value, int | float):
                params[key] = f"{value:.0%}"
            elif key == "why" and isinstance(value, list):
                params[key] = languages.join_clauses(services.NO_REASON_TEXT.get(v, v) for v in value)
            elif isinstance(value, list):
                params[key] = languages.join_items(value)
            else:
                params[key] = str(labels.get(value, value))
        text = TRIAGE_TEXT.get(reason.get("code"))
        try:
            out.append(str(text) % params if text else reason.get("code", ""))
        except (KeyError, TypeError, ValueError):
            out.append(reason.get("code", ""))
    return out


#: Open cases whose outcome is decided: the consumer is asked for nothing more but what comes
#: with the remedy (the return's tracking number).
DECIDED = (workflow.AGREED, workflow.RULED, workflow.EXECUTING)


def _notice(cv) -> list[dict]:
    """The one-time materials notice (一次性告知) while the case is open, each item ticked once
    evidence is tagged with it (the description and a return tracking number tick theirs)."""
    case = cv.case
    if case.status not in workflow.OPEN:
        return []  # resolved or closed: nothing more to send
    # decided: the consumer is asked only for what is still to come (the return's tracking
    # number), not for files any more; staff keep the whole record
    decided = cv.party == Party.CONSUMER and case.status in DECIDED
    known = materials.catalogue(case.problem_type, case.kind)
    provided = selectors.materials_provided(cv)
    language = get_language() or "zh-hans"
    items = [
        {
            "code": code,
            "label": known[code].label(language),
            "required": known[code].required,
            "accepts": known[code].accepts,
            "provided": code in provided,
        }
        for code in case.materials_notified
        if code in known and (not decided or code in materials.LATER)
    ]
    # files sent for an item of another list (chosen on the form before the text made the case a
    # safety one, say) are shown received all the same, after the list
    every = materials.catalogue()
    extra = [c for c in sorted(provided) if c not in case.materials_notified and c in every and not decided]
    items += [
        {
            "code": c,
            "label": every[c].label(language),
            "required": False,
            "accepts": every[c].accepts,
            "provided": True,
            "extra": True,
        }
        for c in extra
    ]
    return items


def _answerable(cv, notice: list[dict]) -> list[tuple[str, str]]:
    """The items told in words the consumer's next message can answer: asked of them, not yet
    answered, while the case is still deciding (an agreed or ruled case asks for nothing more)."""
    if cv.case.status not in workflow.OPEN or cv.case.status in DECIDED:
        return []
    done = {i["code"] for i in notice if i["provided"]}
    catalogue, language = materials.catalogue(), get_language() or "zh-hans"
    return [
        (c, catalogue[c].label(language)) for c in services.answerable_materials(cv.case) if c not in done
    ]


def _safety_words(case: Case) -> str:
    """The words of the consumer's text that made a case a personal-safety one (for telling them
    why it is handled first), "" when none did (chosen on the form, or not a safety case)."""
    if not case.safety:
        return ""
    words = [
        (r.get("params") or {}).get("keyword", "")
        for r in (case.triage or {}).get("reasons", [])
        if r.get("code") == "SAFETY_KEYWORD"
    ]
    return languages.join_items(w for w in words if w)


def _event_detail(event, language: str, known: dict, names: dict) -> str:
    data = event.data or {}
    t = event.type
    if t in ("proposal_made", "remedy_started"):
        parts = [str(REMEDY_TEXT.get(data.get("remedy"), data.get("remedy", "")))]
        if data.get("amount_fen") is not None:
            parts.append(format_yuan(data["amount_fen"]))
        return " ".join(p for p in parts if p)
    if t == "remedy_executed":
        parts = [str(REMEDY_TEXT.get(data.get("remedy"), "")), _money_text(data.get("amount_fen") or "")]
        if data.get("postage_fen"):
            parts[-1] += " + " + _("return postage") + " " + format_yuan(data["postage_fen"])
        parts += [data.get("payment_reference", ""), data.get("tracking_number", "")]
        return " · ".join(p for p in parts if p)
    if t == "ruling_recorded":
        return str(OUTCOME_TEXT.get(data.get("outcome"), ""))
    if t == "evidence_added":
        return data.get("file", "")
    if t == "materials_requested":
        labels = [known[c].label(language) if c in known else c for c in data.get("items", [])]
        text = languages.join_items(labels)  # (the reason is shown below it)
        if data.get("of") == Party.MERCHANT:
            text = _("asked of the merchant")
        due = parse_datetime(data.get("due") or "")
        if due is not None:
            at = date_format(timezone.localtime(due), "Y-m-d H:i")
            text += " — " + _("due by %(due)s") % {"due": at}
        return text
    if t in ("sla_warning", "sla_breached"):
        return str(TARGET_TEXT.get(data.get("target"), data.get("target", "")))
    if t == "case_rated":
        return "★" * int(data.get("score") or 0)
    if t in ("priority_raised", "sla_policy_changed"):
        return f"{data.get('from', '')} → {data.get('to', '')}"
    if t in ("case_handed_over", "case_reassigned"):
        to = data.get("to", "")
        return f"→ {names.get(to, to)}" + (f" — {data['reason']}" if data.get("reason") else "")
    if t == "owner_assigned":
        owner = data.get("owner", "")
        return names.get(owner, owner)
    if t == "case_merged":
        return f"→ {data.get('into', '')}"
    if t == "case_merged_in":
        return f"← {data.get('from', '')}"
    if t == "duplicate_suspected":
        return data.get("of", "")
    if t == "attachment_refused":
        return f"{data.get('file', '')}: {data.get('reason', '')}"
    if t == "order_linked":
        return " · ".join(x for x in (data.get("order", ""), data.get("item", "")) if x)
    if t == "case_submitted":
        return str(CHANNEL_TEXT.get(data.get("channel"), ""))
    if t == "mail_refused":  # the mail itself is shown folded below (_refused_mail)
        return ""
    if t == "mail_added" and (data.get("files") or data.get("files_not_kept")):
        text = ngettext(
            "%(n)d file added as evidence", "%(n)d files added as evidence", data.get("files") or 0
        )
        text %= {"n": data.get("files") or 0}
        if data.get("files_not_kept"):
            gone = languages.join_items(data["files_not_kept"])
            text += " — " + _("no longer held: %(files)s") % {"files": gone}
        return text
    if t == "settle_window_passed":
        return str(SETTLE_PASSED_TEXT[bool(data.get("merchant_acted"))])
    if t == "merchant_violation_recorded":
        return str(VIOLATION_TEXT.get(data.get("kind"), data.get("kind", "")))
    if t == "case_routed_to_merchant" or t == "case_triaged":
        return ""
    reason = data.get("reason", "")
    return str(SYSTEM_REASON_TEXT.get(reason, reason))


#: Timeline events that name an agent (by username, in "owner" or "to").
PEOPLE_EVENTS = ("owner_assigned", "case_handed_over", "case_reassigned")


def _event_reason(event, staff: bool) -> str:
    data = event.data or {}
    if event.type == "case_handed_over":
        return ""  # in the detail, with the names
    if event.type == "order_linked":  # how the agent confirmed a buyer with another address: theirs
        return mask_in_text(data.get("address_confirmed", "")) if staff else ""
    if event.type == "mail_refused":
        return services.mail_refusal_text(data)
    return data.get("reason", "")


def _refused_mail(event, added: set) -> dict | None:
    """An e-mail not added to the case, as it came, for the agent to judge: its text masked for
    everyone (the sender is not verified), the names of its files, and whether it may still be
    added as the consumer's message."""
    if event.type != "mail_refused":
        return None
    data = event.data or {}
    return {
        "event": event.pk,
        "subject": mask_in_text(data.get("subject", "")),
        "text": mask_in_text(data.get("text", "")),
        "attachments": data.get("attachments", []),
        # the files held for the agent's decision go to the case with the mail
        "held": [h["name"] for h in data.get("held") or [] if h.get("path")],
        "not_held": [h["name"] for h in data.get("held") or [] if not h.get("path")],
        "addable": data.get("code") in services.ADDABLE_MAIL
        and event.pk not in added
        and (data.get("message_id") or None) not in added,
    }


def _timeline(cv) -> list[dict]:
    """Events and messages in one chronological list (the message itself stands for its event)."""
    language = get_language() or "zh-hans"
    known = materials.catalogue(cv.case.problem_type, cv.case.kind)
    # events keep the stable username of an agent they name; people read the display name
    named = {(e.data or {}).get(k) for e in cv.events for k in ("owner", "to") if e.type in PEOPLE_EVENTS}
    names = {u.username: str(u) for u in User.objects.filter(username__in=named - {None})} if named else {}
    entries = []
    # refused e-mails added already: by their refusal, or by the same e-mail added another way
    added_mail = {(e.data or {}).get("event") for e in cv.events if e.type == "mail_added"}
    added_mail |= {m.email_message_id for m in cv.messages if m.email_message_id}
    staff = cv.party in (Party.AGENT, Party.ARBITRATOR)
    for e in cv.events:
        if e.type == "message_posted":
            continue
        entries.append(
            {
                "kind": "event",
                "at": e.at,
                "obj": e,
                "label": EVENT_TEXT.get(e.type, e.type),
                "detail": _event_detail(e, language, known, names),
                "party": PARTY_TEXT.get(e.party, e.party),
                "system": e.party == Party.SYSTEM or e.actor_id is None,
                "platform_only": e.visibility == "platform",
                "reason": _event_reason(e, staff),
                "mail": _refused_mail(e, added_mail),
            }
        )
    for m in cv.messages:
        entries.append(
            {
                "kind": "message",
                "at": m.created_at,
                "obj": m,
                "party": PARTY_TEXT.get(m.party, m.party),
                "system": m.party == Party.SYSTEM,
            }
        )
    entries.sort(key=lambda x: x["at"])
    return entries


def _span_text(span: timedelta) -> str:
    """A span as the live countdowns write it ("1d 23h", "5h 12m", "40m")."""
    minutes = max(int(span.total_seconds() // 60), 0)
    days, hours, mins = minutes // 1440, minutes // 60, minutes % 60
    if days:
        return pgettext("countdown", "%(d)sd %(h)sh") % {"d": days, "h": hours % 24}
    if hours:
        return pgettext("countdown", "%(h)sh %(m)sm") % {"h": hours, "m": mins}
    return pgettext("countdown", "%(m)sm") % {"m": mins}


def _clocks(cv, now) -> list[dict]:
    out = []
    for target, clock in cv.clocks.items():
        state = clock.state(now)
        out.append(
            {
                "target": target,
                "label": TARGET_TEXT.get(target, target),
                "state": state,
                "state_label": STATE_TEXT.get(state, state),
                "deadline": clock.deadline(now),
                "met_at": clock.met_at,
                # a paused clock has no deadline yet (it moves while the wait lasts): what is left
                "paused_text": _("%(t)s left once it runs again") % {"t": _span_text(clock.remaining(now))}
                if state == "paused"
                else "",
            }
        )
    return out


def _abilities(cv, now, user) -> dict[str, bool]:
    """Which forms to show: derived from the moves the workflow offers this party (the service
    decides for real)."""
    case, party, moves = cv.case, cv.party, set(cv.moves)
    supervisor = user.is_superuser or user.role == Role.ADMIN
    active = case.status not in workflow.FINAL
    agent = party == Party.AGENT
    # with the platform, the parties may still agree while the merchant's time to settle runs
    settling = services.settling(case, now)
    return {
        "reply": active and party in (Party.CONSUMER, Party.MERCHANT, Party.AGENT, Party.ARBITRATOR),
        "internal": party in (Party.AGENT, Party.ARBITRATOR),
        "evidence": active and party in (Party.CONSUMER, Party.MERCHANT, Party.AGENT, Party.ARBITRATOR),
        "acknowledge": "acknowledge" in moves,
        "take": agent and active and case.owner_id is None,
        "forward": "route_to_merchant" in moves and bool(case.merchant_id),
        # a case filed without its order (an e-mail, a call): linked once the consumer names it
        "link_order": active
        and case.order_id is None
        and party in (Party.AGENT, Party.ARBITRATOR, Party.CONSUMER),
        "materials": active and party in (Party.AGENT, Party.ARBITRATOR),
        "ask_merchant": party in (Party.AGENT, Party.ARBITRATOR)
        and case.status in (workflow.ESCALATED, workflow.PLATFORM_REVIEW)
        and bool(case.merchant_id),
        "hand_over": agent and active and (case.owner_id in (None, user.pk) or supervisor),
        "resolve": agent and "resolve" in moves,
        "reject": "reject" in moves,
        "merge": agent and "merge" in moves,
        "propose": party in (Party.MERCHANT, Party.AGENT)
        and (case.status in (workflow.AWAITING_MERCHANT, workflow.NEGOTIATING) or settling),
        "decide": "agree" in moves,  # (offered with the platform only while the time to settle runs)
        "execute": party in (Party.MERCHANT, Party.AGENT) and case.status == workflow.EXECUTING,
        "return_ship": party in (Party.CONSUMER, Party.AGENT) and case.status == workflow.EXECUTING,
        "intervention": "request_intervention" in moves and party != Party.SYSTEM,
        "withdraw": "withdraw" in moves,
        "appeal": "appeal" in moves and case.appeal_deadline is not None and case.appeal_deadline > now,
        "reopen": "reopen" in moves,
        "rate": party == Party.CONSUMER
        and case.status in (workflow.RESOLVED, workflow.CLOSED)
        and cv.rating is None,
        "start_review": "start_review" in moves,
        "rule": "rule" in moves,
    }


#: The forms shown in the side panel's "Actions" (the others sit next to what they act on).
SIDE_ACTIONS = (
    "take",
    "start_review",
    "acknowledge",
    "link_order",
    "forward",
    "materials",
    "ask_merchant",
    "hand_over",
    "intervention",
    "appeal",
    "reopen",
    "resolve",
    "merge",
    "reject",
    "withdraw",
)


def _case_context(request, cv, *, error: dict | None = None) -> dict:
    now = timezone.now()
    case = cv.case
    platform = cv.party in (Party.AGENT, Party.ARBITRATOR, OBSERVER)
    can = _abilities(cv, now, request.user)
    intervention_from = None
    if can["intervention"] and cv.party == Party.CONSUMER:
        rejected = any(p.status == Proposal.Status.REJECTED for p in cv.proposals)
        can["intervention"], intervention_from = services.intervention_offer(
            case, now=now, proposal_rejected=rejected
        )
    language = get_language() or "zh-hans"
    notice = _notice(cv)
    return {
        "intervention_from": intervention_from,
        # what may still be refunded for the purchase, over every case about it
        "refund_left": services.refundable_left(case) if can["propose"] or can["rule"] else None,
        # with the platform, but the merchant may still settle (or send evidence) until then
        "settle_by": case.settle_by if services.settling(case, now) else None,
        "merchant_answered": platform and services.merchant_acted_since_escalation(case),
        # what the platform asked for while deciding, and by when (the consumer's banner)
        "platform_asks": _platform_asks(
            case, Party.MERCHANT if cv.party == Party.MERCHANT else Party.CONSUMER
        )
        if cv.party in (Party.CONSUMER, Party.MERCHANT, Party.AGENT, Party.ARBITRATOR)
        else None,
        "merchant_asked": _platform_asks(case, Party.MERCHANT) if platform else None,
        "postage_limit": postage_rules.LIMIT_FEN,
        "safety_words": _safety_words(case) if cv.party == Party.CONSUMER else "",
        # the consumer picks which of their orders a case filed without one is about
        "link_order_choices": _my_orders(request.user)
        if can["link_order"] and cv.party == Party.CONSUMER
        else [],
        "cv": cv,
        "case": case,
        "platform": platform,
        "timeline": _timeline(cv),
        "clocks": _clocks(cv, now),
        "notice": notice,
        # the items told in words a consumer's message can answer (what happened, the product kept...)
        "answerable": _answerable(cv, notice) if cv.party == Party.CONSUMER and can["reply"] else [],
        "can": can,
        "any_action": any(can[k] for k in SIDE_ACTIONS),
        "now": now,
        "error": error,
        "posted": request.POST if error else {},
        "posted_items": request.POST.getlist("items") if error else [],
        "triage_reasons": _triage_reasons(case) if platform else [],
        "sla_policy_label": selectors.policy_label(case, language) if platform else "",
        "consumer_language": dict(settings.LANGUAGES).get(services.consumer_language(case), ""),
        # what the consumer was asked for (merchants' files are their own: "something else")
        "material_choices": [
            (i.code, i.label(language), i.required) for i in materials.checklist(case.problem_type, case.kind)
        ]
        if cv.party != Party.MERCHANT
        else [],
        # a return's postage is refunded with the price unless it is a no-reason return
        "merchant_pays_postage": postage_rules.merchant_pays(case.problem_type),
        # the proposal form starts at what the consumer asked for
        "asked_remedy": {CaseKind.REFUND_ONLY: RemedyKind.REFUND}.get(case.kind, case.kind),
        "remedy_kinds": RemedyKind.choices,
        # the bases this case may be compensated on (injury: safety cases; unsafe food: food),
        # each with what may still be granted on it for this purchase
        "compensation_bases": [
            (b, CompensationBasis(b).label, left, due)
            for b, left, due in services.compensation_room(case, ruling=cv.party == Party.ARBITRATOR)
        ]
        if can["propose"] or can["rule"]
        else [],
        # another agent than the one who owns it, or who is handing it over
        "handover_agents": [
            a for a in services.agents_by_load(exclude=case.owner_id) if a.pk != request.user.pk
        ]
        if can["hand_over"]
        else [],
        "outcomes": Ruling.Outcome.choices,
        "open_proposals": [p for p in cv.proposals if p.status == Proposal.Status.OPEN],
        "filed": request.GET.get("filed") == "1",
        # just filed: what happens next and by when, as the acknowledgement says it
        "next_steps": services.next_steps(case)
        if request.GET.get("filed") == "1" and cv.party == Party.CONSUMER and case.status in workflow.OPEN
        else [],
        "reply_templates": _reply_templates(request.user, cv) if can["reply"] else None,
    }


def _platform_asks(case, party: str) -> dict | None:
    """What the platform asked of `party` while deciding and by when (its banner), or None."""
    request = selectors.platform_request(case, party)
    if request is None or case.status not in (workflow.ESCALATED, workflow.PLATFORM_REVIEW):
        return None
    if party == Party.MERCHANT:
        return {"items": request.reason, "due": request.due_at}
    known = materials.catalogue(case.problem_type, case.kind)
    language = get_language() or "zh-hans"
    labels = [known[i["code"]].label(language) if i["code"] in known else i["code"] for i in request.items]
    return {"items": languages.join_items(labels), "due": request.due_at}


def _reply_templates(user, cv) -> dict | None:
    """Ready replies for the message form: options grouped by language, the consumer's language
    first and named so, and their texts (for app.js to insert) keyed by option value."""
    rows = selectors.reply_templates(user, cv.case.number)
    if not rows:
        return None
    theirs = {"zh-hans": "zh", "en": "en"}.get(services.consumer_language(cv.case), "")
    order = sorted((("zh", "中文"), ("en", "English")), key=lambda pair: pair[0] != theirs)
    groups = [
        (
            _("%(language)s (the consumer's language)") % {"language": label}
            if language == theirs
            else label,
            [(f"{t.language}:{t.slug}", t.title) for t in rows if t.language == language],
        )
        for language, label in order
    ]
    return {"groups": groups, "texts": {f"{t.language}:{t.slug}": t.body for t in rows}}


def _case_page(request, number: str, *, error: dict | None = None, status: int = 200, seen: bool = False):
    try:
        cv = selectors.case_view(request.user, number)
    except DomainError as exc:
        return _error_page(request, exc)
    if seen:  # the page shows what the reader's alerts about this case said
        services.mark_alerts_read(actor=request.user, case=cv.case)
    return render(request, "complaints/case.html", _case_context(request, cv, error=error), status=status)


# --- lists ---------------------------------------------------------------------------------------------


def _queue_rows(rows) -> list[dict]:
    return [
        {
            "row": r,
            "case": r.case,
            "target_label": TARGET_TEXT.get(r.target, ""),
            "state_label": STATE_TEXT.get(r.state, r.state),
            # a paused clock does not run: what will be left when it does (not a countdown)
            "paused_text": _("%(t)s left once it runs again") % {"t": _span_text(r.paused_left)}
            if r.paused_left is not None
            else "",
        }
        for r in rows
    ]


def _all_cases_context(request) -> dict:
    """Every case the user may see, filtered (status, priority, problem type) and searched."""
    filters = {}
    for name, choices in (("status", CaseStatus), ("priority", Priority), ("problem_type", ProblemType)):
        value = request.GET.get(name, "")
        if value in choices.values:
            filters[name] = value
    q = request.GET.get("q", "")[:100]  # find_cases normalises the spaces
    qs = selectors.find_cases(request.user, q=q, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page": page,
        "filters": filters,
        "q": q,
        "statuses": CaseStatus.choices,
        "priorities": Priority.choices,
        "problem_types": ProblemType.choices,
        "query": params.urlencode(),
    }


@login_required
@require_GET
def case_list(request):
    user = request.user
    desk = _desk(user)
    # work desks also have every case they may see, searchable (view=all); observers only that
    wants_all = request.GET.get("view") == "all" and desk != "consumer"
    view = "all" if desk == OBSERVER or wants_all else "queue"
    context = {"desk": desk, "view": view}
    try:
        if not desk:
            raise Http404
        if view == "all":
            context.update(_all_cases_context(request))
        elif desk == "consumer":
            page = Paginator(selectors.consumer_cases(user), PAGE_SIZE).get_page(request.GET.get("page"))
            context.update(
                page=page, rows=[{"case": c, "next_step": selectors.consumer_next_step(c)} for c in page]
            )
        elif desk == "merchant":
            context["rows"] = _queue_rows(selectors.merchant_queue(user))
        elif desk == "arbitrator":
            context["rows"] = _queue_rows(selectors.arbitration_queue(user))
        elif desk == "agent":
            scope = request.GET.get("scope", "mine")
            scope = scope if scope in ("mine", "unassigned", "all") else "mine"
            context.update(scope=scope, rows=_queue_rows(selectors.agent_queue(user, scope=scope)))
    except DomainError as exc:
        return _error_page(request, exc)
    if _is_htmx(request) and desk != "consumer":
        return render(
            request,
            "complaints/_observer_table.html" if view == "all" else "complaints/_queue.html",
            context,
        )
    return render(request, "complaints/list.html", context)


# --- intake ----------------------------------------------------------------------------------------


#: Between the order and the item in the value of an intake form's order choice.
ITEM_SEP = "::"


def split_order_choice(value: str | None) -> tuple[str | None, str | None]:
    """(order external id, item external id) of a value from :func:`order_choices`."""
    order, _sep, item = (value or "").partition(ITEM_SEP)
    return order or None, item or None


UNUSUAL_ORDER_STATUS = frozenset({OrderStatus.PENDING, OrderStatus.CANCELLED, OrderStatus.REFUNDED})
#: how many of a consumer's orders the intake form lists (newest first); older ones are typed
INTAKE_ORDERS = 50


def order_choices(orders) -> list[dict]:
    """The consumer's orders for the intake form: an order of one item is one choice; an order of
    several is a group with a choice per item (what the claim is limited to and which product it
    blames) and one for the whole order."""
    out = []
    for o in orders:
        items = sorted(o.items.all(), key=lambda i: i.pk)
        when = timezone.localtime(o.placed_at).strftime("%Y-%m-%d")
        # an order that was never paid or was cancelled or refunded says so
        status = str(o.get_status_display()) if o.status in UNUSUAL_ORDER_STATUS else ""
        if len(items) <= 1:
            title = items[0].product.title if items else ""
            parts = (o.external_id, title, format_yuan(o.paid_amount_fen), when, status)
            out.append(
                {
                    "value": o.external_id,
                    "label": " · ".join(p for p in parts if p),
                    "paid": o.paid_amount_fen,
                }
            )
            continue
        options = [
            {
                "value": f"{o.external_id}{ITEM_SEP}{i.external_id}",
                "label": f"{i.product.title} · {format_yuan(i.paid_amount_fen)}",
                "paid": i.paid_amount_fen,
            }
            for i in items
        ]
        whole = _("The whole order · %(total)s") % {"total": format_yuan(o.paid_amount_fen)}
        options.append({"value": o.external_id, "label": whole, "paid": o.paid_amount_fen})
        out.append({"group": " · ".join(p for p in (o.external_id, when, status) if p), "options": options})
    return out


def _my_orders(user) -> list[dict]:
    """The consumer's latest orders as choices (as on the intake form)."""
    return order_choices(_recent_orders(user))


def _recent_orders(user, wanted: str | None = None) -> list:
    """The consumer's latest INTAKE_ORDERS orders, newest first, with `wanted` (an order asked
    for by number) added when it is theirs and older."""
    mine = catalog.visible_orders(user).prefetch_related("items__product")
    listed = list(mine.order_by("-placed_at", "-pk")[:INTAKE_ORDERS])
    if wanted and all(o.external_id != wanted for o in listed):
        listed += list(mine.filter(external_id=wanted))
    return listed


ACCEPT_ATTRIBUTE = {"image": "image/*", "video": "video/*", "pdf": "application/pdf", "text": "text/plain"}
#: the intake form's own input for files that show nothing on the list
OTHER_FILES = "supporting_files"


def _intake_materials(posted) -> dict:
    """The one-time notice (一次性告知) on the intake form itself: a slot per item (a file input,
    or a hint to say it in the description), and which items each problem type and kind ask for
    ("" = let us decide: the items every case needs). The page's script shows the list for what
    is chosen; without script, the list for what was posted."""
    language = get_language() or "zh-hans"
    lists = {
        f"{problem_type}|{kind}": [
            [i.code, i.required]
            for i in materials.checklist(problem_type or "other", kind)
            if i.code != OTHER_FILES
        ]
        for problem_type in ["", *ProblemType.values]
        for kind in CaseKind.values
    }
    kind = posted.get("kind") if posted.get("kind") in CaseKind.values else CaseKind.values[0]
    problem_type = posted.get("problem_type") if posted.get("problem_type") in ProblemType.values else ""
    current = dict(lists[f"{problem_type}|{kind}"])
    items = materials.catalogue()
    order = [*current, *(code for code in items if code not in current and code != OTHER_FILES)]
    slots = [
        {
            "code": code,
            "label": items[code].label(language),
            "shown": code in current,
            "required": current.get(code, False),
            "files": items[code].accepts != ("text",),
            "later": code in materials.LATER,
            "accept": ",".join(ACCEPT_ATTRIBUTE[a] for a in items[code].accepts),
        }
        for code in order
    ]
    return {"slots": slots, "lists": lists}


def _intake_uploads(request) -> list[tuple[object, str]]:
    """The files sent with the intake form, each with the item of the list it was chosen for
    ("" for the form's input for other files)."""
    uploads = [(f, "") for f in request.FILES.getlist("files")]
    for key in request.FILES:
        if key.startswith("files_"):
            uploads += [(f, key.removeprefix("files_")) for f in request.FILES.getlist(key)]
    return uploads


ORDER_TWICE_TEXT = gettext_lazy("The number typed is not the order chosen in the list: clear one of them.")
#: the intake form's input for each field a refusal can name
_INTAKE_INPUTS = {"item": "id_order", "amount_claimed": "id_amount", "safety_confirmed": "id_safety"}


def _intake_context(request, *, staff: bool, error: dict | None = None) -> dict:
    if error and error.get("field"):
        field, key = error["field"], error.get("key")
        error["anchor"] = (
            (f"id_files_{key}" if key else "id_files")
            if field == "files"
            else _INTAKE_INPUTS.get(field, f"id_{field}")
        )
    posted = request.POST if request.method == "POST" else {"order": request.GET.get("order", "")}
    orders, chosen = [], ""
    if not staff:
        # an older order asked for (from its page, or typed) is listed too, and chosen
        chosen = plain(posted.get("order_number") or "").strip() or plain(posted.get("order") or "")
        orders = order_choices(_recent_orders(request.user, split_order_choice(chosen)[0]))
    return {
        "staff": staff,
        "orders": orders,
        "chosen_order": chosen,
        "listed_orders": INTAKE_ORDERS,
        "materials": _intake_materials(posted),
        "kinds": CaseKind.choices,
        "problem_types": ProblemType.choices,
        "channels": [(c, CHANNEL_TEXT[c]) for c in (Channel.HOTLINE, Channel.CHAT, Channel.EMAIL)],
        "posted": posted,
        "error": error,
    }


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request):
    user = request.user
    desk = _desk(user)
    if desk not in ("consumer", "agent"):
        return _error_page(request, PermissionDenied(_("Your role may not file cases.")))
    staff = desk == "agent"
    if request.method == "GET":
        return render(request, "complaints/new.html", _intake_context(request, staff=staff))
    form = _Input(request.POST)
    order, item = split_order_choice(form.optional("order"))
    typed = services.typed_external_id(form.optional("order_number") or "")  # older than those listed
    uploads, error = [], None
    if typed and order and typed != order:
        error, status = {"field": "order_number", "message": str(ORDER_TWICE_TEXT)}, 422
    elif typed:
        order = typed  # the list, when it names the same order, also names the item
    # the files first: a file refused for what it is leaves nothing filed (the form comes back
    # with the error at that file's place)
    for upload, code in [] if error else _intake_uploads(request):
        try:
            services.refuse_oversized(upload.size)
            services.check_evidence_file(upload.name, upload.read(), upload.content_type)
        except DomainError as exc:
            error = {"field": "files", "key": code, "message": f"{upload.name}: {exc.message}"}
            status = exc.status
            break
        upload.seek(0)  # read again when stored: one file in memory at a time
        uploads.append((upload, code))
    if error is None:
        try:
            intake = services.submit_case(
                actor=user,
                channel=form.text("channel") if staff else Channel.WEB,
                kind=form.text("kind"),
                title=form.text("title"),
                description=form.text("description"),
                problem_type=form.optional("problem_type"),
                order_external_id=order,
                item_external_id=item,
                buyer_external_id=form.optional("buyer") if staff else None,
                buyer_phone=form.text("buyer_phone") if staff else "",
                contact_email=form.text("contact_email").strip() if staff else "",
                amount_claimed=form.optional("amount_claimed"),
                safety_confirmed=form.flag("safety_confirmed"),
            )
        except DomainError as exc:
            error, status = {"field": _field(exc), "message": exc.message}, exc.status
    if error is not None:
        return render(
            request, "complaints/new.html", _intake_context(request, staff=staff, error=error), status=status
        )
    number = intake.case.number
    for upload, code in uploads:
        try:
            services.add_evidence(
                actor=user,
                number=number,
                filename=upload.name,
                data=upload.read(),
                declared_type=upload.content_type,
                material_code=code,
                with_intake=True,
            )
        except DomainError as exc:
            messages.error(request, f"{upload.name}: {exc.message}")
    messages.success(request, _("Case %(number)s filed.") % {"number": number})
    if intake.duplicate_of is not None:
        messages.warning(
            request,
            _("This looks like case %(number)s, still open: an agent may merge them.")
            % {"number": intake.duplicate_of.number},
        )
    return redirect(reverse("complaints:detail", args=[number]) + "?filed=1")


# --- the case page and its actions --------------------------------------------------------------------


@login_required
@require_GET
def case_detail(request, number: str):
    return _case_page(request, number, seen=True)


def _upload(request, number, form):
    files = request.FILES.getlist("file")
    if not files:
        raise InvalidInput(_("Choose a file."), field="file")
    last = None
    for i, upload in enumerate(files):
        try:
            services.refuse_oversized(upload.size)
            last = services.add_evidence(
                actor=request.user,
                number=number,
                filename=upload.name,
                data=upload.read(),
                declared_type=upload.content_type,
                material_code=form.text("material_code"),
                internal=form.flag("internal"),
                version=form.version if i == 0 else None,  # each file bumps the version
            )
        except DomainError as exc:
            raise type(exc)(
                f"{upload.name}: {exc.message}", code=exc.code, field=_field(exc) or "file"
            ) from None
    return last


# action -> (call, the fields its form shows). Each call is one service.
#: What a refused field is called in the banner at the top of the case page.
FIELD_LABELS = {
    "what": gettext_lazy("What the merchant must send"),
    "order": gettext_lazy("Order number"),
    "item": gettext_lazy("Item number (optional)"),
    "postage": gettext_lazy("Postage you paid (yuan, optional)"),
    "amount": gettext_lazy("Amount"),
    "body": gettext_lazy("Message"),
    "carrier": gettext_lazy("Carrier"),
    "comment": gettext_lazy("Comment"),
    "compensation_basis": gettext_lazy("Legal basis of the compensation"),
    "duplicate": gettext_lazy("Duplicate case"),
    "items": gettext_lazy("Materials"),
    "message": gettext_lazy("Message"),
    "note": gettext_lazy("Note"),
    "outcome": gettext_lazy("Outcome"),
    "payment_reference": gettext_lazy("Payment reference"),
    "primary": gettext_lazy("Case to keep"),
    "reason": gettext_lazy("Reason"),
    "reasons": gettext_lazy("Reasons"),
    "remedy": gettext_lazy("Remedy"),
    "repair_due": gettext_lazy("Repair done by"),
    "return_address": gettext_lazy("Return address"),
    "score": gettext_lazy("Rating"),
    "to_username": gettext_lazy("Agent"),
    "tracking_number": gettext_lazy("Tracking number"),
}

ACTIONS = {
    "acknowledge": (
        lambda r, n, f: services.acknowledge_case(
            actor=r.user, number=n, version=f.version, message=f.text("message")
        ),
        {"message"},
    ),
    "take": (lambda r, n, f: services.take_case(actor=r.user, number=n, version=f.version), set()),
    "forward": (
        lambda r, n, f: services.forward_to_merchant(
            actor=r.user, number=n, version=f.version, message=f.text("message")
        ),
        {"message"},
    ),
    "link-order": (
        lambda r, n, f: services.link_order(
            actor=r.user,
            number=n,
            # typed (the agent), or chosen in the consumer's list of orders ("order::item")
            order_external_id=split_order_choice(f.text("order"))[0] or "",
            item_external_id=f.optional("item") or split_order_choice(f.text("order"))[1],
            address_confirmed=f.text("address_confirmed"),
            version=f.version,
        ),
        {"order", "item", "address_confirmed"},
    ),
    "ask-merchant": (
        lambda r, n, f: services.ask_merchant(actor=r.user, number=n, what=f.text("what"), version=f.version),
        {"what"},
    ),
    "add-mail": (
        lambda r, n, f: services.add_refused_mail(
            actor=r.user, number=n, event_id=f.integer("event_id"), version=f.version
        ),
        {"event_id"},
    ),
    "materials": (
        lambda r, n, f: services.request_materials(
            actor=r.user, number=n, items=f.items("items"), reason=f.text("reason"), version=f.version
        ),
        {"items", "reason"},
    ),
    "hand-over": (
        lambda r, n, f: services.hand_over_case(
            actor=r.user,
            number=n,
            to_username=f.text("to_username").strip(),
            reason=f.text("reason"),
            version=f.version,
        ),
        {"to_username", "reason"},
    ),
    "resolve": (
        lambda r, n, f: services.resolve_case(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "reject": (
        lambda r, n, f: services.reject_case(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "merge": (
        lambda r, n, f: services.merge_cases(
            actor=r.user,
            primary=f.text("primary").strip() or n,
            duplicate=f.text("duplicate").strip(),
            version=f.version,
        ),
        {"duplicate"},  # "primary" is a hidden input: refused at the form's top
    ),
    "message": (
        lambda r, n, f: services.post_message(
            actor=r.user,
            number=n,
            body=f.text("body"),
            internal=f.flag("internal"),
            version=f.version,
            material_code=f.text("material_code"),
        ),
        {"body", "material_code"},
    ),
    "evidence": (_upload, {"file", "material_code"}),
    "propose": (
        lambda r, n, f: services.make_proposal(
            actor=r.user,
            number=n,
            remedy=f.text("remedy"),
            amount=f.optional("amount"),
            note=f.text("note"),
            compensation_basis=f.text("compensation_basis"),
            version=f.version,
        ),
        {"remedy", "amount", "note", "compensation_basis"},
    ),
    "decide": (
        lambda r, n, f: services.decide_proposal(
            actor=r.user,
            number=n,
            proposal_id=f.integer("proposal_id"),
            accept=f.text("decision") == "accept",
            note=f.text("note"),
            version=f.version,
        ),
        {"note"},
    ),
    "execute": (
        lambda r, n, f: services.execute_remedy(
            actor=r.user,
            number=n,
            remedy_id=f.integer("remedy_id"),
            payment_reference=f.text("payment_reference"),
            carrier=f.text("carrier"),
            tracking_number=f.text("tracking_number"),
            repair_due=f.day("repair_due"),
            version=f.version,
        ),
        {"payment_reference", "carrier", "tracking_number", "repair_due"},
    ),
    "return-shipped": (
        lambda r, n, f: services.record_return_shipped(
            actor=r.user,
            number=n,
            remedy_id=f.integer("remedy_id"),
            carrier=f.text("carrier"),
            tracking_number=f.text("tracking_number"),
            postage=f.text("postage") or None,
            version=f.version,
        ),
        {"carrier", "tracking_number", "postage"},
    ),
    "return-address": (
        lambda r, n, f: services.set_return_address(
            actor=r.user,
            number=n,
            remedy_id=f.integer("remedy_id"),
            address=f.text("return_address"),
            version=f.version,
        ),
        {"return_address"},
    ),
    "return-received": (
        lambda r, n, f: services.record_return_received(
            actor=r.user,
            number=n,
            remedy_id=f.integer("remedy_id"),
            intact=not f.flag("not_intact"),
            note=f.text("note"),
            version=f.version,
        ),
        {"note"},
    ),
    "intervention": (
        lambda r, n, f: services.request_intervention(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "withdraw": (
        lambda r, n, f: services.withdraw_case(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "appeal": (
        lambda r, n, f: services.appeal_ruling(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "reopen": (
        lambda r, n, f: services.reopen_case(
            actor=r.user, number=n, reason=f.text("reason"), version=f.version
        ),
        {"reason"},
    ),
    "rate": (
        lambda r, n, f: services.rate_case(
            actor=r.user,
            number=n,
            score=f.integer("score", required=False),
            comment=f.text("comment"),
            version=f.version,
        ),
        {"score", "comment"},
    ),
    "review": (lambda r, n, f: services.start_review(actor=r.user, number=n, version=f.version), set()),
    "ruling": (
        lambda r, n, f: services.record_ruling(
            actor=r.user,
            number=n,
            outcome=f.text("outcome"),
            reasons=f.text("reasons"),
            remedy=f.text("remedy"),
            amount=f.optional("amount"),
            compensation_basis=f.text("compensation_basis"),
            version=f.version,
        ),
        {"outcome", "reasons", "remedy", "amount", "compensation_basis"},
    ),
}


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request, number: str, action: str):
    if action not in ACTIONS:
        raise Http404
    if request.method == "GET":  # a reload or a language switch on a page a refused form left: the case
        return redirect("complaints:detail", number)
    call, fields = ACTIONS[action]
    form = _Input(request.POST)
    try:
        result = call(request, number, form)
    except DomainError as exc:
        field = _field(exc)
        field = field if field in fields else ""
        error = {
            "form": action,
            "key": request.POST.get("proposal_id") or request.POST.get("remedy_id") or "",
            "field": field,
            # every field refused at once ("carrier" and "tracking_number" both empty), each with its reason
            "field_errors": list({e.field: e.message for e in exc.errors if e.field in fields}.items()),
            "label": FIELD_LABELS.get(field, ""),
            "message": exc.message,
            "code": exc.code,
            "number": number,
        }
        if _is_htmx(request):
            response = render(request, "complaints/_form_error.html", {"error": error}, status=exc.status)
            response["HX-Retarget"] = f"#err-{action}"
            response["HX-Reswap"] = "innerHTML"
            return response
        return _case_page(request, number, error=error, status=exc.status)
    if action == "message" and _is_htmx(request):
        try:
            cv = selectors.case_view(request.user, number)
        except DomainError as exc:
            return _error_page(request, exc)
        response = render(request, "complaints/_timeline.html", {**_case_context(request, cv), "oob": True})
        response["X-Case-Version"] = str(cv.case.version)
        return response
    messages.success(request, _done_text(action, result))
    target = result.number if isinstance(result, Case) else number
    return redirect(
        reverse("complaints:detail", args=[target]) + ("#timeline" if action == "message" else "")
    )


def _stream(request, number: str, evidence_id: int, *, thumbnail: bool):
    try:
        if thumbnail:
            evidence = selectors.evidence_file(request.user, evidence_id, number=number)
        else:
            evidence, download = selectors.evidence_download(request.user, evidence_id, number=number)
    except DomainError:
        raise Http404 from None
    if thumbnail:
        if not evidence.blob.thumbnail:
            raise Http404
        response = FileResponse(evidence.blob.thumbnail.open("rb"), content_type="image/jpeg")
    else:
        inline = evidence.kind == "image"
        response = FileResponse(
            download.file.open("rb"),
            content_type=download.mime,
            as_attachment=not inline,
            filename=evidence.filename,
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def case_export(request, number: str):
    """The case file as a ZIP (agents, arbitrators, admins)."""
    try:
        name, data = services.export_case(actor=request.user, number=number)
    except DomainError as exc:
        return _error_page(request, exc)
    return FileResponse(data, as_attachment=True, filename=name, content_type="application/zip")


@login_required
@require_GET
def evidence_download(request, number: str, evidence_id: int):
    return _stream(request, number, evidence_id, thumbnail=False)


@login_required
@require_GET
def evidence_thumbnail(request, number: str, evidence_id: int):
    return _stream(request, number, evidence_id, thumbnail=True)


# --- dashboard, breach report, alerts ------------------------------------------------------------------


def _percent(share: float) -> str:
    """0.8 -> "80%", 0.02 -> "2%": target texts come from the same figures as the checks."""
    return f"{share * 100:g}%"


def _share_text(share: float | None, digits: int = 1) -> str:
    """0.4567 -> "45.7%"; no figure -> "—"."""
    return f"{share * 100:.{digits}f}%" if share is not None else "—"


def _ratio_card(label, value, target, *, higher_is_better: bool, target_text) -> dict:
    met = None
    if value is not None and target is not None:
        met = value >= target if higher_is_better else value <= target
    return {
        "label": label,
        "value": _share_text(value),
        "target": target_text,
        "met": met,
    }


def _with_pending(target_text: str, pending: int | None) -> str:
    """A card's target, followed by how many cases are still inside their window (not counted
    yet) when there are any: "target ≥ 80% · 3 cases not yet due"; nothing about them when 0."""
    if not pending:
        return target_text
    more = ngettext("%(n)s case not yet due", "%(n)s cases not yet due", pending) % {"n": pending}
    return f"{target_text} · {more}"


def _violation_detail(violation) -> str:
    """What the violation was about, in words: the amount of an unanswered refund request, the
    deadline a ruling was not executed by."""
    details = violation.details or {}
    if isinstance(details.get("amount_fen"), int):
        return _("refund of %(amount)s") % {"amount": _money_text(details["amount_fen"])}
    due = parse_datetime(details["due"]) if isinstance(details.get("due"), str) else None
    if due is not None:
        return _("due %(at)s") % {"at": date_format(timezone.localtime(due), "Y-m-d H:i")}
    return ""


@login_required
@require_GET
def dashboard(request):
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    days = days if days in (7, 30, 90) else 30
    since = timezone.now() - timedelta(days=days)
    try:
        figures = selectors.metrics(request.user, since=since)
        series = selectors.daily_series(request.user, days=days)
        violations = list(selectors.violations(request.user, since=since)[:20])
    except DomainError as exc:
        return _error_page(request, exc)
    own_merchant = selectors.merchant_scope(request.user) is not None
    targets = figures["targets"]
    first_avg = figures["first_response_avg_hours"]
    cards = [
        {
            "label": _("Average first response"),
            "value": _("%(n)s h") % {"n": f"{first_avg:.1f}"} if first_avg is not None else "—",
            "target": _("target ≤ 24 h"),
            "met": first_avg <= 24 if first_avg is not None else None,
        },
        _ratio_card(
            _("First response by its deadline"),
            figures["first_response_within_24h"],
            targets["first_response_within_24h"],
            higher_is_better=True,
            target_text=_with_pending(_("target: every case"), figures["first_response_pending"]),
        ),
        _ratio_card(
            _("Resolved by its deadline"),
            figures["resolved_within_48h"],
            targets["resolved_within_48h"],
            higher_is_better=True,
            target_text=_with_pending(
                _("goal ≥ %(n)s · each case's SLA deadline (on its policy's calendar, pauses left out)")
                % {"n": _percent(targets["resolved_within_48h"])},
                figures["resolution_pending"],
            ),
        ),
        _ratio_card(
            _("Resolved within 48 h of filing"),
            figures["resolved_within_48h_elapsed"],
            targets["resolved_within_48h"],
            higher_is_better=True,
            target_text=_("goal ≥ %(n)s · 48 hours from filing on the clock, pauses included")
            % {"n": _percent(targets["resolved_within_48h"])},
        ),
        _ratio_card(
            _("Satisfaction (CSAT)"),
            figures["csat"],
            targets["csat"],
            higher_is_better=True,
            target_text=_("target ≥ %(n)s") % {"n": _percent(targets["csat"])},
        ),
        _ratio_card(
            _("Complaint rate"),
            figures["complaint_rate"],
            targets["complaint_rate"],
            higher_is_better=False,
            target_text=_("target ≤ %(n)s · %(with_case)s of %(orders)s paid orders placed in the period")
            % {
                "n": _percent(targets["complaint_rate"]),
                "with_case": figures["orders_with_case"],
                "orders": figures["orders"],
            },
        ),
        _ratio_card(
            _("Intervention rate"),
            figures["intervention_rate"],
            None,
            higher_is_better=False,
            # JD's dispute rate: orders taken to the platform in the period (whenever placed) over
            # the paid orders placed in it; the first are not a subset of the second
            target_text=_(
                "%(disputed)s orders went to the platform in the period, over %(orders)s paid orders placed in it"
            )
            % {"disputed": figures["disputed_orders"], "orders": figures["valid_orders"]},
        ),
        {
            "label": _("Cases"),
            "value": figures["cases"],
            "target": _("filed in the period"),
            "met": None,
        },
        {
            "label": _("Ratings"),
            "value": figures["ratings"],
            "target": _("mean %(n)s / 5")
            % {"n": figures["csat_mean"] if figures["csat_mean"] is not None else "—"},
            "met": None,
        },
    ]

    bot = figures.get("assistant")
    if bot and bot["questions"]:
        cards += [
            _ratio_card(
                _("Assistant answered"),
                bot["answered"],
                None,
                higher_is_better=True,
                target_text=_("%(n)s questions") % {"n": bot["questions"]},
            ),
            _ratio_card(
                _("Assistant answers found helpful"),
                bot["helpful"],
                None,
                higher_is_better=True,
                target_text=_("of the rated answers"),
            ),
            _ratio_card(
                _("Passed from the assistant to a person"),
                bot["handed_off"],
                None,
                higher_is_better=False,
                target_text=_("%(n)s conversations") % {"n": bot["conversations"]},
            ),
        ]

    def worst(rows, code_key, name_key):
        english = (get_language() or "").startswith("en")
        rows = [
            {
                "code": r[code_key],
                "name": (english and r.get(name_key.replace("_zh", "_en"))) or r[name_key],
                "cases": r["cases"],
                "orders": r["orders"],
                "rate": r["rate"],
                "rate_pct": _share_text(r["rate"], 2),
                "over": r["rate"] is not None and r["rate"] > targets["complaint_rate"],
            }
            for r in rows
        ]
        return sorted(rows, key=lambda r: (r["rate"] is None, -(r["rate"] or 0), -r["cases"]))

    chart = {
        **series,
        "labels": {
            "opened": _("Cases opened"),
            "resolved": _("Resolved by its deadline"),
            "csat": _("CSAT"),
            "target": _("Target"),
        },
        "targets": {"resolved": targets["resolved_within_48h"], "csat": targets["csat"]},
    }
    return render(
        request,
        "complaints/dashboard.html",
        {
            "cards": cards,
            "figures": figures,
            "days": days,
            "chart": chart,
            "chart_targets": {
                "resolved": _percent(targets["resolved_within_48h"]),
                "csat": _percent(targets["csat"]),
            },
            "worst_tables": [
                *(
                    []
                    if own_merchant
                    else [
                        (
                            _("Merchants"),
                            worst(figures["by_merchant"], "merchant__external_id", "merchant__name"),
                        )
                    ]
                ),
                (_("Products"), worst(figures["by_product"], "product__external_id", "product__title")),
                (
                    _("Categories"),
                    worst(figures["by_category"], "category__external_id", "category__name_zh"),
                ),
            ],
            "own_merchant": request.user.merchant if own_merchant else None,
            "agents": [
                {
                    **a,
                    "resolved_pct": _share_text(a["resolved_within_48h"], 0),
                    "csat_pct": _share_text(a["csat"], 0),
                }
                for a in figures.get("by_agent") or []
            ],
            "violations": [
                {
                    "at": v.at,
                    "case": v.case.number,
                    "merchant": v.merchant,
                    "kind": v.get_kind_display(),
                    "detail": _violation_detail(v),
                }
                for v in violations
            ],
            "by_status": [
                (STATUS_TEXT.get(k, k), v)
                for k, v in sorted(figures["by_status"].items(), key=lambda kv: -kv[1])
            ],
            "series_rows": list(
                zip(
                    series["days"],
                    series["opened"],
                    series["resolved_within_48h"],
                    series["csat"],
                    strict=True,
                )
            ),
            "can_export": request.user.is_superuser
            or request.user.role in (Role.AGENT, Role.ANALYST, Role.ADMIN),
        },
    )


@login_required
@require_GET
def breaches_csv(request):
    try:
        body = selectors.sla_breaches_csv(request.user)
    except DomainError as exc:
        return _error_page(request, exc)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="sla-breaches-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _my_alerts(user):
    return services.my_alerts(user)


@login_required
@require_GET
def alerts(request):
    page = Paginator(_my_alerts(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "alert": a,
            "label": alerts_text.label(a.kind),
            "target": TARGET_TEXT.get((a.data or {}).get("target"), ""),
        }
        for a in page
    ]
    return render(request, "complaints/alerts.html", {"page": page, "rows": rows})


@login_required
@require_POST
def alerts_read(request):
    services.mark_alerts_read(actor=request.user)
    return redirect("complaints:alerts")


@require_GET
def alerts_badge(request):
    if not request.user.is_authenticated:  # polled by every page: a lapsed session gets nothing to swap in
        return HttpResponse(status=204)
    unread = _my_alerts(request.user).filter(read_at__isnull=True).count()
    return render(request, "complaints/_alerts_badge.html", {"unread": unread})
