"""Historical customer value: margin earned to date, its distribution, Pareto share, value
tiers and CLV : CAC (docs/metrics.md#historical-clv).

Historical CLV of a customer at the as-of date ``flt.end`` =

    margin_rate × ( Σ mrr over their ``monthly_revenue`` months starting on or before the
                    as-of date  +  Σ amount of their ``purchase`` touchpoints with
                    amount > 0 up to the end of the as-of day )

(the brief: "CLV = revenue × margin"; a NULL margin_rate counts as 0). The population is
every selected customer who signed up on or before the as-of date, churned or not — a
churned customer's value is complete, an active one's still growing. ``flt.start`` does
not apply (value is cumulative), nor does the channel filter (value is not
channel-specific). Predictive CLV is not in this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Sequence

import ibis
import pandas as pd

from analytics import catalog
from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, monthly_revenue, touchpoints
from analytics.metrics._common import (
    FAR_FUTURE,
    as_filter,
    check_dimension,
    checked_quantiles,
    conform,
    empty_frame,
    execute,
    long_quantiles,
    month_start,
    ratio,
)
from analytics.rollups import CLV_ACCRUAL, CUSTOMER_VALUE, fresh_rollup

# Value tiers by rank of historical CLV (highest first), as shares of customers:
# the top 10% platinum, the next 20% gold, the next 30% silver, the remaining 40% bronze.
VALUE_TIERS: tuple[tuple[str, float], ...] = (
    ("platinum", 0.10),
    ("gold", 0.30),
    ("silver", 0.60),
    ("bronze", 1.00),
)

CUSTOMER_VALUE_COLUMNS: dict[str, str] = {
    "customer_id": "int64",
    "segment": "string",
    "acquisition_channel": "string",
    "recurring_revenue": "float64",
    "purchase_revenue": "float64",
    "margin_rate": "float64",
    "clv": "float64",
    "value_rank": "int64",
    "value_tier": "string",
}

QUANTILE_COLUMNS: dict[str, str] = {"quantile": "float64", "clv": "float64"}
GROUPED_QUANTILE_COLUMNS: dict[str, str] = {"group": "string", **QUANTILE_COLUMNS}
QUANTILE_DIMENSIONS = ("segment", "region", "plan", "acquisition_channel")

TIER_COLUMNS: dict[str, str] = {
    "value_tier": "string",
    "tier_order": "int64",
    "customers": "int64",
    "share_of_customers": "float64",
    "total_clv": "float64",
    "share_of_value": "float64",
    "min_clv": "float64",
    "max_clv": "float64",
    "mean_clv": "float64",
}

CAC_COLUMNS: dict[str, str] = {
    "dimension": "string",
    "group": "string",
    "customers": "int64",
    "total_clv": "float64",
    "total_cac": "float64",
    "mean_clv": "float64",
    "mean_cac": "float64",
    "clv_cac_ratio": "float64",
}

CAC_DIMENSIONS = ("segment", "acquisition_channel", "region", "plan", "contract_type")


@dataclass(frozen=True)
class ParetoShare:
    """How concentrated value is: the top ``top_share`` of customers by historical CLV
    (``top_customers`` = ceil(top_share × customers)) hold ``top_value_share`` of it."""

    customers: int
    top_share: float
    top_customers: int
    total_clv: float
    top_clv: float
    top_value_share: float


def _live_value_base(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Historical CLV per customer of the population, computed from the source tables."""
    as_of = flt.as_of
    c = customers(db, flt)
    c = c.filter(c.signup_date <= as_of)
    r = monthly_revenue(db, flt)
    r = r.filter(r.month <= month_start(as_of))
    rev = r.group_by("customer_id").aggregate(recurring_revenue=r.mrr.sum())
    # Purchases are a customer fact, whatever channel they came through.
    p = touchpoints(db, as_filter(flt, channels=()), in_period=False)
    p = p.filter(p.kind == "purchase", p.amount > 0)
    buy = p.group_by("customer_id").aggregate(purchase_revenue=p.amount.sum())
    j = c.left_join(rev, c.customer_id == rev.customer_id).left_join(
        buy, c.customer_id == buy.customer_id
    )
    base = j.select(
        c.customer_id,
        segment=c.segment,
        region=c.region,
        plan=c.plan,
        acquisition_channel=c.acquisition_channel,
        acquisition_cost=c.acquisition_cost.fill_null(0.0),
        recurring_revenue=rev.recurring_revenue.fill_null(0.0).cast("float64"),
        purchase_revenue=buy.purchase_revenue.fill_null(0.0).cast("float64"),
        margin_rate=c.margin_rate.fill_null(0.0),
    )
    return base.mutate(clv=(base.recurring_revenue + base.purchase_revenue) * base.margin_rate)


