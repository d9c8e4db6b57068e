"""The dashboard's filters, applied in exactly one place.

Every metric takes a `RetentionFilter` and gets its rows through `customers()`,
`touchpoints()` or `monthly_revenue()` below, so a segment or region chosen in the sidebar
means the same thing on every page.

Semantics (docs/metrics.md, "Filters"):
- `segments`, `regions`, `plans` restrict the customer population; an empty tuple means
  "all". Touchpoints and revenue rows follow their customer.
- `attributes` restricts by the export's own customer columns, kept as custom attributes
  (`customer_attributes`, written by the importer): ``(("payment_method", ("card",)),)``
  keeps customers whose payment_method is card. Several attributes combine with AND,
  values of one with OR, as for segments.
- `channels` is the contact channel of a touchpoint. It restricts touchpoint-based metrics
  (service, funnel, signals); customer and revenue metrics are not channel-specific and
  ignore it (docs/decisions/003-channel-filter-scope.md).
- `start`/`end` is the reporting period, both days inclusive; `end` is also the as-of date
  for point-in-time figures. Functions that need the period read it from the filter;
  the population filters here do not cut by date, because "active at the period start"
  needs customers who signed up before it.
- Duplicate records count once (docs/metrics.md#duplicate-customers,
  docs/decisions/014-duplicate-customers.md): a customer record that shares the
  data-quality check's duplicate key with a record of lower id is *superseded*
  (analytics/duplicates.py) and left out of `customers()`, and its touchpoints and revenue
  rows out of `touchpoints()` and `monthly_revenue()`. Only the data-quality checks, which
  exist to find such records, ask for `every_record=True`.

Values reach the SQL through Ibis, which quotes literals itself; nothing is formatted into
SQL text by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import ibis

from analytics.db import Database
from analytics.duplicates import without_superseded


@dataclass(frozen=True)
class RetentionFilter:
    """The sidebar selection. Frozen and hashable so it can key a cache."""

    start: date
    end: date
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    # ((attribute, (value, ...)), ...): custom attributes, sorted by name; empty choices dropped
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"filter start {self.start} is after its end {self.end}")
        for name in ("segments", "regions", "plans", "channels"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        pairs = self.attributes.items() if isinstance(self.attributes, dict) else self.attributes
        object.__setattr__(self, "attributes", tuple(sorted(
            (str(name), tuple(values)) for name, values in pairs if values)))

    @property
    def as_of(self) -> date:
        """Point-in-time figures (active customers, current MRR) are taken at the end."""
        return self.end

    def with_period(self, start: date, end: date) -> "RetentionFilter":
        return replace(self, start=start, end=end)


def _restrict(table: ibis.Table, column: str, values: tuple[str, ...]) -> ibis.Table:
    return table.filter(table[column].isin(values)) if values else table


def customers(db: Database, flt: RetentionFilter, every_record: bool = False) -> ibis.Table:
    """Customers in the selected segments, regions and plans (all signup dates), each
    person once: superseded duplicate records are left out unless `every_record`."""
    t = db.table("customers")
    if not every_record:
        t = without_superseded(db, t)
    t = _restrict(t, "segment", flt.segments)
    t = _restrict(t, "region", flt.regions)
    t = _restrict(t, "plan", flt.plans)
    if flt.attributes:
        a = db.table("customer_attributes")
        for name, values in flt.attributes:
            chosen = a.filter(a.attribute == name, a.value.isin(values))
            t = t.semi_join(chosen, t.customer_id == chosen.customer_id)
    return t


def _customer_restricted(flt: RetentionFilter) -> bool:
    return bool(flt.segments or flt.regions or flt.plans or flt.attributes)


def _follow_customers(db: Database, flt: RetentionFilter, rows: ibis.Table, every_record: bool) -> ibis.Table:
    """`rows` of the selected customers: a semi-join with `customers()` under a population
    filter (which also drops superseded records), else only the superseded records' rows
    dropped (rows of ids without a customer record stay, as before)."""
    if _customer_restricted(flt):
        c = customers(db, flt, every_record)
        return rows.semi_join(c, rows.customer_id == c.customer_id)
    return rows if every_record else without_superseded(db, rows)


def touchpoints(db: Database, flt: RetentionFilter, in_period: bool = True,
                every_record: bool = False) -> ibis.Table:
    """Touchpoints of the selected customers, in the selected channels.

    `in_period=True` keeps touchpoints whose `occurred_at` falls within start..end (days
    inclusive); False keeps the whole history up to the end (for look-back windows).
    Touchpoints of superseded duplicate records are left out unless `every_record`.
    """
    t = db.table("touchpoints")
    t = _restrict(t, "channel", flt.channels)
    upper = ibis.literal(flt.end).cast("timestamp") + ibis.interval(days=1)
    t = t.filter(t.occurred_at < upper)
    if in_period:
        t = t.filter(t.occurred_at >= ibis.literal(flt.start).cast("timestamp"))
    return _follow_customers(db, flt, t, every_record)


def monthly_revenue(db: Database, flt: RetentionFilter, every_record: bool = False) -> ibis.Table:
    """Monthly MRR rows of the selected customers (all months; callers cut the period);
    rows of superseded duplicate records are left out unless `every_record`."""
    return _follow_customers(db, flt, db.table("monthly_revenue"), every_record)


def purchases(db: Database, flt: RetentionFilter, in_period: bool = True) -> ibis.Table:
    """Purchases of the selected customers as (customer_id, occurred_at, amount): the
    ``purchase`` touchpoints (in the selected channels) and, when the file has one, the
    imported purchase log (`purchases`, analytics/load.py; no channel, so it is left out
    under a channel filter). Periods as in `touchpoints`."""
    t = touchpoints(db, flt, in_period)
    t = t.filter(t.kind == "purchase")
    # one timestamp type for the union (a stored TIMESTAMP may carry its precision)
    t = t.select("customer_id", occurred_at=t.occurred_at.cast("timestamp"), amount=t.amount.cast("float64"))
    if flt.channels or not db.has_table("purchases"):
        return t
    log = db.table("purchases")
    log = log.select("customer_id", occurred_at=log.purchase_date.cast("timestamp"), amount=log.amount.cast("float64"))
    upper = ibis.literal(flt.end).cast("timestamp") + ibis.interval(days=1)
    log = log.filter(log.occurred_at < upper)
    if in_period:
        log = log.filter(log.occurred_at >= ibis.literal(flt.start).cast("timestamp"))
    return t.union(_follow_customers(db, flt, log, every_record=False))
