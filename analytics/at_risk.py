"""Revenue at risk for the leadership story: expected loss summed by segment, from the
optional ``churn_scores`` table — aggregates only, never a customer row.

Definition (docs/metrics.md#expected-loss): **expected loss = churn probability over the
horizon × CLV**; revenue at risk = Σ expected loss over the selected customers active on
the as-of date. The "top at-risk" part is the expected loss held by the `top_share`
(default 10%) of those customers with the highest expected loss — ranked over the whole
selection, ties by customer_id — split by segment.

The scoring job (`python -m analytics.score`, docs/data-model.md) owns the table: one row
per customer active on its ``as_of_date``, with ``expected_loss`` = ``churn_probability``
× ``clv_predicted``. The latest scoring on or before the filter's as-of date is used.
Other files (an import from another scoring tool) are read defensively: without
``expected_loss`` it is probability × a value column (``clv_predicted``, ``clv``, ...),
else probability × historical CLV. When analytics publishes its own revenue-at-risk
aggregate, `revenue_at_risk` should call it instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import ibis
import pandas as pd

from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import conform, empty_frame, execute, ratio
from analytics.metrics.value import customer_value_table

SCORES_TABLE = "churn_scores"
PROBABILITY_COLUMNS = ("churn_probability", "probability", "p_churn", "risk_probability")
VALUE_COLUMNS = ("clv_predicted", "clv", "predicted_clv", "customer_value", "clv_historical")
DATE_COLUMNS = ("as_of_date", "scored_on", "as_of", "score_date", "snapshot_date", "scored_at")
DEFAULT_TOP_SHARE = 0.10

SEGMENT_COLUMNS: dict[str, str] = {
    "segment": "string",
    "customers": "int64",
    "expected_loss": "float64",
    "top_customers": "int64",
    "top_expected_loss": "float64",
    "share_of_loss": "float64",
}


@dataclass(frozen=True)
class RiskSummary:
    """Revenue at risk of the selection. `available` is False (and `message` says why)
    when there are no scores to read; the numbers are then 0 / NaN and `by_segment` is
    empty (same columns)."""

    available: bool
    message: str
    scored_on: date | None = None
    customers: int = 0
    total_expected_loss: float = math.nan
    top_share: float = DEFAULT_TOP_SHARE
    top_customers: int = 0
    top_expected_loss: float = math.nan
    by_segment: pd.DataFrame = field(default_factory=lambda: empty_frame(SEGMENT_COLUMNS))

    @property
    def top_loss_share(self) -> float:
        return ratio(self.top_expected_loss, self.total_expected_loss) if self.available else math.nan


NOT_COMPUTED = ("Churn scores are not computed yet, so revenue at risk is not known. The scoring job "
                "(python -m analytics.score) computes them for the active customers.")


def _first(columns, names) -> str | None:
    return next((n for n in names if n in columns), None)


def revenue_at_risk(db: Database, flt: RetentionFilter, top_share: float = DEFAULT_TOP_SHARE) -> RiskSummary:
    """Expected loss of the selected customers active on ``flt.as_of``, in total, for the
    `top_share` riskiest of them, and per segment (see the module docstring)."""
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share}")
    if not db.has_table(SCORES_TABLE):
        return RiskSummary(False, NOT_COMPUTED, top_share=top_share)
    scores = db.table(SCORES_TABLE)
    cols = set(scores.columns)
    if "customer_id" not in cols:
        return RiskSummary(False, f"The {SCORES_TABLE} table has no customer_id column.", top_share=top_share)
    # the generator creates the table empty: no rows is "not computed yet"
    if int(execute(db, scores.aggregate(n=scores.count()))["n"].iloc[0]) == 0:
        return RiskSummary(False, NOT_COMPUTED, top_share=top_share)
    scored_on = None
    date_col = _first(cols, DATE_COLUMNS)
    if date_col:
        eligible = scores.filter(scores[date_col].cast("date") <= flt.as_of)
        latest = execute(db, eligible.aggregate(latest=eligible[date_col].cast("date").max()))["latest"].iloc[0]
        if pd.isna(latest):
            return RiskSummary(False, f"Churn scores are not computed yet for {flt.as_of:%d %b %Y} or before "
                               "(the table holds later scorings only), so revenue at risk is not known at "
                               "this date.", top_share=top_share)
        scored_on = pd.Timestamp(latest).date()
        scores = scores.filter(scores[date_col].cast("date") == scored_on)
    p_col = _first(cols, PROBABILITY_COLUMNS)
    v_col = _first(cols, VALUE_COLUMNS)
    if "expected_loss" in cols:
        scored = scores.select("customer_id", loss=scores.expected_loss.cast("float64"))
    elif p_col and v_col:
        scored = scores.select("customer_id", loss=(scores[p_col] * scores[v_col]).cast("float64"))
    elif p_col:
        value = customer_value_table(db, flt, ranked=False)
        j = scores.join(value, scores.customer_id == value.customer_id)
        scored = j.select(scores.customer_id, loss=(scores[p_col] * value.clv).cast("float64"))
    else:
        return RiskSummary(False, f"The {SCORES_TABLE} table has neither expected_loss nor a churn "
                           "probability column.", top_share=top_share)
    c = customers(db, flt)
    c = c.filter(c.signup_date <= flt.as_of, c.churn_date.isnull() | (c.churn_date > flt.as_of))
    j = scored.join(c, scored.customer_id == c.customer_id).select(
        scored.customer_id, segment=c.segment.fill_null("(missing)"), loss=scored.loss.fill_null(0.0)
    )
    ranked = j.mutate(
        rank=ibis.row_number().over(order_by=[ibis.desc(j.loss), j.customer_id]),
        population=j.count().over(),
    )
    top = ranked["rank"] < ranked.population * top_share
    agg = ranked.group_by("segment").aggregate(
        customers=ranked.count(),
        expected_loss=ranked.loss.sum(),
        top_customers=ranked.count(where=top),
        top_expected_loss=ranked.loss.sum(where=top),
    )
    df = execute(db, agg)
    if df.empty:
        return RiskSummary(False, "No scored customer is active in this selection.", scored_on=scored_on,
                           top_share=top_share)
    df = df.fillna({"top_expected_loss": 0.0}).sort_values(["expected_loss", "segment"], ascending=[False, True])
    df["share_of_loss"] = ratio(df["expected_loss"], df["expected_loss"].sum())
    total = float(df["expected_loss"].sum())
    return RiskSummary(
        available=True,
        message=f"Scores of {scored_on:%d %b %Y}." if scored_on else "Latest churn scores.",
        scored_on=scored_on,
        customers=int(df["customers"].sum()),
        total_expected_loss=total,
        top_share=top_share,
        top_customers=int(df["top_customers"].sum()),
        top_expected_loss=float(df["top_expected_loss"].sum()),
        by_segment=conform(df, SEGMENT_COLUMNS),
    )
