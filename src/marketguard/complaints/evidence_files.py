"""Evidence files: what consumers and merchants upload (photos, videos, PDF reports, chat logs).

A pure module (no Django import). :func:`inspect` decides what a file *is* from its content (magic
bytes via :mod:`filetype`, a ``%PDF-`` header, a strict UTF-8 check for chat logs), never from its
name or the browser's declared type alone; those only make a file fail (``TYPE_MISMATCH`` when
they promise a kind the content is not, ``TYPE_NOT_ALLOWED`` for dangerous names). Refused:
executables, scripts, archives, HTML/SVG/XML (script risk), Office documents (macros), PDFs with
JavaScript or launch actions, images the decoder cannot read or that decode to more pixels than
allowed (decompression bombs).

:func:`thumbnail` makes a small JPEG (EXIF orientation applied, metadata and GPS dropped);
:func:`strip_metadata` re-encodes an image without EXIF/XMP/comments, for copies shown to the other
party (keep the original, platform-only, as the evidence of record); :func:`storage_path` names the
content-addressed file ("the same bytes are stored once").

Rejections are :class:`EvidenceRejected`, an :class:`~marketguard.core.errors.InvalidInput` (422)
on the field ``file`` with one of the stable codes in :data:`REJECTION_CODES`; the message is
English, for logs. The UI translates by code.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass

import filetype
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from marketguard.core.errors import InvalidInput

__all__ = [
    "DEFAULT_LIMITS",
    "EMPTY",
    "IMAGE_TOO_LARGE_PIXELS",
    "IMAGE_UNREADABLE",
    "KINDS",
    "REJECTION_CODES",
    "TOO_LARGE",
    "TYPE_MISMATCH",
    "TYPE_NOT_ALLOWED",
    "EvidenceRejected",
    "Inspected",
    "Limits",
    "inspect",
    "safe_filename",
    "storage_path",
    "strip_metadata",
    "thumbnail",
]

MB = 1024 * 1024
KINDS: tuple[str, ...] = ("image", "video", "pdf", "text")

EMPTY = "EMPTY"
TOO_LARGE = "TOO_LARGE"
TYPE_NOT_ALLOWED = "TYPE_NOT_ALLOWED"
TYPE_MISMATCH = "TYPE_MISMATCH"
IMAGE_UNREADABLE = "IMAGE_UNREADABLE"
IMAGE_TOO_LARGE_PIXELS = "IMAGE_TOO_LARGE_PIXELS"
REJECTION_CODES: tuple[str, ...] = (
    EMPTY,
    TOO_LARGE,
    TYPE_NOT_ALLOWED,
    TYPE_MISMATCH,
    IMAGE_UNREADABLE,
    IMAGE_TOO_LARGE_PIXELS,
)


class EvidenceRejected(InvalidInput):
    """An upload that cannot be evidence. ``code`` is one of :data:`REJECTION_CODES`."""

    def __init__(self, code: str, message: str, *, field: str = "file") -> None:
        if code not in REJECTION_CODES:
            raise ValueError(f"code: expected one of {REJECTION_CODES}, got {code!r}")
        super().__init__(message, code=code, field=field)
        self.field = field

    def __reduce__(self):
        return (type(self), (self.code, self.message), {"field": self.field})

    def __setstate__(self, state: dict) -> None:
        self.field = state.get("field", "file")

    def __repr__(self) -> str:
        return f"EvidenceRejected({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class Limits:
    """Size limits per kind (bytes) and the largest image (width x height) that is decoded."""

    image_bytes: int = 10 * MB
    video_bytes: int = 100 * MB
    pdf_bytes: int = 20 * MB
    text_bytes: int = 2 * MB
    max_pixels: int = 40_000_000

    def __post_init__(self) -> None:
        for name in ("image_bytes", "video_bytes", "pdf_bytes", "text_bytes", "max_pixels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")

    def max_bytes(self, kind: str) -> int:
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
        return getattr(self, f"{kind}_bytes")

    @property
    def largest(self) -> int:
        return max(self.image_bytes, self.video_bytes, self.pdf_bytes, self.text_bytes)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Inspected:
    kind: str  # "image" | "video" | "pdf" | "text"
    mime: str  # from the content, e.g. "image/png" (text: by extension: text/plain, text/csv, ...)
    size: int
    sha256: str  # lower-case hex
    extension: str  # canonical, from the content ("jpg" for a JPEG named photo.jpeg); text keeps its own
    width: int | None = None  # images only
    height: int | None = None


# --------------------------------------------------------------------------- type tables

_IMAGE_TYPES: dict[str, tuple[str, str]] = {  # filetype mime -> (mime, extension)
    "image/jpeg": ("image/jpeg", "jpg"),
    "image/png": ("image/png", "png"),
    "image/apng": ("image/png", "png"),
    "image/gif": ("image/gif", "gif"),
    "image/webp": ("image/webp", "webp"),
    "image/bmp": ("image/bmp", "bmp"),
    "image/tiff": ("image/tiff", "tif"),
    "image/heic": ("image/heic", "heic"),
    "image/avif": ("image/avif", "avif"),
}
_VIDEO_TYPES: dict[str, tuple[str, str]] = {
    "video/mp4": ("video/mp4", "mp4"),
    "video/x-m4v": ("video/x-m4v", "m4v"),
    "video/quicktime": ("video/quicktime", "mov"),
    "video/3gpp": ("video/3gpp", "3gp"),
    "video/webm": ("video/webm", "webm"),
    "video/x-matroska": ("video/x-matroska", "mkv"),
    "video/x-msvideo": ("video/x-msvideo", "avi"),
}
# ISO base media brands of phone and camera video that filetype's MP4 matcher does not list
_VIDEO_BRANDS: dict[bytes, tuple[str, str]] = {
    **dict.fromkeys(
        [b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42"]
        + [b"avc1", b"dash", b"mmp4", b"MSNV", b"f4v ", b"XAVC", b"NDSC", b"NDSH", b"NDXC", b"NDXH"],
        ("video/mp4", "mp4"),
    ),
    **dict.fromkeys([b"M4V ", b"M4VH", b"M4VP"], ("video/x-m4v", "m4v")),
    **dict.fromkeys([b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3ge6", b"3gg6", b"3g2a"], ("video/3gpp", "3gp")),
    b"qt  ": ("video/quicktime", "mov"),
}
_TEXT_TYPES: dict[str, str] = {
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
}

_EXTENSION_KIND: dict[str, str] = {
    **dict.fromkeys(["jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "bmp"], "image"),
    **dict.fromkeys(["tif", "tiff", "heic", "heif", "avif"], "image"),
    **dict.fromkeys(["mp4", "m4v", "mov", "qt", "3gp", "3g2", "webm", "mkv", "avi"], "video"),
    "pdf": "pdf",
    **dict.fromkeys(_TEXT_TYPES, "text"),
}
# refused by name whatever the content: executables, scripts, markup, archives, macro documents
_FORBIDDEN_EXTENSIONS = frozenset(
    {"exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "msix", "appx", "bat", "cmd", "ps1", "psm1"}
    | {"vbs", "vbe", "js", "jse", "mjs", "wsf", "wsh", "hta", "lnk", "reg", "jar", "apk", "ipa", "dmg"}
    | {"app", "deb", "rpm", "sh", "bash", "zsh", "py", "pyc", "pl", "rb", "php", "phtml", "asp", "aspx"}
    | {"jsp", "cgi", "elf", "bin", "so", "dylib", "class", "dex", "wasm", "swf", "chm", "iso", "img"}
    | {"html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt", "url"}
    | {"zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "zst", "tar", "cab", "arj", "lzh", "z"}
    | {"doc", "docx", "docm", "dot", "dotm", "xls", "xlsx", "xlsm", "xlsb", "xlam", "xlt", "xltm"}
    | {"ppt", "pptx", "pptm", "potm", "ppsm", "sldm", "rtf", "odt", "ods", "odp", "one", "pub"}
)
_DECLARED_KIND: dict[str, str] = {
    "application/pdf": "pdf",
    "text/plain": "text",
    "text/csv": "text",
    "application/json": "text",
}
_FORBIDDEN_DECLARED = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml"}
    | {"text/javascript", "application/javascript", "application/x-msdownload", "application/x-sh"}
)
# magic numbers of things that are never evidence (filetype knows most; these are belt and braces)
_FORBIDDEN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows executable"),
    (b"\x7fELF", "a Linux executable"),
    (b"\xfe\xed\xfa\xce", "a macOS executable"),
    (b"\xfe\xed\xfa\xcf", "a macOS executable"),
    (b"\xce\xfa\xed\xfe", "a macOS executable"),
    (b"\xcf\xfa\xed\xfe", "a macOS executable"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java executable"),
    (b"dex\n", "an Android executable"),
    (b"\x00asm", "a WebAssembly module"),
    (b"#!", "a script"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document or installer (may carry macros)"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"PK\x07\x08", "a ZIP archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"MSCF", "a cabinet archive"),
    (b"ITSF", "a compiled help file"),
    (b"{\\rtf", "an RTF document (may embed objects)"),
    (b"%!PS", "a PostScript program"),
    (b"L\x00\x00\x00\x01\x14\x02\x00", "a Windows shortcut"),
)
_MARKUP_STARTS = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<svg",
    b"<?xml",
    b"<script",
    b"<iframe",
    b"<!--",
    b"<xsl",
    b"<?php",
    b"<%",
    b"<a ",
    b"<div",
    b"<meta",
    b"<img",
    b"<style",
    b"<object",
    b"<embed",
)
_PDF_ACTIVE = (b"javascript", b"launch")


def _reject(code: str, message: str) -> EvidenceRejected:
    return EvidenceRejected(code, message)


# --------------------------------------------------------------------------- names


_BIDI_AND_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')


def safe_filename(name: str, *, default: str = "file", max_length: int = 200) -> str:
    """A display/download file name with no directory parts, control or bidi-override characters
    (``photo\\u202egpj.exe``), or characters Windows refuses; at most ``max_length`` characters,
    keeping the extension. ``default`` when nothing usable is left."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _BIDI_AND_CONTROL.sub("", name)
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        name = default
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16 and stem:
            name = stem[: max_length - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:max_length]
    return name


