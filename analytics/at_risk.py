"""The at-risk view: who is likely to leave, what it would cost, and everything the
retention team needs to act — all read from the optional ``churn_scores`` table written by
`python -m analytics.score` (docs/data-model.md).

- `margin_at_risk`: expected loss summed over the selection (total, riskiest 10%, per
  segment) — the Overview card and the leadership story; aggregates only.
- `margin_at_risk_trend`: the same total at every scoring date (the card's sparkline).
- `at_risk_customers`: the retention team's call list, ranked by expected loss, with the
  criteria of the At-risk page (`AtRiskCriteria`) and the columns a dialer or CRM needs.
- `customer_profile`, `score_history`, `customer_timeline`: the customer-360 panel.

Definitions (docs/metrics.md#expected-loss, #margin-at-risk, #at-risk-list): **expected
loss = churn probability over the horizon × the future value at stake** — the margin the
customer is still expected to bring (``clv_future``, analytics.risk.clv), never margin
already earned; **margin at risk** = Σ expected loss over the selected customers active on
the as-of date. It is margin (CLV is margin-based), not revenue. Scores come from the latest
scoring on or before the filter's as-of date. The scoring job owns the table: one row per
customer active on its ``as_of_date``, with ``clv_future`` and ``expected_loss`` =
``churn_probability`` × ``clv_future``; it also backfills earlier month-ends with the same
model (the score history).

Every reader here computes the loss from the probability and the future value
(`future_value`, `expected_loss`), not from the stored ``expected_loss``: rows scored
before issue 14 (no ``clv_future``, or NULL in it) stored p × clv_predicted, which counted
the margin already earned. For them the future value is ``clv_predicted −
clv_historical``; a table with neither (a file from another scoring tool holding only a
probability, or a probability and one CLV column) has no known future value, and the
figures say what is missing instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import ibis
import pandas as pd

from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, touchpoints
from analytics.metrics._common import conform, empty_frame, execute, query, ratio
from analytics.metrics.predicted_value import future_value
from analytics.metrics.purchase_value import purchase_value
from analytics.metrics.value import VALUE_TIERS, customer_value_table, value_tier

SCORES_TABLE = "churn_scores"
PROBABILITY_COLUMNS = ("churn_probability", "probability", "p_churn", "risk_probability")
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
    """Margin at risk of the selection. `available` is False (and `message` says why)
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


NOT_COMPUTED = ("Churn scores are not computed yet, so margin at risk is not known. The scoring job "
                "(python -m analytics.score) computes them for the active customers.")


def _first(columns, names) -> str | None:
    return next((n for n in names if n in columns), None)


def expected_loss(scores: ibis.Table) -> ibis.FloatingValue | None:
    """Expected loss per scores row = churn probability × `future_value` (module
    docstring). None when the table lacks a probability or a future value."""
    p_col = _first(set(scores.columns), PROBABILITY_COLUMNS)
    value = future_value(scores)
    if p_col is None or value is None:
        return None
    return (scores[p_col].cast("float64") * value).cast("float64")


def missing_loss_inputs(columns) -> str | None:
    """Why a scores table with `columns` defines no expected loss (None when it does)."""
    cols = set(columns)
    missing = []
    if not _first(cols, PROBABILITY_COLUMNS):
        missing.append("a churn probability column")
    if "clv_future" not in cols and not {"clv_predicted", "clv_historical"} <= cols:
        missing.append("the future value (clv_future, or clv_predicted and clv_historical)")
    if not missing:
        return None
    return (f"The {SCORES_TABLE} table lacks {' and '.join(missing)}, so the expected loss (churn probability "
            "× the margin still to come) is not known; re-score with python -m analytics.score.")


def margin_at_risk(db: Database, flt: RetentionFilter, top_share: float = DEFAULT_TOP_SHARE) -> RiskSummary:
    """Expected loss of the selected customers active on ``flt.as_of``, in total, for the
    `top_share` riskiest of them, and per segment (see the module docstring)."""
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share}")
    if not db.has_table(SCORES_TABLE):
        return RiskSummary(False, NOT_COMPUTED, top_share=top_share)
    cols = set(db.table(SCORES_TABLE).columns)
    if "customer_id" not in cols:
        return RiskSummary(False, f"The {SCORES_TABLE} table has no customer_id column.", top_share=top_share)
    # the generator creates the table empty: no rows is "not computed yet"
    if int(_score_rows(db, flt)["n"].iloc[0]) == 0:
        return RiskSummary(False, NOT_COMPUTED, top_share=top_share)
    scored_on = None
    date_col = _first(cols, DATE_COLUMNS)
    if date_col:
        latest = _latest_scoring(db, flt, date_col)["latest"].iloc[0]
        if pd.isna(latest):
            return RiskSummary(False, f"Churn scores are not computed yet for {flt.as_of:%d %b %Y} or before "
                               "(the table holds later scorings only), so margin at risk is not known at "
                               "this date.", top_share=top_share)
        scored_on = pd.Timestamp(latest).date()
    missing = missing_loss_inputs(cols)
    if missing:
        return RiskSummary(False, missing, scored_on=scored_on, top_share=top_share)
    df = _loss_by_segment(db, flt, scored_on, top_share)
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


