from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketguard.complaints import services
from marketguard.core.context import acting


class Command(BaseCommand):
    help = (
        "E-mail intake: read a maildir (new/ and cur/), open or thread cases, mark messages seen "
        "(and flagged when refused, rejected or failed)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ingest = sub.add_parser("ingest")
        ingest.add_argument("--maildir", type=Path, required=True)

    def handle(self, *args, action, maildir, **options):
        if not (maildir / "new").is_dir() or not (maildir / "cur").is_dir():
            raise CommandError(f"{maildir} is not a maildir (needs new/ and cur/)")
        with acting(None, via="cli"):
            results = services.ingest_maildir(path=str(maildir))
        for r in results:
            about = f" (about {r.related})" if r.related else ""
            self.stdout.write(f"{r.action:9} {r.case.number if r.case else '-':18} {r.reason}{about}")
        self.stdout.write(f"{len(results)} message(s)")
