from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from marketguard.core import audit
from marketguard.core.models import AuditEntry


class Command(BaseCommand):
    help = "Audit trail: `verify` checks the hash chain and reports altered, missing or inserted rows."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "head"])
        parser.add_argument(
            "--anchor", help="SEQ:DIGEST kept elsewhere, to detect a rewrite of the whole chain"
        )

    def handle(self, *args, action, anchor=None, **options):
        if action == "head":
            report = audit.verify()
            self.stdout.write(f"{report.last_seq}:{report.last_digest}")
            return
        parsed = None
        if anchor:
            try:
                seq, digest = anchor.split(":", 1)
                parsed = (int(seq), digest.strip())
            except ValueError:
                raise CommandError("--anchor must be SEQ:DIGEST") from None
        total = AuditEntry.objects.count()
        with tqdm(total=total, unit="rows", desc="verify", disable=total < 10000, file=self.stderr) as bar:
            report = audit.verify(anchor=parsed, progress=bar.update)
        for p in report.problems:
            self.stdout.write(f"#{p.seq} {p.kind}: {p.detail}")
        if not report.ok:
            raise CommandError(
                f"audit trail is NOT intact: {len(report.problems)} problem(s) in {report.checked} entries"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"audit trail intact: {report.checked} entries, head #{report.last_seq} {report.last_digest}"
            )
        )
