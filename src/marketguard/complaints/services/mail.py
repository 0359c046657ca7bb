"""E-mail: intake (a message from a maildir becomes a case, or a reply threaded into one) and
the outbox of e-mail to consumers (acknowledgements, replies, rating requests).

"""

from __future__ import annotations

import email
import email.message
import email.policy
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.parser import BytesParser

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketguard.catalog.models import Buyer
from marketguard.complaints import held_mail, workflow
from marketguard.complaints.models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseMessage,
    Channel,
    OutgoingMail,
    Party,
)
from marketguard.complaints.services.closing import reopen_case
from marketguard.complaints.services.common import MAX_TEXT, _enqueue_mail, _event, _tell_consumer, timeouts
from marketguard.complaints.services.intake import submit_case
from marketguard.complaints.services.work import ADDABLE_MAIL, add_evidence, attachment_refused, post_message
from marketguard.core import audit
from marketguard.core.errors import DomainError, InvalidInput, InvalidTransition
from marketguard.core.models import Role, User
from marketguard.core.permissions import require_role

logger = logging.getLogger(__name__)


# --- e-mail intake ----------------------------------------------------------------------------------------


@dataclass
class MailResult:
    """What became of one e-mail (`action`, with `reason` a code saying why):

    - ``created``: a new case (reason ``follow_up`` when it continues a finished case, named in
      `related`);
    - ``threaded``: a message in the case it answers, or in the case that took that one over
      (merged into it, or opened for an earlier e-mail): `related` then names the case answered;
    - ``reopened``: the consumer's answer reopened their resolved or closed case and is in it;
    - ``ignored``: nothing to do (an auto-reply, an answer to a staff notice, already ingested,
      a new complaint from an address we do not know);
    - ``refused``: not posted, the sender may not write into the case it names
      (``staff_sender``, ``not_the_consumer``); recorded on the case for the platform;
    - ``rejected``: not posted, the service refused it (reason: its error code);
    - ``failed``: an unexpected error (logged with its traceback);
    - ``deferred``: the database was away; the message is read again on the next run.
    """

    action: str
    case: Case | None
    reason: str = ""
    related: str = ""


#: Outcomes a person should look at: the message is flagged (F) in the Maildir besides seen (S).
FLAGGED = frozenset({"refused", "rejected", "failed"})

#: A case in one of these states takes no e-mail as it is: it is reopened, or the e-mail is filed
#: as a new case that names it.
_FINISHED = workflow.FINAL | {workflow.RESOLVED}
_MAX_HOPS = 10  # merged into, followed up by: never walked further than this

_REFUSED_TEXT = {
    "staff_sender": gettext_lazy(
        "E-mail from %(sender)s was not added: staff write into a case on its page, not by e-mail."
    ),
    "not_the_consumer": gettext_lazy(
        "E-mail from %(sender)s was not added: only the consumer of this case may write into it by e-mail."
    ),
    "unverified_sender": gettext_lazy(
        "E-mail from %(sender)s was not added: our mail server could not confirm it comes from that address."
    ),
    "not_an_answer": gettext_lazy(
        "E-mail from %(sender)s was not added: it answers none of the e-mails we sent to that address, "
        "so it may not come from the consumer. Read it here and contact the consumer if it matters."
    ),
}


def mail_refusal_text(data: dict) -> str:
    """Why an e-mail was not added (a `mail_refused` event's data), in the reader's language."""
    code = data.get("code")
    if code in _REFUSED_TEXT:
        return str(_REFUSED_TEXT[code] % {"sender": data.get("from") or "-"})
    return data.get("reason", "")


def ingest_email(*, raw: bytes) -> MailResult:
    """One e-mail. A reply to a case (its number in the subject or references) from the
    consumer of the case threads into it, or into the case it was merged into; one to a
    finished case reopens it while the rules allow (as on the case page), else it is filed as a
    new case that names the old one. Anything else from a known buyer opens a new complaint.
    Mail from anyone else that names a case is refused and recorded on the case. Attachments
    become evidence. A service's refusal is a result (``rejected``), never an exception."""
    from marketguard.complaints import mailparse

    mail = mailparse.parse_message(raw)
    if mail.is_auto_reply:
        return MailResult("ignored", None, "auto_reply")
    if mailparse.is_reply_to_notice(mail):  # staff answering an alert: never into the case
        return MailResult("ignored", None, "reply_to_notice")
    if _already_ingested(mail):
        return MailResult("ignored", None, "already_ingested")
    case = None
    if mail.case_number:
        case = Case.objects.filter(number=mail.case_number).select_related("buyer__user", "consumer").first()
    try:
        return _reply(case, mail) if case is not None else _new_case(mail)
    except DomainError as exc:
        return _not_added(case, mail, exc)
    except IntegrityError:
        if _already_ingested(mail):  # another reader filed the same e-mail a moment ago
            return MailResult("ignored", None, "already_ingested")
        raise


