"""Evidence uploads: the kind is decided by content; dangerous files, bombs and oversize files are
refused with stable codes; thumbnails and stripped copies carry no location data (pure)."""

import hashlib
import io
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from marketguard.complaints.evidence_files import (
    DEFAULT_LIMITS,
    REJECTION_CODES,
    EvidenceRejected,
    Inspected,
    Limits,
    inspect,
    safe_filename,
    storage_path,
    strip_metadata,
    thumbnail,
)
from marketguard.core.errors import InvalidInput

DATA = Path(__file__).parent / "data"


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rejected(code: str, data: bytes, **kwargs) -> EvidenceRejected:
    kwargs.setdefault("filename", "upload")
    with pytest.raises(EvidenceRejected) as info:
        inspect(data, **kwargs)
    assert info.value.code == code, info.value.message
    return info.value


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (its pixel data is a few bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


# GPS: 31.2304 N, 121.4737 E (Shanghai), written the way a phone camera does
GPS = {
    1: "N",
    2: (31.0, 13.0, 49.44),
    3: "E",
    4: (121.0, 28.0, 25.32),
}


def jpeg_with_gps(orientation: int = 6, size=(400, 300)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    image.paste((250, 20, 20), (0, 0, size[0] // 4, size[1] // 4))  # red mark: top-left as stored
    exif = Image.Exif()
    exif[0x010F] = "Xiaomi"  # Make
    exif[0x0110] = "Redmi Note 13"  # Model
    exif[0x0112] = orientation
    exif[0x8825] = GPS  # GPSInfo IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"taken at home", quality=90)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture really has GPS
    return data


def assert_no_location(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert not exif.get_ifd(0x8825), "GPS survived"
    assert 0x010F not in exif and 0x0112 not in exif
    assert "exif" not in image.info and "comment" not in image.info and "xmp" not in image.info
    assert b"Exif\x00\x00" not in data and b"Redmi" not in data and b"taken at home" not in data


# --------------------------------------------------------------------------- accepted files


@pytest.mark.parametrize(
    ("name", "declared", "kind", "mime", "extension"),
    [
        ("sample.png", "image/png", "image", "image/png", "png"),
        ("sample.jpg", "image/jpeg", "image", "image/jpeg", "jpg"),
        ("report.pdf", "application/pdf", "pdf", "application/pdf", "pdf"),
        ("clip.mp4", "video/mp4", "video", "video/mp4", "mp4"),
        ("chat_log.txt", "text/plain", "text", "text/plain", "txt"),
    ],
)
def test_real_files_pass_with_the_right_kind_and_hash(name, declared, kind, mime, extension):
    data = sample(name)
    result = inspect(data, filename=name, declared_type=declared)
    assert result.kind == kind and result.mime == mime and result.extension == extension
    assert result.size == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    # the same bytes without a name or type (a pasted screenshot, a "blob") are still recognised
    if kind != "text":
        assert inspect(data, filename="blob") == result


def test_image_dimensions_are_reported():
    result = inspect(sample("sample.jpg"), filename="IMG_20261120.JPG")
    assert (result.width, result.height) == (400, 300)
    assert inspect(sample("report.pdf"), filename="r.pdf").width is None


def test_a_png_named_jpg_is_an_image_with_the_png_extension():
    result = inspect(sample("sample.png"), filename="微信图片_20261120.jpg", declared_type="image/jpeg")
    assert result.kind == "image" and result.mime == "image/png" and result.extension == "png"


def test_chat_logs_in_csv_and_json_keep_their_extension():
    assert inspect(b"time,who,text\n10:00,buyer,hi\n", filename="log.csv").mime == "text/csv"
    result = inspect('[{"who": "买家", "text": "在吗"}]'.encode(), filename="wechat.json")
    assert (result.kind, result.mime, result.extension) == ("text", "application/json", "json")
    # Windows browsers label .csv files as Excel: that label names no kind and is ignored
    assert inspect(b"a,b\n", filename="x.csv", declared_type="application/vnd.ms-excel").kind == "text"


def test_a_chat_log_that_happens_to_start_like_a_binary_signature_is_still_text():
    # "BM" is the BMP signature, "ID3" an MP3 tag
    assert inspect("BMW 4S店客服聊天记录\n".encode(), filename="chat.txt").kind == "text"
    assert inspect(b"ID3 of the parcel: 778899\n", filename="chat.log").kind == "text"


@pytest.mark.parametrize(
    ("ftyp", "mime", "extension"),
    [
        (b"qt  \x00\x00\x00\x00qt  ", "video/quicktime", "mov"),  # iPhone
        (b"iso6\x00\x00\x02\x00iso6dash", "video/mp4", "mp4"),  # not in filetype's MP4 brands
        (b"3gp5\x00\x00\x00\x003gp5isom", "video/3gpp", "3gp"),
    ],
)
def test_phone_video_containers_are_videos(ftyp, mime, extension):
    data = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + b"\x00\x00\x00\x08free" + bytes(64)
    result = inspect(data, filename="VID_0001")
    assert (result.kind, result.mime, result.extension) == ("video", mime, extension)


# --------------------------------------------------------------------------- refused files


def test_an_empty_file_is_refused():
    rejected("EMPTY", b"", filename="photo.jpg")


def test_a_zip_renamed_jpg_is_refused():
    error = rejected(
        "TYPE_NOT_ALLOWED", sample("fake_photo.jpg"), filename="photo.jpg", declared_type="image/jpeg"
    )
    assert "zip" in error.message


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200), "invoice.pdf"),  # a Windows program
        (b"\x7fELF\x02\x01\x01" + bytes(200), "photo"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "report.pdf"),  # legacy Office (macros)
        (b"#!/bin/sh\nrm -rf ~\n", "chat.txt"),
        (b"Rar!\x1a\x07\x01\x00" + bytes(32), "evidence"),
        (b"\x1f\x8b\x08\x00" + bytes(32), "photos"),
        (b"{\\rtf1\\ansi hello}", "letter"),
    ],
)
def test_executables_archives_and_macro_documents_are_refused(data, filename):
    rejected("TYPE_NOT_ALLOWED", data, filename=filename)


def test_an_office_document_with_macros_is_refused_whatever_its_name():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/vbaProject.bin", b"\x00" * 32)
    for name in ("report.docm", "report.pdf", "report"):
        rejected("TYPE_NOT_ALLOWED", out.getvalue(), filename=name)


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.svg", None),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "photo.png", "image/png"),
        (b"\xef\xbb\xbf  <svg onload=alert(1)>", "chat.txt", "text/plain"),
        (b"<!DOCTYPE html><html><body>hi</body></html>", "chat.txt", None),
        (b"<html><script>fetch('/api')</script></html>", "x", None),
        (b"GIF89a-looking-but-svg", "logo", "image/svg+xml"),  # declared SVG: refused by its label
    ],
)
def test_svg_and_html_are_refused(data, filename, declared):
    rejected("TYPE_NOT_ALLOWED", data, filename=filename, declared_type=declared)


