"""Category attribute templates: template validation, inheritance, cleaning, and the demo tree."""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketguard.catalog.attributes import (
    CATEGORY_TREE,
    FIELD_TYPES,
    ancestors,
    category_index,
    clean_attributes,
    dump_attributes,
    effective_template,
    leaf_codes,
    merge_templates,
    validate_template,
)


def field(key, type_="text", required=False, **extra):
    return {"key": key, "label_zh": key, "label_en": key, "type": type_, "required": required, **extra}


TEMPLATE = [
    field("fibre_composition", required=True, max_length=20),
    field("safety_class", "enum", True, choices=["A", "B", "C"]),
    field("formaldehyde", "decimal", min=0, max=300, unit="mg/kg"),
    field("shelf_life_days", "int", min=1, max=3650),
    field("production_date", "date"),
    field("nutrition_label", "bool"),
    field("sc_licence_no", pattern=r"^SC\d{14}$"),
]


# --- validate_template ------------------------------------------------------------------------------


def test_valid_template_is_returned_as_a_copy():
    out = validate_template(TEMPLATE)
    assert out == TEMPLATE
    out[1]["choices"].append("D")
    assert TEMPLATE[1]["choices"] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"template": "nope"}, "must be a list"),
        ([["key"]], "template entry 0: must be a dict"),
        ([{"label_zh": "x", "label_en": "x", "type": "text", "required": True}], "missing 'key'"),
        ([field("a"), field("b", "colour")], r"template entry 1 \('b'\): type must be one of"),
        ([field("a"), field("a")], "duplicate key 'a'"),
        ([field("Bad Key")], "lower_snake_case"),
        ([field("a", "enum")], "non-empty 'choices'"),
        ([field("a", "enum", choices=["A", "A"])], "choices must be unique"),
        ([field("a", choices=["A"])], "'choices' is not allowed for type 'text'"),
        ([field("a", "int", max_length=3)], "'max_length' is not allowed for type 'int'"),
        ([field("a", "int", min=5, max=1)], "min is greater than max"),
        ([field("a", "int", min=1.5)], "whole number"),
        ([field("a", "decimal", max="lots")], "max must be a finite number"),
        ([field("a", "decimal", max=True)], "max must be a finite number"),
        ([field("a", pattern="[")], "not a valid regular expression"),
        ([field("a", max_length=0)], "max_length must be a positive integer"),
        ([{**field("a"), "required": "yes"}], "required must be true or false"),
        ([{**field("a"), "colour": "red"}], "unknown spec keys 'colour'"),
        ([{**field("a"), "label_en": ""}], "label_en must be a non-empty string"),
    ],
)
def test_malformed_templates_name_the_bad_entry(bad, message):
    with pytest.raises(ValueError, match=message):
        validate_template(bad)


# --- merge_templates --------------------------------------------------------------------------------


def test_merge_keeps_parent_order_overrides_in_place_and_appends_new_fields():
    parent = [field("a"), field("b", "enum", choices=["A", "B", "C"]), field("c")]
    child = [field("d"), field("b", "enum", True, choices=["A"])]
    before = copy.deepcopy((parent, child))
    merged = merge_templates(parent, child)
    assert [f["key"] for f in merged] == ["a", "b", "c", "d"]
    assert merged[1]["choices"] == ["A"] and merged[1]["required"] is True
    assert (parent, child) == before  # inputs untouched


def test_merge_validates_both_sides():
    with pytest.raises(ValueError, match="duplicate key"):
        merge_templates([field("a")], [field("b"), field("b")])


# --- clean_attributes -------------------------------------------------------------------------------


