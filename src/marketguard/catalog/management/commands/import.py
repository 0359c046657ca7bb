from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from marketguard.catalog import fileio, services
from marketguard.core.context import acting
from marketguard.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Upsert marketplace data from a CSV or Parquet file, by external id. Bad rows go to an error report."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=services.KINDS)
        parser.add_argument("file", type=Path)
        parser.add_argument("--errors", type=Path, help="error report CSV (default: FILE.errors.csv)")
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, kind, file, errors=None, chunk_size=2000, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        total = fileio.count_rows(file) if file.exists() else None
        with acting(None, via="cli"), tqdm(total=total, unit="rows", desc=kind, file=self.stderr) as bar:
            try:
                result = services.import_file(
                    actor=None, kind=kind, path=file, progress=bar.update, chunk_size=chunk_size
                )
            except DomainError as exc:
                raise CommandError(exc.message) from None
        self.stdout.write(
            f"{kind}: {result.created} created, {result.updated} updated, {result.failed} failed"
        )
        if result.errors:
            report = errors or file.with_name(file.name + ".errors.csv")
            services.write_error_report(result, report)
            self.stdout.write(self.style.WARNING(f"{len(result.errors)} error(s) written to {report}"))
            raise CommandError("some rows were not imported", returncode=2)