def _extension(filename: str) -> str:
    name = safe_filename(filename, default="")
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


# --------------------------------------------------------------------------- sniffing


@dataclass(frozen=True)
class _Sniffed:
    kind: str | None  # an allowed kind, or None
    mime: str = ""
    extension: str = ""
    forbidden: str | None = None  # what the content is, when it is refused


def _isobmff_video(data: bytes, *, major_only: bool = False) -> tuple[str, str] | None:
    """The video type an ISO base media file's ``ftyp`` brands name (the major brand first)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    size = int.from_bytes(data[0:4], "big")
    brands = [data[8:12]]
    end = min(size if size >= 16 else 16, len(data), 4096)
    if not major_only:
        brands += [data[i : i + 4] for i in range(16, end - 3, 4)]
    for brand in brands:
        if brand in _VIDEO_BRANDS:
            return _VIDEO_BRANDS[brand]
    return None


def _looks_like_markup(data: bytes) -> bool:
    head = data[:1024]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    head = head.lstrip(b" \t\r\n\x0c").lower()
    return head.startswith(_MARKUP_STARTS)


def _is_text(data: bytes) -> bool:
    """Strict UTF-8 (a BOM allowed) without control characters other than tab, CR, LF, FF."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text)


def _sniff(data: bytes, ext: str, *, text_claimed: bool) -> _Sniffed:
    if text_claimed and _is_text(data):
        # Strict UTF-8 without control characters is text, even when its first bytes happen to
        # spell a binary signature ("BM..." is a BMP to filetype); markup and scripts stay refused.
        if _looks_like_markup(data):
            return _Sniffed(None, forbidden="HTML/SVG/XML markup (may run scripts)")
        if data.lstrip(b"\xef\xbb\xbf").startswith(b"#!"):
            return _Sniffed(None, forbidden="a script")
        ext = ext if ext in _TEXT_TYPES else "txt"
        return _Sniffed("text", _TEXT_TYPES[ext], ext)
    try:
        guess = filetype.guess(data)
    except Exception:  # a matcher tripping over odd bytes means "unknown"
        guess = None
    mime = guess.mime if guess is not None else None
    if mime in _IMAGE_TYPES:
        return _Sniffed("image", *_IMAGE_TYPES[mime])
    if mime in _VIDEO_TYPES or mime is None:
        video = _isobmff_video(data, major_only=True)  # a 3GP or MOV that also lists "isom"
        if video:
            return _Sniffed("video", *video)
    if mime in _VIDEO_TYPES:
        return _Sniffed("video", *_VIDEO_TYPES[mime])
    if data.startswith(b"%PDF-"):
        return _Sniffed("pdf", "application/pdf", "pdf")
    if guess is not None:
        return _Sniffed(None, forbidden=f"{mime} ({guess.extension})")
    for magic, what in _FORBIDDEN_MAGIC:
        if data.startswith(magic):
            return _Sniffed(None, forbidden=what)
    video = _isobmff_video(data)
    if video:
        return _Sniffed("video", *video)
    if _looks_like_markup(data):
        return _Sniffed(None, forbidden="HTML/SVG/XML markup (may run scripts)")
    if _is_text(data):
        ext = ext if ext in _TEXT_TYPES else "txt"
        return _Sniffed("text", _TEXT_TYPES[ext], ext)
    return _Sniffed(None)


