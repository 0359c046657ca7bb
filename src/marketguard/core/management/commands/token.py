from django.core.management.base import BaseCommand, CommandError

from marketguard.core import services
from marketguard.core.context import acting
from marketguard.core.errors import DomainError
from marketguard.core.models import ApiToken, User


class Command(BaseCommand):
    help = "API bearer tokens: create (prints the secret once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--user", required=True)
        create.add_argument("--name", default="")
        create.add_argument("--days", type=int, default=None)
        listing = sub.add_parser("list")
        listing.add_argument("--user")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, **opts):
        with acting(None, via="cli"):
            try:
                if action == "create":
                    user = User.objects.filter(username=opts["user"]).first()
                    if user is None:
                        raise CommandError(f"no user named {opts['user']!r}")
                    _, secret = services.create_api_token(
                        actor=None, user=user, name=opts["name"], days=opts["days"]
                    )
                    self.stdout.write(secret)
                elif action == "list":
                    qs = ApiToken.objects.select_related("user").order_by("id")
                    if opts.get("user"):
                        qs = qs.filter(user__username=opts["user"])
                    for t in qs:
                        state = "revoked" if t.revoked_at else "active"
                        self.stdout.write(f"{t.id}\t{t.prefix}\t{t.user.username}\t{t.name}\t{state}")
                else:
                    services.revoke_api_token(actor=None, token_id=opts["token_id"])
                    self.stdout.write("revoked")
            except DomainError as exc:
                raise CommandError(exc.message) from None
