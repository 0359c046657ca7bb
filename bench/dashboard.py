"""Service dashboard and work queues on a marketplace with history: how long the pages people
open all day take to compute, on PostgreSQL.

Usage: .venv/bin/python bench/dashboard.py [--cases 20000] [--no-write]
Seeds the medium marketplace (100,000 orders) into a fresh PostgreSQL database, adds `--cases`
complaint and after-sales cases spread over the last 90 days (written in bulk: this bench is about
reading them; intake has its own bench), with owners, SLA breaches, resolutions, ratings and
violations in realistic shares, then times, median of 5 after one warm-up:
- `selectors.metrics` (cards, complaint rates per merchant, product and category) for 30 and 90 days;
- `selectors.daily_series` (the charts) for 30 and 90 days;
- the whole dashboard page (`GET /cases/dashboard/`, rendering included) for an analyst and for a merchant;
- an agent's queue (all open cases, most at risk first) and the searchable list of all cases.
Writes the "Service dashboard on a marketplace with history" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402

DB = "marketguard_dashboard_bench"


def _median_ms(fn, repeat: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _make_cases(n: int, seed: int = 7) -> dict:
    from django.utils import timezone

    from marketguard.catalog.models import OrderItem
    from marketguard.complaints import workflow
    from marketguard.complaints.models import Case, MerchantViolation, Rating, SlaMark
    from marketguard.core.models import Role, User

    rng = random.Random(seed)
    now = timezone.now()
    agents = [User.objects.create(username=f"agent{i}", role=Role.AGENT) for i in range(12)]
    items = list(
        OrderItem.objects.select_related("order", "product")
        .filter(order__placed_at__gte=now - timedelta(days=100))
        .order_by("?")[: n * 2]
    )
    kinds = ["complaint", "return_refund", "refund_only", "exchange", "repair"]
    problems = ["quality", "logistics_delay", "wrong_or_missing_item", "size_mismatch", "service_attitude"]
    finished = ["resolved", "closed"]
    open_states = sorted(workflow.OPEN - {workflow.SUBMITTED})
    cases = []
    for i in range(n):
        item = items[i % len(items)]
        created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        done = rng.random() < 0.7
        resolved = created + timedelta(hours=rng.expovariate(1 / 30)) if done else None
        cases.append(
            Case(
                number=f"CB{created:%Y%m%d}{i:06d}",
                kind=rng.choice(kinds),
                problem_type=rng.choice(problems),
                priority=rng.choice(["P2", "P3", "P3", "P4"]),
                channel=rng.choice(["web", "app", "hotline", "chat", "email"]),
                status=rng.choice(finished) if done else rng.choice(open_states),
                title="bench",
                description="bench",
                buyer_id=item.order.buyer_id,
                order_id=item.order_id,
                order_item_id=item.pk,
                product_id=item.product_id,
                merchant_id=item.order.merchant_id,
                category_id=item.product.category_id,
                merchant_since=created,
                owner=rng.choice(agents),
                first_responded_at=created + timedelta(hours=rng.expovariate(1 / 6)),
                escalated_at=created + timedelta(hours=30) if rng.random() < 0.1 else None,
                resolved_at=resolved,
                created_at=created,
            )
        )
    Case.objects.bulk_create(cases, batch_size=2000)
    cases = list(
        Case.objects.filter(number__startswith="CB").only("pk", "created_at", "merchant_id", "resolved_at")
    )
    marks = [
        SlaMark(case=c, target="resolution", stage="breached", due_at=c.created_at + timedelta(hours=48))
        for c in cases
        if rng.random() < 0.15
    ]
    SlaMark.objects.bulk_create(marks, batch_size=2000)
    ratings = [
        Rating(case=c, score=rng.choice([5, 5, 4, 4, 3, 1]))
        for c in cases
        if c.resolved_at and rng.random() < 0.4
    ]
    Rating.objects.bulk_create(ratings, batch_size=2000)
    violations = [
        MerchantViolation(case=c, merchant_id=c.merchant_id, kind="ruling_not_executed")
        for c in cases
        if rng.random() < 0.01
    ]
    MerchantViolation.objects.bulk_create(violations, batch_size=2000)
    return {
        "cases": len(cases),
        "breaches": len(marks),
        "ratings": len(ratings),
        "violations": len(violations),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DB} for a closer look")
    args = parser.parse_args()
    subprocess.run(
        ["psql", run.PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DB}"], check=True, capture_output=True
    )
    subprocess.run(["psql", run.PG_ADMIN, "-qc", f"CREATE DATABASE {DB}"], check=True, capture_output=True)
    var = tempfile.mkdtemp(prefix="mg-dashboard-")
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}",
        MARKETGUARD_VAR=var,
        MARKETGUARD_ENV="dev",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="marketguard.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from marketguard.catalog.models import Order
    from marketguard.complaints import selectors
    from marketguard.core.models import Role, User

    report = run.Report(
        "Service dashboard on a marketplace with history",
        f"python bench/dashboard.py --cases {args.cases}",
        run.machine(),
    )
    print("seeding the medium marketplace ...", flush=True)
    call_command("migrate", verbosity=0)
    call_command("seed", scale="medium", seed=1, verbosity=0)
    made = _make_cases(args.cases)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyst = User.objects.create(username="bench-analyst", role=Role.ANALYST)
    agent = User.objects.filter(role=Role.AGENT).first()
    busiest = Order.objects.values("merchant").annotate(n=django.db.models.Count("id")).order_by("-n").first()
    merchant = User.objects.create(
        username="bench-shop", role=Role.MERCHANT_STAFF, merchant_id=busiest["merchant"]
    )
    now = timezone.now()
    report(
        f"data: {Order.objects.count():,} orders; {made['cases']:,} cases over 90 days, {made['breaches']:,} SLA "
        f"breaches, {made['ratings']:,} ratings, {made['violations']:,} violations; PostgreSQL"
    )
    report("median of 5 after a warm-up, milliseconds")
    rows = [
        ("metrics, 30 days (analyst)", lambda: selectors.metrics(analyst, since=now - timedelta(days=30))),
        ("metrics, 90 days (analyst)", lambda: selectors.metrics(analyst, since=now - timedelta(days=90))),
        ("metrics, 30 days (merchant)", lambda: selectors.metrics(merchant, since=now - timedelta(days=30))),
        ("daily series, 30 days", lambda: selectors.daily_series(analyst, days=30)),
        ("daily series, 90 days", lambda: selectors.daily_series(analyst, days=90)),
        ("agent queue, all open (100 rows)", lambda: selectors.agent_queue(agent, scope="all")),
        (
            "all cases, first page, search by order",
            lambda: list(selectors.find_cases(analyst, q="O0000123")[:25]),
        ),
    ]
    for label, fn in rows:
        report(f"{label:<44} {_median_ms(fn):8.1f}")
    for who, user in (("analyst", analyst), ("merchant", merchant)):
        client = Client()
        client.force_login(user)

        def page(client=client):
            response = client.get("/cases/dashboard/?days=30")
            assert response.status_code == 200, response.status_code

        report(f"{'dashboard page, 30 days (' + who + ')':<44} {_median_ms(page):8.1f}")
    if not args.no_write:
        report.write()
    connection.close()
    if not args.keep:
        subprocess.run(
            ["psql", run.PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {DB}"], check=True, capture_output=True
        )


if __name__ == "__main__":
    main()
