"""E-mail intake: a new complaint from a known buyer, a threaded reply, attachments as evidence;
each message on its own (one bad message never holds up the others), replies to finished and
merged cases, who may write into a case by e-mail, one reader per message."""

import io
import mailbox
import os
import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from PIL import Image

from marketguard.catalog.models import Buyer
from marketguard.complaints import mailparse, services, workflow
from marketguard.complaints.models import Case, CaseEvent, CaseMessage, OutgoingMail
from marketguard.complaints.services import mail as mail_service
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 120, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def _mail(sender, subject, text, *, attach=None, in_reply_to=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"张三 <{sender}>"
    msg["To"] = "service@marketguard.invalid"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, text)))}@mail.example.com>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(text)
    if attach:
        msg.add_attachment(attach, maintype="image", subtype="jpeg", filename="照片.jpg")
    return msg.as_bytes()


def test_maildir_intake_opens_a_case_and_threads_the_reply(tmp_path, capsys):
    consumer = factories.user(Role.CONSUMER, email="zhangsan@example.com")
    buyer = factories.buyer(user=consumer, email="zhangsan@example.com")
    factories.order(buyer_obj=buyer)
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_mail("zhangsan@example.com", "电水壶漏电", "用的时候手被电了一下，太危险了", attach=_photo()))
    box.add(_mail("stranger@example.com", "广告", "buy now"))
    call_command("mail", "ingest", "--maildir", str(tmp_path / "inbox"))
    out = capsys.readouterr().out
    assert "created" in out and "unknown_sender" in out
    case = Case.objects.get()
    assert case.channel == "email" and case.safety and case.priority == "P1"
    assert case.evidence.get().kind == "image"

    acknowledgement = OutgoingMail.objects.get(case=case)  # what the consumer answers
    reply_id = acknowledgement.message_id_header
    assert mailparse.parse_message(acknowledgement.raw.encode()).message_id == reply_id
    box.add(
        _mail(
            "zhangsan@example.com",
            f"Re: [{case.number}] 电水壶漏电",
            "补充：型号是 K-200\n\n> 我们已收到",
            in_reply_to=reply_id,
        )
    )
    call_command("mail", "ingest", "--maildir", str(tmp_path / "inbox"))
    assert Case.objects.count() == 1
    message = CaseMessage.objects.filter(case=case, channel="email", party="consumer").get()
    assert "型号是 K-200" in message.body and "我们已收到" not in message.body
    # a second run reads nothing again
    call_command("mail", "ingest", "--maildir", str(tmp_path / "inbox"))
    assert "0 message(s)" in capsys.readouterr().out.splitlines()[-1]


