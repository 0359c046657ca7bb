"""Evidence originals keep the GPS position and camera details the app strips for the parties: they
are never downloadable by their storage path, and their digest (which names that path) is given to
platform roles and to whoever sent the file, never to the other party."""

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from marketguard import urls as project_urls
from marketguard.complaints import services
from marketguard.complaints.models import Evidence
from marketguard.complaints.tests.test_evidence_files import jpeg_with_gps

from .test_services import _file

pytestmark = pytest.mark.django_db


def _case_with_gps_photo(w):
    case = _file(
        w, kind="return_refund", problem_type="quality", description="杯子有裂缝", amount_claimed=None
    ).case
    photo = jpeg_with_gps()
    services.add_evidence(
        actor=w.consumer, number=case.number, filename="crack.jpg", data=photo, declared_type="image/jpeg"
    )
    return case, Evidence.objects.select_related("blob").get(case=case), photo


@pytest.fixture
def debug_urlconf(settings, monkeypatch):
    """The project's URLs as `marketguard demo` and a developer's server build them (DEBUG on)."""
    settings.DEBUG = True
    monkeypatch.setenv("NINJA_SKIP_REGISTRY", "1")  # the API's URLs are built a second time
    name = "marketguard_urls_under_debug"
    spec = importlib.util.spec_from_file_location(name, project_urls.__file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    settings.ROOT_URLCONF = name
    yield
    sys.modules.pop(name, None)


def test_an_original_is_not_downloadable_by_its_path_in_debug(world, settings, debug_urlconf):
    w = world
    case, evidence, photo = _case_with_gps_photo(w)
    stored = Path(settings.MEDIA_ROOT) / evidence.blob.file.name
    assert stored.read_bytes() == photo  # the original, GPS included, is there on disk
    # its path is its digest: whoever has the digest has the path
    assert evidence.blob.sha256 in evidence.blob.file.name
    path = f"/{settings.MEDIA_URL.strip('/')}/{evidence.blob.file.name}"
    for who in (None, w.merchant, w.consumer):
        client = Client()
        if who is not None:
            client.force_login(who)
        response = client.get(path)
        assert response.status_code == 404, (who, response.status_code)
    # the parties still get the picture, through the case, without its metadata
    merchant = Client()
    merchant.force_login(w.merchant)
    shown = merchant.get(f"/cases/{case.number}/evidence/{evidence.pk}/")
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) != photo


def test_the_other_party_never_reads_the_originals_digest(world, api):
    w = world
    case, evidence, _photo = _case_with_gps_photo(w)  # the consumer's photo
    digest = evidence.blob.sha256
    body = api(w.merchant).get(f"cases/{case.number}").json()
    assert [e["sha256"] for e in body["evidence"]] == [None]
    assert digest not in str(body)
    # the platform reads it, and so does the consumer, who sent the file and holds it
    for who in (w.agent, w.arbitrator, w.admin, w.consumer):
        body = api(who).get(f"cases/{case.number}").json()
        assert [e["sha256"] for e in body["evidence"]] == [digest], who


def test_a_merchants_file_keeps_its_digest_from_the_consumer(world, api):
    w = world
    case, _evidence, _photo = _case_with_gps_photo(w)
    client = api(w.merchant)
    photo = jpeg_with_gps(size=(320, 240))
    up = client.client.post(
        f"/api/v1/cases/{case.number}/evidence",
        {"file": SimpleUploadedFile("box.jpg", photo, content_type="image/jpeg")},
        headers=client.headers,
    )
    assert up.status_code == 201, up.content
    digest = up.json()["sha256"]
    assert digest == hashlib.sha256(photo).hexdigest()  # the uploader checks what arrived
    shown = {
        e["filename"]: e["sha256"] for e in api(w.consumer).get(f"cases/{case.number}").json()["evidence"]
    }
    assert shown["box.jpg"] is None and digest not in str(shown)
    assert {e["sha256"] for e in api(w.agent).get(f"cases/{case.number}").json()["evidence"]} >= {digest}


def test_the_case_page_shows_no_digest_to_the_parties(world):
    w = world
    case, evidence, _photo = _case_with_gps_photo(w)
    for who in (w.consumer, w.merchant):
        client = Client()
        client.force_login(who)
        page = client.get(f"/cases/{case.number}/").content.decode()
        assert evidence.blob.sha256 not in page and "/media/" not in page
