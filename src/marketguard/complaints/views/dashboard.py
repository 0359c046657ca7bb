"""The service dashboard (SLA, CSAT, complaint rates, per agent and merchant), the breach report
as CSV, and the alerts."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketguard.complaints import alerts as alerts_text
from marketguard.complaints import selectors, services
from marketguard.complaints.views.common import (
    PAGE_SIZE,
    STATUS_TEXT,
    TARGET_TEXT,
    _error_page,
    _money_text,
)
from marketguard.core.errors import DomainError
from marketguard.core.models import Role

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
        # 90 days by week: a day holds too few cases for a share to mean much
        series = selectors.daily_series(request.user, days=days, weekly=days > 30)
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
            # after a day's share in the tooltip: how many cases it is of (one, or more)
            "of_case": ngettext("of %(n)s case", "of %(n)s cases", 1),
            "of_cases": ngettext("of %(n)s case", "of %(n)s cases", 2),
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
    # with a byte-order mark: a spreadsheet on Windows then reads the Chinese labels as UTF-8 (the
    # API's report has none)
    response = HttpResponse("\ufeff" + body, content_type="text/csv; charset=utf-8")
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
