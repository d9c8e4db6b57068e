"""Takeaway titles: the sentence a chart, a slide or a KPI card leads with, written from
the numbers by one rule each, so the Overview, the deck, the PDF and Presentation mode say
the same thing about the same data.

Three guards keep a title honest:

- **Small samples.** A rate over fewer than `MIN_N` customers (its denominator) is shown
  greyed with its n and no claim is written from it: one customer active at a period start
  gives a churn rate of 0% or 100%, which says nothing.
- **Changes beyond noise.** A change in a rate is called a rise or a fall only when
  |p₁ − p₂| > 1.96 × √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂) — the two-proportion z-test at 95%
  (`rate_change_is_clear`). Customers are not independent draws, so this is a guard
  against reading noise, not a formal test.
- **Trends from a fitted line, not from two points.** A series is "rising" or "falling"
  when the least-squares slope over its whole periods differs from zero at the 5% level
  (`trend_of`: scipy's `linregress` t-test on the slope), never from its first and last
  points alone — a line that rises until August and dips in September has not "fallen".

Nothing here queries the database: every function takes a metric frame or dataclass and
returns text. Nothing here imports streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analytics import formatting as fmt

MIN_N = 30  # fewer customers behind a rate than this: shown greyed, no takeaway drawn from it
MIN_TREND_POINTS = 4  # a slope fitted through fewer points is not worth a word
TREND_ALPHA = 0.05
Z_95 = 1.96
REACH_BASELINE = (0.20, 0.30)  # the case study: the retention unit reached 20–30% of requesters
MIN_GROUP_CUSTOMERS = 50  # groups smaller than this at both period starts move by noise
FCR_EXPECTATION = 0.86  # the brief: 86% expect their issue solved on the first contact (a reference line)

NO_MATCH = "No customers match these filters"

TARGET_NAMES = {"churn_rate": "logo churn", "retention_rate": "retention", "nrr": "NRR",
                "saved_customers": "saved customers"}


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def enough(n) -> bool:
    """Whether a rate over `n` customers is worth a claim (n ≥ `MIN_N`)."""
    return not _nan(n) and n >= MIN_N


def too_few(n) -> str:
    """The note shown in place of a claim from a rate over too few customers."""
    return f"only {fmt.count(n)} customers (fewer than {MIN_N}): too few to read"


def rate_change_is_clear(p_now: float, n_now: float, p_before: float, n_before: float) -> bool:
    """Whether two rates differ by more than sampling noise (module docstring): the
    two-proportion z-test at 95%. False when either side is missing or below `MIN_N`."""
    if any(_nan(v) for v in (p_now, n_now, p_before, n_before)):
        return False
    if not (enough(n_now) and enough(n_before)):
        return False
    se = math.sqrt(p_now * (1 - p_now) / n_now + p_before * (1 - p_before) / n_before)
    if se == 0:
        return p_now != p_before
    return abs(p_now - p_before) > Z_95 * se


# --- trends ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trend:
    """A series' direction from its least-squares line (module docstring).

    ``values`` are the points as given (oldest first, NaN for gaps) — the sparkline;
    ``direction`` is "rising", "falling", "flat" (slope within noise) or "unknown" (fewer
    than `MIN_TREND_POINTS` usable points); ``start`` and ``end`` are the fitted line at
    the first and last usable point, ``slope`` its change per period, ``p_value`` the
    slope's two-sided t-test."""

    values: tuple[float, ...]
    direction: str
    slope: float = math.nan
    p_value: float = math.nan
    start: float = math.nan
    end: float = math.nan
    points: int = 0

    def good(self, higher_is_better: bool) -> bool | None:
        """True when the line moves the right way, False the wrong way, None when flat
        or unknown."""
        if self.direction not in ("rising", "falling"):
            return None
        return (self.direction == "rising") == higher_is_better


