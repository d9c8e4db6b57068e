"""Recurring revenue: MRR, its month-over-month movements, revenue retention (NRR, GRR,
gross revenue churn) and ARPU (docs/metrics.md#mrr ... #arpu).

Revenue is monthly: ``monthly_revenue`` holds one MRR value per customer per month (the
``month`` column is the month's first day); a customer without a row for a month has MRR
0 in it. MRR and its movements work on whole calendar months: the months from the one
holding ``flt.start`` to the one holding ``flt.end``. Revenue retention follows the
customers instead: its book is the customers *active* at the period start (the logo-churn
rule of `customer_base`), at the MRR of the month holding the day before the start, and a
customer who churned by the period end counts 0 at its end. The channel filter does not
apply (revenue is not channel-specific).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pandas as pd

from analytics.cubes import POPULATION, cube, selected_rows, with_cells
from analytics.db import Database
from analytics.filters import RetentionFilter, customers, monthly_revenue
from analytics.metrics.customer_base import consistent_customers
from analytics.metrics._common import (
    Freq,
    add_months,
    conform,
    empty_frame,
    month_end,
    month_start,
    period_index,
    periods,
    ratio,
)
from analytics.rollups import MRR_MONTHLY, MRR_MOVEMENTS, fresh_rollup

MRR_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "mrr": "float64",
    "paying_customers": "int64",
    "arpu": "float64",
}

MOVEMENT_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "start_mrr": "float64",
    "new_mrr": "float64",
    "expansion_mrr": "float64",
    "reactivation_mrr": "float64",
    "contraction_mrr": "float64",
    "churned_mrr": "float64",
    "end_mrr": "float64",
    "net_new_mrr": "float64",
}

RETENTION_COLUMNS: dict[str, str] = {
    "period": "string",
    "first_month": "datetime64[ns]",
    "last_month": "datetime64[ns]",
    "partial": "bool",
    "start_customers": "int64",
    "start_mrr": "float64",
    "retained_end_mrr": "float64",
    "expansion_mrr": "float64",
    "contraction_mrr": "float64",
    "churned_mrr": "float64",
    "gross_revenue_churn": "float64",
    "nrr": "float64",
    "grr": "float64",
}


def _month_range(flt: RetentionFilter) -> tuple:
    return month_start(flt.start), month_start(flt.end)


def mrr_by_month(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """MRR and ARPU per calendar month of the filter range.

    ``mrr`` = Σ ``monthly_revenue.mrr`` of the selected customers for the month;
    ``paying_customers`` = customers with MRR > 0 that month;
    ``arpu`` = mrr / paying_customers (average revenue per paying account, ChartMogul's
    ARPA), NaN when nobody pays. Columns ``month``, ``mrr``, ``paying_customers``,
    ``arpu``; months without any revenue row are absent (empty selection -> empty frame).
    Summed from ``rollup_mrr_monthly`` when that is fresh.
    """
    df = _mrr_cube(db, flt, fresh_rollup(db, MRR_MONTHLY, flt=flt) is not None)
    if df.empty:
        return empty_frame(MRR_COLUMNS)
    df["arpu"] = ratio(df["mrr"], df["paying_customers"])
    return conform(df, MRR_COLUMNS)


def _mrr_measures(r: ibis.Table) -> dict:
    return dict(mrr=r.mrr.sum().cast("float64"), paying_customers=r.count(where=r.mrr > 0))


@cube(keys=("month",), channel_filter=False)
def _mrr_cube(db: Database, flt: RetentionFilter, stored: bool) -> ibis.Table:
    """`mrr_by_month`'s sums per month of the range and population cell: Σ mrr and the
    revenue rows with mrr > 0 (one per paying customer and month). `stored`: summed from
    the fresh ``rollup_mrr_monthly`` (`mrr_rollup_source`, the same sums over every
    month), else from the revenue rows (the caller passes it, so the kept cube of one
    path never answers for the other)."""
    first, last = _month_range(flt)
    if stored:
        r = selected_rows(db.table(MRR_MONTHLY), flt, channel=False)
        r = r.filter(r.month >= first, r.month <= last)
        return r.select(*POPULATION, "month", "mrr", "paying_customers")
    r = monthly_revenue(db, flt)
    r = with_cells(db, flt, r.filter(r.month >= first, r.month <= last))
    return r.group_by(*POPULATION, "month").aggregate(**_mrr_measures(r))


def mrr_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_mrr_monthly`` (analytics/rollups.py): `_mrr_cube`'s sums
    per month and customer segment, region and plan over every month — a month × cell
    table of ~2,000 rows at 1M customers instead of ~20M revenue rows read per period.
    Revenue rows without a customer record keep NULL attributes (counted only without a
    population filter, as live)."""
    r = with_cells(db, _EVERYONE, monthly_revenue(db, _EVERYONE))
    return r.group_by(*POPULATION, "month").aggregate(**_mrr_measures(r))


