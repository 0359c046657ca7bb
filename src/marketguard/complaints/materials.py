"""一次性告知: the materials a consumer must (and may) provide, told once and completely.

A pure module (no Django import). The checklist depends on the problem type (what must be shown)
and on the kind of request (what the remedy needs). Every item carries a stable ``code`` (the
evidence upload is tagged with it), Chinese and English labels, whether it is required, and the
file kinds it accepts (``image``, ``video``, ``pdf``, ``text``).

``required`` means: the case cannot be decided without it, so an agent asks for it in the one
request for materials. Optional items strengthen the case (an unboxing video, a test report) and
are listed in the same message so the consumer is never asked twice.

The tables are data (:data:`BY_PROBLEM_TYPE`, :data:`BY_KIND`, :data:`COMMON`), meant to become
admin-editable rows; :func:`checklist` merges them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from marketguard.complaints.triage import KINDS, PROBLEM_TYPES

__all__ = [
    "ACCEPTS",
    "BY_KIND",
    "BY_PROBLEM_TYPE",
    "COMMON",
    "Item",
    "catalogue",
    "checklist",
    "missing",
]

ACCEPTS: frozenset[str] = frozenset({"image", "video", "pdf", "text"})


@dataclass(frozen=True)
class Item:
    code: str
    label_zh: str
    label_en: str
    required: bool
    accepts: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.code or not self.code.replace("_", "").isalnum() or self.code != self.code.lower():
            raise ValueError(f"code: expected lower_snake_case, got {self.code!r}")
        if not self.label_zh or not self.label_en:
            raise ValueError(f"{self.code}: both labels are required")
        accepts = tuple(self.accepts)
        if not accepts or not set(accepts) <= ACCEPTS:
            raise ValueError(f"{self.code}.accepts: expected a non-empty subset of {sorted(ACCEPTS)}")
        object.__setattr__(self, "accepts", accepts)

    def label(self, language: str) -> str:
        return self.label_zh if language.lower().startswith("zh") else self.label_en

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "required": self.required,
            "accepts": list(self.accepts),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> Item:
        return cls(
            code=data["code"],
            label_zh=data["label_zh"],
            label_en=data["label_en"],
            required=bool(data["required"]),
            accepts=tuple(data["accepts"]),
        )


def _i(code: str, zh: str, en: str, required: bool, *accepts: str) -> Item:
    return Item(code, zh, en, required, accepts)


# fmt: off
#: Asked for every case.
COMMON: tuple[Item, ...] = (
    _i("problem_description", "问题描述（发生了什么、何时发现）", "Description of the problem (what happened, when you noticed it)", True, "text"),
)

#: Per problem type, in the order they are shown.
BY_PROBLEM_TYPE: dict[str, tuple[Item, ...]] = {
    "quality": (
        _i("defect_photos", "清晰展示问题部位的照片", "Clear photos of the defect", True, "image"),
        _i("product_packaging_photos", "商品整体及外包装照片", "Photos of the whole product and its packaging", True, "image"),
        _i("function_video", "如为功能故障，请提供演示故障的视频", "If it does not work: a video showing the fault", False, "video"),
        _i("test_report", "检测报告（如有）", "Test report (if you have one)", False, "pdf", "image"),
    ),
    "safety": (
        _i("hazard_photos", "危险部位或事故现场的照片或视频", "Photos or video of the hazard or the incident", True, "image", "video"),
        _i("incident_description", "事发经过（时间、使用方式、后果）", "What happened (when, how the product was used, the outcome)", True, "text"),
        _i("medical_record", "如有人受伤：就医记录或诊断证明", "If someone was hurt: medical record or diagnosis", False, "pdf", "image"),
        _i("product_retained", "请保留问题商品，勿丢弃或自行维修（请确认）", "Keep the product; do not throw it away or repair it (please confirm)", True, "text"),
    ),
    "counterfeit": (
        _i("label_serial_photos", "商标、吊牌、序列号/防伪码的照片", "Photos of the brand label, tags and serial number / anti-counterfeit code", True, "image"),
        _i("packaging_photos", "包装及防伪标识照片", "Photos of the packaging and its security marks", True, "image"),
        _i("authentication_report", "品牌方或鉴定机构出具的鉴定报告（如有）", "Authentication report from the brand or a testing body (if you have one)", False, "pdf", "image"),
        _i("verification_screenshot", "官方渠道查询结果截图（如有）", "Screenshot of the official verification result (if any)", False, "image"),
    ),
    "false_advertising": (
        _i("listing_screenshot", "商品详情页或宣传内容的截图", "Screenshot of the product page or advertising claim", True, "image", "pdf"),
        _i("actual_item_photos", "实物与宣传不符之处的照片", "Photos showing how the item differs from the claim", True, "image"),
        _i("measurement_or_test", "测量或检测结果（如有）", "Measurement or test result (if any)", False, "image", "pdf"),
    ),
    "wrong_or_missing_item": (
        _i("received_items_photos", "收到的全部商品及配件照片", "Photos of everything you received", True, "image"),
        _i("shipping_label_photo", "快递面单照片", "Photo of the shipping label", True, "image"),
        _i("unboxing_video", "开箱视频（如有，最有力的证据）", "Unboxing video (if you have one: the strongest evidence)", False, "video"),
        _i("package_weight", "包裹重量（如有称重）", "Parcel weight (if you weighed it)", False, "text", "image"),
    ),
    "size_mismatch": (
        _i("size_tag_photos", "尺码标签照片", "Photos of the size tag", True, "image"),
        _i("measurement_photos", "平铺测量照片（带尺子）", "Photos of the item laid flat with a tape measure", True, "image"),
        _i("size_chart_screenshot", "下单时页面尺码表截图（如有）", "Screenshot of the size chart at purchase (if any)", False, "image"),
    ),
    "no_reason_return_7day": (
        _i("goods_intact_photos", "商品完好照片（吊牌、配件、包装齐全）", "Photos showing the goods intact (tags, accessories, packaging)", True, "image"),
    ),
    "logistics_delay": (
        _i("tracking_screenshot", "物流信息截图（如有）", "Screenshot of the tracking page (if any)", False, "image"),
    ),
    "service_attitude": (
        _i("chat_screenshots", "聊天记录截图", "Screenshots of the conversation", True, "image", "text"),
        _i("call_details", "通话时间及号码（如为电话沟通）", "Time and number of the call (if it was by phone)", False, "text"),
    ),
    "other": (
        _i("supporting_files", "相关照片或文件（如有）", "Related photos or files (if any)", False, "image", "pdf", "video"),
    ),
}

#: Per kind of request: what the remedy needs, added after the problem-type items.
#: Items the consumer gives later in the case, not when filing (the return's tracking number,
#: once a return is agreed and the goods are sent).
LATER: frozenset[str] = frozenset({"return_tracking"})

BY_KIND: dict[str, tuple[Item, ...]] = {
    "complaint": (),
    "refund_only": (),
    "return_refund": (
        _i("return_tracking", "退货快递单号（寄回后填写）", "Return tracking number (after you send it back)", False, "text"),
    ),
    "exchange": (
        _i("exchange_preference", "希望换的款式、颜色或尺码", "The model, colour or size you want instead", True, "text"),
    ),
    "repair": (
        _i("fault_description", "故障现象及出现频率", "What the fault looks like and how often it happens", True, "text"),
        _i("purchase_proof", "保修凭证或购买凭证（如订单不在本平台）", "Warranty card or proof of purchase (if not ordered here)", False, "image", "pdf"),
    ),
    "compensation": (
        _i("loss_proof", "损失证明（费用票据、维修单、医疗费用等）", "Proof of the loss (receipts, repair bills, medical costs)", True, "image", "pdf"),
        _i("compensation_claim", "要求赔偿的金额及依据", "The amount you claim and why", True, "text"),
    ),
}
# fmt: on


def _validate_tables() -> None:
    if set(BY_PROBLEM_TYPE) != PROBLEM_TYPES:
        raise ValueError(f"BY_PROBLEM_TYPE: missing {sorted(PROBLEM_TYPES - set(BY_PROBLEM_TYPE))}")
    if set(BY_KIND) != KINDS:
        raise ValueError(f"BY_KIND: missing {sorted(KINDS - set(BY_KIND))}")


_validate_tables()


def checklist(problem_type: str, kind: str | None = None) -> list[Item]:
    """The complete list to tell the consumer at once: common items, then the problem type's,
    then the kind's. A code appears once; if two tables list it, the first wins except that
    ``required`` is true when any of them requires it."""
    if problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type: expected one of {sorted(PROBLEM_TYPES)}, got {problem_type!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind: expected one of {sorted(KINDS)}, got {kind!r}")
    merged: dict[str, Item] = {}
    for item in (*COMMON, *BY_PROBLEM_TYPE[problem_type], *(BY_KIND[kind] if kind else ())):
        seen = merged.get(item.code)
        if seen is None:
            merged[item.code] = item
        elif item.required and not seen.required:
            merged[item.code] = Item(seen.code, seen.label_zh, seen.label_en, True, seen.accepts)
    return list(merged.values())


def catalogue(problem_type: str | None = None, kind: str | None = None) -> dict[str, Item]:
    """Every item any table knows, by code (what an upload may be tagged with, what an agent may
    ask for); with a problem type, the items of its checklist as that checklist has them."""
    known = {
        item.code: item for table in (COMMON, *BY_PROBLEM_TYPE.values(), *BY_KIND.values()) for item in table
    }
    if problem_type is not None:
        known.update({item.code: item for item in checklist(problem_type, kind)})
    return known


def missing(
    items: Iterable[Item], provided_codes: Iterable[str], *, include_optional: bool = False
) -> list[Item]:
    """Items of ``items`` not yet provided: the required ones (and the optional ones too with
    ``include_optional``), in checklist order."""
    provided = set(provided_codes)
    return [item for item in items if item.code not in provided and (item.required or include_optional)]