def trend_of(values: Sequence[float], n: Sequence[float] | None = None,
             whole: Sequence[bool] | None = None) -> Trend:
    """The `Trend` of `values` (oldest first). Points that are NaN, whose n (customers
    behind the rate) is below `MIN_N`, or that are not a whole period (`whole` False: a
    clipped month or a quarter to date) are left out of the fit but kept in ``values``."""
    y = np.asarray([math.nan if _nan(v) else float(v) for v in values], dtype=float)
    usable = ~np.isnan(y)
    if n is not None:
        usable &= np.asarray([enough(v) for v in n], dtype=bool)
    if whole is not None:
        usable &= np.asarray(list(whole), dtype=bool)
    x = np.arange(len(y), dtype=float)[usable]
    y_fit = y[usable]
    shown = tuple(float(v) for v in y)
    if len(y_fit) < MIN_TREND_POINTS or np.ptp(y_fit) == 0:
        direction = "unknown" if len(y_fit) < MIN_TREND_POINTS else "flat"
        return Trend(shown, direction, points=int(len(y_fit)))
    fit = stats.linregress(x, y_fit)
    direction = "flat"
    if fit.pvalue < TREND_ALPHA:
        direction = "rising" if fit.slope > 0 else "falling"
    return Trend(shown, direction, float(fit.slope), float(fit.pvalue),
                 float(fit.intercept + fit.slope * x[0]), float(fit.intercept + fit.slope * x[-1]),
                 int(len(y_fit)))


def _span(months: pd.Series) -> str:
    first, last = pd.Timestamp(months.iloc[0]), pd.Timestamp(months.iloc[-1])
    return f"{first:%b %Y}" if first == last else f"{first:%b %Y} – {last:%b %Y}"


def _whole(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of whole periods (a clipped first or last period would mislead a trend)."""
    return df[~df["partial"].astype(bool)] if "partial" in df.columns else df


def churn_trend_takeaway(monthly_churn: pd.DataFrame) -> str:
    """The churn trend's title from monthly logo churn (`churn_by_period`, freq month):
    the fitted line's direction over the whole months with at least `MIN_N` customers at
    their start, else the level they held around."""
    measured = monthly_churn.dropna(subset=["churn_rate"])
    if measured.empty:
        return "No customers were active to measure churn"
    rows = _whole(measured)
    if rows.empty:  # only clipped months (a period shorter than a month): their level, no trend
        rows = measured
    rows = rows[[enough(n) for n in rows["active_start"]]]
    if rows.empty:
        return f"Monthly logo churn: {too_few(measured['active_start'].max())}"
    span = _span(rows["period_start"]) + (" (part of the month)" if rows["partial"].astype(bool).all() else "")
    t = trend_of(rows["churn_rate"])
    if t.direction == "rising":
        return (f"Monthly logo churn rising over {span}: from about {fmt.percent(t.start, 2)} "
                f"to {fmt.percent(t.end, 2)} on the trend line")
    if t.direction == "falling":
        return (f"Monthly logo churn falling over {span}: from about {fmt.percent(t.start, 2)} "
                f"to {fmt.percent(t.end, 2)} on the trend line")
    mean = float(rows["churn_rate"].mean())
    if t.direction == "flat":
        return f"Monthly logo churn held around {fmt.percent(mean, 2)} over {span}, no trend beyond noise"
    return f"Monthly logo churn averaged {fmt.percent(mean, 2)} over {span}"


def revenue_retention_takeaway(monthly_revenue: pd.DataFrame) -> str:
    """The revenue-retention trend's title from monthly NRR (`revenue_retention`, freq
    month): the fitted line's direction and how many whole months kept NRR at or above 100%."""
    measured = monthly_revenue.dropna(subset=["nrr"])
    rows = _whole(measured) if not _whole(measured).empty else measured
    rows = rows[[enough(n) for n in rows["start_customers"]]] if not rows.empty else rows
    if rows.empty:
        return "Revenue retention: no starting book to measure"
    above = int((rows["nrr"] >= 1).sum())
    t = trend_of(rows["nrr"])
    head = {"rising": "Monthly NRR rising", "falling": "Monthly NRR falling"}.get(
        t.direction, f"Monthly NRR held around {fmt.percent(float(rows['nrr'].mean()))}")
    return f"{head} over {_span(rows['first_month'])}; at or above 100% in {above} of {len(rows)} months"


# --- the reactive funnel --------------------------------------------------------------------

