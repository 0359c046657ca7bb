from django.contrib import admin

from marketguard.catalog.models import Buyer, Category, Merchant, Order, Product, Shipment, Store
from marketguard.core.admin import AuditedAdmin


@admin.register(Merchant)
class MerchantAdmin(AuditedAdmin):
    list_display = ["external_id", "name", "uscc", "status"]
    list_filter = ["status"]
    search_fields = ["external_id", "name", "uscc"]


@admin.register(Store)
class StoreAdmin(AuditedAdmin):
    list_display = ["external_id", "name", "merchant", "return_address"]
    search_fields = ["external_id", "name"]
    list_select_related = ["merchant"]


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["external_id", "name_zh", "name_en", "risk_level", "no_reason_return", "depth"]
    list_filter = ["risk_level", "no_reason_return"]
    search_fields = ["external_id", "name_zh", "name_en"]
    readonly_fields = ["path", "depth"]


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ["external_id", "title", "merchant", "category", "price_fen", "status"]
    list_filter = ["status"]
    search_fields = ["external_id", "title", "brand"]
    list_select_related = ["merchant", "category"]
    raw_id_fields = ["store", "category"]


@admin.register(Buyer)
class BuyerAdmin(AuditedAdmin):
    list_display = ["external_id", "name"]
    search_fields = ["external_id"]
    raw_id_fields = ["user"]


@admin.register(Order)
class OrderAdmin(AuditedAdmin):
    list_display = ["external_id", "merchant", "placed_at", "paid_amount_fen", "status"]
    list_filter = ["status"]
    search_fields = ["external_id", "payment_reference"]
    raw_id_fields = ["buyer", "store"]
    list_select_related = ["merchant"]


@admin.register(Shipment)
class ShipmentAdmin(AuditedAdmin):
    list_display = ["external_id", "carrier", "tracking_number", "promised_at", "delivered_at"]
    search_fields = ["external_id", "tracking_number"]
    raw_id_fields = ["order"]