def _month_key(col: ibis.DateValue) -> ibis.IntegerValue:
    """year × 12 + month: consecutive integers for consecutive months. Joining on it is
    about twice as fast in DuckDB as joining on `month + interval '1 month'` (a
    timestamp that has to be cast back to a date)."""
    return (col.year() * 12 + col.month()).cast("int32")


def _key_to_month(key: pd.Series) -> pd.Series:
    years, months0 = divmod(key.astype("int64") - 1, 12)
    return pd.to_datetime(pd.DataFrame({"year": years, "month": months0 + 1, "day": 1}))


def _movement_pairs(r: ibis.Table, k_first: int | None = None, k_last: int | None = None) -> ibis.Table:
    """(customer_id, m, cur, prev): one row per customer and month m with MRR in m (cur)
    or m-1 (prev), 0 for the missing side. `k_first`/`k_last` (month keys) bound m;
    None leaves that side open (the rollup takes every month, and the month after the
    last one, whose pairs are pure churn)."""
    r = r.select("customer_id", m=_month_key(r.month), mrr=r.mrr.cast("float64"))
    cur = r if k_first is None else r.filter(r.m >= k_first)
    prev = r.view()
    if k_last is not None:
        prev = prev.filter(prev.m < k_last)
    prev = prev.select("customer_id", m=prev.m + 1, prev_mrr=prev.mrr)
    # Full outer join: a customer may have only the previous month (churned) or only the
    # current one (new / reactivated).
    j = cur.outer_join(prev, [cur.customer_id == prev.customer_id, cur.m == prev.m])
    return j.select(
        customer_id=ibis.coalesce(cur.customer_id, prev.customer_id),
        m=ibis.coalesce(cur.m, prev.m),
        cur=cur.mrr.fill_null(0.0),
        prev=prev.prev_mrr.fill_null(0.0),
    )


def _movement_sums(pairs: ibis.Table) -> dict[str, ibis.Value]:
    """The per-month movement aggregates of `mrr_movements` (except new / reactivation)."""
    return dict(
        start_mrr=pairs.prev.sum(),
        end_mrr=pairs.cur.sum(),
        expansion_mrr=(pairs.cur - pairs.prev).sum(where=(pairs.prev > 0) & (pairs.cur > pairs.prev)),
        contraction_mrr=(pairs.prev - pairs.cur).sum(
            where=(pairs.cur > 0) & (pairs.cur < pairs.prev)
        ),
        churned_mrr=pairs.prev.sum(where=(pairs.prev > 0) & (pairs.cur <= 0)),
    )


# Every customer, every revenue row: the population of a rollup (the dates do not cut
# customers or revenue rows, analytics/filters.py).
_EVERYONE = RetentionFilter(date(1970, 1, 1), date(1970, 1, 1))


def _pairs_with_cells(db: Database, flt: RetentionFilter, pairs: ibis.Table) -> ibis.Table:
    """`pairs` (`_movement_pairs`) with each customer's population cell, signup and churn
    month keys and date consistency; NULL for a revenue row without a customer record."""
    c = customers(db, flt)
    j = pairs.left_join(c, pairs.customer_id == c.customer_id)
    return j.select(
        pairs.m, pairs.cur, pairs.prev, c.segment, c.region, c.plan,
        signup_m=_month_key(c.signup_date),
        churn_m=_month_key(c.churn_date),
        consistent=c.churn_date.isnull() | (c.churn_date >= c.signup_date),
    )


def _movement_measures(p: ibis.Table) -> dict[str, ibis.Value]:
    """The additive measures of `mrr_movements` over `_pairs_with_cells` rows: ``pairs``
    (a month is present when it has any), new and reactivation MRR, and `_movement_sums`.
    "New" vs "reactivation": a revenue row without a customer record counts as new (its
    history is unknown)."""
    arriving = (p.prev <= 0) & (p.cur > 0)
    is_new = p.signup_m.isnull() | (p.signup_m == p.m)
    return dict(
        pairs=p.count(),
        new_mrr=p.cur.sum(where=arriving & is_new),
        reactivation_mrr=p.cur.sum(where=arriving & ~is_new),
        **_movement_sums(p),
    )