def reach_verdict(rate: float) -> str:
    """Where a reach rate sits against the case study's 20–30% baseline."""
    low, high = REACH_BASELINE
    return "below" if rate < low else "above" if rate > high else "inside"


def funnel_takeaway(summary: pd.DataFrame, previous: pd.DataFrame | None = None) -> str:
    """Reach rate against the 20–30% baseline and the period before (beyond noise only),
    from `retention_funnel_summary` (its overall row first)."""
    if summary.empty or _nan(summary["reach_rate"].iloc[0]):
        return "No cancellation requests in the period"
    row = summary.iloc[0]
    if not enough(row.requests):
        return f"Reach rate {fmt.percent(row.reach_rate, 0)} of {fmt.count(row.requests)} requests — too few to read"
    low, high = REACH_BASELINE
    title = (f"Reach rate {fmt.percent(row.reach_rate, 0)} — {reach_verdict(row.reach_rate)} the "
             f"{low * 100:.0f}–{high:.0%} baseline")
    if previous is not None and not previous.empty and not _nan(previous["reach_rate"].iloc[0]):
        before = previous.iloc[0]
        if rate_change_is_clear(row.reach_rate, row.requests, before.reach_rate, before.requests):
            word = "up" if row.reach_rate > before.reach_rate else "down"
            title += f", {word} from {fmt.percent(before.reach_rate, 0)} the period before"
        else:
            title += f", level with the period before ({fmt.percent(before.reach_rate, 0)})"
    return title


# --- groups that moved ----------------------------------------------------------------------

MOVER_COLUMNS = ["dimension", "group", "group_label", "previous_rate", "current_rate", "change",
                 "active_start", "previous_active_start", "clear"]


def churn_movers(current: pd.DataFrame, previous: pd.DataFrame, top: int = 8,
                 min_customers: int = MIN_GROUP_CUSTOMERS) -> pd.DataFrame:
    """Groups (rows of `churn_by_dimensions` for two windows: ``dimension``, ``group``,
    ``active_start``, ``churn_rate``) whose logo churn changed most, largest absolute
    change first. Groups with fewer than `min_customers` active at either start are left
    out; ``clear`` says the change is beyond noise (`rate_change_is_clear`)."""
    cols = ["dimension", "group", "active_start", "churn_rate"]
    if current.empty or previous.empty:
        return pd.DataFrame(columns=MOVER_COLUMNS)
    merged = current[cols].merge(previous[cols], on=["dimension", "group"], suffixes=("", "_prev"))
    merged = merged[(merged["active_start"] >= min_customers) & (merged["active_start_prev"] >= min_customers)]
    merged = merged.dropna(subset=["churn_rate", "churn_rate_prev"])
    merged = merged.assign(
        previous_rate=merged["churn_rate_prev"],
        current_rate=merged["churn_rate"],
        change=merged["churn_rate"] - merged["churn_rate_prev"],
        previous_active_start=merged["active_start_prev"],
        group_label=[f"{fmt.label(d)}: {fmt.label(g)}" for d, g in zip(merged["dimension"], merged["group"])],
        clear=[rate_change_is_clear(c, n, p, m) for c, n, p, m in zip(
            merged["churn_rate"], merged["active_start"], merged["churn_rate_prev"], merged["active_start_prev"])],
    )
    merged = merged.reindex(merged["change"].abs().sort_values(ascending=False).index).head(top)
    return merged[MOVER_COLUMNS].reset_index(drop=True)


def movers_takeaway(movers: pd.DataFrame, dimension: str | None = None) -> str:
    """The largest move beyond noise among `churn_movers` rows (of one dimension when
    given), or that none moved beyond noise."""
    rows = movers if dimension is None else movers[movers["dimension"] == dimension]
    what = "group" if dimension is None else fmt.label(dimension).lower()
    if rows.empty:
        return f"No {what} has enough customers in both periods to compare"
    clear = rows[rows["clear"].astype(bool)]
    if clear.empty:
        return f"No {what}'s churn moved beyond noise"
    top = clear.iloc[0]
    name = top.group_label if dimension is None else fmt.label(top.group)
    return (f"Biggest move: {name} churn {'up' if top.change > 0 else 'down'} "
            f"{fmt.points(abs(top.change)).lstrip('+')} ({fmt.percent(top.previous_rate)} → "
            f"{fmt.percent(top.current_rate)})")


