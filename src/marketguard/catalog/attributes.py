"""Category attribute templates (data) and their validator.

Pure module: no Django import.

A template is a list of field specs::

    {"key": "fibre_composition", "label_zh": "纤维成分", "label_en": "Fibre composition",
     "type": "text", "required": True, "max_length": 200, "basis": "GB/T 29862-2013"}

type is one of text, int, decimal, enum, date, bool. Optional spec keys: choices (enum only, required
there), unit and min / max (int and decimal), max_length and pattern (text), basis (the rule the field
comes from, shown next to a finding), help_zh / help_en.

A category's own template holds only the fields it adds or overrides; the effective template of a
category is its ancestors' templates merged from the root down (`merge_templates`,
`effective_template`). A child's field replaces the parent's field with the same key in place.

`clean_attributes` turns raw values (strings from a CSV, JSON values from the API) into Python values
and returns short, stable English error messages per key; `dump_attributes` turns cleaned values back
into JSON-safe values for storage (Decimal -> str, date -> ISO string).

`CATEGORY_TREE` is the demo marketplace's category tree (used by the demo generator and a data
migration). Each node says whether its goods may be returned within 7 days without a reason and cites
the article (网络购买商品七日无理由退货暂行办法 art. 6: excluded; art. 7: excluded only if the consumer
confirmed at purchase; otherwise Consumer Rights Protection Law art. 25).
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

__all__ = [
    "FIELD_TYPES",
    "validate_template",
    "merge_templates",
    "clean_attributes",
    "dump_attributes",
    "CATEGORY_TREE",
    "category_index",
    "ancestors",
    "effective_template",
    "leaf_codes",
]

FIELD_TYPES = ("text", "int", "decimal", "enum", "date", "bool")
_REQUIRED_SPEC_KEYS = ("key", "label_zh", "label_en", "type", "required")
_OPTIONAL_SPEC_KEYS = {
    "choices": ("enum",),
    "unit": ("int", "decimal"),
    "min": ("int", "decimal"),
    "max": ("int", "decimal"),
    "max_length": ("text",),
    "pattern": ("text",),
    "basis": FIELD_TYPES,
    "help_zh": FIELD_TYPES,
    "help_en": FIELD_TYPES,
}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


# ---------------------------------------------------------------------------------------------------
# Template validation and merging
# ---------------------------------------------------------------------------------------------------


def _as_number(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float | str):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def validate_template(template) -> list[dict]:
    """Check a template's shape; return a deep copy. Raise ValueError naming the bad entry."""
    if not isinstance(template, list):
        raise ValueError(f"template must be a list of field specs, got {type(template).__name__}")
    seen: set[str] = set()
    out = []
    for index, spec in enumerate(template):
        where = f"template entry {index}"
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: must be a dict, got {type(spec).__name__}")
        key = spec.get("key")
        if isinstance(key, str):
            where = f"template entry {index} ({key!r})"
        for name in _REQUIRED_SPEC_KEYS:
            if name not in spec:
                raise ValueError(f"{where}: missing {name!r}")
        unknown = sorted(set(spec) - set(_REQUIRED_SPEC_KEYS) - set(_OPTIONAL_SPEC_KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown spec keys {', '.join(map(repr, unknown))}")
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ValueError(f"{where}: key must be lower_snake_case ascii, got {key!r}")
        if key in seen:
            raise ValueError(f"{where}: duplicate key {key!r}")
        seen.add(key)
        for label in ("label_zh", "label_en"):
            if not isinstance(spec[label], str) or not spec[label].strip():
                raise ValueError(f"{where}: {label} must be a non-empty string")
        ftype = spec["type"]
        if ftype not in FIELD_TYPES:
            raise ValueError(f"{where}: type must be one of {', '.join(FIELD_TYPES)}, got {ftype!r}")
        if not isinstance(spec["required"], bool):
            raise ValueError(f"{where}: required must be true or false")
        for name, types in _OPTIONAL_SPEC_KEYS.items():
            if name in spec and ftype not in types:
                raise ValueError(f"{where}: {name!r} is not allowed for type {ftype!r}")
        if ftype == "enum":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise ValueError(f"{where}: enum needs a non-empty 'choices' list")
            if not all(isinstance(c, str) and c.strip() for c in choices):
                raise ValueError(f"{where}: choices must be non-empty strings")
            if len(set(choices)) != len(choices):
                raise ValueError(f"{where}: choices must be unique")
        bounds = {}
        for name in ("min", "max"):
            if name in spec:
                number = _as_number(spec[name])
                if number is None:
                    raise ValueError(f"{where}: {name} must be a finite number, got {spec[name]!r}")
                if ftype == "int" and number != number.to_integral_value():
                    raise ValueError(f"{where}: {name} of an int field must be a whole number")
                bounds[name] = number
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            raise ValueError(f"{where}: min is greater than max")
        if "max_length" in spec:
            ml = spec["max_length"]
            if isinstance(ml, bool) or not isinstance(ml, int) or ml < 1:
                raise ValueError(f"{where}: max_length must be a positive integer")
        if "pattern" in spec:
            if not isinstance(spec["pattern"], str):
                raise ValueError(f"{where}: pattern must be a string")
            try:
                re.compile(spec["pattern"])
            except re.error as exc:
                raise ValueError(f"{where}: pattern is not a valid regular expression ({exc})") from None
        for name in ("unit", "basis", "help_zh", "help_en"):
            if name in spec and not isinstance(spec[name], str):
                raise ValueError(f"{where}: {name} must be a string")
        out.append(copy.deepcopy(spec))
    return out


def merge_templates(parent_template, child_template) -> list[dict]:
    """Parent's fields in order, each replaced by the child's field with the same key; then the
    child's new fields in order. Both inputs are validated; the result is a new list."""
    parent = validate_template(parent_template)
    child = validate_template(child_template)
    overrides = {spec["key"]: spec for spec in child}
    merged = [overrides.pop(spec["key"], spec) for spec in parent]
    merged.extend(spec for spec in child if spec["key"] in overrides)
    return merged


# ---------------------------------------------------------------------------------------------------
# Cleaning values
# ---------------------------------------------------------------------------------------------------

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "是", "有", "真"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "否", "无", "假"})
_INT_RE = re.compile(r"^[+-]?\d+$")


