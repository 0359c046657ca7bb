import pytest
from django.core.management import call_command

from marketguard import demo
from marketguard.complaints.demo import seed_demo_cases
from marketguard.complaints.models import Case


@pytest.mark.django_db
def test_demo_cases_cover_the_stages_and_are_made_once():
    call_command("seed", scale="small", seed=1)
    demo.ensure_demo_accounts()
    made = seed_demo_cases(count=30)
    assert made >= 30
    statuses = set(Case.objects.values_list("status", flat=True))
    assert {"awaiting_merchant", "negotiating", "resolved", "closed", "platform_review"} <= statuses
    assert seed_demo_cases(count=30) == 0
