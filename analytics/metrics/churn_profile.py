"""The basic facts about churn — who, when and why (docs/metrics.md#churn-profile).

"Who": logo churn rate of the filter period per customer group. "When": tenure at churn
and the calendar trend (the latter is `customer_base.churn_by_period`). "Why": the mix of
churn reasons and its monthly trend. Records with ``churn_date < signup_date`` are left
out, as in `customer_base`.
"""

from __future__ import annotations

from typing import Sequence

import ibis
import pandas as pd

from analytics.cubes import POPULATION, cube
from analytics.db import Database
from analytics.filters import RetentionFilter, customers
from analytics.metrics._common import (
    CUSTOMER_DIMENSIONS,
    TENURE_BANDS,
    check_dimension,
    conform,
    empty_frame,
    ratio,
    whole_months,
)

PROFILE_DIMENSIONS = CUSTOMER_DIMENSIONS + ("tenure_band",)

BY_GROUP_COLUMNS: dict[str, str] = {
    "dimension": "string",
    "group": "string",
    "active_start": "int64",
    "churned": "int64",
    "churn_rate": "float64",
    "retention_rate": "float64",
    "share_of_churned": "float64",
}

TENURE_COLUMNS: dict[str, str] = {
    "tenure_band": "string",
    "band_order": "int64",
    "churned": "int64",
    "share": "float64",
}

REASON_COLUMNS: dict[str, str] = {"reason": "string", "churned": "int64", "share": "float64"}

REASON_TREND_COLUMNS: dict[str, str] = {
    "month": "datetime64[ns]",
    "reason": "string",
    "churned": "int64",
    "share": "float64",
}


def tenure_band(months: ibis.IntegerValue) -> ibis.StringValue:
    """The `TENURE_BANDS` label for a tenure in whole calendar months."""
    branches = [(months < upper, label) for label, _, upper in TENURE_BANDS[:-1]]
    return ibis.cases(*branches, else_=TENURE_BANDS[-1][0])


