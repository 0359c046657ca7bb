import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from marketguard.core import scheduler


class Command(BaseCommand):
    help = "Run background tasks and the periodic scheduler (one process; start several for more throughput)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-scheduler", action="store_true", help="only run tasks (when another process schedules)"
        )
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")

    def handle(self, *args, no_scheduler=False, batch=False, **options):
        from marketguard.complaints import warmup

        warmup.start()  # e-mail intake files cases: triage's classifier is ready before the first
        stop = threading.Event()
        if not no_scheduler and not batch:
            thread = threading.Thread(
                target=scheduler.run_forever, args=(stop.is_set,), daemon=True, name="scheduler"
            )
            thread.start()
        try:
            if settings.TASKS_BACKEND == "rq":
                call_command(
                    "rqworker",
                    "default",
                    "--job-class",
                    "django_tasks_rq.Job",
                    "--with-scheduler",
                    *(["--burst"] if batch else []),
                )
            else:
                call_command(
                    "db_worker",
                    "--no-startup-delay",
                    "--no-reload",
                    "--interval",
                    "1",
                    "--queue-name",
                    "*",
                    *(["--batch"] if batch else []),
                )
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
