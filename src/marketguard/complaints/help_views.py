"""The smart customer service page (智能客服), open around the clock and to visitors without an
account: ask, mark an answer helpful or not, hand the conversation to a person. Presentation
only: every step is one service call (`services/assistant.py`)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketguard.catalog.models import Order
from marketguard.complaints import services
from marketguard.complaints.models import CaseKind, ProblemType
from marketguard.complaints.views import order_choices, split_order_choice
from marketguard.core import throttle
from marketguard.core.errors import DomainError
from marketguard.core.models import Role

SESSION_KEY = "assistant_session"


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _context(request, **extra) -> dict:
    actor = _actor(request)
    consumer = actor is not None and actor.role == Role.CONSUMER
    return {
        "turns": services.conversation(actor=actor, session_key=request.session.get(SESSION_KEY)),
        "consumer": consumer,
        "orders": order_choices(
            Order.objects.filter(buyer__user=actor)
            .prefetch_related("items__product")
            .order_by("-placed_at")[:10]
        )
        if consumer
        else [],
        "kinds": CaseKind.choices,
        "problem_types": ProblemType.choices,
        **extra,
    }


@require_GET
def page(request):
    return render(request, "complaints/help.html", _context(request))


@require_POST
def ask(request):
    try:
        reply = services.ask_assistant(
            actor=_actor(request),
            question=request.POST.get("question", ""),
            session_key=request.session.get(SESSION_KEY),
            language=get_language() or "zh-hans",
            client=throttle.client_address(request),
        )
    except DomainError as exc:
        if request.headers.get("HX-Request") == "true":
            return render(request, "complaints/_help_error.html", {"message": exc.message}, status=exc.status)
        return render(
            request, "complaints/help.html", _context(request, error=exc.message), status=exc.status
        )
    request.session[SESSION_KEY] = reply.session_key
    if request.headers.get("HX-Request") == "true":
        return render(
            request,
            "complaints/_help_turn.html",
            {"t": reply.turn, "reply": reply, "consumer": _context(request)["consumer"]},
        )
    return redirect(reverse("help:page") + f"#turn-{reply.turn.pk}")


@require_POST
def feedback(request, turn_id: int):
    try:
        turn = services.rate_assistant_answer(
            actor=_actor(request),
            session_key=request.session.get(SESSION_KEY, ""),
            turn_id=turn_id,
            helpful=request.POST.get("helpful") == "yes",
        )
    except DomainError as exc:
        return render(request, "complaints/_help_error.html", {"message": exc.message}, status=exc.status)
    if request.headers.get("HX-Request") == "true":
        return render(request, "complaints/_help_feedback.html", {"t": turn})
    return redirect(reverse("help:page") + f"#turn-{turn.pk}")


@require_POST
def hand_off(request):
    if not request.user.is_authenticated:
        return redirect(reverse("web:login") + "?next=" + reverse("help:page"))
    order, item = split_order_choice(request.POST.get("order"))
    try:
        intake = services.hand_off_to_agent(
            actor=request.user,
            session_key=request.session.get(SESSION_KEY, ""),
            kind=request.POST.get("kind") or CaseKind.COMPLAINT,
            problem_type=request.POST.get("problem_type", ""),
            order_external_id=order,
            item_external_id=item,
            description=request.POST.get("description", ""),
        )
    except DomainError as exc:
        return render(
            request, "complaints/help.html", _context(request, error=exc.message), status=exc.status
        )
    request.session.pop(SESSION_KEY, None)  # the next question starts a new conversation
    messages.success(
        request, _("Case %(number)s filed: an agent takes it from here.") % {"number": intake.case.number}
    )
    return redirect(reverse("complaints:detail", args=[intake.case.number]) + "?filed=1")
