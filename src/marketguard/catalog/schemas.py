"""In/out schemas of the catalog. The same *In schemas validate API bodies and import rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from ninja import Field, FilterLookup, FilterSchema, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints, WithJsonSchema

from marketguard.catalog import codes
from marketguard.catalog.attributes import validate_template
from marketguard.catalog.models import MerchantStatus, NoReasonReturn, OrderStatus, ProductStatus, RiskLevel
from marketguard.core.money import format_yuan, parse_yuan

ExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
]
LongExternalId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._:\-]+$")
]


def _yuan(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('give the amount in yuan as a string, e.g. "129.00"')
    return parse_yuan(value)


Yuan = Annotated[
    int,
    BeforeValidator(_yuan),
    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["129.00"]}),
]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


def _uscc(value: str) -> str:
    return codes.validate_uscc(value)


def _template(value: list) -> list:
    validate_template(value)
    return value


class InSchema(BaseModel):
    """Inputs are plain pydantic models (no ORM attribute access needed): fast for bulk imports."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- inputs (API bodies and import rows) ------------------------------------------------------


class MerchantFields(InSchema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    uscc: Annotated[str, AfterValidator(_uscc)] = Field(description="Unified Social Credit Code (GB 32100)")
    status: MerchantStatus = MerchantStatus.ACTIVE
    contact_phone: Annotated[str, StringConstraints(max_length=30)] = ""
    registered_at: AwareDatetime | None = None


class MerchantIn(MerchantFields):
    external_id: ExternalId


class StoreFields(InSchema):
    merchant_external_id: ExternalId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    #: None (the column left out): an address already on file is kept
    return_address: Annotated[str, StringConstraints(max_length=300)] | None = None


class StoreIn(StoreFields):
    external_id: ExternalId


class CategoryFields(InSchema):
    parent_external_id: ExternalId | None = None
    name_zh: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    name_en: Annotated[str, StringConstraints(max_length=100)] = ""
    risk_level: RiskLevel = RiskLevel.LOW
    attribute_template: Annotated[list[dict], AfterValidator(_template)] = []
    no_reason_return: NoReasonReturn = NoReasonReturn.ELIGIBLE


class CategoryIn(CategoryFields):
    external_id: ExternalId


class ProductFields(InSchema):
    store_external_id: ExternalId
    category_external_id: ExternalId
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    description: str = ""
    brand: Annotated[str, StringConstraints(max_length=100)] = ""
    attributes: dict[str, Any] = {}
    price: Yuan
    status: ProductStatus = ProductStatus.ACTIVE


class ProductIn(ProductFields):
    external_id: ExternalId


class BuyerFields(InSchema):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    phone: Annotated[str, StringConstraints(max_length=30, pattern=r"^[0-9+\- ]*$")] = ""
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")] = ""
    address: Annotated[str, StringConstraints(max_length=300)] = ""


class BuyerIn(BuyerFields):
    external_id: ExternalId


class OrderFields(InSchema):
    buyer_external_id: ExternalId
    store_external_id: ExternalId
    placed_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    payment_reference: Annotated[str, StringConstraints(max_length=64)] = ""
    paid_amount: Yuan
    status: OrderStatus = OrderStatus.PAID


class OrderIn(OrderFields):
    external_id: ExternalId


class OrderItemFields(InSchema):
    order_external_id: ExternalId
    product_external_id: ExternalId
    quantity: Annotated[int, Field(ge=1, le=100_000)]
    unit_price: Yuan
    paid_amount: Yuan
    no_reason_excluded_confirmed: bool = Field(
        False,
        description="the buyer confirmed at purchase that this item is not for 7-day no-reason return "
        "(only counts for categories excluded on confirmation, 暂行办法 art. 7)",
    )


class OrderItemIn(OrderItemFields):
    external_id: LongExternalId


class ShipmentFields(InSchema):
    order_external_id: ExternalId
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    tracking_number: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    shipped_at: AwareDatetime | None = None
    promised_at: AwareDatetime | None = None
    delivered_at: AwareDatetime | None = None
    signed_at: AwareDatetime | None = None
    item_external_ids: Annotated[list[LongExternalId], Field(max_length=200)] = Field(
        default_factory=list,
        description="the order items this parcel carried (an order sent in several parcels); empty: the whole order",
    )


class ShipmentIn(ShipmentFields):
    external_id: LongExternalId


# --- outputs ----------------------------------------------------------------------------------------


class RowErrorOut(Schema):
    row: int
    external_id: str
    field: str
    message: str


class UpsertOut(Schema):
    kind: str
    created: int
    updated: int
    failed: int
    errors: list[RowErrorOut]


class UpsertOneOut(Schema):
    external_id: str
    created: bool


class MerchantOut(Schema):
    external_id: str
    name: str
    uscc: str
    status: str
    contact_phone: str
    registered_at: datetime | None


class StoreOut(Schema):
    external_id: str
    merchant_external_id: str = Field(alias="merchant.external_id")
    name: str


class CategoryOut(Schema):
    external_id: str
    parent_external_id: str | None
    name_zh: str
    name_en: str
    depth: int
    risk_level: str
    no_reason_return: str
    attribute_template: list[dict]

    @staticmethod
    def resolve_parent_external_id(obj) -> str | None:
        return obj.parent.external_id if obj.parent_id else None


class ProductOut(Schema):
    external_id: str
    store_external_id: str = Field(alias="store.external_id")
    merchant_external_id: str = Field(alias="merchant.external_id")
    category_external_id: str = Field(alias="category.external_id")
    title: str
    description: str
    brand: str
    attributes: dict
    price: str
    status: str

    @staticmethod
    def resolve_price(obj) -> str:
        return format_yuan(obj.price_fen, symbol=False).replace(",", "")


class BuyerOut(Schema):
    external_id: str
    name: str
    phone: str
    email: str
    address: str


class OrderItemOut(Schema):
    external_id: str
    product_external_id: str = Field(alias="product.external_id")
    quantity: int
    unit_price: str
    paid_amount: str
    no_reason_excluded_confirmed: bool

    @staticmethod
    def resolve_unit_price(obj) -> str:
        return format_yuan(obj.unit_price_fen, symbol=False).replace(",", "")

    @staticmethod
    def resolve_paid_amount(obj) -> str:
        return format_yuan(obj.paid_amount_fen, symbol=False).replace(",", "")


class ShipmentOut(Schema):
    external_id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    promised_at: datetime | None
    delivered_at: datetime | None
    signed_at: datetime | None
    is_late: bool
    item_external_ids: list[str]


class OrderOut(Schema):
    external_id: str
    buyer_external_id: str = Field(alias="buyer.external_id")
    store_external_id: str = Field(alias="store.external_id")
    merchant_external_id: str = Field(alias="merchant.external_id")
    placed_at: datetime
    paid_at: datetime | None
    payment_reference: str
    paid_amount: str
    status: str

    @staticmethod
    def resolve_paid_amount(obj) -> str:
        return format_yuan(obj.paid_amount_fen, symbol=False).replace(",", "")


class OrderDetailOut(OrderOut):
    items: list[OrderItemOut]
    shipments: list[ShipmentOut]

    @staticmethod
    def resolve_items(obj):
        return list(obj.items.all())

    @staticmethod
    def resolve_shipments(obj):
        return list(obj.shipments.all())


# --- filters ------------------------------------------------------------------------------------------


class MerchantFilter(FilterSchema):
    q: Annotated[str | None, FilterLookup(["name__icontains", "external_id__iexact", "uscc__iexact"])] = None
    status: MerchantStatus | None = None


class ProductFilter(FilterSchema):
    q: Annotated[
        str | None, FilterLookup(["title__icontains", "brand__icontains", "external_id__iexact"])
    ] = None
    status: ProductStatus | None = None
    merchant: Annotated[str | None, FilterLookup("merchant__external_id")] = None
    category: str | None = Field(None, description="category code (includes its subtree)")

    def filter_category(self, value):
        from django.db.models import Q

        return Q(category__path__contains=f"/{value}/") if value else Q()


class OrderFilter(FilterSchema):
    merchant: Annotated[str | None, FilterLookup("merchant__external_id")] = None
    buyer: Annotated[str | None, FilterLookup("buyer__external_id")] = None
    status: OrderStatus | None = None
    placed_after: Annotated[datetime | None, FilterLookup("placed_at__gte")] = None
    placed_before: Annotated[datetime | None, FilterLookup("placed_at__lt")] = None