class _Invalid(Exception):
    pass


def _fmt_number(number: Decimal) -> str:
    return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")


def _check_bounds(spec: dict, number) -> None:
    if "min" in spec and number < _as_number(spec["min"]):
        raise _Invalid(f"must be ≥ {_fmt_number(_as_number(spec['min']))}")
    if "max" in spec and number > _as_number(spec["max"]):
        raise _Invalid(f"must be ≤ {_fmt_number(_as_number(spec['max']))}")


def _clean_text(spec: dict, raw):
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise _Invalid("must be text")
    text = str(raw).strip()
    if "max_length" in spec and len(text) > spec["max_length"]:
        raise _Invalid(f"at most {spec['max_length']} characters")
    if "pattern" in spec and not re.fullmatch(spec["pattern"], text):
        raise _Invalid(f"must match {spec['pattern']}")
    return text


def _clean_int(spec: dict, raw):
    if isinstance(raw, bool):
        raise _Invalid("must be a whole number")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _INT_RE.match(raw.strip()):
        value = int(raw.strip())
    elif isinstance(raw, float | Decimal) and _as_number(raw) is not None and raw == int(raw):
        value = int(raw)
    else:
        raise _Invalid("must be a whole number")
    _check_bounds(spec, value)
    return value


def _clean_decimal(spec: dict, raw):
    number = _as_number(raw.strip().replace(",", "") if isinstance(raw, str) else raw)
    if number is None:
        raise _Invalid("must be a number")
    _check_bounds(spec, number)
    return number