def _ranked(base: ibis.Table) -> ibis.Table:
    """`base` with ``value_rank`` (0 = most valuable; ties broken by customer_id),
    ``population`` and ``value_tier``."""
    ranked = base.mutate(
        value_rank=ibis.row_number().over(order_by=[ibis.desc(base.clv), base.customer_id]),
        population=base.count().over(),
    )
    tier = value_tier(ranked.value_rank, ranked.population)
    return ranked.mutate(value_tier=tier)


def value_rollup_source(db: Database, as_of: date) -> ibis.Table:
    """The content of ``rollup_customer_value`` (analytics/rollups.py): the live per-customer
    value of every customer as of `as_of`, with the attributes the filters select on, and
    the rank and tier within the whole population (what an unfiltered call returns; a
    filtered call ranks its selection again). Stored in rank order."""
    return _ranked(_live_value_base(db, RetentionFilter(as_of, as_of))).order_by("value_rank")


def value_tier(value_rank: ibis.IntegerValue, population: ibis.IntegerValue) -> ibis.StringValue:
    """The `VALUE_TIERS` name of a 0-based value rank among `population` customers:
    platinum when rank < 0.1·N, gold < 0.3·N, silver < 0.6·N, else bronze."""
    return ibis.cases(*[(value_rank < population * share, name) for name, share in VALUE_TIERS[:-1]],
                      else_=VALUE_TIERS[-1][0])


def customer_value_table(db: Database, flt: RetentionFilter, ranked: bool = True) -> ibis.Table:
    """Ibis expression, one row per customer in the population: ``customer_id``,
    ``segment``, ``region``, ``plan``, ``acquisition_channel``, ``acquisition_cost``,
    ``recurring_revenue``, ``purchase_revenue``, ``margin_rate``, ``clv`` and, when
    `ranked`, ``value_rank`` (0 = most valuable; ties broken by customer_id),
    ``population`` and ``value_tier``. Shared by the functions below; ranking needs a sort,
    so it is skipped when unused.

    Read from ``rollup_customer_value`` when that is fresh and built for ``flt.as_of``
    (docs/decisions/009-metric-rollups.md), else computed. The segment / region / plan
    filters select rows of the rollup exactly as they select customers; without them the
    rollup's stored ranks are the answer and the sort is skipped too."""
    rollup = fresh_rollup(db, CUSTOMER_VALUE, as_of=flt.as_of, flt=flt)
    if rollup is None:
        base = _live_value_base(db, flt)
    elif not (flt.segments or flt.regions or flt.plans):
        return rollup if ranked else rollup.drop("value_rank", "population", "value_tier")
    else:
        base = rollup.drop("value_rank", "population", "value_tier")
        for column, values in (("segment", flt.segments), ("region", flt.regions), ("plan", flt.plans)):
            if values:
                base = base.filter(base[column].isin(values))
    return _ranked(base) if ranked else base


