"""Complaints API: intake from any channel, every workflow move, reads, metrics.

Each handler parses, calls one service or selector, serialises. Moves take an optional
`version` (the one you saw): if someone else acted first the answer is 409 CASE_CHANGED.
"""

from datetime import datetime
from typing import Annotated

from django.http import FileResponse, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from marketguard.api import PUBLIC
from marketguard.complaints import schemas, selectors, services
from marketguard.complaints.models import Party
from marketguard.core import throttle
from marketguard.core.errors import InvalidInput
from marketguard.core.schemas import ApiDatetime, BoundedPageNumberPagination

router = Router(tags=["complaints"])


def _detail(view: selectors.CaseView) -> dict:
    now = datetime.now().astimezone()
    return {
        "case": view.case,
        "party": view.party,
        "moves": view.moves,
        "materials_notified": view.case.materials_notified,
        "materials_provided": sorted(selectors.materials_provided(view)),
        "clocks": [
            {
                "target": t,
                "deadline": c.deadline(now),
                "state": c.state(now),
                "risk": None if view.party == Party.CONSUMER else round(c.risk(now), 4),
            }
            for t, c in view.clocks.items()
        ],
        "events": view.events,
        "messages": view.messages,
        "evidence": view.evidence,
        "proposals": view.proposals,
        "remedies": view.remedies,
        "rulings": view.rulings,
        "rating": view.rating.score if view.rating else None,
    }


@router.post("/cases", response={201: schemas.IntakeOut}, summary="File a complaint or after-sales request")
def submit(request, payload: schemas.CaseIn):
    services.refuse_staff_fields(request.auth, payload.staff_fields())
    intake = services.submit_case(
        actor=request.auth,
        channel=payload.channel,
        kind=payload.kind,
        description=payload.description,
        title=payload.title,
        problem_type=payload.problem_type,
        order_external_id=payload.order,
        item_external_id=payload.item,
        buyer_external_id=payload.buyer,
        buyer_phone=payload.buyer_phone,
        amount_claimed=payload.amount_claimed,
        contact_email=payload.contact_email,
        safety_confirmed=payload.safety_confirmed,
    )
    return Status(
        201,
        {
            "case": intake.case,
            "checklist": [
                {"code": i.code, "label_zh": i.label_zh, "label_en": i.label_en, "required": i.required}
                for i in intake.checklist
            ],
            "duplicate_of": intake.duplicate_of.number if intake.duplicate_of else None,
        },
    )


@router.get("/cases", response=list[schemas.CaseOut], summary="Cases you may see")
@paginate(BoundedPageNumberPagination)
def list_cases(request, filters: Query[schemas.CaseFilter]):
    return selectors.find_cases(request.auth, **filters.model_dump())


@router.get("/cases/queue", response=list[schemas.QueueRowOut], summary="Agent queue, most at risk first")
def queue(request, scope: str = "mine"):
    if scope not in ("mine", "unassigned", "all"):
        raise InvalidInput(_("The scope must be mine, unassigned or all."), field="scope")
    return selectors.agent_queue(request.auth, scope=scope)


@router.get("/cases/metrics", response=schemas.MetricsOut, summary="Service metrics")
def metrics(request, since: ApiDatetime | None = None, until: ApiDatetime | None = None):
    return selectors.metrics(request.auth, since=since, until=until)


@router.get(
    "/cases/violations",
    response=list[schemas.ViolationOut],
    summary="Merchant after-sales violations (merchant staff: their own)",
)
@paginate(BoundedPageNumberPagination)
def violations(request, since: ApiDatetime | None = None, until: ApiDatetime | None = None):
    return selectors.violations(request.auth, since=since, until=until)


@router.get("/cases/breaches.csv", summary="SLA breach report (CSV)")
def breaches_csv(request, since: ApiDatetime | None = None, until: ApiDatetime | None = None):
    body = selectors.sla_breaches_csv(request.auth, since=since, until=until)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sla-breaches.csv"'
    return response


