"""Catalog API: upsert by external id (one, or in bulk with per-row errors) and filtered lists."""

from typing import Any

from ninja import Body, Query, Router, Schema, Status
from ninja.pagination import paginate

from marketguard.catalog import schemas, services
from marketguard.core.schemas import BoundedPageNumberPagination

router = Router(tags=["catalog"])


class BulkIn(Schema):
    rows: list[dict[str, Any]]


_FIELDS = {
    "categories": schemas.CategoryFields,
    "merchants": schemas.MerchantFields,
    "stores": schemas.StoreFields,
    "products": schemas.ProductFields,
    "buyers": schemas.BuyerFields,
    "orders": schemas.OrderFields,
    "order_items": schemas.OrderItemFields,
    "shipments": schemas.ShipmentFields,
}


def _result_out(result) -> dict:
    return {
        "kind": result.kind,
        "created": result.created,
        "updated": result.updated,
        "failed": result.failed,
        "errors": [
            {"row": e.row, "external_id": e.external_id, "field": e.field, "message": e.message}
            for e in result.errors
        ],
    }


def _register(kind: str, fields_schema) -> None:
    # the bulk route first: /{kind}/bulk must not be taken for an external id
    def upsert(request, external_id: str, payload: fields_schema = Body(...)):  # type: ignore[valid-type]
        created, _ = services.upsert_one(
            actor=request.auth, kind=kind, external_id=external_id, data=payload.model_dump(mode="json")
        )
        return Status(201 if created else 200, {"external_id": external_id, "created": created})

    def bulk(request, payload: BulkIn):
        result = services.upsert_many(actor=request.auth, kind=kind, rows=payload.rows)
        return _result_out(result)

    router.add_api_operation(
        f"/{kind}/bulk",
        ["POST"],
        bulk,
        response=schemas.UpsertOut,
        operation_id=f"bulk_upsert_{kind}",
        summary=f"Upsert many {kind}; bad rows are reported, good rows written",
    )
    router.add_api_operation(
        f"/{kind}/{{external_id}}",
        ["PUT"],
        upsert,
        response={200: schemas.UpsertOneOut, 201: schemas.UpsertOneOut},
        operation_id=f"upsert_{kind}",
        summary=f"Create or update one of {kind} by external id",
    )


for _kind, _schema in _FIELDS.items():
    _register(_kind, _schema)


@router.get("/merchants", response=list[schemas.MerchantOut])
@paginate(BoundedPageNumberPagination)
def list_merchants(request, filters: Query[schemas.MerchantFilter]):
    return filters.filter(services.visible_merchants(request.auth))


@router.get("/stores", response=list[schemas.StoreOut])
@paginate(BoundedPageNumberPagination)
def list_stores(request):
    return services.visible_stores(request.auth)


@router.get("/categories", response=list[schemas.CategoryOut])
@paginate(BoundedPageNumberPagination, page_size=200)
def list_categories(request):
    return services.visible_categories(request.auth)


@router.get("/products", response=list[schemas.ProductOut])
@paginate(BoundedPageNumberPagination)
def list_products(request, filters: Query[schemas.ProductFilter]):
    return filters.filter(services.visible_products(request.auth))


@router.get("/orders", response=list[schemas.OrderOut])
@paginate(BoundedPageNumberPagination)
def list_orders(request, filters: Query[schemas.OrderFilter]):
    return filters.filter(services.visible_orders(request.auth))


@router.get("/orders/{external_id}", response=schemas.OrderDetailOut)
def get_order(request, external_id: str):
    return services.get_order(actor=request.auth, external_id=external_id)
