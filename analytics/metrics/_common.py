"""Pieces every metric module shares: reporting periods, the dimensions a metric may be
split by, empty-frame handling and safe division. Nothing here knows a metric's meaning.

Conventions (docs/metrics.md, "Conventions"):
- A period is a closed range of days ``[start, end]``. "At the period start" means at the
  start of its first day, i.e. after the previous day ended: a customer who churns on the
  first day of a period churned *during* it, and one who signs up on that day is *new* in
  it. "At the period end" means at the end of its last day.
- Calendar periods are clipped to the filter's range; a clipped period is ``partial``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import functools
from typing import Callable, Iterable, Literal, Sequence

import ibis
import numpy as np
import pandas as pd

from analytics.dates import add_months, month_end, month_start, parse_quarter, quarter_label, quarter_start  # noqa: F401  (re-exported for the metric modules)
from analytics.db import Database
from analytics.filters import RetentionFilter

Freq = Literal["month", "quarter", "range"]
FREQS: tuple[str, ...] = ("month", "quarter", "range")

# Customer columns a metric may be split by ("who churns", survival curves, CLV : CAC).
CUSTOMER_DIMENSIONS: tuple[str, ...] = (
    "segment",
    "region",
    "plan",
    "contract_type",
    "acquisition_channel",
    "loyalty_member",
    "account_owner",
)

# Tenure bands used wherever tenure is bucketed (churn profile, early-warning views).
# Bands are [lower, upper) in whole calendar months (see `whole_months`).
# Survival curves in months use the average month, 365.25 / 12 = 30.4375 days.
DAYS_PER_MONTH = 365.25 / 12
TENURE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("0-3 months", 0, 3),
    ("3-6 months", 3, 6),
    ("6-12 months", 6, 12),
    ("12-24 months", 12, 24),
    ("24+ months", 24, float("inf")),
)

# A far-future day used to lift the filter's upper date bound where a metric must see the
# whole stored history (data-quality checks look for dates *beyond* the as-of date).
FAR_FUTURE = date(9999, 12, 30)


@dataclass(frozen=True)
class Period:
    """One reporting period, days inclusive. `partial` when clipped by the filter range."""

    label: str
    start: date
    end: date
    partial: bool




def check_freq(freq: str) -> None:
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {FREQS}, got {freq!r}")


def periods(start: date, end: date, freq: str) -> list[Period]:
    """Calendar months / quarters overlapping ``[start, end]``, clipped to it, in order;
    or the one custom period ``[start, end]`` itself (``freq="range"``)."""
    check_freq(freq)
    if start > end:
        raise ValueError(f"period start {start} is after its end {end}")
    if freq == "range":
        return [Period(f"{start.isoformat()}..{end.isoformat()}", start, end, False)]
    out: list[Period] = []
    cursor = month_start(start) if freq == "month" else quarter_start(start)
    step = 1 if freq == "month" else 3
    while cursor <= end:
        full_end = month_end(add_months(cursor, step - 1))
        p_start, p_end = max(cursor, start), min(full_end, end)
        label = cursor.strftime("%Y-%m") if freq == "month" else quarter_label(cursor)
        out.append(Period(label, p_start, p_end, (p_start, p_end) != (cursor, full_end)))
        cursor = add_months(cursor, step)
    return out


def period_index(col: ibis.DateValue, spans: list[Period], freq: str) -> ibis.IntegerValue:
    """Index of the period in `spans` holding the date `col`: -1 before the first period,
    ``len(spans)`` after the last (NULL dates map to ``len(spans)``, i.e. "not yet").

    Computed arithmetically from year/month so a scan over millions of customers needs no
    join with a calendar table."""
    first, last, n = spans[0].start, spans[-1].end, len(spans)
    if freq == "range":
        inside = ibis.literal(0)
    elif freq == "month":
        inside = (col.year() - first.year) * 12 + (col.month() - first.month)
    else:
        inside = (col.year() - first.year) * 4 + (col.quarter() - ((first.month - 1) // 3 + 1))
    return ibis.cases(
        (col.isnull(), n),
        (col < first, -1),
        (col > last, n),
        else_=inside,
    ).cast("int64")


def days_between(later: ibis.Value, earlier: ibis.Value) -> ibis.IntegerValue:
    """Whole days from `earlier` to `later` (dates)."""
    return later.delta(earlier, unit="day")


def whole_months(start: ibis.DateValue, bound: ibis.DateValue, strict: bool) -> ibis.IntegerValue:
    """Largest k >= 0 with ``start + k months < bound`` (strict) or ``<= bound``.

    ``start + k months`` clamps the day to the month's length (Jan 31 + 1 month = Feb 29),
    DuckDB's `date + interval` rule. The calendar month difference k0 is the answer unless
    ``start + k0 months`` overshoots `bound` (same month, later day), then it is k0 - 1."""
    k0 = (bound.year() - start.year()) * 12 + (bound.month() - start.month())
    shifted = (start + k0.as_interval("M")).cast("date")
    ok = shifted < bound if strict else shifted <= bound
    return ibis.greatest(ibis.cases((ok, k0), else_=k0 - 1), 0).cast("int64")


def check_dimension(by: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if by not in allowed:
        raise ValueError(f"cannot split by {by!r}; choose one of {allowed}")


def execute(db: Database, expr: ibis.Expr) -> pd.DataFrame:
    """Run an Ibis table expression on this thread's backend and return pandas."""
    return db.ibis().to_pandas(expr)


