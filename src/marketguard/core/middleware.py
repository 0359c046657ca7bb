"""Request middleware: correlation id and acting user for the audit trail."""

import re
import uuid

from marketguard.core.context import acting

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        correlation = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.correlation_id = correlation
        via = "api" if request.path.startswith("/api/") else "web"
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with acting(actor, via=via, correlation=correlation):
            response = self.get_response(request)
        response["X-Request-ID"] = correlation
        return response
