"""Idempotent upsert of marketplace data by external id, in chunks.

One engine serves the API (one row or a bulk list), the `marketguard import` command (CSV or
Parquet) and the demo seeder. A row is validated by the kind's *In schema, its references are
resolved by external id, then valid rows of a chunk are written with one INSERT ... ON CONFLICT
DO UPDATE. A row is either written whole or reported in the errors with its row number and
field: nothing is lost and nothing is half-written. If the database refuses the chunk (e.g. a
USCC already used by another merchant), the chunk is retried row by row to isolate the culprits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from pydantic import ValidationError

from marketguard.catalog import codes, schemas
from marketguard.catalog.attributes import clean_attributes, dump_attributes, merge_templates
from marketguard.catalog.models import Buyer, Category, Merchant, Order, OrderItem, Product, Shipment, Store
from marketguard.core import audit
from marketguard.core.errors import RowError


class RowProblem(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class UpsertResult:
    kind: str
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    created_ids: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len({e.row for e in self.errors})

    def merge(self, other: UpsertResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.errors.extend(other.errors)
        self.created_ids.extend(other.created_ids[: max(0, 50 - len(self.created_ids))])


@dataclass
class Ref:
    model: type[models.Model]
    fetch: tuple[str, ...] = ("id",)


@dataclass
class KindSpec:
    kind: str
    model: type[models.Model]
    schema: type[schemas.InSchema]
    refs: dict[str, Ref]
    build: Callable[[dict, dict, ChunkContext], dict]
    update_fields: list[str]
    json_columns: tuple[str, ...] = ()


@dataclass
class ChunkContext:
    templates: dict[int, list] | None = None


def _ref_value(resolved: dict, key: str, model_name: str, value: str):
    hit = resolved.get(key, {}).get(value)
    if hit is None:
        raise RowProblem(key, f"unknown {model_name} {value!r}")
    return hit


def _build_merchant(row, refs, ctx):
    return {k: row[k] for k in ("external_id", "name", "uscc", "status", "contact_phone", "registered_at")}


def _build_store(row, refs, ctx):
    (merchant_id,) = _ref_value(refs, "merchant_external_id", "merchant", row["merchant_external_id"])
    out = {"external_id": row["external_id"], "name": row["name"], "merchant_id": merchant_id}
    if row.get("return_address") is not None:  # a feed without the column keeps what is on file
        out["return_address"] = row["return_address"]
    return out


def _merged_template(ctx: ChunkContext, category_id: int) -> list:
    if ctx.templates is None:
        rows = {
            pk: (parent, tpl)
            for pk, parent, tpl in Category.objects.values_list("id", "parent_id", "attribute_template")
        }
        merged: dict[int, list] = {}

        def walk(pk: int) -> list:
            if pk not in merged:
                parent, tpl = rows[pk]
                merged[pk] = merge_templates(walk(parent) if parent else [], tpl or [])
            return merged[pk]

        for pk in rows:
            walk(pk)
        ctx.templates = merged
    return ctx.templates.get(category_id, [])


def _build_product(row, refs, ctx):
    store_id, merchant_id = _ref_value(refs, "store_external_id", "store", row["store_external_id"])
    (category_id,) = _ref_value(refs, "category_external_id", "category", row["category_external_id"])
    attributes, problems = clean_attributes(_merged_template(ctx, category_id), row["attributes"])
    if problems:
        key, message = next(iter(problems.items()))
        raise RowProblem(f"attributes.{key}", message)
    return {
        "external_id": row["external_id"],
        "store_id": store_id,
        "merchant_id": merchant_id,
        "category_id": category_id,
        "title": row["title"],
        "description": row["description"],
        "brand": row["brand"],
        "attributes": dump_attributes(attributes),
        "price_fen": row["price"],
        "status": row["status"],
    }


def _build_buyer(row, refs, ctx):
    return {
        **{k: row[k] for k in ("external_id", "name", "phone", "email", "address")},
        "phone_key": codes.phone_key(row["phone"]),
    }


def _build_order(row, refs, ctx):
    (buyer_id,) = _ref_value(refs, "buyer_external_id", "buyer", row["buyer_external_id"])
    store_id, merchant_id = _ref_value(refs, "store_external_id", "store", row["store_external_id"])
    if row["paid_at"] is not None and row["paid_at"] < row["placed_at"]:
        raise RowProblem("paid_at", "paid before the order was placed")
    return {
        "external_id": row["external_id"],
        "buyer_id": buyer_id,
        "store_id": store_id,
        "merchant_id": merchant_id,
        "placed_at": row["placed_at"],
        "paid_at": row["paid_at"],
        "payment_reference": row["payment_reference"],
        "paid_amount_fen": row["paid_amount"],
        "status": row["status"],
    }


def _build_order_item(row, refs, ctx):
    (order_id,) = _ref_value(refs, "order_external_id", "order", row["order_external_id"])
    (product_id,) = _ref_value(refs, "product_external_id", "product", row["product_external_id"])
    if row["paid_amount"] > row["unit_price"] * row["quantity"]:
        raise RowProblem("paid_amount", "paid more than quantity × unit price")
    return {
        "external_id": row["external_id"],
        "order_id": order_id,
        "product_id": product_id,
        "quantity": row["quantity"],
        "unit_price_fen": row["unit_price"],
        "paid_amount_fen": row["paid_amount"],
        "no_reason_excluded_confirmed": row["no_reason_excluded_confirmed"],
    }


def _build_shipment(row, refs, ctx):
    (order_id,) = _ref_value(refs, "order_external_id", "order", row["order_external_id"])
    for later, earlier in (("delivered_at", "shipped_at"), ("signed_at", "shipped_at")):
        if row[later] is not None and row[earlier] is not None and row[later] < row[earlier]:
            raise RowProblem(later, f"{later} is before {earlier}")
    return {
        "external_id": row["external_id"],
        "order_id": order_id,
        **{
            k: row[k]
            for k in ("carrier", "tracking_number", "shipped_at", "promised_at", "delivered_at", "signed_at")
        },
        "item_external_ids": list(dict.fromkeys(row["item_external_ids"])),
    }


KINDS: dict[str, KindSpec] = {
    spec.kind: spec
    for spec in [
        KindSpec(
            "categories",
            Category,
            schemas.CategoryIn,
            {},
            lambda r, refs, c: r,
            [],
            json_columns=("attribute_template",),
        ),
        KindSpec(
            "merchants",
            Merchant,
            schemas.MerchantIn,
            {},
            _build_merchant,
            ["name", "uscc", "status", "contact_phone", "registered_at", "updated_at"],
        ),
        KindSpec(
            "stores",
            Store,
            schemas.StoreIn,
            {"merchant_external_id": Ref(Merchant)},
            _build_store,
            ["name", "merchant_id", "return_address", "updated_at"],
        ),
        KindSpec(
            "products",
            Product,
            schemas.ProductIn,
            {"store_external_id": Ref(Store, ("id", "merchant_id")), "category_external_id": Ref(Category)},
            _build_product,
            [
                "store_id",
                "merchant_id",
                "category_id",
                "title",
                "description",
                "brand",
                "attributes",
                "price_fen",
                "status",
                "updated_at",
            ],
            json_columns=("attributes",),
        ),
        KindSpec(
            "buyers",
            Buyer,
            schemas.BuyerIn,
            {},
            _build_buyer,
            ["name", "phone", "phone_key", "email", "address", "updated_at"],
        ),
        KindSpec(
            "orders",
            Order,
            schemas.OrderIn,
            {"buyer_external_id": Ref(Buyer), "store_external_id": Ref(Store, ("id", "merchant_id"))},
            _build_order,
            [
                "buyer_id",
                "store_id",
                "merchant_id",
                "placed_at",
                "paid_at",
                "payment_reference",
                "paid_amount_fen",
                "status",
                "updated_at",
            ],
        ),
        KindSpec(
            "order_items",
            OrderItem,
            schemas.OrderItemIn,
            {"order_external_id": Ref(Order), "product_external_id": Ref(Product)},
            _build_order_item,
            [
                "order_id",
                "product_id",
                "quantity",
                "unit_price_fen",
                "paid_amount_fen",
                "no_reason_excluded_confirmed",
            ],
        ),
        KindSpec(
            "shipments",
            Shipment,
            schemas.ShipmentIn,
            {"order_external_id": Ref(Order)},
            _build_shipment,
            [
                "order_id",
                "carrier",
                "tracking_number",
                "shipped_at",
                "promised_at",
                "delivered_at",
                "signed_at",
                "item_external_ids",
            ],
            json_columns=("item_external_ids",),
        ),
    ]
}


def _pydantic_errors(rownum: int, external_id: str, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "row"
        message = err.get("msg", "invalid").removeprefix("Value error, ")
        out.append(RowError(row=rownum, field=loc, message=message, external_id=external_id))
    return out


def _normalise(raw: dict) -> dict:
    """Empty cells mean 'not given' so schema defaults apply."""
    return {k: v for k, v in raw.items() if v is not None and v != ""}


def _validate_chunk(spec: KindSpec, chunk: list[tuple[int, dict]], result: UpsertResult):
    valid: list[tuple[int, dict]] = []
    seen: dict[str, int] = {}
    for rownum, raw in chunk:
        raw = _normalise(raw)
        external_id = str(raw.get("external_id", ""))
        try:
            row = spec.schema.model_validate(raw).model_dump()
        except ValidationError as exc:
            result.errors.extend(_pydantic_errors(rownum, external_id, exc))
            continue
        if row["external_id"] in seen:
            result.errors.append(
                RowError(
                    rownum,
                    "external_id",
                    f"duplicate of row {seen[row['external_id']]} in the same batch",
                    external_id,
                )
            )
            continue
        seen[row["external_id"]] = rownum
        valid.append((rownum, row))
    return valid


def _resolve(spec: KindSpec, rows: list[tuple[int, dict]]) -> dict[str, dict]:
    resolved: dict[str, dict] = {}
    for key, ref in spec.refs.items():
        wanted = {row[key] for _, row in rows}
        values = ref.model.objects.filter(external_id__in=wanted).values_list("external_id", *ref.fetch)
        resolved[key] = {ext: tuple(rest) for ext, *rest in values}
    return resolved


class _Writer:
    """One prepared INSERT ... ON CONFLICT (external_id) DO UPDATE per kind, run with executemany.

    Values are adapted once per field type (the rows are already validated), which is several
    times faster than building model instances for bulk_create.
    """

    def __init__(self, spec: KindSpec, columns: list[str]):
        meta = spec.model._meta
        self.fields = [meta.get_field(name) for name in columns]
        self.timestamps = [
            f
            for f in meta.concrete_fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.names = columns
        quote = connection.ops.quote_name
        cols = [f.column for f in self.fields] + [f.column for f in self.timestamps]
        updates = {meta.get_field(n).column for n in spec.update_fields}
        assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c in updates)
        self.sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in cols)}) "  # noqa: S608 - our names
            f"VALUES ({', '.join(['%s'] * len(cols))}) "
            f"ON CONFLICT ({quote(meta.get_field('external_id').column)}) DO UPDATE SET {assignments}"
        )
        self.adapters = [self._adapter(f) for f in self.fields]

    @staticmethod
    def _adapter(field):
        kind = field.get_internal_type()
        if kind == "DateTimeField":
            adapt = connection.ops.adapt_datetimefield_value
            return lambda v: None if v is None else adapt(v)
        if kind == "JSONField":
            return lambda v: field.get_db_prep_save(v, connection)
        return None

    def params(self, values: dict) -> list:
        out = []
        for name, adapter in zip(self.names, self.adapters, strict=True):
            value = values[name]
            out.append(adapter(value) if adapter is not None else value)
        if self.timestamps:
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            out.extend([now] * len(self.timestamps))
        return out

    def write(self, rows: list[dict]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, [self.params(r) for r in rows])


def _write(spec: KindSpec, rows: list[dict]) -> None:
    """One statement per set of columns (rows of one file share theirs; optional columns a row
    leaves out are neither written nor overwritten)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for columns, group in groups.items():
        _Writer(spec, list(columns)).write(group)


