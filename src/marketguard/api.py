"""The REST API under /api/v1/: authentication, the one error format, and the app routers.

Errors are RFC 9457 problem+json:
    {"type": "...#CODE", "title": "...", "status": 422, "code": "INVALID_INPUT", "detail": "...",
     "errors": [{"field": "uscc", "message": "...", "code": "..."}]}
"""

from __future__ import annotations

import json
import logging

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from marketguard.core import languages
from marketguard.core.errors import DomainError
from marketguard.core.text import plain_data
from marketguard.core.tokens import user_for_token

logger = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class BearerAuth(HttpBearer):
    openapi_description = "A token from `marketguard token create --user NAME`."

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
            if "Accept-Language" not in request.headers:  # a request may ask for another
                languages.activate_for(request, user)
        return user


class CookieSession(SessionAuth):
    """The UI's session, with CSRF checked on unsafe methods."""

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def anonymous(request: HttpRequest):
    """Last in the list of a public operation's authenticators: a visitor without a token or a
    session is let in as AnonymousUser (services decide what an anonymous visitor may do)."""
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


#: Authenticators of an operation open to anonymous visitors (the assistant).
PUBLIC = [BearerAuth(), CookieSession(), anonymous]


class PlainTextParser(Parser):
    """JSON bodies, query strings and form fields with control characters removed from every
    string (core.text), before any schema or service sees them."""

    def parse_body(self, request):
        return plain_data(super().parse_body(request))

    def parse_querydict(self, data, list_fields, request):
        return plain_data(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    title="MarketGuard API",
    version="1",
    description=(
        "Product-quality governance and complaint / after-sales handling. "
        "Authenticate with `Authorization: Bearer <token>` or the web session (with CSRF token)."
    ),
    urls_namespace="api",
    auth=[BearerAuth(), CookieSession()],
    parser=PlainTextParser(),
)


def problem(request, *, status: int, code: str, title: str, detail: str = "", errors=None) -> HttpResponse:
    body = {
        "type": f"https://marketguard.dev/problems#{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
        "errors": errors or [],
    }
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="marketguard"'
    return response


def _field_name(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload")]
    # ninja nests the body under the parameter name ("payload"); drop the leading param name
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = []
    for err in exc.errors:
        loc = err.get("loc", ())
        if loc and loc[0] == "body" and len(loc) > 1:
            loc = loc[2:] if len(loc) > 2 else loc[1:]
        errors.append(
            {"field": _field_name(loc), "message": err.get("msg", ""), "code": err.get("type", "invalid")}
        )
    return problem(
        request,
        status=422,
        code="INVALID_INPUT",
        title=_("The input is not valid."),
        detail="; ".join(f"{e['field']}: {e['message']}" for e in errors),
        errors=errors,
    )


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    errors = [{"field": e.field, "message": e.message, "code": e.code} for e in exc.errors]
    return problem(request, status=exc.status, code=exc.code, title=exc.message or exc.code, errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem(request, status=401, code="UNAUTHENTICATED", title=_("Authentication required."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    code = {
        400: "BAD_REQUEST",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        429: "THROTTLED",
    }
    message = str(exc)
    errors = []
    if exc.status_code == 400 and "parse" in message.lower():
        errors = [
            {"field": "body", "message": _("The request body is not valid JSON."), "code": "json_invalid"}
        ]
        message = _("The request body is not valid JSON.")
    return problem(
        request,
        status=exc.status_code,
        code=code.get(exc.status_code, "HTTP_ERROR"),
        title=message,
        errors=errors,
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, status=404, code="NOT_FOUND", title=_("Not found."))


@api.exception_handler(json.JSONDecodeError)
def _bad_json(request, exc):
    return problem(
        request,
        status=400,
        code="BAD_REQUEST",
        title=_("The request body is not valid JSON."),
        errors=[{"field": "body", "message": str(exc), "code": "json_invalid"}],
    )


def _register_routers() -> None:
    from marketguard.catalog.api import router as catalog_router
    from marketguard.complaints.api import router as complaints_router
    from marketguard.core.api import router as core_router
    from marketguard.core.webhook_api import router as webhook_router

    api.add_router("/", core_router)
    api.add_router("/catalog/", catalog_router)
    api.add_router("/", complaints_router)
    api.add_router("/webhooks/", webhook_router)


_register_routers()