def test_auto_replies_are_ignored():
    raw = _mail("zhangsan@example.com", "自动回复: 您的投诉", "我正在休假")
    result = services.ingest_email(raw=raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\nSubject:", 1))
    assert result.action == "ignored" and result.reason == "auto_reply"


# --- each message on its own; replies to finished cases -----------------------------------------------

CONSUMER = "wangwu@example.com"


def _msg(sender, subject, text, *, message_id=None, in_reply_to=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@marketguard.invalid"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.example.com>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(text)
    return msg.as_bytes()


@pytest.fixture
def people():
    consumer = factories.user(Role.CONSUMER, email=CONSUMER)
    factories.buyer(user=consumer, email=CONSUMER)
    agent = factories.user(Role.AGENT, email="agent.li@marketguard.invalid")
    return consumer, agent


def _filed(subject="吹风机不出热风", text="用了两次就只出冷风了", sender=CONSUMER) -> Case:
    result = services.ingest_email(raw=_msg(sender, subject, text))
    assert result.action == "created", result
    return result.case


def _reply(case, text, *, sender=CONSUMER, message_id=None) -> bytes:
    """An answer to the last e-mail the case sent (as a mail program writes it: In-Reply-To)."""
    ours = OutgoingMail.objects.filter(case=case, notice=False).order_by("-id").first()
    answered = ours.message_id_header if ours is not None else None
    return _msg(
        sender, f"Re: [{case.number}] {case.title}", text, message_id=message_id, in_reply_to=answered
    )


def _mails_to_consumer(case) -> list[str]:
    return [
        mailparse.parse_message(row.raw.encode("ascii")).full_text
        for row in OutgoingMail.objects.filter(case=case, notice=False).order_by("id")
    ]


def _unread(box: Path) -> list[str]:
    return sorted(os.listdir(box / "new")) + sorted(
        n for n in os.listdir(box / "cur") if not n.startswith(".") and "S" not in n.split(":2,")[-1]
    )


def _cur_flags(box: Path) -> list[str]:
    return sorted(n.split(":2,")[-1] for n in os.listdir(box / "cur") if not n.startswith("."))


def test_a_reply_to_a_withdrawn_case_does_not_stop_the_mail_behind_it(people, tmp_path):
    consumer, _agent = people
    old = _filed()
    services.withdraw_case(actor=consumer, number=old.number)
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_reply(old, "吹风机又冒烟了，我还是要投诉", message_id="<again-1@mail.example.com>"))
    box.add(_msg(CONSUMER, "耳机没声音", "新买的耳机左边没有声音", message_id="<new-2@mail.example.com>"))

    results = services.ingest_maildir(path=tmp_path / "inbox")

    assert [(r.action, r.reason) for r in results] == [("created", "follow_up"), ("created", "")]
    follow_up = results[0].case
    assert results[0].related == old.number and follow_up.number != old.number
    assert "又冒烟了" in follow_up.description and follow_up.consumer == consumer
    old.refresh_from_db()
    assert old.status == workflow.WITHDRAWN  # the withdrawn case stays as it was
    assert CaseEvent.objects.get(case=old, type="follow_up_filed").data["case"] == follow_up.number
    assert CaseEvent.objects.get(case=follow_up, type="follow_up_of").data["of"] == old.number
    # the consumer is told what happened, naming both numbers
    told = _mails_to_consumer(follow_up)
    assert any(old.number in text and follow_up.number in text for text in told)
    assert Case.objects.filter(title="耳机没声音").exists()
    assert _unread(tmp_path / "inbox") == [] and services.ingest_maildir(path=tmp_path / "inbox") == []


def test_the_next_reply_to_the_finished_case_goes_to_the_case_opened_for_it(people):
    consumer, _agent = people
    old = _filed()
    services.withdraw_case(actor=consumer, number=old.number)
    follow_up = services.ingest_email(raw=_reply(old, "还是冒烟")).case
    again = services.ingest_email(raw=_reply(old, "补充：型号 HD-1800"))
    assert (again.action, again.case, again.related) == ("threaded", follow_up, old.number)
    assert CaseMessage.objects.filter(case=follow_up, party="consumer", body__contains="HD-1800").exists()
    assert Case.objects.count() == 2


def test_a_reply_to_a_merged_case_goes_to_the_case_it_was_merged_into_over_several_hops(people):
    consumer, agent = people
    first, second, third = _filed("一号"), _filed("二号"), _filed("三号")
    services.merge_cases(actor=agent, primary=second.number, duplicate=first.number)
    services.merge_cases(actor=agent, primary=third.number, duplicate=second.number)

    result = services.ingest_email(raw=_reply(first, "快递单号 SF123"))

    assert (result.action, result.case.number, result.related) == ("threaded", third.number, first.number)
    message = CaseMessage.objects.get(case=third, body__contains="SF123")
    assert message.party == "consumer" and message.channel == "email"
    assert any(first.number in t and third.number in t for t in _mails_to_consumer(third))


def test_a_reply_to_a_closed_case_within_the_reopen_window_reopens_it(people):
    consumer, agent = people
    case = _filed()
    services.acknowledge_case(actor=agent, number=case.number)
    services.resolve_case(actor=agent, number=case.number, reason="已安排换货")
    services.rate_case(actor=consumer, number=case.number, score=4)
    case.refresh_from_db()
    assert case.status == workflow.CLOSED

    mails_before = len(_mails_to_consumer(case))

    result = services.ingest_email(raw=_reply(case, "换来的这台也冒烟了"))

    assert (result.action, result.case.number) == ("reopened", case.number)
    case.refresh_from_db()
    assert case.status == workflow.ACKNOWLEDGED and case.closed_at is None
    assert CaseMessage.objects.filter(case=case, party="consumer", body__contains="也冒烟了").exists()
    assert CaseEvent.objects.filter(case=case, type="case_reopened").exists()
    assert Case.objects.count() == 1
    told = _mails_to_consumer(case)  # the consumer is told the case was reopened
    assert len(told) == mails_before + 1 and case.number in told[-1]


def test_a_reply_after_the_reopen_window_opens_a_new_case_naming_the_old_one(people):
    consumer, agent = people
    case = _filed()
    services.acknowledge_case(actor=agent, number=case.number)
    services.resolve_case(actor=agent, number=case.number, reason="已安排换货")
    services.rate_case(actor=consumer, number=case.number, score=4)
    days = services.rules().reopen_days

    with time_machine.travel(timezone.now() + timedelta(days=days, hours=1), tick=False):
        result = services.ingest_email(raw=_reply(case, "半个月后又坏了"))

    assert (result.action, result.reason, result.related) == ("created", "follow_up", case.number)
    case.refresh_from_db()
    assert case.status == workflow.CLOSED
    assert "半个月后又坏了" in result.case.description


def test_a_service_refusal_is_recorded_flagged_and_does_not_stop_the_others(people, tmp_path):
    consumer, _agent = people
    case = _filed()
    consumer.is_active = False  # the account was closed: the case no longer takes its mail
    consumer.save()
    other = factories.user(Role.CONSUMER, email="zhaoliu@example.com")
    factories.buyer(user=other, email="zhaoliu@example.com")
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_reply(case, "还在吗"))
    box.add(_msg("zhaoliu@example.com", "鼠标失灵", "新鼠标经常失灵"))

    results = services.ingest_maildir(path=tmp_path / "inbox")

    assert [(r.action, r.reason) for r in results] == [("rejected", "CASE_NOT_FOUND"), ("created", "")]
    assert not CaseMessage.objects.filter(case=case, body__contains="还在吗").exists()
    event = CaseEvent.objects.get(case=case, type="mail_refused")
    assert event.data["code"] == "CASE_NOT_FOUND" and event.visibility == "platform"
    assert _cur_flags(tmp_path / "inbox") == ["FS", "S"]  # both seen; the refused one flagged
    assert services.ingest_maildir(path=tmp_path / "inbox") == []