@pytest.mark.parametrize("filename", ["photo.jpg.exe", "a.HTML", "x.js", "evidence.zip", "report.docm"])
def test_dangerous_names_are_refused_even_with_harmless_content(filename):
    rejected("TYPE_NOT_ALLOWED", sample("sample.jpg"), filename=filename)


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (sample("report.pdf"), "photo.jpg", None),  # content pdf, name says image
        (sample("sample.jpg"), "report.pdf", None),
        (sample("sample.jpg"), "upload", "application/pdf"),
        (sample("chat_log.txt"), "photo.jpg", None),  # text, name says image
        (sample("report.pdf"), "report.pdf", "image/jpeg"),  # the name and the label disagree
        (bytes(range(256)) * 4, "photo.png", None),  # unrecognisable bytes named as an image
        ("聊天记录".encode("gbk") + b"\r\n", "chat.txt", None),  # not UTF-8
    ],
)
def test_a_name_or_declared_type_that_promises_another_kind_is_a_mismatch(data, filename, declared):
    rejected("TYPE_MISMATCH", data, filename=filename, declared_type=declared)


def test_unrecognisable_bytes_without_a_name_are_not_allowed():
    rejected("TYPE_NOT_ALLOWED", bytes(range(256)) * 4, filename="blob")
    rejected("TYPE_NOT_ALLOWED", "你好".encode(), filename="notes")  # text must be named as a chat log


