"""Customer base movements and logo churn (docs/metrics.md#logo-churn-rate).

Counting rules shared by every function here (docs/metrics.md#customer-base):
- A customer is **active on day d** when ``signup_date <= d`` and (``churn_date`` is NULL
  or ``churn_date > d``).
- **Active at the period start** = active at the start of its first day = active on the
  day before it. **Active at the period end** = active on its last day. So the closing
  count of one period is the opening count of the next.
- **New** = signed up during the period. **Churned** = ``churn_date`` falls in the period
  (customers active at the start *and* customers new in the period who already left).
- ``active_start + new - churned = active_end`` holds for every period.
- Records with ``churn_date < signup_date`` are inconsistent (data-quality check
  ``churn_before_signup``) and are left out of every count.
- **Reactivated** is not reported: the schema has one signup and at most one churn per
  ``customer_id`` — a returning customer gets a new ``customer_id`` and counts as new.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import ibis

from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import (
    Freq,
    conform,
    empty_frame,
    period_index,
    periods,
    ratio,
)

CHURN_COLUMNS: dict[str, str] = {
    "period": "string",
    "period_start": "datetime64[ns]",
    "period_end": "datetime64[ns]",
    "partial": "bool",
    "active_start": "int64",
    "new": "int64",
    "churned": "int64",
    "churned_from_start": "int64",
    "active_end": "int64",
    "churn_rate": "float64",
    "retention_rate": "float64",
}


def consistent_customers(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The selected customers without inconsistent records (``churn_date < signup_date``),
    the population of every count here and of revenue retention's book."""
    c = customers(db, flt)
    return c.filter(c.churn_date.isnull() | (c.churn_date >= c.signup_date))


def churn_by_period(db: Database, flt: RetentionFilter, freq: Freq = "month") -> pd.DataFrame:
    """Customer counts and logo churn per calendar month or quarter of ``[flt.start, flt.end]``.

    Definition (docs/metrics.md#logo-churn-rate), per period ``[s, e]``:

        churn_rate     = churned_from_start / active_start
        retention_rate = 1 - churn_rate

    where ``active_start`` = customers active at the start of day ``s`` and
    ``churned_from_start`` = those of them whose ``churn_date`` is in ``[s, e]``. Customers
    who sign up and leave inside the same period count in ``new`` and ``churned`` but not
    in the rate (they were not in its denominator). Calendar periods are clipped to the
    filter range; a clipped (``partial``) period's rate is over the shorter span and is
    not scaled up. A period with nobody active at its start has NaN rates.

    Returns one row per period with columns ``period`` ('2024-03' or '2024Q1'),
    ``period_start``, ``period_end``, ``partial``, ``active_start``, ``new``, ``churned``,
    ``churned_from_start``, ``active_end``, ``churn_rate``, ``retention_rate``. When no
    selected customer is active or new in any period the frame is empty (same columns).

    ``freq="range"`` gives the single custom period (see `churn_summary`).
    """
    spans = periods(flt.start, flt.end, freq)
    n = len(spans)
    df = _signup_churn_counts(db, flt, freq)
    if df.empty or df["customers"].sum() == 0:
        return empty_frame(CHURN_COLUMNS)
    sig = df["sig"].to_numpy()[:, None]
    chn = df["chn"].to_numpy()[:, None]
    w = df["customers"].to_numpy()[:, None]
    p = np.arange(n)[None, :]
    active_start = (w * ((sig < p) & (chn >= p))).sum(axis=0)
    new = (w * (sig == p)).sum(axis=0)
    churned = (w * ((chn == p) & (sig <= p))).sum(axis=0)
    churned_from_start = (w * ((chn == p) & (sig < p))).sum(axis=0)
    active_end = (w * ((sig <= p) & (chn > p))).sum(axis=0)
    churn_rate = ratio(churned_from_start, active_start)
    out = pd.DataFrame(
        {
            "period": [s.label for s in spans],
            "period_start": [s.start for s in spans],
            "period_end": [s.end for s in spans],
            "partial": [s.partial for s in spans],
            "active_start": active_start,
            "new": new,
            "churned": churned,
            "churned_from_start": churned_from_start,
            "active_end": active_end,
            "churn_rate": churn_rate,
            "retention_rate": 1.0 - churn_rate,
        }
    )
    return conform(out, CHURN_COLUMNS)


@cube(keys=("sig", "chn"), channel_filter=False)
def _signup_churn_counts(db: Database, flt: RetentionFilter, freq: Freq) -> ibis.Table:
    """Customers counted by (period index of signup, of churn) and population cell — one
    scan per period; everything in `churn_by_period` is arithmetic on the filter's slice,
    an (n+1)^2-row table."""
    spans = periods(flt.start, flt.end, freq)
    c = consistent_customers(db, flt)
    c = c.filter(c.signup_date <= flt.end, c.churn_date.isnull() | (c.churn_date >= flt.start))
    return c.group_by(
        *POPULATION,
        sig=period_index(c.signup_date, spans, freq),
        chn=period_index(c.churn_date, spans, freq),
    ).aggregate(customers=c.count())


def churn_summary(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """The same counts and rates as `churn_by_period` for the custom period
    ``[flt.start, flt.end]`` as a whole: one row (``period`` = 'start..end',
    ``partial`` False), or an empty frame with the same columns for an empty selection.

    Over a multi-month range the rate is the share of the customers active at the range
    start who left before its end — not the mean of the monthly rates."""
    return churn_by_period(db, flt, freq="range")


def active_customers(db: Database, flt: RetentionFilter) -> int:
    """Customers of the selection active on ``flt.as_of`` (= ``flt.end``), by the day rule
    above (inconsistent records excluded). 0 for an empty selection."""
    return int(_active_count(db, flt)["n"].iloc[0])


@cube(channel_filter=False)
def _active_count(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Customers active on ``flt.as_of`` per population cell (one row after the slice)."""
    c = consistent_customers(db, flt)
    d = flt.as_of
    c = c.filter(c.signup_date <= d, c.churn_date.isnull() | (c.churn_date > d))
    return c.group_by(*POPULATION).aggregate(n=c.count())
