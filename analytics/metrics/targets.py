"""Quarterly retention targets and how the actuals compare (docs/metrics.md#targets).

Targets live in ``config/targets.toml``: one table per quarter (``[quarters."2025Q1"]``)
with ``churn_rate``, ``retention_rate``, ``nrr`` and ``saved_customers``. Actuals are
computed with the same functions the dashboard shows, over the quarter clipped to the
as-of date, for the filter's population (targets are set for the whole business, so a
segment-filtered comparison is indicative only).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pandas as pd

from analytics.config import PROJECT_ROOT
from analytics.db import Database
from analytics.filters import RetentionFilter
from analytics.metrics._common import conform, parse_quarter
from analytics.metrics.customer_base import churn_summary
from analytics.metrics.funnel import saved_customers
from analytics.metrics.revenue import revenue_retention

DEFAULT_TARGETS_PATH = PROJECT_ROOT / "config" / "targets.toml"

# metric -> True when a higher actual is better.
TARGET_METRICS: dict[str, bool] = {
    "churn_rate": False,
    "retention_rate": True,
    "nrr": True,
    "saved_customers": True,
}

TARGET_COLUMNS: dict[str, str] = {"quarter": "string", "metric": "string", "target": "float64"}

COMPARISON_COLUMNS: dict[str, str] = {
    "quarter": "string",
    "metric": "string",
    "target": "float64",
    "actual": "float64",
    "gap": "float64",
    "higher_is_better": "bool",
    "met": "boolean",
    "partial": "bool",
}


def load_targets(path: str | Path | None = None) -> pd.DataFrame:
    """All targets in the TOML file as rows ``quarter``, ``metric``, ``target``.

    Raises FileNotFoundError when the file is missing and ValueError naming the bad entry
    for an unknown quarter label, unknown metric or non-numeric / negative value."""
    path = Path(path) if path is not None else DEFAULT_TARGETS_PATH
    with path.open("rb") as fh:
        doc = tomllib.load(fh)
    quarters = doc.get("quarters", {})
    if not isinstance(quarters, dict):
        raise ValueError(f"{path}: [quarters] must be a table of quarter tables")
    rows = []
    for label, metrics in quarters.items():
        parse_quarter(label)  # raises on a bad label
        if not isinstance(metrics, dict):
            raise ValueError(f"{path}: quarters.{label} must be a table")
        for metric, value in metrics.items():
            if metric not in TARGET_METRICS:
                raise ValueError(
                    f"{path}: quarters.{label}.{metric} is not a known target "
                    f"({', '.join(TARGET_METRICS)})"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{path}: quarters.{label}.{metric} must be a number >= 0")
            rows.append({"quarter": label.upper(), "metric": metric, "target": float(value)})
    return conform(pd.DataFrame(rows), TARGET_COLUMNS)


def quarter_window(flt: RetentionFilter, quarter: str) -> RetentionFilter | None:
    """`flt` over ``[quarter start, min(quarter end, flt.end)]`` — the period the actuals
    of `quarter` are computed over — or None when the quarter starts after the as-of date."""
    q_start, q_end = parse_quarter(quarter)
    if q_start > flt.as_of:
        return None
    return flt.with_period(q_start, min(q_end, flt.as_of))


def actuals_from(churn: pd.DataFrame, revenue: pd.DataFrame, saved: int) -> dict[str, float]:
    """The target metrics from `churn_summary`, `revenue_retention(freq="range")` and
    `funnel.saved_customers` over a quarter's window: churn_rate, retention_rate =
    1 − churn_rate, nrr, saved_customers (NaN where a frame is empty)."""
    churn_rate = float(churn["churn_rate"].iloc[0]) if not churn.empty else math.nan
    return {
        "churn_rate": churn_rate,
        "retention_rate": 1.0 - churn_rate,
        "nrr": float(revenue["nrr"].iloc[0]) if not revenue.empty else math.nan,
        "saved_customers": float(saved),
    }


def quarter_actuals(db: Database, flt: RetentionFilter, quarter: str) -> dict[str, float]:
    """Actual churn_rate, retention_rate, nrr and saved_customers for `quarter`, over
    ``[quarter start, min(quarter end, flt.end)]`` and the filter's population; NaN for a
    quarter that starts after the as-of date ``flt.end``."""
    qf = quarter_window(flt, quarter)
    if qf is None:
        return {m: math.nan for m in TARGET_METRICS}
    return actuals_from(churn_summary(db, qf), revenue_retention(db, qf, freq="range"), saved_customers(db, qf))


def targets_vs_actuals(
    db: Database,
    flt: RetentionFilter,
    quarter: str,
    path: str | Path | None = None,
    actuals: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The quarter's targets against its actuals: one row per target metric with
    ``target``, ``actual``, ``gap`` = actual − target, ``higher_is_better``, ``met``
    (actual ≤ target for churn, ≥ for the others; NA when either side is missing) and
    ``partial`` (the quarter runs past the as-of date, so actuals are to date — a partial
    quarter's churn and saves are not scaled up). Metrics without a target in the file
    have a NaN target. Definitions: churn and retention as `churn_summary`, NRR as
    `revenue_retention(freq="range")`, saves as `funnel.saved_customers` (requests made in
    the quarter's window, judged at the data's as-of date: a quarter's saves are final 90
    days after its last request, provisional before — later acceptances can add to them,
    a customer who leaves within 90 days of the request takes one off). `actuals`, when
    given, is `quarter_actuals(db, flt, quarter)` already computed (the dashboard builds it
    from results it has cached for the same window)."""
    label = quarter.strip().upper()
    q_start, q_end = parse_quarter(label)
    targets = load_targets(path)
    mine = dict(
        zip(targets.loc[targets["quarter"] == label, "metric"], targets.loc[targets["quarter"] == label, "target"])
    )
    if actuals is None:
        actuals = quarter_actuals(db, flt, label)
    rows = []
    for metric, higher in TARGET_METRICS.items():
        target, actual = mine.get(metric, math.nan), actuals[metric]
        known = not (math.isnan(target) or math.isnan(actual))
        met = (actual >= target if higher else actual <= target) if known else pd.NA
        rows.append(
            {
                "quarter": label,
                "metric": metric,
                "target": target,
                "actual": actual,
                "gap": actual - target if known else math.nan,
                "higher_is_better": higher,
                "met": met,
                "partial": q_end > flt.as_of,
            }
        )
    return conform(pd.DataFrame(rows), COMPARISON_COLUMNS)
