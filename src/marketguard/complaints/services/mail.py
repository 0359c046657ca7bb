"""E-mail: intake (a message from a maildir becomes a case, or a reply threaded into one) and
the outbox of e-mail to consumers (acknowledgements, replies, rating requests).

"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketguard.catalog.models import Buyer
from marketguard.complaints.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    Channel,
    OutgoingMail,
    Party,
)
from marketguard.complaints.services.common import _enqueue_mail, _event
from marketguard.complaints.services.intake import submit_case
from marketguard.complaints.services.work import add_evidence, post_message
from marketguard.core import audit
from marketguard.core.errors import InvalidInput
from marketguard.core.models import Role, User
from marketguard.core.permissions import require_role

logger = logging.getLogger(__name__)


# --- e-mail intake ----------------------------------------------------------------------------------------


@dataclass
class MailResult:
    action: str  # created | threaded | ignored
    case: Case | None
    reason: str = ""


def ingest_email(*, raw: bytes) -> MailResult:
    """One e-mail: a reply to a case (its number in the subject or references) threads into it;
    anything else from a known buyer opens a new complaint. Attachments become evidence."""
    from marketguard.complaints import mailparse

    mail = mailparse.parse_message(raw)
    if mail.is_auto_reply:
        return MailResult("ignored", None, "auto_reply")
    if mailparse.is_reply_to_notice(mail):  # staff answering an alert: never into the case
        return MailResult("ignored", None, "reply_to_notice")
    if mail.message_id and CaseMessage.objects.filter(email_message_id=mail.message_id).exists():
        return MailResult("ignored", None, "already_ingested")
    sender = mail.from_address
    if mail.case_number:
        case = Case.objects.filter(number=mail.case_number).select_related("buyer", "consumer").first()
        if case is not None:
            author, party = _mail_author(case, sender)
            if party is None:
                return MailResult("ignored", case, "sender_not_a_party")
            post_message(
                actor=author,
                number=case.number,
                body=mail.text or mail.subject,
                channel=Channel.EMAIL,
                email_message_id=mail.message_id or "",
                on_behalf_of=party,
            )
            for att in mail.attachments:
                _mail_evidence(author, case.number, att, party)
            return MailResult("threaded", case)
    user = User.objects.filter(email__iexact=sender, role=Role.CONSUMER, is_active=True).first()
    buyer = (
        Buyer.objects.filter(Q(user=user) if user else Q(email__iexact=sender)).first() if sender else None
    )
    if user is None and buyer is None:
        return MailResult("ignored", None, "unknown_sender")
    try:
        intake = submit_case(
            actor=user,
            channel=Channel.EMAIL,
            kind=CaseKind.COMPLAINT,
            title=mail.subject[:200],
            description=mail.text or mail.subject or "(empty)",
            buyer_external_id=buyer.external_id if buyer else None,
            contact_email=sender,
            email_message_id=mail.message_id or "",
        )
    except InvalidInput as exc:  # e.g. a sender address we could not write back to: not a case
        logger.warning("mail %s not filed: %s", mail.message_id, exc.message)
        return MailResult("ignored", None, "refused")
    for att in mail.attachments:
        _mail_evidence(user, intake.case.number, att, Party.CONSUMER)
    return MailResult("created", intake.case)


def _mail_author(case: Case, sender: str) -> tuple[User | None, str | None]:
    """(account, party) of the sender of a reply; (None, None) when the sender has no part in it."""
    if not sender:
        return None, None
    consumer = case.consumer or (case.buyer.user if case.buyer_id else None)
    consumer_emails = {
        e.lower()
        for e in (
            case.contact_email,
            consumer.email if consumer else "",
            case.buyer.email if case.buyer_id else "",
        )
        if e
    }
    if sender in consumer_emails:
        return consumer, Party.CONSUMER
    staff = User.objects.filter(email__iexact=sender, is_active=True).first()
    if staff is not None and staff.role == Role.MERCHANT_STAFF and staff.merchant_id == case.merchant_id:
        return staff, Party.MERCHANT
    if staff is not None and staff.role in (Role.AGENT, Role.ARBITRATOR):
        return staff, Party.AGENT
    return None, None


def _mail_evidence(actor, number: str, attachment, party: str) -> None:
    try:
        add_evidence(
            actor=actor,
            number=number,
            filename=attachment.filename or "attachment",
            data=attachment.data,
            declared_type=attachment.content_type,
            on_behalf_of=party,
        )
    except InvalidInput as exc:
        with transaction.atomic():
            case = Case.objects.get(number=number)
            _event(
                case,
                "attachment_refused",
                None,
                Party.SYSTEM,
                {"file": attachment.filename, "reason": exc.message},
                visibility=CaseEvent.Visibility.PLATFORM,
            )


def ingest_maildir(*, path) -> list[MailResult]:
    from marketguard.complaints import mailparse

    results = []
    for key, raw in mailparse.iter_maildir(path):
        results.append(ingest_email(raw=raw))
        mailparse.mark_seen(path, key)
    return results


# --- e-mail to consumers: the outbox is sent after the commit --------------------------------------------


class _Written(email.message.EmailMessage):
    """The parsed message (for backends and tests that read headers), which writes itself out
    as the very bytes in the outbox: never folded or encoded a second time."""

    _raw: bytes = b""

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self._raw

    def as_string(self, *args, **kwargs) -> str:
        return self._raw.decode("ascii")


class _AsWritten(EmailMessage):
    """A message sent exactly as it was written into the outbox (headers, threading, body)."""

    def __init__(self, row: OutgoingMail):
        super().__init__(from_email=settings.DEFAULT_FROM_EMAIL, to=[row.to_address])
        self._raw = row.raw.encode("ascii")

    def message(self, *args, **kwargs):
        parsed = BytesParser(_class=_Written, policy=email.policy.default).parsebytes(self._raw)
        parsed._raw = self._raw
        return parsed


def deliver_mail(*, now: datetime | None = None, limit: int = 50) -> int:
    """Send up to `limit` due e-mails (new ones and retries) through Django's mail backend.
    Each row is leased to this worker first (two workers never send one twice); a failure is
    retried with the webhooks' backoff and given up after as many attempts. Returns how many
    were attempted."""
    from marketguard.core import delivery, webhooks

    now = now or timezone.now()
    due = (
        OutgoingMail.objects.filter(
            status__in=[OutgoingMail.Status.PENDING, OutgoingMail.Status.FAILED], next_attempt_at__lte=now
        )
        .filter(delivery.unleased(now))
        .order_by("next_attempt_at", "id")
    )
    token, ids = delivery.claim(due, now=now, limit=limit, seconds_per_row=30)
    rows = list(OutgoingMail.objects.filter(pk__in=ids, claim_token=token).order_by("next_attempt_at", "id"))
    if not rows:
        return 0
    connection = get_connection()
    for row in rows:
        attempts = row.attempts + 1
        fields = {"attempts": attempts, "last_attempt_at": now, "claimed_until": None, "claim_token": ""}
        try:
            connection.send_messages([_AsWritten(row)])
        except Exception as exc:  # refused, timed out, bad address: a failed attempt, not a crash
            fields["last_error"] = f"{type(exc).__name__}: {exc}"[:2000]
            if webhooks.is_exhausted(attempts):
                fields["status"] = OutgoingMail.Status.DEAD
            else:
                fields.update(
                    status=OutgoingMail.Status.FAILED, next_attempt_at=now + webhooks.backoff(attempts)
                )
        else:
            fields.update(status=OutgoingMail.Status.SENT, sent_at=now, last_error="")
        if not OutgoingMail.objects.filter(pk=row.pk, claim_token=token).update(**fields):
            logger.warning("outgoing mail %s: lease lost before the outcome was recorded", row.pk)
    return len(rows)


def retry_mail(*, actor, ids) -> int:
    """Send given-up or failing e-mails again at the next delivery (an admin, after fixing the
    mail server or an address). Sent ones are left alone. Audited; returns how many."""
    from marketguard.core import delivery

    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        rows = list(
            OutgoingMail.objects.select_for_update()
            .filter(pk__in=list(ids), status__in=[OutgoingMail.Status.DEAD, OutgoingMail.Status.FAILED])
            .filter(delivery.unleased(timezone.now()))  # not while a worker is sending it
            .order_by("pk")
        )
        for row in rows:
            audit.record(
                actor=actor,
                action="mail_retry",
                obj=row,
                before={"status": row.status, "attempts": row.attempts, "last_error": row.last_error},
            )
        OutgoingMail.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=OutgoingMail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if rows:
            transaction.on_commit(_enqueue_mail)
    return len(rows)