def test_an_m4a_recording_is_not_a_video():
    ftyp = b"M4A \x00\x00\x00\x00M4A mp42isom"
    data = struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + bytes(64)
    rejected("TYPE_NOT_ALLOWED", data, filename="call.m4a")


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
        b"<< /S /J#61vaScript /JS (x) >>",
        b"<< /S /Launch /F (cmd.exe) >>",
    ],
)
def test_a_pdf_with_active_content_is_refused(action):
    data = sample("report.pdf").replace(
        b"<< /Type /Catalog", b"<< /OpenAction " + action + b" /Type /Catalog"
    )
    error = rejected("TYPE_NOT_ALLOWED", data, filename="report.pdf")
    assert "active content" in error.message


def test_a_text_that_only_mentions_javascript_is_not_a_pdf_problem():
    data = sample("report.pdf").replace(b"Test report", b"JavaScript")  # a word in the page text
    assert inspect(data, filename="report.pdf").kind == "pdf"


# --------------------------------------------------------------------------- limits


def test_oversize_files_are_refused_per_kind():
    small = Limits(image_bytes=1000, pdf_bytes=200, text_bytes=100, video_bytes=100)
    rejected("TOO_LARGE", sample("sample.jpg"), filename="a.jpg", limits=small)
    rejected("TOO_LARGE", sample("report.pdf"), filename="a.pdf", limits=small)
    rejected("TOO_LARGE", sample("chat_log.txt"), filename="a.txt", limits=small)
    rejected("TOO_LARGE", sample("clip.mp4"), filename="a.mp4", limits=small)
    assert inspect(sample("sample.png"), filename="a.png", limits=small).kind == "image"  # 174 bytes


def test_a_file_larger_than_every_limit_is_refused_before_it_is_examined():
    limits = Limits(image_bytes=10, pdf_bytes=10, text_bytes=10, video_bytes=10)
    rejected("TOO_LARGE", b"MZ" + bytes(100), filename="x.exe", limits=limits)  # not even TYPE_NOT_ALLOWED


def test_default_limits():
    expected = Limits(
        image_bytes=10 * 2**20, video_bytes=100 * 2**20, pdf_bytes=20 * 2**20, text_bytes=2 * 2**20
    )
    assert expected == DEFAULT_LIMITS
    assert DEFAULT_LIMITS.max_pixels == 40_000_000
    with pytest.raises(ValueError):
        Limits(image_bytes=0)


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (8_000, 6_000), (1, 50_000_000)])
def test_a_png_claiming_huge_dimensions_is_refused_without_decoding_it(monkeypatch, width, height):
    data = png_claiming(width, height)
    assert len(data) < 200
    decoded = []  # every pixel decode goes through ImageFile.load; none may happen
    original_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or original_load(self)
    )

    rejected("IMAGE_TOO_LARGE_PIXELS", data, filename="bomb.png")
    for function in (thumbnail, strip_metadata):
        with pytest.raises(EvidenceRejected) as info:
            function(data)
        assert info.value.code == "IMAGE_TOO_LARGE_PIXELS"
    assert decoded == []  # an 8000x6000 RGB image would have taken 144 MB

    thumbnail(sample("sample.png"))
    assert set(decoded) == {(64, 48)}  # the probe works: a normal image is decoded


def test_the_pixel_limit_is_configurable():
    rejected("IMAGE_TOO_LARGE_PIXELS", sample("sample.jpg"), filename="a.jpg", limits=Limits(max_pixels=1000))
    with pytest.raises(EvidenceRejected) as info:
        thumbnail(sample("sample.jpg"), max_pixels=1000)
    assert info.value.code == "IMAGE_TOO_LARGE_PIXELS"


def test_a_damaged_image_is_unreadable():
    png = bytearray(sample("sample.png"))
    png[29] ^= 0xFF  # the IHDR chunk's checksum no longer matches
    rejected("IMAGE_UNREADABLE", bytes(png), filename="a.png")
    truncated = sample("sample.jpg")[:2000]
    with pytest.raises(EvidenceRejected) as info:
        thumbnail(truncated)
    assert info.value.code == "IMAGE_UNREADABLE"
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + bytes(64)
    rejected("IMAGE_UNREADABLE", heic, filename="IMG_0001.HEIC")  # recognised, but not decodable here


