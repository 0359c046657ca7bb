import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections
from django.utils import timezone

from marketguard.complaints import services
from marketguard.complaints.models import MerchantViolation, Remedy, SlaMark
from marketguard.core.models import Role
from marketguard.core.testing import factories


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_do_everything_once():
    consumer = factories.user(Role.CONSUMER)
    buyer = factories.buyer(user=consumer)
    numbers = []
    for _ in range(4):
        order = factories.order(buyer_obj=buyer)
        numbers.append(
            services.submit_case(
                actor=consumer,
                channel="web",
                kind="refund_only",
                order_external_id=order.external_id,
                description="没收到货",
            ).case.number
        )
    later = timezone.now() + timedelta(hours=73)
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            with time_machine.travel(later, tick=False):
                barrier.wait()
                reports.append(services.sweep())
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(r.auto_approved for r in reports) == 4
    assert Remedy.objects.filter(case__number__in=numbers, source="auto_approval").count() == 4
    assert MerchantViolation.objects.filter(case__number__in=numbers).count() == 4
    marks = SlaMark.objects.filter(case__number__in=numbers, target="merchant_response", stage="breached")
    assert marks.count() == 4