def _consistent(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = customers(db, flt)
    return c.filter(c.churn_date.isnull() | (c.churn_date >= c.signup_date))


def churn_by_dimension(db: Database, flt: RetentionFilter, by: str) -> pd.DataFrame:
    """Who churns: logo churn rate over ``[flt.start, flt.end]`` per group of `by`.

    Per group: ``active_start`` = customers active at the start of ``flt.start``,
    ``churned`` = those of them with ``churn_date`` in the period, ``churn_rate`` =
    churned / active_start (docs/metrics.md#logo-churn-rate), ``share_of_churned`` = the
    group's part of all churned. `by` is a customer column (segment, region, plan,
    contract_type, acquisition_channel, loyalty_member, account_owner) or
    ``"tenure_band"`` — tenure at the period start in whole calendar months (the
    largest k with ``signup_date + k months <= flt.start``), banded as in `TENURE_BANDS`. Rows are
    groups with anyone active at the start; empty selection -> empty frame."""
    return churn_by_dimensions(db, flt, (by,))


def churn_by_dimensions(db: Database, flt: RetentionFilter, by: Sequence[str]) -> pd.DataFrame:
    """`churn_by_dimension` for each dimension of `by`, from one query, stacked in the
    order of `by` (the ``dimension`` column tells them apart). The customers active at the
    start are counted per combination of the dimensions' groups — a few hundred for the
    Overview's segment × region × plan × contract type — and each dimension's rows are sums
    over that table, so every dimension gets exactly its own query's counts."""
    by = tuple(dict.fromkeys(by))
    for dimension in by:
        check_dimension(dimension, PROFILE_DIMENSIONS)
    if not by:
        return empty_frame(BY_GROUP_COLUMNS)
    counts = _active_start_cube(db, flt, by)
    if counts.empty or counts["active_start"].sum() == 0:
        return empty_frame(BY_GROUP_COLUMNS)
    for dimension in by:
        if dimension in POPULATION:  # a cube dimension: raw values, NULL for missing
            counts[dimension] = counts[dimension].astype("string").fillna("(missing)")
    counts = counts[counts["active_start"] > 0]  # groups with anyone active at the start
    frames = []
    for dimension in by:
        df = (counts.groupby(dimension, sort=False)[["active_start", "churned"]].sum()
              .reset_index().rename(columns={dimension: "group"}))
        if dimension == "tenure_band":
            order = {label: i for i, (label, _, _) in enumerate(TENURE_BANDS)}
            df = df.sort_values("group", key=lambda s: s.map(order))
        else:
            df = df.sort_values("group")
        df["dimension"] = dimension
        df["churn_rate"] = ratio(df["churned"], df["active_start"])
        df["retention_rate"] = 1.0 - df["churn_rate"]
        df["share_of_churned"] = ratio(df["churned"], df["churned"].sum())
        frames.append(conform(df, BY_GROUP_COLUMNS))
    return pd.concat(frames, ignore_index=True)


@cube(keys=lambda by: by, channel_filter=False)
def _active_start_cube(db: Database, flt: RetentionFilter, by: tuple[str, ...]) -> ibis.Table:
    """Customers active at the start of ``flt.start`` (``active_start``) and those of them
    churned by ``flt.end`` (``churned``) per population cell and combination of the groups
    of the dimensions `by` (checked, without duplicates) — `churn_by_dimensions`' one
    query. A dimension of `by` that is a population column is grouped as the cell (raw
    values, NULL kept; the caller names NULL '(missing)'); the others as strings."""
    c = _consistent(db, flt)
    c = c.filter(c.signup_date < flt.start, c.churn_date.isnull() | (c.churn_date >= flt.start))
    keys = {}
    for dimension in by:
        if dimension == "tenure_band":
            keys[dimension] = tenure_band(whole_months(c.signup_date, ibis.literal(flt.start), strict=False))
        elif dimension not in POPULATION:
            keys[dimension] = c[dimension].cast("string").fill_null("(missing)")
    return c.group_by(*POPULATION, **keys).aggregate(
        active_start=c.count(), churned=c.count(where=c.churn_date <= flt.end))


def _churned_in_period(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = _consistent(db, flt)
    return c.filter(c.churn_date >= flt.start, c.churn_date <= flt.end)


def tenure_at_churn(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """When customers leave: customers whose ``churn_date`` is in ``[flt.start, flt.end]``
    counted by tenure at churn in whole calendar months (largest k with
    ``signup_date + k months <= churn_date``, banded as `TENURE_BANDS`).
    Columns ``tenure_band``, ``band_order``, ``churned``, ``share`` (of the period's
    churned). Every band is listed (0 when empty) unless nobody churned (empty frame)."""
    df = _churned_by_tenure(db, flt)
    if df.empty:
        return empty_frame(TENURE_COLUMNS)
    bands = pd.DataFrame(
        {"tenure_band": [b[0] for b in TENURE_BANDS], "band_order": range(len(TENURE_BANDS))}
    )
    df = bands.merge(df, on="tenure_band", how="left").fillna({"churned": 0})
    df["share"] = ratio(df["churned"], df["churned"].sum())
    return conform(df, TENURE_COLUMNS)


@cube(keys=("tenure_band",), channel_filter=False)
def _churned_by_tenure(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = _churned_in_period(db, flt)
    return c.group_by(*POPULATION, tenure_band=tenure_band(whole_months(c.signup_date, c.churn_date, strict=False))
                      ).aggregate(churned=c.count())


def churn_reasons(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """Why customers leave: customers with ``churn_date`` in ``[flt.start, flt.end]`` per
    ``churn_reason`` ('unknown' when NULL), with ``share`` of the period's churned, most
    frequent first. Columns ``reason``, ``churned``, ``share``."""
    df = _churned_by_reason(db, flt)
    if df.empty:
        return empty_frame(REASON_COLUMNS)
    df = df.sort_values(["churned", "reason"], ascending=[False, True])
    df["share"] = ratio(df["churned"], df["churned"].sum())
    return conform(df, REASON_COLUMNS)


@cube(keys=("reason",), channel_filter=False)
def _churned_by_reason(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = _churned_in_period(db, flt)
    return c.group_by(*POPULATION, reason=c.churn_reason.fill_null("unknown")).aggregate(churned=c.count())


def churn_reasons_by_month(db: Database, flt: RetentionFilter) -> pd.DataFrame:
    """The reason mix per calendar month of the range: customers churned that month per
    reason and ``share`` of that month's churned. Columns ``month`` (month start),
    ``reason``, ``churned``, ``share``; months without churn are absent."""
    df = _churned_by_month_and_reason(db, flt)
    if df.empty:
        return empty_frame(REASON_TREND_COLUMNS)
    df = df.sort_values(["month", "reason"])
    df["share"] = ratio(df["churned"], df.groupby("month")["churned"].transform("sum"))
    return conform(df, REASON_TREND_COLUMNS)


@cube(keys=("month", "reason"), channel_filter=False)
def _churned_by_month_and_reason(db: Database, flt: RetentionFilter) -> ibis.Table:
    c = _churned_in_period(db, flt)
    return c.group_by(
        *POPULATION, month=c.churn_date.truncate("M").cast("date"), reason=c.churn_reason.fill_null("unknown")
    ).aggregate(churned=c.count())