def test_an_unexpected_error_fails_one_message_only(people, tmp_path, monkeypatch):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_msg(CONSUMER, "坏邮件", "第一封", message_id="<bad@mail.example.com>"))
    box.add(_msg(CONSUMER, "好邮件", "第二封"))
    real = mail_service.ingest_email

    def ingest(*, raw):
        if b"<bad@mail.example.com>" in raw:
            raise RuntimeError("a defect")
        return real(raw=raw)

    monkeypatch.setattr(mail_service, "ingest_email", ingest)
    results = services.ingest_maildir(path=tmp_path / "inbox")
    assert sorted((r.action, r.reason) for r in results) == [("created", ""), ("failed", "RuntimeError")]
    assert _cur_flags(tmp_path / "inbox") == ["FS", "S"]


def test_when_the_database_is_away_the_message_waits_for_the_next_run(people, tmp_path, monkeypatch):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_msg(CONSUMER, "台灯闪烁", "台灯一直闪"))
    box.add(_msg(CONSUMER, "风扇异响", "风扇声音很大"))
    real = mail_service.submit_case

    def database_down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(mail_service, "submit_case", database_down)
    results = services.ingest_maildir(path=tmp_path / "inbox")
    assert [(r.action, r.reason) for r in results] == [("deferred", "OperationalError")]
    assert len(_unread(tmp_path / "inbox")) == 2  # put back, the second one not even read
    assert not Case.objects.exists()

    monkeypatch.setattr(mail_service, "submit_case", real)
    results = services.ingest_maildir(path=tmp_path / "inbox")
    assert [r.action for r in results] == ["created", "created"]
    assert _unread(tmp_path / "inbox") == []


# --- who may write into a case by e-mail --------------------------------------------------------------


def test_a_forged_agent_address_does_not_write_into_the_case_or_reach_the_consumer(people):
    consumer, agent = people
    case = _filed()
    mails_before = OutgoingMail.objects.filter(case=case).count()

    result = services.ingest_email(
        raw=_reply(case, "客服：请把货款转到 6222 0000 1111 退款", sender="agent.li@marketguard.invalid")
    )

    assert (result.action, result.reason) == ("refused", "staff_sender")
    assert not CaseMessage.objects.filter(case=case, body__contains="6222").exists()
    assert OutgoingMail.objects.filter(case=case).count() == mails_before  # nothing mailed on
    event = CaseEvent.objects.get(case=case, type="mail_refused")
    assert event.visibility == "platform" and event.data["from"] == "agent.li@marketguard.invalid"
    case.refresh_from_db()
    assert case.owner is None  # nor did the e-mail claim the case for the agent


