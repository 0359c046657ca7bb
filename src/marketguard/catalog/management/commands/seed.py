import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from marketguard.catalog import services
from marketguard.core.context import acting
from marketguard.core.errors import DomainError


class Command(BaseCommand):
    help = "Load a deterministic demo marketplace (idempotent: a second run updates the same rows)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--today", type=date.fromisoformat, default=None, help="last day of order history"
        )
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args, scale, seed, today=None, chunk_size=5000, **options):
        bar = tqdm(unit=" rows", desc="seed", file=self.stderr, smoothing=0.1)

        def progress(kind: str, n: int) -> None:
            if bar.desc != kind:
                bar.set_description(kind, refresh=False)
            bar.update(n)

        started = time.perf_counter()
        with acting(None, via="cli"):
            try:
                results = services.seed_demo(
                    actor=None, scale=scale, seed=seed, today=today, progress=progress, chunk_size=chunk_size
                )
            except DomainError as exc:
                raise CommandError(exc.message) from None
            finally:
                bar.close()
        elapsed = time.perf_counter() - started
        rows = 0
        for kind, r in results.items():
            rows += r.created + r.updated
            self.stdout.write(f"{kind:12} {r.created:>9} created {r.updated:>9} updated {r.failed:>6} failed")
            for e in r.errors[:5]:
                self.stdout.write(f"   row {e.row} {e.external_id} {e.field}: {e.message}")
        self.stdout.write(f"{rows} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)")
        if any(r.errors for r in results.values()):
            raise CommandError("demo data had rows that failed validation")
