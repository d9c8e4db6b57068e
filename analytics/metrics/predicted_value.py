"""Predicted CLV from the churn-risk scores (docs/metrics.md#predictive-clv).

`python -m analytics.score` writes the optional table ``churn_scores``: one row per
customer active on each scored as-of date, with ``clv_historical`` (margin earned to date)
``clv_future`` = Σ_{t=1..24} MRR·margin·(1−h)^t·1.1^(−t/12),
h = 1 − (1 − p90)^(1/3), and ``clv_predicted`` = clv_historical + clv_future
(`analytics.risk.clv`). These functions read it defensively: a
database without the table, or without a scoring on or before the filter's as-of date,
gives an empty result, never an error.

The **scoring used** for a filter is the latest ``churn_scores.as_of_date`` on or before
``flt.as_of``; the population is its scored customers in the selected segments, regions
and plans (the period's start and the channel filter do not apply: value is a point-in-time
figure about customers).

**Future value** (``clv_future``) = the expected discounted margin still to come,
``clv_predicted − clv_historical`` (`future_value`); the **value of a saved customer** for
programme ROI is its churn-weighted average, the future value of the customers expected to
leave (`saved_customer_value`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

import ibis
import pandas as pd

from analytics.cubes import POPULATION, cube, with_cells
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
from analytics.metrics.customer_base import churn_summary
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


# --- future value and the value of a saved customer ------------------------------------------

def future_value(scores: ibis.Table) -> ibis.FloatingValue | None:
    """The future value at stake per ``churn_scores`` row — the expected discounted margin
    still to come: ``clv_future``, else (rows scored before that column existed, NULL in
    it) ``clv_predicted − clv_historical``. None when the table has neither."""
    cols = set(scores.columns)
    parts = []
    if "clv_future" in cols:
        parts.append(scores.clv_future.cast("float64"))
    if {"clv_predicted", "clv_historical"} <= cols:
        parts.append((scores.clv_predicted - scores.clv_historical).cast("float64"))
    if not parts:
        return None
    return ibis.coalesce(*parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class SavedCustomerValue:
    """The default "value of a saved customer" of programme ROI (see
    `saved_customer_value`): `value` (rounded to 10, what the ROI page and the deck use),
    the unrounded `average`, how many customers it averages, the scoring used, `basis`
    ("scores", "churn rate" or "none") and a sentence saying where it comes from."""

    value: float
    average: float
    customers: int
    scored_on: date | None
    basis: str
    note: str


def saved_customer_value(db: Database, flt: RetentionFilter) -> SavedCustomerValue:
    """The value a saved customer keeps: the margin they are still expected to bring —
    future value, never the margin they already earned (the brief: ROI counts what
    retention keeps). A saved customer is one who would otherwise have left, so the
    average is over the customers we expect to lose: each customer weighs by their churn
    probability.

    - With churn scores: over the selection's scored customers active on ``flt.as_of``, at
      the scoring used (the latest on or before ``flt.as_of``) — the customers of margin
      at risk:

          value = Σ p_i · F_i ÷ Σ p_i  = margin at risk ÷ expected leavers

      with p the 90-day churn probability and F the `future_value` (a plain average of F
      when the scores carry no probability or every p is 0).
    - Without them: the same formula on averages — the average monthly margin M̄ of the
      selection's customers active on ``flt.as_of`` (the as-of month's MRR, else their
      stated MRR, × margin rate) over the next 24 months, discounted 10 %/year, at the
      period's logo churn as a constant monthly rate c:
      value = Σ_{t=1}^{24} M̄ (1 − c)^t (1 + d)^(−t/12) (`analytics.risk.clv`).
    - Nothing active or no churn rate: 0, and the note says so.

    `value` is the average rounded to 10 (an editable default, not a measurement)."""
    from analytics.risk.clv import DEFAULT_ANNUAL_DISCOUNT, DEFAULT_HORIZON_MONTHS, expected_remaining_margin
    from analytics.roi import monthly_churn_rate

    scored_on = latest_scoring_date(db, flt.as_of)
    if scored_on is not None:
        s = db.table(SCORES_TABLE)
        value = future_value(s)
        if value is not None:
            row = _scored_value_sums(db, flt, scored_on).iloc[0]
            n = int(row["n"])
            if n:
                leavers = float(row["leavers"] or 0.0)
                average = (float(row["loss"]) / leavers if leavers > 0
                           else float(row["future"]) / row["futures"] if row["futures"] else math.nan)
                return SavedCustomerValue(
                    _round10(average), average, n, scored_on, "scores",
                    f"Average future value (expected margin of the next {DEFAULT_HORIZON_MONTHS} months) of the "
                    f"customers expected to leave: margin at risk ÷ expected leavers among the {n:,} scored active "
                    f"customers, scores of {scored_on:%d %b %Y}.")
    row = _active_margin_sums(db, flt).iloc[0]
    n = int(row["n"])
    churn = churn_summary(db, flt)
    rate = float(churn["churn_rate"].iloc[0]) if not churn.empty else math.nan
    if not n or math.isnan(rate):
        return SavedCustomerValue(0.0, math.nan, n, None, "none",
                                  "No active customer or churn rate in the selection, so the future value of a "
                                  "saved customer is not known: enter one.")
    monthly = monthly_churn_rate(rate, (flt.end - flt.start).days + 1)
    p90 = 1.0 - (1.0 - monthly) ** 3  # the 90-day probability with that monthly rate
    average = float(expected_remaining_margin(float(row["margin"]) / n, p90, DEFAULT_HORIZON_MONTHS,
                                              DEFAULT_ANNUAL_DISCOUNT))
    return SavedCustomerValue(
        _round10(average), average, n, None, "churn rate",
        f"No churn scores for this date: the average monthly margin of the {n:,} active customers over the next "
        f"{DEFAULT_HORIZON_MONTHS} months at the period's monthly churn of {monthly:.2%}, discounted.")


@cube(channel_filter=False)
def _scored_value_sums(db: Database, flt: RetentionFilter, scored_on: date) -> ibis.Table:
    """`saved_customer_value`'s sums over the scores of `scored_on` of the customers active
    on ``flt.as_of``, per population cell: ``n``, ``loss`` = Σ p·F, ``leavers`` = Σ p,
    ``future`` = Σ F and ``futures`` = rows with F (additive over cells: a filter change
    is a slice)."""
    s = db.table(SCORES_TABLE)
    weight = s.churn_probability.cast("float64") if "churn_probability" in s.columns else ibis.literal(1.0)
    s = s.filter(s.as_of_date == scored_on).mutate(future=future_value(s), weight=weight)
    c = _active(db, flt)
    s = with_cells(db, flt, s.semi_join(c, s.customer_id == c.customer_id))
    return s.group_by(*POPULATION).aggregate(
        n=s.count(), loss=(s.weight * s.future).sum().fill_null(0.0),
        leavers=s.weight.sum().fill_null(0.0), future=s.future.sum().fill_null(0.0), futures=s.future.count())


@cube(channel_filter=False)
def _active_margin_sums(db: Database, flt: RetentionFilter) -> ibis.Table:
    """`saved_customer_value`'s fallback sums per population cell: ``n`` customers active
    on ``flt.as_of`` and ``margin`` = Σ their monthly margin (the as-of month's MRR, else
    their stated MRR, × margin rate)."""
    c = _active(db, flt)
    r = db.table("monthly_revenue")
    r = r.filter(r.month == flt.as_of.replace(day=1)).select("customer_id", mrr_now="mrr")
    j = c.left_join(r, c.customer_id == r.customer_id)
    margin = j.mrr_now.fill_null(j.monthly_revenue).fill_null(0.0) * j.margin_rate.fill_null(0.0)
    return j.group_by(*(j[d] for d in POPULATION)).aggregate(n=j.count(), margin=margin.sum().cast("float64"))


def _active(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = customers(db, flt)
    return c.filter(c.signup_date <= flt.as_of, c.churn_date.isnull() | (c.churn_date > flt.as_of))


def _round10(x: float) -> float:
    return float(round(x, -1))