def test_a_merchant_address_does_not_write_into_the_case(people):
    consumer, _agent = people
    order = factories.order(buyer_obj=Buyer.objects.get(user=consumer))
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant, email="shop@example.com")
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        description="鞋子开胶",
    ).case
    assert case.merchant_id == merchant.merchant_id

    result = services.ingest_email(raw=_reply(case, "商家：同意退款，请确认收货", sender="shop@example.com"))

    assert (result.action, result.reason) == ("refused", "staff_sender")
    assert not CaseMessage.objects.filter(case=case, party="merchant").exists()


def test_a_stranger_quoting_a_case_number_does_not_write_into_it(people):
    consumer, _agent = people
    case = _filed()
    other = factories.user(Role.CONSUMER, email="zhaoliu@example.com")
    factories.buyer(user=other, email="zhaoliu@example.com")
    for sender in ("stranger@example.net", "zhaoliu@example.com"):  # unknown, and another buyer
        result = services.ingest_email(raw=_reply(case, f"我是 {sender}，撤销投诉吧", sender=sender))
        assert (result.action, result.reason, result.case) == ("refused", "not_the_consumer", case)
    assert not CaseMessage.objects.filter(case=case, body__contains="撤销").exists()
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(case=case, type="mail_refused").count() == 2


def test_a_buyer_without_an_account_files_by_mail_and_answers_from_the_same_address():
    factories.buyer(email="sunqi@example.com")
    case = _filed(sender="sunqi@example.com")
    assert case.consumer is None and case.contact_email == "sunqi@example.com"
    result = services.ingest_email(raw=_reply(case, "照片稍后补上", sender="SunQi@Example.com"))
    assert (result.action, result.case) == ("threaded", case)
    assert CaseMessage.objects.get(case=case, body__contains="照片稍后").party == "consumer"


# --- one reader per message ---------------------------------------------------------------------------


def test_two_readers_of_one_maildir_never_take_the_same_message(people, tmp_path, monkeypatch):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    box.add(_msg(CONSUMER, "第一件", "第一件的问题", message_id="<one@mail.example.com>"))
    box.add(_msg(CONSUMER, "第二件", "第二件的问题", message_id="<two@mail.example.com>"))
    real = mail_service.ingest_email
    handled: list[tuple[str, str]] = []
    state = {"worker": "A"}

    def ingest(*, raw):
        worker = state["worker"]
        handled.append((worker, mailparse.parse_message(raw).message_id))
        if worker == "A" and len(handled) == 1:
            # worker B runs while A holds its first message, before A has stored anything
            state["worker"] = "B"
            mail_service.ingest_maildir(path=tmp_path / "inbox")
            state["worker"] = "A"
        return real(raw=raw)

    monkeypatch.setattr(mail_service, "ingest_email", ingest)
    results = mail_service.ingest_maildir(path=tmp_path / "inbox")

    assert sorted(mid for _w, mid in handled) == ["<one@mail.example.com>", "<two@mail.example.com>"]
    first = handled[0]
    assert first[0] == "A" and [w for w, mid in handled if mid != first[1]] == ["B"]
    assert [r.action for r in results] == ["created"]  # A found the second message taken
    assert Case.objects.count() == 2
    assert _unread(tmp_path / "inbox") == [] and _cur_flags(tmp_path / "inbox") == ["S", "S"]


def test_a_claim_whose_reader_died_is_taken_over_after_the_lease(tmp_path):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    key = box.add(_msg(CONSUMER, "台灯", "台灯坏了"))
    path = tmp_path / "inbox"
    [dead] = list(mailparse.claim_messages(path, clock=lambda: 1_000_000))  # never finished
    assert list(mailparse.iter_maildir(path)) == []  # a claimed message is nobody else's
    assert list(mailparse.claim_messages(path, clock=lambda: 1_000_000 + 60)) == []  # still held
    [taken] = list(mailparse.claim_messages(path))  # the lease ran out
    assert taken.key == dead.key == key and taken.data == dead.data
    assert mailparse.finish_claim(dead) is False  # the dead reader's claim is gone
    assert mailparse.finish_claim(taken) is True
    assert list(mailparse.claim_messages(path)) == [] and _cur_flags(path) == ["S"]


def test_a_released_claim_is_read_again(tmp_path):
    box = mailbox.Maildir(tmp_path / "inbox", create=True)
    key = box.add(_msg(CONSUMER, "台灯", "台灯坏了"))
    [claim] = list(mailparse.claim_messages(tmp_path / "inbox"))
    assert mailparse.release_claim(claim) is True
    assert [k for k, _raw in mailparse.iter_maildir(tmp_path / "inbox")] == [key]


