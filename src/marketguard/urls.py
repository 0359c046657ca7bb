from django.contrib import admin
from django.urls import include, path

from marketguard.api import api
from marketguard.web import views as web_views

# Uploaded files (MEDIA_ROOT) are never served by their path, not even in DEBUG: evidence goes out
# only through the case's views, which check who asks and send images to the parties without
# their metadata (GPS, time, camera).
urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("cases/", include("marketguard.complaints.urls")),
    path("help/", include("marketguard.complaints.help_urls")),
    path("", include("marketguard.web.urls")),
]