def test_only_common_image_decoders_see_uploaded_bytes():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    assert Image.open(io.BytesIO(eps)).format == "EPS"  # Pillow alone would hand it to Ghostscript
    rejected("TYPE_NOT_ALLOWED", eps, filename="photo.jpg")
    ico = io.BytesIO()
    Image.new("RGB", (16, 16)).save(ico, format="ICO")
    for data in (eps, ico.getvalue()):
        for function in (thumbnail, strip_metadata):
            with pytest.raises(EvidenceRejected) as info:
                function(data)
            assert info.value.code == "IMAGE_UNREADABLE"


# --------------------------------------------------------------------------- thumbnails and metadata


def test_thumbnail_is_a_small_upright_jpeg_without_gps():
    data = jpeg_with_gps(orientation=6)  # stored 400x300 landscape, shown rotated 90 degrees clockwise
    thumb = thumbnail(data)
    image = Image.open(io.BytesIO(thumb))
    assert image.format == "JPEG"
    assert max(image.size) <= 320
    assert image.size == (240, 320)  # orientation applied: now portrait
    r, g, b = image.convert("RGB").getpixel((image.width - 10, 10))  # the red mark moved top-right
    assert r > 200 and g < 80 and b < 80
    assert_no_location(thumb)


def test_thumbnail_respects_max_side_and_never_enlarges():
    assert max(Image.open(io.BytesIO(thumbnail(sample("sample.jpg"), max_side=100))).size) == 100
    assert Image.open(io.BytesIO(thumbnail(sample("sample.png")))).size == (64, 48)
    with pytest.raises(ValueError):
        thumbnail(sample("sample.jpg"), max_side=0)


def test_transparent_and_palette_images_get_a_white_background():
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (0, 0, 20, 40))
    palette = rgba.convert("P", palette=Image.Palette.ADAPTIVE)
    palette.info["transparency"] = palette.getpixel((30, 30))
    for image, fmt in ((rgba, "PNG"), (palette, "PNG"), (palette, "GIF"), (rgba, "WEBP")):
        out = io.BytesIO()
        image.save(out, format=fmt)
        thumb = Image.open(io.BytesIO(thumbnail(out.getvalue())))
        assert thumb.mode == "RGB"
        r, g, b = thumb.getpixel((35, 20))
        assert min(r, g, b) > 230, (fmt, image.mode, (r, g, b))  # transparent became white, not black
        r, g, b = thumb.getpixel((5, 20))
        assert b > 200 and r < 60, (fmt, image.mode)


def test_cmyk_and_16_bit_images_make_thumbnails():
    cmyk = io.BytesIO()
    Image.new("CMYK", (50, 30), (0, 255, 255, 0)).save(cmyk, format="JPEG")  # red
    thumb = Image.open(io.BytesIO(thumbnail(cmyk.getvalue())))
    assert thumb.mode == "RGB" and thumb.getpixel((25, 15))[0] > 200
    deep = io.BytesIO()
    Image.new("I;16", (50, 30), 40000).save(deep, format="PNG")
    grey = Image.open(io.BytesIO(thumbnail(deep.getvalue()))).getpixel((25, 15))
    assert 140 < grey < 175  # 40000/65535 of white, not clipped to 255


def test_strip_metadata_removes_exif_and_applies_the_orientation():
    stripped = strip_metadata(jpeg_with_gps(orientation=6))
    image = Image.open(io.BytesIO(stripped))
    assert image.format == "JPEG" and image.size == (300, 400)
    assert_no_location(stripped)
    assert inspect(stripped, filename="photo.jpg").kind == "image"


def test_a_phone_multi_picture_jpeg_is_a_jpeg_and_stays_one():
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "red").save(
        out, format="MPO", save_all=True, append_images=[Image.new("RGB", (30, 20))]
    )
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    assert inspect(out.getvalue(), filename="IMG.JPG").mime == "image/jpeg"
    stripped = Image.open(io.BytesIO(strip_metadata(out.getvalue())))
    assert stripped.format == "JPEG" and stripped.size == (60, 40)


