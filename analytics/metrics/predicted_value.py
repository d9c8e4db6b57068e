"""Predicted CLV from the churn-risk scores (docs/metrics.md#predictive-clv).

`python -m analytics.score` writes the optional table ``churn_scores``: one row per
customer active on each scored as-of date, with ``clv_historical`` (margin earned to date)
and ``clv_predicted`` = clv_historical + Σ_{t=1..24} MRR·margin·(1−h)^t·1.1^(−t/12),
h = 1 − (1 − p90)^(1/3) (`analytics.risk.clv`). These functions read it defensively: a
database without the table, or without a scoring on or before the filter's as-of date,
gives an empty result, never an error.

The **scoring used** for a filter is the latest ``churn_scores.as_of_date`` on or before
``flt.as_of``; the population is its scored customers in the selected segments, regions
and plans (the period's start and the channel filter do not apply: value is a point-in-time
figure about customers).
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

import ibis
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import (
    check_dimension,
    checked_quantiles,
    conform,
    empty_frame,
    execute,
    long_quantiles,
)
from analytics.metrics.value import QUANTILE_DIMENSIONS

SCORES_TABLE = "churn_scores"

PREDICTED_QUANTILE_COLUMNS: dict[str, str] = {
    "quantile": "float64",
    "clv_historical": "float64",
    "clv_predicted": "float64",
    "customers": "int64",
    "scored_as_of": "datetime64[ns]",
}
GROUPED_PREDICTED_COLUMNS: dict[str, str] = {"group": "string", **PREDICTED_QUANTILE_COLUMNS}


def latest_scoring_date(db: Database, as_of: date) -> date | None:
    """The latest ``churn_scores.as_of_date`` on or before `as_of`; None when the table is
    absent or holds no scoring that early."""
    if not db.has_table(SCORES_TABLE):
        return None
    s = db.table(SCORES_TABLE)
    latest = execute(db, s.filter(s.as_of_date <= as_of).aggregate(latest=s.as_of_date.max()))["latest"].iloc[0]
    if latest is None or pd.isna(latest):
        return None
    return pd.Timestamp(latest).date()


def predicted_clv_quantiles(
    db: Database,
    flt: RetentionFilter,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
) -> pd.DataFrame:
    """Distribution of predicted CLV next to historical CLV over the same customers: the
    continuous (linearly interpolated) quantiles of ``clv_predicted`` and of
    ``clv_historical`` among the selected customers of the scoring used (module
    docstring). Columns ``quantile``, ``clv_historical``, ``clv_predicted``,
    ``customers`` (scored customers in the selection), ``scored_as_of`` (the scoring's
    as-of date), one row per requested quantile. No scores, no scoring on or before
    ``flt.as_of`` or nobody scored in the selection -> empty frame."""
    df = predicted_clv_quantiles_by(db, flt, None, quantiles)
    return conform(df, PREDICTED_QUANTILE_COLUMNS)


def predicted_clv_quantiles_by(
    db: Database,
    flt: RetentionFilter,
    by: str | None,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
) -> pd.DataFrame:
    """`predicted_clv_quantiles` of each value of customer attribute `by` (segment,
    region, plan, acquisition_channel) within the selection, from one query — equal to
    the function with the selection narrowed to that value. Columns ``group`` plus
    `PREDICTED_QUANTILE_COLUMNS` (``customers`` = scored customers of the group); a value
    without scored customers has no rows. `by=None`: one group, 'all'."""
    qs = checked_quantiles(quantiles)
    if by is not None:
        check_dimension(by, QUANTILE_DIMENSIONS)
    scored_on = latest_scoring_date(db, flt.as_of)
    if scored_on is None:
        return empty_frame(GROUPED_PREDICTED_COLUMNS)
    s = db.table(SCORES_TABLE)
    s = s.filter(s.as_of_date == scored_on)
    c = customers(db, flt)
    if by is None:
        s = s.semi_join(c, s.customer_id == c.customer_id).mutate(group=ibis.literal("all"))
    else:
        s = s.join(c, s.customer_id == c.customer_id).mutate(group=c[by].cast("string").fill_null("(missing)"))
    aggs: dict[str, ibis.Value] = {"n": s.count()}
    for i, q in enumerate(qs):
        aggs[f"h{i}"] = s.clv_historical.quantile(q)
        aggs[f"p{i}"] = s.clv_predicted.quantile(q)
    wide = execute(db, s.group_by("group").aggregate(**aggs))
    wide["scored_as_of"] = pd.Timestamp(scored_on)
    return long_quantiles(wide, qs, {"clv_historical": "h", "clv_predicted": "p"}, GROUPED_PREDICTED_COLUMNS,
                           extra={"customers": "n", "scored_as_of": "scored_as_of"})