def segments_takeaway(segments: pd.DataFrame, movers: pd.DataFrame) -> str:
    """Best and worst segment retention (`churn_by_dimension` by segment, groups with at
    least `MIN_N` customers at the start), then the segment move of `movers_takeaway`."""
    if segments.empty or "retention_rate" not in segments.columns:
        return "No customers were active at the period start"
    d = segments.dropna(subset=["retention_rate"])
    d = d[[enough(n) for n in d["active_start"]]].sort_values("retention_rate")
    if d.empty:
        if segments.dropna(subset=["retention_rate"]).empty:
            return "No customers were active at the period start"
        return f"Retention by segment: {too_few(segments['active_start'].max())}"
    if len(d) == 1:
        r = d.iloc[0]
        title = f"{fmt.label(r.group)} kept {fmt.percent(r.retention_rate)} of its customers"
    else:
        best, worst = d.iloc[-1], d.iloc[0]
        title = (f"{fmt.label(best.group)} kept {fmt.percent(best.retention_rate)} of its customers, "
                 f"{fmt.label(worst.group).lower()} {fmt.percent(worst.retention_rate)}")
    move = movers_takeaway(movers, "segment")
    return f"{title}; {move[0].lower()}{move[1:]}"


# --- targets, value, risk, ROI, data quality ------------------------------------------------

def targets_takeaway(targets: pd.DataFrame, quarter: str) -> str:
    """How many of the quarter's targets (`targets_vs_actuals`) are met, naming the missed."""
    known = targets.dropna(subset=["met"]) if not targets.empty else targets
    if known.empty:
        return f"No targets are set for {quarter}"
    partial = bool(targets["partial"].any())
    met = int(known["met"].astype(bool).sum())
    so_far = " so far" if partial else ""
    if met == len(known):
        return f"All {len(known)} targets met in {quarter}{so_far}"
    missed = [TARGET_NAMES.get(m, fmt.label(m)) for m in known.loc[~known["met"].astype(bool), "metric"]]
    names = missed[0] if len(missed) == 1 else ", ".join(missed[:-1]) + " and " + missed[-1]
    return f"{met} of {len(known)} targets met in {quarter}{so_far} — {names} short"


def mrr_waterfall_takeaway(w, window: str) -> str:
    """The MRR waterfall's title (`metrics.mrr_waterfall`'s row): the net change over
    `window`, and the MRR added (new, expansion, reactivation) against the MRR lost
    (churned, contraction) — the bars give the parts."""
    if w["opening_mrr"] <= 0:
        return f"MRR {fmt.money(w['closing_mrr'])} at the end of {window}"
    net = float(w["closing_mrr"] - w["opening_mrr"])
    added = float(w["new_mrr"] + w["expansion_mrr"] + w["reactivation_mrr"])
    lost = float(w["churned_mrr"] + w["contraction_mrr"])
    change = "up" if net > 0 else "down" if net < 0 else "unchanged"
    size = f" {fmt.money(abs(net))} ({net / w['opening_mrr']:+.1%})" if net else ""
    return f"MRR {change}{size} over {window}: {fmt.money(added)} added, {fmt.money(lost)} lost"


def value_takeaway(pareto, median_clv: float) -> str:
    """The Pareto share of historical CLV (`metrics.ParetoShare`) and the median customer's CLV."""
    if pareto.customers == 0 or _nan(pareto.top_value_share):
        return "No customer value in the selection"
    title = (f"The top {pareto.top_share:.0%} of customers hold {fmt.percent(pareto.top_value_share, 0)} "
             "of historical CLV")
    if not _nan(median_clv):
        title += f"; the median customer has earned {fmt.money(median_clv)}"
    return title


def risk_takeaway(risk) -> str:
    """Margin at risk and how concentrated it is (`analytics.at_risk.RiskSummary`)."""
    if not risk.available:
        return "Margin at risk: churn scores are not computed yet"
    top = risk.by_segment.iloc[0]
    return (f"{fmt.money(risk.total_expected_loss)} of future margin at risk; the riskiest "
            f"{risk.top_share:.0%} of customers hold {fmt.percent(risk.top_loss_share, 0)} of it, "
            f"{fmt.label(top.segment).lower()} the largest share ({fmt.percent(top.share_of_loss, 0)})")


