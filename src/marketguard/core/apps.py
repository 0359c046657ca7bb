from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "marketguard.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib import admin

        from marketguard.core import checks  # noqa: F401  (registers the system checks)
        from marketguard.core.forms import ThrottledAdminLoginForm

        # the admin site's login goes through the same throttled login as /login/
        admin.site.login_form = ThrottledAdminLoginForm
