"""E-mail intake: decoding Chinese mail, threading replies into cases, quoted history, attachments,
auto-replies, Maildir reading, outgoing replies (pure: runs without Django)."""

import base64
import mailbox
import os
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketguard.complaints.mailparse import (
    ParsedMail,
    build_reply,
    decode_header_value,
    find_case_number,
    html_to_text,
    iter_maildir,
    mark_seen,
    parse_message,
    strip_quoted,
)

DATA = Path(__file__).parent / "data"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def b64word(text: str, label: str, codec: str | None = None) -> str:
    return f"=?{label}?B?{base64.b64encode(text.encode(codec or label)).decode()}?="


def mail(headers: str, body: str = "hello\n", content_type: str = 'text/plain; charset="utf-8"') -> bytes:
    head = headers.strip("\n").replace("\n", "\r\n")
    return (
        f"{head}\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()


# --------------------------------------------------------------------------- decoding


def test_a_gb2312_complaint_from_a_chinese_client_decodes():
    parsed = parse_message(sample("complaint_gb2312.eml"))
    assert parsed.subject == "投诉：电饭煲内胆有划痕，要求换货"
    assert parsed.from_name == "张三"
    assert parsed.from_address == "zhangsan@example.cn"  # lower-cased
    assert parsed.to == ["service@marketguard.example"]
    # the body is labelled gb2312 but contains 镕 (GBK only): read as GB18030, nothing lost
    assert "卖家朱镕拒绝换货" in parsed.text
    assert "\ufffd" not in parsed.text
    assert parsed.date == datetime(2026, 11, 20, 13, 15, 2, tzinfo=UTC)
    assert parsed.message_id == "<202611202115020123456@example.cn>"
    assert parsed.case_number is None
    assert parsed.is_auto_reply is False


def test_a_subject_labelled_gb2312_with_a_gbk_character_decodes():
    raw = mail(f"From: a@example.cn\nSubject: {b64word('朱镕基 投诉', 'GB2312', 'gbk')}")
    assert parse_message(raw).subject == "朱镕基 投诉"


def test_an_encoded_word_split_inside_a_character_is_joined_before_decoding():
    data = "商品质量问题".encode("gbk")
    first = base64.b64encode(data[:5]).decode()  # 5 bytes: the third character is cut in half
    second = base64.b64encode(data[5:]).decode()
    value = f"=?GBK?B?{first}?=\r\n =?GBK?B?{second}?="
    assert decode_header_value(value) == "商品质量问题"


def test_q_encoded_words_and_plain_text_mix():
    value = "Re: =?UTF-8?Q?=E6=8A=95=E8=AF=89_=E8=BF=9B=E5=BA=A6?= [CS20261122000123]"
    assert decode_header_value(value) == "Re: 投诉 进度 [CS20261122000123]"


@pytest.mark.parametrize("codec", ["utf-8", "gbk"])
def test_raw_8bit_subjects_without_encoded_words_decode(codec):
    raw = (
        b"From: a@example.cn\r\nSubject: "
        + "退款申请：耳机左耳无声".encode(codec)
        + b"\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        + "左耳没有声音".encode(codec)
    )
    parsed = parse_message(raw)
    assert parsed.subject == "退款申请：耳机左耳无声"
    assert parsed.text == "左耳没有声音"  # declared us-ascii, really UTF-8/GBK: the fallbacks read it


def test_a_date_without_time_zone_is_taken_as_utc_and_a_broken_date_is_none():
    assert parse_message(mail("From: a@b.cn\nDate: Mon, 23 Nov 2026 10:00:00 -0000")).date == datetime(
        2026, 11, 23, 10, 0, tzinfo=UTC
    )
    assert parse_message(mail("From: a@b.cn\nDate: yesterday-ish")).date is None
    assert parse_message(mail("From: a@b.cn")).date is None


# --------------------------------------------------------------------------- threading


def test_a_reply_with_the_case_number_in_the_subject_threads_and_loses_the_quoted_history():
    parsed = parse_message(sample("reply_subject_qq.eml"))
    assert parsed.case_number == "CS20261122000123"
    assert parsed.text == "补充一下：划痕照片在附件里，外包装也拍了。\n希望尽快处理，谢谢！"
    assert "原始邮件" in parsed.full_text  # the history is kept, just not in ``text``


def test_a_reply_whose_subject_lost_the_number_threads_by_references():
    parsed = parse_message(sample("reply_references_only.eml"))
    assert "CS" not in parsed.subject
    assert parsed.in_reply_to == "<7d1e2f@other.example>"
    assert parsed.references == [
        "<7d1e2f@other.example>",
        "<CS20261122000123.0a1b2c3d4e5f60718293a4b5c6d7e8f9@marketguard>",
    ]
    assert parsed.case_number == "CS20261122000123"
    # format=flowed is unwrapped; "On ... \nwrote:" folded over two lines and "> " lines are gone
    assert (
        parsed.text == "The seller has still not answered. I would like a refund of the full price, please."
    )


def test_the_subject_wins_over_the_headers_and_the_first_number_wins():
    raw = mail(
        "From: a@b.cn\nSubject: Re: [CS20261122000200] also CS20261122000300\n"
        "In-Reply-To: <CS20261122000100.abc@marketguard>"
    )
    assert parse_message(raw).case_number == "CS20261122000200"


def test_only_message_ids_that_start_with_a_case_number_thread():
    raw = mail("From: a@b.cn\nSubject: hi\nReferences: <random-CS20261122000123@elsewhere.example>")
    assert parse_message(raw).case_number is None
    raw = mail("From: a@b.cn\nSubject: hi\nIn-Reply-To: <CS20261122000123@marketguard>")
    assert parse_message(raw).case_number == "CS20261122000123"


def test_case_number_pattern_boundaries_and_prefix():
    assert find_case_number("cs20261122000123 进度?") == "CS20261122000123"
    assert find_case_number("order CS202611220001234") is None  # 15 digits: not a case number
    assert find_case_number("XCS20261122000123") is None
    assert find_case_number("【CS20261122000123】") == "CS20261122000123"
    assert find_case_number("[TS20261122000001] 投诉", prefix="TS") == "TS20261122000001"
    assert find_case_number("[CS20261122000001]", prefix="TS") is None
    assert parse_message(mail("From: a@b.cn\nSubject: TS20261122000009"), case_prefix="TS").case_number == (
        "TS20261122000009"
    )
    with pytest.raises(ValueError):
        find_case_number("x", prefix="C.*")


# --------------------------------------------------------------------------- quoted history


@pytest.mark.parametrize(
    "history",
    [
        "On Sun, Nov 22, 2026 at 10:00 AM MarketGuard <service@marketguard.example> wrote:\n> old",
        "在 2026年11月22日 星期日 10:00，MarketGuard客服 <service@marketguard.example> 写道：\n> 旧内容",
        "2026年11月22日 上午10:00，MarketGuard <service@marketguard.example> 写道：\n\n旧内容",
        "-----Original Message-----\nFrom: service@marketguard.example\nSubject: old\n\nold",
        "------------------ 原始邮件 ------------------\n发件人: 客服\n\n旧内容",
        "________________________________\n发件人: MarketGuard 客服 <service@marketguard.example>\n"
        "发送时间: 2026年11月22日 10:00\n收件人: 张三\n主题: 受理\n\n旧内容",
        "From: MarketGuard <service@marketguard.example>\nSent: Sunday, November 22, 2026 10:00 AM\n"
        "To: Zhang San\nSubject: received\n\nold text",
    ],
)
def test_quoted_history_of_english_and_chinese_clients_is_removed(history):
    text = f"商品至今没有退款，请尽快处理。\nThank you.\n\n{history}\n"
    assert strip_quoted(text) == "商品至今没有退款，请尽快处理。\nThank you."


def test_inline_quotes_are_removed_but_the_answers_between_them_stay():
    text = "> Did you keep the box?\nYes, I kept it.\n> Photos?\nAttached."
    assert strip_quoted(text) == "Yes, I kept it.\nAttached."


def test_the_consumers_own_words_about_what_someone_wrote_are_kept():
    text = "On the box the seller wrote:\n“100% genuine”\n卖家在聊天里写道：\n包退包换"
    assert strip_quoted(text) == text


def test_a_forwarded_message_is_kept_because_it_is_the_evidence():
    body = (
        "商家的回复如下：\n\n---------- Forwarded message ---------\n"
        "From: 某某旗舰店 <shop@example.com>\nDate: Sat, 21 Nov 2026\nSubject: 退货\n\n不支持退货。\n"
    )
    raw = mail(f"From: a@b.cn\nSubject: {b64word('转发: 退货', 'utf-8')}", body)
    parsed = parse_message(raw)
    assert "不支持退货。" in parsed.text
    assert "不支持退货。" in strip_quoted(body)  # the header block after a forward marker stays


# --------------------------------------------------------------------------- HTML


def test_an_html_only_mail_gives_readable_text_without_tags_or_script():
    parsed = parse_message(sample("html_only.eml"))
    assert parsed.text == (
        "The blender & its jar arrived cracked.\n"
        "Order no. 2026112098765432\n"
        "Please call me…\n"
        "- Photo of the box\n"
        "- Photo of the jar"
    )
    for leftover in ("<", "document.cookie", "evil.example", "color: red", "Complaint", "&amp;"):
        assert leftover not in parsed.full_text
    assert "> We do not accept returns." in parsed.full_text  # blockquote marked as a quote


def test_html_to_text_survives_broken_markup_and_keeps_preformatted_lines():
    assert html_to_text("<p>a < b &gt; c<p>d<script>x") == "a < b > c\nd"
    assert html_to_text("<pre>line 1\n  line 2</pre>") == "line 1\n  line 2"
    assert html_to_text("<table><tr><td>件数</td><td>2</td></tr></table>") == "件数\t2"
    # a <head> that is never closed does not swallow the body
    assert html_to_text("<html><head><title>t</title><body><p>内容</p>") == "内容"


def test_plain_text_is_preferred_over_html_in_an_alternative():
    parsed = parse_message(sample("attachments.eml"))
    assert parsed.text == "证据见附件：照片、检测报告和聊天记录。"


def test_an_empty_plain_part_falls_back_to_the_html_part():
    raw = (
        b"From: a@b.cn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="A"\r\n\r\n'
        b"--A\r\nContent-Type: text/plain\r\n\r\n\r\n"
        b"--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\xe6\x9c\x89\xe7\x94\xa8</p>\r\n--A--\r\n"
    )
    assert parse_message(raw).text == "有用"


# --------------------------------------------------------------------------- attachments


def test_attachments_with_encoded_chinese_names_come_out_right():
    parsed = parse_message(sample("attachments.eml"))
    by_name = {a.filename: a for a in parsed.attachments}
    assert set(by_name) == {"attachment-1.png", "划痕照片.jpg", "检测报告（第一页）.pdf", "聊天记录.txt"}
    photo = by_name["划痕照片.jpg"]  # RFC 2231, UTF-8
    assert photo.content_type == "image/jpeg" and photo.data == sample("sample.jpg") and not photo.inline
    report = by_name["检测报告（第一页）.pdf"]  # RFC 2231, GB2312, split into continuations
    assert report.content_type == "application/pdf" and report.data == sample("report.pdf")
    log = by_name["聊天记录.txt"]  # RFC 2047 word inside quotes, GBK
    assert log.content_type == "text/plain" and log.data == sample("chat_log.txt")
    inline = by_name["attachment-1.png"]  # the inline image of the HTML part counts as an attachment
    assert inline.inline and inline.content_id == "sig@example.cn" and inline.data == sample("sample.png")


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ('"../../etc/passwd"', "passwd"),
        ('"C:\\\\Users\\\\zhang\\\\Desktop\\\\发票.pdf"', "发票.pdf"),
        ('"photo\u202egpj.exe"', "photogpj.exe"),  # a right-to-left override hides ".exe"
        ('".."', "attachment-1.pdf"),
    ],
)
def test_attachment_names_lose_directories_and_tricks(declared, expected):
    raw = (
        "From: a@b.cn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="M"\r\n\r\n'
        "--M\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        f"--M\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename={declared}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--M--\r\n"
    ).encode()
    (attachment,) = parse_message(raw).attachments
    assert attachment.filename == expected
    assert attachment.data == b"%PDF-1.4\n"


