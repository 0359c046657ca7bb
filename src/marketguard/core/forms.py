"""Forms of the shared kernel: the admin site's login, through the same throttled login service
as the site's own login page (wired in `CoreConfig.ready`)."""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from marketguard.core import services
from marketguard.core.errors import DomainError


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """Django admin's login form, checking the password with `services.login`: failed attempts
    are counted and audited like those on /login/, and a locked-out username or address is
    refused here too."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = services.login(request=self.request, username=username, password=password)
            except DomainError as exc:
                if exc.code == "LOGIN_FAILED":
                    raise self.get_invalid_login_error() from None
                raise ValidationError(exc.message, code=exc.code.lower()) from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
