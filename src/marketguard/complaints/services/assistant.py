"""The smart customer service (智能客服): answers first, around the clock, before a person does.

A question gets, in this order: the personal-safety answer when triage reads a safety risk (stop
using it, we handle it first, file now); the consumer's own data when the question is about
their parcel, their 7-day return, their case or their refund; a help article found by
`assistant.Index`; or, when nothing fits well, the closest articles to choose from. Every
question and answer is kept (`AssistantTurn`), can be marked helpful or not, and a conversation
can be handed to a person: it becomes a case on the chat channel with the transcript.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketguard.catalog.models import Order
from marketguard.complaints import assistant, triage, workflow
from marketguard.complaints.models import (
    AssistantSession,
    AssistantTurn,
    CaseKind,
    Channel,
    HelpArticle,
    ProblemType,
    Remedy,
)
from marketguard.complaints.services.common import _cached, _clean_text, visible_cases
from marketguard.complaints.services.intake import Intake, check_no_reason_return, short_title, submit_case
from marketguard.core import languages, throttle
from marketguard.core.errors import InvalidInput, NotFound, PermissionDenied, Throttled
from marketguard.core.models import Role
from marketguard.core.money import format_yuan

MAX_QUESTION = 500
#: Questions per client address (or user) per minute: the assistant is public.
RATE_LIMIT = (30, 60)


@dataclass
class Reply:
    """What the assistant said, for the caller to show."""

    turn: AssistantTurn
    session_key: str
    text: str
    kind: str
    article: str | None = None  # slug
    suggestions: list[dict] = field(default_factory=list)  # [{"slug", "title"}]
    offer: dict | None = None  # what to file if the consumer wants a person: {"kind", "problem_type"}


def _index() -> tuple[assistant.Index, dict[str, HelpArticle]]:
    """The search index over the active articles, and their rows by slug. With no article in the
    database at all (a database emptied by hand or by a test), the shipped articles answer, as
    the default SLA policies do (`policies`); their turns then link no row."""

    def load():
        rows = list(HelpArticle.objects.filter(active=True))
        if not rows and not HelpArticle.objects.exists():
            return assistant.Index.build(assistant.load_articles()), {}
        articles = [
            assistant.Article(
                slug=r.slug,
                title_zh=r.title_zh,
                title_en=r.title_en,
                body_zh=r.body_zh,
                body_en=r.body_en,
                keywords=tuple(k.strip() for k in r.keywords.splitlines() if k.strip()),
                problem_type=r.problem_type or None,
                kind=r.kind or None,
            )
            for r in rows
        ]
        return assistant.Index.build(articles), {r.slug: r for r in rows}

    return _cached("assistant-index", load)


def _zh(language: str) -> bool:
    return (language or "").lower().startswith("zh")


def _title(article, language: str) -> str:
    return article.title_zh if _zh(language) else article.title_en


def _session(actor, key: str | None) -> AssistantSession:
    user = actor if actor is not None and actor.is_authenticated else None
    if key:
        session = AssistantSession.objects.filter(key=key).first()
        # a conversation is its owner's: someone else's key (or a signed-in user's, seen
        # anonymously) starts a new conversation instead of reading that one
        if session is not None and session.user_id == (user.pk if user else None):
            return session
        if session is not None and session.user_id is None and user is not None:
            session.user = user  # signed in during the conversation: it becomes theirs
            session.save(update_fields=["user"])
            return session
    return AssistantSession.objects.create(key=secrets.token_hex(16), user=user)


def ask_assistant(
    *,
    actor,
    question: str,
    session_key: str | None = None,
    language: str = "zh-hans",
    client: str = "",
) -> Reply:
    """Answer one question (anonymous visitors too). Never raises for what it does not understand:
    it says so and offers the closest articles and a person. `client` (the caller's address) is
    what an anonymous visitor is rate-limited by; a signed-in user by their account."""
    question = _clean_text(question, "question", limit=MAX_QUESTION)
    who = f"user:{actor.pk}" if actor is not None and actor.is_authenticated else f"addr:{client}"
    limit, window = RATE_LIMIT
    if not throttle.allow("assistant", who, limit=limit, window=window):
        raise Throttled(_("Too many questions in a short time. Please wait a minute."))
    with translation.override(language), transaction.atomic():
        session = _session(actor, session_key)
        index, rows = _index()
        reply = _answer(actor, question, language, index, rows)
        turn = AssistantTurn.objects.create(
            session=session,
            question=question,
            kind=reply["kind"],
            article=rows.get(reply.get("slug")),
            answer=reply["text"],
            score=reply.get("score"),
        )
    return Reply(
        turn=turn,
        session_key=session.key,
        text=reply["text"],
        kind=reply["kind"],
        article=reply.get("slug"),
        suggestions=reply.get("suggestions", []),
        offer=reply.get("offer"),
    )


def _answer(actor, question: str, language: str, index: assistant.Index, rows: dict) -> dict:
    signed_in = actor is not None and actor.is_authenticated
    consumer = signed_in and actor.role == Role.CONSUMER
    read = triage.triage(question)
    if read.safety:
        return {
            "kind": AssistantTurn.Kind.SAFETY,
            "text": _(
                "This sounds like a risk to someone's safety. Stop using the product now, keep it "
                "and its packaging, and see a doctor if anyone is hurt. Safety cases are handled "
                "first: file it now and an agent takes it at once."
            ),
            "offer": {"kind": CaseKind.COMPLAINT, "problem_type": ProblemType.SAFETY},
        }
    intent = assistant.detect_intent(question)
    if intent == "greeting":
        return {
            "kind": AssistantTurn.Kind.GREETING,
            "text": _("Hello! Ask me about returns, refunds, deliveries or a complaint, day or night."),
            "suggestions": _popular(index, language),
        }
    if intent == "human":
        return {
            "kind": AssistantTurn.Kind.HUMAN,
            "text": _(
                "I will pass you to a person: file your case below with what happened, and an "
                "agent answers within 24 hours (urgent safety cases at once)."
            ),
            "offer": {"kind": CaseKind.COMPLAINT, "problem_type": ""},
        }
    if intent in ("order_status", "no_reason_return", "case_status", "refund_status"):
        if not consumer:
            hits = index.search(question, k=1)
            text = _("Sign in to see your own orders and cases; I can then answer this for you.")
            if not hits:
                return {"kind": AssistantTurn.Kind.OWN_DATA, "text": text}
            art = hits[0].article  # and what applies to everyone meanwhile
            return {
                "kind": AssistantTurn.Kind.OWN_DATA,
                "text": text + "\n\n" + (art.body_zh if _zh(language) else art.body_en),
                "slug": art.slug,
                "score": hits[0].score,
            }
        return {"kind": AssistantTurn.Kind.OWN_DATA, "text": _OWN[intent](actor, language)}
    hits = index.search(question, k=3)
    if hits and hits[0].confident:
        best = hits[0].article
        return {
            "kind": AssistantTurn.Kind.ARTICLE,
            "text": best.body_zh if _zh(language) else best.body_en,
            "slug": best.slug,
            "score": hits[0].score,
            "suggestions": [{"slug": h.article.slug, "title": _title(h.article, language)} for h in hits[1:]],
            "offer": {"kind": best.kind or CaseKind.COMPLAINT, "problem_type": best.problem_type or ""}
            if best.problem_type or best.kind
            else None,
        }
    return {
        "kind": AssistantTurn.Kind.FALLBACK,
        "text": _("I am not sure I understood. Is it one of these? If not, a person can help."),
        "score": hits[0].score if hits else None,
        "suggestions": [{"slug": h.article.slug, "title": _title(h.article, language)} for h in hits]
        or _popular(index, language),
        "offer": {"kind": CaseKind.COMPLAINT, "problem_type": ""},
    }


def _popular(index: assistant.Index, language: str) -> list[dict]:
    """The first articles in their shipped order (the common questions come first)."""
    return [{"slug": a.slug, "title": _title(a, language)} for a in index.articles[:4]]


def _recent_orders(actor, limit: int = 3):
    return list(
        Order.objects.filter(buyer__user=actor)
        .prefetch_related("shipments", "items__product__category")
        .order_by("-placed_at")[:limit]
    )


def _product(order) -> str:
    items = list(order.items.all())
    return items[0].product.title if items else order.external_id


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _order_status(actor, language: str) -> str:
    orders = _recent_orders(actor)
    if not orders:
        return _("I found no orders on your account.")
    lines = [_("Your latest orders:")]
    for order in orders:
        shipment = max(order.shipments.all(), key=lambda s: s.shipped_at or timezone.now(), default=None)
        if shipment is None:
            state = _("not shipped yet")
        elif shipment.signed_at or shipment.delivered_at:
            state = _("delivered %(at)s") % {"at": _when(shipment.signed_at or shipment.delivered_at)}
        else:
            state = _("on the way with %(carrier)s %(tracking)s, promised by %(promised)s") % {
                "carrier": shipment.carrier,
                "tracking": shipment.tracking_number,
                "promised": _when(shipment.promised_at),
            }
        lines.append(f"- {order.external_id} · {_product(order)}: {state}")
    return "\n".join(lines)


#: Goods named per line of a mixed order before "and N more".
MAX_ITEMS_NAMED = 5


def _no_reason_return(actor, language: str) -> str:
    """Exclusions are per goods (CRPL art. 25; 暂行办法 art. 6-7): each item is judged by its own
    category. An order whose items all get the same answer is one line, as for a single item; a
    mixed order gets one line per answer, naming its items (at most `MAX_ITEMS_NAMED`)."""
    from marketguard.complaints.services.intake import NO_REASON_TEXT

    orders = _recent_orders(actor, limit=5)
    if not orders:
        return _("I found no orders on your account.")
    now = timezone.now()
    lines = [_("7-day no-reason return for your latest orders:")]
    for order in orders:
        items = list(order.items.all())
        results = {}  # the same category, parcel and confirmation always get the same answer
        groups: dict[str, list[str]] = {}  # answer -> the items' titles, in the order's order
        for item in items or [None]:
            category = item.product.category if item is not None else None
            key = (
                category.pk if category is not None else None,
                tuple(p.pk for p in order.shipments.all() if item is not None and p.carries(item)),
                item is not None and item.no_reason_excluded_confirmed,
            )
            if key not in results:
                results[key] = check_no_reason_return(order=order, category=category, item=item, now=now)
            result = results[key]
            if result.eligible:
                state = _("possible until %(deadline)s (goods intact)") % {"deadline": _when(result.deadline)}
            else:
                state = _("not possible: %(why)s") % {
                    "why": languages.join_clauses(
                        NO_REASON_TEXT[r] for r in result.reasons if r in NO_REASON_TEXT
                    )
                }
            titles = groups.setdefault(state, [])
            if item is not None and item.product.title not in titles:
                titles.append(item.product.title)
        if len(groups) == 1:
            (state,) = groups
            lines.append(f"- {order.external_id} · {_product(order)}: {state}")
            continue
        for state, titles in groups.items():
            lines.append(f"- {order.external_id} · {_goods(titles, language)}: {state}")
    return "\n".join(lines)


def _goods(titles: list[str], language: str) -> str:
    """Some items' titles, the first `MAX_ITEMS_NAMED` of them and how many more."""
    named = ("、" if _zh(language) else ", ").join(titles[:MAX_ITEMS_NAMED])
    more = len(titles) - MAX_ITEMS_NAMED
    if more <= 0:
        return named
    return ngettext("%(goods)s and %(count)d more item", "%(goods)s and %(count)d more items", more) % {
        "goods": named,
        "count": more,
    }


def _case_status(actor, language: str) -> str:
    from marketguard.complaints.models import CaseStatus

    labels = dict(CaseStatus.choices)
    cases = list(visible_cases(actor).filter(status__in=list(workflow.OPEN)).order_by("-created_at")[:5])
    if not cases:
        return _("You have no open cases.")
    lines = [_("Your open cases:")]
    for case in cases:
        lines.append(f"- {case.number} · {case.title}: {labels.get(case.status, case.status)}")
    return "\n".join(lines)


def _refund_status(actor, language: str) -> str:
    remedies = list(
        Remedy.objects.filter(case__in=visible_cases(actor), amount_fen__isnull=False)
        .select_related("case")
        .order_by("-created_at")[:5]
    )
    if not remedies:
        return _("I found no refunds on your cases.")
    lines = [_("Your refunds:")]
    for r in remedies:
        amount = format_yuan(r.amount_fen)
        if r.status == Remedy.Status.DONE:
            state = _("paid %(at)s to your original payment (reference %(ref)s)") % {
                "at": _when(r.executed_at),
                "ref": r.payment_reference,
            }
        elif r.status == Remedy.Status.LAPSED:
            state = _("lapsed: the goods were not sent back in time")
        elif r.kind == "return_refund" and r.received_at is None:
            state = _("waiting for the goods to come back (send them by %(at)s)") % {
                "at": _when(r.return_ship_by)
            }
        else:
            state = _("due by %(at)s") % {"at": _when(r.due_at)}
        lines.append(f"- {r.case.number} {amount}: {state}")
    return "\n".join(lines)


_OWN = {
    "order_status": _order_status,
    "no_reason_return": _no_reason_return,
    "case_status": _case_status,
    "refund_status": _refund_status,
}


def conversation(*, actor, session_key: str | None) -> list[AssistantTurn]:
    """The turns of the actor's own conversation (none for a key that is not theirs)."""
    user_id = actor.pk if actor is not None and actor.is_authenticated else None
    session = AssistantSession.objects.filter(key=session_key or "").first()
    if session is None or session.user_id != user_id:
        return []
    return list(session.turns.select_related("article").order_by("created_at", "id"))


def _own_session(actor, key: str) -> AssistantSession:
    user_id = actor.pk if actor is not None and actor.is_authenticated else None
    session = AssistantSession.objects.filter(key=key or "").first()
    if session is None or session.user_id != user_id:
        raise NotFound(_("No such conversation."), field="session")
    return session


def rate_assistant_answer(*, actor, session_key: str, turn_id: int, helpful: bool) -> AssistantTurn:
    """The consumer says whether an answer helped (may change their mind)."""
    session = _own_session(actor, session_key)
    turn = session.turns.filter(pk=turn_id).first()
    if turn is None:
        raise NotFound(_("No such answer."), field="turn")
    turn.helpful = bool(helpful)
    turn.save(update_fields=["helpful"])
    return turn


def hand_off_to_agent(
    *,
    actor,
    session_key: str,
    kind: str = CaseKind.COMPLAINT,
    problem_type: str = "",
    order_external_id: str | None = None,
    item_external_id: str | None = None,
    description: str = "",
) -> Intake:
    """A person takes over: the conversation becomes a case on the chat channel, its transcript in
    the description (what the consumer adds comes first)."""
    if actor is None or not actor.is_authenticated or actor.role != Role.CONSUMER:
        raise PermissionDenied(_("Sign in as a consumer to file a case."), code="SIGN_IN")
    session = _own_session(actor, session_key)
    if session.case_id:
        raise InvalidInput(
            _("This conversation is already a case: %(number)s.") % {"number": session.case.number}
        )
    turns = list(session.turns.order_by("created_at", "id"))
    transcript = "\n".join(f"{_('Me')}: {t.question}\n{_('Assistant')}: {t.answer}" for t in turns[-10:])
    text = "\n\n".join(p for p in ((description or "").strip(), transcript) if p)
    if not text:
        raise InvalidInput(_("Say what happened."), field="description")
    intake = submit_case(
        actor=actor,
        channel=Channel.CHAT,
        kind=kind,
        problem_type=problem_type or None,
        title=short_title(description or (turns[0].question if turns else "")),
        description=text[:5000],
        order_external_id=order_external_id or None,
        item_external_id=item_external_id or None,
    )
    session.case = intake.case
    session.save(update_fields=["case"])
    return intake