def query(builder: Callable[..., ibis.Table]) -> Callable[..., pd.DataFrame]:
    """Decorator: `builder(db, flt, *args) -> ibis.Table` becomes
    `(db, flt, *args) -> pandas.DataFrame`, the table run on this thread's backend.
    Nothing is kept between calls: what a filter change re-runs is cached as a cube per
    period (analytics/cubes.py), not as a query plan (docs/decisions/016)."""

    @functools.wraps(builder)
    def run(db: Database, flt: RetentionFilter, *args) -> pd.DataFrame:
        return execute(db, builder(db, flt, *args))

    return run


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty frame with the given column -> dtype mapping."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def conform(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """`df` restricted to `columns`, in that order, with those dtypes (an empty `df` gives
    an empty frame with the right columns)."""
    if df.empty:
        return empty_frame(columns)
    out = df.loc[:, list(columns)].copy()
    for name, dtype in columns.items():
        current = out[name].dtype
        if current == pd.StringDtype() if dtype == "string" else str(current) == dtype:
            continue  # already right: a cast would only copy
        if dtype.startswith("datetime64"):
            out[name] = pd.to_datetime(out[name]).astype(dtype)
        elif dtype in ("int64", "float64", "bool"):
            out[name] = out[name].astype(dtype)
        elif dtype == "string":
            out[name] = out[name].astype("string")
    return out.reset_index(drop=True)


def ratio(numerator, denominator):
    """numerator / denominator with NaN (never an error or inf) where the denominator is 0."""
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out if out.ndim else float(out)


def ts(d: date) -> ibis.TimestampValue:
    """Midnight at the start of day `d`, as an Ibis timestamp literal."""
    return ibis.literal(d).cast("timestamp")


def as_filter(flt: RetentionFilter, **changes) -> RetentionFilter:
    """A copy of `flt` with fields replaced (keeps the frozen dataclass validation)."""
    from dataclasses import replace

    return replace(flt, **changes)


def checked_quantiles(quantiles: Sequence[float]) -> list[float]:
    """`quantiles` as floats; ValueError unless each is in [0, 1] and there is one."""
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0 <= q <= 1 for q in qs):
        raise ValueError(f"quantiles must be in [0, 1], got {quantiles!r}")
    return qs


def long_quantiles(wide: pd.DataFrame, qs: list[float], measures: dict[str, str],
                    columns: dict[str, str], extra: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per (group, quantile) from one row per group that holds ``<prefix><i>``
    for each measure's prefix and quantile i (and the `extra` columns, repeated); groups
    in sorted order."""
    if wide.empty:
        return empty_frame(columns)
    rows = [{"group": str(r["group"]), "quantile": q, **{m: r[f"{p}{i}"] for m, p in measures.items()},
             **{name: r[column] for name, column in (extra or {}).items()}}
            for _, r in wide.sort_values("group").iterrows() for i, q in enumerate(qs)]
    return conform(pd.DataFrame(rows), columns)


def histogram_quantiles(values: Sequence[float], counts: Sequence[int], qs: Sequence[float]) -> list[float]:
    """Continuous quantiles of the multiset holding each ``values[i]`` ``counts[i]`` times
    (`values` ascending and distinct, `counts` positive) — the rule of DuckDB's
    ``quantile_cont`` (and numpy's default "linear"): with n values, the quantile p lies at
    position (n − 1)·p of the sorted values (0-based); it is the order statistic there, or
    between the two order statistics lo = ⌊(n − 1)·p⌋ and hi = lo + 1 the linear
    interpolation lo_value · (1 − d) + hi_value · d, d = (n − 1)·p − lo. The order
    statistic j is the first value whose cumulative count exceeds j. The quantile of the raw
    values (ties, n = 1 and n = 2 included) up to the last bit of the interpolation's
    floating-point rounding (an engine may fuse its multiply-add); NaN for each quantile
    when n = 0."""
    v = np.asarray(values, dtype="float64")
    cum = np.cumsum(np.asarray(counts, dtype="int64"))
    if not len(cum) or cum[-1] <= 0:
        return [float("nan")] * len(qs)
    n = int(cum[-1])
    out = []
    for p in qs:
        rn = (n - 1) * float(p)
        lo = int(np.floor(rn))
        lo_value = v[np.searchsorted(cum, lo, side="right")]
        if rn == lo:
            out.append(float(lo_value))
            continue
        hi_value = v[np.searchsorted(cum, lo + 1, side="right")]
        d = rn - lo
        # DuckDB's interpolation of doubles, term for term; a tie is its value exactly
        out.append(float(lo_value) if hi_value == lo_value else float(lo_value * (1.0 - d) + hi_value * d))
    return out
