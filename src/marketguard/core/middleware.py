"""Request middleware: correlation id and acting user for the audit trail; the signed-in user's
language; pages with personal data kept out of the browser's cache."""

import re
import uuid

from marketguard.core import languages
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


class UserLanguageMiddleware:
    """Pages in the language the signed-in user chose (saved with their account, so it follows
    them to another browser); visitors and users without a choice get Django's usual order
    (language cookie, then the browser's Accept-Language). After AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            languages.activate_for(request, user)
        return self.get_response(request)


class PrivatePagesMiddleware:
    """What a signed-in user is given (pages, exports, API answers) holds personal data, and
    pages count down live deadlines from when they were made: the browser does not store it (a
    shared computer keeps no copy, and the back button fetches a page again instead of showing
    an old one). Answers that say how they may be cached keep what they say."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response
