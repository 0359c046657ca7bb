from django.urls import path

from marketguard.complaints import help_views

app_name = "help"

urlpatterns = [
    path("", help_views.page, name="page"),
    path("ask", help_views.ask, name="ask"),
    path("answers/<int:turn_id>/feedback", help_views.feedback, name="feedback"),
    path("hand-off", help_views.hand_off, name="hand_off"),
]