def _already_ingested(mail) -> bool:
    # compared as stored: a Message-ID is kept to its first 300 characters
    return (
        bool(mail.message_id) and CaseMessage.objects.filter(email_message_id=mail.message_id[:300]).exists()
    )


def _new_case(mail) -> MailResult:
    sender = mail.from_address
    user = User.objects.filter(email__iexact=sender, role=Role.CONSUMER, is_active=True).first()
    buyer = (
        Buyer.objects.filter(Q(user=user) if user else Q(email__iexact=sender)).first() if sender else None
    )
    if user is None and buyer is None:
        return MailResult("ignored", None, "unknown_sender")
    if _unverified(mail):
        # it would be filed in a consumer's name and answered to them: not on a forged From
        return MailResult("ignored", None, "unverified_sender")
    intake = submit_case(
        actor=user,
        channel=Channel.EMAIL,
        kind=CaseKind.COMPLAINT,
        title=mail.subject[:200],
        description=_body(mail),
        buyer_external_id=buyer.external_id if buyer else None,
        contact_email=sender,
        email_message_id=mail.message_id or "",
    )
    if not (getattr(settings, "COMPLAINTS_MAIL_VERIFIER", "") or "").strip():
        # nothing vouched for the From address: the agent is told before relying on who wrote
        with transaction.atomic():
            _event(
                intake.case,
                "mail_sender_unverified",
                None,
                Party.SYSTEM,
                {"from": sender},
                visibility=CaseEvent.Visibility.PLATFORM,
            )
    for att in mail.attachments:
        _mail_evidence(user, intake.case.number, att, Party.CONSUMER)
    return MailResult("created", intake.case)


def _reply(quoted: Case, mail) -> MailResult:
    sender = mail.from_address
    refusal = _refusal(quoted, sender) or _unverified(mail) or _unanswered(mail)
    if refusal is not None:
        return _refuse(quoted, mail, refusal)
    case = _destination(quoted, sender)
    account = _account(case)
    related = quoted.number if case.pk != quoted.pk else ""
    if case.status not in _FINISHED:
        with transaction.atomic():
            _post(case, mail, account)
            if related:
                _tell_consumer(
                    case,
                    lambda: [
                        _(
                            "Your message about case %(old)s was added to case %(number)s, which now handles it."
                        )
                        % {"old": related, "number": case.number}
                    ],
                )
        _attachments(case, mail, account)
        return MailResult("threaded", case, "", related)
    if account is not None and case.status in (workflow.RESOLVED, workflow.CLOSED):
        with transaction.atomic():
            reopened = _reopen(case, account)
            if reopened:
                _post(case, mail, account)
                _tell_consumer(
                    case,
                    lambda: [
                        _("Your message has reopened case %(number)s. We will get back to you.")
                        % {"number": case.number}
                    ],
                )
        if reopened:
            _attachments(case, mail, account)
            return MailResult("reopened", case, "", related)
    return _follow_up(case, mail, account)


def _account(case: Case) -> User | None:
    """The consumer's account of a case, if they have one."""
    if case.consumer_id:
        return case.consumer
    return case.buyer.user if case.buyer_id and case.buyer.user_id else None


def _unverified(mail) -> str | None:
    """With `COMPLAINTS_MAIL_VERIFIER` set (the authserv-id our receiving mail server writes in
    Authentication-Results), a message writes into a case only if that server found its From
    domain authentic (DMARC, else DKIM): a forged consumer address is refused."""
    verifier = (getattr(settings, "COMPLAINTS_MAIL_VERIFIER", "") or "").strip()
    if verifier and not mail.sender_verified(verifier):
        return "unverified_sender"
    return None


def _unanswered(mail) -> str | None:
    """Without a mail server that vouches for the From address (`COMPLAINTS_MAIL_VERIFIER`), a
    message writes into a case only if it answers an e-mail we sent to that address: its
    In-Reply-To or References name one of our Message-IDs (random, known only to whoever got the
    mail). Anyone can write a consumer's address and a case number in a subject; not that."""
    verifier = (getattr(settings, "COMPLAINTS_MAIL_VERIFIER", "") or "").strip()
    if verifier:
        return None  # _unverified has checked the sender
    refs = {r.strip()[:300] for r in [mail.in_reply_to or "", *mail.references] if r.strip()}
    ours = OutgoingMail.objects.filter(
        message_id_header__in=refs, to_address__iexact=mail.from_address, notice=False
    )
    return None if refs and mail.from_address and ours.exists() else "not_an_answer"


