"""Customer survival: Kaplan–Meier curves with 95% confidence bands, median lifetime and
the log-rank test between groups (docs/metrics.md#survival-curve), all with delayed entry
(left truncation) for customers who signed up before the data's history starts.

Each selected customer who signed up on or before the as-of date ``flt.end`` contributes
one duration: from ``signup_date`` to ``churn_date`` when they churned on or before the
as-of date (event), else to the as-of date (right-censored: still active, or leaving only
later). Durations are whole days; ``unit="months"`` divides by 30.4375 (= 365.25 / 12).
The filter's start does not cut the population unless ``signed_up_in_period=True`` (then
only customers who signed up in ``[flt.start, flt.end]``). Records with
``churn_date < signup_date`` are left out.

Delayed entry: the data only shows customers from its history start
(`analytics.catalog.history_start`) on. A customer who signed up before it is known to
have lasted at least ``entry = history_start - signup_date`` days — the ones who left
earlier are simply not in the data — so counting them from signup would overstate
survival. Such a customer enters the risk set just after ``entry`` (at risk at t when
``entry < t <= duration``); a customer who signed up within the history has entry 0 and
is at risk from signup on (t = 0 included, so a same-day churn counts). A customer who
signed up before the history start and left (or was last seen) on or before it was never
at risk in the observed window and is left out.

The heavy lifting stays in the engine: customers are counted per (group, entry, duration,
event), so a million customers become a few thousand weighted rows; those counts are
kept as a cube per as-of date over the population cells (analytics/cubes.py), so a
segment, region or plan change only sums kept rows. The risk sets, the
product-limit estimate and the log-rank test are a few vectorised numpy lines over those
rows (docs/decisions/013-left-truncated-survival.md: why not lifelines' fitters, which the
tests use as the reference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import ibis
import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from analytics.catalog import history_start
from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import (
    CUSTOMER_DIMENSIONS,
    DAYS_PER_MONTH,
    check_dimension,
    conform,
    empty_frame,
)

Unit = Literal["days", "months"]

DURATION_COLUMNS = ["group", "entry_days", "duration_days", "event", "customers"]

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
    """Customers counted per (group, entry_days, duration_days, event): the aggregated
    input of every survival function.

    ``entry_days`` = max(0, history_start - signup_date) in days: how long a customer who
    signed up before the history start had already lasted when the data starts to see
    them (0 for everyone who signed up within the history). ``duration_days`` = days from
    signup to churn (``event`` 1, churn on or before the as-of date) or to the as-of date
    (``event`` 0, censored). Customers who signed up before the history start and whose
    duration ends on or before it (``duration_days <= entry_days``) were never at risk
    in the observed window and are left out; in a consistent history none of them
    churned before it. Columns ``group`` (the value of `by`, '(missing)' for none; 'all'
    without `by`), ``entry_days``, ``duration_days``, ``event``, ``customers``, sorted by
    the first four.

    A cube (analytics/cubes.py, decision 016): the counts are additive over population
    cells, and Kaplan–Meier, medians and the log-rank test need nothing else (per time,
    the entries, churns and exits), so a segment, region or plan change is a slice of
    the kept counts. Without `signed_up_in_period` the period's start plays no part, so
    every period ending on the same day shares one cube."""
    if by is not None:
        check_dimension(by, CUSTOMER_DIMENSIONS)
    if not signed_up_in_period:
        flt = flt.with_period(flt.end, flt.end)
    if by is not None and by not in POPULATION:
        df = _survival_counts(db, flt, by, signed_up_in_period)
    else:  # one cube per cell answers "all" and every population column
        cells = _survival_counts(db, flt, None, signed_up_in_period)
        group = "all" if by is None else cells[by].astype(object).where(cells[by].notna(), "(missing)")
        df = (cells.assign(group=group).groupby(DURATION_COLUMNS[:4], sort=True)["customers"].sum()
              .reset_index())
    df["group"] = df["group"].astype(object)
    return df[DURATION_COLUMNS].sort_values(DURATION_COLUMNS[:4]).reset_index(drop=True)


def _survival_keys(by: str | None, signed_up_in_period: bool) -> tuple[str, ...]:
    return (*(POPULATION if by is None else ("group",)), "entry_days", "duration_days", "event")


@cube(keys=_survival_keys, channel_filter=False)
def _survival_counts(db: Database, flt: RetentionFilter, by: str | None,
                     signed_up_in_period: bool) -> ibis.Table:
    """`survival_durations`' customers per population cell, (entry_days, duration_days,
    event) and — with a `by` (not a population column) — ``group`` (its value as a
    string, '(missing)' for NULL). Without `by` the slice keeps the cells (raw values,
    NULL kept): the caller groups them as "all" or by a population column, so one cube
    serves both. The period enters the query: ``flt.end`` is the as-of date, and
    ``flt.start`` cuts signups when `signed_up_in_period`."""
    as_of = ibis.literal(flt.as_of)
    first_day = ibis.literal(history_start(db))
    c = customers(db, flt)
    c = c.filter(c.signup_date <= as_of, c.churn_date.isnull() | (c.churn_date >= c.signup_date))
    if signed_up_in_period:
        c = c.filter(c.signup_date >= flt.start)
    event = c.churn_date.notnull() & (c.churn_date <= as_of)
    c = c.mutate(
        event=event.cast("int8"),
        exit=ibis.cases((event, c.churn_date), else_=as_of),
        entered=ibis.greatest(c.signup_date, first_day),
    )
    # signed up within the history, or still there after its first day
    c = c.filter((c.signup_date >= first_day) | (c.exit > first_day))
    group = {} if by is None else {"group": c[by].cast("string").fill_null("(missing)")}
    return c.group_by(
        *POPULATION,
        **group,
        entry_days=c.entered.delta(c.signup_date, unit="day"),
        duration_days=c.exit.delta(c.signup_date, unit="day"),
        event=c.event,
    ).aggregate(customers=c.count())


def _rows(durations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(entry, duration, event, customers) of a `survival_durations` frame as arrays, after
    checking every row enters the risk set before it leaves."""
    entry = durations["entry_days"].to_numpy(dtype=float)
    duration = durations["duration_days"].to_numpy(dtype=float)
    never_at_risk = (entry > duration) | ((entry == duration) & (entry > 0))
    if never_at_risk.any():
        raise ValueError(
            f"{int(never_at_risk.sum())} row(s) leave on or before their entry (entry_days >= "
            "duration_days > 0); survival_durations leaves such customers out"
        )
    return entry, duration, durations["event"].to_numpy() == 1, durations["customers"].to_numpy(dtype=float)


