"""API schemas of the complaints app."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from marketguard.catalog.codes import mask_in_text
from marketguard.complaints.models import CaseKind, Channel, ProblemType, RemedyKind
from marketguard.core.models import Role
from marketguard.core.permissions import is_platform, sees_personal_data, sees_personal_text
from marketguard.core.schemas import ApiDatetime

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Amount = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d+(\.\d{1,2})?$")]
Version = Annotated[int | None, Field(None, ge=1, description="the case version you saw; 409 if it changed")]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: What only platform staff (agents, admins) give when filing: a case taken by phone, chat or
#: e-mail, for a caller found by phone number, answered at an address they name. A consumer files
#: their own case (web, app, API) and is answered at their account's address.
STAFF_CHANNELS = (Channel.HOTLINE, Channel.CHAT, Channel.EMAIL)


class CaseIn(In):
    kind: CaseKind
    channel: Channel = Field(
        Channel.API, description="web, app or api; hotline, chat and email: platform staff only"
    )
    description: Text
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    problem_type: ProblemType | None = None
    order: Annotated[str | None, StringConstraints(max_length=64)] = None
    item: Annotated[str | None, StringConstraints(max_length=80)] = None
    buyer: Annotated[str | None, StringConstraints(max_length=64)] = None
    buyer_phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = Field(
        "",
        description="platform staff only: find the buyer by the caller's phone number (when no order or "
        "buyer id is given)",
    )
    amount_claimed: Amount | None = None
    contact_email: Annotated[str, StringConstraints(max_length=254)] = Field(
        "", description="platform staff only: where to answer a consumer who has no account"
    )
    safety_confirmed: bool = Field(False, description="the consumer says someone was hurt or in danger")

    def staff_fields(self) -> list[str]:
        """The fields given here that only platform staff may give (see STAFF_CHANNELS)."""
        given = {
            "channel": self.channel in STAFF_CHANNELS,
            "buyer_phone": bool(self.buyer_phone),
            "contact_email": bool(self.contact_email.strip()),
        }
        return [name for name, present in given.items() if present]


class VersionIn(In):
    version: Version = None


class MessageBodyIn(In):
    version: Version = None
    message: Annotated[str, StringConstraints(max_length=5000)] = ""


class PostMessageIn(In):
    body: Text
    internal: bool = False
    channel: Channel = Channel.API
    version: Version = None
    material_code: Annotated[str, StringConstraints(max_length=40)] = Field(
        "", description="the consumer's message answers this item of the materials list (one told in words)"
    )

    def staff_fields(self) -> list[str]:
        """The fields given here that only platform staff may give (a transcript's channel)."""
        return ["channel"] if self.channel in STAFF_CHANNELS else []


class ReasonIn(In):
    reason: Reason
    version: Version = None


class OptionalReasonIn(In):
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""
    version: Version = None


class HandoverIn(In):
    to_username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    reason: Reason
    version: Version = None


class LinkOrderIn(In):
    order: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        ...,
        description="the order the consumer named (theirs); typed full-width or with spaces is read as meant",
    )
    item: Annotated[str | None, StringConstraints(max_length=100)] = Field(
        None, description="the item of the order, when it has several"
    )
    address_confirmed: Annotated[str, StringConstraints(max_length=500)] = Field(
        "",
        description="a case known only by the e-mail address it came from, linked to an order whose "
        "buyer has another address: how the agent confirmed the buyer wrote it (recorded)",
    )
    version: Version = None


class AskMerchantIn(In):
    what: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        ..., description="what the merchant must send (it has 4 working hours)"
    )
    version: Version = None


class MaterialsIn(In):
    items: Annotated[
        list[Annotated[str, StringConstraints(max_length=40)]], Field(min_length=1, max_length=20)
    ]
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""
    version: Version = None


CompensationBasisIn = Literal["", "goodwill", "fraud", "food_safety", "injury"]


class ProposalIn(In):
    remedy: RemedyKind
    amount: Amount | None = None
    compensation_basis: CompensationBasisIn = Field(
        "",
        description="Compensation only: goodwill (at most the price), fraud (3x, at least 500 yuan), "
        "food_safety (10x, at least 1,000 yuan) or injury (the losses shown; safety cases). "
        "Default goodwill.",
    )
    note: Annotated[str, StringConstraints(max_length=5000)] = ""
    version: Version = None


