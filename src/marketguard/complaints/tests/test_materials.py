"""一次性告知: the material checklist per problem type and kind (pure)."""

import json

import pytest

from marketguard.complaints.materials import ACCEPTS, BY_KIND, BY_PROBLEM_TYPE, Item, checklist, missing
from marketguard.complaints.triage import KINDS, PROBLEM_TYPES


def codes(items):
    return [i.code for i in items]


def required(items):
    return [i.code for i in items if i.required]


def test_quality_asks_for_defect_and_packaging_photos_video_optional():
    items = checklist("quality", "return_refund")
    assert required(items) == ["problem_description", "defect_photos", "product_packaging_photos"]
    video = next(i for i in items if i.code == "function_video")
    assert video.required is False and video.accepts == ("video",)
    assert "return_tracking" in codes(items)


def test_safety_asks_for_medical_record_only_as_optional():
    items = checklist("safety", "compensation")
    assert "medical_record" in codes(items)
    assert next(i for i in items if i.code == "medical_record").required is False
    assert {"hazard_photos", "incident_description", "loss_proof", "compensation_claim"} <= set(
        required(items)
    )


def test_specific_lists():
    assert {"label_serial_photos", "packaging_photos"} <= set(required(checklist("counterfeit")))
    assert "authentication_report" in codes(
        checklist("counterfeit")
    ) and "authentication_report" not in required(checklist("counterfeit"))
    assert {"received_items_photos", "shipping_label_photo"} <= set(
        required(checklist("wrong_or_missing_item"))
    )
    assert "unboxing_video" in codes(checklist("wrong_or_missing_item"))
    assert "size_tag_photos" in required(checklist("size_mismatch", "exchange"))
    assert "exchange_preference" in required(checklist("size_mismatch", "exchange"))
    assert required(checklist("no_reason_return_7day", "return_refund")) == [
        "problem_description",
        "goods_intact_photos",
    ]


def test_logistics_delay_needs_nothing_beyond_the_description():
    items = checklist("logistics_delay", "refund_only")
    assert required(items) == ["problem_description"]
    assert missing(items, {"problem_description"}) == []


def test_missing_lists_required_items_not_provided_in_order():
    items = checklist("quality", "repair")
    assert codes(missing(items, {"defect_photos"})) == [
        "problem_description",
        "product_packaging_photos",
        "fault_description",
    ]
    assert codes(missing(items, codes(items))) == []
    optional = missing(items, set(required(items)), include_optional=True)
    assert codes(optional) == ["function_video", "test_report", "purchase_proof"]


@pytest.mark.parametrize("problem_type", sorted(PROBLEM_TYPES))
@pytest.mark.parametrize("kind", [None, *sorted(KINDS)])
def test_every_combination_is_bilingual_and_unique(problem_type, kind):
    items = checklist(problem_type, kind)
    assert items[0].code == "problem_description"
    assert len(codes(items)) == len(set(codes(items)))
    for item in items:
        assert item.label_zh and item.label_en and set(item.accepts) <= ACCEPTS
        assert Item.from_dict(json.loads(json.dumps(item.to_dict(), ensure_ascii=False))) == item


def test_tables_cover_the_vocabulary():
    assert set(BY_PROBLEM_TYPE) == PROBLEM_TYPES
    assert set(BY_KIND) == KINDS


def test_label_by_language():
    item = checklist("quality")[1]
    assert item.label("zh-hans") == item.label_zh
    assert item.label("en") == item.label_en


def test_bad_input():
    with pytest.raises(ValueError, match="problem_type"):
        checklist("broken")
    with pytest.raises(ValueError, match="kind"):
        checklist("quality", "refund")
    with pytest.raises(ValueError, match="accepts"):
        Item("x", "甲", "x", True, ("audio",))
    with pytest.raises(ValueError, match="code"):
        Item("Bad Code", "甲", "x", True, ("text",))