def movement_rollup_source(db: Database) -> ibis.Table:
    """The content of ``rollup_mrr_movements`` (analytics/rollups.py): the movements of
    `mrr_movements` summed per month and customer segment, region and plan, over every
    month. A month's movement depends only on MRR in that month and the one before, so
    summing the cube's rows for the selected groups gives the live result for any month
    range and population filter. Revenue rows without a customer record keep NULL
    attributes (counted only when no population filter is set, as live).

    The ``book_*`` columns are `revenue_retention` over the whole calendar month m: the
    customers active at the start of m (signed up before its first day, not churned
    before it, consistent dates) with MRR > 0 in m-1, their MRR in m-1 (start) and in m
    (end, 0 when they churned during m). On whole months "active at the start" and
    "churned by the end" depend only on the signup and churn *months*, so the book is a
    sum of cube rows too. Revenue rows without a customer record are never in a book."""
    # The movement columns are the live cube's (`_movement_cube`) over every month and
    # every person once (analytics/duplicates.py). A view: without it Ibis would try to
    # extend the outer join inside the pairs.
    pairs = _movement_pairs(monthly_revenue(db, _EVERYONE)).view()
    p = _pairs_with_cells(db, _EVERYONE, pairs)
    # the book of month m: active at its start (signup before m, churn in m or later or
    # never), paying in m-1; `left` = churned during m, so its end MRR is 0
    book = (
        p.signup_m.notnull() & p.consistent.fill_null(False) & (p.signup_m < p.m)
        & (p.churn_m.isnull() | (p.churn_m >= p.m)) & (p.prev > 0)
    )
    left = p.churn_m.notnull() & (p.churn_m == p.m)
    end = ibis.ifelse(left, 0.0, p.cur)
    return p.group_by(month_key=p.m, segment=p.segment, region=p.region, plan=p.plan).aggregate(
        **_movement_measures(p),
        **_whole_month_step_measures(p),
        book_customers=p.count(where=book),
        book_start_mrr=p.prev.sum(where=book),
        book_end_mrr=end.sum(where=book),
        book_kept_mrr=ibis.least(p.prev, end).sum(where=book),
        book_expansion_mrr=(end - p.prev).sum(where=book & (end > p.prev)),
        book_contraction_mrr=(p.prev - end).sum(where=book & (end > 0) & (end < p.prev)),
        book_churned_mrr=p.prev.sum(where=book & (end <= 0)),
    )


def _whole_month_step_measures(p: ibis.Table) -> dict[str, ibis.Value]:
    """`_waterfall_cube`'s measures for the step over the whole calendar month m (from the
    last day of m-1 to the last day of m), over `_pairs_with_cells` rows, as ``wf_*``
    columns of ``rollup_mrr_movements``. On whole months "active on the step's start /
    end" (`mrr_waterfall`) depends only on the signup and churn *months*: active on the
    last day of m-1 = signed up in m-1 or before and not churned before m; active on the
    last day of m = signed up in m or before and not churned before m+1. A revenue row
    without a customer record, or a record churned before it signed up, is never active."""
    valid = p.signup_m.notnull() & p.consistent.fill_null(False)
    prev_active = (valid & (p.signup_m < p.m) & (p.churn_m.isnull() | (p.churn_m >= p.m))).fill_null(False)
    cur_active = (valid & (p.signup_m <= p.m) & (p.churn_m.isnull() | (p.churn_m > p.m))).fill_null(False)
    prev = ibis.ifelse(prev_active, p.prev, 0.0)
    cur = ibis.ifelse(cur_active, p.cur, 0.0)
    return _step_measures(prev, cur, p.signup_m == p.m, prefix="wf_")


def _step_measures(prev: ibis.FloatingValue, cur: ibis.FloatingValue, is_new: ibis.BooleanValue,
                   prefix: str = "") -> dict[str, ibis.Value]:
    """The sums of one waterfall step over customers with MRR `prev` on its start and `cur`
    on its end (0 when inactive): both MRRs, the five movements and the customers paying
    at its end."""
    arriving = (prev <= 0) & (cur > 0)
    return {f"{prefix}{name}": value for name, value in dict(
        prev_mrr=prev.sum(),
        cur_mrr=cur.sum(),
        new_mrr=cur.sum(where=arriving & is_new),
        reactivation_mrr=cur.sum(where=arriving & ~is_new),
        expansion_mrr=(cur - prev).sum(where=(prev > 0) & (cur > prev)),
        contraction_mrr=(prev - cur).sum(where=(cur > 0) & (cur < prev)),
        churned_mrr=prev.sum(where=(prev > 0) & (cur <= 0)),
        paying=cur.count(where=cur > 0),
    ).items()}