def _audit_chunk(spec, actor, created_ids, updated_ids, source, detail_before):
    if detail_before is not None:
        for obj_ext in created_ids + updated_ids:
            obj = spec.model.objects.get(external_id=obj_ext)
            before = detail_before.get(obj_ext)
            after = audit.snapshot(obj)
            b, a = audit.changed(before, after) if before else (None, after)
            audit.record(actor=actor, action="upserted", obj=obj, before=b, after=a, reason=source)
        return
    audit.record(
        actor=actor,
        action="imported",
        object_type=spec.model._meta.label_lower,
        object_repr=f"{len(created_ids)} created, {len(updated_ids)} updated",
        after={
            "created": len(created_ids),
            "updated": len(updated_ids),
            "external_ids": (created_ids + updated_ids)[:20],
        },
        reason=source,
    )


def _upsert_chunk(spec, chunk, *, actor, source, detail, ctx) -> UpsertResult:
    result = UpsertResult(spec.kind)
    valid = _validate_chunk(spec, chunk, result)
    if not valid:
        return result
    resolved = _resolve(spec, valid)
    built: list[tuple[int, str, dict]] = []
    for rownum, row in valid:
        try:
            fields = spec.build(row, resolved, ctx)
        except RowProblem as problem:
            result.errors.append(RowError(rownum, problem.field, problem.message, row["external_id"]))
            continue
        built.append((rownum, row["external_id"], fields))
    if not built:
        return result
    keys = [ext for _, ext, _ in built]
    existing_qs = spec.model.objects.filter(external_id__in=keys)
    detail_before = {o.external_id: audit.snapshot(o) for o in existing_qs} if detail else None
    existing = (
        set(detail_before)
        if detail_before is not None
        else set(existing_qs.values_list("external_id", flat=True))
    )
    try:
        with transaction.atomic():
            _write(spec, [obj for _, _, obj in built])
            created = [k for k in keys if k not in existing]
            updated = [k for k in keys if k in existing]
            _audit_chunk(spec, actor, created, updated, source, detail_before)
    except IntegrityError:
        # isolate the rows the database refuses; write the others
        written_created, written_updated = [], []
        with transaction.atomic():
            for rownum, ext, obj in built:
                try:
                    with transaction.atomic():
                        _write(spec, [obj])
                except IntegrityError as exc:
                    result.errors.append(
                        RowError(rownum, _constraint_field(spec, exc), _db_message(exc), ext)
                    )
                    continue
                (written_updated if ext in existing else written_created).append(ext)
            if written_created or written_updated:
                _audit_chunk(spec, actor, written_created, written_updated, source, detail_before)
        created, updated = written_created, written_updated
    result.created += len(created)
    result.updated += len(updated)
    result.created_ids.extend(created[:50])
    return result


