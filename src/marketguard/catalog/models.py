"""What the marketplace feeds in: merchants, stores, categories, products, buyers, orders, shipments.

Every row carries the marketplace's own `external_id`; imports and the API upsert by it.
Money is integer fen. Times are aware UTC.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Timestamped(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class MerchantStatus(models.TextChoices):
    APPLYING = "applying", _("Applying")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    BANNED = "banned", _("Banned")
    CLOSED = "closed", _("Closed")


class Merchant(Timestamped):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(_("Unified Social Credit Code"), max_length=18, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=MerchantStatus.choices, default=MerchantStatus.ACTIVE
    )
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.name


class Store(Timestamped):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="stores", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=200)
    return_address = models.CharField(
        _("return address"),
        max_length=300,
        blank=True,
        db_default="",
        help_text=_("Where buyers send goods back (address, recipient, phone); shown with every return."),
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.name


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class NoReasonReturn(models.TextChoices):
    ELIGIBLE = "eligible", _("7-day no-reason return")
    EXCLUDED = "excluded", _("Excluded by law")
    CONFIRM = "confirm_at_purchase", _("Excluded if confirmed at purchase")


class Category(Timestamped):
    external_id = models.CharField(_("code"), max_length=64, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    path = models.CharField(_("path"), max_length=500, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    attribute_template = models.JSONField(_("attribute template"), default=list, blank=True)
    no_reason_return = models.CharField(
        _("7-day no-reason return"),
        max_length=24,
        choices=NoReasonReturn.choices,
        default=NoReasonReturn.ELIGIBLE,
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name_zh

    def save(self, *args, **kwargs):
        """Path and depth follow the parent and the code, however the row is saved (import, API,
        admin); a category moved or recoded takes its sub-categories along."""
        old_path = self.path
        self.path = (self.parent.path if self.parent else "/") + f"{self.external_id}/"
        self.depth = self.parent.depth + 1 if self.parent else 0
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "path", "depth"}
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            for pk, path in (
                Category.objects.filter(path__startswith=old_path)
                .exclude(pk=self.pk)
                .values_list("pk", "path")
            ):
                moved = self.path + path[len(old_path) :]
                Category.objects.filter(pk=pk).update(path=moved, depth=moved.count("/") - 2)

    def clean(self):
        super().clean()
        if self.parent is not None and self.pk is not None and self.parent.is_under(self):
            raise ValidationError(
                {"parent": _("A category cannot be placed under itself or one of its sub-categories.")}
            )

    def display_name(self, language: str) -> str:
        return self.name_en if language.startswith("en") and self.name_en else self.name_zh

    def is_under(self, other: Category) -> bool:
        """This category is `other` or one of its sub-categories (at any depth), by the parent
        links as stored (not by codes, which a form may be changing at the same time)."""
        seen, node = set(), self
        while node is not None and node.pk not in seen:
            if node.pk is not None and node.pk == other.pk:
                return True
            seen.add(node.pk)
            node = Category.objects.filter(pk=node.parent_id).first() if node.parent_id else None
        return False


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("On sale")
    BLOCKED = "blocked", _("Blocked")
    DELISTED = "delisted", _("Delisted")


class Product(Timestamped):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="products", verbose_name=_("store")
    )
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("merchant"),
        editable=False,
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    price_fen = models.BigIntegerField(_("price (fen)"))
    status = models.CharField(
        _("status"), max_length=20, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["external_id"]
        indexes = [models.Index(fields=["merchant", "status"]), models.Index(fields=["category", "status"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_fen__gte=0), name="product_price_not_negative")
        ]

    def __str__(self) -> str:
        return self.title


class Buyer(Timestamped):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="buyer",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    #: the phone as digits to find a caller by, however it was written (`codes.phone_key`)
    phone_key = models.CharField(max_length=30, blank=True, db_index=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("buyer")
        verbose_name_plural = _("buyers")
        ordering = ["external_id"]

    def __str__(self) -> str:
        return self.external_id

    def save(self, *args, **kwargs):
        from marketguard.catalog.codes import phone_key

        self.phone_key = phone_key(self.phone)
        if kwargs.get("update_fields") is not None and "phone" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "phone_key"}
        super().save(*args, **kwargs)


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class Order(Timestamped):
    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer"))
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders", verbose_name=_("store"))
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="orders", verbose_name=_("merchant"), editable=False
    )
    placed_at = models.DateTimeField(_("placed at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    paid_amount_fen = models.BigIntegerField(_("paid amount (fen)"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PAID
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["merchant", "placed_at"]),
            models.Index(fields=["buyer", "placed_at"]),
            models.Index(fields=["placed_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(paid_amount_fen__gte=0), name="order_paid_not_negative")
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderItem(models.Model):
    external_id = models.CharField(_("external id"), max_length=80, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items", verbose_name=_("order"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_items", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_fen = models.BigIntegerField(_("unit price (fen)"))
    paid_amount_fen = models.BigIntegerField(_("paid amount (fen)"))
    #: 网络购买商品七日无理由退货暂行办法 art. 7: goods of a "confirm at purchase" category are
    #: excluded from no-reason return only if the consumer confirmed that when buying
    no_reason_excluded_confirmed = models.BooleanField(
        _("no-reason return exclusion confirmed at purchase"), default=False
    )

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["external_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_item_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(paid_amount_fen__gte=0, unit_price_fen__gte=0),
                name="order_item_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id


class Shipment(models.Model):
    external_id = models.CharField(_("external id"), max_length=80, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=50)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    promised_at = models.DateTimeField(_("promised delivery"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    #: the order items (external ids) this parcel carried; empty: the whole order (one parcel)
    item_external_ids = models.JSONField(_("items carried"), default=list, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["external_id"]
        indexes = [models.Index(fields=["tracking_number"])]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"

    def carries(self, item: OrderItem) -> bool:
        """Whether this parcel carried `item` (a parcel that lists no items carried the order)."""
        return not self.item_external_ids or item.external_id in self.item_external_ids

    @property
    def is_late(self) -> bool:
        if self.promised_at is None:
            return False
        if self.delivered_at is None:
            from django.utils import timezone

            return timezone.now() > self.promised_at
        return self.delivered_at > self.promised_at
