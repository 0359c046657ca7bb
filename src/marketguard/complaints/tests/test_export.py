"""The case file: one ZIP with the case, every record of it, the evidence files with their
SHA-256 and the audit entries that anyone can check; only case handlers export, and each export
is audited."""

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client
from PIL import Image

from marketguard.complaints import services
from marketguard.core import audit
from marketguard.core.errors import PermissionDenied
from marketguard.core.models import AuditEntry, Role
from marketguard.core.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def case_world():
    consumer = factories.user(Role.CONSUMER)
    order = factories.order(buyer_obj=factories.buyer(user=consumer), paid_fen=12_900)
    merchant = factories.user(Role.MERCHANT_STAFF, merchant_obj=order.merchant)
    agent = factories.user(Role.AGENT)
    arbitrator = factories.user(Role.ARBITRATOR)
    case = services.submit_case(
        actor=consumer,
        channel="web",
        kind="return_refund",
        order_external_id=order.external_id,
        description="杯子有裂缝，漏水",
        amount_claimed="129.00",
    ).case
    photo = _png()
    services.add_evidence(actor=consumer, number=case.number, filename="裂缝 1.png", data=photo)
    services.post_message(actor=agent, number=case.number, body="内部：商家以前也有类似问题", internal=True)
    proposal = services.make_proposal(actor=merchant, number=case.number, remedy="refund", amount="30.00")
    services.decide_proposal(actor=consumer, number=case.number, proposal_id=proposal.pk, accept=False)
    services.request_intervention(actor=consumer, number=case.number, reason="只退 30 元不合理")
    services.post_message(actor=merchant, number=case.number, body="商家陈述：裂缝为使用不当所致")
    services.start_review(actor=arbitrator, number=case.number)
    services.record_ruling(
        actor=arbitrator,
        number=case.number,
        outcome="consumer_upheld",
        reasons="照片可见裂缝",
        remedy="refund",
        amount="129.00",
    )
    return {
        "case": case,
        "photo": photo,
        "consumer": consumer,
        "merchant": merchant,
        "agent": agent,
        "arbitrator": arbitrator,
    }


def test_the_case_file_holds_everything_and_can_be_checked_without_us(case_world):
    w = case_world
    name, data = services.export_case(actor=w["arbitrator"], number=w["case"].number)
    assert name == f"{w['case'].number}.zip"
    zf = zipfile.ZipFile(data)
    names = set(zf.namelist())
    assert {"README.txt", "case.json", "audit.jsonl", "evidence/SHA256SUMS"} <= names
    record = json.loads(zf.read("case.json"))
    assert record["case"]["number"] == w["case"].number and record["order"] == w["case"].order.external_id
    assert any(m["internal"] and "商家以前也有类似问题" in m["body"] for m in record["messages"])
    assert [p["status"] for p in record["proposals"]] == ["rejected"]
    assert record["rulings"][0]["reasons"] == "照片可见裂缝" and record["remedies"][0]["amount_fen"] == 12_900
    assert {e["type"] for e in record["events"]} >= {"case_submitted", "ruling_recorded"}
    # the evidence as uploaded, with a checksum file sha256sum -c understands
    [item] = record["evidence"]
    assert item["path"].startswith("evidence/") and item["path"].endswith("1.png")
    assert zf.read(item["path"]) == w["photo"]
    sums = zf.read("evidence/SHA256SUMS").decode()
    assert sums == f"{hashlib.sha256(w['photo']).hexdigest()}  {item['path'].removeprefix('evidence/')}\n"
    # every audit entry checks out from its payload and the digest before it
    lines = [json.loads(line) for line in zf.read("audit.jsonl").decode().splitlines()]
    assert len(lines) >= 5
    for line in lines:
        assert audit.entry_digest(line["prev_digest"], line["payload"]) == line["digest"]
        assert AuditEntry.objects.get(seq=line["payload"]["seq"]).digest == line["digest"]
    assert lines[-1]["payload"]["action"] == "case_exported"
    assert lines[-1]["payload"]["actor_label"] == w["arbitrator"].username


@pytest.mark.parametrize("who", ["consumer", "merchant"])
def test_parties_do_not_export_the_case_file(case_world, who):
    with pytest.raises(PermissionDenied):
        services.export_case(actor=case_world[who], number=case_world["case"].number)
    assert not AuditEntry.objects.filter(action="case_exported").exists()


def test_download_from_the_case_page_and_the_api(case_world, api):
    w = case_world
    number = w["case"].number
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(w["agent"])
    page = client.get(f"/cases/{number}/").content.decode()
    assert f'href="/cases/{number}/export.zip"' in page
    response = client.get(f"/cases/{number}/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f'filename="{number}.zip"' in response["Content-Disposition"]
    assert "case.json" in zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    consumer = Client(HTTP_ACCEPT_LANGUAGE="en")
    consumer.force_login(w["consumer"])
    assert "export.zip" not in consumer.get(f"/cases/{number}/").content.decode()
    assert consumer.get(f"/cases/{number}/export.zip").status_code == 403
    analyst = Client()
    analyst.force_login(factories.user(Role.ANALYST))
    assert analyst.get(f"/cases/{number}/export.zip").status_code == 403
    via_api = api(w["agent"]).get(f"cases/{number}/export")
    assert via_api.status_code == 200 and via_api["Content-Type"] == "application/zip"
    assert api(w["merchant"]).get(f"cases/{number}/export").status_code == 403
    assert AuditEntry.objects.filter(action="case_exported").count() == 2
