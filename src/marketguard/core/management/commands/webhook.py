from django.core.management.base import BaseCommand, CommandError

from marketguard.core import webhook_services
from marketguard.core.context import acting
from marketguard.core.delivery import deliver_due
from marketguard.core.errors import DomainError
from marketguard.core.models import WebhookSubscription


class Command(BaseCommand):
    help = "Webhook subscriptions: add (prints the signing secret once), list, disable; deliver sends what is due."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="subscribe a URL; prints the signing secret once")
        add.add_argument("--url", required=True)
        add.add_argument("--events", default="", help="comma-separated event types (default: every event)")
        add.add_argument("--name", default="")
        sub.add_parser("list")
        disable = sub.add_parser("disable")
        disable.add_argument("subscription_id", type=int)
        deliver = sub.add_parser(
            "deliver", help="send due deliveries now (the worker does this every minute)"
        )
        deliver.add_argument("--limit", type=int, default=100)

    def handle(self, *args, action, **opts):
        with acting(None, via="cli"):
            try:
                if action == "add":
                    events = [e.strip() for e in opts["events"].split(",") if e.strip()]
                    subscription = webhook_services.create_subscription(
                        actor=None, url=opts["url"], name=opts["name"], event_types=events
                    )
                    self.stderr.write(
                        f"subscription {subscription.pk} created; its signing secret (shown only now):"
                    )
                    self.stdout.write(subscription.secret)
                elif action == "list":
                    for s in WebhookSubscription.objects.order_by("id"):
                        state = "active" if s.is_active else "disabled"
                        events = ",".join(s.event_types) or "*"
                        self.stdout.write(f"{s.pk}\t{s.name}\t{s.url}\t{state}\t{events}")
                elif action == "disable":
                    webhook_services.disable_subscription(actor=None, subscription_id=opts["subscription_id"])
                    self.stdout.write("disabled")
                else:
                    sent = deliver_due(limit=opts["limit"])
                    self.stdout.write(f"{sent} delivery attempt(s)")
            except DomainError as exc:
                raise CommandError(exc.message) from None
