"""Filing a case on the web: the consumer's (or an agent's) form, the order choice, the files
for each item of the materials list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from marketguard.catalog import services as catalog
from marketguard.catalog.models import OrderStatus
from marketguard.complaints import materials, services
from marketguard.complaints.models import (
    CaseKind,
    Channel,
    ProblemType,
)
from marketguard.complaints.views.common import (
    CHANNEL_TEXT,
    _desk,
    _error_page,
    _field,
    _Input,
)
from marketguard.core.errors import DomainError, PermissionDenied
from marketguard.core.money import format_yuan
from marketguard.core.text import plain

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
