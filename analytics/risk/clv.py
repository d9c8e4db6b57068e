"""Subscription customer lifetime value (CLV) — historical, future and predictive — and
expected loss.

Definitions (the product brief's metric definitions, /work/shared/product-brief.md):

**Historical CLV** — margin earned to date, within the recorded history:

    CLV_hist = m · ( Σ_{months ≤ as-of month} mrr_month + Σ_{purchases ≤ as-of} amount )

with m the customer's `margin_rate` (`monthly_revenue` rows and `purchase` touchpoints
with a positive amount, both dated on or before the as-of date). For a customer who signed
up before the history starts it counts only the margin since then (truncated).

**Future value** (`clv_future`) — the margin still to come: the brief's predictive CLV for
subscriptions, "discounted expected remaining margin from the customer's survival", over the
next H months, from a monthly survival derived from the calibrated 90-day churn probability p:

    h    = 1 − (1 − p)^(1/3)                       monthly hazard, constant over the horizon
    S(t) = (1 − h)^t                               P(still a customer at the start of month t)
    δ    = (1 + d)^(−1/12)                         monthly discount factor, d = annual rate
    CLV_future = Σ_{t=1}^{H} M · S(t) · δ^t
               = M · q (1 − q^H) / (1 − q),   q = (1 − h) δ   (= M·H when q = 1)

M = current MRR × m, the monthly recurring margin. Defaults H = 24 months, d = 10 %.
The month of the as-of date is already billed, so it sits in CLV_hist and the sum starts
at t = 1. One-off purchases are not projected forward (recurring margin only).
It is the *expected* remaining margin, weighted by the customer's own survival — not the
larger "margin if they surely stay" (M · Σ δ^t): a customer at risk is worth what they are
expected to bring, and the at-risk ranking and the ROI then never count margin twice.

**Predictive CLV** (`clv_predicted`) — the whole relationship, earned plus to come:

    CLV_pred = CLV_hist + CLV_future

**Expected loss** (at-risk priority; "margin at risk" when summed) — churn probability over
the horizon × the future value at stake, never margin already earned:

    expected_loss = p × CLV_future          (= p × (CLV_pred − CLV_hist))

Until issue 14 it was p × CLV_pred, which counted the banked CLV_hist as "at risk" (about
half of the total on the generated sample). It is margin, not revenue.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Sequence

import ibis
import numpy as np
import pandas as pd

from analytics.db import Database
from analytics.risk.features import active_customers

DEFAULT_HORIZON_MONTHS = 24
DEFAULT_ANNUAL_DISCOUNT = 0.10


def monthly_hazard(p90: np.ndarray | float) -> np.ndarray:
    """h = 1 − (1 − p90)^(1/3): the constant monthly hazard with the same 3-month churn
    probability."""
    p = np.asarray(p90, dtype=float)
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("churn probabilities must lie in [0, 1]")
    return 1.0 - np.power(1.0 - p, 1.0 / 3.0)


def expected_remaining_margin(
    monthly_margin: np.ndarray | float,
    p90: np.ndarray | float,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    annual_discount: float = DEFAULT_ANNUAL_DISCOUNT,
) -> np.ndarray:
    """Σ_{t=1}^{H} M · (1 − h)^t · (1 + d)^(−t/12) in closed form (module docstring)."""
    if horizon_months < 0 or int(horizon_months) != horizon_months:
        raise ValueError(f"horizon_months must be a whole number ≥ 0, got {horizon_months}")
    if annual_discount <= -1:
        raise ValueError(f"annual_discount must be > -1, got {annual_discount}")
    margin = np.asarray(monthly_margin, dtype=float)
    q = (1.0 - monthly_hazard(p90)) * (1.0 + annual_discount) ** (-1.0 / 12.0)
    q = np.broadcast_to(q, np.broadcast_shapes(q.shape, margin.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = np.where(np.isclose(q, 1.0), float(horizon_months),
                             q * (1.0 - q ** horizon_months) / (1.0 - q))
    return margin * geometric


def historical_clv(recurring_revenue: np.ndarray, purchase_revenue: np.ndarray,
                   margin_rate: np.ndarray) -> np.ndarray:
    """m · (recurring revenue to date + purchases to date)."""
    return (np.asarray(recurring_revenue, dtype=float) + np.asarray(purchase_revenue, dtype=float)) \
        * np.asarray(margin_rate, dtype=float)


def predicted_clv(clv_hist: np.ndarray, clv_future: np.ndarray) -> np.ndarray:
    """CLV_pred = CLV_hist + CLV_future (margin earned to date + expected discounted
    remaining margin over the horizon, `expected_remaining_margin`)."""
    return np.asarray(clv_hist, dtype=float) + np.asarray(clv_future, dtype=float)


def expected_loss(p90: np.ndarray, clv_future: np.ndarray) -> np.ndarray:
    """Expected loss = p × CLV_future: the churn probability over the horizon × the margin
    still to come. Pass the *future* value, never a CLV that includes margin already
    earned (module docstring)."""
    return np.asarray(p90, dtype=float) * np.asarray(clv_future, dtype=float)


def clv_inputs(db: Database, as_of: date, customer_ids: Sequence[int] | None = None) -> pd.DataFrame:
    """Per customer active on `as_of`: `margin_rate`, `mrr` (the as-of month's billed MRR,
    else the customer's stated `monthly_revenue`), `recurring_revenue` (Σ MRR of months
    starting on or before the as-of date) and `purchase_revenue` (Σ positive purchase
    amounts up to the as-of date). Aggregated in the database; sorted by customer_id."""
    pop = active_customers(db, as_of)
    r = db.table("monthly_revenue")
    t = db.table("touchpoints")
    if customer_ids is not None:
        ids = ibis.memtable(pd.DataFrame({"customer_id": np.asarray(customer_ids, dtype="int64")}))
        pop = pop.semi_join(ids, pop.customer_id == ids.customer_id)
    month = ibis.literal(as_of.replace(day=1))
    r = r.filter(r.month <= month)
    revenue = r.group_by("customer_id").aggregate(
        recurring_revenue=r.mrr.sum(),
        mrr_now=r.mrr.max(where=r.month == month),
    )
    end = datetime.combine(as_of + timedelta(days=1), time())
    t = t.filter((t.kind == "purchase") & (t.amount > 0) & (t.occurred_at < end))
    purchases = t.group_by("customer_id").aggregate(purchase_revenue=t.amount.sum())
    out = (
        pop.select("customer_id", "margin_rate", "monthly_revenue")
        .left_join(revenue, "customer_id").drop("customer_id_right")
        .left_join(purchases, "customer_id").drop("customer_id_right")
    )
    out = out.select(
        "customer_id",
        margin_rate=out.margin_rate.fill_null(0.0),
        mrr=out.mrr_now.fill_null(out.monthly_revenue).fill_null(0.0),
        recurring_revenue=out.recurring_revenue.fill_null(0.0),
        purchase_revenue=out.purchase_revenue.fill_null(0.0),
    ).order_by("customer_id")
    df = db.ibis().to_pandas(out)
    return df.astype({"customer_id": "int64", "margin_rate": "float64", "mrr": "float64",
                      "recurring_revenue": "float64", "purchase_revenue": "float64"})


def customer_value(inputs: pd.DataFrame, p90: np.ndarray,
                   horizon_months: int = DEFAULT_HORIZON_MONTHS,
                   annual_discount: float = DEFAULT_ANNUAL_DISCOUNT) -> pd.DataFrame:
    """`clv_historical`, `clv_future`, `clv_predicted` (= historical + future) and
    `expected_loss` (= p × clv_future) for the rows of `clv_inputs` (same order) given
    their 90-day churn probabilities (definitions in the module docstring)."""
    hist = historical_clv(inputs["recurring_revenue"], inputs["purchase_revenue"], inputs["margin_rate"])
    monthly_margin = inputs["mrr"].to_numpy() * inputs["margin_rate"].to_numpy()
    future = expected_remaining_margin(monthly_margin, p90, horizon_months, annual_discount)
    return pd.DataFrame({
        "customer_id": inputs["customer_id"].to_numpy(),
        "clv_historical": hist,
        "clv_future": future,
        "clv_predicted": predicted_clv(hist, future),
        "expected_loss": expected_loss(p90, future),
    })
