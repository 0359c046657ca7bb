import os
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from marketguard import demo
from marketguard.catalog.models import Merchant
from marketguard.core import processes
from marketguard.core.context import acting


class Command(BaseCommand):
    help = "Migrate, load demo data (once), start the web server and the worker, print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-serve", action="store_true", help="prepare the data and exit")

    def handle(self, *args, port, scale, seed, no_serve=False, **options):
        if settings.PROD:
            raise CommandError("the demo refuses to run with MARKETGUARD_ENV=prod")
        if "SITE_URL" not in os.environ:  # links in the demo's mail open this server (and its workers')
            os.environ["SITE_URL"] = settings.SITE_URL = f"http://127.0.0.1:{port}"
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        if not Merchant.objects.exists():
            self.stdout.write(f"Loading demo data ({scale}, seed {seed}) ...")
            call_command("seed", scale=scale, seed=seed)
        else:
            self.stdout.write("Demo data already loaded.")
        with acting(None, via="cli"):
            accounts = demo.ensure_demo_accounts()
            from marketguard.complaints.demo import seed_demo_cases

            made = seed_demo_cases()
        if made:
            self.stdout.write(f"Demo complaints: {made} cases at every stage.")
        if no_serve:
            self._print_logins(accounts, port)
            return
        base = [sys.executable, "-m", "marketguard.cli"]
        web = subprocess.Popen([*base, "serve", "--port", str(port)])  # noqa: S603
        worker = subprocess.Popen([*base, "worker"])  # noqa: S603

        def ready():
            self._wait_until_up(port, web)
            self._print_logins(accounts, port)

        # stopped by Ctrl-C or SIGTERM, or one of them ends: the other is stopped too
        processes.supervise([web, worker], ready=ready)

    def _wait_until_up(self, port: int, web) -> None:
        url = f"http://127.0.0.1:{port}/healthz"
        for _ in range(120):
            if web.poll() is not None:
                raise CommandError("the web server did not start (is the port taken?)")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own localhost
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise CommandError("the web server did not answer within 60 s")

    def _print_logins(self, accounts, port: int) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"MarketGuard demo: http://127.0.0.1:{port}/"))
        self.stdout.write(f"API: http://127.0.0.1:{port}/api/v1/docs  (OpenAPI: /api/v1/openapi.json)")
        self.stdout.write("Logins (username / password / role):")
        for username, password, role in accounts:
            self.stdout.write(f"  {username:<11} {password}   {role}")
        self.stdout.write("Press Ctrl-C to stop.")