_MOVEMENT_MEASURES = ("pairs", "start_mrr", "end_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
                      "new_mrr", "reactivation_mrr")


@cube(keys=("m",), channel_filter=False)
def _movement_cube(db: Database, flt: RetentionFilter, k_first: int, k_last: int, from_rollup: bool) -> ibis.Table:
    """`mrr_movements`' additive measures (`_movement_measures`) per month key ``m`` in
    ``[k_first, k_last]`` and population cell: the rows of ``rollup_mrr_movements`` —
    the same measures stored over every month — when `from_rollup` (the caller checked it
    is fresh), else computed from ``monthly_revenue``."""
    if from_rollup:
        rollup = selected_rows(fresh_rollup(db, MRR_MOVEMENTS), flt, channel=False)
        rollup = rollup.filter(rollup.month_key >= k_first, rollup.month_key <= k_last)
        return rollup.select(*POPULATION, m=rollup.month_key, **{n: rollup[n] for n in _MOVEMENT_MEASURES})
    first, last = _month_range(flt)
    r = monthly_revenue(db, flt)
    r = r.filter(r.month >= add_months(first, -1), r.month <= last)
    p = _pairs_with_cells(db, flt, _movement_pairs(r, k_first, k_last).view())
    return p.group_by(*POPULATION, "m").aggregate(**_movement_measures(p))


