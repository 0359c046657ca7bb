"""E-mail to consumers: acknowledgement, replies and the rating request leave through an outbox,
thread with the consumer's own mail, and are retried when the mail server fails."""

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.core import mail
from django.utils import timezone

from marketguard.complaints import mailparse, services
from marketguard.complaints.models import Case, CaseMessage, OutgoingMail
from marketguard.core import services as core_services
from marketguard.core.errors import InvalidInput, PermissionDenied
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
    assert "一次性提供以下材料" in body and f"/cases/{case.number}" in body
    assert "please provide" not in body  # written to in the language of the complaint
    row = OutgoingMail.objects.get(case=case)
    assert row.status == OutgoingMail.Status.SENT and row.sent_at is not None
    assert sent["Message-ID"].strip() == row.message_id_header


def test_a_case_without_an_address_sends_nothing(world):
    consumer, order, _merchant, agent = world
    caller = factories.buyer(email="")
    services.submit_case(
        actor=agent,
        channel="hotline",
        kind="complaint",
        buyer_external_id=caller.external_id,
        description="电话投诉：客服态度差",
    )
    assert OutgoingMail.objects.count() == 0


def test_a_hotline_case_needs_someone_to_answer_to(world):
    _consumer, _order, _merchant, agent = world
    with pytest.raises(InvalidInput) as refused:
        services.submit_case(
            actor=agent, channel="hotline", kind="complaint", description="电话投诉：客服态度差"
        )
    assert refused.value.errors[0].field == "buyer" and not Case.objects.exists()


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
    assert "为我们的服务打分" in last.get_content() and f"[{case.number}]" in last["Subject"]


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

    # the mail server is fixed: an admin sends it again from the outbox list
    from django.test import Client

    from marketguard.core.errors import PermissionDenied
    from marketguard.core.models import AuditEntry

    with pytest.raises(PermissionDenied):
        services.retry_mail(actor=_agent, ids=[row.pk])
    admin = factories.user(Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin)
    listing = client.get("/admin/complaints/outgoingmail/?status=dead")
    assert listing.status_code == 200 and case.number in listing.content.decode()
    done = client.post(
        "/admin/complaints/outgoingmail/", {"action": "send_again", "_selected_action": [row.pk]}, follow=True
    )
    assert "1 e-mail will be sent again." in done.content.decode()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutgoingMail.Status.PENDING, 0)
    assert AuditEntry.objects.filter(action="mail_retry", object_id=str(row.pk)).exists()
    assert services.deliver_mail() == 1 and len(mail.outbox) == 1
    assert services.retry_mail(actor=admin, ids=[row.pk]) == 0  # sent mail is left alone


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


# --- alerts e-mailed to people at work ---------------------------------------------------------------


def _notices():
    return [m for m in _sent() if m["Message-ID"].strip().startswith("<notice.")]


def test_a_safety_case_emails_the_inspectors_at_once_outside_the_consumers_thread(
    world, django_capture_on_commit_callbacks
):
    from django.utils import translation

    from marketguard.complaints import alerts

    consumer, order, _merchant, agent = world
    inspector = factories.user(Role.INSPECTOR, email="qa@example.com")
    factories.user(Role.INSPECTOR)  # no address: alerted on the page only
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit_case(
            actor=consumer,
            channel="web",
            kind="complaint",
            order_external_id=order.external_id,
            description="充电宝充电时起火，手被烫伤了",
        ).case
    assert case.safety and case.priority == "P1"
    [notice] = [m for m in _notices() if m["To"] == "qa@example.com"]
    with translation.override("zh-hans"):
        zh = alerts.label("safety_signal")
    assert zh != "Personal-safety signal on a product"  # both languages, Chinese first
    assert case.number in notice["Subject"] and zh in notice["Subject"]
    assert "Personal-safety signal on a product" in notice["Subject"]
    assert notice["Auto-Submitted"] == "auto-generated"
    body = notice.get_content()
    assert f"/cases/{case.number}" in body and "充电宝充电时起火" in body  # inspectors see the text
    assert [m["To"] for m in _notices()] == ["qa@example.com"]  # the agent has no address
    assert inspector.alerts.filter(kind="safety_signal", case=case).exists()

    # the consumer's thread never names the notice
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(actor=agent, number=case.number, body="我们已联系质检，请注意安全。")
    to_consumer = [m for m in _sent() if m["To"] == "li@example.com"]
    assert len(to_consumer) == 2
    assert all("notice." not in (m["References"] or "") + (m["In-Reply-To"] or "") for m in to_consumer)

    # an inspector answering the notice by mail does not write into the case
    answer = EmailMessage()
    answer["From"] = "qa@example.com"
    answer["To"] = "service@marketguard.invalid"
    answer["Subject"] = "Re: " + notice["Subject"]
    answer["Message-ID"] = "<answer-1@mail.example.com>"
    answer["In-Reply-To"] = notice["Message-ID"]
    answer.set_content("收到，马上抽检")
    result = services.ingest_email(raw=answer.as_bytes())
    assert (result.action, result.reason) == ("ignored", "reply_to_notice")
    assert not CaseMessage.objects.filter(case=case, body__contains="马上抽检").exists()