def _risk_sets(
    times: np.ndarray, group: np.ndarray, n_groups: int, entry: np.ndarray, duration: np.ndarray,
    weight: np.ndarray,
) -> np.ndarray:
    """Left-truncated risk sets: ``n[g, i]`` = customers of group g at risk at ``times[i]``
    (sorted), i.e. with ``entry < times[i] <= duration``, where entry 0 counts as just
    before signup (so customers with entry 0 are at risk at t = 0 too).

    Each row adds its weight from the first time after its entry up to the last time at
    or before its duration: a difference array, summed along the timeline."""
    start = np.where(entry > 0, entry, -1.0)
    first = np.searchsorted(times, start, side="right")  # first time > entry
    stop = np.searchsorted(times, duration, side="right")  # first time > duration
    delta = np.zeros((n_groups, len(times) + 1))
    np.add.at(delta, (group, first), weight)
    np.add.at(delta, (group, stop), -weight)
    return np.cumsum(delta, axis=1)[:, :-1]


def _product_limit(durations: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Kaplan–Meier table of one group: times 0 and every distinct duration, with the risk
    set, churns, censorings, S(t) and the exponential-Greenwood 95% band."""
    entry, duration, event, weight = _rows(durations)
    times = np.union1d([0.0], duration)
    at_risk = _risk_sets(times, np.zeros(len(entry), dtype=int), 1, entry, duration, weight)[0]
    at = np.searchsorted(times, duration)
    events = np.bincount(at, weights=weight * event, minlength=len(times))
    removed = np.bincount(at, weights=weight, minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Nobody at risk (a gap between the last exits and the next entries): no churn can
        # happen there, the factor is 1 (the product continues, as R's survfit does).
        survival = np.cumprod(np.where(at_risk > 0, 1.0 - events / at_risk, 1.0))
        # Greenwood: Var(log S) ~ sum d / (n (n - d)); a step to zero adds nothing (lifelines).
        greenwood = np.cumsum(np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0))
        # log(-log S) band (lifelines' default): exp(-exp(log(-log S) -/+ z sqrt(V) / log S)).
        log_s = np.log(survival)
        half = norm.ppf(0.975) * np.sqrt(greenwood) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - half))
        upper = np.exp(-np.exp(np.log(-log_s) + half))
    return pd.DataFrame({
        "timeline": times / scale,
        "survival": survival,
        # S = 1 (no churn yet): the band is the point itself
        "ci_lower": np.where(np.isnan(lower), survival, lower),
        "ci_upper": np.where(np.isnan(upper), survival, upper),
        "at_risk": np.rint(at_risk),
        "events": np.rint(events),
        "censored": np.rint(removed - events),
    })


def _first_time_at_or_below(curve: pd.Series, q: float = 0.5) -> float:
    """First time the step function `curve` (index = time) is <= q; inf if it never is.

    The curve is a product of many factors, so one that should be exactly 0.5 can come
    out as 0.5000000000000001; the tolerance absorbs that (lifelines' own
    `median_survival_time_` would report inf there)."""
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
    """Kaplan–Meier survival curve per group with a 95% confidence band, with delayed
    entry for customers who signed up before the history start.

    S(t) = Π_{t_i <= t} (1 - d_i / n_i), where d_i = churns at t_i and n_i = customers at
    risk at t_i: entry < t_i <= duration, entry = days from signup to the history start
    (0 for a signup within the history, at risk from t = 0). Censored customers leave the
    risk set after their duration (Kaplan & Meier 1958); late entrants join it after their
    entry (left truncation, Klein & Moeschberger 2003 §4.6). The band is the
    exponential-Greenwood ("log(-log)") interval, Var(log S) = Σ d_i / (n_i (n_i - d_i)),
    as lifelines computes it. Output: one row per group and distinct duration (plus
    t = 0): ``group`` (dimension value, or 'all'), ``timeline`` (days or months),
    ``survival``, ``ci_lower``, ``ci_upper``, ``at_risk`` (n_i, the left-truncated risk
    set), ``events`` (d_i), ``censored`` (customers censored at that time). Empty
    selection -> empty frame.
    """
    return kaplan_meier_from_durations(survival_durations(db, flt, by, signed_up_in_period), unit)


def kaplan_meier_from_durations(durations: pd.DataFrame, unit: Unit = "days") -> pd.DataFrame:
    """`kaplan_meier` of a `survival_durations` frame already fetched (the page fetches
    the durations once and derives curves, medians and the log-rank test from them)."""
    scale = _scale(unit)
    if durations.empty:
        return empty_frame(CURVE_COLUMNS)
    parts = [_product_limit(g, scale).assign(group=str(group))
             for group, g in durations.groupby("group", sort=True)]
    return conform(pd.concat(parts, ignore_index=True), CURVE_COLUMNS)


def median_lifetime(
    db: Database,
    flt: RetentionFilter,
    by: str | None = None,
    unit: Unit = "months",
    signed_up_in_period: bool = False,
) -> pd.DataFrame:
    """Median customer lifetime per group: the first time the Kaplan–Meier curve (with
    delayed entry, see `kaplan_meier`) drops to 0.5 or below, with the 95% interval = the
    first times the band's lower and upper curves drop to 0.5 (as lifelines'
    `median_survival_times`). ``inf`` when the curve has not reached 0.5 by the longest
    observed duration (more than half the customers outlive the data). Columns ``group``,
    ``customers`` (counted, including late entrants), ``churned`` (events),
    ``median_lifetime``, ``median_ci_lower``, ``median_ci_upper``; empty selection ->
    empty frame."""
    return median_lifetime_from_durations(survival_durations(db, flt, by, signed_up_in_period), unit)


def median_lifetime_from_durations(durations: pd.DataFrame, unit: Unit = "months") -> pd.DataFrame:
    """`median_lifetime` of a `survival_durations` frame already fetched."""
    scale = _scale(unit)
    if durations.empty:
        return empty_frame(MEDIAN_COLUMNS)
    rows = []
    for group, g in durations.groupby("group", sort=True):
        curve = _product_limit(g, scale).set_index("timeline")
        rows.append(
            {
                "group": str(group),
                "customers": int(g["customers"].sum()),
                "churned": int(g.loc[g["event"] == 1, "customers"].sum()),
                "median_lifetime": _first_time_at_or_below(curve["survival"]),
                # The band's lower curve crosses 0.5 first: it bounds the median from below.
                "median_ci_lower": _first_time_at_or_below(curve["ci_lower"]),
                "median_ci_upper": _first_time_at_or_below(curve["ci_upper"]),
            }
        )
    return conform(pd.DataFrame(rows), MEDIAN_COLUMNS)


def survival_logrank(
    db: Database,
    flt: RetentionFilter,
    by: str,
    signed_up_in_period: bool = False,
) -> LogrankResult:
    """Multivariate log-rank test, with delayed entry, of H0: every group of dimension
    `by` has the same churn hazard. A small p-value says the curves differ; it does not
    say which.

    At each churn time t_i (days), with the left-truncated risk sets n_gi (customers of
    group g with entry < t_i <= duration, as in `kaplan_meier`), n_i = Σ_g n_gi, d_i =
    churns at t_i: O_g - E_g = Σ_i (d_gi - d_i n_gi / n_i), and the hypergeometric
    covariance V_gh = Σ_i d_i (n_i - d_i) / (n_i - 1) · n_gi (δ_gh n_i - n_hi) / n_i².
    χ² = (O - E)ᵀ V⁻¹ (O - E) over the first k - 1 groups, k - 1 degrees of freedom
    (Klein & Moeschberger 2003 §7.3). With no late entrants this is lifelines'
    `multivariate_logrank_test`, which has no entry argument (decision 013)."""
    return logrank_from_durations(survival_durations(db, flt, by, signed_up_in_period), by)


def logrank_from_durations(durations: pd.DataFrame, by: str) -> LogrankResult:
    """`survival_logrank` of a `survival_durations` frame (grouped by `by`) already fetched."""
    groups = tuple(sorted(durations["group"].unique())) if not durations.empty else ()
    k = len(groups)
    if k < 2:
        return LogrankResult(by, groups, float("nan"), max(k - 1, 0), float("nan"))
    entry, duration, event, weight = _rows(durations)
    group = pd.Categorical(durations["group"], categories=groups).codes
    times = np.unique(duration[event])
    n_g = _risk_sets(times, group, k, entry, duration, weight)  # (k, churn times)
    d_g = np.zeros_like(n_g)
    np.add.at(d_g, (group[event], np.searchsorted(times, duration[event])), weight[event])
    n, d = n_g.sum(axis=0), d_g.sum(axis=0)  # n > 0 wherever someone churns
    observed_minus_expected = (d_g - n_g * (d / n)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # d (n - d) / ((n - 1) n²); with one customer at risk the covariance term is 0 anyway
        spread = np.where(n > 1, d * (n - d) / ((n - 1) * n**2), 0.0)
    covariance = np.diag((n_g * (spread * n)).sum(axis=1)) - (n_g * spread) @ n_g.T
    z = observed_minus_expected[:-1]
    # pseudo-inverse, as lifelines: a group nobody is at risk in at any churn time is singular
    statistic = float(z @ np.linalg.pinv(covariance[:-1, :-1]) @ z)
    return LogrankResult(
        dimension=by,
        groups=groups,
        test_statistic=statistic,
        degrees_of_freedom=k - 1,
        p_value=float(chi2.sf(statistic, k - 1)),
    )