def test_a_forwarded_mail_attachment_is_kept_whole():
    inner = "From: shop@example.com\r\nSubject: 拒绝退货\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n不退。\r\n"
    raw = (
        "From: a@b.cn\r\nSubject: evidence\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="M"\r\n\r\n'
        "--M\r\nContent-Type: text/plain\r\n\r\nthe shop's answer is attached\r\n"
        f"--M\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--M--\r\n"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.text == "the shop's answer is attached"  # the inner body is not mixed in
    (attachment,) = parsed.attachments
    assert attachment.filename == "拒绝退货.eml" and attachment.content_type == "message/rfc822"
    assert "不退。" in message_from_bytes(attachment.data, policy=policy.default).get_content()


# --------------------------------------------------------------------------- auto-replies


def test_an_auto_reply_is_flagged():
    parsed = parse_message(sample("auto_reply.eml"))
    assert parsed.is_auto_reply is True
    assert parsed.case_number == "CS20261122000124"  # still known, so the caller can log it


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Automatic reply: [CS20261122000123] received",
        "Subject: Out of Office: Re: complaint",
        f"Subject: {b64word('自动答复: 您的投诉已受理', 'gb2312', 'gbk')}",
        "Subject: Re: complaint\nPrecedence: bulk",
        "Subject: Re: complaint\nAuto-Submitted: auto-generated",
        "Subject: Undeliverable: your message",
        "Subject: Re: complaint\nReturn-Path: <>",
    ],
)
def test_auto_reply_markers(headers):
    assert parse_message(mail(f"From: someone@example.cn\n{headers}")).is_auto_reply is True


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: Re: [CS20261122000123] 还没退款\nAuto-Submitted: no",
        f"Subject: {b64word('自动回复功能失灵的智能音箱', 'utf-8')}",  # a complaint about a product
        "Subject: I was out of office when the parcel came",
    ],
)
def test_ordinary_mail_is_not_an_auto_reply(headers):
    assert parse_message(mail(f"From: someone@example.cn\n{headers}")).is_auto_reply is False