class DecisionIn(In):
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    version: Version = None


class ExecuteIn(In):
    payment_reference: Annotated[str, StringConstraints(max_length=64)] = ""
    carrier: Annotated[str, StringConstraints(max_length=50)] = ""
    tracking_number: Annotated[str, StringConstraints(max_length=50)] = ""
    repair_due: date | None = None
    version: Version = None


class ReturnShippedIn(In):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    postage: Amount | None = Field(
        None,
        description="What sending the goods back cost (yuan); the merchant refunds it with the price, "
        "except on a 7-day no-reason return",
    )
    version: Version = None


class ReturnAddressIn(In):
    return_address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    version: Version = None


class ReturnReceivedIn(In):
    received_at: ApiDatetime | None = Field(
        None,
        description="When the goods arrived (ISO 8601), from 1970 to 2099. Without a UTC offset "
        "(2026-03-01T14:30:00) it is the platform's local time, Asia/Shanghai unless the platform "
        "sets TIME_ZONE otherwise, as the marketplace's order times are. Empty: now.",
    )
    intact: bool = Field(
        True, description="False: the goods came back damaged, used or incomplete (say how in note)"
    )
    note: str = ""
    version: Version = None


class RulingIn(In):
    outcome: Literal["consumer_upheld", "partially_upheld", "merchant_upheld"]
    reasons: Text
    remedy: RemedyKind | None = None
    amount: Amount | None = None
    compensation_basis: CompensationBasisIn = Field("", description="As for proposals.")
    version: Version = None


class RatingIn(In):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""
    version: Version = None


class MergeIn(In):
    duplicate: Annotated[str, StringConstraints(min_length=1, max_length=24)]
    version: Version = None


class AskIn(In):
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    session: Annotated[str, StringConstraints(max_length=32)] | None = None


class AnswerFeedbackIn(In):
    session: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    turn: int
    helpful: bool


