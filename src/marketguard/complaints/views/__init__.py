"""Complaint and after-sales pages for every role. No logic here: parse the input, call one
service or selector, render. A `DomainError` is shown next to the field it names, with its
HTTP status; every form also works without JavaScript (POST, then redirect).

A package, as the services are: `common` (texts of codes, the form input reader), `presentation`
(the case as each viewer reads it), `cases` (the list, the case page and its actions, files),
`intake` (filing on the web), `dashboard` (dashboard, breach report, alerts)."""

from marketguard.complaints.views.cases import (
    case_action,
    case_detail,
    case_export,
    case_list,
    evidence_download,
    evidence_thumbnail,
)
from marketguard.complaints.views.dashboard import alerts, alerts_badge, alerts_read, breaches_csv, dashboard
from marketguard.complaints.views.intake import INTAKE_ORDERS, case_new, order_choices, split_order_choice

__all__ = [
    "INTAKE_ORDERS",
    "alerts",
    "alerts_badge",
    "alerts_read",
    "breaches_csv",
    "case_action",
    "case_detail",
    "case_export",
    "case_list",
    "case_new",
    "dashboard",
    "evidence_download",
    "evidence_thumbnail",
    "order_choices",
    "split_order_choice",
]