# --------------------------------------------------------------------------- Maildir


@pytest.fixture
def maildir(tmp_path):
    path = tmp_path / "service"
    box = mailbox.Maildir(str(path), factory=None, create=True)
    keys = [box.add(sample("complaint_gb2312.eml")), box.add(sample("reply_subject_qq.eml"))]
    return path, keys


def test_maildir_messages_are_listed_once_and_not_again_after_mark_seen(maildir):
    path, keys = maildir
    first = dict(iter_maildir(path))
    assert sorted(first) == sorted(keys)
    assert parse_message(first[keys[1]]).case_number == "CS20261122000123"
    assert dict(iter_maildir(path)).keys() == first.keys()  # nothing marked yet: listed again

    mark_seen(path, keys[0])
    assert [k for k, _ in iter_maildir(path)] == [keys[1]]
    (moved,) = [n for n in os.listdir(path / "cur") if n.startswith(keys[0])]
    assert moved.endswith(":2,S")
    assert os.listdir(path / "new") == [keys[1]]

    mark_seen(path, keys[1])
    mark_seen(path, keys[1])  # idempotent
    assert list(iter_maildir(path)) == []
    assert os.listdir(path / "new") == []
    assert len(os.listdir(path / "cur")) == 2


def test_a_message_another_client_moved_to_cur_unread_is_still_ingested(maildir):
    path, keys = maildir
    os.rename(path / "new" / keys[0], path / "cur" / f"{keys[0]}:2,F")  # flagged, not seen
    assert keys[0] in dict(iter_maildir(path))
    mark_seen(path, keys[0])
    assert (path / "cur" / f"{keys[0]}:2,FS").exists()  # other flags kept
    assert keys[0] not in dict(iter_maildir(path))


