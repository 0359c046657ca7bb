"""UI pages. No logic here: parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import i18n
from django.views.decorators.http import require_http_methods, require_POST

from marketguard.catalog import services as catalog
from marketguard.core import languages, selectors
from marketguard.core import services as core
from marketguard.core.errors import DomainError
from marketguard.core.permissions import sees_personal_data, sees_personal_text
from marketguard.web import overview

PAGE_SIZE = 25


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@require_http_methods(["GET", "POST"])
def login_view(request):
    error = ""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST":
        try:
            user = core.login(
                request=request,
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
            )
        except DomainError as exc:
            error = exc.message
        else:
            login(request, user)
            if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                next_url = ""
            return redirect(next_url or "web:home")
    status = 200 if not error else 400
    return render(request, "web/login.html", {"error": error, "next": next_url}, status=status)


@require_POST
def set_language(request):
    """The language switch in the page header: Django's cookie, and for a signed-in user the
    choice saved with their account (pages and mail then follow them)."""
    response = i18n.set_language(request)
    code = languages.supported(request.POST.get("language", ""))
    if request.user.is_authenticated and code:  # an unknown or empty code: Django ignored it too
        core.set_preferred_language(actor=request.user, user=request.user, language=code)
    return response


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")


@login_required
def home(request):
    return render(
        request,
        "web/home.html",
        {"cards": overview.cards(request.user), "waiting": overview.waiting(request.user)},
    )


def _searchable_list(request, queryset, *, search_field: str, name: str):
    """A paginated list with a text search; htmx asks for the table fragment only."""
    q = request.GET.get("q", "").strip()
    if q:
        queryset = queryset.filter(**{f"{search_field}__icontains": q})
    template = f"web/_{name}_table.html" if _is_htmx(request) else f"web/{name}.html"
    return render(request, template, {"page": _page(request, queryset), "q": q})


@login_required
def orders(request):
    return _searchable_list(
        request, catalog.visible_orders(request.user), search_field="external_id", name="orders"
    )


@login_required
def order_detail(request, external_id: str):
    try:
        order = catalog.get_order(actor=request.user, external_id=external_id)
    except DomainError:
        raise Http404 from None
    return render(
        request,
        "web/order.html",
        {
            "order": order,
            "show_personal": sees_personal_data(request.user),
            "show_personal_text": sees_personal_text(request.user),
            "cases": overview.order_cases(request.user, order),
            "may_file": overview.may_file_about(request.user, order),
        },
    )


@login_required
def products(request):
    return _searchable_list(
        request, catalog.visible_products(request.user), search_field="title", name="products"
    )


@login_required
def merchants(request):
    return _searchable_list(
        request, catalog.visible_merchants(request.user), search_field="name", name="merchants"
    )


@login_required
def audit_trail(request):
    try:
        qs = selectors.audit_entries(request.user)
    except DomainError:
        raise Http404 from None
    return render(request, "web/audit.html", {"page": _page(request, qs)})


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the API docs): ours."""
    return redirect(static("web/favicon.svg"), permanent=True)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True}) if request.GET.get("json") else HttpResponse("ok")
