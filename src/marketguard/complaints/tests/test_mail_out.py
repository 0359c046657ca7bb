"""E-mail to consumers: acknowledgement, replies and the rating request leave through an outbox,
thread with the consumer's own mail, and are retried when the mail server fails."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core import mail
from django.utils import timezone

from marketguard.complaints import mailparse, services
from marketguard.complaints.models import Case, CaseMessage, OutgoingMail
from marketguard.core.models import Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    consumer = factories.user(Role.CONSUMER, email="li@example.com")
    buyer = factories.buyer(user=consumer, email="li@example.com")
    order = factories.order(buyer_obj=buyer, paid_fen=9_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    agent = factories.user(Role.AGENT)
    return consumer, order, merchant, agent


def _sent():
    return [m.message() for m in mail.outbox]


def test_web_intake_acknowledges_by_mail_with_the_checklist_after_the_commit(
    world, django_capture_on_commit_callbacks
):
    consumer, order, _merchant, _agent = world
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit_case(
            actor=consumer,
            channel="web",
            kind="return_refund",
            order_external_id=order.external_id,
            description="鞋底开胶了，质量问题",
        ).case
    [sent] = _sent()
    assert sent["To"] == "li@example.com"
    assert f"[{case.number}]" in sent["Subject"]
    assert sent["Auto-Submitted"] == "auto-replied"  # auto-responders must not answer it
    body = sent.get_content()
    assert "一次性提供以下材料" in body and "please provide" in body and f"/cases/{case.number}" in body
    row = OutgoingMail.objects.get(case=case)
    assert row.status == OutgoingMail.Status.SENT and row.sent_at is not None
    assert sent["Message-ID"].strip() == row.message_id_header


def test_a_case_without_an_address_sends_nothing(world):
    consumer, order, _merchant, agent = world
    services.submit_case(
        actor=agent,
        channel="hotline",
        kind="complaint",
        description="电话投诉：客服态度差",
    )
    assert OutgoingMail.objects.count() == 0


def test_email_intake_reply_threads_and_the_consumers_answer_comes_back(world):
    consumer, order, merchant, agent = world
    incoming = EmailMessage()
    incoming["From"] = "li@example.com"
    incoming["To"] = "service@marketguard.invalid"
    incoming["Subject"] = "充电器发烫"
    incoming["Message-ID"] = "<first-1@mail.example.com>"
    incoming.set_content("充电器用了十分钟就很烫")
    case = services.ingest_email(raw=incoming.as_bytes()).case
    services.deliver_mail()
    [ack] = _sent()
    assert ack["In-Reply-To"].strip() == "<first-1@mail.example.com>"

    # the agent writes; the consumer gets it by mail, in the same thread
    services.post_message(actor=agent, number=case.number, body="请提供充电器型号和购买时间。")
    services.post_message(actor=agent, number=case.number, body="内部：可能是批次问题", internal=True)
    assert services.deliver_mail() == 1  # the internal note is never mailed
    reply = _sent()[-1]
    assert "请提供充电器型号和购买时间" in reply.get_content()
    assert "内部" not in reply.get_content()
    assert "<first-1@mail.example.com>" in reply["References"]
    assert ack["Message-ID"].strip() in reply["References"]
    assert reply["In-Reply-To"].strip() == ack["Message-ID"].strip()

    # the consumer answers our mail from a client that drops the subject tag
    answer = EmailMessage()
    answer["From"] = "li@example.com"
    answer["To"] = "service@marketguard.invalid"
    answer["Subject"] = "Re: 充电器发烫"
    answer["Message-ID"] = "<answer-2@mail.example.com>"
    answer["In-Reply-To"] = reply["Message-ID"].strip()
    answer.set_content("型号 C-65W，11月1日购买")
    result = services.ingest_email(raw=answer.as_bytes())
    assert result.action == "threaded" and result.case.number == case.number
    assert CaseMessage.objects.filter(case=case, party="consumer", body__contains="C-65W").exists()
    assert Case.objects.count() == 1


def test_resolution_asks_for_a_rating_by_mail(world):
    consumer, order, merchant, agent = world
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        description="物流太慢",
        order_external_id=order.external_id,
    ).case
    services.acknowledge_case(actor=agent, number=case.number)
    services.resolve_case(actor=agent, number=case.number, reason="已催促快递，今日送达")
    services.deliver_mail()
    last = _sent()[-1]
    assert "rate our service" in last.get_content() and f"[{case.number}]" in last["Subject"]


def test_a_failing_mail_server_is_retried_with_backoff_and_given_up_at_last(world, settings):
    consumer, order, _merchant, _agent = world
    settings.EMAIL_BACKEND = "marketguard.complaints.tests.test_mail_out.BrokenBackend"
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        description="客服不回复",
        order_external_id=order.external_id,
    ).case
    now = timezone.now()
    assert services.deliver_mail(now=now) == 1
    row = OutgoingMail.objects.get(case=case)
    assert row.status == OutgoingMail.Status.FAILED and "refused" in row.last_error
    assert row.next_attempt_at > now
    assert services.deliver_mail(now=now) == 0  # not due yet
    for day in range(1, 20):
        services.deliver_mail(now=now + timedelta(days=day))
    row.refresh_from_db()
    assert row.status == OutgoingMail.Status.DEAD
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.deliver_mail(now=timezone.now() + timedelta(days=10)) == 0  # dead stays dead
    assert mail.outbox == []


def test_reply_headers_cannot_be_injected_through_the_case_title(world):
    consumer, order, _merchant, _agent = world
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="complaint",
        title="坏了\r\nBcc: victim@example.com",
        description="质量问题",
        order_external_id=order.external_id,
    ).case
    services.deliver_mail()
    [sent] = _sent()
    assert sent["Bcc"] is None and sent.get_all("To") == ["li@example.com"]
    assert mailparse.parse_message(sent.as_bytes()).case_number == case.number


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("connection refused by smtp.example.com")