def test_the_merchant_is_told_of_a_violation_by_alert_and_mail_with_personal_data_masked(
    world, django_capture_on_commit_callbacks
):
    import time_machine

    consumer, order, merchant, _agent = world
    merchant.email = "shop@example.com"
    merchant.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit_case(
            actor=consumer,
            channel="web",
            kind="refund_only",
            order_external_id=order.external_id,
            title="没收到货 电话13900001111",
            description="一直没收到货，请退款",
        ).case
    assert _notices() == []  # a new case for the store is shown on the page, not mailed
    with (
        time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.sweep()
    assert merchant.alerts.filter(kind="violation_recorded", case=case).exists()
    subjects = [m["Subject"] for m in _notices() if m["To"] == "shop@example.com"]
    assert any("A violation was recorded against your store" in s for s in subjects), subjects
    for m in _notices():
        assert "13900001111" not in m.get_content() and "139****1111" in m.get_content()


# --- steps that need the consumer, or decide for them, are e-mailed -----------------------------------


def _to_consumer():
    return [m for m in _sent() if m["To"] == "li@example.com"]


def _file_web(consumer, order, **kw):
    args = {
        "actor": consumer,
        "channel": "web",
        "kind": "return_refund",
        "order_external_id": order.external_id,
        "description": "杯子有裂缝，漏水",
        "amount_claimed": "99.00",
    }
    return services.submit_case(**{**args, **kw}).case


def test_the_consumer_is_mailed_a_proposal_a_request_for_materials_and_the_return_to_make(
    world, django_capture_on_commit_callbacks
):
    consumer, order, merchant, agent = world
    _reads_english(consumer)
    with django_capture_on_commit_callbacks(execute=True):
        case = _file_web(consumer, order)
    [ack] = _to_consumer()
    assert "please provide" in ack.get_content() and "一次性" not in ack.get_content()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_materials(
            actor=agent, number=case.number, items=["defect_photos"], reason="照片看不清裂缝"
        )
    asked = _to_consumer()[-1]
    body = asked.get_content()
    assert "照片看不清裂缝" in body and "Why we ask: 照片看不清裂缝" in body
    assert asked["In-Reply-To"].strip() == ack["Message-ID"].strip()  # the same thread
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.make_proposal(
            actor=merchant, number=case.number, remedy="return_refund", amount="99.00", note="退货后全额退款"
        )
    offer = _to_consumer()[-1].get_content()
    assert "The merchant proposes: Return and refund ¥99.00." in offer and "退货后全额退款" in offer
    assert "Accept or reject it on the case page." in offer and f"/cases/{case.number}" in offer
    assert "商家提出方案" not in offer  # the consumer chose English: English only
    order.store.return_address = "杭州市余杭区物流园3号库 售后组 400-800-0003"
    order.store.save(update_fields=["return_address"])
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_proposal(actor=consumer, number=case.number, proposal_id=proposal.pk, accept=True)
    ship = _to_consumer()[-1].get_content()
    assert "Please send the goods back by" in ship and "tracking number" in ship
    assert "Send them to: 杭州市余杭区物流园3号库 售后组 400-800-0003" in ship
    # the address is kept with the return: a later change at the store does not rewrite it
    order.store.return_address = "新地址"
    order.store.save(update_fields=["return_address"])
    assert case.remedies.get().return_address == "杭州市余杭区物流园3号库 售后组 400-800-0003"
    # the consumer's own proposal is not mailed back to them
    count = len(_to_consumer())
    other = _file_web(consumer, order, kind="exchange", problem_type="size_mismatch", description="尺码小了")
    sent_before = len(_to_consumer())
    with django_capture_on_commit_callbacks(execute=True):
        services.make_proposal(actor=consumer, number=other.number, remedy="exchange")
    assert len(_to_consumer()) == sent_before and sent_before >= count


def _reads_english(user):
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])