def _refusal(case: Case, sender: str) -> str | None:
    """None when the sender is the consumer of the case (the address of their account or the
    case's contact address); else why they may not write into it. From is not verified: an
    address of a staff account never writes into a case by e-mail (its mail would reach the
    consumer as the platform's or the merchant's word); staff answer on the case page."""
    if not sender:
        return "not_the_consumer"
    account = _account(case)
    if account is not None and (account.email or "").strip().lower() == sender:
        return None
    staff = Q(is_superuser=True) | Q(is_staff=True) | ~Q(role=Role.CONSUMER)
    if User.objects.filter(staff, email__iexact=sender).exists():
        return "staff_sender"
    if (case.contact_email or "").strip().lower() == sender:
        return None
    return "not_the_consumer"


def _destination(case: Case, sender: str) -> Case:
    """Where a reply to `case` goes now: along merges (the case it was merged into, hop by hop)
    and, from a finished case, to the case opened for an earlier e-mail about it; only into
    cases the sender is the consumer of."""
    seen = {case.pk}
    while len(seen) <= _MAX_HOPS:
        if case.status == workflow.MERGED and case.merged_into_id:
            following = Case.objects.select_related("buyer__user", "consumer").filter(pk=case.merged_into_id)
        elif case.status in _FINISHED:
            event = CaseEvent.objects.filter(case=case, type="follow_up_filed").order_by("-id").first()
            number = (event.data or {}).get("case") if event is not None else None
            following = Case.objects.select_related("buyer__user", "consumer").filter(number=number or "")
        else:
            break
        nxt = following.first()
        if nxt is None or nxt.pk in seen or _refusal(nxt, sender) is not None:
            break
        seen.add(nxt.pk)
        case = nxt
    return case


def _reopen(case: Case, account: User) -> bool:
    """Reopen a resolved or closed case for its consumer, under the rules of the case page
    (within `ComplaintRules.reopen_days` of the resolution). False when they do not allow it."""
    try:
        with transaction.atomic():
            reopen_case(actor=account, number=case.number, reason=_("The consumer wrote again by e-mail."))
    except InvalidTransition:
        return False
    case.refresh_from_db()
    return True


def _follow_up(old: Case, mail, account: User | None) -> MailResult:
    """The consumer wrote about a case that takes no more messages: a new case that names it."""
    with transaction.atomic():
        new = submit_case(
            actor=account,
            channel=Channel.EMAIL,
            kind=CaseKind.COMPLAINT,
            title=mail.subject[:200],
            description=_body(mail),
            buyer_external_id=old.buyer.external_id if old.buyer_id else None,
            contact_email=mail.from_address,
            email_message_id=mail.message_id or "",
        ).case
        status = old.get_status_display()
        _event(
            new,
            "follow_up_of",
            None,
            Party.SYSTEM,
            {
                "of": old.number,
                "reason": _("Filed from an e-mail about case %(number)s (%(status)s).")
                % {"number": old.number, "status": status},
            },
        )
        _event(
            old,
            "follow_up_filed",
            None,
            Party.SYSTEM,
            {
                "case": new.number,
                "reason": _("A later e-mail about this case was filed as case %(number)s.")
                % {"number": new.number},
            },
        )
        _tell_consumer(
            new,
            lambda: [
                _(
                    "Case %(old)s is %(status)s and takes no new messages, "
                    "so we have filed your message as a new case, %(number)s."
                )
                % {"old": old.number, "status": old.get_status_display(), "number": new.number}
            ],
        )
    _attachments(new, mail, account)
    return MailResult("created", new, "follow_up", old.number)


def _post(case: Case, mail, account: User | None) -> None:
    post_message(
        actor=account,
        number=case.number,
        body=_body(mail),
        channel=Channel.EMAIL,
        email_message_id=mail.message_id or "",
        on_behalf_of=Party.CONSUMER,
    )


def _attachments(case: Case, mail, account: User | None) -> None:
    for att in mail.attachments:
        _mail_evidence(account, case.number, att, Party.CONSUMER)