def test_clean_converts_csv_strings_to_python_types():
    cleaned, errors = clean_attributes(
        TEMPLATE,
        {
            "fibre_composition": " 100%棉 ",
            "safety_class": "b",
            "formaldehyde": "12.50",
            "shelf_life_days": "180",
            "production_date": "2026-11-01",
            "nutrition_label": "是",
            "sc_licence_no": "SC10633010600123",
        },
    )
    assert errors == {}
    assert cleaned == {
        "fibre_composition": "100%棉",
        "safety_class": "B",
        "formaldehyde": Decimal("12.50"),
        "shelf_life_days": 180,
        "production_date": date(2026, 11, 1),
        "nutrition_label": True,
        "sc_licence_no": "SC10633010600123",
    }
    assert list(cleaned) == [f["key"] for f in TEMPLATE]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("False", False), ("1", True), ("0", False), ("是", True), ("否", False), ("yes", True),
     (True, True), (0, False)],
)  # fmt: skip
def test_bool_spellings(raw, expected):
    cleaned, errors = clean_attributes([field("x", "bool")], {"x": raw})
    assert errors == {} and cleaned == {"x": expected}


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"fibre_composition": ""}, "fibre_composition", "required"),
        ({"fibre_composition": "   "}, "fibre_composition", "required"),
        ({"fibre_composition": None}, "fibre_composition", "required"),
        ({"colour": "red"}, "colour", "unknown attribute"),
        ({"safety_class": "D"}, "safety_class", "not one of: A, B, C"),
        ({"formaldehyde": "300.01"}, "formaldehyde", "must be ≤ 300"),
        ({"formaldehyde": "-1"}, "formaldehyde", "must be ≥ 0"),
        ({"formaldehyde": "NaN"}, "formaldehyde", "must be a number"),
        ({"formaldehyde": "a lot"}, "formaldehyde", "must be a number"),
        ({"formaldehyde": True}, "formaldehyde", "must be a number"),
        ({"shelf_life_days": "12.5"}, "shelf_life_days", "must be a whole number"),
        ({"shelf_life_days": True}, "shelf_life_days", "must be a whole number"),
        ({"shelf_life_days": 0}, "shelf_life_days", "must be ≥ 1"),
        ({"shelf_life_days": "3651"}, "shelf_life_days", "must be ≤ 3650"),
        ({"production_date": "2026-13-01"}, "production_date", "must be a date (YYYY-MM-DD)"),
        ({"production_date": "yesterday"}, "production_date", "must be a date (YYYY-MM-DD)"),
        ({"nutrition_label": "maybe"}, "nutrition_label", "must be true or false"),
        ({"nutrition_label": 2}, "nutrition_label", "must be true or false"),
        ({"sc_licence_no": "SC1063301060012"}, "sc_licence_no", r"must match ^SC\d{14}$"),
        ({"fibre_composition": "x" * 21}, "fibre_composition", "at most 20 characters"),
        ({"fibre_composition": ["cotton"]}, "fibre_composition", "must be text"),
    ],
)
def test_errors_are_short_and_stable(values, key, message):
    base = {"fibre_composition": "100%棉", "safety_class": "A"}
    cleaned, errors = clean_attributes(TEMPLATE, {**base, **values})
    assert errors[key] == message
    assert key not in cleaned


def test_all_errors_are_reported_at_once():
    _cleaned, errors = clean_attributes(TEMPLATE, {"safety_class": "Z", "extra": 1, "shelf_life_days": "x"})
    assert set(errors) == {"fibre_composition", "safety_class", "extra", "shelf_life_days"}


def test_json_numbers_are_accepted():
    cleaned, errors = clean_attributes(TEMPLATE, {"fibre_composition": "棉", "safety_class": "A",
                                                  "formaldehyde": 7.5, "shelf_life_days": 30.0})  # fmt: skip
    assert errors == {}
    assert cleaned["formaldehyde"] == Decimal("7.5") and cleaned["shelf_life_days"] == 30


def test_values_must_be_a_dict():
    with pytest.raises(TypeError):
        clean_attributes(TEMPLATE, ["a"])
    assert clean_attributes([], None) == ({}, {})


def test_dump_attributes_is_json_safe():
    cleaned = {"d": Decimal("1.50"), "t": date(2026, 1, 2), "i": 3, "b": False, "s": "x"}
    assert dump_attributes(cleaned) == {"d": "1.50", "t": "2026-01-02", "i": 3, "b": False, "s": "x"}


def _value_strategy(spec):
    t = spec["type"]
    if t == "text":
        return st.text(
            alphabet="abc棉麻丝 %0123456789", min_size=1, max_size=spec.get("max_length", 30)
        ).filter(lambda s: s.strip() == s and s)
    if t == "int":
        return st.integers(int(spec.get("min", -(10**6))), int(spec.get("max", 10**6)))
    if t == "decimal":
        return st.decimals(
            min_value=Decimal(str(spec.get("min", -(10**6)))),
            max_value=Decimal(str(spec.get("max", 10**6))),
            places=2,
            allow_nan=False,
            allow_infinity=False,
        )
    if t == "enum":
        return st.sampled_from(spec["choices"])
    if t == "date":
        return st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1))
    return st.booleans()


ROUND_TRIP_TEMPLATE = [f for f in TEMPLATE if "pattern" not in f]


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({f["key"]: _value_strategy(f) for f in ROUND_TRIP_TEMPLATE}))
def test_clean_dump_clean_round_trips(values):
    cleaned, errors = clean_attributes(ROUND_TRIP_TEMPLATE, values)
    assert errors == {}
    assert cleaned == values
    dumped = dump_attributes(cleaned)
    # What goes into a JSON column comes back identical, and as CSV strings too.
    assert clean_attributes(ROUND_TRIP_TEMPLATE, dumped) == (cleaned, {})
    as_csv = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in dumped.items()}
    assert clean_attributes(ROUND_TRIP_TEMPLATE, as_csv) == (cleaned, {})


# --- the demo category tree -------------------------------------------------------------------------


