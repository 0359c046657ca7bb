"""Catalog use cases: upsert what the marketplace feeds in (API, bulk, files), and reads with ownership."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from marketguard.catalog import codes, fileio, ingest
from marketguard.catalog.models import Buyer, Category, Merchant, Order, Product, Shipment, Store
from marketguard.core.errors import InvalidInput, NotFound
from marketguard.core.models import Role
from marketguard.core.permissions import can_see_merchant, is_platform, require_role

KINDS = tuple(ingest.KINDS)


def _check_kind(kind: str) -> None:
    if kind not in ingest.KINDS:
        raise InvalidInput(
            _("Unknown kind. Use one of: %(kinds)s") % {"kinds": ", ".join(KINDS)}, field="kind"
        )


def upsert_one(*, actor, kind: str, external_id: str, data: dict) -> tuple[bool, ingest.UpsertResult]:
    """Create or update one record by external id; (created, result). Errors raise InvalidInput."""
    require_role(actor, Role.ADMIN)
    _check_kind(kind)
    result = ingest.upsert_numbered(
        kind, [(1, {**data, "external_id": external_id})], actor=actor, source="api", detail=True
    )
    if result.errors:
        raise InvalidInput(
            result.errors[0].message,
            errors=[_field_error(e) for e in result.errors],
        )
    return result.created == 1, result


def upsert_many(
    *,
    actor,
    kind: str,
    rows: Iterable[dict],
    source: str = "api-bulk",
    progress: Callable[[int], None] | None = None,
    chunk_size: int = 2000,
) -> ingest.UpsertResult:
    """Bulk upsert; every bad row is reported with its number, the good rows are written."""
    require_role(actor, Role.ADMIN)
    _check_kind(kind)
    numbered = ((i, row) for i, row in enumerate(rows, start=1))
    return ingest.upsert_numbered(
        kind, numbered, actor=actor, source=source, progress=progress, chunk_size=chunk_size
    )


def import_file(
    *, actor, kind: str, path: Path, progress: Callable[[int], None] | None = None, chunk_size: int = 2000
) -> ingest.UpsertResult:
    """Import a CSV or Parquet file. Row numbers are data rows, 1-based (the CSV header is not counted)."""
    require_role(actor, Role.ADMIN)
    _check_kind(kind)
    try:
        rows = fileio.read_rows(path, json_columns=ingest.KINDS[kind].json_columns)
        return ingest.upsert_numbered(
            kind, rows, actor=actor, source=f"file:{path.name}", progress=progress, chunk_size=chunk_size
        )
    except fileio.FileProblem as exc:
        raise InvalidInput(str(exc), field="file") from None


def write_error_report(result: ingest.UpsertResult, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "external_id", "field", "message"])
        for e in result.errors:
            writer.writerow([e.row, e.external_id, e.field, e.message])


def _field_error(e):
    from marketguard.core.errors import FieldError

    return FieldError(field=e.field, message=e.message, code="invalid")


# --- reads, with ownership ------------------------------------------------------------------------


def visible_merchants(actor) -> QuerySet[Merchant]:
    qs = Merchant.objects.all()
    if is_platform(actor):
        return qs
    if actor is not None and actor.role == Role.MERCHANT_STAFF:
        return qs.filter(pk=actor.merchant_id)
    return qs.none()


def visible_stores(actor) -> QuerySet[Store]:
    return Store.objects.select_related("merchant").filter(merchant__in=visible_merchants(actor))


def visible_products(actor) -> QuerySet[Product]:
    """Products on sale are public; merchants also see their own unpublished ones; the platform sees all."""
    qs = Product.objects.select_related("store", "merchant", "category")
    if is_platform(actor):
        return qs
    if actor is not None and actor.role == Role.MERCHANT_STAFF:
        from django.db.models import Q

        return qs.filter(Q(status="active") | Q(merchant_id=actor.merchant_id))
    return qs.filter(status="active")


def visible_categories(actor) -> QuerySet[Category]:
    return Category.objects.select_related("parent")


def visible_buyers(actor) -> QuerySet[Buyer]:
    if is_platform(actor):
        return Buyer.objects.all()
    if actor is not None and actor.role == Role.CONSUMER:
        return Buyer.objects.filter(user=actor)
    return Buyer.objects.none()


def buyers_by_phone(actor, phone: str) -> list[Buyer]:
    """The buyers the actor may see whose phone is this number, however either was written (a
    hotline agent types what the caller says)."""
    key = codes.phone_key(phone)
    if len(key) < 7:
        raise InvalidInput(_("Enter the whole phone number."), field="buyer_phone")
    return list(visible_buyers(actor).filter(phone_key=key).order_by("external_id")[:20])


def visible_orders(actor) -> QuerySet[Order]:
    qs = Order.objects.select_related("buyer", "store", "merchant")
    if is_platform(actor):
        return qs
    if actor is not None and actor.role == Role.MERCHANT_STAFF:
        return qs.filter(merchant_id=actor.merchant_id)
    if actor is not None and actor.role == Role.CONSUMER:
        return qs.filter(buyer__user=actor)
    return qs.none()


def get_order(*, actor, external_id: str) -> Order:
    order = (
        visible_orders(actor)
        .prefetch_related("items__product", "shipments")
        .filter(external_id=external_id)
        .first()
    )
    if order is None:
        raise NotFound(_("No such order."), field="external_id")
    return order


def visible_shipments(actor) -> QuerySet[Shipment]:
    return Shipment.objects.filter(order__in=visible_orders(actor))


def on_time_delivery(actor, *, since) -> float | None:
    """Share of the shipments promised since `since` and delivered that arrived by the promised
    time (KPI target ≥ 95 %), over the shipments the actor may see; None when there are none."""
    from django.db.models import Count, F, Q

    counts = (
        visible_shipments(actor)
        .filter(promised_at__gte=since, delivered_at__isnull=False)
        .aggregate(total=Count("id"), late=Count("id", filter=Q(delivered_at__gt=F("promised_at"))))
    )
    if not counts["total"]:
        return None
    return (counts["total"] - counts["late"]) / counts["total"]


def merchant_visible(actor, merchant: Merchant) -> bool:
    return can_see_merchant(actor, merchant.pk)


def seed_demo(
    *,
    actor,
    scale: str,
    seed: int,
    today=None,
    progress: Callable[[str, int], None] | None = None,
    chunk_size: int = 5000,
) -> dict[str, ingest.UpsertResult]:
    """Load the deterministic demo marketplace through the same upsert engine as imports."""
    from marketguard.catalog import demo_data

    require_role(actor, Role.ADMIN)
    if scale not in {"small", "medium", "large"}:
        raise InvalidInput(_("Scale must be small, medium or large."), field="scale")
    demo = demo_data.generate(scale, seed, **({"today": today} if today else {}))
    results: dict[str, ingest.UpsertResult] = {}

    def load(kind: str, rows: Iterable[dict]) -> None:
        tick = (lambda n: progress(kind, n)) if progress else None
        numbered = ((i, row) for i, row in enumerate(rows, start=1))
        result = ingest.upsert_numbered(
            kind, numbered, actor=actor, source=f"seed:{scale}:{seed}", chunk_size=chunk_size, progress=tick
        )
        results.setdefault(kind, ingest.UpsertResult(kind)).merge(result)

    for kind in ("categories", "merchants", "stores", "products", "buyers"):
        load(kind, getattr(demo, kind))
    for orders, items, shipments in demo.order_chunks(chunk_size=chunk_size):
        load("orders", orders)
        load("order_items", items)
        load("shipments", shipments)
    return results
