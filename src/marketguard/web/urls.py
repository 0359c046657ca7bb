from django.urls import path

from marketguard.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:external_id>/", views.order_detail, name="order"),
    path("products/", views.products, name="products"),
    path("merchants/", views.merchants, name="merchants"),
    path("audit/", views.audit_trail, name="audit"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
]