def test_tree_shape():
    index = category_index()
    assert len(index) == len(CATEGORY_TREE), "codes are unique"
    assert 25 <= len(CATEGORY_TREE) <= 50
    seen = set()
    for node in CATEGORY_TREE:
        assert node["parent"] is None or node["parent"] in seen, f"{node['code']} comes after its parent"
        seen.add(node["code"])
        assert node["code"].startswith(node["parent"] or "C")
        assert len(ancestors(node["code"])) <= 3
        assert node["risk_level"] in ("low", "medium", "high")
        assert node["name_zh"] and node["name_en"]
        validate_template(node["template"])
    assert max(len(ancestors(c)) for c in index) == 3
    assert len(leaf_codes()) >= 20


def test_every_leaf_has_a_valid_effective_template():
    for code in leaf_codes():
        template = effective_template(code)
        assert validate_template(template) == template
        assert all(f["type"] in FIELD_TYPES for f in template)


def test_no_reason_return_cites_its_article():
    for node in CATEGORY_TREE:
        basis = node["no_reason_basis"]
        if node["no_reason_return"] == "excluded":
            assert re.search(r"art\. 6\(\d\)", basis), node["code"]
        elif node["no_reason_return"] == "confirm_at_purchase":
            assert re.search(r"art\. 7", basis), node["code"]
        else:
            assert node["no_reason_return"] == "eligible"
            assert "art." in basis


def _node(name_zh):
    return next(n for n in CATEGORY_TREE if n["name_zh"] == name_zh)


@pytest.mark.parametrize(
    ("name_zh", "rule"),
    [
        ("生鲜", "excluded"),
        ("水果", "excluded"),
        ("定制商品", "excluded"),
        ("软件", "excluded"),
        ("化妆品", "confirm_at_purchase"),
        ("内衣", "confirm_at_purchase"),
        ("预包装食品", "confirm_at_purchase"),
        ("移动电源", "eligible"),
        ("音像制品", "eligible"),  # only once unsealed (art. 6(3))
    ],
)
def test_seven_day_return_rules(name_zh, rule):
    assert _node(name_zh)["no_reason_return"] == rule


def _keys(code):
    return {f["key"]: f for f in effective_template(code)}


def test_textiles_carry_gb18401_fields_and_infant_wear_must_be_class_a():
    tee = _keys(_node("男士T恤")["code"])
    assert {"fibre_composition", "safety_class", "executive_standard"} <= {
        k for k, f in tee.items() if f["required"]
    }
    assert tee["safety_class"]["choices"] == ["A", "B", "C"]
    infant_code = _node("婴幼儿服装")["code"]
    infant = _keys(infant_code)
    assert infant["safety_class"]["choices"] == ["A"]
    assert infant["formaldehyde_mg_per_kg"]["max"] == 20
    assert infant["infant_label"]["required"]
    _cleaned, errors = clean_attributes(
        effective_template(infant_code),
        {"fibre_composition": "100%棉", "safety_class": "B", "executive_standard": "FZ/T 73025-2019",
         "infant_label": "婴幼儿用品", "formaldehyde_mg_per_kg": "35"},
    )  # fmt: skip
    assert errors == {"safety_class": "not one of: A", "formaldehyde_mg_per_kg": "must be ≤ 20"}


def test_prepackaged_food_requires_gb7718_fields():
    snacks = _keys(_node("休闲零食")["code"])
    required = {k for k, f in snacks.items() if f["required"]}
    assert {
        "ingredients", "net_content", "producer", "production_date", "shelf_life_days", "storage_conditions",
        "sc_licence_no", "product_standard_code",
    } <= required  # fmt: skip
    assert re.fullmatch(snacks["sc_licence_no"]["pattern"], "SC10633010600123")
    assert not re.fullmatch(snacks["sc_licence_no"]["pattern"], "QS3301 0601 2345")
    assert "GB 7718" in snacks["sc_licence_no"]["basis"]


def test_cosmetics_power_banks_toys_and_food_contact():
    skincare = _keys(_node("护肤品")["code"])
    assert {"cosmetic_registration_no", "ingredients", "period_of_use_months", "net_content"} <= set(skincare)
    sunscreen = _keys(_node("防晒")["code"])
    assert re.fullmatch(sunscreen["cosmetic_registration_no"]["pattern"], "国妆特字G20210123")
    assert _keys(_node("移动电源")["code"])["ccc_certificate_no"]["required"]
    assert _keys(_node("毛绒玩具")["code"])["ccc_certificate_no"]["required"]
    for name in ("奶瓶奶嘴", "锅具"):
        keys = _keys(_node(name)["code"])
        assert keys["material"]["required"] and keys["food_contact_standard"]["required"]
        assert re.fullmatch(keys["food_contact_standard"]["pattern"], "GB 4806.7-2023")


def test_effective_template_unknown_code():
    with pytest.raises(KeyError):
        effective_template("C99")
