"""Periodic tasks: each app's tasks.py registers (cron, task) pairs; `marketguard worker` enqueues them.

Tasks must be idempotent and safe when two schedulers run at once (each sweep locks what it works on).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from croniter import croniter
from django.apps import apps
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    cron: str
    task: object  # a django_tasks Task
    name: str


REGISTRY: list[Periodic] = []


def periodic(cron: str):
    """Decorator for a task function already wrapped by @task(): run it on a cron schedule."""
    if not croniter.is_valid(cron):
        raise ValueError(f"invalid cron expression {cron!r}")

    def wrap(task_obj):
        REGISTRY.append(Periodic(cron=cron, task=task_obj, name=getattr(task_obj, "name", repr(task_obj))))
        return task_obj

    return wrap


def load_all() -> list[Periodic]:
    for config in apps.get_app_configs():
        if config.name.startswith("marketguard."):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise
    return list(REGISTRY)


def run_forever(stop, *, tick_seconds: float = 1.0) -> None:
    """Enqueue every periodic task when it is due, until stop() is true."""
    entries = load_all()
    local_now = timezone.localtime()
    due: dict[str, datetime] = {p.name: croniter(p.cron, local_now).get_next(datetime) for p in entries}
    logger.info("scheduler: %d periodic task(s)", len(entries))
    while not stop():
        now = timezone.localtime()
        for p in entries:
            if now >= due[p.name]:
                try:
                    p.task.enqueue()
                    logger.info("scheduler: enqueued %s", p.name)
                except Exception:  # keep the scheduler alive; the next tick retries
                    logger.exception("scheduler: could not enqueue %s", p.name)
                due[p.name] = croniter(p.cron, now).get_next(datetime)
        time.sleep(tick_seconds)
