"""What consumers and merchants read on the intake form and the case page, from a review of
those pages in both languages (findings turned into checks)."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from marketguard.complaints import services
from marketguard.complaints.models import Case, Evidence
from marketguard.core import languages
from marketguard.core.models import Role
from marketguard.core.testing import factories

from .test_services import _agreed_return, _file

pytestmark = pytest.mark.django_db


def _client(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _detail(case) -> str:
    return reverse("complaints:detail", args=[case.number])


def _refunded_return(w):
    """A return agreed, the goods back and the refund made: the case is resolved, to be rated."""
    case, remedy = _agreed_return(w)
    services.record_return_received(actor=w.merchant, number=case.number, remedy_id=remedy.pk)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF1"
    )
    case.refresh_from_db()
    return case


# --- the intake form -----------------------------------------------------------------------------


def test_a_refused_file_files_nothing_and_is_named_where_it_was_chosen(world):
    photo = SimpleUploadedFile("crack.png", _png(), content_type="image/png")
    program = SimpleUploadedFile(
        "bad.exe", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/octet-stream"
    )
    response = _client(world.consumer).post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "problem_type": "quality",
            "order": world.order.external_id,
            "description": "杯子有裂缝，漏水",
            "files_defect_photos": [photo],
            "files": [program],
        },
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert not Case.objects.exists() and not Evidence.objects.exists()  # nothing half-filed
    # said at the top, linked to the input of the refused file, and again beside it
    top = re.search(r'<p class="error" role="alert" id="form-error"[^>]*>(.*?)</p>', page, re.S)[1]
    assert 'href="#id_files"' in top and "bad.exe" in top
    assert page.count("bad.exe:") == 2
    assert 'data-testid="files-again"' in page


def test_good_files_are_filed_with_the_case(world):
    photo = SimpleUploadedFile("crack.png", _png(), content_type="image/png")
    response = _client(world.consumer).post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "order": world.order.external_id,
            "description": "杯子有裂缝",
            "files": [photo],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert [e.filename for e in case.evidence.all()] == ["crack.png"]


def test_any_refusal_is_summarised_at_the_top_with_a_link_to_its_field(world):
    response = _client(world.consumer, "zh-hans").post(
        reverse("complaints:new"),
        {
            "kind": "complaint",
            "order": world.order.external_id,
            "description": "质量差",
            "amount_claimed": "59.999",
        },
    )
    page = response.content.decode()
    assert response.status_code == 422
    top = re.search(r'id="form-error"[^>]*>(.*?)</p>', page, re.S)[1]
    assert 'href="#id_amount"' in top and "元" in top


def test_the_return_tracking_number_is_not_asked_when_filing(world):
    page = _client(world.consumer).get(reverse("complaints:new") + "?kind=return_refund").content.decode()
    slot = re.search(r'<li data-code="return_tracking".*?</li>', page, re.S)[0]
    assert "once the goods are sent back" in slot and "What happened" not in slot


# --- the case page ------------------------------------------------------------------------------


def test_the_consumer_reads_their_own_case_as_theirs(world):
    w = world
    case = _file(w).case
    mine = _client(w.consumer).get(_detail(case)).content.decode()
    assert "What you reported" in mine and "What the consumer reported" not in mine
    assert 'data-testid="consumer-language"' not in mine
    staff = _client(w.agent).get(_detail(case)).content.decode()
    assert "What the consumer reported" in staff and 'data-testid="consumer-language"' in staff


def test_the_category_is_named_in_the_page_language(world):
    w = world
    case = _file(w).case
    assert case.category is not None
    assert case.category.name_en in _client(w.consumer, "en").get(_detail(case)).content.decode()
    assert case.category.name_zh in _client(w.consumer, "zh-hans").get(_detail(case)).content.decode()


def test_once_a_remedy_is_agreed_the_consumer_is_asked_only_for_the_return_tracking(world):
    w = world
    case, _remedy = _agreed_return(w)
    mine = _client(w.consumer).get(_detail(case)).content.decode()
    notice = re.search(r'data-testid="materials-notice".*?</section>', mine, re.S)[0]
    assert re.findall(r'data-code="(\w+)"', notice) == ["return_tracking"]
    staff = _client(w.agent).get(_detail(case)).content.decode()
    notice = re.search(r'data-testid="materials-notice".*?</section>', staff, re.S)[0]
    assert len(re.findall(r'data-code="(\w+)"', notice)) > 1  # the record of what was asked


def test_when_intervention_opens_reads_as_a_wait_not_a_deadline(world):
    w = world
    case = _file(w).case
    page = _client(w.consumer, "zh-hans").get(_detail(case)).content.decode()
    cell = re.search(r'data-testid="intervention-from">(.*?)</dd>', page, re.S)[1]
    assert 'data-left-label="%s后"' in cell and "data-neutral" in cell and "剩余" not in cell


def test_a_late_platform_says_so_to_the_consumer(world):
    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        mine = _client(w.consumer).get(_detail(case)).content.decode()
        staff = _client(w.agent).get(_detail(case)).content.decode()
    assert 'data-testid="late-note"' in mine and "handled first" in mine
    assert 'data-testid="late-note"' not in staff  # staff see the clock's state badge instead


def test_a_refused_action_names_the_field_and_every_empty_one(world):
    w = world
    case, remedy = _agreed_return(w)
    case.refresh_from_db()
    response = _client(w.consumer).post(
        reverse("complaints:act", args=[case.number, "return-shipped"]),
        {"remedy_id": remedy.pk, "carrier": "", "tracking_number": "", "version": case.version},
    )
    page = response.content.decode()
    assert response.status_code == 422
    banner = re.search(r'data-testid="action-error">(.*?)</div>', page, re.S)[1]
    assert "Carrier: This field is required." in banner and "Reload" not in banner
    assert 'href="#err-return-shipped-carrier"' in banner
    assert 'id="err-return-shipped-carrier"' in page and 'id="err-return-shipped-tracking_number"' in page


def test_a_rating_without_stars_says_what_to_do(world):
    w = world
    case = _refunded_return(w)
    response = _client(w.consumer).post(
        reverse("complaints:act", args=[case.number, "rate"]), {"comment": "ok", "version": case.version}
    )
    assert response.status_code == 422 and "Give a score from 1 to 5." in response.content.decode()


def test_lists_are_joined_as_each_language_writes_them():
    with translation.override("zh-hans"):
        assert (
            languages.join_clauses(["已超过七天", "该类商品依法不适用"]) == "已超过七天；该类商品依法不适用"
        )
        assert languages.join_items(["照片", "视频"]) == "照片、视频"
    with translation.override("en"):
        assert languages.join_clauses(["a", "b"]) == "a; b" and languages.join_items(["a", "b"]) == "a, b"


def test_the_dashboard_says_why_a_ranking_is_empty(world):
    w = world
    _file(w)  # one case on an order of a product with a single order: too few to rank
    page = _client(w.merchant).get(reverse("complaints:dashboard")).content.decode()
    assert "smaller ones are not ranked" in page


def test_an_older_order_than_those_listed_can_be_chosen_or_typed(world):
    from marketguard.complaints.views import INTAKE_ORDERS

    w = world
    for _ in range(INTAKE_ORDERS):  # newer than the world's order, which drops off the list
        factories.order(buyer_obj=w.buyer, paid_fen=1_000)
    old = w.order
    old.placed_at = timezone.now() - timedelta(days=200)
    old.save(update_fields=["placed_at"])
    consumer = _client(w.consumer)
    form = consumer.get(reverse("complaints:new")).content.decode()
    assert f'value="{old.external_id}"' not in form and "type its number" in form
    # from the order's page (?order=): listed and chosen
    form = consumer.get(reverse("complaints:new") + f"?order={old.external_id}").content.decode()
    assert re.search(rf'<option data-paid="\d+" value="{old.external_id}" selected>', form)
    # typed
    response = consumer.post(
        reverse("complaints:new"),
        {"kind": "complaint", "order": "", "order_number": f" {old.external_id} ", "description": "杯子漏水"},
    )
    assert response.status_code == 302
    assert Case.objects.get().order == old


def test_a_cancelled_order_says_so_in_the_list(world):
    w = world
    cancelled = factories.order(buyer_obj=w.buyer, paid_fen=2_000)
    cancelled.status = "cancelled"
    cancelled.save(update_fields=["status"])
    form = _client(w.consumer).get(reverse("complaints:new")).content.decode()
    option = re.search(rf'<option[^>]* value="{cancelled.external_id}"[^>]*>([^<]*)</option>', form)[1]
    assert option.endswith("Cancelled")
    option = re.search(rf'<option[^>]* value="{w.order.external_id}"[^>]*>([^<]*)</option>', form)[1]
    assert "Cancelled" not in option and "Delivered" not in option


# --- after a decision ---------------------------------------------------------------------------


def test_the_consumer_is_alerted_to_a_proposal_and_opening_the_case_reads_its_alerts(world):
    from marketguard.complaints.models import Alert

    w = world
    case = _file(w).case
    services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="199.00")
    alert = Alert.objects.get(recipient=w.consumer, case=case, kind="proposal_received")
    assert alert.read_at is None
    other = Alert.objects.filter(recipient=w.merchant).count()
    _client(w.consumer).get(_detail(case))
    alert.refresh_from_db()
    assert alert.read_at is not None  # the page showed it
    assert Alert.objects.filter(recipient=w.merchant, read_at__isnull=True).count() == other  # not theirs


def test_accepting_and_rejecting_say_what_comes_next(world):
    w = world
    case = _file(w).case
    first = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="50.00")
    case.refresh_from_db()
    consumer = _client(w.consumer)
    page = consumer.get(_detail(case)).content.decode()
    assert "Accepting settles the case on this remedy" in page
    response = consumer.post(
        reverse("complaints:act", args=[case.number, "decide"]),
        {"proposal_id": first.pk, "decision": "reject", "version": case.version},
        follow=True,
    )
    assert "ask the platform to step in" in response.content.decode()
    second = services.make_proposal(actor=w.merchant, number=case.number, remedy="refund", amount="199.00")
    case.refresh_from_db()
    response = consumer.post(
        reverse("complaints:act", args=[case.number, "decide"]),
        {"proposal_id": second.pk, "decision": "accept", "version": case.version},
        follow=True,
    )
    assert "with what happens next and by when" in response.content.decode()


def test_withdrawing_says_it_is_final(world):
    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
    page = _client(w.consumer).get(_detail(case)).content.decode()
    assert 'data-testid="withdraw-final"' in page and "cannot be reopened" in page


def test_a_return_refunded_early_is_marked_and_keeps_its_return_leg(world):
    w = world
    case, remedy = _agreed_return(w)
    services.record_return_shipped(
        actor=w.consumer, number=case.number, remedy_id=remedy.pk, carrier="SF", tracking_number="SF777"
    )
    merchant = _client(w.merchant)
    page = merchant.get(_detail(case)).content.decode()
    assert 'data-testid="refund-before-goods"' in page
    # the arrival is the step to take: it is the primary button, the refund is not
    assert re.search(r'class="btn primary" data-testid="return-received"', page)
    assert re.search(r'class="btn" data-testid="execute-remedy"', page)
    services.execute_remedy(
        actor=w.merchant, number=case.number, remedy_id=remedy.pk, payment_reference="RF9"
    )
    page = merchant.get(_detail(case)).content.decode()
    assert "SF777" in re.search(r'data-testid="return-leg-done">(.*?)</dd>', page, re.S)[1]


def test_the_page_after_filing_says_what_happens_next_and_by_when(world):
    w = world
    case = _file(w).case  # after-sales: with the merchant
    page = _client(w.consumer).get(_detail(case) + "?filed=1").content.decode()
    steps = re.search(r'data-testid="next-steps">(.*?)</section>', page, re.S)[1]
    due = timezone.localtime(case.merchant_response_due).strftime("%Y-%m-%d %H:%M").replace("-", "\u2011")
    items = re.findall(r"<li>(.*?)</li>", steps, re.S)
    assert f"<li>The merchant answers by {due}.</li>" in steps  # a sentence; the date kept together
    assert all(i[:1].isupper() and i.endswith(".") for i in items), items
    zh = _client(w.consumer, "zh-hans").get(_detail(case) + "?filed=1").content.decode()
    zh_items = re.findall(
        r"<li>(.*?)</li>", re.search(r'data-testid="next-steps">(.*?)</section>', zh, re.S)[1]
    )
    assert zh_items and all(i.endswith("。") for i in zh_items), zh_items
    assert 'data-testid="next-steps"' not in _client(w.consumer).get(_detail(case)).content.decode()
    assert (
        'data-testid="next-steps"' not in _client(w.merchant).get(_detail(case) + "?filed=1").content.decode()
    )


# --- from a review of the change ------------------------------------------------------------------


def test_a_photo_cut_short_files_nothing(world):
    buf = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(buf, format="JPEG", quality=90)
    half = SimpleUploadedFile(
        "photo.jpg", buf.getvalue()[: len(buf.getvalue()) // 2], content_type="image/jpeg"
    )
    response = _client(world.consumer).post(
        reverse("complaints:new"),
        {
            "kind": "return_refund",
            "order": world.order.external_id,
            "description": "杯子裂了",
            "files": [half],
        },
    )
    assert response.status_code == 422 and "photo.jpg:" in response.content.decode()
    assert not Case.objects.exists()


def test_a_control_character_in_the_order_asked_for_is_no_error(world):
    consumer = _client(world.consumer)
    assert consumer.get(reverse("complaints:new") + "?order=A%00B").status_code == 200
    response = consumer.post(
        reverse("complaints:new"), {"kind": "complaint", "order_number": "A\x00B", "description": "质量差"}
    )
    assert response.status_code == 422 and not Case.objects.exists()


def test_a_typed_order_and_another_chosen_in_the_list_are_refused_naming_the_typed_one(world):
    w = world
    other = factories.order(buyer_obj=w.buyer, paid_fen=3_000)
    consumer = _client(w.consumer)
    response = consumer.post(
        reverse("complaints:new"),
        {
            "kind": "complaint",
            "order": other.external_id,
            "order_number": w.order.external_id,
            "description": "差",
        },
    )
    page = response.content.decode()
    assert response.status_code == 422 and 'href="#id_order_number"' in page and not Case.objects.exists()
    # the same order typed and chosen with its item: the list's item is kept
    item = w.order.items.get()
    response = consumer.post(
        reverse("complaints:new"),
        {
            "kind": "complaint",
            "order": f"{w.order.external_id}::{item.external_id}",
            "order_number": w.order.external_id,
            "description": "质量差",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get().order_item == item


def _as_typed_on_a_phone(external_id: str) -> str:
    """A number typed with a Chinese input method (full-width) and pasted with spaces."""
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in external_id)
    return " ".join([wide[:4], wide[4:]]) + "\u3000"


def test_an_order_number_typed_full_width_or_with_spaces_finds_the_order(world, api):
    w = world
    typed = _as_typed_on_a_phone(w.order.external_id)
    assert typed != w.order.external_id and w.order.external_id not in typed
    consumer = _client(w.consumer)
    response = consumer.post(
        reverse("complaints:new"), {"kind": "complaint", "order_number": typed, "description": "杯子漏水"}
    )
    assert response.status_code == 302 and Case.objects.get().order == w.order
    # typed and chosen in the list: the same order, not "two orders"
    item = w.order.items.get()
    response = consumer.post(
        reverse("complaints:new"),
        {
            "kind": "complaint",
            "order": f"{w.order.external_id}::{item.external_id}",
            "order_number": typed,
            "description": "盖子也坏了",
        },
    )
    assert response.status_code == 302 and Case.objects.latest("id").order_item == item
    # the API reads it the same way
    answer = api(w.consumer).post("cases", {"kind": "complaint", "order": typed, "description": "把手松了"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["case"]["order"] == w.order.external_id


def test_line_breaks_count_once_against_the_length_limit(world):
    from marketguard.complaints.services.common import MAX_TEXT

    text = "a" * (MAX_TEXT - 10) + "\r\n" * 9 + "b"  # what a browser counts as MAX_TEXT characters
    case = _file(world, kind="complaint", problem_type="other", description=text).case
    assert len(case.description) == MAX_TEXT and "\r" not in case.description


@pytest.mark.parametrize(
    "text, title",
    [
        ("Order no. 12345 never arrived", "Order no. 12345 never arrived"),
        ("I bought the U.S. version. It does not charge", "I bought the U.S. version"),
        ("收到的水杯有裂缝。质量问题", "收到的水杯有裂缝"),
    ],
)
def test_titles_are_not_cut_at_abbreviations(world, text, title):
    assert _file(world, kind="complaint", problem_type="other", description=text).case.title == title


def test_a_refused_comment_is_shown_at_its_field(world):
    w = world
    case = _refunded_return(w)
    response = _client(w.consumer).post(
        reverse("complaints:act", args=[case.number, "rate"]),
        {"score": "5", "comment": "好" * 2001, "version": case.version},
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert 'href="#err-rate-comment"' in page and 'id="err-rate-comment"' in page


# --- from the review of the staff and merchant pages ----------------------------------------------


def test_an_address_typed_in_the_description_is_masked_for_the_merchant(world):
    w = world
    case = _file(w, description="杯子有裂缝。我的电话13812345678，地址北京市朝阳区建国路88号").case
    page = _client(w.merchant).get(_detail(case)).content.decode()
    assert "建国路88号" not in page and "北京市朝阳区****" in page
    assert "建国路88号" in _client(w.agent).get(_detail(case)).content.decode()  # the platform sees it


def test_both_parties_are_alerted_when_the_platform_takes_the_case_and_rules(world):
    from marketguard.complaints.models import Alert

    from .test_case_rules import _ruled

    w = world
    case = _ruled(w)  # the merchant asked the platform to step in; it ruled a refund
    kinds = lambda user: set(Alert.objects.filter(recipient=user, case=case).values_list("kind", flat=True))  # noqa: E731
    assert {"sent_to_platform", "ruling_recorded"} <= kinds(w.consumer)
    assert "ruling_recorded" in kinds(w.merchant) and "sent_to_platform" not in kinds(w.merchant)  # it asked


def test_a_hand_over_names_every_missing_field_and_offers_only_other_agents(world):
    from marketguard.core.errors import InvalidInput

    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
    with pytest.raises(InvalidInput) as err:
        services.hand_over_case(actor=w.agent, number=case.number, to_username="", reason="")
    assert {e.field for e in err.value.errors} == {"to_username", "reason"}
    other = factories.user(Role.AGENT, display_name="王客服")
    page = _client(w.agent).get(_detail(case)).content.decode()
    options = re.search(r'<select id="handover-to".*?</select>', page, re.S)[0]
    assert "王客服" in options and f'value="{w.agent.username}"' not in options and other.username in options


def test_a_case_one_may_not_see_is_the_apps_own_not_found_page(world):
    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
    stranger = factories.user(Role.MERCHANT_STAFF, merchant_obj=factories.merchant())
    response = _client(stranger).get(_detail(case))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "URLconf" not in page


def test_a_paused_clock_says_what_is_left_not_a_moving_date(world):
    w = world
    case = _file(w, kind="complaint", problem_type="service_attitude", description="客服态度差").case
    services.request_materials(
        actor=w.agent, number=case.number, items=["problem_description"], reason="请补充"
    )
    page = _client(w.agent).get(_detail(case)).content.decode()
    paused = re.findall(r'data-testid="clock-paused">([^<]*)<', page)
    assert paused and all("left once it runs again" in p for p in paused)


def test_the_merchant_reads_its_own_wording(world):
    w = world
    case, _remedy = _agreed_return(w)
    page = _client(w.merchant).get(_detail(case)).content.decode()
    assert "The consumer sends it back by" in page and "<dt>Send back by</dt>" not in page
    assert 'id="evidence-material"' not in page  # the consumer's checklist is not the merchant's
    assert 'id="evidence-material"' in _client(w.consumer).get(_detail(case)).content.decode()


def test_the_proposal_form_starts_at_what_the_consumer_asked_for(world):
    w = world
    case = _file(w, kind="return_refund").case
    page = _client(w.merchant).get(_detail(case)).content.decode()
    select = re.search(r'<select id="propose-remedy".*?</select>', page, re.S)[0]
    assert re.search(r'<option value="return_refund" selected>', select)


# --- what the case page tells the consumer ------------------------------------------------------------


def test_a_case_the_text_made_a_safety_one_says_why_and_keeps_the_files_sent(world):
    """The consumer chose "quality" and sent a photo of the defect; the text speaks of a burn:
    the case is a safety one, the page says why, and the photo still shows as received."""
    photo = SimpleUploadedFile("crack.png", _png(), content_type="image/png")
    consumer = _client(world.consumer)
    response = consumer.post(
        reverse("complaints:new"),
        {
            "kind": "complaint",
            "problem_type": "quality",
            "order": world.order.external_id,
            "description": "杯子有裂缝，倒热水时漏出来把手烫伤了",
            "files_defect_photos": [photo],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.safety and "defect_photos" not in case.materials_notified
    page = consumer.get(f"/cases/{case.number}/").content.decode()
    banner = re.search(r'data-testid="safety-explained">(.*?)</div>', page, re.S)[1]
    assert "“烫伤”" in banner and "personal-safety problem" in banner
    received = re.search(r'<li class="done" data-code="defect_photos">(.*?)</li>', page, re.S)[1]
    assert "Clear photos of the defect" in received and "also received" in received
    assert page.count('data-testid="safety-badge"') == 1 and page.count(">Personal safety<") == 1
    # the agent sees the triage reasons, not the consumer's banner
    assert (
        'data-testid="safety-explained"'
        not in _client(world.agent).get(f"/cases/{case.number}/").content.decode()
    )


def test_an_item_told_in_words_is_ticked_by_the_message_that_answers_it(world, api):
    case = _file(world, kind="complaint", description="充电时起火了，桌面被烧黑", amount_claimed=None).case
    assert "product_retained" in case.materials_notified
    consumer = _client(world.consumer)
    page = consumer.get(f"/cases/{case.number}/").content.decode()
    assert re.search(r'<li class="" data-code="product_retained">', page)
    assert re.search(r'<li class="done" data-code="incident_description">', page)  # the description tells it
    choices = re.search(r'id="message-material"[^>]*>(.*?)</select>', page, re.S)[1]
    assert '<option value="product_retained">' in choices and '<option value="hazard_photos">' not in choices
    # answered without reloading the page: the list and the choice follow
    response = consumer.post(
        f"/cases/{case.number}/message/",
        {"body": "商品我已保留，没有丢弃", "material_code": "product_retained", "version": case.version},
        HTTP_HX_REQUEST="true",
    )
    fragment = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<li class="done" data-code="product_retained">', fragment)
    assert 'id="message-material-box" hx-swap-oob="true"' in fragment
    assert '<option value="product_retained">' not in fragment
    # the API says the same of the list
    seen = api(world.consumer).get(f"cases/{case.number}").json()
    assert {"product_retained", "incident_description"} <= set(seen["materials_provided"])
    assert "hazard_photos" in seen["materials_notified"] and "hazard_photos" not in seen["materials_provided"]
    # only the consumer answers the list, and only with an item told in words
    case.refresh_from_db()
    merchant = api(world.merchant).post(
        f"cases/{case.number}/messages", {"body": "已保留", "material_code": "product_retained"}
    )
    assert merchant.status_code in (403, 404)
    photo_item = api(world.consumer).post(
        f"cases/{case.number}/messages", {"body": "见照片", "material_code": "hazard_photos"}
    )
    assert photo_item.status_code == 422 and photo_item.json()["errors"][0]["field"] == "material_code"
    # nor an item of another list, nor what comes later with the return
    for code in ("exchange_preference", "return_tracking"):
        other = api(world.consumer).post(
            f"cases/{case.number}/messages", {"body": "……", "material_code": code}
        )
        assert other.status_code == 422, code


def test_rejecting_the_merchants_offer_tells_the_consumer_what_can_follow(world):
    case = _file(world, amount_claimed=None).case
    offer = services.make_proposal(actor=world.merchant, number=case.number, remedy="refund", amount="50.00")
    consumer = _client(world.consumer)
    page = consumer.get(f"/cases/{case.number}/").content.decode()
    assert "If you reject it, the merchant may offer something else" in page
    case.refresh_from_db()
    done = consumer.post(
        f"/cases/{case.number}/decide/",
        {"proposal_id": offer.pk, "decision": "reject", "version": case.version},
        follow=True,
    )
    text = done.content.decode()
    assert (
        "the merchant is told and may offer something else" in text and "Propose something else" not in text
    )


def test_chinese_pages_use_chinese_punctuation_after_a_label(world):
    case = _file(world, amount_claimed="19.00").case
    page = _client(world.consumer, "zh-hans").get(f"/cases/{case.number}/").content.decode()
    assert "诉求金额：¥19.00" in page and "诉求金额: " not in page


def test_after_a_late_ruling_the_consumer_reads_what_happens_now(world):
    """Past our resolution deadline, but ruled: the consumer is told by when the merchant must
    carry the ruling out, not only that we are late."""
    from .test_domain_conformance import _escalated

    w = world
    start = timezone.now()
    case, _asked = _escalated(w, at=start)
    ruled_at = start + timedelta(days=10)
    with time_machine.travel(ruled_at, tick=False):
        services.start_review(actor=w.arbitrator, number=case.number)
        services.record_ruling(
            actor=w.arbitrator,
            number=case.number,
            outcome="consumer_upheld",
            reasons="商家未回应",
            remedy="refund",
            amount="10.00",
        )
    case.refresh_from_db()
    with time_machine.travel(ruled_at + timedelta(hours=1), tick=False):
        mine = _client(w.consumer).get(_detail(case)).content.decode()
    note = re.search(r'data-testid="late-note">(.*?)</p>', mine, re.S)[1]
    due = timezone.localtime(case.execution_due).strftime("%Y-%m-%d %H:%M")
    assert case.status == "executing" and "handled first" not in note
    assert f"the merchant must carry it out by {due}" in note
    with time_machine.travel(case.execution_due + timedelta(hours=1), tick=False):  # and once it has passed
        mine = _client(w.consumer).get(_detail(case)).content.decode()
    note = re.search(r'data-testid="late-note">(.*?)</p>', mine, re.S)[1]
    assert "the merchant is late carrying out what was settled" in note and due not in note


def test_the_consumer_reads_their_own_details_whole_and_the_merchant_masked(world):
    w = world
    case = _file(w, amount_claimed=None).case
    phone = w.buyer.phone
    assert phone and len(phone) >= 7
    mine = _client(w.consumer).get(_detail(case)).content.decode()
    cell = re.search(r'data-testid="buyer">(.*?)</dd>', mine, re.S)[1]
    assert phone in cell
    theirs = _client(w.merchant).get(_detail(case)).content.decode()
    cell = re.search(r'data-testid="buyer">(.*?)</dd>', theirs, re.S)[1]
    assert phone not in cell and "****" in cell