@router.get("/cases/{number}", response=schemas.CaseDetailOut)
def detail(request, number: str):
    return _detail(selectors.case_view(request.auth, number))


@router.get(
    "/cases/{number}/related",
    response=list[schemas.CaseOut],
    summary="The same consumer's other cases, newest first (platform roles)",
)
@paginate(BoundedPageNumberPagination)
def related(request, number: str):
    return selectors.related_cases(request.auth, services.get_case(actor=request.auth, number=number))


@router.get(
    "/cases/{number}/reply-templates",
    response=list[schemas.ReplyTemplateOut],
    summary="Ready replies for this case (platform and merchant staff), in Chinese and English",
)
def reply_templates(request, number: str):
    return selectors.reply_templates(request.auth, number)


@router.get("/cases/{number}/export", summary="The case file as a ZIP (agents, arbitrators, admins)")
def export(request, number: str):
    name, data = services.export_case(actor=request.auth, number=number)
    return FileResponse(data, as_attachment=True, filename=name, content_type="application/zip")


@router.post("/cases/{number}/acknowledge", response=schemas.CaseOut)
def acknowledge(request, number: str, payload: schemas.MessageBodyIn):
    return services.acknowledge_case(
        actor=request.auth, number=number, version=payload.version, message=payload.message
    )


@router.post("/cases/{number}/take", response=schemas.CaseOut)
def take(request, number: str, payload: schemas.VersionIn):
    return services.take_case(actor=request.auth, number=number, version=payload.version)


@router.post("/cases/{number}/handover", response=schemas.CaseOut)
def handover(request, number: str, payload: schemas.HandoverIn):
    return services.hand_over_case(
        actor=request.auth,
        number=number,
        to_username=payload.to_username,
        reason=payload.reason,
        version=payload.version,
    )


@router.post("/cases/{number}/forward", response=schemas.CaseOut)
def forward(request, number: str, payload: schemas.MessageBodyIn):
    return services.forward_to_merchant(
        actor=request.auth, number=number, version=payload.version, message=payload.message
    )


@router.post("/cases/{number}/messages", response={201: schemas.MessageOut})
def post_message(request, number: str, payload: schemas.PostMessageIn):
    services.refuse_staff_fields(request.auth, payload.staff_fields())
    return Status(
        201,
        services.post_message(
            actor=request.auth,
            number=number,
            body=payload.body,
            internal=payload.internal,
            channel=payload.channel,
            version=payload.version,
            material_code=payload.material_code,
        ),
    )


@router.post(
    "/cases/{number}/refused-mail/{event_id}/add",
    response={201: schemas.MessageOut},
    summary="Add an e-mail that was not let into the case (read and judged the consumer's) as their message, its held files as their evidence",
)
def add_refused_mail(request, number: str, event_id: int, payload: schemas.VersionIn):
    return Status(
        201,
        services.add_refused_mail(
            actor=request.auth, number=number, event_id=event_id, version=payload.version
        ),
    )


@router.post(
    "/cases/{number}/order",
    response=schemas.CaseOut,
    summary="Link a case filed without its order (e-mail, call) to the order the consumer named, once",
)
def link_order(request, number: str, payload: schemas.LinkOrderIn):
    return services.link_order(
        actor=request.auth,
        number=number,
        order_external_id=payload.order,
        item_external_id=payload.item,
        address_confirmed=payload.address_confirmed,
        version=payload.version,
    )


@router.post(
    "/cases/{number}/ask-merchant",
    response=schemas.CaseOut,
    summary="While the platform decides: ask the merchant for evidence, due in 4 working hours",
)
def ask_merchant(request, number: str, payload: schemas.AskMerchantIn):
    return services.ask_merchant(
        actor=request.auth, number=number, what=payload.what, version=payload.version
    )