def _pdf_active_content(data: bytes) -> str | None:
    """Best effort: a PDF whose (uncompressed) objects name JavaScript or Launch actions.

    Names may hide letters as ``#xx`` escapes (``/J#61vaScript``); those are decoded. Objects inside
    compressed object streams are not examined."""
    lowered = data.lower()
    for name in _PDF_ACTIVE:
        if re.search(rb"/" + name + rb"(?![a-z0-9])", lowered):
            return name.decode()
    for token in re.findall(rb"/[a-z0-9#]*#[0-9a-f]{2}[a-z0-9#]*", lowered):
        decoded = re.sub(rb"#([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), token[1:]).lower()
        if decoded in _PDF_ACTIVE:
            return decoded.decode()
    return None


# --------------------------------------------------------------------------- images


# Only these decoders ever see uploaded bytes: Pillow knows ~40 formats, some of which hand the
# file to external programs (EPS runs Ghostscript) or are rarely exercised parsers.
_PIL_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "AVIF", "HEIF")


def _pil_formats() -> tuple[str, ...]:
    Image.init()
    return tuple(f for f in _PIL_FORMATS if f in Image.OPEN)


def _open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse before any pixel is decoded if too large."""
    try:
        image = Image.open(io.BytesIO(data), formats=_pil_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _reject(IMAGE_TOO_LARGE_PIXELS, f"the image is larger than {max_pixels} pixels") from exc
    except UnidentifiedImageError as exc:
        raise _reject(IMAGE_UNREADABLE, "the image format cannot be read (save it as JPEG or PNG)") from exc
    except Exception as exc:  # a corrupt header can raise almost anything
        raise _reject(IMAGE_UNREADABLE, f"the image cannot be read: {type(exc).__name__}") from exc
    width, height = image.size
    if width <= 0 or height <= 0:
        image.close()
        raise _reject(IMAGE_UNREADABLE, "the image has no pixels")
    if width * height > max_pixels:
        image.close()
        raise _reject(
            IMAGE_TOO_LARGE_PIXELS, f"the image is {width}x{height}; at most {max_pixels} pixels are accepted"
        )
    return image


def _decode(
    data: bytes, max_pixels: int, *, draft_side: int | None = None
) -> tuple[Image.Image, bytes | None, str | None]:
    """The first frame, decoded and upright (EXIF orientation applied), its ICC profile and the
    source format.

    The returned image carries no metadata: ``info`` is emptied (but for palette transparency) so
    no encoder copies a comment, EXIF, XMP or text chunk into the output."""
    image = _open_image(data, max_pixels)
    fmt = image.format
    try:
        if draft_side and image.format == "JPEG":
            image.draft("RGB", (draft_side, draft_side))  # decode at 1/2, 1/4 or 1/8 scale
        image.seek(0)
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _reject(IMAGE_TOO_LARGE_PIXELS, f"the image is larger than {max_pixels} pixels") from exc
    except Exception as exc:  # truncated or corrupt pixel data
        raise _reject(IMAGE_UNREADABLE, f"the image cannot be decoded: {type(exc).__name__}") from exc
    icc = image.info.get("icc_profile") or None
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block: keep the pixels as stored
        upright = image.copy()
    if upright is None:  # pragma: no cover - only with in_place=True
        upright = image
    transparency = image.info.get("transparency")
    if upright is not image:
        image.close()
    upright.info = {} if transparency is None else {"transparency": transparency}
    return upright, icc, fmt


def _flatten(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """A mode a JPEG/PNG/WebP encoder takes: RGB (or RGBA when ``keep_alpha``), or L."""
    mode = image.mode
    if mode in {"I;16", "I;16B", "I;16L", "I;16N", "I"}:
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if mode == "F":
        return image.convert("L")
    if mode in {"1", "L"}:
        return image.convert("L")
    has_alpha = mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (mode == "P" and "transparency" in image.info)
    if mode == "P":
        image = image.convert("RGBA" if has_alpha else "RGB")
    elif mode in {"LA", "La", "PA", "RGBa"}:
        image = image.convert("RGBA")
    elif mode not in {"RGB", "RGBA"}:
        image = image.convert("RGB")
    if image.mode == "RGBA" and not keep_alpha:
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc or image.mode not in {"RGB", "CMYK"}:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except Exception:  # a broken profile: keep the numbers as they are
        return image


def thumbnail(data: bytes, *, max_side: int = 320, max_pixels: int = DEFAULT_LIMITS.max_pixels) -> bytes:
    """A JPEG no larger than ``max_side`` on its longest side: upright (EXIF orientation applied),
    in sRGB, transparent areas on white, without EXIF/GPS or any other metadata.

    Raises :class:`EvidenceRejected` (``IMAGE_UNREADABLE``, ``IMAGE_TOO_LARGE_PIXELS``)."""
    if not isinstance(max_side, int) or not 16 <= max_side <= 4096:
        raise ValueError(f"max_side: expected an integer from 16 to 4096, got {max_side!r}")
    if not data:
        raise _reject(EMPTY, "the file is empty")
    image, icc, _fmt = _decode(data, max_pixels, draft_side=max_side)
    if image.mode == "CMYK":
        image = _to_srgb(image, icc) if icc else image.convert("RGB")
        icc = None
    image = _flatten(image, keep_alpha=False)
    if image.mode == "RGB":
        image = _to_srgb(image, icc)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    image.info = {}
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


def strip_metadata(data: bytes, *, max_pixels: int = DEFAULT_LIMITS.max_pixels) -> bytes:
    """The image re-encoded without EXIF (GPS, camera, time), XMP, comments or text chunks, with
    its EXIF orientation applied to the pixels. The ICC colour profile is kept.

    JPEG stays JPEG (quality 92), WebP stays WebP, every other format becomes PNG (lossless); an
    animation keeps its first frame only. Run :func:`inspect` on the result for its mime, extension
    and SHA-256. Keep the original (platform-only) as the evidence of record: the taking time in
    EXIF can matter to a ruling."""
    if not data:
        raise _reject(EMPTY, "the file is empty")
    image, icc, fmt = _decode(data, max_pixels)
    params: dict = {"icc_profile": icc} if icc else {}
    out = io.BytesIO()
    if fmt in {"JPEG", "MPO"}:  # MPO: a phone's multi-picture JPEG; the first picture is kept
        if image.mode not in {"RGB", "L", "CMYK"}:
            image = _flatten(image, keep_alpha=False)
        image.save(out, format="JPEG", quality=92, optimize=True, **params)
    elif fmt == "WEBP":
        image = _flatten(image, keep_alpha=True)
        image.save(out, format="WEBP", quality=90, **params)
    else:
        if image.mode == "CMYK":
            image = _to_srgb(image, icc)
            params = {}
        image = _flatten(image, keep_alpha=True)
        image.save(out, format="PNG", optimize=True, **params)
    return out.getvalue()


# --------------------------------------------------------------------------- inspect


def inspect(
    data: bytes,
    *,
    filename: str,
    declared_type: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Inspected:
    """What the uploaded bytes are, decided by their content; or :class:`EvidenceRejected`.

    ``filename`` and ``declared_type`` (the browser's or mail's content type) never make a file
    acceptable; they make it fail when they name something dangerous (``TYPE_NOT_ALLOWED``) or
    promise a kind the content is not (``TYPE_MISMATCH``; both must agree with the content when
    both name a kind). A ZIP named ``.jpg`` is refused as the ZIP it is (``TYPE_NOT_ALLOWED``); a
    PDF named ``.jpg`` is a mismatch. A PNG named ``.jpg`` is fine: it is an image either way, and
    the result's extension says ``png``. Types that name no kind (``application/octet-stream``,
    ``application/vnd.ms-excel`` for a CSV) are ignored.
    Chat logs (``.txt``/``.log``/``.csv``/``.json``) must be UTF-8.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")
    data = bytes(data)
    size = len(data)
    if size == 0:
        raise _reject(EMPTY, "the file is empty")
    if size > limits.largest:
        raise _reject(TOO_LARGE, f"the file is {size} bytes; at most {limits.largest} bytes are accepted")

    ext = _extension(filename)
    declared = (declared_type or "").split(";")[0].strip().lower()
    if ext in _FORBIDDEN_EXTENSIONS:
        raise _reject(TYPE_NOT_ALLOWED, f".{ext} files are not accepted as evidence")
    if declared in _FORBIDDEN_DECLARED:
        raise _reject(TYPE_NOT_ALLOWED, f"{declared} files are not accepted as evidence")
    claims = {k for k in (_EXTENSION_KIND.get(ext), _declared_kind(declared)) if k}

    sniffed = _sniff(data, ext, text_claimed="text" in claims)
    if sniffed.forbidden:
        raise _reject(
            TYPE_NOT_ALLOWED, f"the content is {sniffed.forbidden}, which is not accepted as evidence"
        )
    said = " and ".join(sorted(claims))
    if sniffed.kind is None:
        if claims == {"text"}:
            raise _reject(
                TYPE_MISMATCH, "the file is named as a chat log but is not UTF-8 text (save it as UTF-8)"
            )
        if claims:
            raise _reject(
                TYPE_MISMATCH, f"the file says it is {said}, but its content is not a recognised type"
            )
        raise _reject(
            TYPE_NOT_ALLOWED,
            "accepted evidence: images, videos, PDF, and UTF-8 chat logs named .txt, .log, .csv or .json",
        )
    kind = sniffed.kind
    if kind == "text" and not claims:
        raise _reject(TYPE_NOT_ALLOWED, "a chat log must be named .txt, .log, .csv or .json")
    if claims and claims != {kind}:  # the name and the declared type must both agree with the content
        raise _reject(TYPE_MISMATCH, f"the file says it is {said}, but its content is {sniffed.mime}")
    if size > limits.max_bytes(kind):
        raise _reject(
            TOO_LARGE, f"the {kind} is {size} bytes; at most {limits.max_bytes(kind)} bytes are accepted"
        )

    width = height = None
    if kind == "image":
        width, height = _check_image(data, limits.max_pixels)
    elif kind == "pdf" and (active := _pdf_active_content(data)):
        raise _reject(TYPE_NOT_ALLOWED, f"the PDF contains active content ({active}); print it to a new PDF")

    return Inspected(
        kind=kind,
        mime=sniffed.mime,
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        extension=sniffed.extension,
        width=width,
        height=height,
    )


