"""Shared fixtures of the complaints tests. Modules that need a different world define their own
`world`, which takes precedence."""

import pytest

from marketguard.core.models import Role
from marketguard.core.testing import factories


@pytest.fixture
def world():
    """A consumer with a paid, delivered order; the merchant's staff; platform people."""
    consumer = factories.user(Role.CONSUMER, email="buyer@example.com")
    buyer = factories.buyer(user=consumer, email="buyer@example.com")
    order = factories.order(buyer_obj=buyer, paid_fen=19_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    agent = factories.user(Role.AGENT)
    agent2 = factories.user(Role.AGENT)
    arbitrator = factories.user(Role.ARBITRATOR)
    inspector = factories.user(Role.INSPECTOR)
    admin = factories.user(Role.ADMIN)

    class W:
        pass

    w = W()
    w.__dict__.update(locals())
    return w