class HandOffIn(In):
    session: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    kind: CaseKind = CaseKind.COMPLAINT
    problem_type: ProblemType | None = None
    order: Annotated[str, StringConstraints(max_length=64)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


# --- out ---------------------------------------------------------------------------------------


def _viewer(context):
    request = (context or {}).get("request")
    return getattr(request, "auth", None) or getattr(request, "user", None)


def _platform_viewer(context) -> bool:
    """Whether the reader is platform staff: only they see who (which account) did what, as on
    the case page; consumers and merchants see the party (consumer, merchant, platform)."""
    viewer = _viewer(context)
    return viewer is not None and is_platform(viewer)


def _viewer_text(value: str, context) -> str:
    """Free text as this viewer may read it: phone numbers, e-mail addresses and ID numbers
    masked for roles that do not need them (a merchant reading the consumer's complaint)."""
    viewer = _viewer(context)
    return value if viewer is not None and sees_personal_text(viewer) else mask_in_text(value)


class ChecklistItemOut(Schema):
    code: str
    label_zh: str
    label_en: str
    required: bool


class CaseOut(Schema):
    number: str
    version: int
    kind: str
    problem_type: str
    priority: str | None = Field(None, description="P1-P4; not shown to consumers (internal triage)")
    safety: bool
    channel: str
    status: str
    title: str
    description: str
    merchant: str | None = None
    order: str | None = None
    product: str | None = None
    owner: str | None = Field(None, description="the responsible agent's username; platform roles only")
    amount_claimed: str | None = None
    created_at: datetime
    first_response_due: datetime | None
    merchant_response_due: datetime | None
    resolution_due: datetime | None
    execution_due: datetime | None
    settle_by: datetime | None = Field(
        None, description="with the platform: the merchant may still settle or send evidence until then"
    )
    possible_duplicate_of: str | None = None
    language: str = Field("", description="What the consumer is written to in (zh-hans, en; empty: both)")

    @staticmethod
    def resolve_language(obj):
        from marketguard.complaints.services import consumer_language

        return consumer_language(obj)

    @staticmethod
    def resolve_priority(obj, context):
        return None if getattr(_viewer(context), "role", None) == Role.CONSUMER else obj.priority

    @staticmethod
    def resolve_title(obj, context):
        return _viewer_text(obj.title, context)

    @staticmethod
    def resolve_description(obj, context):
        return _viewer_text(obj.description, context)

    @staticmethod
    def resolve_merchant(obj):
        return obj.merchant.external_id if obj.merchant_id else None

    @staticmethod
    def resolve_order(obj):
        return obj.order.external_id if obj.order_id else None

    @staticmethod
    def resolve_product(obj):
        return obj.product.external_id if obj.product_id else None

    @staticmethod
    def resolve_owner(obj, context):
        return obj.owner.get_username() if obj.owner_id and _platform_viewer(context) else None

    @staticmethod
    def resolve_amount_claimed(obj):
        return f"{obj.amount_claimed_fen / 100:.2f}" if obj.amount_claimed_fen is not None else None

    @staticmethod
    def resolve_possible_duplicate_of(obj):
        return obj.possible_duplicate_of.number if obj.possible_duplicate_of_id else None


class IntakeOut(Schema):
    case: CaseOut
    checklist: list[ChecklistItemOut]
    duplicate_of: str | None


class QueueRowOut(Schema):
    case: CaseOut
    next_due: datetime | None
    risk: float
    state: str = Field(
        ...,
        description="ok, warning, breached, paused or met; for a merchant, none when nothing is due from it",
    )
    target: str = Field(
        ...,
        description="the clock due soonest: first_response, merchant_response, resolution; execution (a remedy); "
        "settle (a merchant's time to settle once the platform was asked to step in)",
    )


class EventOut(Schema):
    type: str
    at: datetime
    party: str
    actor: str | None = Field(None, description="who acted (username); platform roles only")
    from_status: str
    to_status: str
    data: dict

    @staticmethod
    def resolve_actor(obj, context):
        return obj.actor.get_username() if obj.actor_id and _platform_viewer(context) else None

    @staticmethod
    def resolve_data(obj, context):
        # reasons and notes are free text people wrote: masked like messages
        data = {k: _viewer_text(v, context) if isinstance(v, str) else v for k, v in (obj.data or {}).items()}
        if not sees_personal_data(_viewer(context)):
            # how an agent confirmed who wrote (a linked order): for those who handle personal data
            data.pop("address_confirmed", None)
        if isinstance(data.get("held"), list):  # a refused e-mail's files: where they are held is ours
            data["held"] = [
                {**{k: v for k, v in h.items() if k != "path"}, "held": bool(h.get("path"))}
                for h in data["held"]
                if isinstance(h, dict)
            ]
        return data


class MessageOut(Schema):
    id: int
    party: str
    author: str | None = Field(None, description="who wrote it (username); platform roles only")
    channel: str
    body: str
    internal: bool
    created_at: datetime

    @staticmethod
    def resolve_author(obj, context):
        return obj.author.get_username() if obj.author_id and _platform_viewer(context) else None

    @staticmethod
    def resolve_body(obj, context):
        return _viewer_text(obj.body, context)


class EvidenceOut(Schema):
    id: int
    filename: str
    kind: str
    party: str
    sha256: str | None = Field(
        None,
        description="SHA-256 of the original as uploaded: for platform roles and for whoever uploaded it "
        "(they hold the file); null for the other party, who gets images without their metadata",
    )
    size: int
    created_at: datetime

    @staticmethod
    def resolve_sha256(obj, context):
        # the original's digest names where it is stored: never to a party that did not send it
        viewer = _viewer(context)
        own = obj.uploaded_by_id is not None and obj.uploaded_by_id == getattr(viewer, "pk", None)
        return obj.blob.sha256 if own or _platform_viewer(context) else None

    @staticmethod
    def resolve_size(obj):
        return obj.blob.size


class ProposalOut(Schema):
    id: int
    party: str
    remedy: str
    amount_fen: int | None
    compensation_basis: str
    note: str
    status: str
    created_at: datetime

    @staticmethod
    def resolve_note(obj, context):
        return _viewer_text(obj.note, context)


class RemedyOut(Schema):
    id: int
    kind: str
    source: str
    amount_fen: int | None
    compensation_basis: str
    status: str
    due_at: datetime | None
    payment_reference: str
    refunded_to: str
    carrier: str
    tracking_number: str
    repair_due: date | None
    executed_at: datetime | None
    return_ship_by: datetime | None
    return_address: str
    return_carrier: str
    return_tracking_number: str
    return_shipped_at: datetime | None
    return_postage_fen: int | None
    received_at: datetime | None


class RulingOut(Schema):
    id: int
    outcome: str
    reasons: str
    remedy: str
    amount_fen: int | None
    compensation_basis: str
    created_at: datetime
    execute_due: datetime | None
    appeal_deadline: datetime

    @staticmethod
    def resolve_reasons(obj, context):
        return _viewer_text(obj.reasons, context)


class ClockOut(Schema):
    target: str
    deadline: datetime | None
    state: str
    risk: float | None = Field(None, description="Share of the time used (0-1+); not shown to consumers")


class CaseDetailOut(Schema):
    case: CaseOut
    party: str
    moves: list[str]
    materials_notified: list[str]
    materials_provided: list[str] = Field(
        description="items of the materials list the case has (a file tagged with it, the consumer's "
        "message answering it, the account given when filing, the return's tracking number)"
    )
    clocks: list[ClockOut]
    events: list[EventOut]
    messages: list[MessageOut]
    evidence: list[EvidenceOut]
    proposals: list[ProposalOut]
    remedies: list[RemedyOut]
    rulings: list[RulingOut]
    rating: int | None


class MetricsOut(Schema):
    """Service figures (see `selectors.metrics` for each definition)."""

    cases: int
    orders: int
    complaint_rate: float | None
    first_response_avg_hours: float | None
    # the shares within the case's own SLA target (24 h and 48 h by default), over the cases
    # decided: met, or missed; the cases still inside their window are pending, not counted yet
    first_response_within_24h: float | None
    first_response_met: int = 0
    first_response_missed: int = 0
    first_response_pending: int = 0
    resolved: int
    resolved_within_48h: float | None
    resolution_met: int = 0
    resolution_missed: int = 0
    resolution_pending: int = 0
    # resolved within 48 h of filing on the wall clock (pauses included), over the cases
    # resolved or open for more than 48 h (seed 002's "80 % within 48 hours")
    resolved_within_48h_elapsed: float | None = None
    csat: float | None
    csat_mean: float | None
    ratings: int
    # disputed orders / valid orders placed in [intervention_since, intervention_until)
    intervention_rate: float | None
    valid_orders: int = 0
    disputed_orders: int = 0
    intervention_since: datetime | None = None
    intervention_until: datetime | None = None
    by_status: dict
    by_merchant: list[dict]
    by_product: list[dict]
    by_category: list[dict]
    assistant: dict | None = None
    by_agent: list[dict] | None = None
    targets: dict


class ViolationOut(Schema):
    id: int
    case: str
    merchant: str
    merchant_name: str
    kind: str
    kind_label: str
    at: datetime
    details: dict

    @staticmethod
    def resolve_case(obj):
        return obj.case.number

    @staticmethod
    def resolve_merchant(obj):
        return obj.merchant.external_id

    @staticmethod
    def resolve_merchant_name(obj):
        return obj.merchant.name

    @staticmethod
    def resolve_kind_label(obj):
        return str(obj.get_kind_display())


class ReplyTemplateOut(Schema):
    slug: str
    language: str
    title: str
    body: str


class CaseFilter(In):
    status: str | None = None
    kind: CaseKind | None = None
    priority: Literal["P1", "P2", "P3", "P4"] | None = None
    problem_type: ProblemType | None = None
    merchant: str | None = None
    q: Annotated[str | None, StringConstraints(max_length=100)] = Field(
        None, description="part of the case number, the order number, the buyer's id, or words of the title"
    )
    related_to: Annotated[str | None, StringConstraints(max_length=40)] = Field(
        None, description="a case number: the same consumer's other cases (platform roles)"
    )


class SuggestionOut(Schema):
    slug: str
    title: str


class OfferOut(Schema):
    kind: str
    problem_type: str


class AnswerOut(Schema):
    session: str
    turn: int
    kind: str
    text: str
    article: str | None
    suggestions: list[SuggestionOut]
    offer: OfferOut | None