def _before_the_arbitrator(consumer, order, merchant):
    """A case the consumer (who reads English) took to the platform after refusing the merchant's
    offer."""
    _reads_english(consumer)
    arbitrator = factories.user(Role.ARBITRATOR)
    case = _file_web(consumer, order)
    proposal = services.make_proposal(actor=merchant, number=case.number, remedy="refund", amount="20.00")
    services.decide_proposal(actor=consumer, number=case.number, proposal_id=proposal.pk, accept=False)
    services.request_intervention(actor=consumer, number=case.number, reason="只肯退 20 元")
    # the merchant answers within its 24 h (else the platform waits them out)
    services.post_message(actor=merchant, number=case.number, body="已提交出库检验记录，请平台查看")
    services.start_review(actor=arbitrator, number=case.number)
    return case, arbitrator


def test_the_consumer_is_mailed_the_ruling_and_an_automatic_approval(
    world, django_capture_on_commit_callbacks
):
    import time_machine

    consumer, order, merchant, agent = world
    case, arbitrator = _before_the_arbitrator(consumer, order, merchant)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_ruling(
            actor=arbitrator,
            number=case.number,
            outcome="consumer_upheld",
            reasons="照片可见裂缝，属质量问题",
            remedy="refund",
            amount="99.00",
        )
    ruling = _to_consumer()[-1].get_content()
    assert "The platform has ruled on your case: Consumer's claim upheld." in ruling
    assert "Reasons: 照片可见裂缝，属质量问题" in ruling
    assert "The merchant must carry out: Refund ¥99.00, by" in ruling and "appeal until" in ruling

    another = factories.order(buyer_obj=order.buyer, paid_fen=9_900)  # the first is refunded by the ruling
    silent = _file_web(
        consumer, another, kind="refund_only", description="没收到货", problem_type="logistics_delay"
    )
    with (
        time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.sweep()
    approved = [
        m.get_content() for m in _to_consumer() if "request was approved automatically" in m.get_content()
    ]
    assert len(approved) == 1 and "72 hours" in approved[0] and "¥99.00" in approved[0]
    assert "The refund is due by" in approved[0] and silent.number in approved[0]


def test_a_ruling_for_a_return_names_the_return_deadline_not_a_refund_deadline(
    world, django_capture_on_commit_callbacks
):
    consumer, order, merchant, agent = world
    case, arbitrator = _before_the_arbitrator(consumer, order, merchant)
    with django_capture_on_commit_callbacks(execute=True):
        services.record_ruling(
            actor=arbitrator,
            number=case.number,
            outcome="consumer_upheld",
            reasons="质量问题",
            remedy="return_refund",
            amount="99.00",
        )
    ruling = _to_consumer()[-1].get_content()
    assert "The merchant must carry out: Return and refund ¥99.00." in ruling
    assert "Please send the goods back by" in ruling and ", by " not in ruling
    assert "The merchant will tell you the return address in the case." in ruling  # the store gave none


# --- each person is written to in their language ----------------------------------------------------------


def test_the_consumer_is_written_to_in_the_language_of_the_complaint_or_of_their_choice(
    world, django_capture_on_commit_callbacks
):
    consumer, order, merchant, agent = world
    with django_capture_on_commit_callbacks(execute=True):
        english = _file_web(consumer, order, description="The cup arrived cracked and it leaks")
    assert english.language == "en"
    ack = _to_consumer()[-1].get_content()
    assert "please provide" in ack and "一次性" not in ack

    with django_capture_on_commit_callbacks(execute=True):
        chinese = _file_web(consumer, order, kind="exchange", description="尺码小了，想换大一号")
    assert chinese.language == "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(actor=merchant, number=chinese.number, body="可以换，请寄回")
    reply = _to_consumer()[-1].get_content()
    assert "商家回复了您的案件" in reply and "可以换，请寄回" in reply and "The merchant wrote" not in reply

    # the consumer chooses English in the page header: from now on every mail is in English,
    # also on the case they filed in Chinese
    core_services.set_preferred_language(actor=consumer, user=consumer, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(actor=merchant, number=chinese.number, body="已寄出新的一双")
    reply = _to_consumer()[-1].get_content()
    assert "The merchant wrote about your case" in reply and "已寄出新的一双" in reply
    assert "商家回复了您的案件" not in reply
    with django_capture_on_commit_callbacks(execute=True):
        later = _file_web(consumer, order, kind="complaint", description="客服一直不回复")
    assert later.language == "en"  # their choice, not the language of the text

    # a case from before languages were recorded (or an unknown one): both, Chinese first
    Case.objects.filter(pk=chinese.pk).update(language="")
    core_services.set_preferred_language(actor=consumer, user=consumer, language="")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_message(actor=merchant, number=chinese.number, body="收到请确认")
    reply = _to_consumer()[-1].get_content()
    assert reply.index("商家回复了您的案件") < reply.index("The merchant wrote about your case")


def test_a_notice_to_staff_is_in_their_language_or_in_both(world, django_capture_on_commit_callbacks):
    consumer, order, _merchant, _agent = world
    english_reader = factories.user(Role.INSPECTOR, email="qa-en@example.com")
    core_services.set_preferred_language(actor=english_reader, user=english_reader, language="en")
    factories.user(Role.INSPECTOR, email="qa@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        _file_web(consumer, order, kind="complaint", description="充电宝起火，手被烫伤")
    by_address = {m["To"]: m for m in _notices()}
    english = by_address["qa-en@example.com"]
    assert "Personal-safety signal on a product" in english["Subject"]
    assert "人身安全" not in english["Subject"] + english.get_content()
    both = by_address["qa@example.com"]
    assert "Personal-safety signal on a product" in both["Subject"] and "人身安全" in both["Subject"]


def test_an_unknown_language_is_refused_naming_the_field(world):
    consumer, *_ = world
    with pytest.raises(InvalidInput) as refused:
        core_services.set_preferred_language(actor=consumer, user=consumer, language="fr")
    assert refused.value.errors[0].field == "preferred_language"
    other = factories.user(Role.CONSUMER)
    with pytest.raises(PermissionDenied):
        core_services.set_preferred_language(actor=consumer, user=other, language="en")
    consumer.refresh_from_db()
    assert consumer.preferred_language == ""


def test_cases_filed_before_languages_were_recorded_get_the_language_of_their_text(world):
    import importlib

    from django.apps import apps

    consumer, order, *_ = world
    chinese = _file_web(consumer, order)
    english = _file_web(consumer, order, kind="complaint", description="Broken on arrival")
    unknown = _file_web(consumer, order, kind="complaint", title="123", description="???")
    Case.objects.update(language="")
    migration = importlib.import_module("marketguard.complaints.migrations.0012_case_language_backfill")
    migration.backfill(apps, None)
    assert dict(Case.objects.values_list("number", "language")) == {
        chinese.number: "zh-hans",
        english.number: "en",
        unknown.number: "",
    }


class _Smtp:
    """Stands for the mail server's connection: keeps what it was given."""

    sent: list = []

    def sendmail(self, from_addr, to_addrs, msg):
        _Smtp.sent.append((from_addr, to_addrs, msg))

    def quit(self):
        pass


class SmtpBackendWithoutServer:
    """Django's SMTP backend, unchanged, talking to :class:`_Smtp` instead of a socket."""

    def __new__(cls, *args, **kwargs):
        from django.core.mail.backends.smtp import EmailBackend

        class Backend(EmailBackend):
            def open(self):
                if self.connection:
                    return False
                self.connection = _Smtp()
                return True

        return Backend(*args, **kwargs)


def test_mail_goes_to_the_smtp_server_byte_for_byte_as_written(world, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SmtpBackendWithoutServer"
    _Smtp.sent = []
    consumer, order, *_ = world
    case = _file_web(consumer, order)
    row = OutgoingMail.objects.get(case=case)
    long_id = "<" + "A" * 70 + "@EXCHANGE.PROD.OUTLOOK.COM>"
    row.raw = mailparse.build_reply(
        case_number=case.number,
        to="li@example.com",
        subject="Re: 杯子有裂缝",
        text="您好",
        in_reply_to=long_id,
        from_address="service@marketguard.example",
    ).raw.decode("ascii")
    row.save(update_fields=["raw"])
    assert services.deliver_mail() == 1
    row.refresh_from_db()
    assert row.status == OutgoingMail.Status.SENT, row.last_error
    [(_from, to, wire)] = _Smtp.sent
    assert to == ["li@example.com"] and wire == row.raw.encode("ascii")
    assert long_id.encode() in wire  # not re-folded or encoded on the way out


def test_an_address_that_cannot_be_written_is_refused_at_intake_and_never_breaks_a_case(world):
    consumer, order, *_ = world
    with pytest.raises(InvalidInput) as refused:
        _file_web(consumer, order, contact_email="li@example.com\x0cBcc: x@y.cn")
    assert refused.value.errors[0].field == "contact_email"
    assert not Case.objects.exists()
    # an address imported with the orders that cannot be written: the case is filed, no mail
    order.buyer.email = "张三@例子.cn"
    order.buyer.save(update_fields=["email"])
    consumer.email = ""
    consumer.save(update_fields=["email"])
    case = _file_web(consumer, order)
    assert case.contact_email == "张三@例子.cn" and not OutgoingMail.objects.filter(case=case).exists()
