"""E-mail intake of complaints: parse what consumers send to the service mailbox, thread replies.

A pure module (no Django import). Consumers write to the service mailbox; a reply threads into its
case by the case number (``CS20261122000123``: prefix + local date + 6 digits) found in the
subject, or else in the ``In-Reply-To``/``References`` headers, because every mail the platform
sends carries a Message-ID that starts with the case number (see :func:`build_reply`).

:func:`parse_message` turns raw RFC 5322 bytes into a :class:`ParsedMail`:

- headers decoded the way Chinese mail clients actually write them: RFC 2047 encoded words in
  GB2312/GBK/GB18030/UTF-8 (a ``GB2312`` label is read as GB18030, its superset, because clients
  put GBK characters under that label), encoded words split in the middle of a character, and raw
  8-bit header bytes;
- the best plain-text body (``text/plain`` preferred; HTML turned into text with
  :mod:`html.parser`, script and style content dropped), with the quoted reply history removed
  (``>`` lines, "On ... wrote:", "在 ... 写道：", Outlook and QQ Mail separators and header blocks).
  The unstripped body stays available as ``full_text``;
- attachments (inline images included) with decoded, sanitised file names;
- an auto-reply flag (out-of-office, vacation notices, bounces, bulk mail) so the caller can ignore
  them instead of reopening a case or answering a robot.

:func:`iter_maildir` and :func:`mark_seen` read a Maildir (``new/`` and ``cur/``) so that a
message is ingested once; where several workers read one Maildir, :func:`claim_messages` hands
each message to exactly one of them (an atomic rename), :func:`finish_claim` marks it seen and
:func:`release_claim` puts it back for the next run. :func:`build_reply` writes the outgoing message.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import email.message
import email.utils
import mailbox
import os
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import Header
from email.mime.text import MIMEText
from email.parser import BytesParser
from html.parser import HTMLParser

from marketguard.complaints.evidence_files import safe_filename

__all__ = [
    "DEFAULT_CASE_PREFIX",
    "Attachment",
    "ParsedMail",
    "Outgoing",
    "build_notice",
    "Claim",
    "build_reply",
    "claim_messages",
    "finish_claim",
    "is_reply_to_notice",
    "case_number_pattern",
    "decode_bytes",
    "decode_header_value",
    "find_case_number",
    "html_to_text",
    "iter_maildir",
    "mark_seen",
    "parse_message",
    "release_claim",
    "strip_quoted",
]

DEFAULT_CASE_PREFIX = "CS"

# Labels clients use for simplified-Chinese encodings; all are read as GB18030, their superset
# (a "gb2312" mail often contains GBK characters such as 镕 or 喆).
_GB_LABELS = frozenset(
    {"gb2312", "gbk", "gb18030", "cp936", "ms936", "windows-936", "x-gbk", "euc-cn", "x-euc-cn", "csgb2312"}
    | {"gb_2312-80", "gb-2312", "chinese", "iso-ir-58"}
)
_FALLBACK_CHARSETS = ("utf-8", "gb18030", "latin-1")


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded and sanitised: no directory parts, no control characters
    content_type: str  # as declared by the sender (lower case), e.g. "image/jpeg"
    data: bytes
    inline: bool = False  # shown inside the message (an inline image) rather than attached
    content_id: str | None = None


@dataclass
class ParsedMail:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str  # lower-cased addr-spec, "" when there is none
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None  # aware, UTC
    text: str  # the new text of this message: quoted history removed
    full_text: str  # the whole plain-text body as received
    attachments: list[Attachment] = field(default_factory=list)
    is_auto_reply: bool = False
    auto_reply_reason: str | None = None
    case_number: str | None = None
    #: Authentication-Results headers (RFC 8601): (authserv-id, [(method, result, {property: value})])
    auth_results: list[tuple[str, list[tuple[str, str, dict[str, str]]]]] = field(default_factory=list)

    def sender_verified(self, authserv_id: str) -> bool:
        """Whether the receiving server `authserv_id` (ours: only its own headers are trusted)
        found the From address authentic: every DMARC result it gave is pass for the From
        domain; with no DMARC result, a DKIM pass signed by the From domain (or a parent of it)
        and no other DKIM result against it."""
        domain = self.from_address.rpartition("@")[2].lower()
        if not domain:
            return False
        results = [r for server, rs in self.auth_results if server.lower() == authserv_id.lower() for r in rs]
        dmarc = [(result, props) for method, result, props in results if method == "dmarc"]
        if dmarc:
            return all(
                result == "pass" and props.get("header.from", domain).lower() == domain
                for result, props in dmarc
            )
        signed = [
            result
            for method, result, props in results
            if method == "dkim" and _aligned(props.get("header.d", "").lower(), domain)
        ]
        return bool(signed) and all(result == "pass" for result in signed)


# --------------------------------------------------------------------------- decoding


def _codec(charset: str | None) -> str | None:
    """A Python codec name for a MIME charset label, or None when unknown."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    if label in _GB_LABELS:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):  # ValueError: a damaged label with a NUL byte in it
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text bytes: the declared charset first, then UTF-8, GB18030 and Latin-1.

    UTF-8 is tried before GB18030 when the declared charset fails or is missing, because GB18030
    decodes most UTF-8 byte sequences without error (into the wrong characters), while UTF-8 is
    self-checking. A declared GB2312/GBK is read as GB18030. Latin-1 never fails.
    """
    tried: list[str] = []
    for name in (_codec(charset), *_FALLBACK_CHARSETS):
        if name is None or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 above never fails


def _from_surrogates(value: str) -> str:
    """Undo the parser's surrogateescape of raw 8-bit header bytes (UTF-8, else GB18030)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"))


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    if encoding.lower() == "b":
        payload = payload.strip()
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return payload.encode("ascii", "replace")
    raw = payload.replace("_", " ").encode("ascii", "replace")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_header_value(value: str | None) -> str:
    """Decode a raw header value: RFC 2047 encoded words (any charset) and raw 8-bit bytes.

    Adjacent encoded words in the same charset are joined *before* decoding, since Chinese clients
    split a GBK character across two words. Whitespace between encoded words is dropped (RFC 2047).
    """
    if not value:
        return ""
    value = _from_surrogates(_UNFOLD.sub("", str(value)))
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (pending and between.isspace()):
            flush()
            out.append(between)
        charset = match.group(1)
        if pending and _codec(charset) != _codec(pending_charset):
            flush()
        pending_charset = charset
        pending.append(_decode_word_payload(match.group(2), match.group(3)))
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out).strip()


