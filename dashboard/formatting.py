"""Number formatting shared by every page: one look for counts, money and rates.

The currency symbol comes from `[display] currency` in retention.toml (default ₪).
"""

from __future__ import annotations

import math

from analytics.config import settings

DEFAULT_CURRENCY = "₪"


def currency_symbol() -> str:
    return settings().get("display", {}).get("currency", DEFAULT_CURRENCY)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    """12345 -> '12,345'; missing -> '—'."""
    return "—" if _missing(value) else f"{int(round(value)):,}"


def percent(value, digits: int = 1) -> str:
    """A rate in [0, 1] as a percentage: 0.0243 -> '2.4%'; missing -> '—'."""
    return "—" if _missing(value) else f"{value * 100:.{digits}f}%"


def points(value, digits: int = 1) -> str:
    """A change of a rate in percentage points: 0.004 -> '+0.4 pp'."""
    return "—" if _missing(value) else f"{value * 100:+.{digits}f} pp"


def money(value, compact: bool = True) -> str:
    """Money with the configured symbol: compact '₪4.26M' / '₪12.3K', else '₪4,258,664'."""
    if _missing(value):
        return "—"
    symbol = currency_symbol()
    sign = "-" if value < 0 else ""
    value = abs(value)
    if compact and value >= 1_000_000:
        return f"{sign}{symbol}{value / 1_000_000:.2f}M"
    if compact and value >= 10_000:
        return f"{sign}{symbol}{value / 1_000:.1f}K"
    return f"{sign}{symbol}{value:,.0f}"
