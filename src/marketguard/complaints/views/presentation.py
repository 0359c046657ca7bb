"""The case as each viewer reads it: the materials notice, the timeline, the clocks, which forms
to show, and everything the case page template is given. Reads only; no state changes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from marketguard.catalog.codes import mask_in_text
from marketguard.complaints import materials, selectors, services, workflow
from marketguard.complaints import postage as postage_rules
from marketguard.complaints.models import (
    Case,
    CaseKind,
    CompensationBasis,
    Party,
    Proposal,
    RemedyKind,
    Ruling,
)
from marketguard.complaints.views.common import (
    CHANNEL_TEXT,
    EVENT_TEXT,
    KIND_TEXT,
    OBSERVER,
    OUTCOME_TEXT,
    PARTY_TEXT,
    PROBLEM_TEXT,
    REMEDY_TEXT,
    SETTLE_PASSED_TEXT,
    STATE_TEXT,
    SYSTEM_REASON_TEXT,
    TARGET_TEXT,
    TRIAGE_TEXT,
    VIOLATION_TEXT,
    _money_text,
)
from marketguard.complaints.views.intake import _my_orders
from marketguard.core import languages
from marketguard.core.models import Role, User
from marketguard.core.money import format_yuan


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
        # (after "the platform decides": in brackets, so it is not read as what is decided)
        return pgettext("in brackets", "(%(what)s)") % {
            "what": SETTLE_PASSED_TEXT[bool(data.get("merchant_acted"))]
        }
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
    if event.type == "order_linked":  # how the agent confirmed a buyer with another address: the platform's
        return data.get("address_confirmed", "") if staff else ""
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
    staff = cv.show_personal  # (agents, arbitrators: those who handle personal data)
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
    related = selectors.related_cases(request.user, case) if platform else None
    return {
        "intervention_from": intervention_from,
        # the consumer's other cases (the platform's history of them), the newest few, and how many
        "related": list(related[: selectors.RELATED_SHOWN]) if related is not None else [],
        "related_count": related.count() if related is not None else 0,
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
