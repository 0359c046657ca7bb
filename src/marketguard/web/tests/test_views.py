import pytest
from django.test import Client
from django.urls import reverse

from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _login(client, user, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        reverse("web:login"), {"username": user.username, "password": password}, REMOTE_ADDR=address
    )


def test_login_logout_round_trip():
    user = factories.user(Role.AGENT)
    client = Client()
    assert client.get("/").status_code == 302
    response = _login(client, user)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post(reverse("web:logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_and_audited():
    user = factories.user(Role.AGENT)
    response = _login(Client(), user, password="wrong")
    assert response.status_code == 400
    assert AuditEntry.objects.filter(action="login_failed", object_id=user.username).exists()


def test_login_is_throttled_after_five_failures_even_with_the_right_password():
    user = factories.user(Role.AGENT)
    client = Client()
    for _ in range(5):
        assert _login(client, user, password="wrong").status_code == 400
    response = _login(client, user)
    assert response.status_code == 400
    assert (
        "Too many failed attempts" in response.content.decode() or "尝试次数过多" in response.content.decode()
    )
    # another address is not locked out
    assert _login(Client(), user, address="10.0.0.2").status_code == 302


def test_login_next_is_kept_only_for_local_urls():
    user = factories.user(Role.AGENT)
    response = Client().post(
        reverse("web:login"),
        {"username": user.username, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.CONSUMER, ["web:orders"], ["web:merchants", "web:audit", "web:products"]),
        (Role.MERCHANT_STAFF, ["web:orders", "web:products"], ["web:merchants", "web:audit"]),
        (Role.ADMIN, ["web:orders", "web:products", "web:merchants", "web:audit"], []),
        (Role.LAB_STAFF, [], ["web:orders", "web:merchants", "web:audit"]),
    ],
)
def test_navigation_follows_the_role(role, visible, hidden):
    client = Client()
    client.force_login(factories.user(role))
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for name in visible:
        assert f'href="{reverse(name)}"' in html
    for name in hidden:
        assert f'href="{reverse(name)}"' not in html


def test_audit_page_is_not_reachable_for_a_merchant():
    client = Client()
    client.force_login(factories.user(Role.MERCHANT_STAFF))
    assert client.get(reverse("web:audit")).status_code == 404


def test_merchant_sees_only_its_own_orders_and_personal_data_masked():
    mine = factories.order()
    other = factories.order()
    staff = factories.user(Role.MERCHANT_STAFF, merchant_obj=mine.merchant)
    client = Client()
    client.force_login(staff)
    html = client.get(reverse("web:orders")).content.decode()
    assert mine.external_id in html and other.external_id not in html
    assert client.get(reverse("web:order", args=[other.external_id])).status_code == 404
    detail = client.get(reverse("web:order", args=[mine.external_id])).content.decode()
    assert "13812345678" not in detail and "138****5678" in detail


def test_agent_sees_personal_data_unmasked():
    order = factories.order()
    client = Client()
    client.force_login(factories.user(Role.AGENT))
    assert "13812345678" in client.get(reverse("web:order", args=[order.external_id])).content.decode()


def test_consumer_sees_only_own_orders():
    consumer = factories.user(Role.CONSUMER)
    mine = factories.order(buyer_obj=factories.buyer(user=consumer))
    other = factories.order()
    client = Client()
    client.force_login(consumer)
    html = client.get(reverse("web:orders")).content.decode()
    assert mine.external_id in html and other.external_id not in html


def test_language_switch_changes_the_page_language():
    client = Client()
    client.force_login(factories.user(Role.ADMIN))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Orders" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert "订单" in html and 'lang="zh-hans"' in html


def test_search_returns_the_table_fragment_for_htmx():
    order = factories.order()
    client = Client()
    client.force_login(factories.user(Role.ADMIN))
    response = client.get(reverse("web:orders"), {"q": order.external_id}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert order.external_id in html and "<html" not in html


def test_merchant_overview_counts_only_its_own_products():
    mine = factories.product()
    factories.product()
    client = Client()
    client.force_login(factories.user(Role.MERCHANT_STAFF, merchant_obj=mine.merchant))
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<div class="stat-value">1</div><div class="stat-label">Products on sale' in html
