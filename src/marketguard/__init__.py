"""MarketGuard: product-quality governance and complaint / after-sales handling for a marketplace."""

__version__ = "0.1.0"