def _clean_enum(spec: dict, raw):
    if not isinstance(raw, str):
        raise _Invalid("not one of: " + ", ".join(spec["choices"]))
    text = raw.strip()
    if text in spec["choices"]:
        return text
    folded = [c for c in spec["choices"] if c.casefold() == text.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise _Invalid("not one of: " + ", ".join(spec["choices"]))


def _clean_date(spec: dict, raw):
    if isinstance(raw, datetime):
        raise _Invalid("must be a date (YYYY-MM-DD)")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise _Invalid("must be a date (YYYY-MM-DD)")


def _clean_bool(spec: dict, raw):
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Invalid("must be true or false")


_CLEANERS = {
    "text": _clean_text,
    "int": _clean_int,
    "decimal": _clean_decimal,
    "enum": _clean_enum,
    "date": _clean_date,
    "bool": _clean_bool,
}


def _is_missing(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def clean_attributes(template, values) -> tuple[dict, dict[str, str]]:
    """Clean `values` against `template` (assumed valid: see validate_template).

    Returns (cleaned, errors). `cleaned` holds typed values (str, int, Decimal, date, bool) in template
    order for every present, valid field; empty strings and None count as missing. `errors` maps each
    bad key to a short stable message: "required", "unknown attribute", "not one of: A, B, C",
    "must be ≤ 300", "must be ≥ 0", "must be a whole number", "must be a number", "must be a date
    (YYYY-MM-DD)", "must be true or false", "must be text", "at most N characters", "must match <regex>".
    """
    values = values or {}
    if not isinstance(values, dict):
        raise TypeError(f"attribute values must be a dict, not {type(values).__name__}")
    known = {spec["key"] for spec in template}
    cleaned: dict = {}
    errors: dict[str, str] = {}
    for key in values:
        if key not in known:
            errors[str(key)] = "unknown attribute"
    for spec in template:
        key = spec["key"]
        raw = values.get(key)
        if _is_missing(raw):
            if spec["required"]:
                errors[key] = "required"
            continue
        try:
            cleaned[key] = _CLEANERS[spec["type"]](spec, raw)
        except _Invalid as exc:
            errors[key] = str(exc)
    return cleaned, errors


def dump_attributes(cleaned: dict) -> dict:
    """JSON-safe form of cleaned values: Decimal -> str, date -> ISO string; others unchanged."""
    out = {}
    for key, value in cleaned.items():
        if isinstance(value, Decimal):
            out[key] = format(value, "f")
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------------
# Field specs reused across the tree
# ---------------------------------------------------------------------------------------------------


def _f(key, label_zh, label_en, type_, required, **extra) -> dict:
    return {
        "key": key,
        "label_zh": label_zh,
        "label_en": label_en,
        "type": type_,
        "required": required,
        **extra,
    }


_NET_CONTENT_RE = (
    r"^\d+(\.\d+)?\s*(g|kg|mg|mL|ml|L|克|千克|毫升|升)(\s*[×xX*]\s*\d+\s*(袋|包|瓶|罐|盒|支|片|粒|个)?)?$"
)

GTIN = _f(
    "gtin",
    "商品条码",
    "Barcode (GTIN)",
    "text",
    False,
    pattern=r"^(\d{8}|\d{12,14})$",
    basis="GS1 General Specifications; 商品条码管理办法",
)
EXECUTIVE_STANDARD = _f(
    "executive_standard",
    "执行标准",
    "Executive standard",
    "text",
    True,
    max_length=100,
    basis="产品质量法 art. 27; GB 5296.1-2012",
)

TEXTILE = [
    _f(
        "fibre_composition",
        "纤维成分及含量",
        "Fibre composition",
        "text",
        True,
        max_length=200,
        basis="GB/T 29862-2013; GB 5296.4-2012",
    ),
    _f(
        "safety_class",
        "安全技术类别",
        "Safety class",
        "enum",
        True,
        choices=["A", "B", "C"],
        basis="GB 18401-2010 (A: infants, B: skin contact, C: no skin contact)",
    ),
    {**EXECUTIVE_STANDARD, "basis": "GB 5296.4-2012"},
    _f(
        "formaldehyde_mg_per_kg",
        "甲醛含量",
        "Formaldehyde content",
        "decimal",
        False,
        unit="mg/kg",
        min=0,
        max=300,
        basis="GB 18401-2010 (A ≤ 20, B ≤ 75, C ≤ 300 mg/kg)",
    ),
    _f("size", "号型规格", "Size", "text", False, max_length=50, basis="GB/T 1335"),
    _f(
        "care_instructions",
        "洗涤方法",
        "Care instructions",
        "text",
        False,
        max_length=200,
        basis="GB/T 8685-2008",
    ),
]

PREPACKAGED_FOOD = [
    _f("ingredients", "配料表", "Ingredient list", "text", True, max_length=1000, basis="GB 7718-2011 4.1.3"),
    _f(
        "net_content",
        "净含量和规格",
        "Net content",
        "text",
        True,
        max_length=50,
        pattern=_NET_CONTENT_RE,
        basis="GB 7718-2011 4.1.5",
    ),
    _f("producer", "生产者名称", "Producer", "text", True, max_length=200, basis="GB 7718-2011 4.1.6"),
    _f(
        "producer_address",
        "生产者地址",
        "Producer address",
        "text",
        True,
        max_length=300,
        basis="GB 7718-2011 4.1.6",
    ),
    _f(
        "producer_contact",
        "联系方式",
        "Producer contact",
        "text",
        True,
        max_length=50,
        basis="GB 7718-2011 4.1.6",
    ),
    _f("production_date", "生产日期", "Production date", "date", True, basis="GB 7718-2011 4.1.7"),
    _f(
        "shelf_life_days",
        "保质期",
        "Shelf life",
        "int",
        True,
        unit="天/days",
        min=1,
        max=3650,
        basis="GB 7718-2011 4.1.7",
    ),
    _f(
        "storage_conditions",
        "贮存条件",
        "Storage conditions",
        "text",
        True,
        max_length=200,
        basis="GB 7718-2011 4.1.8",
    ),
    _f(
        "sc_licence_no",
        "食品生产许可证编号",
        "Food production licence (SC)",
        "text",
        True,
        pattern=r"^SC\d{14}$",
        basis="GB 7718-2011 4.1.9; 食品生产许可管理办法",
    ),
    _f(
        "product_standard_code",
        "产品标准代号",
        "Product standard code",
        "text",
        True,
        max_length=100,
        basis="GB 7718-2011 4.1.10",
    ),
    _f("nutrition_label", "营养成分表", "Nutrition label", "bool", False, basis="GB 28050-2011"),
]

FRESH_FOOD = [
    _f("origin", "产地", "Origin", "text", True, max_length=100, basis="农产品质量安全法"),
    _f(
        "net_content",
        "净含量",
        "Net weight",
        "text",
        True,
        max_length=50,
        pattern=_NET_CONTENT_RE,
        basis="定量包装商品计量监督管理办法",
    ),
    _f(
        "storage_conditions",
        "贮存条件",
        "Storage conditions",
        "text",
        True,
        max_length=200,
        basis="农产品质量安全法",
    ),
    _f(
        "shelf_life_days",
        "保鲜期",
        "Keeps for",
        "int",
        True,
        unit="天/days",
        min=1,
        max=365,
        basis="农产品质量安全法",
    ),
]

COSMETIC = [
    _f(
        "cosmetic_registration_no",
        "注册证编号/备案编号",
        "Registration or filing number",
        "text",
        True,
        max_length=60,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "registrant",
        "注册人/备案人",
        "Registrant or filer",
        "text",
        True,
        max_length=200,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "manufacturer",
        "生产企业",
        "Manufacturer",
        "text",
        True,
        max_length=200,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "manufacturer_licence_no",
        "生产许可证编号",
        "Production licence number",
        "text",
        True,
        pattern=r"^[\u4e00-\u9fff]妆\d{8}$",
        basis="化妆品标签管理办法 (2021) art. 6; 化妆品生产经营监督管理办法",
    ),
    {**EXECUTIVE_STANDARD, "basis": "化妆品标签管理办法 (2021) art. 6"},
    _f(
        "ingredients",
        "全成分",
        "Full ingredient list",
        "text",
        True,
        max_length=2000,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "net_content",
        "净含量",
        "Net content",
        "text",
        True,
        max_length=50,
        pattern=_NET_CONTENT_RE,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "period_of_use_months",
        "使用期限",
        "Period of use",
        "int",
        True,
        unit="月/months",
        min=1,
        max=120,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
    _f(
        "safety_warnings",
        "安全警示用语",
        "Safety warnings",
        "text",
        False,
        max_length=300,
        basis="化妆品标签管理办法 (2021) art. 6",
    ),
]

FOOD_CONTACT = [
    _f("material", "材质", "Material", "text", True, max_length=100, basis="GB 4806.1-2016"),
    _f(
        "food_contact_standard",
        "食品接触材料标准",
        "Food-contact standard",
        "text",
        True,
        pattern=r"^GB 4806\.\d{1,2}(-\d{4})?$",
        basis="GB 4806.1-2016",
    ),
    _f(
        "food_contact_label",
        "“食品接触用”标识",
        "'For food contact' label",
        "bool",
        False,
        basis="GB 4806.1-2016",
    ),
]

CCC = _f(
    "ccc_certificate_no",
    "CCC证书编号",
    "CCC certificate number",
    "text",
    True,
    pattern=r"^\d{16}$",
    basis="强制性产品认证管理规定; 强制性产品认证目录",
)

TOY = [
    CCC,
    _f(
        "age_grade",
        "适用年龄",
        "Age grade",
        "text",
        True,
        max_length=50,
        basis="GB 6675.1-2014 (警示与年龄标识)",
    ),
    {**EXECUTIVE_STANDARD, "basis": "GB 6675.1-2014"},
    _f("warning", "警示语", "Warning", "text", False, max_length=200, basis="GB 6675.1-2014; GB 5296.5-2006"),
]

CUSTOM = [
    _f(
        "customization_spec",
        "定制内容",
        "Customisation",
        "text",
        True,
        max_length=500,
        basis="七日无理由退货暂行办法 art. 6(1)",
    ),
    _f("production_days", "制作周期", "Production time", "int", True, unit="天/days", min=1, max=60),
]

# 7-day no-reason return: the three answers and the article they rest on.
_ELIGIBLE = ("eligible", "消费者权益保护法 art. 25: returnable within 7 days of receipt without a reason")
_ELIGIBLE_SEALED = (
    "eligible",
    "七日无理由退货暂行办法 art. 6(3): excluded once unsealed by the consumer; sealed goods are returnable",
)
_EX_CUSTOM = ("excluded", "七日无理由退货暂行办法 art. 6(1): made to the consumer's order")
_EX_PERISHABLE = ("excluded", "七日无理由退货暂行办法 art. 6(2): fresh and perishable goods")
_EX_DIGITAL = ("excluded", "七日无理由退货暂行办法 art. 6(3): digital goods downloaded online or unsealed")
_CONFIRM_HEALTH = (
    "confirm_at_purchase",
    "七日无理由退货暂行办法 art. 7(1): once unsealed may affect health or quality; excluded only if the "
    "consumer confirmed at purchase",
)


def _node(code, parent, name_zh, name_en, risk_level, no_reason, template=()) -> dict:
    return {
        "code": code,
        "parent": parent,
        "name_zh": name_zh,
        "name_en": name_en,
        "risk_level": risk_level,
        "no_reason_return": no_reason[0],
        "no_reason_basis": no_reason[1],
        "template": copy.deepcopy(list(template)),
    }


def _override(field: dict, **changes) -> dict:
    return {**copy.deepcopy(field), **changes}


_SAFETY_CLASS = TEXTILE[1]
_FORMALDEHYDE = TEXTILE[3]

#: The demo marketplace's category tree, parents before children. A node's template holds only
#: the fields it adds or overrides; use `effective_template(code)` for the merged template.
CATEGORY_TREE: list[dict] = [
    # 服装鞋帽 --------------------------------------------------------------------------------------
    _node("C01", None, "服装鞋帽", "Clothing, shoes & hats", "medium", _ELIGIBLE, [GTIN]),
    _node("C0101", "C01", "男装", "Menswear", "medium", _ELIGIBLE, TEXTILE),
    _node("C010101", "C0101", "男士T恤", "Men's T-shirts", "medium", _ELIGIBLE),
    _node("C0102", "C01", "女装", "Womenswear", "medium", _ELIGIBLE, TEXTILE),
    _node("C010201", "C0102", "连衣裙", "Dresses", "medium", _ELIGIBLE),
    _node("C010202", "C0102", "内衣", "Underwear", "medium", _CONFIRM_HEALTH),
    _node(
        "C0103",
        "C01",
        "童装",
        "Children's wear",
        "high",
        _ELIGIBLE,
        merge_templates(
            TEXTILE,
            [
                _override(
                    _SAFETY_CLASS,
                    basis="GB 31701-2015 (children 3–14 in skin contact: at least B); GB 18401-2010",
                ),
                _f(
                    "cord_safety",
                    "绳带安全",
                    "Cords and drawstrings comply",
                    "bool",
                    False,
                    basis="GB 31701-2015",
                ),
            ],
        ),
    ),
    _node("C010301", "C0103", "儿童上衣", "Kids' tops", "high", _ELIGIBLE),
    _node(
        "C010302",
        "C0103",
        "婴幼儿服装",
        "Infant wear (≤ 36 months)",
        "high",
        _ELIGIBLE,
        [
            _override(
                _SAFETY_CLASS,
                choices=["A"],
                basis="GB 31701-2015; GB 18401-2010: infant products must be class A",
            ),
            _override(_FORMALDEHYDE, max=20, basis="GB 18401-2010 class A: ≤ 20 mg/kg"),
            _f(
                "infant_label",
                "婴幼儿用品标识",
                "Infant product label",
                "enum",
                True,
                choices=["婴幼儿用品"],
                basis="GB 31701-2015; GB 18401-2010",
            ),
        ],
    ),
    _node(
        "C0104",
        "C01",
        "鞋靴",
        "Footwear",
        "low",
        _ELIGIBLE,
        [
            _f(
                "upper_material",
                "帮面材质",
                "Upper material",
                "text",
                True,
                max_length=100,
                basis="QB/T 2673-2013",
            ),
            _f(
                "sole_material",
                "鞋底材质",
                "Sole material",
                "text",
                True,
                max_length=100,
                basis="QB/T 2673-2013",
            ),
            {**EXECUTIVE_STANDARD, "basis": "QB/T 2673-2013"},
            _f("size", "鞋码", "Shoe size", "text", False, max_length=20, basis="GB/T 3293.1-1998"),
        ],
    ),
    # 食品 ------------------------------------------------------------------------------------------
    _node("C02", None, "食品", "Food", "high", _CONFIRM_HEALTH, [GTIN]),
    _node("C0201", "C02", "预包装食品", "Prepackaged food", "high", _CONFIRM_HEALTH, PREPACKAGED_FOOD),
    _node("C020101", "C0201", "休闲零食", "Snacks", "high", _CONFIRM_HEALTH),
    _node(
        "C020102",
        "C0201",
        "保健食品",
        "Health food",
        "high",
        _CONFIRM_HEALTH,
        [
            _f(
                "health_food_approval",
                "保健食品注册号/备案号",
                "Health food registration or filing number",
                "text",
                True,
                max_length=40,
                basis="保健食品注册与备案管理办法",
            ),
            _f(
                "warning_statement",
                "警示用语",
                "Warning statement",
                "enum",
                True,
                choices=["本品不能代替药物"],
                basis="广告法 art. 18",
            ),
        ],
    ),
    _node("C0202", "C02", "生鲜", "Fresh food", "high", _EX_PERISHABLE, FRESH_FOOD),
    _node(
        "C020201",
        "C0202",
        "水果",
        "Fruit",
        "high",
        _EX_PERISHABLE,
        [
            _f("variety", "品种", "Variety", "text", False, max_length=50),
        ],
    ),
    _node(
        "C020202",
        "C0202",
        "肉禽蛋品",
        "Meat, poultry & eggs",
        "high",
        _EX_PERISHABLE,
        [
            _f(
                "quarantine_certificate_no",
                "动物检疫合格证明编号",
                "Animal quarantine certificate number",
                "text",
                True,
                max_length=40,
                basis="动物防疫法; 动物检疫管理办法",
            ),
        ],
    ),
    # 美妆个护 --------------------------------------------------------------------------------------
    _node("C03", None, "美妆个护", "Beauty & personal care", "high", _CONFIRM_HEALTH, [GTIN]),
    _node("C0301", "C03", "化妆品", "Cosmetics", "high", _CONFIRM_HEALTH, COSMETIC),
    _node("C030101", "C0301", "护肤品", "Skincare", "high", _CONFIRM_HEALTH),
    _node(
        "C030102",
        "C0301",
        "防晒",
        "Sunscreen (special cosmetic)",
        "high",
        _CONFIRM_HEALTH,
        [
            _override(
                COSMETIC[0],
                label_zh="特殊化妆品注册证编号",
                label_en="Special cosmetic registration number",
                pattern=r"^国妆特(进)?字[GJ]\d{8,10}$",
                basis="化妆品监督管理条例 art. 16: sunscreens are special cosmetics and must be registered",
            ),
            _f("spf", "SPF值", "SPF", "int", True, min=2, max=50, basis="化妆品安全技术规范 (2015)"),
            _f(
                "pa",
                "PA等级",
                "PA grade",
                "enum",
                False,
                choices=["PA+", "PA++", "PA+++", "PA++++"],
                basis="化妆品安全技术规范 (2015)",
            ),
        ],
    ),
    # 母婴用品 --------------------------------------------------------------------------------------
    _node("C04", None, "母婴用品", "Mother & baby", "high", _ELIGIBLE, [GTIN]),
    _node("C0401", "C04", "喂养用品", "Feeding", "high", _CONFIRM_HEALTH, FOOD_CONTACT),
    _node(
        "C040101",
        "C0401",
        "奶瓶奶嘴",
        "Baby bottles & teats",
        "high",
        _CONFIRM_HEALTH,
        [
            _f(
                "capacity_ml",
                "容量",
                "Capacity",
                "int",
                True,
                unit="mL",
                min=30,
                max=500,
                basis="GB 4806.1-2016",
            ),
            _f("bpa_free", "不含双酚A", "BPA-free", "bool", False, basis="卫生部公告2011年第15号"),
        ],
    ),
    _node("C040102", "C0401", "儿童餐具", "Children's tableware", "high", _CONFIRM_HEALTH),
    _node(
        "C0402",
        "C04",
        "婴儿推车",
        "Baby strollers",
        "high",
        _ELIGIBLE,
        [
            CCC,
            {**EXECUTIVE_STANDARD, "basis": "GB 14748-2006"},
            _f(
                "max_load_kg",
                "最大承重",
                "Maximum load",
                "decimal",
                True,
                unit="kg",
                min=1,
                max=50,
                basis="GB 14748-2006",
            ),
        ],
    ),
    # 数码电子 --------------------------------------------------------------------------------------
    _node("C05", None, "数码电子", "Digital & electronics", "medium", _ELIGIBLE, [GTIN]),
    _node("C0501", "C05", "手机配件", "Phone accessories", "medium", _ELIGIBLE),
    _node(
        "C050101",
        "C0501",
        "移动电源",
        "Power banks",
        "high",
        _ELIGIBLE,
        [
            _override(CCC, basis="强制性产品认证目录: power banks require CCC since 2024-08-01"),
            {**EXECUTIVE_STANDARD, "basis": "GB 4943.1-2022; GB 31241-2022"},
            _f(
                "capacity_mah",
                "额定容量",
                "Rated capacity",
                "int",
                True,
                unit="mAh",
                min=1000,
                max=50000,
                basis="GB/T 35590-2017",
            ),
            _f(
                "rated_energy_wh",
                "额定能量",
                "Rated energy",
                "decimal",
                True,
                unit="Wh",
                min=1,
                max=160,
                basis="GB 31241-2022; 民航局 power bank rules (≤ 100 Wh carry-on)",
            ),
            _f(
                "battery_type",
                "电芯类型",
                "Cell type",
                "enum",
                True,
                choices=["锂离子", "锂聚合物"],
                basis="GB 31241-2022",
            ),
        ],
    ),
    _node(
        "C050102",
        "C0501",
        "充电器",
        "Chargers",
        "high",
        _ELIGIBLE,
        [
            CCC,
            {**EXECUTIVE_STANDARD, "basis": "GB 4943.1-2022"},
            _f("output_power_w", "最大输出功率", "Maximum output", "int", True, unit="W", min=1, max=240),
        ],
    ),
    _node(
        "C0502",
        "C05",
        "耳机",
        "Headphones",
        "medium",
        _ELIGIBLE,
        [
            _f("wireless", "无线", "Wireless", "bool", True),
            _f(
                "cmiit_id",
                "无线电发射设备型号核准代码",
                "CMIIT ID",
                "text",
                False,
                pattern=r"^\d{4}[A-Z]{2}\d{4}$",
                basis="无线电管理条例",
            ),
        ],
    ),
    # 家居厨具 --------------------------------------------------------------------------------------
    _node("C06", None, "家居厨具", "Home & kitchen", "medium", _ELIGIBLE, [GTIN]),
    _node("C0601", "C06", "厨具", "Cookware", "high", _ELIGIBLE, FOOD_CONTACT),
    _node(
        "C060101",
        "C0601",
        "锅具",
        "Pots & pans",
        "high",
        _ELIGIBLE,
        [
            _f("diameter_cm", "口径", "Diameter", "int", False, unit="cm", min=8, max=60),
        ],
    ),
    _node("C0602", "C06", "床品套件", "Bedding sets", "medium", _ELIGIBLE, TEXTILE),
    # 玩具 ------------------------------------------------------------------------------------------
    _node("C07", None, "玩具", "Toys", "high", _ELIGIBLE, [GTIN, *TOY]),
    _node("C0701", "C07", "塑胶玩具", "Plastic toys", "high", _ELIGIBLE),
    _node(
        "C0702",
        "C07",
        "毛绒玩具",
        "Plush toys",
        "high",
        _ELIGIBLE,
        [
            _f("filling_material", "填充物", "Filling", "text", True, max_length=100, basis="GB 6675.1-2014"),
        ],
    ),
    # 图书音像 --------------------------------------------------------------------------------------
    _node("C08", None, "图书音像", "Books & media", "low", _ELIGIBLE),
    _node(
        "C0801",
        "C08",
        "图书",
        "Books",
        "low",
        _ELIGIBLE,
        [
            _f("isbn", "ISBN", "ISBN", "text", True, pattern=r"^97[89]\d{10}$", basis="GB/T 5795-2006"),
            _f("publisher", "出版社", "Publisher", "text", True, max_length=100, basis="出版管理条例"),
            _f("publication_date", "出版日期", "Publication date", "date", False),
        ],
    ),
    _node(
        "C0802",
        "C08",
        "音像制品",
        "Music & video",
        "low",
        _ELIGIBLE_SEALED,
        [
            _f("medium", "载体", "Medium", "enum", True, choices=["CD", "黑胶", "DVD", "蓝光"]),
            _f("publisher", "出版单位", "Publisher", "text", True, max_length=100, basis="音像制品管理条例"),
        ],
    ),
    _node(
        "C0803",
        "C08",
        "软件",
        "Software",
        "low",
        _EX_DIGITAL,
        [
            _f("delivery", "交付方式", "Delivery", "enum", True, choices=["激活码", "在线下载", "光盘"]),
            _f("publisher", "发行商", "Publisher", "text", True, max_length=100),
            _f("platform", "适用平台", "Platform", "text", False, max_length=50),
        ],
    ),
    # 定制商品 --------------------------------------------------------------------------------------
    _node("C09", None, "定制商品", "Made to order", "low", _EX_CUSTOM, CUSTOM),
    _node("C0901", "C09", "定制服饰", "Custom apparel", "medium", _EX_CUSTOM, TEXTILE),
    _node(
        "C0902",
        "C09",
        "刻字礼品",
        "Engraved gifts",
        "low",
        _EX_CUSTOM,
        [
            _f("material", "材质", "Material", "text", True, max_length=100),
        ],
    ),
]


def category_index(tree: list[dict] | None = None) -> dict[str, dict]:
    """code -> node."""
    return {node["code"]: node for node in (CATEGORY_TREE if tree is None else tree)}


def ancestors(code: str, tree: list[dict] | None = None) -> list[dict]:
    """Nodes from the root down to `code` (inclusive). KeyError for an unknown code."""
    index = category_index(tree)
    chain = []
    node = index[code]
    while node is not None:
        chain.append(node)
        if len(chain) > len(index):
            raise ValueError(f"category tree has a cycle at {code!r}")
        node = index[node["parent"]] if node["parent"] else None
    return chain[::-1]


def effective_template(code: str, tree: list[dict] | None = None) -> list[dict]:
    """The merged template of a category: its ancestors' templates merged from the root down."""
    merged: list[dict] = []
    for node in ancestors(code, tree):
        merged = merge_templates(merged, node["template"])
    return merged


def leaf_codes(tree: list[dict] | None = None) -> list[str]:
    """Codes of categories without children, in tree order."""
    nodes = CATEGORY_TREE if tree is None else tree
    parents = {node["parent"] for node in nodes}
    return [node["code"] for node in nodes if node["code"] not in parents]