def customer_clv(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Historical CLV and value tier of every customer in the population (one row each,
    most valuable first) — the input of at-risk lists and exports. Columns
    ``customer_id``, ``segment``, ``acquisition_channel``, ``recurring_revenue``,
    ``purchase_revenue``, ``margin_rate``, ``clv``, ``value_rank``, ``value_tier``."""
    t = customer_value_table(db, flt)
    # only the returned columns travel: at 1M rows every string column costs ~0.1 s
    df = execute(db, t.select(*CUSTOMER_VALUE_COLUMNS).order_by("value_rank"))
    return conform(df, CUSTOMER_VALUE_COLUMNS)


def clv_quantiles(
    db: Database,
    flt: RetentionFilter,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99),
) -> pd.DataFrame:
    """Distribution of historical CLV: the continuous (linearly interpolated) quantiles
    of per-customer CLV. Columns ``quantile``, ``clv``; empty selection -> empty frame."""
    df = clv_quantiles_by(db, flt, None, quantiles)
    return conform(df, QUANTILE_COLUMNS)


def clv_quantiles_by(
    db: Database,
    flt: RetentionFilter,
    by: str | None,
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99),
) -> pd.DataFrame:
    """`clv_quantiles` of each value of customer attribute `by` (segment, region, plan, …)
    within the selection, from one query — equal to `clv_quantiles` with the selection
    narrowed to that value. Columns ``group`` ('(missing)' for NULL), ``quantile``,
    ``clv``; a value without customers has no rows. `by=None`: one group, 'all'."""
    qs = checked_quantiles(quantiles)
    t = customer_value_table(db, flt, ranked=False)
    if by is not None:
        check_dimension(by, QUANTILE_DIMENSIONS)
    group = t[by].cast("string").fill_null("(missing)") if by else ibis.literal("all")
    agg = t.group_by(group=group).aggregate(**{f"q{i}": t.clv.quantile(q) for i, q in enumerate(qs)})
    return long_quantiles(execute(db, agg), qs, {"clv": "q"}, GROUPED_QUANTILE_COLUMNS)


def split_groups(long: pd.DataFrame, groups: Sequence[str], columns: dict[str, str]) -> dict[str, pd.DataFrame]:
    """A ``group``-keyed long frame (`clv_quantiles_by`, `predicted_clv_quantiles_by`) as
    one frame per requested group, with `columns`; a group absent from it gets an empty
    frame."""
    return {g: conform(long[long["group"] == g], columns) for g in groups}


def clv_pareto(db: Database, flt: RetentionFilter, top_share: float = 0.2) -> ParetoShare:
    """Share of total historical CLV held by the top ``top_share`` (default 20%) of
    customers: top_value_share = Σ clv of the ceil(top_share × N) most valuable customers
    ÷ Σ clv of all N. NaN share (and zeros) for an empty selection or zero total value."""
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share}")
    t = customer_value_table(db, flt)
    agg = t.aggregate(
        n=t.count(),
        total=t.clv.sum(),
        top=t.clv.sum(where=t.value_rank < t.population * top_share),
    )
    row = execute(db, agg).apply(pd.to_numeric).fillna(0).iloc[0]
    n = int(row["n"])
    total, top = float(row["total"]), float(row["top"])
    return ParetoShare(
        customers=n,
        top_share=top_share,
        top_customers=math.ceil(round(top_share * n, 9)),
        total_clv=total,
        top_clv=top,
        top_value_share=ratio(top, total),
    )


PARETO_CURVE_COLUMNS: dict[str, str] = {"customer_share": "float64", "value_share": "float64"}


def clv_pareto_curve(db: Database, flt: RetentionFilter, points: int = 200) -> pd.DataFrame:
    """The Lorenz (Pareto) curve of historical CLV: customers ranked most valuable first
    (ties by customer_id, `customer_value_table`); at each customer share x = j / `points`
    (j = 0..points) the share of total CLV held by the ⌈x·N⌉ most valuable of the N
    selected customers — `clv_pareto`'s figure for top_share = x, so the curve passes
    through the KPI. `points` + 1 rows whatever N, from one grouped query (not N rows to
    pandas). Columns ``customer_share``, ``value_share`` (0 everywhere when the total is
    0); an empty selection gives an empty frame."""
    if points < 1:
        raise ValueError(f"points must be at least 1, got {points}")
    t = customer_value_table(db, flt)
    # bucket b holds the ranks r with b ≤ r·points/N < b+1: the customers of buckets < j are
    # those of rank < j·N/points, i.e. the ⌈j·N/points⌉ most valuable
    bucket = (t.value_rank * points / t.population).floor().cast("int64")
    df = execute(db, t.group_by(bucket=bucket).aggregate(value=t.clv.sum()))
    if df.empty:
        return empty_frame(PARETO_CURVE_COLUMNS)
    per_bucket = df.set_index("bucket")["value"].astype(float).reindex(range(points), fill_value=0.0)
    total = float(per_bucket.sum())
    held = per_bucket.cumsum() / total if total > 0 else per_bucket * 0.0
    curve = pd.DataFrame({"customer_share": [j / points for j in range(points + 1)],
                          "value_share": [0.0, *held.tolist()]})
    return conform(curve, PARETO_CURVE_COLUMNS)


@dataclass(frozen=True)
class HistoryTruncation:
    """How many customers of the historical-CLV population signed up before the data's
    history starts (see `history_truncation`)."""

    customers: int
    truncated: int
    history_start: date | None
    source: str  # where history_start comes from: "schema_info", "first billed month", "earliest signup"

    @property
    def share(self) -> float:
        return ratio(self.truncated, self.customers)

    def sentence(self) -> str:
        """The caveat under a historical-CLV figure; '' when no customer is truncated."""
        if not self.truncated or self.history_start is None:
            return ""
        return (f"{self.share:.0%} of these customers signed up before the history starts "
                f"({self.history_start:%Y-%m-%d}); their historical CLV counts only the margin since then.")


def margin_history_start(db: Database) -> tuple[date | None, str]:
    """The first day of the recorded margin and where it comes from: the file's
    ``schema_info.history_start``, else the first month of ``monthly_revenue`` (the margin
    data starts there), else the data's history start (`catalog.history_start`: the
    earliest signup, so nobody is truncated). Differs from `catalog.history_start` only
    for a file that does not record its history start."""
    recorded = db.schema_info().get("history_start")
    if recorded:
        return date.fromisoformat(recorded), "schema_info"
    r = db.table("monthly_revenue")
    first = execute(db, r.aggregate(first=r.month.min()))["first"].iloc[0]
    if first is not None and not pd.isna(first):
        return pd.Timestamp(first).date(), "first billed month"
    return catalog.history_start(db), "earliest signup"


def history_truncation(db: Database, flt: RetentionFilter) -> HistoryTruncation:
    """Historical CLV is truncated for a customer who signed up before the history starts:
    the margin they earned before it is not in the data. Of the historical-CLV population
    (the selected customers who signed up on or before ``flt.as_of``), how many signed up
    strictly before `history_start`:

        share = #{signup_date < history_start} ÷ #{signup_date ≤ as_of}"""
    start, source = margin_history_start(db)
    c = customers(db, flt)
    c = c.filter(c.signup_date <= flt.as_of)
    early = c.signup_date < start if start is not None else ibis.literal(False)
    row = execute(db, c.aggregate(n=c.count(), early=c.count(where=early))).iloc[0]
    return HistoryTruncation(int(row["n"]), int(row["early"] or 0), start, source)