def test_authentication_results_are_read_only_from_our_own_server_and_cannot_be_smuggled():
    from marketguard.complaints.mailparse import authentication_results, parse_message

    results = authentication_results(
        [
            "mx.marketguard.invalid; spf=pass smtp.mailfrom=example.com;\r\n dkim=pass (good sig) header.d=example.com;"
            " dmarc=fail (p=reject) header.from=example.com",
            "evil.example; dmarc=pass",
        ]
    )
    assert results[0] == (
        "mx.marketguard.invalid",
        [
            ("spf", "pass", {"smtp.mailfrom": "example.com"}),
            ("dkim", "pass", {"header.d": "example.com"}),
            ("dmarc", "fail", {"header.from": "example.com"}),
        ],
    )

    def verified(header: str, sender: str = "a@example.com") -> bool:
        raw = f"Authentication-Results: {header}\r\nFrom: {sender}\r\nSubject: x\r\n\r\nhi\r\n".encode()
        return parse_message(raw).sender_verified("mx.marketguard.invalid")

    assert verified("mx.marketguard.invalid; dkim=pass header.d=example.com")
    assert verified("mx.marketguard.invalid; dmarc=pass header.from=example.com")
    assert not verified("other.mx; dmarc=pass header.from=example.com")  # not our server
    assert not verified("mx.marketguard.invalid; dkim=pass header.d=evil.example")  # signed by someone else
    assert not verified(
        "mx.marketguard.invalid; dmarc=pass header.from=example.com", sender="a@victim.example"
    )
    # a quoted value or a nested comment cannot add a result of its own
    assert not verified(
        'mx.marketguard.invalid; spf=pass smtp.mailfrom="x;dmarc=pass"@evil.example; dmarc=fail'
    )
    assert not verified("mx.marketguard.invalid; spf=pass (helo (x); dmarc=pass) x; dmarc=fail")
    for odd in ["", ";", "mx.marketguard.invalid", "mx.marketguard.invalid; (unterminated", '"\\', "\x00;="]:
        authentication_results([odd])  # never raises


def test_with_a_verifier_set_an_unconfirmed_reply_does_not_enter_the_case(people, settings):
    case = _filed()
    settings.COMPLAINTS_MAIL_VERIFIER = "mx.marketguard.invalid"
    before = case.messages.count()
    forged = _reply(case, "请把退款打到这个新账户")  # no Authentication-Results from our server
    result = services.ingest_email(raw=forged)
    assert result.action == "refused" and result.reason == "unverified_sender"
    assert case.messages.count() == before
    genuine = (
        b"Authentication-Results: mx.marketguard.invalid; spf=pass; dkim=pass; dmarc=pass header.from=example.com\r\n"
        + _reply(case, "照片已补充")
    )
    assert services.ingest_email(raw=genuine).action == "threaded"
    assert case.messages.count() == before + 1


def test_with_a_verifier_set_an_unconfirmed_new_complaint_is_not_filed_in_a_consumers_name(people, settings):
    settings.COMPLAINTS_MAIL_VERIFIER = "mx.marketguard.invalid"
    result = services.ingest_email(raw=_msg(CONSUMER, "退款", "请把退款打到新账户"))
    assert result.action == "ignored" and result.reason == "unverified_sender"
    assert not Case.objects.exists()


def test_without_a_verifier_only_an_answer_to_our_mail_enters_the_case(people, client):
    """Anyone can put a consumer's address in From and a case number in the subject; only the
    consumer got our e-mail, whose Message-ID a mail program names when answering it."""
    consumer, agent = people
    case = _filed()
    answer = _reply(case, "照片已补充")  # to our acknowledgement
    before = case.messages.count()
    forged = _msg(CONSUMER, f"Re: [{case.number}] {case.title}", "请把退款打到这个新账户 6222 0000 1111")
    told = OutgoingMail.objects.filter(case=case).count()
    result = services.ingest_email(raw=forged)
    assert result.action == "refused" and result.reason == "not_an_answer"
    assert case.messages.count() == before
    # the address on file is told once how to write into the case (not once per forged mail)
    assert OutgoingMail.objects.filter(case=case).count() == told + 1
    # an answer to our mail to someone else does not do either
    someone_else = OutgoingMail.objects.create(
        case=case,
        to_address="other@example.com",
        subject="x",
        message_id_header="<CSX.1@mg.invalid>",
        raw="x",
    )
    guessed = _msg(CONSUMER, f"Re: [{case.number}]", "改地址", in_reply_to=someone_else.message_id_header)
    assert services.ingest_email(raw=guessed).reason == "not_an_answer"
    assert OutgoingMail.objects.filter(case=case).exclude(pk=someone_else.pk).count() == told + 1
    # the agent reads what came, to judge it; the consumer does not see it
    client.force_login(agent)
    page = client.get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "it answers none of the e-mails we sent to that address" in page and "请把退款打到这个新账户" in page
    )
    client.force_login(consumer)
    assert "请把退款打到这个新账户" not in client.get(f"/cases/{case.number}/").content.decode()
    # the consumer answering our acknowledgement is let in
    assert services.ingest_email(raw=answer).action == "threaded"


