"""What each party may learn from another's files and words, and input that must not break a case:
evidence files without their metadata, masked free text, control characters, who files for whom,
webhooks that cannot hold a worker. (Each test was written first against the defect it names.)"""

import http.server
import io
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from marketguard.complaints.models import Blob, Case, OutgoingMail
from marketguard.core import delivery
from marketguard.core.models import Role
from marketguard.core.testing import factories
from marketguard.core.text import plain, plain_data

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def _jpeg_with_gps() -> bytes:
    """A phone photo: GPS position (the consumer's home, often) in its EXIF."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 15.0, 7.0), 3: "E", 4: (120.0, 10.0, 3.0)}
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def _upload(client, number, data, name="photo.png", content_type="image/png", **headers):
    return client.client.post(
        f"/api/v1/cases/{number}/evidence",
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
        headers={**client.headers, **headers},
    )


@pytest.fixture
def w(world, api):
    world.c, world.m, world.a = api(world.consumer), api(world.merchant), api(world.agent)
    world.api = api
    return world


def _file(w, **kw) -> str:
    body = {
        "kind": "return_refund",
        "order": w.order.external_id,
        "description": "鞋底开胶，质量问题",
        "amount_claimed": "99.00",
        **kw,
    }
    r = w.c.post("cases", body)
    assert r.status_code == 201, r.content
    assert r.json()["case"]["status"] == "awaiting_merchant"
    return r.json()["case"]["number"]


# --- evidence ------------------------------------------------------------------------------------


def test_merchant_download_of_consumer_photo_carries_no_gps_position(w):
    """The consumer's photo is shown to the merchant without its EXIF GPS position (the original,
    with EXIF, stays platform-only as the evidence of record)."""
    number = _file(w)
    up = _upload(w.c, number, _jpeg_with_gps(), name="photo.jpg", content_type="image/jpeg")
    assert up.status_code == 201, up.content

    r = w.m.get(f"cases/{number}/evidence/{up.json()['id']}")
    assert r.status_code == 200
    shown = Image.open(io.BytesIO(b"".join(r.streaming_content)))
    assert not shown.getexif().get_ifd(0x8825), "the merchant received the consumer's GPS position"


def test_the_platform_keeps_the_original_photo_and_older_files_get_their_copy_when_first_shown(w):
    number = _file(w)
    up = _upload(w.c, number, _jpeg_with_gps(), name="photo.jpg", content_type="image/jpeg")
    assert up.status_code == 201, up.content
    original = w.a.get(f"cases/{number}/evidence/{up.json()['id']}")
    assert Image.open(io.BytesIO(b"".join(original.streaming_content))).getexif().get_ifd(0x8825)

    # a file stored before copies without metadata were kept
    Blob.objects.filter(uses__pk=up.json()["id"]).update(shown_file="")
    r = w.m.get(f"cases/{number}/evidence/{up.json()['id']}")
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(b"".join(r.streaming_content))).getexif().get_ifd(0x8825)
    assert Blob.objects.get(uses__pk=up.json()["id"]).shown_file  # made once, kept


def test_truncated_photo_is_refused_like_any_other_bad_evidence(w):
    """A photo cut off in transfer passes the header check but fails at the thumbnail: the answer
    must be the app's own evidence error (code EVIDENCE_*, message in the user's language), not
    Pillow's English exception name."""
    number = _file(w)
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buf, format="JPEG", quality=90)
    data = buf.getvalue()
    r = _upload(
        w.c,
        number,
        data[: len(data) // 2],
        name="photo.jpg",
        content_type="image/jpeg",
        **{"Accept-Language": "zh-hans"},
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "EVIDENCE_IMAGE_UNREADABLE", problem
    assert problem["errors"][0]["field"] == "file"
    assert "OSError" not in problem["title"]
    assert not Blob.objects.exists()  # nothing half-stored


# --- masking of the consumer's personal data -----------------------------------------------------


def test_reason_the_consumer_gives_is_masked_for_the_merchant(w):
    """Free text the consumer writes is shown to the merchant with phone numbers masked
    (as the description and messages are); a reason on the timeline is such text too."""
    number = _file(w)
    r = w.c.post(f"cases/{number}/withdraw", {"reason": f"不要了，有事打我电话 {PHONE}"})
    assert r.status_code == 200, r.content

    detail = w.m.get(f"cases/{number}")
    assert detail.status_code == 200
    assert PHONE not in detail.content.decode(), "the merchant sees the consumer's phone number"
    page = _web(w.merchant).get(reverse("complaints:detail", args=[number]))
    assert page.status_code == 200 and "139****5678" in page.content.decode()
    assert PHONE not in page.content.decode()
    assert PHONE in _web(w.agent).get(reverse("complaints:detail", args=[number])).content.decode()


def _web(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_note_on_a_consumer_proposal_is_masked_for_the_merchant(w):
    number = _file(w)
    r = w.c.post(
        f"cases/{number}/proposals",
        {"remedy": "refund", "amount": "50.00", "note": f"退一半就行，电话 {PHONE}"},
    )
    assert r.status_code == 201, r.content

    detail = w.m.get(f"cases/{number}")
    assert detail.status_code == 200
    assert detail.json()["proposals"], "the merchant should see the consumer's proposal"
    assert PHONE not in detail.content.decode(), "the merchant sees the consumer's phone number"


# --- API: who may file for whom, and bad input ----------------------------------------------------


def test_consumer_cannot_file_a_case_in_another_buyers_name(w):
    """A consumer naming someone else's buyer id must not open a case on that buyer: the victim
    would see it as their own, and the acknowledgement would go to the victim's e-mail."""
    victim_user = factories.user(Role.CONSUMER)
    victim = factories.buyer(user=victim_user, email="victim@example.com")

    r = w.c.post("cases", {"kind": "complaint", "description": "客服态度很差", "buyer": victim.external_id})
    if r.status_code == 201:
        number = r.json()["case"]["number"]
        case = Case.objects.get(number=number)
        assert case.buyer_id != victim.pk, "the case was filed on another consumer's buyer record"
        assert case.contact_email != "victim@example.com"
        assert w.api(victim_user).get(f"cases/{number}").status_code == 404
    else:
        assert r.status_code in (403, 404, 422), r.content
        assert r.json()["errors"][0]["field"] == "buyer"


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Bad\x1btitle", "description": "The sole came off."},
        {"description": "鞋底开胶\x00质量问题"},
    ],
    ids=["escape-in-title", "nul-in-description"],
)
def test_control_characters_in_a_new_case_are_refused_or_cleaned(w, fields):
    """A control character in the text is refused (422 naming the field) or removed. Today the
    case is filed but the acknowledgement e-mail is silently dropped (its subject cannot carry
    the character), and on PostgreSQL a NUL byte is a 500."""
    r = w.c.post("cases", {"kind": "complaint", **fields})
    if r.status_code == 201:
        number = r.json()["case"]["number"]
        assert OutgoingMail.objects.filter(case__number=number).count() == 1, (
            "the consumer got no acknowledgement e-mail"
        )
    else:
        assert r.status_code == 422, r.content
        assert r.json()["errors"][0]["field"] in fields


def test_control_characters_in_a_reason_are_removed(w):
    number = _file(w)
    r = w.c.post(f"cases/{number}/withdraw", {"reason": "不要了\x00\x1b，谢谢"})
    assert r.status_code == 200, r.content
    event = Case.objects.get(number=number).events.get(type="case_withdrawn")
    assert event.data["reason"] == "不要了，谢谢"


def test_plain_text_keeps_line_breaks_and_tabs():
    assert plain("a\x00b\x1b[31mc\x7f\x85d\te\r\nf") == "ab[31mcd\te\r\nf"
    assert plain_data({"x": ["\x00y", 1, None], "z\x00": {"w": "\x08v"}}) == {
        "x": ["y", 1, None],
        "z": {"w": "v"},
    }


# --- webhooks --------------------------------------------------------------------------------------


class _TricklingHandler(http.server.BaseHTTPRequestHandler):
    """Answers 200, then sends its headers one byte every 0.5 s for 30 s."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self.wfile.flush()
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b"X")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def test_slow_webhook_receiver_cannot_hold_a_worker_past_the_timeout(settings):
    """A receiver that trickles its answer must be cut off after the delivery timeout: otherwise
    one bad receiver holds the worker (and every other subscriber's events) indefinitely, and once
    the lease runs out another worker sends the same event again."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the trickling receiver is on this machine
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TricklingHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    finished = threading.Event()

    def send():
        delivery._post(url, b"{}", {"Content-Type": "application/json"})
        finished.set()

    started = time.monotonic()
    threading.Thread(target=send, daemon=True).start()
    try:
        done = finished.wait(delivery.TIMEOUT_SECONDS + 5)
    finally:
        server.shutdown()
        server.server_close()
    assert done, (
        f"the delivery was still waiting after {time.monotonic() - started:.0f} s "
        f"(timeout {delivery.TIMEOUT_SECONDS} s)"
    )