def value_tiers(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Customers and value per value tier (`VALUE_TIERS`: top 10% platinum, next 20%
    gold, next 30% silver, rest bronze, by rank of historical CLV). Columns
    ``value_tier``, ``tier_order`` (0 = platinum), ``customers``, ``share_of_customers``,
    ``total_clv``, ``share_of_value``, ``min_clv``, ``max_clv``, ``mean_clv``; tiers
    without customers (tiny selections) are absent."""
    t = customer_value_table(db, flt)
    agg = t.group_by("value_tier").aggregate(
        customers=t.count(),
        total_clv=t.clv.sum(),
        min_clv=t.clv.min(),
        max_clv=t.clv.max(),
        mean_clv=t.clv.mean(),
    )
    df = execute(db, agg)
    if df.empty:
        return empty_frame(TIER_COLUMNS)
    order = {name: i for i, (name, _) in enumerate(VALUE_TIERS)}
    df["tier_order"] = df["value_tier"].map(order)
    df = df.sort_values("tier_order")
    df["share_of_customers"] = ratio(df["customers"], df["customers"].sum())
    df["share_of_value"] = ratio(df["total_clv"], df["total_clv"].sum())
    return conform(df, TIER_COLUMNS)


def clv_cac_ratio(db: Database, flt: RetentionFilter, by: str = "segment") -> pd.DataFrame:
    """Historical CLV against acquisition cost per group: clv_cac_ratio = Σ clv ÷ Σ
    acquisition_cost over the group's customers (a ratio of totals, so large accounts
    weigh in proportion; NaN when the group's CAC is 0). `by` is one of segment,
    acquisition_channel, region, plan, contract_type. Columns ``dimension``, ``group``,
    ``customers``, ``total_clv``, ``total_cac``, ``mean_clv``, ``mean_cac``,
    ``clv_cac_ratio``. Historical CLV of young customers is still small, so the ratio
    understates their eventual return."""
    check_dimension(by, CAC_DIMENSIONS)
    from_rollup = fresh_rollup(db, CUSTOMER_VALUE, as_of=flt.as_of, flt=flt) is not None
    df = _clv_cac_sums(db, flt, by, from_rollup)
    if df.empty:
        return empty_frame(CAC_COLUMNS)
    df["dimension"] = by
    df["mean_clv"] = ratio(df["total_clv"], df["customers"])
    df["mean_cac"] = ratio(df["total_cac"], df["customers"])
    df["clv_cac_ratio"] = ratio(df["total_clv"], df["total_cac"])
    return conform(df, CAC_COLUMNS)


@cube(keys=("group",), channel_filter=False)
def _clv_cac_sums(db: Database, flt: RetentionFilter, by: str, from_rollup: bool) -> ibis.Table:
    """`clv_cac_ratio`'s customers, Σ clv and Σ acquisition cost per group of `by`
    ('(missing)' for NULL) and population cell, from ``rollup_customer_value`` when
    `from_rollup` (the caller checked it is fresh for ``flt.as_of``), else computed."""
    if from_rollup:
        t = fresh_rollup(db, CUSTOMER_VALUE, as_of=flt.as_of)
        for column, field in POPULATION.items():
            if getattr(flt, field):
                t = t.filter(t[column].isin(getattr(flt, field)))
    else:
        t = _live_value_base(db, flt)
    if by in ("segment", "acquisition_channel", "region", "plan"):
        group = t[by].fill_null("(missing)")
    else:
        c = customers(db, flt)
        t = t.join(c.select(c.customer_id, dim=c[by]), "customer_id")
        group = t.dim.fill_null("(missing)")
    return t.group_by(*POPULATION, group=group).aggregate(
        customers=t.count(), total_clv=t.clv.sum(), total_cac=t.acquisition_cost.sum()
    )


AVERAGE_CLV_COLUMNS: dict[str, str] = {
    "as_of": "datetime64[ns]",
    "customers": "int64",
    "total_clv": "float64",
    "average_clv": "float64",
}


def average_clv_at(db: Database, flt: RetentionFilter, as_of_dates: Sequence[date]) -> pd.DataFrame:
    """Average historical CLV at several as-of dates in one query — the Overview's
    sparkline — with the definition of `clv_pareto` at each date d: over the selected
    customers who signed up by d, total_clv = Σ margin_rate × (Σ MRR of the months up to
    d's month + Σ purchases up to the end of d), average_clv = total_clv ÷ customers
    (NaN when nobody signed up by d). One row per distinct date, oldest first. Summed from
    ``rollup_clv_accrual`` when that is fresh (docs/decisions/009-metric-rollups.md)."""
    days = tuple(sorted(set(as_of_dates)))
    if not days:
        return empty_frame(AVERAGE_CLV_COLUMNS)
    from_rollup = fresh_rollup(db, CLV_ACCRUAL, flt=flt) is not None
    sums = _clv_accrual_at(db, flt, days, from_rollup)
    sums["as_of"] = pd.to_datetime(sums["as_of"])
    # every asked date, 0 customers and value where nobody of the selection counts yet
    df = pd.DataFrame({"as_of": pd.to_datetime(list(days))}).merge(sums, on="as_of", how="left")
    df = df.fillna({"customers": 0, "total_clv": 0.0})
    df["average_clv"] = ratio(df["total_clv"], df["customers"])
    return conform(df, AVERAGE_CLV_COLUMNS)


def _as_of_dates(days: tuple[date, ...]) -> ibis.Table:
    return ibis.memtable({"as_of": list(days)}, schema={"as_of": "date"})


@cube(keys=("as_of",), channel_filter=False)
def _clv_accrual_at(db: Database, flt: RetentionFilter, days: tuple[date, ...], from_rollup: bool) -> ibis.Table:
    """`average_clv_at`'s ``customers`` and ``total_clv`` per as-of date of `days` (sorted,
    distinct) and population cell: at each date d, Σ customers and Σ value of the accrual
    rows (`_clv_accrual`) with counts_from <= d. The rows are ``rollup_clv_accrual`` when
    `from_rollup` (the caller checked it is fresh), else `_clv_accrual` computed for the
    filter. Dates at which nothing counts are absent."""
    if from_rollup:
        rows = fresh_rollup(db, CLV_ACCRUAL)
        for column, field in POPULATION.items():
            if getattr(flt, field):
                rows = rows.filter(rows[column].isin(getattr(flt, field)))
    else:
        rows = _clv_accrual(db, as_filter(flt, start=min(min(days), flt.start), end=max(days)))
    # The rows are already summed per day and cell — tens of thousands — so pairing each
    # with a handful of dates is cheap (pairing raw revenue rows with every date multiplied
    # 20M rows by the number of dates: 11 s at 1M customers for five dates).
    paired = rows.cross_join(_as_of_dates(days)).filter(ibis._.counts_from <= ibis._.as_of)
    return paired.group_by("as_of", *POPULATION).aggregate(
        customers=paired.customers.sum().cast("int64"), total_clv=paired.value.sum().cast("float64"))


def clv_accrual_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_clv_accrual`` (analytics/rollups.py): for `average_clv_at`,
    signups and margin earned summed per ``counts_from`` — the first as-of date at which
    they count — and customer segment, region and plan.

    At as-of date d, `average_clv_at` counts a customer who signed up on s when s <= d,
    their MRR of month m when m <= d's month and s <= d, a purchase on day p when
    p <= d and s <= d. A month is named by its first day, so "m <= d's month" is m <= d,
    and each condition is ``counts_from <= d`` with counts_from = s, max(m, s) and
    max(p, s). So the value at any date and for any population filter is a sum of rows of
    this table. Customers without a signup date never count and are left out, as are
    revenue and purchases without a date or a customer record (the live query joins them
    to the customers). The live cube `_clv_accrual_at` sums the same rows, computed for its
    filter."""
    # every person once, every purchase up to the end of time
    return _clv_accrual(db, RetentionFilter(FAR_FUTURE, FAR_FUTURE))


def _clv_accrual(db: Database, flt: RetentionFilter) -> ibis.Table:
    """Signups and margin earned of the filter's customers per ``counts_from``, segment,
    region and plan (see `clv_accrual_rollup_source`); purchases up to the end of
    ``flt.end``, the latest as-of date asked."""
    c = customers(db, flt)  # every person once (analytics/duplicates.py)
    c = c.filter(c.signup_date.notnull()).select(
        "customer_id", "signup_date", "segment", "region", "plan", margin=c.margin_rate.fill_null(0.0))
    r = monthly_revenue(db, flt)
    r = r.filter(r.month.notnull())
    rj = r.join(c, r.customer_id == c.customer_id)
    # "m <= d's month" for a month not stored as its first day (off the data model, but the
    # live query would still read it): from the first day of the next month
    month_from = ibis.ifelse(rj.month.day() == 1, rj.month,
                             (rj.month.truncate("M") + ibis.interval(months=1)).cast("date"))
    recurring = rj.select(counts_from=ibis.greatest(month_from, rj.signup_date), segment=rj.segment,
                          region=rj.region, plan=rj.plan, customers=ibis.literal(0, "int64"),
                          value=(rj.mrr * rj.margin).cast("float64"))
    # purchases are a customer fact, whatever channel they came through
    p = touchpoints(db, as_filter(flt, channels=()), in_period=False)
    p = p.filter(p.kind == "purchase", p.amount > 0, p.occurred_at.notnull())
    pj = p.join(c, p.customer_id == c.customer_id)
    purchases = pj.select(counts_from=ibis.greatest(pj.occurred_at.cast("date"), pj.signup_date),
                          segment=pj.segment, region=pj.region, plan=pj.plan,
                          customers=ibis.literal(0, "int64"), value=(pj.amount * pj.margin).cast("float64"))
    signups = c.select(counts_from=c.signup_date, segment=c.segment, region=c.region, plan=c.plan,
                       customers=ibis.literal(1, "int64"), value=ibis.literal(0.0, "float64"))
    u = ibis.union(signups, recurring, purchases)
    return u.group_by("counts_from", "segment", "region", "plan").aggregate(
        customers=u.customers.sum(), value=u.value.sum())