def test_the_agent_adds_a_refused_email_it_judged_the_consumers_once(people, client, api):
    """A consumer who writes a fresh e-mail (not an answer) with the case number is refused by
    the rules; the agent reads it and adds it, as the consumer's message, in one step."""
    consumer, agent = people
    case = _filed()
    fresh = _msg(
        CONSUMER,
        f"关于 {case.number}",
        "补充：吹风机的型号是 HD-1800",
        message_id="<fresh-1@mail.example.com>",
    )
    assert services.ingest_email(raw=fresh).reason == "not_an_answer"
    refused = case.events.get(type="mail_refused")
    client.force_login(agent)
    page = client.get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="add-refused-mail"' in page
    case.refresh_from_db()
    response = client.post(
        f"/cases/{case.number}/add-mail/", {"event_id": refused.pk, "version": case.version}
    )
    assert response.status_code == 302
    message = case.messages.get(party="consumer", channel="email")
    assert "型号是 HD-1800" in message.body and message.email_message_id == "<fresh-1@mail.example.com>"
    assert 'data-testid="add-refused-mail"' not in client.get(f"/cases/{case.number}/").content.decode()
    again = api(agent).post(f"cases/{case.number}/refused-mail/{refused.pk}/add", {})
    assert again.status_code == 409 and again.json()["code"] == "MAIL_ADDED"
    assert api(consumer).post(f"cases/{case.number}/refused-mail/{refused.pk}/add", {}).status_code == 403
    # the same e-mail delivered again is not read twice
    assert services.ingest_email(raw=fresh).reason == "already_ingested"


def test_a_case_filed_from_an_unconfirmed_sender_says_so_to_the_platform(people, settings):
    case = _filed()
    flag = case.events.get(type="mail_sender_unverified")
    assert flag.visibility == "platform" and flag.data["from"] == CONSUMER
    settings.COMPLAINTS_MAIL_VERIFIER = "mx.marketguard.invalid"
    confirmed = services.ingest_email(
        raw=b"Authentication-Results: mx.marketguard.invalid; dkim=pass header.d=example.com; dmarc=pass "
        b"header.from=example.com\r\n" + _msg(CONSUMER, "电吹风又坏了", "第二台也不出热风")
    ).case
    assert not confirmed.events.filter(type="mail_sender_unverified").exists()


def test_a_refused_email_delivered_twice_is_recorded_and_added_once(people, client):
    consumer, agent = people
    case = _filed()
    fresh = _msg(CONSUMER, f"关于 {case.number}", "补充：型号 HD-1800", message_id="<dup-1@mail.example.com>")
    assert services.ingest_email(raw=fresh).reason == "not_an_answer"
    assert services.ingest_email(raw=fresh).reason == "already_refused"
    refused = case.events.get(type="mail_refused")
    services.add_refused_mail(actor=agent, number=case.number, event_id=refused.pk)
    client.force_login(agent)
    assert 'data-testid="add-refused-mail"' not in client.get(f"/cases/{case.number}/").content.decode()
    assert case.messages.filter(email_message_id="<dup-1@mail.example.com>").count() == 1