def test_maildir_errors(maildir, tmp_path):
    path, _keys = maildir
    with pytest.raises(KeyError):
        mark_seen(path, "no-such-message")
    with pytest.raises(mailbox.NoSuchMailboxError):
        list(iter_maildir(tmp_path / "missing"))


# --------------------------------------------------------------------------- outgoing replies


def test_build_reply_threads_back_into_the_case():
    incoming = parse_message(sample("complaint_gb2312.eml"))
    raw = build_reply(
        case_number="CS20261122000123",
        to=incoming.from_address,
        subject=f"Re: {incoming.subject}",
        text="您好，您的投诉已受理，请补充划痕照片。\n客服 小王",
        in_reply_to=incoming.message_id,
        from_address="MarketGuard 客服 <service@marketguard.example>",
        date=datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
    ).raw
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    raw.decode("ascii")  # 7-bit clean on the wire
    sent = parse_message(raw)
    assert sent.subject == "Re: [CS20261122000123] 投诉：电饭煲内胆有划痕，要求换货"
    assert sent.message_id.startswith("<CS20261122000123.") and sent.message_id.endswith("@marketguard>")
    assert sent.in_reply_to == incoming.message_id
    assert sent.references == [incoming.message_id]
    assert sent.text == "您好，您的投诉已受理，请补充划痕照片。\n客服 小王"
    assert sent.from_name == "MarketGuard 客服"
    assert sent.date == datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    assert sent.case_number == "CS20261122000123"

    # the consumer's client drops the tag from the subject: the reply still threads
    answer = mail(f"From: zhangsan@example.cn\nSubject: Re: 投诉\nIn-Reply-To: {sent.message_id}")
    assert parse_message(answer).case_number == "CS20261122000123"