def _clean_id(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not value.startswith("<"):
        value = f"<{value.strip('<>')}>"
    return value


_MSG_ID = re.compile(r"<[^<>\s]+>")


def _message_ids(value: str | None) -> list[str]:
    """The ``<...>`` ids in a Message-ID / In-Reply-To / References value, in order, no repeats."""
    if not value:
        return []
    ids = _MSG_ID.findall(_UNFOLD.sub("", value))
    if not ids and value.strip() and " " not in value.strip():
        ids = [_clean_id(value) or ""]
    seen: list[str] = []
    for i in ids:
        if i and i not in seen:
            seen.append(i)
    return seen


# --------------------------------------------------------------------------- case numbers


def case_number_pattern(prefix: str = DEFAULT_CASE_PREFIX) -> re.Pattern[str]:
    """``<prefix>`` + 14 digits (yyyymmdd + 6), not glued to other letters or digits."""
    if not prefix or not re.fullmatch(r"[A-Za-z]{1,8}", prefix):
        raise ValueError(f"prefix: expected 1-8 ASCII letters, got {prefix!r}")
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(prefix)}\d{{14}}(?!\d)", re.IGNORECASE)


def find_case_number(
    subject: str | None,
    message_ids: Sequence[str] = (),
    *,
    prefix: str = DEFAULT_CASE_PREFIX,
) -> str | None:
    """The first case number in the subject; else the first Message-ID (of In-Reply-To, then
    References) whose local part starts with one, as the ids the platform sends do."""
    pattern = case_number_pattern(prefix)
    if subject and (m := pattern.search(subject)):
        return m.group(0).upper()
    id_pattern = re.compile(rf"^<?({pattern.pattern})[.@]", re.IGNORECASE)
    for mid in message_ids:
        if m := id_pattern.match(mid.strip()):
            return m.group(1).upper()
    return None


# --------------------------------------------------------------------------- HTML to text

