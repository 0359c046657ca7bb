from django import template

from marketguard.catalog import codes
from marketguard.core.money import format_yuan

register = template.Library()


@register.filter
def yuan(fen):
    return format_yuan(fen)


@register.filter
def yuan_plain(fen):
    """An amount as a form field takes it back: 1234.50, no symbol, no separators."""
    return format_yuan(fen, symbol=False).replace(",", "")


@register.filter
def masked_phone(value, show=False):
    return value if show else codes.mask_phone(value or "")


@register.filter
def masked_address(value, show=False):
    return value if show else codes.mask_address(value or "")


@register.filter
def masked_name(value, show=False):
    return value if show else codes.mask_name(value or "")


@register.filter
def masked_text(value, show=False):
    """Free text (a complaint, a message) with phone numbers, e-mail addresses and ID numbers
    masked unless the viewer's role needs them."""
    return value if show else codes.mask_in_text(value or "")
