from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from marketguard.api import api
from marketguard.web import views as web_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("cases/", include("marketguard.complaints.urls")),
    path("help/", include("marketguard.complaints.help_urls")),
    path("", include("marketguard.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