def test_messages_are_read_in_the_order_they_were_delivered(tmp_path):
    """Maildir names carry microseconds without leading zeros: a reply delivered in the same
    second as the message it answers, with fewer digits, must still be read after it."""
    mailbox.Maildir(tmp_path / "inbox", create=True)
    names = [
        "1765000000.M123456P7Q1.mx",
        "1765000000.M99999P7Q2.mx",  # 99,999 µs: delivered before the one above, sorts after it as text
        "1765000000.M900000P7Q3.mx",
        "1765000001.M5P7Q4.mx",
        "1764999999.M999999P7Q5.mx",
        "odd-name-from-another-deliverer",
    ]
    for i, name in enumerate(names):
        (tmp_path / "inbox" / "new" / name).write_bytes(_msg(CONSUMER, f"第{i}封", "正文"))
    expected = [names[4], names[1], names[0], names[2], names[3], names[5]]
    assert [key for key, _raw in mailparse.iter_maildir(tmp_path / "inbox")] == expected
    assert [claim.key for claim in mailparse.claim_messages(tmp_path / "inbox")] == expected


def _with_files(sender, subject, text, files, *, message_id=None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "service@marketguard.invalid"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@mail.example.com>"
    msg.set_content(text)
    for name, maintype, subtype, data in files:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def _held_paths(event) -> list[str]:
    return [h["path"] for h in event.data["held"] if h["path"]]


def test_a_refused_emails_files_are_held_and_become_evidence_when_the_agent_adds_it(
    people, client, settings, django_capture_on_commit_callbacks, api
):
    """The consumer wrote a fresh e-mail with the photos asked for: refused by the rules, its
    files are held unopened; the agent who adds the mail adds them too, checked like any upload."""
    consumer, agent = people
    case = _filed()
    fresh = _with_files(
        CONSUMER,
        f"关于 {case.number} 的照片",
        "照片在附件",
        [
            ("铭牌.jpg", "image", "jpeg", _photo()),
            ("说明.exe", "application", "octet-stream", b"MZ\x90\x00" * 64),
        ],
    )
    assert services.ingest_email(raw=fresh).reason == "not_an_answer"
    refused = case.events.get(type="mail_refused")
    assert [h["name"] for h in refused.data["held"]] == ["铭牌.jpg", "说明.exe"]
    held = _held_paths(refused)
    assert len(held) == 2 and all((Path(settings.MEDIA_ROOT) / p).is_file() for p in held)
    assert not case.evidence.exists()  # nothing reaches the case before the agent decides
    client.force_login(agent)
    page = client.get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "added as the consumer's evidence with the e-mail): 铭牌.jpg, 说明.exe" in page
    client.force_login(consumer)
    assert "铭牌.jpg" not in client.get(f"/cases/{case.number}/").content.decode()
    # the API tells the platform which files are held, never where
    events = api(agent).get(f"cases/{case.number}").json()["events"]
    [shown] = [e for e in events if e["type"] == "mail_refused"]
    assert shown["data"]["held"][0] == {
        "name": "铭牌.jpg",
        "type": "image/jpeg",
        "size": len(_photo()),
        "held": True,
    }
    assert "held/" not in str(events)

    with django_capture_on_commit_callbacks(execute=True):
        services.add_refused_mail(actor=agent, number=case.number, event_id=refused.pk)
    [photo] = case.evidence.all()
    assert photo.filename == "铭牌.jpg" and photo.party == "consumer" and photo.kind == "image"
    assert photo.blob.thumbnail  # like any upload
    refusal = case.events.get(type="attachment_refused")
    assert refusal.data["file"] == "说明.exe" and refusal.visibility == "platform"
    added = case.events.get(type="mail_added")
    assert added.data["files"] == 1 and added.data["files_not_kept"] == []
    assert not any((Path(settings.MEDIA_ROOT) / p).exists() for p in held)  # no copy left held
    client.force_login(consumer)
    assert "铭牌.jpg" in client.get(f"/cases/{case.number}/").content.decode()


def test_held_files_are_discarded_after_the_time_kept_and_the_mail_can_still_be_added(
    people, client, settings
):
    consumer, agent = people
    case = _filed()
    fresh = _with_files(
        CONSUMER, f"关于 {case.number}", "发票见附件", [("发票.jpg", "image", "jpeg", _photo())]
    )
    assert services.ingest_email(raw=fresh).reason == "not_an_answer"
    refused = case.events.get(type="mail_refused")
    [path] = _held_paths(refused)
    # aged by the time in the folder's name, not the file's (a copy or a clock may reset it)
    os.utime(Path(settings.MEDIA_ROOT) / path, (0, 0))
    assert services.sweep(now=timezone.now() + timedelta(days=29)).held_files_discarded == 0
    assert (Path(settings.MEDIA_ROOT) / path).is_file()
    assert services.sweep(now=timezone.now() + timedelta(days=31)).held_files_discarded == 1
    assert not (Path(settings.MEDIA_ROOT) / path).exists()
    assert services.sweep(now=timezone.now() + timedelta(days=31)).held_files_discarded == 0

    message = services.add_refused_mail(actor=agent, number=case.number, event_id=refused.pk)
    assert "发票见附件" in message.body and not case.evidence.exists()
    added = case.events.get(type="mail_added")
    assert added.data["files"] == 0 and added.data["files_not_kept"] == ["发票.jpg"]
    client.force_login(agent)
    page = client.get(f"/cases/{case.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no longer held: 发票.jpg" in page


def test_files_held_before_their_folder_named_the_time_age_by_the_file_time(people, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from marketguard.complaints import held_mail

    old = default_storage.save("held/0123abcd/0", ContentFile(b"x"))
    fresh = default_storage.save("held/4567ef01/0", ContentFile(b"y"))
    day = timezone.now().timestamp() - 40 * 86400
    os.utime(Path(settings.MEDIA_ROOT) / old, (day, day))
    assert held_mail.held_at("0123abcd") is None
    assert held_mail.purge(older_than=timezone.now() - timedelta(days=30)) == 1
    assert not default_storage.exists(old) and default_storage.exists(fresh)


def test_files_of_mail_no_one_may_add_are_not_held(people, settings):
    consumer, _agent = people
    case = _filed()
    stranger = _with_files(
        "stranger@example.com", f"Re: [{case.number}]", "看看", [("x.jpg", "image", "jpeg", _photo())]
    )
    assert services.ingest_email(raw=stranger).reason == "not_the_consumer"
    refused = case.events.get(type="mail_refused")
    assert refused.data["held"] == [] and refused.data["attachments"] == ["x.jpg"]
    assert not (Path(settings.MEDIA_ROOT) / "held").exists()


def test_a_case_holds_a_bounded_number_of_refused_files(people, settings, monkeypatch):
    """Anyone can write from a consumer's address: what one case holds for its refused e-mails
    is bounded (then the files are named only)."""
    from marketguard.complaints import held_mail

    monkeypatch.setattr(held_mail, "CASE_FILES", 5)
    case = _filed()
    for i in range(3):
        raw = _with_files(
            CONSUMER,
            f"关于 {case.number} 第{i}封",
            "附件",
            [(f"p{i}-{n}.jpg", "image", "jpeg", _photo()) for n in range(2)],
        )
        assert services.ingest_email(raw=raw).reason == "not_an_answer"
    refused = list(case.events.filter(type="mail_refused").order_by("pk"))
    assert [len(_held_paths(e)) for e in refused] == [2, 2, 1]  # five in all, the sixth named only
    assert refused[2].data["held"][1] == {
        "name": "p2-1.jpg",
        "type": "image/jpeg",
        "size": len(_photo()),
        "path": "",
    }
    held = [p for e in refused for p in _held_paths(e)]
    assert sum(1 for p in held if (Path(settings.MEDIA_ROOT) / p).is_file()) == 5


def test_a_finished_case_holds_no_files(people, settings):
    consumer, _agent = people
    case = _filed()
    services.withdraw_case(actor=consumer, number=case.number, reason="不需要了")
    raw = _with_files(CONSUMER, f"关于 {case.number}", "附件", [("x.jpg", "image", "jpeg", _photo())])
    services.ingest_email(raw=raw)
    refused = case.events.filter(type="mail_refused").first()
    assert refused is None or _held_paths(refused) == []
    assert not (Path(settings.MEDIA_ROOT) / "held").exists()


def test_discarding_held_files_another_worker_removed_is_no_error(people, settings, monkeypatch):
    from django.core.files.storage import FileSystemStorage, default_storage

    from marketguard.complaints import held_mail

    case = _filed()
    raw = _with_files(CONSUMER, f"关于 {case.number}", "附件", [("x.jpg", "image", "jpeg", _photo())])
    services.ingest_email(raw=raw)
    [path] = _held_paths(case.events.get(type="mail_refused"))
    real = FileSystemStorage.listdir

    def gone(storage, name):  # the other worker removed it just before this one lists it
        if name.startswith(held_mail.ROOT):
            default_storage.delete(path)
            raise FileNotFoundError(name)
        return real(storage, name)

    monkeypatch.setattr(FileSystemStorage, "listdir", gone)
    held_mail.discard([path])
    assert held_mail.purge(older_than=timezone.now() + timedelta(days=1)) == 0
    assert not (Path(settings.MEDIA_ROOT) / path).exists()