def _constraint_field(spec: KindSpec, exc: IntegrityError) -> str:
    text = str(exc).lower()
    for f in spec.model._meta.concrete_fields:
        if f.unique and f.name != "id" and f.column in text:
            return f.name
    return "row"


def _db_message(exc: IntegrityError) -> str:
    text = str(exc).splitlines()[0]
    if "unique" in text.lower() or "duplicate" in text.lower():
        return "already used by another record"
    return text[:200]


def _upsert_categories(spec, chunk, *, actor, source, detail, ctx) -> UpsertResult:
    """Categories form a tree: parents first, paths kept, one row at a time (the tree is small)."""
    result = UpsertResult(spec.kind)
    valid = _validate_chunk(spec, chunk, result)
    pending = list(valid)
    in_batch = {row["external_id"] for _, row in valid}
    with transaction.atomic():
        progress = True
        while pending and progress:
            progress = False
            waiting = []
            for rownum, row in pending:
                parent_ext = row["parent_external_id"]
                parent = Category.objects.filter(external_id=parent_ext).first() if parent_ext else None
                if parent_ext and parent is None:
                    waiting.append((rownum, row))
                    continue
                try:
                    with transaction.atomic():
                        created = _save_category(row, parent, actor=actor, source=source)
                except RowProblem as problem:
                    result.errors.append(RowError(rownum, problem.field, problem.message, row["external_id"]))
                    continue
                progress = True
                if created:
                    result.created += 1
                    result.created_ids.append(row["external_id"])
                else:
                    result.updated += 1
            pending = waiting
        for rownum, row in pending:
            why = (
                "parent is not in this batch" if row["parent_external_id"] in in_batch else "unknown category"
            )
            result.errors.append(
                RowError(
                    rownum, "parent_external_id", f"{why} {row['parent_external_id']!r}", row["external_id"]
                )
            )
    return result