@router.post("/cases/{number}/materials", response=schemas.CaseOut)
def request_materials(request, number: str, payload: schemas.MaterialsIn):
    return services.request_materials(
        actor=request.auth, number=number, items=payload.items, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/evidence", response={201: schemas.EvidenceOut})
def upload_evidence(
    request,
    number: str,
    file: File[UploadedFile],
    material: str = "",
    internal: bool = False,
    version: Annotated[
        int | None, Query(ge=1, description="the case version you saw; 409 if it changed")
    ] = None,
):
    services.refuse_oversized(file.size)
    evidence = services.add_evidence(
        actor=request.auth,
        number=number,
        filename=file.name or "",
        data=file.read(),
        declared_type=file.content_type,
        material_code=material,
        internal=internal,
        version=version,
    )
    return Status(201, evidence)


@router.get("/cases/{number}/evidence/{evidence_id}", summary="Download an evidence file")
def download_evidence(request, number: str, evidence_id: int):
    evidence, download = selectors.evidence_download(request.auth, evidence_id, number=number)
    response = FileResponse(
        download.file.open("rb"),
        content_type=download.mime,
        as_attachment=evidence.kind != "image",
        filename=evidence.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/cases/{number}/proposals", response={201: schemas.ProposalOut})
def propose(request, number: str, payload: schemas.ProposalIn):
    return Status(
        201,
        services.make_proposal(
            actor=request.auth,
            number=number,
            remedy=payload.remedy,
            amount=payload.amount,
            note=payload.note,
            compensation_basis=payload.compensation_basis,
            version=payload.version,
        ),
    )


@router.post("/cases/{number}/proposals/{proposal_id}/accept", response=schemas.ProposalOut)
def accept(request, number: str, proposal_id: int, payload: schemas.DecisionIn):
    return services.decide_proposal(
        actor=request.auth,
        number=number,
        proposal_id=proposal_id,
        accept=True,
        note=payload.note,
        version=payload.version,
    )


@router.post("/cases/{number}/proposals/{proposal_id}/reject", response=schemas.ProposalOut)
def reject_proposal(request, number: str, proposal_id: int, payload: schemas.DecisionIn):
    return services.decide_proposal(
        actor=request.auth,
        number=number,
        proposal_id=proposal_id,
        accept=False,
        note=payload.note,
        version=payload.version,
    )


@router.post("/cases/{number}/remedies/{remedy_id}/execute", response=schemas.RemedyOut)
def execute(request, number: str, remedy_id: int, payload: schemas.ExecuteIn):
    return services.execute_remedy(
        actor=request.auth,
        number=number,
        remedy_id=remedy_id,
        payment_reference=payload.payment_reference,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        repair_due=payload.repair_due,
        version=payload.version,
    )


@router.post(
    "/cases/{number}/remedies/{remedy_id}/return-shipped",
    response=schemas.RemedyOut,
    summary="The consumer sent the goods back (carrier and tracking number); the merchant is told",
)
def return_shipped(request, number: str, remedy_id: int, payload: schemas.ReturnShippedIn):
    return services.record_return_shipped(
        actor=request.auth,
        number=number,
        remedy_id=remedy_id,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        postage=payload.postage,
        version=payload.version,
    )


@router.post(
    "/cases/{number}/remedies/{remedy_id}/return-address",
    response=schemas.RemedyOut,
    summary="The merchant gives where this return goes (before the goods are sent); the consumer is told",
)
def return_address(request, number: str, remedy_id: int, payload: schemas.ReturnAddressIn):
    return services.set_return_address(
        actor=request.auth,
        number=number,
        remedy_id=remedy_id,
        address=payload.return_address,
        version=payload.version,
    )


@router.post(
    "/cases/{number}/remedies/{remedy_id}/return-received",
    response=schemas.RemedyOut,
    summary="The merchant received the returned goods: the refund is due within 7 days",
)
def return_received(request, number: str, remedy_id: int, payload: schemas.ReturnReceivedIn):
    return services.record_return_received(
        actor=request.auth,
        number=number,
        remedy_id=remedy_id,
        received_at=payload.received_at,
        intact=payload.intact,
        note=payload.note,
        version=payload.version,
    )


@router.post("/cases/{number}/resolve", response=schemas.CaseOut)
def resolve(request, number: str, payload: schemas.ReasonIn):
    return services.resolve_case(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/intervention", response=schemas.CaseOut)
def intervention(request, number: str, payload: schemas.ReasonIn):
    return services.request_intervention(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/review", response=schemas.CaseOut)
def review(request, number: str, payload: schemas.VersionIn):
    return services.start_review(actor=request.auth, number=number, version=payload.version)


@router.post("/cases/{number}/ruling", response={201: schemas.RulingOut})
def ruling(request, number: str, payload: schemas.RulingIn):
    return Status(
        201,
        services.record_ruling(
            actor=request.auth,
            number=number,
            outcome=payload.outcome,
            reasons=payload.reasons,
            remedy=payload.remedy or "",
            amount=payload.amount,
            compensation_basis=payload.compensation_basis,
            version=payload.version,
        ),
    )


@router.post("/cases/{number}/appeal", response=schemas.CaseOut)
def appeal(request, number: str, payload: schemas.ReasonIn):
    return services.appeal_ruling(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/rating", response={201: schemas.CaseOut})
def rate(request, number: str, payload: schemas.RatingIn):
    rating = services.rate_case(
        actor=request.auth,
        number=number,
        score=payload.score,
        comment=payload.comment,
        version=payload.version,
    )
    rating.case.refresh_from_db()
    return Status(201, rating.case)


@router.post("/cases/{number}/withdraw", response=schemas.CaseOut)
def withdraw(request, number: str, payload: schemas.OptionalReasonIn):
    return services.withdraw_case(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/reject", response=schemas.CaseOut)
def reject(request, number: str, payload: schemas.ReasonIn):
    return services.reject_case(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/reopen", response=schemas.CaseOut)
def reopen(request, number: str, payload: schemas.ReasonIn):
    return services.reopen_case(
        actor=request.auth, number=number, reason=payload.reason, version=payload.version
    )


@router.post("/cases/{number}/merge", response=schemas.CaseOut)
def merge(request, number: str, payload: schemas.MergeIn):
    return services.merge_cases(
        actor=request.auth, primary=number, duplicate=payload.duplicate, version=payload.version
    )


# --- the smart customer service (智能客服): open to anonymous visitors --------------------------


def _answer_out(reply: services.Reply) -> dict:
    return {
        "session": reply.session_key,
        "turn": reply.turn.pk,
        "kind": reply.kind,
        "text": reply.text,
        "article": reply.article,
        "suggestions": reply.suggestions,
        "offer": reply.offer,
    }


@router.post(
    "/assistant/ask",
    response=schemas.AnswerOut,
    auth=PUBLIC,
    tags=["assistant"],
    summary="Ask the smart customer service (anonymous visitors too; answers in the request language)",
)
def assistant_ask(request, payload: schemas.AskIn):
    reply = services.ask_assistant(
        actor=request.auth,
        question=payload.question,
        session_key=payload.session,
        language=get_language() or "zh-hans",
        client=throttle.client_address(request),
    )
    return _answer_out(reply)


@router.post(
    "/assistant/feedback",
    response={204: None},
    auth=PUBLIC,
    tags=["assistant"],
    summary="Say whether an answer helped",
)
def assistant_feedback(request, payload: schemas.AnswerFeedbackIn):
    services.rate_assistant_answer(
        actor=request.auth, session_key=payload.session, turn_id=payload.turn, helpful=payload.helpful
    )
    return Status(204, None)


@router.post(
    "/assistant/hand-off",
    response={201: schemas.IntakeOut},
    tags=["assistant"],
    summary="Pass the conversation to a person: it becomes a case on the chat channel",
)
def assistant_hand_off(request, payload: schemas.HandOffIn):
    intake = services.hand_off_to_agent(
        actor=request.auth,
        session_key=payload.session,
        kind=payload.kind,
        problem_type=payload.problem_type or "",
        order_external_id=payload.order,
        description=payload.description,
    )
    return Status(
        201, {"case": intake.case, "checklist": intake.checklist, "duplicate_of": intake.duplicate_of}
    )