def roi_takeaway(result) -> str:
    """What each unit of currency spent on retention returned (`analytics.roi.ProgrammeROI`)."""
    symbol = fmt.currency_symbol()
    if _nan(result.roi):
        return f"Net benefit {fmt.money(result.net_benefit)} (no programme cost in the period)"
    return (f"Every {symbol}1 spent on retention returned {symbol}"
            f"{result.retained_value / result.programme_cost:,.2f} — ROI {result.roi * 100:,.0f}%")


def data_quality_takeaway(report: pd.DataFrame) -> str:
    """Failing records and their 1-10-100 cost (`data_quality_report`), the worst check named."""
    if report.empty or report["checked"].sum() == 0:
        return "No stored records in the selection to check"
    total = int(report["failing"].sum())
    if not total:
        return "Every data-quality check passes"
    worst = report.sort_values("failing", ascending=False).iloc[0]
    return (f"{fmt.count(total)} failing records: {fmt.money(report['correction_cost'].sum())} to fix now, "
            f"{fmt.money(report['failure_cost'].sum())} if they cause failures — most: "
            f"{fmt.label(worst.check).lower()} ({fmt.count(worst.failing)})")


# --- service and notes ----------------------------------------------------------------------

def satisfaction_takeaway(sat: pd.DataFrame) -> str:
    """CSAT and NPS (`satisfaction_trend`): each series' fitted direction over the months
    with at least `MIN_N` answers, else its answer-weighted level; no claim when no month
    has `MIN_N` answers (one answer gives NPS ±100)."""
    if sat.empty:
        return "No survey answers in the period"
    parts = []
    for name, value, answers, show in (
        ("CSAT", "csat_mean", "csat_responses", lambda v: f"{v:.2f}"),
        ("NPS", "nps", "nps_responses", lambda v: f"{v:+.0f}"),
    ):
        rows = sat.dropna(subset=[value])
        rows = rows[[enough(n) for n in rows[answers]]]
        total = int(sat[answers].sum())
        if rows.empty:
            parts.append(f"{name}: only {fmt.count(total)} answers, too few to read" if total < MIN_N
                         else f"{name} {show(float((sat[value] * sat[answers]).sum() / total))} "
                              f"over {fmt.count(total)} answers")
            continue
        t = trend_of(rows[value])
        level = float((rows[value] * rows[answers]).sum() / rows[answers].sum())
        if t.direction in ("rising", "falling"):
            parts.append(f"{name} {t.direction} ({show(t.start)} → {show(t.end)} on the trend line)")
        else:
            parts.append(f"{name} held around {show(level)}")
    return "; ".join(parts)


def note_signals_takeaway(trend: pd.DataFrame) -> str:
    """Which churn signal's share of notes moved (`note_signal_trend`, without
    ``any_signal``): the signal whose fitted monthly share rises or falls most steeply over
    the whole months with at least `MIN_N` notes; else the signal that leads."""
    d = trend[(trend["signal"] != "any_signal")]
    d = d[~d["partial"].astype(bool)] if "partial" in d.columns else d
    d = d[[enough(n) for n in d["all_notes"]]]
    if d.empty:
        return "Churn signals in notes: too few notes per month to read a trend"
    moves = []
    for signal, rows in d.groupby("signal", sort=False):
        t = trend_of(rows["share_of_notes"])
        if t.direction in ("rising", "falling"):
            moves.append((abs(t.end - t.start), signal, t))
    if moves:
        _, signal, t = max(moves, key=lambda m: m[0])
        return (f"{fmt.label(signal)} notes {t.direction}: about {fmt.percent(t.start)} → {fmt.percent(t.end)} "
                "of notes on the trend line")
    lead = d.groupby("signal")["notes"].sum().idxmax()
    share = d.loc[d["signal"] == lead, "notes"].sum() / d.drop_duplicates("month")["all_notes"].sum()
    return f"Signal shares held steady; {fmt.label(lead).lower()} leads at {fmt.percent(share)} of notes"
