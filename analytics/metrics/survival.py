"""Customer survival: Kaplan–Meier curves with 95% confidence bands, median lifetime and
the log-rank test between groups (docs/metrics.md#survival-curve).

Each selected customer who signed up on or before the as-of date ``flt.end`` contributes
one duration: from ``signup_date`` to ``churn_date`` when they churned on or before the
as-of date (event), else to the as-of date (right-censored: still active, or leaving only
later). Durations are whole days; ``unit="months"`` divides by 30.4375 (= 365.25 / 12).
The filter's start does not cut the population unless ``signed_up_in_period=True`` (then
only customers who signed up in ``[flt.start, flt.end]``). Records with
``churn_date < signup_date`` are left out.

The heavy lifting stays in DuckDB: customers are counted per (group, duration, event) and
lifelines is fed those counts as case weights, so a million customers become a few
thousand weighted rows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import ibis
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import (
    CUSTOMER_DIMENSIONS,
    DAYS_PER_MONTH,
    check_dimension,
    conform,
    empty_frame,
    execute,
)

Unit = Literal["days", "months"]

CURVE_COLUMNS: dict[str, str] = {
    "group": "string",
    "timeline": "float64",
    "survival": "float64",
    "ci_lower": "float64",
    "ci_upper": "float64",
    "at_risk": "int64",
    "events": "int64",
    "censored": "int64",
}

MEDIAN_COLUMNS: dict[str, str] = {
    "group": "string",
    "customers": "int64",
    "churned": "int64",
    "median_lifetime": "float64",
    "median_ci_lower": "float64",
    "median_ci_upper": "float64",
}


@dataclass(frozen=True)
class LogrankResult:
    """Multivariate log-rank test of equal survival across the groups of one dimension.

    ``test_statistic`` is chi-squared with ``degrees_of_freedom`` = groups - 1; NaN with
    fewer than two groups holding customers."""

    dimension: str
    groups: tuple[str, ...]
    test_statistic: float
    degrees_of_freedom: int
    p_value: float


def survival_durations(
    db: Database,
    flt: RetentionFilter,
    by: str | None = None,
    signed_up_in_period: bool = False,
) -> pd.DataFrame:
    """Customers counted per (group, duration_days, event): the aggregated input of every
    survival function. ``event`` is 1 for a churn on or before the as-of date, 0 for a
    censored duration. Columns ``group``, ``duration_days``, ``event``, ``customers``."""
    if by is not None:
        check_dimension(by, CUSTOMER_DIMENSIONS)
    as_of = ibis.literal(flt.as_of)
    c = customers(db, flt)
    c = c.filter(c.signup_date <= as_of, c.churn_date.isnull() | (c.churn_date >= c.signup_date))
    if signed_up_in_period:
        c = c.filter(c.signup_date >= flt.start)
    event = c.churn_date.notnull() & (c.churn_date <= as_of)
    end = ibis.cases((event, c.churn_date), else_=as_of)
    group = c[by].cast("string").fill_null("(missing)") if by else ibis.literal("all")
    agg = c.group_by(
        group=group,
        duration_days=end.delta(c.signup_date, unit="day"),
        event=event.cast("int8"),
    ).aggregate(customers=c.count())
    df = execute(db, agg)
    return df.sort_values(["group", "duration_days", "event"]).reset_index(drop=True)


def _fit(g: pd.DataFrame, scale: float, label: str) -> KaplanMeierFitter:
    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        # lifelines warns when a weighted fit's CI uses the (frequency-weight) Greenwood
        # formula; with integer case counts that is exactly the unweighted estimate.
        warnings.simplefilter("ignore")
        kmf.fit(
            g["duration_days"].to_numpy(dtype=float) / scale,
            event_observed=g["event"].to_numpy(),
            weights=g["customers"].to_numpy(dtype=float),
            label=label,
        )
    return kmf


def _first_time_at_or_below(curve: pd.Series, q: float = 0.5) -> float:
    """First time the step function `curve` (index = time) is <= q; inf if it never is.

    lifelines multiplies the KM factors on the log scale, so a curve that should be
    exactly 0.5 can come out as 0.5000000000000001; the tolerance absorbs that (lifelines'
    own `median_survival_time_` would report inf there)."""
    hit = curve.to_numpy() <= q + 1e-9
    return float(curve.index[hit.argmax()]) if hit.any() else math.inf


def _scale(unit: str) -> float:
    if unit not in ("days", "months"):
        raise ValueError(f"unit must be 'days' or 'months', got {unit!r}")
    return 1.0 if unit == "days" else DAYS_PER_MONTH


def kaplan_meier(
    db: Database,
    flt: RetentionFilter,
    by: str | None = None,
    unit: Unit = "days",
    signed_up_in_period: bool = False,
) -> pd.DataFrame:
    """Kaplan–Meier survival curve per group with a 95% confidence band.

    S(t) = Π_{t_i <= t} (1 - d_i / n_i), where n_i = customers still at risk just before
    t_i (durations >= t_i) and d_i = churns at t_i; censored customers leave the risk set
    after their duration (Kaplan & Meier 1958). The band is lifelines' default
    exponential-Greenwood ("log(-log)") interval. Output: one row per group and distinct
    duration (plus t = 0): ``group`` (dimension value, or 'all'), ``timeline`` (days or
    months), ``survival``, ``ci_lower``, ``ci_upper``, ``at_risk``, ``events``,
    ``censored`` (customers censored at that time). Empty selection -> empty frame.
    """
    return kaplan_meier_from_durations(survival_durations(db, flt, by, signed_up_in_period), unit)


def kaplan_meier_from_durations(durations: pd.DataFrame, unit: Unit = "days") -> pd.DataFrame:
    """`kaplan_meier` of a `survival_durations` frame already fetched (the page fetches
    the durations once and derives curves, medians and the log-rank test from them)."""
    scale = _scale(unit)
    if durations.empty:
        return empty_frame(CURVE_COLUMNS)
    parts = []
    for group, g in durations.groupby("group", sort=True):
        kmf = _fit(g, scale, str(group))
        curve = pd.concat(
            [kmf.survival_function_, kmf.confidence_interval_, kmf.event_table], axis=1
        )
        curve.columns = ["survival", "ci_lower", "ci_upper"] + list(kmf.event_table.columns)
        curve = curve.reset_index(names="timeline")
        curve["group"] = str(group)
        curve = curve.rename(columns={"observed": "events"})
        parts.append(curve)
    out = pd.concat(parts, ignore_index=True)
    out["ci_lower"] = out["ci_lower"].fillna(out["survival"])
    out["ci_upper"] = out["ci_upper"].fillna(out["survival"])
    return conform(out, CURVE_COLUMNS)


def median_lifetime(
    db: Database,
    flt: RetentionFilter,
    by: str | None = None,
    unit: Unit = "months",
    signed_up_in_period: bool = False,
) -> pd.DataFrame:
    """Median customer lifetime per group: the first time the Kaplan–Meier curve drops to
    0.5 or below, with the 95% interval = the first times the band's lower and upper
    curves drop to 0.5 (as lifelines' `median_survival_times`). ``inf`` when the curve has not reached 0.5 by the longest
    observed duration (more than half the customers outlive the data). Columns ``group``,
    ``customers``, ``churned`` (events), ``median_lifetime``, ``median_ci_lower``,
    ``median_ci_upper``; empty selection -> empty frame."""
    return median_lifetime_from_durations(survival_durations(db, flt, by, signed_up_in_period), unit)


def median_lifetime_from_durations(durations: pd.DataFrame, unit: Unit = "months") -> pd.DataFrame:
    """`median_lifetime` of a `survival_durations` frame already fetched."""
    scale = _scale(unit)
    if durations.empty:
        return empty_frame(MEDIAN_COLUMNS)
    rows = []
    for group, g in durations.groupby("group", sort=True):
        kmf = _fit(g, scale, str(group))
        ci = kmf.confidence_interval_
        rows.append(
            {
                "group": str(group),
                "customers": int(g["customers"].sum()),
                "churned": int(g.loc[g["event"] == 1, "customers"].sum()),
                "median_lifetime": _first_time_at_or_below(kmf.survival_function_.iloc[:, 0]),
                # The band's lower curve crosses 0.5 first: it bounds the median from below.
                "median_ci_lower": _first_time_at_or_below(ci.iloc[:, 0]),
                "median_ci_upper": _first_time_at_or_below(ci.iloc[:, 1]),
            }
        )
    return conform(pd.DataFrame(rows), MEDIAN_COLUMNS)


def survival_logrank(
    db: Database,
    flt: RetentionFilter,
    by: str,
    signed_up_in_period: bool = False,
) -> LogrankResult:
    """Multivariate log-rank test (lifelines `multivariate_logrank_test`, durations in
    days, case weights = customer counts) of H0: every group of dimension `by` has the
    same churn hazard. A small p-value says the curves differ; it does not say which."""
    return logrank_from_durations(survival_durations(db, flt, by, signed_up_in_period), by)


def logrank_from_durations(durations: pd.DataFrame, by: str) -> LogrankResult:
    """`survival_logrank` of a `survival_durations` frame (grouped by `by`) already fetched."""
    groups = tuple(sorted(durations["group"].unique())) if not durations.empty else ()
    if len(groups) < 2:
        return LogrankResult(by, groups, float("nan"), max(len(groups) - 1, 0), float("nan"))
    result = multivariate_logrank_test(
        durations["duration_days"].to_numpy(dtype=float),
        durations["group"].to_numpy(),
        durations["event"].to_numpy(),
        weights=durations["customers"].to_numpy(dtype=float),
    )
    return LogrankResult(
        dimension=by,
        groups=groups,
        test_statistic=float(result.test_statistic),
        degrees_of_freedom=int(result.degrees_of_freedom),
        p_value=float(result.p_value),
    )