def _save_category(row: dict, parent: Category | None, *, actor, source: str) -> bool:
    category = Category.objects.select_for_update().filter(external_id=row["external_id"]).first()
    created = category is None
    before = audit.snapshot(category) if category else None
    if category is None:
        category = Category(external_id=row["external_id"])
    if parent is not None and category.pk is not None and parent.is_under(category):
        raise RowProblem("parent_external_id", "a category cannot be its own ancestor")
    for key in ("name_zh", "name_en", "risk_level", "attribute_template", "no_reason_return"):
        setattr(category, key, row[key])
    category.parent = parent
    category.save()  # path and depth follow the parent; sub-categories move along
    after = audit.snapshot(category)
    b, a = audit.changed(before, after) if before else (None, after)
    audit.record(actor=actor, action="upserted", obj=category, before=b, after=a, reason=source)
    return created


def chunks(rows: Iterable[tuple[int, dict]], size: int) -> Iterator[list[tuple[int, dict]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def upsert_numbered(
    kind: str,
    rows: Iterable[tuple[int, dict]],
    *,
    actor,
    source: str,
    chunk_size: int = 2000,
    detail: bool = False,
    progress: Callable[[int], None] | None = None,
) -> UpsertResult:
    """Upsert (row number, raw dict) pairs of one kind. Permission is the caller's (services)."""
    spec = KINDS[kind]
    total = UpsertResult(kind)
    ctx = ChunkContext()
    runner = _upsert_categories if kind == "categories" else _upsert_chunk
    for chunk in chunks(rows, chunk_size):
        total.merge(runner(spec, chunk, actor=actor, source=source, detail=detail, ctx=ctx))
        if progress is not None:
            progress(len(chunk))
    total.errors.sort(key=lambda e: e.row)
    return total