def mrr_movements(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Month-over-month MRR movements (ChartMogul / Baremetrics "MRR movements").

    For each month m of the range and each customer, with prev = MRR in m-1 and cur = MRR
    in m (0 without a row):

    - new_mrr          = cur        where prev = 0 < cur and m is the customer's signup month
    - reactivation_mrr = cur        where prev = 0 < cur otherwise (MRR resumed after a zero
      or missing month)
    - expansion_mrr    = cur - prev where 0 < prev < cur
    - contraction_mrr  = prev - cur where 0 < cur < prev
    - churned_mrr      = prev       where prev > 0 = cur

    so that ``start_mrr + new + reactivation + expansion - contraction - churned = end_mrr``
    (``start_mrr`` = MRR of m-1, ``end_mrr`` = MRR of m) and ``net_new_mrr = end - start``.
    One row per month that has any MRR at its start or end. Summed from
    ``rollup_mrr_movements`` when that is fresh (docs/decisions/009-metric-rollups.md).
    """
    first, last = _month_range(flt)
    k_first, k_last = first.year * 12 + first.month, last.year * 12 + last.month
    from_rollup = fresh_rollup(db, MRR_MOVEMENTS, flt=flt) is not None
    df = _movement_cube(db, flt, k_first, k_last, from_rollup)
    # a month is present when any selected customer has a row in it or the month before
    df = df[df["pairs"] > 0]
    if df.empty:
        return empty_frame(MOVEMENT_COLUMNS)
    df = df.fillna(
        {
            c: 0.0
            for c in ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")
        }
    )
    df["month"] = _key_to_month(df["m"])
    df["net_new_mrr"] = df["end_mrr"] - df["start_mrr"]
    return conform(df, MOVEMENT_COLUMNS)


def revenue_retention(db: Database, flt: RetentionFilter, freq: Freq = "month") -> pd.DataFrame:
    """Net and gross revenue retention and gross revenue churn per period.

    In words: take the customers active when the period starts (the logo-churn rule) who
    were paying then; compare what each pays at the period end with what they paid at
    its start, counting 0 for everyone who churned during the period — whatever was
    billed in the churn month — so a customer billed in their churn month never looks
    retained.

    Periods are those of `customer_base.churn_by_period`: the calendar months
    (``freq="month"``) or quarters overlapping ``[flt.start, flt.end]``, clipped to it
    (``partial``), or the whole range (``"range"``). For a period ``[s, e]``:

    - the book S = customers active at the start of day s (``signup_date < s`` and
      ``churn_date`` NULL or ``>= s``; records with ``churn_date < signup_date`` left out)
      whose start_i > 0;
    - start_i = their MRR in the calendar month holding day s-1 (for a period starting on
      the 1st of month F, month F-1; for one starting mid-month, that month itself);
    - end_i = 0 if ``churn_date <= e``, else their MRR in the month holding e (0 without
      a row).

    Customers active at s but not paying then (no row or MRR 0 in that month) are outside
    S: they have no MRR to retain, and what they pay later is new or reactivated MRR, not
    expansion. ``start_customers`` = |S| (at most logo churn's ``active_start``).
    Changes are taken start-to-end per customer (intra-period ups and downs net out):

        expansion_mrr       = Σ max(end_i - start_i, 0)
        contraction_mrr     = Σ (start_i - end_i)   over 0 < end_i < start_i
        churned_mrr         = Σ start_i             over end_i = 0
        gross_revenue_churn = (churned + contraction) / Σ start_i
        nrr                 = Σ end_i / Σ start_i            (expansion counts)
        grr                 = Σ min(end_i, start_i) / Σ start_i = 1 - gross_revenue_churn

    Partial months: MRR is one value per calendar month, so within a month it cannot
    move. A period starting mid-month reads its start and (if it ends in the same month)
    its end from that month: only churn shows, no expansion or contraction. A period
    ending mid-month counts as churned only those who left by its last day. Nothing is
    scaled up. ``first_month`` / ``last_month`` are the months holding s and e.

    New customers of the period are outside S, so they never lift NRR. Rates are NaN
    when the start MRR is 0. Empty selection -> empty frame with the columns above.
    Whole-month one-month periods are summed from ``rollup_mrr_movements`` when that is
    fresh (docs/decisions/009-metric-rollups.md); other periods run live.
    """
    spans = _retention_spans(flt, freq)
    rollup = None
    if all(month_start(s.start) == month_start(s.end) for s in spans):
        # one-month periods: whole months are a sum of the MRR-movement rollup's book rows
        # (docs/decisions/009-metric-rollups.md); a clipped first or last month runs live
        rollup = fresh_rollup(db, MRR_MOVEMENTS, flt=flt)
    if rollup is not None:
        whole = {i: s for i, s in enumerate(spans) if _whole_month(s)}
        parts = []
        if whole:
            month_keys = tuple(_month_number(s.start) for s in whole.values())
            df = _book_from_rollup(db, flt, month_keys)
            df = df[df["start_customers"] > 0]  # months without a book are absent, as live
            df["period_idx"] = df.pop("m").map({_month_number(s.start): i for i, s in whole.items()})
            parts.append(df)
        for i, s in enumerate(spans):
            if i not in whole:
                df = _book_live(db, flt.with_period(s.start, s.end), "range")
                parts.append(df.assign(period_idx=i))
        parts = [p for p in parts if not p.empty]
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"period_idx": []})
    else:
        df = _book_live(db, flt, freq)
    if df.empty:
        return empty_frame(RETENTION_COLUMNS)
    frame = pd.DataFrame(
        {
            "period_idx": range(len(spans)),
            "period": [s.label for s in spans],
            "first_month": [month_start(s.start) for s in spans],
            "last_month": [month_start(s.end) for s in spans],
            "partial": [s.partial for s in spans],
        }
    )
    df = frame.merge(df, on="period_idx", how="left")
    df = df.fillna({c: 0 for c in df.columns if c not in frame.columns})
    df["gross_revenue_churn"] = ratio(df["churned_mrr"] + df["contraction_mrr"], df["start_mrr"])
    df["nrr"] = ratio(df["retained_end_mrr"], df["start_mrr"])
    df["grr"] = ratio(df["kept_mrr"], df["start_mrr"])
    return conform(df, RETENTION_COLUMNS)


def _retention_spans(flt: RetentionFilter, freq: Freq) -> list:
    """The periods of `customer_base.churn_by_period`: clipped to the filter's days."""
    return periods(flt.start, flt.end, freq)


def _whole_month(span) -> bool:
    return span.start == month_start(span.start) and span.end == month_end(span.start)


def _month_number(d) -> int:
    return d.year * 12 + d.month


@cube(keys=("m",), channel_filter=False)
def _book_from_rollup(db: Database, flt: RetentionFilter, month_keys: tuple[int, ...]) -> ibis.Table:
    """`revenue_retention`'s sums per whole calendar month (month key ``m``, see
    `_month_number`) and population cell: the ``book_*`` columns of the fresh MRR-movement
    rollup (`movement_rollup_source`), which are `_book_live`'s measures over one month.
    A month whose slice has no book (start_customers 0) is dropped by the caller."""
    cube = selected_rows(fresh_rollup(db, MRR_MOVEMENTS), flt, channel=False)
    cube = cube.filter(cube.month_key.isin(month_keys))
    return cube.select(
        *POPULATION,
        m=cube.month_key,
        start_customers=cube.book_customers,
        start_mrr=cube.book_start_mrr,
        retained_end_mrr=cube.book_end_mrr,
        kept_mrr=cube.book_kept_mrr,
        expansion_mrr=cube.book_expansion_mrr,
        contraction_mrr=cube.book_contraction_mrr,
        churned_mrr=cube.book_churned_mrr,
    )


@cube(keys=("period_idx",), channel_filter=False)
def _book_live(db: Database, flt: RetentionFilter, freq: Freq) -> ibis.Table:
    """`revenue_retention`'s per-period sums from ``customers`` and ``monthly_revenue``
    per population cell: one row per period index and cell that has a book."""
    spans = _retention_spans(flt, freq)
    # the month holding the day before each period's start, and the one holding its end
    start_months = [month_start(s.start - timedelta(days=1)) for s in spans]
    end_months = [month_start(s.end) for s in spans]
    starts = pd.DataFrame({"m": [_month_number(m) for m in start_months], "period_idx": range(len(spans))})
    ends = pd.DataFrame({"m": [_month_number(m) for m in end_months], "period_idx": range(len(spans))})
    smem = ibis.memtable(starts).cast({"m": "int32", "period_idx": "int64"})
    emem = ibis.memtable(ends).cast({"m": "int32", "period_idx": "int64"})
    r = monthly_revenue(db, flt)
    # only the months at each period's start and end count (a quarter reads 2 of 4)
    r = r.filter(r.month.isin(sorted(set(start_months) | set(end_months))))
    r = r.select("customer_id", m=_month_key(r.month), mrr=r.mrr.cast("float64"))
    # Customers by the periods of their signup and churn (as `churn_by_period`): active at
    # the start of period p <=> sig < p <= chn; churned by its end <=> chn <= p.
    c = consistent_customers(db, flt)
    c = c.filter(c.signup_date < spans[-1].start, c.churn_date.isnull() | (c.churn_date >= spans[0].start))
    c = c.select(
        "customer_id",
        *POPULATION,
        sig=period_index(c.signup_date, spans, freq),
        chn=period_index(c.churn_date, spans, freq),
    )
    # The book: what each customer paid at each period's start (paying only) ...
    paid = r.join(smem, r.m == smem.m).select(r.customer_id, smem.period_idx, start=r.mrr)
    paid = paid.filter(paid.start > 0)
    book = paid.join(c, paid.customer_id == c.customer_id)
    book = book.filter(book.sig < book.period_idx, book.chn >= book.period_idx).select(
        "customer_id", *POPULATION, "period_idx", "start", "chn"
    )
    # ... and what they pay in the period's last month: 0 without a row or when churned.
    r_end = r.view()
    at_end = r_end.join(emem, r_end.m == emem.m).select(r_end.customer_id, emem.period_idx, end=r_end.mrr)
    j = book.left_join(
        at_end, [book.customer_id == at_end.customer_id, book.period_idx == at_end.period_idx]
    )
    book = j.select(
        *(book[d] for d in POPULATION),
        book.period_idx,
        book.start,
        end=ibis.ifelse(book.chn <= book.period_idx, 0.0, at_end.end.fill_null(0.0)),
    )
    return book.group_by(*POPULATION, "period_idx").aggregate(
        start_customers=book.count(),
        start_mrr=book.start.sum(),
        retained_end_mrr=book.end.sum(),
        kept_mrr=ibis.least(book.start, book.end).sum(),
        expansion_mrr=(book.end - book.start).sum(where=book.end > book.start),
        contraction_mrr=(book.start - book.end).sum(where=(book.end > 0) & (book.end < book.start)),
        churned_mrr=book.start.sum(where=book.end <= 0),
    )


WATERFALL_COLUMNS: dict[str, str] = {
    "opening_day": "datetime64[ns]",
    "closing_day": "datetime64[ns]",
    "opening_mrr": "float64",
    "new_mrr": "float64",
    "expansion_mrr": "float64",
    "reactivation_mrr": "float64",
    "contraction_mrr": "float64",
    "churned_mrr": "float64",
    "closing_mrr": "float64",
    "paying_customers": "int64",
    "arpa": "float64",
    "arr": "float64",
}


def waterfall_days(flt: RetentionFilter, first_day: date) -> tuple[date, date] | None:
    """(opening day, closing day) of `mrr_waterfall` over ``[flt.start, flt.end]`` given the
    data's history start `first_day`: the day before the window, moved forward to the end
    of the history's first month when it falls earlier (before that, nobody's previous
    month is in the data, so a customer paying since before the history would look new —
    left truncation). None when the window ends before that day (nothing to show)."""
    opening = flt.start - timedelta(days=1)
    known = month_end(first_day)
    opening = max(opening, known)
    return (opening, flt.end) if flt.end > opening else None


def mrr_waterfall(db: Database, flt: RetentionFilter, first_day: date) -> pd.DataFrame:
    """MRR at the window's opening and closing and the movements between them (the MRR
    waterfall: docs/metrics.md#mrr-waterfall), with ARR and ARPA at the close.

    **MRR on day d** = Σ, over the customers *active* on d (signed up on or before d, not
    churned on or before d: the logo-churn rule), of their MRR in the calendar month
    holding d. A customer who churns on the 2nd counts 0 from that day, whatever was billed
    in the churn month (the product brief's revenue-churn rule), so the waterfall's churned
    MRR falls in the month of the churn date, as logo churn and revenue churn do. Revenue
    rows without a customer record, and records churned before they signed up, are never
    active. Duplicate records count once (analytics/filters.py).

    The window runs from the opening day o (the day before ``flt.start``, or the end of
    the history's first month when that is later: `waterfall_days`) to the closing day
    e = ``flt.end``. Each calendar month m from the one after o's to e's (or o's own month
    when o is not its last day) is one step, with prev = the customer's MRR on the step's
    start (o for the first step, else the end of month m-1) and cur = MRR on the step's
    end (the end of m, or e in e's month), 0 when inactive or without a row — the
    month-over-month movements of docs/metrics.md#mrr-movements, summed over the steps:

    - new_mrr          = cur        where prev = 0 < cur and m is the customer's signup month
    - reactivation_mrr = cur        where prev = 0 < cur otherwise
    - expansion_mrr    = cur - prev where 0 < prev < cur
    - contraction_mrr  = prev - cur where 0 < cur < prev
    - churned_mrr      = prev       where prev > 0 = cur

    ``opening_mrr + new + reactivation + expansion - contraction - churned = closing_mrr``.
    ``paying_customers`` = customers with MRR > 0 on e; ``arpa`` = closing_mrr ÷ that
    (NaN when nobody pays); ``arr`` = 12 × closing_mrr. One row; an empty frame with
    these columns when the window ends before the history's first month is over.
    """
    days = waterfall_days(flt, first_day)
    if days is None:
        return empty_frame(WATERFALL_COLUMNS)
    opening, closing = days
    steps = _waterfall_steps(opening, closing)
    window = flt.with_period(opening + timedelta(days=1), closing)
    # Whole-month steps are summed from the fresh movement rollup; a step cut by the window
    # (the first or last, when the window does not start or end with a month) is live.
    stored = fresh_rollup(db, MRR_MOVEMENTS, flt=flt) is not None
    whole = tuple(st for st in steps if stored and _whole_month_step(st))
    cut = tuple(st for st in steps if st not in whole)
    parts = ([_waterfall_cube(db, window, whole, True)] if whole else []) + \
            ([_waterfall_cube(db, window, cut, False)] if cut else [])
    df = pd.concat(parts, ignore_index=True).sort_values("m")
    by_step = {int(r.m): r for r in df.itertuples()}
    first, last = by_step.get(steps[0][0]), by_step.get(steps[-1][0])
    moves = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")
    row = {
        "opening_day": pd.Timestamp(opening),
        "closing_day": pd.Timestamp(closing),
        "opening_mrr": float(first.prev_mrr) if first is not None else 0.0,
        **{c: float(df[c].sum()) if not df.empty else 0.0 for c in moves},
        "closing_mrr": float(last.cur_mrr) if last is not None else 0.0,
        "paying_customers": int(last.paying) if last is not None else 0,
    }
    out = pd.DataFrame([row])
    out["arpa"] = ratio(out["closing_mrr"], out["paying_customers"])
    out["arr"] = 12 * out["closing_mrr"]
    return conform(out, WATERFALL_COLUMNS)


def _waterfall_steps(opening: date, closing: date) -> tuple[tuple[int, date, date], ...]:
    """(month key of the step's month, its start day, its end day) from `opening` to
    `closing`: one step per calendar month, the first from `opening` and the last to
    `closing`."""
    steps, start = [], opening
    while start < closing:
        month = month_start(start + timedelta(days=1))
        end = min(month_end(month), closing)
        steps.append((_month_number(month), start, end))
        start = end
    return tuple(steps)


def _whole_month_step(step: tuple[int, date, date]) -> bool:
    """Whether a `_waterfall_steps` step runs from the last day of one month to the last
    day of the next (what ``rollup_mrr_movements`` stores, `_whole_month_step_measures`)."""
    _, start, end = step
    return start == month_end(start) and end == month_end(end)


_STEP_MEASURES = ("prev_mrr", "cur_mrr", "new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr",
                  "churned_mrr", "paying")


@cube(keys=("m",), channel_filter=False)
def _waterfall_cube(db: Database, flt: RetentionFilter,
                    steps: tuple[tuple[int, date, date], ...], stored: bool) -> ibis.Table:
    """`mrr_waterfall`'s sums per step (month key ``m``) and population cell: MRR on the
    step's start (prev_mrr) and end (cur_mrr), the five movements and the customers paying
    at the step's end. `steps` come from `_waterfall_steps`. `stored`: every step is a
    whole month, read from the fresh ``rollup_mrr_movements`` (`_whole_month_step_measures`);
    else computed from the revenue rows of the steps' months."""
    if stored:
        r = selected_rows(db.table(MRR_MOVEMENTS), flt, channel=False)
        r = r.filter(r.month_key.isin([m for m, _, _ in steps]))
        return r.select(*POPULATION, m=r.month_key.cast("int32"),
                        **{c: r[f"wf_{c}"] for c in _STEP_MEASURES})
    frame = pd.DataFrame(
        {
            "m": [m for m, _, _ in steps],
            "start_m": [_month_number(s) for _, s, _ in steps],
            "start_day": [pd.Timestamp(s) for _, s, _ in steps],
            "end_day": [pd.Timestamp(e) for _, _, e in steps],
        }
    )
    mem = ibis.memtable(frame).cast({"m": "int32", "start_m": "int32", "start_day": "date", "end_day": "date"})
    months = sorted({m for m, _, _ in steps} | set(frame["start_m"]))
    r = monthly_revenue(db, flt)
    r = r.filter(r.month >= month_start(steps[0][1]), r.month <= month_start(steps[-1][2]))
    r = r.select("customer_id", k=_month_key(r.month), mrr=r.mrr.cast("float64"))
    r = r.filter(r.k.isin(months))  # the first and last step alone when the middle is stored
    c = customers(db, flt).select("customer_id", *POPULATION, "signup_date", "churn_date")
    rc = r.join(c, "customer_id")

    def active_on(t: ibis.Table, day: ibis.DateValue) -> ibis.BooleanValue:
        consistent = t.churn_date.isnull() | (t.churn_date >= t.signup_date)
        return consistent & (t.signup_date <= day) & (t.churn_date.isnull() | (t.churn_date > day))

    cur = rc.join(mem, rc.k == mem.m)
    cur = cur.filter(active_on(cur, cur.end_day)).select("customer_id", "m", *POPULATION, "signup_date",
                                                          cur=cur.mrr)
    rv, mv = rc.view(), mem.view()
    prev = rv.join(mv, rv.k == mv.start_m)
    prev = prev.filter(active_on(prev, prev.start_day)).select(
        "customer_id", "m", *POPULATION, "signup_date", prev=prev.mrr).view()
    cur = cur.view()
    prev = prev.rename({f"p_{c}": c for c in ("customer_id", "m", *POPULATION, "signup_date")})
    j = cur.outer_join(prev, [cur.customer_id == prev.p_customer_id, cur.m == prev.p_m])
    p = j.select(
        m=ibis.coalesce(j.m, j.p_m),
        **{d: ibis.coalesce(j[d], j[f"p_{d}"]) for d in POPULATION},
        signup_m=_month_key(ibis.coalesce(j.signup_date, j.p_signup_date)),
        cur=j.cur.fill_null(0.0),
        prev=j.prev.fill_null(0.0),
    )
    return p.group_by(*POPULATION, "m").aggregate(**_step_measures(p.prev, p.cur, p.signup_m == p.m))
