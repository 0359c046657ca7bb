import pytest

from marketguard.core import scheduler


def test_periodic_rejects_a_bad_cron_expression():
    with pytest.raises(ValueError):
        scheduler.periodic("every day at noon")


def test_apps_register_their_periodic_tasks():
    names = {p.name for p in scheduler.load_all()}
    assert any("prune_task_results" in n for n in names)


@pytest.mark.django_db
def test_run_forever_enqueues_due_tasks_and_stops(monkeypatch):
    calls = []

    class FakeTask:
        name = "fake"

        def enqueue(self):
            calls.append(1)

    monkeypatch.setattr(
        scheduler, "REGISTRY", [scheduler.Periodic(cron="* * * * *", task=FakeTask(), name="fake")]
    )
    monkeypatch.setattr(scheduler, "load_all", lambda: list(scheduler.REGISTRY))

    # pretend every check happens one minute later than the previous one
    from datetime import timedelta

    from django.utils import timezone

    clock = {"now": timezone.localtime()}

    def fake_localtime(*args):
        clock["now"] += timedelta(minutes=1, seconds=1)
        return clock["now"]

    monkeypatch.setattr(scheduler.timezone, "localtime", fake_localtime)
    ticks = iter(range(4))
    scheduler.run_forever(lambda: next(ticks, None) is None, tick_seconds=0)
    assert len(calls) >= 3
