"""Signup-cohort retention matrices, logo and revenue (docs/metrics.md#cohort-retention).

A cohort is the customers who signed up in one calendar month of the filter range (and on
or before the as-of date ``flt.end``). Results are long ("tidy"): one row per cohort ×
months since signup; pivot ``retention`` on ``cohort`` × ``months_since_signup`` for the
triangle.
"""

from __future__ import annotations

from typing import Literal

import ibis
import numpy as np
import pandas as pd

from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, monthly_revenue
from analytics.metrics._common import (
    conform,
    empty_frame,
    month_start,
    whole_months,
)

COHORT_COLUMNS: dict[str, str] = {
    "cohort": "datetime64[ns]",
    "months_since_signup": "int64",
    "cohort_customers": "int64",
    "base": "float64",
    "retained": "float64",
    "retention": "float64",
    "complete": "bool",
}

# Lifetime of a customer who has not churned, in months: beyond any observable age.
_NEVER = 100_000


def cohort_retention(
    db: Database, flt: RetentionFilter, basis: Literal["logo", "revenue"] = "logo"
) -> pd.DataFrame:
    """Cohort retention triangle, month 0 = 100% by construction.

    Cohorts: signup months from the month of ``flt.start`` to the month of ``flt.end``;
    ages k = 0 .. the months elapsed to the as-of date ``flt.end``.

    ``basis="logo"`` — for k >= 1 a customer is retained at age k when active on the day
    ``signup_date + k months`` (active-on-day rule; the day is clamped to month end).
    Age k of a customer is observable when ``signup_date + k months <= as_of``; customers
    not yet that old are censored, not counted as lost: ``base`` = cohort customers
    observable at age k, ``retained`` = those of them active then, ``retention`` =
    retained / base, and ``complete`` says every cohort member is observable. At k = 0
    every member counts as retained (base = retained = cohort size).

    ``basis="revenue"`` — ``base`` = the cohort's MRR in its signup month (month 0),
    ``retained`` = the same customers' MRR in calendar month cohort + k (expansion
    included, so it can exceed 100%; a prorated first month also lifts later ratios);
    ``complete`` is always True (months up to the as-of month are billed).

    Customers with ``churn_date < signup_date`` (inconsistent) are left out. Columns:
    ``cohort`` (month start), ``months_since_signup``, ``cohort_customers``, ``base``,
    ``retained``, ``retention``, ``complete``; empty selection -> empty frame.
    """
    if basis not in ("logo", "revenue"):
        raise ValueError(f"basis must be 'logo' or 'revenue', got {basis!r}")
    if basis == "logo":
        return _logo_cohorts(db, flt)
    return _revenue_cohorts(db, flt)


def _members(db: Database, flt: RetentionFilter) -> ibis.Table:
    """The customers of the cohorts: signed up from the month of ``flt.start`` to the
    as-of date, consistent dates."""
    c = customers(db, flt)
    return c.filter(
        c.signup_date >= month_start(flt.start),
        c.signup_date <= flt.as_of,
        c.churn_date.isnull() | (c.churn_date >= c.signup_date),
    )


@cube(keys=("cohort", "observed", "lifetime"), channel_filter=False)
def _logo_cohort_counts(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Cohort members counted by cohort, months observable (``observed``), whole months
    survived capped at it (``lifetime``) and population cell: the logo triangle is
    arithmetic on the filter's slice."""
    c = _members(db, flt)
    observed = whole_months(c.signup_date, ibis.literal(flt.as_of), strict=False)
    lifetime = ibis.cases(
        (c.churn_date.isnull(), _NEVER),
        else_=whole_months(c.signup_date, c.churn_date, strict=True),
    )
    counted = c.select(
        *POPULATION, cohort=c.signup_date.truncate("M").cast("date"), observed=observed, lifetime=lifetime
    )
    counted = counted.mutate(lifetime=ibis.least(counted.lifetime, counted.observed))
    return counted.group_by([*POPULATION, "cohort", "observed", "lifetime"]).aggregate(n=counted.count())


def _logo_cohorts(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    df = _logo_cohort_counts(db, flt)
    if df.empty:
        return empty_frame(COHORT_COLUMNS)
    rows = []
    for cohort, g in df.groupby("cohort", sort=True):
        size = int(g["n"].sum())
        obs, life, n = (g[k].to_numpy() for k in ("observed", "lifetime", "n"))
        for k in range(int(obs.max()) + 1):
            base = n[obs >= k].sum()
            retained = base if k == 0 else n[(obs >= k) & (life >= k)].sum()
            rows.append((cohort, k, size, base, retained, base == size))
    out = pd.DataFrame(
        rows,
        columns=["cohort", "months_since_signup", "cohort_customers", "base", "retained", "complete"],
    )
    out["retention"] = out["retained"] / out["base"]
    return conform(out, COHORT_COLUMNS)


@cube(keys=("cohort",), channel_filter=False)
def _cohort_sizes(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Cohort members per cohort and population cell."""
    c = _members(db, flt)
    members = c.select(*POPULATION, cohort=c.signup_date.truncate("M").cast("date"))
    return members.group_by([*POPULATION, "cohort"]).aggregate(cohort_customers=members.count())


@cube(keys=("cohort", "age"), channel_filter=False)
def _cohort_mrr(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Σ MRR of the cohort members per cohort, calendar month since the cohort's
    (``age``, up to the as-of month) and population cell."""
    c = _members(db, flt)
    members = c.select(c.customer_id, *POPULATION, cohort=c.signup_date.truncate("M").cast("date"))
    r = monthly_revenue(db, flt)
    r = r.filter(r.month <= month_start(flt.as_of))
    j = r.join(members, r.customer_id == members.customer_id).select(
        *(members[d] for d in POPULATION),
        members.cohort,
        age=(r.month.year() - members.cohort.year()) * 12 + (r.month.month() - members.cohort.month()),
        mrr=r.mrr.cast("float64"),
    )
    j = j.filter(j.age >= 0)
    return j.group_by([*POPULATION, "cohort", "age"]).aggregate(mrr=j.mrr.sum())


def _revenue_cohorts(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    as_of = flt.as_of
    df, size_df = _cohort_mrr(db, flt), _cohort_sizes(db, flt)
    if size_df.empty:
        return empty_frame(COHORT_COLUMNS)
    last_month = month_start(as_of)
    rows = []
    df["cohort"] = pd.to_datetime(df["cohort"])
    size_df["cohort"] = pd.to_datetime(size_df["cohort"])
    mrr_by = {(c, int(a)): float(m) for c, a, m in zip(df["cohort"], df["age"], df["mrr"])}
    for cohort, size in sorted(zip(size_df["cohort"], size_df["cohort_customers"])):
        base = mrr_by.get((cohort, 0), 0.0)
        max_age = (last_month.year - cohort.year) * 12 + last_month.month - cohort.month
        for k in range(max_age + 1):
            rows.append((cohort, k, int(size), base, mrr_by.get((cohort, k), 0.0), True))
    out = pd.DataFrame(
        rows,
        columns=["cohort", "months_since_signup", "cohort_customers", "base", "retained", "complete"],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["retention"] = np.where(out["base"] > 0, out["retained"] / out["base"].where(out["base"] > 0, 1), np.nan)
    return conform(out, COHORT_COLUMNS)