def test_build_reply_does_not_duplicate_the_tag_and_extends_references():
    raw = build_reply(
        case_number="CS20261122000123",
        to=["a@example.cn", "b@example.cn"],
        subject="回复：[CS20261122000123] 进度",
        text="ok",
        in_reply_to="<m2@example.cn>",
        references=["<m1@example.cn>", "<m2@example.cn>"],
        from_address="service@marketguard.example",
        domain="mail.marketguard.example",
        automatic=True,
    )
    sent = parse_message(raw.raw)
    assert sent.subject == raw.subject == "回复：[CS20261122000123] 进度"
    assert sent.message_id == raw.message_id
    assert sent.references == ["<m1@example.cn>", "<m2@example.cn>"]
    assert sent.to == ["a@example.cn", "b@example.cn"]
    assert sent.message_id.endswith("@mail.marketguard.example>")
    assert sent.is_auto_reply  # an automatic acknowledgement says so, to stop mail loops


REPLY = {
    "case_number": "CS20261122000123",
    "to": "a@b.cn",
    "subject": "x",
    "text": "y",
    "from_address": "s@m.cn",
}


def test_two_replies_get_different_message_ids():
    kwargs = REPLY
    assert (
        parse_message(build_reply(**kwargs).raw).message_id
        != parse_message(build_reply(**kwargs).raw).message_id
    )


@pytest.mark.parametrize(
    "change",
    [
        {"subject": "x\r\nBcc: victim@example.com"},
        {"to": "a@b.cn\nBcc: victim@example.com"},
        # anything str.splitlines() breaks at ends a header line once folded
        {"to": "a@b.cn\x0c Bcc"},
        {"to": "a@b.cn\x0bBcc: y@z"},
        {"subject": "x\u2028Bcc: victim@example.com"},
        {"subject": "x\x85Bcc: victim@example.com"},
        {"from_address": "s@m.cn\x1dBcc: victim@example.com"},
        {"to": "张三@例子.cn"},  # a local part that is not ASCII cannot be written in 7 bits
        {"case_number": "CS123"},
        {"to": []},
        {"domain": "evil>\r\nX: y"},
    ],
)
def test_build_reply_refuses_header_injection_and_bad_input(change):
    kwargs = REPLY
    with pytest.raises(ValueError):
        build_reply(**{**kwargs, **change})


# --------------------------------------------------------------------------- robustness

SAMPLES = sorted(p.name for p in DATA.glob("*.eml"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(SAMPLES),
    cut=st.integers(min_value=0, max_value=30_000),
    noise=st.binary(max_size=64),
    at=st.integers(min_value=0, max_value=30_000),
)
def test_parse_message_degrades_on_damaged_mail_instead_of_failing(name, cut, noise, at):
    raw = sample(name)[:cut]
    at = min(at, len(raw))
    raw = raw[:at] + noise + raw[at:]
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedMail)
    assert isinstance(parsed.text, str) and isinstance(parsed.subject, str)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_parse_message_never_fails_on_random_bytes(raw):
    assert isinstance(parse_message(raw), ParsedMail)


def test_the_module_is_pure():
    import subprocess
    import sys

    code = (
        "import sys, marketguard.complaints.mailparse, marketguard.complaints.evidence_files;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "assert not bad, bad"
    )
    src = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_nul_byte_in_a_charset_label_does_not_break_parsing():
    # found by hypothesis: the first 29 bytes of attachments.eml with b"\x00" inserted at offset 8
    raw = sample("attachments.eml")[:29]
    assert isinstance(parse_message(raw[:8] + b"\x00" + raw[8:]), ParsedMail)


def test_build_reply_writes_names_and_international_domains_in_7_bit():
    built = build_reply(**{**REPLY, "to": "张三 <zhangsan@例子.cn>", "from_address": "平台客服 <s@m.cn>"})
    built.raw.decode("ascii")
    sent = parse_message(built.raw)
    assert sent.to == ["zhangsan@xn--fsqu00a.cn"]
    assert sent.from_name == "平台客服" and sent.from_address == "s@m.cn"
    assert sent.text == "y"


def test_a_message_id_that_is_not_ascii_is_left_out_not_the_whole_thread():
    built = build_reply(
        **{**REPLY, "in_reply_to": "<ü@example.cn>", "references": ["<m1@example.cn>", "<ü@example.cn>"]}
    )
    sent = parse_message(built.raw)
    assert sent.references == ["<m1@example.cn>"] and sent.in_reply_to is None


def test_long_message_ids_are_written_whole():
    long_id = "<" + "A" * 70 + "@EXCHANGE.PROD.OUTLOOK.COM>"
    built = build_reply(
        **{**REPLY, "in_reply_to": long_id, "references": [f"<m{i}@example.cn>" for i in range(12)]}
    )
    assert b"=?" not in built.raw.split(b"\r\n\r\n")[0].replace(built.subject.encode(), b"")
    sent = parse_message(built.raw)
    assert sent.in_reply_to == long_id and sent.references[-1] == long_id and len(sent.references) == 13