@query
def _score_rows(db: Database, flt: RetentionFilter) -> ibis.Table:
    """How many rows the scores table holds (``n``; the filter does not apply)."""
    scores = db.table(SCORES_TABLE)
    return scores.aggregate(n=scores.count())


@query
def _latest_scoring(db: Database, flt: RetentionFilter, date_col: str) -> ibis.Table:
    """The latest scoring date (`date_col`) on or before ``flt.as_of`` (``latest``; NULL
    when there is none)."""
    scores = db.table(SCORES_TABLE)
    eligible = scores.filter(scores[date_col].cast("date") <= flt.as_of)
    return eligible.aggregate(latest=eligible[date_col].cast("date").max())


@query
def _loss_by_segment(db: Database, flt: RetentionFilter, scored_on: date | None, top_share: float) -> ibis.Table:
    """`margin_at_risk`'s sums per segment of the selected customers active on
    ``flt.as_of``: scores of `scored_on` (every row when the table has no date column),
    `expected_loss` (probability × future value), and the `top_share` riskiest of the
    selection. The caller checked that the scores define a loss."""
    scores = db.table(SCORES_TABLE)
    cols = set(scores.columns)
    if scored_on is not None:
        scores = scores.filter(scores[_first(cols, DATE_COLUMNS)].cast("date") == scored_on)
    scored = scores.select("customer_id", loss=expected_loss(scores))
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
    return ranked.group_by("segment").aggregate(
        customers=ranked.count(),
        expected_loss=ranked.loss.sum(),
        top_customers=ranked.count(where=top),
        top_expected_loss=ranked.loss.sum(where=top),
    )


# --- scoring dates ---------------------------------------------------------------------------

def _has_scores(db: Database) -> bool:
    return db.has_table(SCORES_TABLE) and "as_of_date" in db.table(SCORES_TABLE).columns


def scoring_dates(db: Database) -> list[date]:
    """Every date `churn_scores` holds, oldest first (empty without scores)."""
    if not _has_scores(db):
        return []
    s = db.table(SCORES_TABLE)
    df = execute(db, s.select(day=s.as_of_date.cast("date")).distinct().order_by("day"))
    return [pd.Timestamp(d).date() for d in df["day"]]


def scoring_date(db: Database, as_of: date) -> date | None:
    """The latest scoring on or before `as_of` — the one every at-risk figure at `as_of`
    uses — or None when there is none."""
    earlier = [d for d in scoring_dates(db) if d <= as_of]
    return earlier[-1] if earlier else None


# --- margin at risk over time ----------------------------------------------------------------

TREND_COLUMNS: dict[str, str] = {"scored_on": "datetime64[ns]", "customers": "int64", "expected_loss": "float64"}


