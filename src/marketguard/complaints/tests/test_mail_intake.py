"""E-mail intake: a new complaint from a known buyer, a threaded reply, attachments as evidence."""

import io
import mailbox
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from PIL import Image

from marketguard.complaints import mailparse, services
from marketguard.complaints.models import Case, CaseMessage
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

    reply = mailparse.build_reply(
        case_number=case.number,
        to="zhangsan@example.com",
        subject="Re: 电水壶漏电",
        text="我们已收到",
        from_address="service@marketguard.invalid",
    )
    reply_id = reply.message_id
    assert mailparse.parse_message(reply.raw).message_id == reply_id
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