def test_strip_metadata_removes_png_text_and_exif_chunks():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Location", "Shanghai, Pudong, 31.2304N 121.4737E")
    exif = Image.Exif()
    exif[0x8825] = GPS
    out = io.BytesIO()
    Image.open(io.BytesIO(sample("sample.png"))).save(out, format="PNG", pnginfo=info, exif=exif)
    assert b"Pudong" in out.getvalue()
    stripped = strip_metadata(out.getvalue())
    image = Image.open(io.BytesIO(stripped))
    assert image.format == "PNG" and image.size == (64, 48) and image.mode == "RGBA"
    assert b"Pudong" not in stripped and b"eXIf" not in stripped
    assert not image.getexif().get_ifd(0x8825)


# --------------------------------------------------------------------------- storage, names, errors


def test_storage_path_is_content_addressed():
    digest = hashlib.sha256(sample("sample.png")).hexdigest()
    assert storage_path(digest, "png") == f"evidence/{digest[:2]}/{digest[2:4]}/{digest}.png"
    assert storage_path(digest.upper(), ".PNG") == storage_path(digest, "png")
    result = inspect(sample("sample.png"), filename="x.png")
    assert storage_path(result.sha256, result.extension).endswith(f"{result.sha256}.png")
    for bad in (("../../etc/passwd", "png"), (digest[:63], "png"), (digest, "png/../x"), (digest, "")):
        with pytest.raises(ValueError):
            storage_path(*bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\张三\\Desktop\\发票.pdf", "发票.pdf"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("  report .pdf. ", "report .pdf"),
        ('a<b>:"c"|?*.txt', "a_b___c____.txt"),
        ("", "file"),
        ("...", "file"),
        ("长" * 300 + ".jpg", "长" * 196 + ".jpg"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_evidence_rejected_is_an_invalid_input_on_the_file_field():
    error = rejected("EMPTY", b"")
    assert isinstance(error, InvalidInput) and error.status == 422
    assert error.errors[0].field == "file" and error.errors[0].code == "empty"
    copy = pickle.loads(pickle.dumps(error))  # survives a task queue
    assert (copy.code, copy.message, copy.field) == (error.code, error.message, "file")
    with pytest.raises(ValueError):
        EvidenceRejected("SOMETHING_ELSE", "x")


# --------------------------------------------------------------------------- properties

PREFIXES = [
    b"",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"BM",
    b"II*\x00",
    b"%PDF-1.7\n",
    b"\x00\x00\x00\x18ftypmp42",
    b"\x00\x00\x00\x18ftypheic",
    b"PK\x03\x04",
    b"<svg",
    b"\xef\xbb\xbf",
    b"\x1aE\xdf\xa3",
]
NAMES = ["x.jpg", "x.png", "x.pdf", "x.txt", "x.json", "x", "x.mp4", "x.svg", "x.exe", "../x.gif"]
DECLARED = [None, "image/jpeg", "application/pdf", "text/plain", "video/mp4", "application/octet-stream"]


def mutated(base: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    data = bytearray(base[: max(1, cut)])
    for position, value in flips:
        data[position % len(data)] = value
    return bytes(data)


random_files = st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda p, b: p + b, st.sampled_from(PREFIXES), st.binary(max_size=2048)),
    st.builds(
        mutated,
        st.sampled_from([sample(n) for n in ("sample.png", "sample.jpg", "report.pdf", "clip.mp4")]),
        st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 255)), max_size=8),
        st.integers(1, 20_000),
    ),
)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_files, filename=st.sampled_from(NAMES), declared=st.sampled_from(DECLARED))
def test_inspect_never_raises_anything_but_evidence_rejected(data, filename, declared):
    try:
        result = inspect(data, filename=filename, declared_type=declared)
    except EvidenceRejected as error:
        assert error.code in REJECTION_CODES
    else:
        assert isinstance(result, Inspected) and result.kind in {"image", "video", "pdf", "text"}
        assert result.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")  # Pillow's note on damaged EXIF
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_files)
def test_thumbnail_and_strip_never_raise_anything_but_evidence_rejected(data):
    for function in (thumbnail, strip_metadata):
        try:
            out = function(data)
        except EvidenceRejected as error:
            assert error.code in REJECTION_CODES
        else:
            assert Image.open(io.BytesIO(out)).size[0] > 0
