"""The dashboard's filters, applied in exactly one place.

Every metric takes a `RetentionFilter` and gets its rows through `customers()`,
`touchpoints()` or `monthly_revenue()` below, so a segment or region chosen in the sidebar
means the same thing on every page.

Semantics (docs/metrics.md, "Filters"):
- `segments`, `regions`, `plans` restrict the customer population; an empty tuple means
  "all". Touchpoints and revenue rows follow their customer.
- `channels` is the contact channel of a touchpoint. It restricts touchpoint-based metrics
  (service, funnel, signals); customer and revenue metrics are not channel-specific and
  ignore it (docs/decisions/003-channel-filter-scope.md).
- `start`/`end` is the reporting period, both days inclusive; `end` is also the as-of date
  for point-in-time figures. Functions that need the period read it from the filter;
  the population filters here do not cut by date, because "active at the period start"
  needs customers who signed up before it.

Values reach the SQL through Ibis, which quotes literals itself; nothing is formatted into
SQL text by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import ibis

from analytics.db import Database


@dataclass(frozen=True)
class RetentionFilter:
    """The sidebar selection. Frozen and hashable so it can key a cache."""

    start: date
    end: date
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"filter start {self.start} is after its end {self.end}")
        for name in ("segments", "regions", "plans", "channels"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))

    @property
    def as_of(self) -> date:
        """Point-in-time figures (active customers, current MRR) are taken at the end."""
        return self.end

    def with_period(self, start: date, end: date) -> "RetentionFilter":
        return replace(self, start=start, end=end)


def _restrict(table: ibis.Table, column: str, values: tuple[str, ...]) -> ibis.Table:
    return table.filter(table[column].isin(values)) if values else table


def customers(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Customers in the selected segments, regions and plans (all signup dates)."""
    t = db.table("customers")
    t = _restrict(t, "segment", flt.segments)
    t = _restrict(t, "region", flt.regions)
    return _restrict(t, "plan", flt.plans)


def _customer_restricted(flt: RetentionFilter) -> bool:
    return bool(flt.segments or flt.regions or flt.plans)


def touchpoints(db: Database, flt: RetentionFilter, in_period: bool = True) -> ibis.Table:
    """Touchpoints of the selected customers, in the selected channels.

    `in_period=True` keeps touchpoints whose `occurred_at` falls within start..end (days
    inclusive); False keeps the whole history up to the end (for look-back windows).
    """
    t = db.table("touchpoints")
    t = _restrict(t, "channel", flt.channels)
    upper = ibis.literal(flt.end).cast("timestamp") + ibis.interval(days=1)
    t = t.filter(t.occurred_at < upper)
    if in_period:
        t = t.filter(t.occurred_at >= ibis.literal(flt.start).cast("timestamp"))
    if _customer_restricted(flt):
        c = customers(db, flt)
        t = t.semi_join(c, t.customer_id == c.customer_id)
    return t


def monthly_revenue(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Monthly MRR rows of the selected customers (all months; callers cut the period)."""
    r = db.table("monthly_revenue")
    if _customer_restricted(flt):
        c = customers(db, flt)
        r = r.semi_join(c, r.customer_id == c.customer_id)
    return r