def _declared_kind(declared: str) -> str | None:
    if declared in _DECLARED_KIND:
        return _DECLARED_KIND[declared]
    major = declared.split("/", 1)[0]
    return major if major in {"image", "video"} else None


def _check_image(data: bytes, max_pixels: int) -> tuple[int, int]:
    """Header-level check: readable, not too many pixels, chunk checksums (PNG) sound."""
    image = _open_image(data, max_pixels)
    width, height = image.size
    try:
        image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _reject(IMAGE_TOO_LARGE_PIXELS, f"the image is larger than {max_pixels} pixels") from exc
    except Exception as exc:  # corrupt structure
        raise _reject(IMAGE_UNREADABLE, f"the image is damaged: {type(exc).__name__}") from exc
    finally:
        image.close()
    return width, height


# --------------------------------------------------------------------------- storage

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXT = re.compile(r"[a-z0-9]{1,8}")


def storage_path(sha256: str, extension: str) -> str:
    """``evidence/ab/cd/<sha256>.<ext>``: content-addressed, so the same bytes are stored once."""
    digest = str(sha256).lower()
    ext = str(extension).lower().lstrip(".")
    if not _SHA256.fullmatch(digest):
        raise ValueError(f"sha256: expected 64 hex digits, got {sha256!r}")
    if not _EXT.fullmatch(ext):
        raise ValueError(f"extension: expected 1-8 letters or digits, got {extension!r}")
    return f"evidence/{digest[:2]}/{digest[2:4]}/{digest}.{ext}"
