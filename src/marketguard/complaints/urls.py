from django.urls import path

from marketguard.complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("breaches.csv", views.breaches_csv, name="breaches_csv"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/badge", views.alerts_badge, name="alerts_badge"),
    path("alerts/read", views.alerts_read, name="alerts_read"),
    path("<str:number>/", views.case_detail, name="detail"),
    path("<str:number>/export.zip", views.case_export, name="export"),
    path("<str:number>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("<str:number>/evidence/<int:evidence_id>/thumb", views.evidence_thumbnail, name="evidence_thumb"),
    path("<str:number>/<slug:action>/", views.case_action, name="act"),
]