_SKIP_TAGS = frozenset({"script", "style", "title", "noscript", "template", "svg", "math", "object"})
_VOID_TAGS = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"}
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "table", "tr", "ul"}
    | {"ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "address", "form", "fieldset"}
    | {"figure", "figcaption", "center", "blockquote", "li", "caption", "tbody", "thead", "tfoot"}
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.in_head = False
        self.quote_depth = 0
        self.pre_depth = 0

    # lines are built from text runs; a block boundary ends the current line
    def _newline(self, *, force: bool = False) -> None:
        line = "".join(self.current)
        if self.pre_depth == 0:
            line = re.sub(r"[ \t\r\n\f\u00a0]+", " ", line).strip()
            line = re.sub(r" ?\x1f ?", "\t", line).strip("\t ")  # cell separators
        if line or force:
            prefix = "> " * self.quote_depth
            self.lines.append(prefix + line if line else prefix.rstrip())
        self.current = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "head":
            self.in_head = True
            return
        if tag == "body":  # also ends a <head> that was never closed
            self.in_head = False
            return
        if tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self._newline(force=True)
        elif tag in _BLOCK_TAGS or tag == "hr":
            self._newline()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre_depth += 1
            elif tag == "li":
                self.current.append("- ")
        elif tag in {"td", "th"} and self.current:
            self.current.append("\x1f")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _SKIP_TAGS:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
            return
        if tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS and self.skip_depth:
                self.skip_depth -= 1
            return
        if self.skip_depth:
            return
        if tag in _BLOCK_TAGS:
            self._newline()
            if tag == "blockquote" and self.quote_depth:
                self.quote_depth -= 1
            elif tag == "pre" and self.pre_depth:
                self.pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.skip_depth or self.in_head:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._newline(force=True)
                self.current.append(part)
        else:
            self.current.append(data)

    def text(self) -> str:
        self._newline()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and out and not out[-1].strip("> "):
                continue  # collapse runs of blank lines
            out.append(line)
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Readable text from HTML: tags removed, script/style/head content dropped, entities decoded,
    block elements on their own lines, blockquote content prefixed with ``> ``."""
    parser = _TextExtractor()
    with contextlib.suppress(Exception):  # html.parser is lenient; never fail an intake on bad HTML
        parser.feed(html)
        parser.close()
    return parser.text()


# --------------------------------------------------------------------------- quoted history

_HISTORY_MARKERS = [
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(?:原始邮件|原始郵件|Original)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(?:回复的原邮件|Reply message)\s*-{2,}\s*$", re.IGNORECASE),
    # the attribution lines carry a date: "On the box the seller wrote:" is the consumer's own text
    re.compile(r"^\s*On\b(?=.*\d).{0,300}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^(?=.*\d).{0,300}(?:写道|寫道)\s*[:：]\s*$"),
]
# "On Mon, 23 Nov 2026 at 10:00, Zhang San <z@example.com>" / "wrote:" folded over two lines
_ON_FIRST = re.compile(r"^\s*On\b(?=.*\d).{0,300}$", re.IGNORECASE)
_WROTE_SECOND = re.compile(r"^.{0,200}\bwrote:\s*$", re.IGNORECASE)
# Outlook's header block: "From: ..." then "Sent:/Date:" (or 发件人/发送时间/时间/日期) within 3 lines
_FROM_LINE = re.compile(r"^\s*\*?(?:From|发件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\s*\*?(?:Sent|Date|发送时间|時間|时间|日期|寄件日期)\s*\*?\s*[:：]", re.IGNORECASE)
_RULE_LINE = re.compile(r"^\s*_{10,}\s*$")
# a forwarded message is content the sender wants us to read (often the evidence itself)
_FORWARD_LINE = re.compile(
    r"^\s*(?:-+\s*(?:Forwarded message|转发的邮件|轉寄的郵件|转发邮件)\s*-+|Begin forwarded message:|开始转发的邮件[:：])",
    re.IGNORECASE,
)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fw|fwd|转发|轉寄|转寄)\s*[:：]", re.IGNORECASE)


def _history_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _HISTORY_MARKERS):
            return i
        if _ON_FIRST.match(line) and i + 1 < len(lines) and _WROTE_SECOND.match(lines[i + 1]):
            return i
        if _FROM_LINE.match(line) and any(_SENT_LINE.match(nxt) for nxt in lines[i + 1 : i + 4]):
            if any(_FORWARD_LINE.match(prev) for prev in lines[max(0, i - 2) : i]):
                continue
            return i - 1 if i and _RULE_LINE.match(lines[i - 1]) else i
    return None


def strip_quoted(text: str) -> str:
    """Remove the quoted reply history: everything from a history marker down, and ``>`` lines.

    A forwarded message's header block ("---------- Forwarded message ----------" then "From:")
    is kept: what a consumer forwards is usually the evidence."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start = _history_start(lines)
    if start is not None:
        lines = lines[:start]
    kept = [line.rstrip() for line in lines if not line.lstrip().startswith(">")]
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def _unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next line."""
    out: list[str] = []
    buffer = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            buffer += line[:-1] if delsp else line
            continue
        out.append(buffer + line)
        buffer = ""
    if buffer:
        out.append(buffer)
    return "\n".join(out)


# --------------------------------------------------------------------------- MIME structure


def _raw_header(part: email.message.Message, name: str) -> str | None:
    name = name.lower()
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _raw_headers(part: email.message.Message, name: str) -> list[str]:
    name = name.lower()
    return [str(v) for k, v in part.raw_items() if k.lower() == name]


def _param(raw_value: str | None, param: str, header: str) -> str | None:
    """A decoded parameter (RFC 2231 with any charset, RFC 2047 words in quotes, raw 8-bit)."""
    if not raw_value:
        return None
    legacy = email.message.Message()
    legacy[header] = _from_surrogates(_UNFOLD.sub("", raw_value))  # raw 8-bit names: UTF-8 or GB18030
    value = legacy.get_param(param, header=header)
    if value is None or value == "":
        return None
    if isinstance(value, tuple):  # RFC 2231: (charset, language, text of raw bytes)
        charset, _lang, text = value
        try:
            raw = text.encode("raw-unicode-escape")
        except UnicodeEncodeError:
            return decode_header_value(text)
        return decode_bytes(raw, charset or None)
    return decode_header_value(value)


def _filename(part: email.message.Message) -> str | None:
    return _param(_raw_header(part, "content-disposition"), "filename", "content-disposition") or _param(
        _raw_header(part, "content-type"), "name", "content-type"
    )


def _payload(part: email.message.Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding gives the raw payload
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _part_text(part: email.message.Message) -> str:
    text = decode_bytes(_payload(part), part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    if (part.get_param("format") or "").lower() == "flowed":
        text = _unflow(text, delsp=(part.get_param("delsp") or "").lower() == "yes")
    return text.strip("\n")


def _default_name(content_type: str, index: int) -> str:
    ext = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "image/webp": ".webp",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
        "message/rfc822": ".eml",
        "video/mp4": ".mp4",
    }.get(content_type, "")
    return f"attachment-{index}{ext}"


class _Walker:
    def __init__(self) -> None:
        self.attachments: list[Attachment] = []

    def _add(self, part: email.message.Message, data: bytes, *, name: str | None, in_related: bool) -> None:
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        cid = part.get("Content-ID")
        fallback = _default_name(ctype, len(self.attachments) + 1)
        self.attachments.append(
            Attachment(
                filename=safe_filename(name or "", default=fallback),
                content_type=ctype,
                data=data,
                inline=disposition == "inline" or (disposition is None and in_related),
                content_id=str(cid).strip().strip("<>") if cid else None,
            )
        )

    def visit(self, part: email.message.Message, *, in_related: bool = False) -> list[tuple[str, str]]:
        """Collect attachments; return the body texts of this part as (subtype, text) pairs."""
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else None
            data = inner.as_bytes(policy=policy.compat32) if inner is not None else _payload(part)
            name = _filename(part)
            if not name and inner is not None:
                name = (decode_header_value(_raw_header(inner, "subject")) or "message")[:80] + ".eml"
            self._add(part, data, name=name, in_related=in_related)
            return []
        if part.is_multipart():
            children = list(part.iter_parts())
            if ctype == "multipart/alternative":
                results = [self.visit(c, in_related=in_related) for c in children]
                for subtype in ("plain", "html"):
                    for result in results:
                        if any(st == subtype and t.strip() for st, t in result):
                            return result
                return next((r for r in results if r), [])
            related = in_related or ctype == "multipart/related"
            texts: list[tuple[str, str]] = []
            for child in children:
                texts.extend(self.visit(child, in_related=related))
            return texts
        name = _filename(part)
        disposition = part.get_content_disposition()
        if ctype in {"text/plain", "text/html"} and disposition != "attachment" and not name:
            return [(part.get_content_subtype(), _part_text(part))]
        self._add(part, _payload(part), name=name, in_related=in_related)
        return []


# --------------------------------------------------------------------------- auto replies

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:(?:re|fw|fwd|答复|回复|回覆|转发)\s*[:：]\s*)*"
    r"(?:自动回复|自动答复|自動回覆|自動回復|自动应答|auto(?:matic)?[\s_-]?(?:reply|response|answer)|"
    r"autoreply|out\s+of\s+(?:the\s+)?office|undeliverable|delivery status notification|系统退信)"
    r"(?=[\s:：\]】,，(（-]|$)",
    re.IGNORECASE,
)


def _auto_reply_reason(msg: email.message.Message, subject: str, from_address: str) -> str | None:
    auto = (_raw_header(msg, "auto-submitted") or "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        value = (_raw_header(msg, name) or "").strip().lower()
        if value and value not in {"no", "false", "0"}:
            return name
    for name in ("precedence", "x-precedence"):
        value = (_raw_header(msg, name) or "").strip().lower()
        if value in {"bulk", "junk", "list", "auto_reply", "auto-reply"}:
            return f"{name}: {value}"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    return_path = _raw_header(msg, "return-path")
    if return_path is not None and return_path.strip() == "<>":
        return "empty Return-Path"
    local = from_address.split("@", 1)[0]
    if local in {"mailer-daemon", "postmaster"}:
        return f"from {local}"
    if _AUTO_SUBJECT.match(subject):
        return "subject"
    return None


# --------------------------------------------------------------------------- parse


def _addresses(raw_values: list[str]) -> list[tuple[str, str]]:
    pairs = email.utils.getaddresses([_from_surrogates(_UNFOLD.sub("", v)) for v in raw_values])
    out = []
    for name, addr in pairs:
        addr = addr.strip().lower()
        if addr:
            out.append((decode_header_value(name), addr))
    return out


def _date(msg: email.message.Message) -> datetime | None:
    raw = _raw_header(msg, "date")
    if not raw:
        return None
    try:
        value = email.utils.parsedate_to_datetime(_UNFOLD.sub("", raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # "-0000": time zone unknown; UTC is the best guess
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


_RESINFO = re.compile(r"^\s*([A-Za-z0-9-]+)\s*=\s*([A-Za-z]+)")
_PROPERTY = re.compile(r"([A-Za-z0-9-]+\.[A-Za-z0-9._-]+)\s*=\s*(\S+)")


def _aligned(signer: str, domain: str) -> bool:
    return bool(signer) and (domain == signer or domain.endswith("." + signer))


def _plain(value: str) -> str:
    """The header value without comments (nested ones too) and with quoted strings emptied, so
    that neither can smuggle in a "; dmarc=pass" of their own."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            continue
        if ch == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = ch != '"'
            if not quoted:
                out.append('"')
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth:
            continue
        elif ch == '"':
            quoted = True
            out.append('"')
        else:
            out.append(ch)
    return "".join(out)


def authentication_results(values: list[str]) -> list[tuple[str, list[tuple[str, str, dict[str, str]]]]]:
    """Parse Authentication-Results header values (RFC 8601): the authserv-id and each result
    (method, result, its properties such as header.d or header.from), lower-cased. Comments and
    quoted strings are dropped first; malformed parts are skipped; never raises."""
    out = []
    for value in values:
        text = _plain(_UNFOLD.sub("", value or ""))
        server, _sep, rest = text.partition(";")
        server = server.strip().split()[0] if server.strip() else ""
        if not server:
            continue
        results = []
        for part in rest.split(";"):
            match = _RESINFO.match(part)
            if match and match[1].lower() != "none":
                props = {k.lower(): v.strip('"').lower() for k, v in _PROPERTY.findall(part[match.end() :])}
                results.append((match[1].lower(), match[2].lower(), props))
        out.append((server, results))
    return out


def parse_message(raw: bytes, *, case_prefix: str = DEFAULT_CASE_PREFIX) -> ParsedMail:
    """Parse one raw RFC 5322 message. Never raises on malformed mail (it degrades field by field);
    raises ``TypeError`` only when ``raw`` is not bytes."""
    if not isinstance(raw, bytes | bytearray):
        raise TypeError(f"raw: expected bytes, got {type(raw).__name__}")
    msg = BytesParser(policy=policy.default).parsebytes(bytes(raw))

    subject = decode_header_value(_raw_header(msg, "subject"))
    senders = _addresses(_raw_headers(msg, "from"))
    from_name, from_address = senders[0] if senders else ("", "")
    message_ids = _message_ids(_raw_header(msg, "message-id"))
    in_reply_to = _message_ids(_raw_header(msg, "in-reply-to"))
    references = []
    for value in _raw_headers(msg, "references"):
        references.extend(i for i in _message_ids(value) if i not in references)

    walker = _Walker()
    texts = walker.visit(msg)
    full_text = "\n\n".join(t for _st, t in texts if t.strip())
    reason = _auto_reply_reason(msg, subject, from_address)

    return ParsedMail(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=references,
        from_address=from_address,
        from_name=from_name,
        to=[a for _n, a in _addresses(_raw_headers(msg, "to"))],
        cc=[a for _n, a in _addresses(_raw_headers(msg, "cc"))],
        subject=subject,
        date=_date(msg),
        text=full_text.strip() if _FORWARD_SUBJECT.match(subject) else strip_quoted(full_text),
        full_text=full_text,
        attachments=walker.attachments,
        is_auto_reply=reason is not None,
        auto_reply_reason=reason,
        case_number=find_case_number(subject, [*in_reply_to, *reversed(references)], prefix=case_prefix),
        auth_results=authentication_results(_raw_headers(msg, "authentication-results")),
    )


# --------------------------------------------------------------------------- Maildir

_SUBDIRS = ("new", "cur")


def _maildir_entries(path: str | os.PathLike[str], colon: str) -> dict[str, tuple[str, str]]:
    """key -> (subdir, file name) for the messages in new/ and cur/."""
    entries: dict[str, tuple[str, str]] = {}
    for subdir in _SUBDIRS:
        folder = os.path.join(path, subdir)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith("."):
                continue
            entries.setdefault(name.split(colon)[0], (subdir, name))
    return entries


_DELIVERY = re.compile(r"(\d+)\.([^.]*)")
_MICROS = re.compile(r"M(\d+)")
_COUNT = re.compile(r"Q(\d+)")


def delivery_order(key: str) -> tuple[int, int, int, str]:
    """Sort key putting Maildir messages in the order they were delivered. A unique name starts
    with the delivery second, then (Python, Dovecot, Postfix) ``M<microseconds>`` and a
    ``Q<counter>`` in the next part, without leading zeros: as plain strings ``M99999`` would
    sort after ``M123456`` of the same second, and a reply could be read before the message
    it answers. Names of another shape sort after, by name."""
    match = _DELIVERY.match(key)
    if match is None:
        return (2**63, 0, 0, key)
    micros, count = _MICROS.search(match[2]), _COUNT.search(match[2])
    return (int(match[1]), int(micros[1]) if micros else 0, int(count[1]) if count else 0, key)


def _flags(name: str, colon: str) -> str:
    info = name.split(colon, 1)[1] if colon in name else ""
    return info[2:] if info.startswith("2,") else ""


def iter_maildir(path: str | os.PathLike[str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(key, raw bytes)`` for every message not yet seen: all of ``new/``, and messages in
    ``cur/`` without the Seen (S) or Trashed (T) flag. Call :func:`mark_seen` once a message is
    stored so that the next run does not ingest it again."""
    box = mailbox.Maildir(os.fspath(path), factory=None, create=False)
    entries = _maildir_entries(path, box.colon)
    for key in sorted(entries, key=delivery_order):
        subdir, name = entries[key]
        if subdir == "cur" and set(_flags(name, box.colon)) & {"S", "T"}:
            continue
        try:
            data = box.get_bytes(key)
        except KeyError:  # removed by another reader meanwhile
            continue
        yield key, data


def mark_seen(path: str | os.PathLike[str], key: str) -> None:
    """Move a message to ``cur/`` with the Seen flag (S), keeping its other flags. Idempotent."""
    box = mailbox.Maildir(os.fspath(path), factory=None, create=False)
    entries = _maildir_entries(path, box.colon)
    if key not in entries or os.sep in key or (os.altsep and os.altsep in key):
        raise KeyError(f"no such message: {key!r}")
    subdir, name = entries[key]
    flags = "".join(sorted(set(_flags(name, box.colon)) | {"S"}))
    target = f"{key}{box.colon}2,{flags}"
    if subdir == "cur" and name == target:
        return
    os.replace(os.path.join(path, subdir, name), os.path.join(path, "cur", target))


#: A message being ingested is renamed to ``cur/.claim.<unix time>.<token>.<new|cur>.<its name>``:
#: a rename is atomic, so of several workers that try only one succeeds (the others find the
#: file gone), and Maildir readers skip names that start with a dot. The name keeps where the
#: message was (to put it back) and when it was claimed: a claim older than the lease (its
#: worker died) is taken over by the next reader.
CLAIM_SECONDS = 600
_CLAIM = "claim"


@dataclass(frozen=True)
class Claim:
    """A message this reader holds: nobody else ingests it until it is finished or released."""

    path: str  # the Maildir
    key: str  # the message's unique name (before the colon)
    origin: str  # "new" or "cur": where it was
    name: str  # its file name there (flags included)
    claimed_name: str  # its name in cur/ while claimed
    colon: str
    data: bytes


def _claim_name(now: float, token: str, origin: str, name: str) -> str:
    return f".{_CLAIM}.{int(now)}.{token}.{origin}.{name}"


def _parse_claim(name: str) -> tuple[int, str, str] | None:
    """(claimed at, origin, original name) of a claimed file name, None for any other name."""
    parts = name.split(".", 5)
    if len(parts) != 6 or parts[0] or parts[1] != _CLAIM or not parts[2].isdigit():
        return None
    if parts[4] not in _SUBDIRS or not parts[5]:
        return None
    return int(parts[2]), parts[4], parts[5]


def claim_messages(
    path: str | os.PathLike[str], *, lease_seconds: int = CLAIM_SECONDS, clock=time.time
) -> Iterator[Claim]:
    """Claim and yield, one at a time and oldest first, every message not yet seen (as
    :func:`iter_maildir`) and every claim older than ``lease_seconds``. A message another reader
    claims first is skipped. The caller ends each claim with :func:`finish_claim` or
    :func:`release_claim`; one it never ends is taken over once the lease runs out."""
    path = os.fspath(path)
    box = mailbox.Maildir(path, factory=None, create=False)
    now = clock()
    candidates: list[tuple[str, str, str, str, str]] = []  # key, origin, name, where, current name
    for subdir in _SUBDIRS:
        try:
            names = os.listdir(os.path.join(path, subdir))
        except FileNotFoundError:
            continue
        for name in names:
            if name.startswith("."):
                claim = _parse_claim(name) if subdir == "cur" else None
                if claim is not None and claim[0] + lease_seconds <= now:
                    candidates.append((claim[2].split(box.colon)[0], claim[1], claim[2], subdir, name))
                continue
            if subdir == "cur" and set(_flags(name, box.colon)) & {"S", "T"}:
                continue
            candidates.append((name.split(box.colon)[0], subdir, name, subdir, name))
    for key, origin, name, where, current in sorted(candidates, key=lambda c: delivery_order(c[0])):
        claimed_name = _claim_name(clock(), uuid.uuid4().hex, origin, name)
        claimed = os.path.join(path, "cur", claimed_name)
        try:
            os.rename(os.path.join(path, where, current), claimed)
        except FileNotFoundError:  # another reader claimed it (or finished it) first
            continue
        with open(claimed, "rb") as f:
            data = f.read()
        yield Claim(path, key, origin, name, claimed_name, box.colon, data)


def finish_claim(claim: Claim, *, flags: str = "S") -> bool:
    """Move a claimed message to ``cur/`` with the given flags added to its own (Seen by
    default; ``"FS"`` also flags it for a person to look at). False when the claim was lost
    (the lease ran out and another reader took the message over)."""
    kept = set(_flags(claim.name, claim.colon)) | set(flags) | {"S"}
    target = f"{claim.key}{claim.colon}2,{''.join(sorted(kept))}"
    try:
        os.replace(
            os.path.join(claim.path, "cur", claim.claimed_name), os.path.join(claim.path, "cur", target)
        )
    except FileNotFoundError:
        return False
    return True


def release_claim(claim: Claim) -> bool:
    """Put a claimed message back where it was, unread, for the next run. False when the claim
    was lost."""
    try:
        os.rename(
            os.path.join(claim.path, "cur", claim.claimed_name),
            os.path.join(claim.path, claim.origin, claim.name),
        )
    except FileNotFoundError:
        return False
    return True


# --------------------------------------------------------------------------- outgoing mail

_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|回复|答复)\s*[:：]\s*)+", re.IGNORECASE)


#: Anything that ends a line for some parser (str.splitlines knows \v \f \x1c-\x1e \x85 \u2028
#: \u2029 besides CR and LF) or is a control character: never in a header we write. Tab is allowed.
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


def _no_newlines(name: str, value: str) -> str:
    if _NOT_IN_A_HEADER.search(value):
        raise ValueError(f"{name}: line breaks and control characters are not allowed in a header")
    return value


@dataclass(frozen=True)
class Outgoing:
    """A message written for sending: the bytes on the wire and the two headers we keep."""

    raw: bytes
    subject: str  # as written (decoded)
    message_id: str  # with its angle brackets


def _address_header(name: str, value: str) -> str:
    """One or more addresses, display names RFC 2047-encoded when not ASCII."""
    _no_newlines(name, value)
    pairs = email.utils.getaddresses([value])
    if not pairs or not all(addr for _n, addr in pairs):
        raise ValueError(f"{name}: not an address: {value!r}")
    return ", ".join(email.utils.formataddr((n, _ascii_address(name, a)), charset="utf-8") for n, a in pairs)


def _ascii_address(name: str, address: str) -> str:
    """The address with an internationalised domain in its ASCII (IDNA) form; a local part that
    is not ASCII cannot be written in a 7-bit header (ValueError)."""
    local, _at, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError(f"{name}: the part before @ must be ASCII: {address!r}")
    if domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        raise ValueError(f"{name}: not a valid domain: {address!r}") from None


def _compose(headers: list[tuple[str, str]], text: str, *, date: datetime | None) -> bytes:
    """RFC 5322 bytes, 7-bit (the subject RFC 2047, the body base64 UTF-8), CRLF line ends.

    Built with the compat32 classes: the same message as ``EmailMessage`` with the SMTP policy
    at about a fifth of the cost, which matters on the intake path (every case writes one).
    Only the subject may carry other than ASCII; addresses come encoded from
    :func:`_address_header`, message ids must be ASCII."""
    msg = MIMEText(text.replace("\r\n", "\n").replace("\n", "\r\n"), "plain", "utf-8")
    date_value = email.utils.format_datetime((date or datetime.now(UTC)).astimezone(UTC))
    for name, value in [*headers, ("Date", date_value)]:
        if value.isascii():
            msg[name] = value
        elif name == "Subject":
            msg[name] = Header(value, "utf-8", header_name=name)
        else:
            raise ValueError(f"{name}: must be ASCII")
    try:
        return msg.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
    except HeaderParseError as exc:
        raise ValueError(f"cannot write the headers: {exc}") from None


def build_reply(
    *,
    case_number: str,
    to: str | Sequence[str],
    subject: str,
    text: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    from_address: str,
    domain: str = "marketguard",
    date: datetime | None = None,
    automatic: bool = False,
) -> Outgoing:
    """An outgoing RFC 5322 message (UTF-8, CRLF line ends) about a case.

    The subject carries ``[<case number>]`` once; the Message-ID is
    ``<<case number>.<uuid hex>@<domain>>`` so that a reply threads back even when the consumer's
    client drops the subject tag; In-Reply-To/References continue the consumer's thread.
    ``automatic=True`` marks an acknowledgement written by the system (``Auto-Submitted:
    auto-replied``), so well-behaved auto-responders do not answer it.
    """
    case_number = _no_newlines("case_number", case_number.strip())
    if not re.fullmatch(r"[A-Za-z]{1,8}\d{14}", case_number):
        raise ValueError(f"case_number: expected a prefix and 14 digits, got {case_number!r}")
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"domain: expected a host name, got {domain!r}")
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("to: at least one recipient is required")
    subject = _no_newlines("subject", subject.strip())
    if case_number.lower() not in subject.lower():
        prefix_match = _REPLY_PREFIX.match(subject)
        head = prefix_match.group(0) if prefix_match else ""
        rest = subject[len(head) :].strip()
        subject = f"{head}[{case_number}] {rest}".strip()
    message_id = f"<{case_number.upper()}.{uuid.uuid4().hex}@{domain}>"
    headers = [
        ("From", _address_header("from_address", from_address)),
        ("To", ", ".join(_address_header("to", r) for r in recipients)),
        ("Subject", subject),
        ("Message-ID", message_id),
    ]
    thread: list[str] = []
    for value in (*references, in_reply_to or ""):
        for mid in _message_ids(_no_newlines("references", value)):
            if mid not in thread and mid.isascii():  # an id that is not ASCII cannot be written
                thread.append(mid)
    parent = [mid for mid in _message_ids(in_reply_to) if mid.isascii()]
    if parent:
        headers.append(("In-Reply-To", parent[0]))
    if thread:
        headers.append(("References", " ".join(thread)))
    if automatic:
        headers.append(("Auto-Submitted", "auto-replied"))
    headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    return Outgoing(_compose(headers, text, date=date), subject, message_id)


#: Message-IDs of notices to people at work start with this (``<notice.<uuid hex>@<domain>>``).
NOTICE_ID_PREFIX = "notice."


def build_notice(
    *,
    to: str,
    subject: str,
    text: str,
    from_address: str,
    domain: str = "marketguard",
    date: datetime | None = None,
) -> Outgoing:
    """An automatic notice to a person at work (an alert by e-mail), RFC 5322, 7-bit.

    Not part of any consumer's thread: the Message-ID starts with ``notice.`` so that a reply
    to it is recognised (:func:`is_reply_to_notice`) and never posted into the case, and it is
    marked ``Auto-Submitted: auto-generated`` so that auto-responders stay quiet.
    """
    if not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"domain: expected a host name, got {domain!r}")
    subject = _no_newlines("subject", " ".join(subject.split()))
    message_id = f"<{NOTICE_ID_PREFIX}{uuid.uuid4().hex}@{domain}>"
    headers = [
        ("From", _address_header("from_address", from_address)),
        ("To", _address_header("to", to)),
        ("Subject", subject),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
    ]
    return Outgoing(_compose(headers, text, date=date), subject, message_id)


def is_reply_to_notice(mail: ParsedMail) -> bool:
    """True for an answer to one of our notices (its In-Reply-To or References name one)."""
    ids = [mail.in_reply_to or "", *mail.references]
    return any(i.strip().lstrip("<").startswith(NOTICE_ID_PREFIX) for i in ids)
