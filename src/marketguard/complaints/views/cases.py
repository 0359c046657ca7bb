"""The case pages: the list, the case page and its actions (each calls one service), the case
file export and the evidence files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from marketguard.complaints import selectors, services
from marketguard.complaints.models import (
    Case,
    CaseStatus,
    Priority,
    ProblemType,
)
from marketguard.complaints.views.common import (
    OBSERVER,
    PAGE_SIZE,
    STATE_TEXT,
    TARGET_TEXT,
    _desk,
    _done_text,
    _error_page,
    _field,
    _Input,
    _is_htmx,
)
from marketguard.complaints.views.intake import split_order_choice
from marketguard.complaints.views.presentation import (
    _case_context,
    _span_text,
)
from marketguard.core.errors import DomainError, InvalidInput


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
    related_to = request.GET.get("related", "")[:40]  # the consumer's other cases, from a case page
    qs = selectors.find_cases(request.user, q=q, related_to=related_to or None, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "page": page,
        "filters": filters,
        "q": q,
        "related_to": related_to,
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
    # evidence is personal (photos of an injury, chat logs): not kept by the browser either
    response["Cache-Control"] = "no-store, private"
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