def margin_at_risk_trend(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Margin at risk at every scoring date up to ``flt.as_of``: Σ expected loss
    (probability × future value) over the selected customers active on that date (the
    Overview card's sparkline and change). Columns ``scored_on``, ``customers``,
    ``expected_loss``; empty without scores or without a future value. Earlier dates are
    the scorer's backfill with the current model (analytics.score)."""
    if not _has_scores(db) or missing_loss_inputs(db.table(SCORES_TABLE).columns):
        return empty_frame(TREND_COLUMNS)
    df = _loss_by_scoring_date(db, flt)
    df = df[df["customers"] > 0]  # a date with nobody active is absent, as with a filter
    return conform(df, TREND_COLUMNS)


@cube(keys=("scored_on",), channel_filter=False)
def _loss_by_scoring_date(db: Database, flt: RetentionFilter) -> ibis.Table:
    """`margin_at_risk_trend`'s ``customers`` and ``expected_loss`` per scoring date and
    population cell."""
    s = db.table(SCORES_TABLE)
    s = s.filter(s.as_of_date.cast("date") <= flt.as_of)
    s = s.select("customer_id", "as_of_date", loss=expected_loss(s))
    c = customers(db, flt)
    j = s.join(c, s.customer_id == c.customer_id)
    # active on the scoring date: the scorer writes only those, but a file from elsewhere may
    # not. Counted conditionally rather than filtered: DuckDB would make a filter part of the
    # join condition, which at 1M customers makes the join ~3x slower (0.35 s vs 0.15 s).
    day = j.as_of_date.cast("date")
    active = (j.signup_date <= day) & (j.churn_date.isnull() | (j.churn_date > day))
    return j.group_by(*(j[d] for d in POPULATION), scored_on=day).aggregate(
        customers=j.count(where=active), expected_loss=j.loss.sum(where=active).fill_null(0.0))


# --- the call list ---------------------------------------------------------------------------

# A touchpoint that is a conversation with the customer. Marketing, purchases and surveys
# are not: "not contacted in N days" asks whether anyone *spoke* with them.
CONTACT_KINDS: tuple[str, ...] = (
    "service_request", "complaint", "billing_issue", "cancellation_request", "retention_call",
    "proactive_outreach",
)
DRIVER_GROUP_COLUMNS = ("driver_group_1", "driver_group_2", "driver_group_3")
# Value tiers of the call list rank the *future* value (clv_future, the margin still to
# come) among the scored customers of the selection, with the shares of
# analytics.metrics.value.VALUE_TIERS (which ranks historical CLV): the list is about the
# value still to come, the same value its expected loss weighs.

AT_RISK_COLUMNS: dict[str, str] = {
    "risk_rank": "int64",  # 1 = largest expected loss in the selection
    "customer_id": "int64",
    "full_name": "string",
    "phone": "string",
    "email": "string",
    "account_owner": "string",
    "segment": "string",
    "region": "string",
    "plan": "string",
    "contract_type": "string",
    "signup_date": "datetime64[ns]",
    "monthly_revenue": "float64",
    "churn_probability": "float64",
    "clv_historical": "float64",
    "clv_predicted": "float64",
    "clv_future": "float64",  # the margin still to come: expected_loss = churn_probability × clv_future
    "expected_loss": "float64",
    "value_tier": "string",
    "driver_1": "string",
    "driver_2": "string",
    "driver_3": "string",
    "driver_group_1": "string",
    "driver_group_2": "string",
    "driver_group_3": "string",
    "last_contact_at": "datetime64[ns]",
    "days_since_contact": "float64",  # NaN = never contacted
}


@dataclass(frozen=True)
class AtRiskCriteria:
    """The At-risk page's own filters, on top of the sidebar's `RetentionFilter`.

    - `min_probability`: churn probability ≥ this (0 = everyone scored);
    - `value_tiers`: future-value tiers to keep (empty = all);
    - `driver_groups`: keep a customer when any of the top-3 drivers is in these groups
      (analytics.risk.drivers.DRIVER_GROUPS names; empty = all);
    - `not_contacted_days`: keep customers nobody spoke with in the last N days up to the
      as-of date — last conversation (`CONTACT_KINDS`) N or more days before, or never
      (None = no restriction);
    - `owners`: account owners to keep (empty = all).
    """

    min_probability: float = 0.0
    value_tiers: tuple[str, ...] = ()
    driver_groups: tuple[str, ...] = ()
    not_contacted_days: int | None = None
    owners: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.min_probability <= 1:
            raise ValueError(f"min_probability must be in [0, 1], got {self.min_probability}")
        if self.not_contacted_days is not None and self.not_contacted_days < 0:
            raise ValueError(f"not_contacted_days must be 0 or more, got {self.not_contacted_days}")
        unknown = set(self.value_tiers) - {name for name, _ in VALUE_TIERS}
        if unknown:
            raise ValueError(f"unknown value tier(s) {sorted(unknown)}; choose from {[n for n, _ in VALUE_TIERS]}")
        for name in ("value_tiers", "driver_groups", "owners"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


@dataclass(frozen=True)
class AtRiskList:
    """The call list: `customers` (columns `AT_RISK_COLUMNS`, ranked by expected loss, at
    most `limit` rows), how many matched the criteria (`matching`) out of the selection's
    scored active customers (`population`), their total expected loss, how many of them
    have no conversation on record (`never_contacted`), and the scoring date used.
    `available` is False (with `message`) when there are no usable scores."""

    available: bool
    message: str
    scored_on: date | None = None
    population: int = 0
    matching: int = 0
    matching_expected_loss: float = 0.0
    customers: pd.DataFrame = field(default_factory=lambda: empty_frame(AT_RISK_COLUMNS))
    population_expected_loss: float = math.nan  # margin at risk of the whole selection
    never_contacted: int = 0

    @property
    def truncated(self) -> bool:
        return len(self.customers) < self.matching

    @property
    def share_of_margin_at_risk(self) -> float:
        """The list's expected loss ÷ the selection's margin at risk (NaN when unknown)."""
        return ratio(self.matching_expected_loss, self.population_expected_loss) if self.matching else 0.0


def driver_filter_available(db: Database) -> bool:
    """True when the scores carry driver groups (files scored before they were added do not)."""
    return _has_scores(db) and set(DRIVER_GROUP_COLUMNS) <= set(db.table(SCORES_TABLE).columns)


def _ranked_selection(db: Database, flt: RetentionFilter, scored_on: date) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """(scores of `scored_on`, the selected customers active on ``flt.as_of``, their ranks):
    the ranks table has one narrow row per scored selected customer — ``customer_id``,
    ``risk_rank`` by expected loss (ties by probability, then id), ``population`` and
    ``population_loss`` (count and Σ expected loss of the selection), ``value_tier`` by
    future value; ``expected_loss`` and ``clv_future`` as `expected_loss` and
    `future_value` compute them (the scores table returned carries them too).

    Ranks are computed on a narrow projection and the wide columns (names, drivers in
    words) joined afterwards by the caller, to the listed rows only: a window or a sort
    carries every column along, and at 1M customers the text columns made it several times
    slower."""
    s = db.table(SCORES_TABLE)
    s = s.filter(s.as_of_date.cast("date") == scored_on)
    s = s.mutate(clv_future=future_value(s)).mutate(expected_loss=lambda t: expected_loss(t))
    c = customers(db, flt)
    c = c.filter(c.signup_date <= flt.as_of, c.churn_date.isnull() | (c.churn_date > flt.as_of))
    cols = ("customer_id", "churn_probability", "clv_future", "expected_loss")
    narrow = s.select(*cols).semi_join(c, s.customer_id == c.customer_id).select(*cols)
    ranked = narrow.select(
        "customer_id",
        risk_rank=ibis.row_number().over(order_by=[ibis.desc(narrow.expected_loss),
                                                   ibis.desc(narrow.churn_probability), narrow.customer_id]) + 1,
        value_rank=ibis.row_number().over(order_by=[ibis.desc(narrow.clv_future), narrow.customer_id]),
        population=narrow.count().over(),
        population_loss=narrow.expected_loss.sum().over(),
    )
    ranked = ranked.select("customer_id", "risk_rank", "population", "population_loss",
                           value_tier=value_tier(ranked.value_rank, ranked.population))
    return s, c, ranked


def _last_contacts(db: Database, as_of: date) -> ibis.Table:
    """Per customer, the time of the latest conversation (`CONTACT_KINDS`) up to the end of `as_of`."""
    t = touchpoints(db, RetentionFilter(as_of, as_of), in_period=False)  # all channels, up to as_of's end
    t = t.filter(t.kind.isin(CONTACT_KINDS))
    # only the time: the kind of that contact (an arg_max over 20M rows) would cost as much
    # again at 1M customers, and the customer-360 timeline shows it
    return t.group_by("customer_id").aggregate(last_contact_at=t.occurred_at.max())


def at_risk_customers(db: Database, flt: RetentionFilter, criteria: AtRiskCriteria = AtRiskCriteria(),
                      limit: int | None = None) -> AtRiskList:
    """The selected customers active on ``flt.as_of`` that meet `criteria`, ranked by
    expected loss (probability × future value, the margin still to come — module
    docstring; ties by probability, then id).

    ``risk_rank`` and ``value_tier`` are computed over the whole selection before the
    criteria, so narrowing the list never re-ranks a customer. ``days_since_contact`` =
    as-of date − the day of the last conversation. The sidebar's channel filter does not
    apply: a customer belongs to no channel, and the last contact is over all channels."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if not _has_scores(db):
        return AtRiskList(False, NOT_COMPUTED)
    # clv_future is optional: older scorings have clv_predicted − clv_historical instead
    missing = {"churn_probability", "clv_historical", "clv_predicted", "driver_1"} - set(
        db.table(SCORES_TABLE).columns)
    if missing:
        return AtRiskList(False, f"The {SCORES_TABLE} table lacks {', '.join(sorted(missing))}; score the "
                          "database with python -m analytics.score to build the call list.")
    if criteria.driver_groups and not driver_filter_available(db):
        raise ValueError("these scores carry no driver groups; re-run python -m analytics.score to filter by driver")
    scored_on = scoring_date(db, flt.as_of)
    if scored_on is None:
        return AtRiskList(False, f"Churn scores are not computed yet for {flt.as_of:%d %b %Y} or before.")

    s, c, ranked = _ranked_selection(db, flt, scored_on)
    groups = {g: (s[g] if g in s.columns else ibis.null("string")) for g in DRIVER_GROUP_COLUMNS}
    # 1. the criteria, window totals, order and limit on one narrow row per customer
    j = ranked.join(s.select("customer_id", "churn_probability", "expected_loss", **groups), "customer_id")
    if criteria.owners:
        j = j.join(c.select("customer_id", "account_owner"), "customer_id")
    last = _last_contacts(db, flt.as_of)
    j = j.left_join(last, j.customer_id == last.customer_id).drop("customer_id_right")
    j = j.mutate(days_since_contact=ibis.literal(flt.as_of).delta(j.last_contact_at.cast("date"), unit="day"))
    keep = [j.churn_probability >= criteria.min_probability]
    if criteria.value_tiers:
        keep.append(j.value_tier.isin(criteria.value_tiers))
    if criteria.driver_groups:
        keep.append(ibis.or_(*[j[g].isin(criteria.driver_groups) for g in DRIVER_GROUP_COLUMNS]))
    if criteria.owners:
        keep.append(j.account_owner.isin(criteria.owners))
    if criteria.not_contacted_days is not None:
        keep.append(j.last_contact_at.isnull() | (j.days_since_contact >= criteria.not_contacted_days))
    chosen = j.filter(*keep)
    if criteria.owners:
        chosen = chosen.drop("account_owner")  # joined again with the other shown columns
    chosen = chosen.mutate(matching=chosen.count().over(), matching_loss=chosen.expected_loss.sum().over(),
                           never_contacted=chosen.last_contact_at.isnull().sum().over())
    listed = chosen.order_by("risk_rank")
    if limit is not None:
        listed = listed.limit(limit)
    # 2. the wide columns for the listed rows only (sorting 700k wide rows took ~3 s at 1M)
    wide = s.select("customer_id", "clv_historical", "clv_predicted", "clv_future", "driver_1", "driver_2",
                    "driver_3")
    shown = c.select("customer_id", "full_name", "phone", "email", "account_owner", "segment", "region", "plan",
                     "contract_type", "signup_date", "monthly_revenue")
    listed = listed.join(wide, "customer_id").join(shown, "customer_id").order_by("risk_rank")
    df = execute(db, listed)
    population = execute(db, ranked.aggregate(n=ranked.count()))["n"].iloc[0] if df.empty else df["population"].iloc[0]
    if df.empty:
        message = ("No scored customer is active in this selection." if not population else
                   "No customer meets these criteria.")
        return AtRiskList(True, message, scored_on, int(population))
    return AtRiskList(
        available=True,
        message=f"Scores of {scored_on:%d %b %Y}.",
        scored_on=scored_on,
        population=int(population),
        matching=int(df["matching"].iloc[0]),
        matching_expected_loss=float(df["matching_loss"].iloc[0]),
        never_contacted=int(df["never_contacted"].iloc[0]),
        customers=conform(df, AT_RISK_COLUMNS),
        population_expected_loss=float(df["population_loss"].iloc[0]),
    )


# --- customer 360 ----------------------------------------------------------------------------

PROFILE_FIELDS = ("customer_id", "full_name", "email", "phone", "segment", "region", "plan", "contract_type",
                  "acquisition_channel", "acquisition_cost", "signup_date", "churn_date", "churn_reason",
                  "monthly_revenue", "margin_rate", "loyalty_member", "account_owner")


@dataclass(frozen=True)
class CustomerProfile:
    """One customer at `as_of`: the customers row (`fields`), status, tenure, value and the
    latest score on or before `as_of` (None when not scored then).

    - status: "active" (signed up by as_of, not churned by it), "churned", or "not yet a
      customer";
    - tenure_months = whole months from signup to as_of (or to churn);
    - clv_historical = (Σ MRR of the months to as_of + purchases to as_of) × margin rate,
      the definition of analytics.metrics.value (docs/metrics.md#historical-clv);
      truncated when the customer signed up before `history_start` (`clv_note`)."""

    customer_id: int
    as_of: date
    fields: dict
    status: str
    tenure_months: int
    clv_historical: float
    score: dict | None
    history_start: date | None = None

    def clv_note(self) -> str:
        """'' — or, for a customer who signed up before the history starts, the sentence
        saying their historical CLV counts only the margin since then."""
        signup = self.fields.get("signup_date")
        if self.history_start is None or signup is None or pd.Timestamp(signup).date() >= self.history_start:
            return ""
        return (f"Signed up before the history starts ({self.history_start:%Y-%m-%d}): this counts only the "
                "margin since then.")


def _customer_id(customer_id) -> int:
    try:
        return int(customer_id)
    except (TypeError, ValueError):
        raise ValueError(f"a customer id is a whole number, got {customer_id!r}") from None


def customer_profile(db: Database, customer_id: int, as_of: date) -> CustomerProfile | None:
    """The customer's profile at `as_of`, or None when the id is unknown."""
    from analytics.metrics._common import whole_months
    from analytics.metrics.value import margin_history_start

    cid = _customer_id(customer_id)
    c = db.table("customers")
    c = c.filter(c.customer_id == cid)
    end = ibis.cases((c.churn_date.notnull() & (c.churn_date <= as_of), c.churn_date), else_=ibis.literal(as_of))
    rows = execute(db, c.select(*PROFILE_FIELDS, tenure_months=whole_months(c.signup_date, end, strict=False)))
    if rows.empty:
        return None
    row = rows.iloc[0]
    fields = {k: (None if pd.isna(row[k]) else row[k]) for k in PROFILE_FIELDS}
    signup = pd.Timestamp(row["signup_date"]).date()
    churn = None if pd.isna(row["churn_date"]) else pd.Timestamp(row["churn_date"]).date()
    status = ("not yet a customer" if signup > as_of else "churned" if churn is not None and churn <= as_of
              else "active")
    value = customer_value_table(db, RetentionFilter(as_of, as_of), ranked=False)
    value = execute(db, value.filter(value.customer_id == cid).select("clv"))
    clv = float(value["clv"].iloc[0]) if not value.empty else 0.0
    history = score_history(db, cid, as_of)
    score = history.iloc[-1].to_dict() if not history.empty else None
    return CustomerProfile(cid, as_of, fields, status, max(int(row["tenure_months"]), 0), clv, score,
                           margin_history_start(db)[0])


SCORE_HISTORY_COLUMNS: dict[str, str] = {
    "scored_on": "datetime64[ns]",
    "churn_probability": "float64",
    "clv_predicted": "float64",
    "clv_future": "float64",
    "expected_loss": "float64",
    "risk_rank": "int64",
    "driver_1": "string",
    "driver_2": "string",
    "driver_3": "string",
}


def score_history(db: Database, customer_id: int, as_of: date) -> pd.DataFrame:
    """Every score the customer got on or before `as_of`, oldest first (columns
    `SCORE_HISTORY_COLUMNS`; ``risk_rank`` is the rank among all customers scored that
    day, as the scorer stored it — scorings before issue 14 ranked by p × predicted CLV).
    ``clv_future`` and ``expected_loss`` are `future_value` and `expected_loss` (the
    margin still to come, also for older scorings). Empty when never scored."""
    cid = _customer_id(customer_id)
    if not _has_scores(db):
        return empty_frame(SCORE_HISTORY_COLUMNS)
    s = db.table(SCORES_TABLE)
    if (set(SCORE_HISTORY_COLUMNS) - {"scored_on", "clv_future", "expected_loss"} - set(s.columns)
            or missing_loss_inputs(s.columns)):
        return empty_frame(SCORE_HISTORY_COLUMNS)
    s = s.mutate(clv_future=future_value(s)).mutate(expected_loss=lambda t: expected_loss(t))
    s = s.filter(s.customer_id == cid, s.as_of_date.cast("date") <= as_of)
    df = execute(db, s.select(scored_on=s.as_of_date.cast("date"),
                              **{c: s[c] for c in SCORE_HISTORY_COLUMNS if c != "scored_on"}).order_by("scored_on"))
    return conform(df, SCORE_HISTORY_COLUMNS)


TIMELINE_COLUMNS: dict[str, str] = {
    "occurred_at": "datetime64[ns]",
    "kind": "string",
    "channel": "string",
    "direction": "string",
    "subject": "string",
    "agent": "string",
    "outcome": "string",
    "resolved": "boolean",
    "wait_seconds": "float64",
    "csat": "float64",
    "nps": "float64",
    "amount": "float64",
    "note": "string",
    "signals": "string",  # churn signals the note fires (analytics.risk.note_signals), comma-separated
}


def customer_timeline(db: Database, customer_id: int, as_of: date) -> pd.DataFrame:
    """Every touchpoint of the customer up to the end of `as_of`, newest first, with the
    churn signals its note fires (the lexicon of analytics.risk.note_signals)."""
    from analytics.risk.note_signals import classify_note

    cid = _customer_id(customer_id)
    t = touchpoints(db, RetentionFilter(as_of, as_of), in_period=False)  # all channels, up to as_of's end
    t = t.filter(t.customer_id == cid)
    cols = [c for c in TIMELINE_COLUMNS if c != "signals"]
    df = execute(db, t.order_by([ibis.desc(t.occurred_at), ibis.desc(t.touchpoint_id)]).select(*cols))
    if df.empty:
        return empty_frame(TIMELINE_COLUMNS)
    df["signals"] = [", ".join(sorted(classify_note(n))) or None if isinstance(n, str) else None
                     for n in df["note"]]
    df["resolved"] = df["resolved"].astype("boolean")
    return conform(df, TIMELINE_COLUMNS)


REVENUE_HISTORY_COLUMNS: dict[str, str] = {"month": "datetime64[ns]", "mrr": "float64"}


def customer_revenue_history(db: Database, customer_id: int, as_of: date) -> pd.DataFrame:
    """The customer's MRR by month, up to the month of `as_of`."""
    cid = _customer_id(customer_id)
    r = db.table("monthly_revenue")
    r = r.filter(r.customer_id == cid, r.month <= as_of.replace(day=1))
    return conform(execute(db, r.select("month", "mrr").order_by("month")), REVENUE_HISTORY_COLUMNS)


# --- exports: a dialer's machine layout and a readable one (two presets) ------------------------

# The machine layout, for a dialer or CRM import: stable snake_case headers (they are the
# contract with the importer's mapping, never reworded for display), the dialer's five first
# — id, phone in E.164, name, priority (1 = call first, the list's rank), reason code (the top
# driver group, a stable code such as `cancellation_requests`) — then the rest. Numbers raw,
# dates ISO. Personal data leaves the product only here, on the team's explicit download.
EXPORT_COLUMNS: dict[str, str] = {
    "customer_id": "customer_id",
    "phone_e164": "phone",
    "full_name": "full_name",
    "risk_rank": "priority",
    "driver_group_1": "reason_code",
    "driver_1": "reason_1",
    "driver_2": "reason_2",
    "driver_3": "reason_3",
    "phone": "phone_local",
    "email": "email",
    "account_owner": "owner",
    "segment": "segment",
    "region": "region",
    "plan": "plan",
    "contract_type": "contract_type",
    "churn_probability": "churn_probability_90d",
    "expected_loss": "expected_loss",
    "clv_future": "clv_future",
    "clv_predicted": "clv_predicted",
    "value_tier": "value_tier",
    "last_contact_date": "last_contact_date",
    "days_since_contact": "days_since_contact",
    "scored_on": "scored_on",
}
DIALER_COLUMNS: tuple[str, ...] = ("customer_id", "phone", "full_name", "priority", "reason_code")

# The readable layout: the page's headers and formatting (percent, money with the symbol,
# "12 Mar 2026" dates, labelled categories, "—" for nothing), the model's reasons in full, the
# case columns when given, and the contact details a person calling needs.
READABLE_COLUMNS: tuple[str, ...] = (
    "Rank", "Customer", "ID", "Phone", "E-mail", "Status", "Case owner", "Follow-up", "Churn risk",
    "Expected loss", "Future value", "Predicted CLV", "Tier", "Reasons", "Last contact", "Days since contact",
    "Segment", "Plan", "Owner",
)


def readable_export_frame(call_list: AtRiskList, cases: pd.DataFrame | None = None) -> pd.DataFrame:
    """The call list as people read it (`READABLE_COLUMNS`): what the page shows, formatted
    as text — churn risk "24%", money "₪1,234" (not compact), dates "12 Mar 2026", labels
    ("Small business"), the three reasons joined by "; ", "—" where there is nothing.
    `cases` (``customer_id``, ``status``, ``owner``, ``follow_up_date``, as
    `analytics.actions.current_cases`) fills Status / Case owner / Follow-up; a customer
    without a case is "New"; with `cases` None (no store) those columns are blank."""
    from analytics import formatting as fmt

    df = call_list.customers
    by_id = cases.set_index("customer_id") if cases is not None and not cases.empty else None

    def case(cid: int, column: str):
        if by_id is None or cid not in by_id.index:
            return None
        value = by_id.at[cid, column]
        return None if pd.isna(value) else value

    ids = [int(c) for c in df["customer_id"]]
    has_store = cases is not None

    def text(values) -> list[str]:
        return [v if isinstance(v, str) and v else "—" for v in values]

    def day(values) -> list[str]:
        return ["—" if pd.isna(v) else f"{pd.Timestamp(v):%d %b %Y}" for v in values]

    out = pd.DataFrame({
        "Rank": df["risk_rank"].astype("int64"),
        "Customer": text(df["full_name"]),
        "ID": ids,
        "Phone": text(df["phone"]),
        "E-mail": text(df["email"]),
        "Status": [fmt.label(case(c, "status") or "new") if has_store else "" for c in ids],
        "Case owner": [case(c, "owner") or "—" if has_store else "" for c in ids],
        "Follow-up": [day([case(c, "follow_up_date")])[0] if has_store else "" for c in ids],
        "Churn risk": [fmt.percent(v, 0) for v in df["churn_probability"]],
        "Expected loss": [fmt.money(v, compact=False) for v in df["expected_loss"]],
        "Future value": [fmt.money(v, compact=False) for v in df["clv_future"]],
        "Predicted CLV": [fmt.money(v, compact=False) for v in df["clv_predicted"]],
        "Tier": [fmt.label(v) for v in df["value_tier"]],
        "Reasons": ["; ".join(d for d in row if isinstance(d, str) and d) or "—"
                    for row in df[["driver_1", "driver_2", "driver_3"]].itertuples(index=False, name=None)],
        "Last contact": day(df["last_contact_at"]),
        "Days since contact": ["never" if pd.isna(v) else fmt.count(v) for v in df["days_since_contact"]],
        "Segment": [fmt.label(v) for v in df["segment"]],
        "Plan": [fmt.label(v) for v in df["plan"]],
        "Owner": text(df["account_owner"]),
    }, columns=list(READABLE_COLUMNS))
    return out.reset_index(drop=True)


def phone_e164(phone: str | None, country_code: str = "972") -> str | None:
    """An Israeli phone number in E.164 (053-3375963 -> +972533375963), the form dialers
    expect; None when it is not a valid 9–10-digit local number starting with 0."""
    if not isinstance(phone, str):
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.strip().startswith("+"):
        return "+" + digits if 11 <= len(digits) <= 15 else None
    if digits.startswith(country_code) and len(digits) in (11, 12):
        return "+" + digits
    if digits.startswith("0") and len(digits) in (9, 10):
        return f"+{country_code}{digits[1:]}"
    return None


def export_frame(call_list: AtRiskList) -> pd.DataFrame:
    """The call list in the machine layout (`EXPORT_COLUMNS`, renamed; `DIALER_COLUMNS`
    first): phone in E.164 (blank when invalid, the local form kept beside it), priority =
    the list's rank, reason code = the top driver's group, probability as a fraction, money
    rounded to 2 decimals, dates as ISO days."""
    df = call_list.customers.copy()
    df["phone_e164"] = [phone_e164(p) for p in df["phone"].astype(object).where(df["phone"].notna(), None)]
    df["last_contact_date"] = df["last_contact_at"].dt.strftime("%Y-%m-%d")
    df["scored_on"] = f"{call_list.scored_on:%Y-%m-%d}" if call_list.scored_on else None
    df["days_since_contact"] = df["days_since_contact"].astype("Int64")
    for col in ("expected_loss", "clv_future", "clv_predicted"):
        df[col] = df[col].round(2)
    df["churn_probability"] = df["churn_probability"].round(4)
    return df.loc[:, list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS).reset_index(drop=True)


# --- the call list of a purchase-log file (no churn scores) -----------------------------------

PURCHASE_AT_RISK_COLUMNS: dict[str, str] = {
    "risk_rank": "int64",  # 1 = largest expected loss in the selection
    "customer_id": "int64",
    "full_name": "string",
    "segment": "string",
    "p_alive": "float64",
    "value_if_alive": "float64",
    "predicted_clv": "float64",
    "expected_loss": "float64",
    "purchases": "int64",
    "last_purchase": "datetime64[ns]",
    "days_since_purchase": "int64",
    "active": "bool",
}

PURCHASE_LOSS_NOTE = ("Ranked by expected loss = (1 − P(alive)) × value if alive: the chance the customer has "
                      "stopped buying (BG/NBD) times the margin they would bring over the next {horizon} months "
                      "if still buying (expected purchases × Gamma-Gamma spend × margin rate, discounted 10% a "
                      "year). Customers who bought only once have P(alive) = 1 under BG/NBD, so no expected "
                      "loss: the model cannot see them leave.")


@dataclass(frozen=True)
class PurchaseRiskList:
    """The call list of a purchase-log file: `customers` (columns `PURCHASE_AT_RISK_COLUMNS`,
    at most `limit` rows) ranked by expected loss, out of `population` customers who ever
    bought, with the total expected loss of the selection; `note` says how the loss is
    computed. `available` False (with `message`) when the purchase model cannot be fitted."""

    available: bool
    message: str
    note: str = ""
    population: int = 0
    at_risk: int = 0  # customers with an expected loss above 0
    total_expected_loss: float = 0.0
    customers: pd.DataFrame = field(default_factory=lambda: empty_frame(PURCHASE_AT_RISK_COLUMNS))


def purchase_at_risk(db: Database, flt: RetentionFilter, limit: int | None = None) -> PurchaseRiskList:
    """The selected customers who bought by ``flt.as_of`` ranked by expected loss = (1 −
    P(alive)) × value if alive (analytics/metrics/purchase_value.py, docs/metrics.md#purchase-log-value;
    ties by lower P(alive), then id). For a purchase-log file without churn scores."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    value = purchase_value(db, flt)
    if not value.available:
        return PurchaseRiskList(False, value.message)
    df = value.customers.sort_values(["expected_loss", "p_alive", "customer_id"], ascending=[False, True, True])
    df = df.assign(risk_rank=range(1, len(df) + 1))
    listed = conform(df.head(limit) if limit else df, PURCHASE_AT_RISK_COLUMNS)
    return PurchaseRiskList(True, value.message, PURCHASE_LOSS_NOTE.format(horizon=value.horizon_months),
                            len(df), int((df["expected_loss"] > 0).sum()), float(df["expected_loss"].sum()),
                            listed.reset_index(drop=True))