def _body(mail) -> str:
    """The text of an e-mail as a message or a description: never empty, never too long."""
    text = (mail.text or mail.subject or "").strip() or _("(no text)")
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _masked(address: str) -> str:
    local, at, domain = (address or "").partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def _refuse(case: Case, mail, code: str) -> MailResult:
    logger.warning(
        "mail %s from %s not added to case %s: %s",
        mail.message_id,
        _masked(mail.from_address),
        case.number,
        code,
    )
    mid = (mail.message_id or "")[:300]
    if mid and CaseEvent.objects.filter(case=case, type="mail_refused", data__message_id=mid).exists():
        return MailResult("ignored", case, "already_refused")  # the same e-mail delivered again
    # the agent may judge it the consumer's and add it: its files are held until then (not for
    # a case that can take nothing more, nor beyond what one case may hold)
    held = []
    if code in ADDABLE_MAIL and case.status not in workflow.FINAL:
        files_left, bytes_left = _held_budget(case)
        held = held_mail.hold(
            mail.attachments, files_left=files_left, bytes_left=bytes_left, now=timezone.now()
        )
    with transaction.atomic():
        recent = CaseEvent.objects.filter(
            case=case, type="mail_refused", data__code=code, at__gte=timezone.now() - timedelta(days=1)
        ).exists()
        text = _REFUSED_TEXT[code] % {"sender": mail.from_address or "-"}
        _record_refusal(case, mail, code, text, held=held)
        if code == "not_an_answer" and not recent:
            # the consumer's own address, as on file: if the mail was theirs, they learn how to send
            # it (once a day at most, so forged mail cannot flood them with our answers)
            _tell_consumer(
                case,
                lambda: [
                    _(
                        "We received an e-mail from your address about case %(number)s that does not answer "
                        "one of ours, so we did not add it to the case. If it was yours, reply to one of our "
                        "e-mails or add it on the case page."
                    )
                    % {"number": case.number}
                ],
            )
    return MailResult("refused", case, code)


def _held_budget(case: Case) -> tuple[int, int]:
    """How many more files, and bytes, the case may hold for its refused e-mails (those held in
    the time kept and not added yet count)."""
    since = timezone.now() - timeouts().refused_mail_files_kept
    added = set(CaseEvent.objects.filter(case=case, type="mail_added").values_list("data__event", flat=True))
    files = size = 0
    refused = CaseEvent.objects.filter(case=case, type="mail_refused", at__gte=since).exclude(pk__in=added)
    for data in refused.values_list("data", flat=True):
        for entry in (data or {}).get("held") or []:
            if entry.get("path"):
                files += 1
                size += int(entry.get("size") or 0)
    return held_mail.CASE_FILES - files, held_mail.CASE_BYTES - size


def _not_added(case: Case | None, mail, exc: DomainError) -> MailResult:
    logger.warning(
        "mail %s from %s not filed%s: %s %s",
        mail.message_id,
        _masked(mail.from_address),
        f" in case {case.number}" if case is not None else "",
        exc.code,
        exc.message,
    )
    if case is not None:
        text = _("E-mail from %(sender)s was not added: %(reason)s") % {
            "sender": mail.from_address or "-",
            "reason": exc.message,
        }
        _record_refusal(case, mail, exc.code, text)
    return MailResult("rejected", case, exc.code)


def _record_refusal(case: Case, mail, code: str, text: str, *, held: list[dict] | None = None) -> None:
    """On the case's timeline, for the platform only: who wrote, what, why it was not added, and
    its files (held until the agent decides, see held_mail, when the agent may add it)."""
    _event(
        case,
        "mail_refused",
        None,
        Party.SYSTEM,
        {
            "from": mail.from_address,
            "subject": mail.subject[:200],
            "message_id": (mail.message_id or "")[:300],
            "code": code,
            "reason": str(text),
            "text": _body(mail)[:2000],  # for the agent to judge (the platform sees it, no one else)
            "attachments": [a.filename or "attachment" for a in mail.attachments][:20],
            "held": held or [],
        },
        visibility=CaseEvent.Visibility.PLATFORM,
    )


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
            attachment_refused(Case.objects.get(number=number), attachment.filename, exc.message)


def ingest_maildir(*, path) -> list[MailResult]:
    """Ingest every unread message of a Maildir, each on its own: a message is claimed first
    (several workers read one Maildir; only one gets each message), then marked seen whatever
    became of it (flagged too when a person should look: refused, rejected, failed), so that
    one bad message never holds up the others. When the database is away the message is put
    back and the run stops: the next run reads it again."""
    from marketguard.complaints import mailparse

    results = []
    for claim in mailparse.claim_messages(path):
        try:
            result = ingest_email(raw=claim.data)
        except (OperationalError, InterfaceError) as exc:
            mailparse.release_claim(claim)
            logger.warning("mail %s left for the next run, the database is unavailable: %s", claim.key, exc)
            results.append(MailResult("deferred", None, type(exc).__name__))
            break
        except Exception as exc:  # a defect: logged, flagged in the Maildir, the others go on
            logger.exception("mail %s could not be ingested", claim.key)
            result = MailResult("failed", None, type(exc).__name__)
        if not mailparse.finish_claim(claim, flags="FS" if result.action in FLAGGED else "S"):
            logger.warning(
                "mail %s: claim lost before it was marked seen (taken over by another reader)", claim.key
            )
        results.append(result)
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
