"""The customers behind a headline KPI: who churned in the window, who was saved, who
pays the MRR that churned — the list a KPI card opens on the Overview.

Each list uses the KPI's own definition (docs/metrics.md) and window, so its count is the
card's number; it is capped at `limit` rows (the most recent or largest first) with the
full count beside it. Nothing here imports streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter
from analytics.metrics._common import execute
from analytics.metrics.customer_base import consistent_customers
from analytics.metrics.funnel import saved_requests

LIMIT = 50
LIST_COLUMNS = ("customer_id", "full_name", "segment", "region", "plan", "signup_date", "churn_date",
                "monthly_revenue", "event_date")
LISTS = {"logo_churn": "churned", "saved_customers": "saved"}  # KPI key -> list kind


@dataclass(frozen=True)
class CustomerList:
    """Up to `limit` customers behind a KPI (``customers``, columns `LIST_COLUMNS`;
    ``event_date`` is the churn date or the request that was saved) and how many there are
    in all (``total``)."""

    kind: str
    customers: pd.DataFrame
    total: int

    @property
    def capped(self) -> bool:
        return self.total > len(self.customers)


def _people(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = consistent_customers(db, flt)
    return c.select("customer_id", "full_name", "segment", "region", "plan", "signup_date", "churn_date",
                    monthly_revenue=c.monthly_revenue.cast("float64"))


def churned_customers(db: Database, flt: RetentionFilter, limit: int = LIMIT) -> CustomerList:
    """The customers behind logo churn over ``[flt.start, flt.end]``: active at the start
    (signed up before ``flt.start``, not churned before it) and churned on a day of the
    window — `churned_from_start` of `churn_summary`. Latest churn first."""
    c = _people(db, flt)
    left = c.filter(c.signup_date < flt.start, c.churn_date >= flt.start, c.churn_date <= flt.end)
    left = left.mutate(event_date=left.churn_date)
    return _capped(db, "churned", left, limit)


def saved_customer_list(db: Database, flt: RetentionFilter, limit: int = LIMIT) -> CustomerList:
    """The customers behind saved customers over ``[flt.start, flt.end]`` (`saved_customers`:
    asked to cancel in the window, accepted a retention offer, stayed); ``event_date`` is
    their latest such request. Latest first."""
    saved = saved_requests(db, flt)
    last = saved.group_by("customer_id").aggregate(event_date=saved.requested_at.max().date())
    c = _people(db, flt)
    rows = c.join(last, "customer_id")
    return _capped(db, "saved", rows, limit)


def _capped(db: Database, kind: str, rows: ibis.Table, limit: int) -> CustomerList:
    total = int(execute(db, rows.aggregate(n=rows.count()))["n"].iloc[0])
    head = execute(db, rows.order_by([ibis.desc("event_date"), "customer_id"]).limit(limit))
    head = head[list(LIST_COLUMNS)].reset_index(drop=True)
    return CustomerList(kind, head, total)


def customers_behind(db: Database, key: str, flt: RetentionFilter, limit: int = LIMIT) -> CustomerList:
    """The list for KPI `key` (a key of `LISTS`) over `flt`'s window."""
    if key == "logo_churn":
        return churned_customers(db, flt, limit)
    if key == "saved_customers":
        return saved_customer_list(db, flt, limit)
    raise ValueError(f"no customer list for KPI {key!r}; lists exist for {sorted(LISTS)}")
