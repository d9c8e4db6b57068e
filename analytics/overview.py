"""Headline figures for the Overview page: the customer base and MRR at an as-of date.

Definitions (docs/metrics.md):
- **Active customers** on day d: `signup_date ≤ d` and (`churn_date` is NULL or
  `churn_date > d`).
- **Trailing churn rate** over the N days ending at d: customers active on d − N who
  churned in (d − N, d], divided by the customers active on d − N. Customers who sign up
  inside the window are not in the denominator (they were not at risk at its start).
- **Current MRR** at d: the sum of `monthly_revenue.mrr` for d's calendar month over the
  customers active on d.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import ibis
import pandas as pd

from analytics import filters
from analytics.db import Database
from analytics.filters import RetentionFilter


def active_on(customers: ibis.Table, day: date) -> ibis.ir.BooleanColumn:
    """Predicate: the customer is active on `day` (see module docstring)."""
    d = ibis.literal(day)
    return (customers.signup_date <= d) & (customers.churn_date.isnull() | (customers.churn_date > d))


@dataclass(frozen=True)
class BaseSnapshot:
    """The customer base at `as_of` with trailing churn over 30 and 90 days."""

    as_of: date
    active_customers: int
    churn_rate_30d: float | None  # None when nobody was active at the window start
    churn_rate_90d: float | None
    churned_30d: int
    churned_90d: int
    mrr: float


def _trailing(customers: ibis.Table, as_of: date, days: int) -> tuple[ibis.Scalar, ibis.Scalar]:
    start = as_of - timedelta(days=days)
    at_risk = active_on(customers, start)
    churned = at_risk & (customers.churn_date <= ibis.literal(as_of))
    return at_risk.sum(), churned.sum()


def base_snapshot(db: Database, flt: RetentionFilter, as_of: date | None = None) -> BaseSnapshot:
    """Active customers, trailing 30/90-day logo churn rate and current MRR at `as_of`
    (default: the filter's end date) for the filter's population. One aggregate query
    over customers plus one over monthly revenue."""
    as_of = as_of or flt.as_of
    c = filters.customers(db, flt)
    risk30, churn30 = _trailing(c, as_of, 30)
    risk90, churn90 = _trailing(c, as_of, 90)
    row = c.aggregate(
        active=active_on(c, as_of).sum(),
        risk30=risk30, churn30=churn30, risk90=risk90, churn90=churn90,
    ).execute().iloc[0]

    r = filters.monthly_revenue(db, flt)
    active_ids = c.filter(active_on(c, as_of)).select("customer_id")
    month_start = as_of.replace(day=1)
    mrr = (
        r.filter(r.month == ibis.literal(month_start))
        .semi_join(active_ids, "customer_id")
        .mrr.sum()
        .execute()
    )

    def rate(churned, at_risk) -> float | None:
        at_risk = int(at_risk or 0)
        return int(churned or 0) / at_risk if at_risk else None

    return BaseSnapshot(
        as_of=as_of,
        active_customers=int(row["active"] or 0),
        churn_rate_30d=rate(row["churn30"], row["risk30"]),
        churn_rate_90d=rate(row["churn90"], row["risk90"]),
        churned_30d=int(row["churn30"] or 0),
        churned_90d=int(row["churn90"] or 0),
        mrr=0.0 if pd.isna(mrr) else float(mrr),
    )


def dimension_values(db: Database) -> dict[str, list[str]]:
    """Distinct values of each filterable dimension, sorted (for the sidebar's choices)."""
    c = db.table("customers")
    t = db.table("touchpoints")
    values = {
        key: sorted(v for v in c.select(column).distinct().execute()[column] if v is not None)
        for key, column in (("segments", "segment"), ("regions", "region"), ("plans", "plan"))
    }
    values["channels"] = sorted(v for v in t.select("channel").distinct().execute()["channel"] if v is not None)
    return values


def earliest_signup(db: Database) -> date:
    """The first signup date in the file (a fallback history start for imported data)."""
    c = db.table("customers")
    return pd.Timestamp(c.signup_date.min().execute()).date()
