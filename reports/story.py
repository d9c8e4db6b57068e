"""The leadership story: every number the deck, the PDF and the presentation page show,
gathered once for a `RetentionFilter` from the analytics module, with each slide's
takeaway title computed from the data and the definitions behind it (docs/metrics.md).

The renderers (`reports.deck`, `reports.pdf`, `reports.figures`) only lay out what is
here: they compute nothing, so the deck, the PDF and the screen cannot disagree.

Windows, as on the Overview (`dashboard.periods`): KPIs are the quarter holding the
as-of date, to date, against the same days of the quarter before, and against that
quarter's targets; the trend, funnel, segments and ROI are over the filter's period,
compared with the equally long period before it when the data reaches back that far.

Honest comparisons: a change in a rate is called a rise or a fall only when it exceeds
sampling noise — |p₁ − p₂| > 1.96 × √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂), the two-proportion
z-test at 95% (customers are not independent draws, so this is a guard against reading
noise, not a formal test); otherwise the title says the rate held. Partial quarters are
compared with the same days of the previous quarter, never with a whole one.

No personal data: every frame here is an aggregate (periods, funnel steps, segments,
percentiles, checks); per-customer frames are reduced before they are kept. Nothing here
imports streamlit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

from analytics import metrics, roi
from analytics.db import Database
from analytics.filters import RetentionFilter
from analytics.dates import add_months, quarter_start
from analytics.metrics._common import empty_frame
from analytics.roi import DEFAULT_COST_PER_ACTION, DEFAULT_COST_PER_OFFER
from analytics.metrics.targets import COMPARISON_COLUMNS
from analytics.catalog import earliest_signup
from dashboard import formatting as fmt
from dashboard import periods
from analytics.at_risk import RiskSummary, revenue_at_risk
from reports.definitions import Definition, definition

TREND_QUARTERS = 4
CLV_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
PARETO_TOP_SHARE = 0.2
LORENZ_POINTS = 101
REACH_BASELINE = (0.20, 0.30)  # the case study: the retention unit reached 20–30% of requesters
Z_95 = 1.96

# The ROI page's default assumptions (pages/retention_roi.py), so both show one ROI.
DEFAULT_UNIT_COST = 1.0  # data quality: the "1" of the 1-10-100 rule

SLIDE_KEYS = ("title", "kpis", "trend", "funnel", "segments", "value", "risk", "roi", "data_quality")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Kpi:
    """One headline number against the previous window and the quarter's target."""

    key: str
    name: str
    value: float
    previous: float
    target: float
    kind: str  # "count" | "rate" | "money"
    higher_is_better: bool

    @property
    def change(self) -> float:
        return self.value - self.previous

    @property
    def met(self) -> bool | None:
        if math.isnan(self.target) or math.isnan(self.value):
            return None
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def show(self, value: float) -> str:
        if self.kind == "count":
            return fmt.count(value)
        if self.kind == "money":
            return fmt.money(value)
        return fmt.percent(value, 2)

    def show_change(self) -> str:
        if math.isnan(self.value) or math.isnan(self.previous):
            return "—"
        if self.kind == "count":
            return fmt.signed_count(self.change)
        if self.kind == "money":
            return fmt.signed_money(self.change)
        return fmt.points(self.change, 2)


@dataclass(frozen=True)
class Section:
    """One slide / PDF page: its takeaway title, what is plotted, the definitions of the
    metrics on it (speaker notes, footnotes) and the facts behind the title."""

    key: str
    title: str
    subtitle: str
    definitions: tuple[Definition, ...] = ()
    facts: tuple[str, ...] = ()
    empty_message: str = "Nothing to plot for this selection."  # shown when a slide has no chart


@dataclass(frozen=True)
class RoiAssumptions:
    """The programme's unit costs (user assumptions, as on the ROI page). A None
    `value_per_saved` means the average historical CLV of the selection, rounded to 10."""

    cost_per_action: float = DEFAULT_COST_PER_ACTION
    cost_per_offer: float = DEFAULT_COST_PER_OFFER
    value_per_saved: float | None = None


@dataclass(frozen=True)
class Story:
    """Everything the leadership report shows, for one filter (see the module docstring)."""

    filter: RetentionFilter
    database_name: str
    history_start: date
    period_name: str
    filter_lines: tuple[str, ...]
    quarter: str
    comparison_name: str
    previous_name: str
    previous_period_name: str | None  # the equally long period before, when in the data
    kpis: tuple[Kpi, ...]
    targets: pd.DataFrame
    targets_error: str | None
    monthly_churn: pd.DataFrame
    monthly_revenue: pd.DataFrame
    quarterly_churn: pd.DataFrame
    funnel: pd.DataFrame
    funnel_summary: pd.DataFrame
    previous_funnel_summary: pd.DataFrame
    segments: pd.DataFrame
    previous_segments: pd.DataFrame
    clv_quantiles: pd.DataFrame
    pareto: metrics.ParetoShare
    lorenz: pd.DataFrame
    risk: RiskSummary
    roi_assumptions: RoiAssumptions
    roi_actions: dict[str, int]
    roi: roi.ProgrammeROI
    data_quality: pd.DataFrame
    unit_cost: float
    sections: tuple[Section, ...] = field(default=())

    @property
    def as_of(self) -> date:
        return self.filter.as_of

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    @property
    def slide_titles(self) -> list[str]:
        return [s.title for s in self.sections]

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


# --- honest comparisons ---------------------------------------------------------------------

def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)


def rate_change_is_clear(p_now: float, n_now: float, p_before: float, n_before: float) -> bool:
    """Whether two rates differ by more than sampling noise (module docstring): the
    two-proportion z-test at 95%. False when either side is missing."""
    if any(_nan(v) for v in (p_now, n_now, p_before, n_before)) or n_now <= 0 or n_before <= 0:
        return False
    se = math.sqrt(p_now * (1 - p_now) / n_now + p_before * (1 - p_before) / n_before)
    if se == 0:
        return p_now != p_before
    return abs(p_now - p_before) > Z_95 * se


def _ordinal_rank(rank: int, n: int, low_word: str, high_word: str) -> str:
    words = {1: "second-", 2: "third-", 3: "fourth-"}
    if rank == 0:
        return f"the {low_word} of the last {n} quarters"
    if rank == n - 1:
        return f"the {high_word} of the last {n} quarters"
    from_low, from_high = rank, n - 1 - rank
    if from_low <= from_high:
        return f"the {words.get(from_low, str(from_low + 1) + 'th-')}{low_word} of the last {n} quarters"
    return f"the {words.get(from_high, str(from_high + 1) + 'th-')}{high_word} of the last {n} quarters"


def churn_takeaway(quarterly: pd.DataFrame, same_days_before: tuple[float, float, str] | None = None) -> str:
    """The trend slide's title from quarterly logo churn (`churn_by_period`, freq quarter,
    oldest first). A finished quarter is compared with the quarter before (rise / fall only
    beyond noise) and ranked among the full quarters shown; a running quarter is compared
    with `same_days_before` = (rate, customers at its start, label) only."""
    rows = quarterly.dropna(subset=["churn_rate"])
    if rows.empty:
        return "No customers were active to measure churn"
    cur = rows.iloc[-1]
    now = fmt.percent(cur.churn_rate, 2)
    if bool(cur.partial):
        head = f"Logo churn {now} in {cur.period} so far"
        if same_days_before and not _nan(same_days_before[0]):
            rate, n, label = same_days_before
            before = fmt.percent(rate, 2)
            if not rate_change_is_clear(cur.churn_rate, cur.active_start, rate, n):
                return f"{head} — level with the same days of {label} ({before})"
            word = "down" if cur.churn_rate < rate else "up"
            return f"{head} — {word} from {before} over the same days of {label}"
        return head
    full = rows[~rows["partial"]]
    if len(full) < 2:
        return f"Logo churn {now} in {cur.period}"
    prev = full.iloc[-2]
    before = fmt.percent(prev.churn_rate, 2)
    if not rate_change_is_clear(cur.churn_rate, cur.active_start, prev.churn_rate, prev.active_start):
        head = f"Quarterly logo churn held at {now} in {cur.period} ({before} in {prev.period})"
    elif cur.churn_rate < prev.churn_rate:
        head = f"Quarterly logo churn fell to {now} in {cur.period}, from {before}"
    else:
        head = f"Quarterly logo churn rose to {now} in {cur.period}, from {before}"
    shown = [fmt.percent(v, 2) for v in full["churn_rate"]]
    if len(full) >= 3 and shown.count(now) == 1:  # a rank only when no other quarter ties
        rank = int((full["churn_rate"] < cur.churn_rate).sum())
        head += " — " + _ordinal_rank(rank, len(full), "lowest", "highest")
    return head


def reach_verdict(rate: float) -> str:
    low, high = REACH_BASELINE
    return "below" if rate < low else "above" if rate > high else "inside"


def funnel_takeaway(summary: pd.DataFrame, previous: pd.DataFrame) -> str:
    """Reach rate against the 20–30% baseline and the period before (beyond noise only)."""
    if summary.empty or _nan(summary["reach_rate"].iloc[0]):
        return "No cancellation requests in the period"
    row = summary.iloc[0]
    low, high = REACH_BASELINE
    title = (f"Reach rate {fmt.percent(row.reach_rate, 0)} — {reach_verdict(row.reach_rate)} the "
             f"{low * 100:.0f}–{high:.0%} baseline")
    if not previous.empty and not _nan(previous["reach_rate"].iloc[0]):
        before = previous.iloc[0]
        if rate_change_is_clear(row.reach_rate, row.requests, before.reach_rate, before.requests):
            word = "up" if row.reach_rate > before.reach_rate else "down"
            title += f", {word} from {fmt.percent(before.reach_rate, 0)} the period before"
        else:
            title += f", level with the period before ({fmt.percent(before.reach_rate, 0)})"
    return title


def segments_takeaway(segments: pd.DataFrame, previous: pd.DataFrame) -> str:
    """Best and worst segment retention; the largest segment move beyond noise."""
    d = segments.dropna(subset=["retention_rate"]).sort_values("retention_rate")
    if d.empty:
        return "No customers were active at the period start"
    if len(d) == 1:
        r = d.iloc[0]
        title = f"{fmt.label(r.group)} kept {fmt.percent(r.retention_rate)} of its customers"
    else:
        best, worst = d.iloc[-1], d.iloc[0]
        title = (f"{fmt.label(best.group)} kept {fmt.percent(best.retention_rate)} of its customers, "
                 f"{fmt.label(worst.group).lower()} {fmt.percent(worst.retention_rate)}")
    if not previous.empty:
        merged = d.merge(previous, on="group", suffixes=("", "_before"))
        moves = []
        for r in merged.itertuples():
            if rate_change_is_clear(r.churn_rate, r.active_start, r.churn_rate_before, r.active_start_before):
                moves.append((abs(r.churn_rate - r.churn_rate_before), r))
        if moves:
            _, r = max(moves, key=lambda m: m[0])
            word = "down" if r.churn_rate < r.churn_rate_before else "up"
            title += (f"; {fmt.label(r.group).lower()} churn {word} "
                      f"{fmt.points(abs(r.churn_rate - r.churn_rate_before)).lstrip('+')} on the period before")
        else:
            title += "; no segment moved beyond noise on the period before"
    return title


def targets_takeaway(targets: pd.DataFrame, quarter: str) -> str:
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


NO_MATCH = "No customers match these filters"

TARGET_NAMES = {"churn_rate": "logo churn", "retention_rate": "retention", "nrr": "NRR",
                "saved_customers": "saved customers"}


def value_takeaway(pareto: metrics.ParetoShare, quantiles: pd.DataFrame) -> str:
    if pareto.customers == 0 or _nan(pareto.top_value_share):
        return "No customer value in the selection"
    median = quantiles.loc[np.isclose(quantiles["quantile"], 0.5), "clv"]
    title = (f"The top {pareto.top_share:.0%} of customers hold {fmt.percent(pareto.top_value_share, 0)} "
             "of historical CLV")
    if len(median):
        title += f"; the median customer has earned {fmt.money(float(median.iloc[0]))}"
    return title


def risk_takeaway(risk: RiskSummary) -> str:
    if not risk.available:
        return "Revenue at risk: churn scores are not computed yet"
    top = risk.by_segment.iloc[0]
    return (f"{fmt.money(risk.total_expected_loss)} of revenue at risk; the riskiest {risk.top_share:.0%} of "
            f"customers hold {fmt.percent(risk.top_loss_share, 0)} of it, {fmt.label(top.segment).lower()} "
            f"the largest share ({fmt.percent(top.share_of_loss, 0)})")


def roi_takeaway(result: roi.ProgrammeROI) -> str:
    symbol = fmt.currency_symbol()
    if math.isnan(result.roi):
        return f"Net benefit {fmt.money(result.net_benefit)} (no programme cost in the period)"
    return (f"Every {symbol}1 spent on retention returned {symbol}"
            f"{result.retained_value / result.programme_cost:,.2f} — ROI {result.roi * 100:,.0f}%")


def data_quality_takeaway(report: pd.DataFrame) -> str:
    if report.empty or report["checked"].sum() == 0:
        return "No stored records in the selection to check"
    total = int(report["failing"].sum())
    if not total:
        return "Every data-quality check passes"
    worst = report.sort_values("failing", ascending=False).iloc[0]
    return (f"{fmt.count(total)} failing records: {fmt.money(report['correction_cost'].sum())} to fix now, "
            f"{fmt.money(report['failure_cost'].sum())} if they cause failures — most: "
            f"{fmt.label(worst.check).lower()} ({fmt.count(worst.failing)})")


# --- gathering ------------------------------------------------------------------------------

def _first(df: pd.DataFrame, column: str) -> float:
    return float(df[column].iloc[0]) if not df.empty else math.nan


def _filter_lines(flt: RetentionFilter) -> tuple[str, ...]:
    def values(name: str, chosen: tuple[str, ...], everyone: str) -> str:
        return f"{name}: " + (", ".join(fmt.label(v) for v in chosen) if chosen else everyone)

    return (
        values("Segments", flt.segments, "all"),
        values("Regions", flt.regions, "all"),
        values("Plans", flt.plans, "all"),
        values("Contact channels", flt.channels, "all") + (
            " (funnel and contact counts only)" if flt.channels else ""),
    )


def lorenz_curve(clv: pd.Series, points: int = LORENZ_POINTS) -> pd.DataFrame:
    """Cumulative share of total CLV held by the most valuable share of customers, at
    `points` evenly spaced customer shares 0..1 (the Pareto curve, aggregated: no
    customer row survives). Columns ``customer_share``, ``value_share``."""
    values = np.sort(np.asarray(clv, dtype=float))[::-1]
    total = values.sum()
    shares = np.linspace(0.0, 1.0, points)
    if len(values) == 0 or total <= 0:
        return pd.DataFrame({"customer_share": shares, "value_share": np.full(points, np.nan)})
    cum = np.concatenate([[0.0], np.cumsum(values)]) / total
    idx = np.minimum(np.ceil(np.round(shares * len(values), 9)).astype(int), len(values))
    return pd.DataFrame({"customer_share": shares, "value_share": cum[idx]})


def _history_start(db: Database) -> date:
    info = db.schema_info()
    if "history_start" in info:
        return date.fromisoformat(info["history_start"])
    return earliest_signup(db)


def gather_story(
    db: Database,
    flt: RetentionFilter,
    roi_assumptions: RoiAssumptions = RoiAssumptions(),
    unit_cost: float = DEFAULT_UNIT_COST,
    progress: Progress | None = None,
) -> Story:
    """Every number of the leadership story for `flt`, each taken once from the analytics
    module (see the module docstring for the windows and the comparison rule).
    `progress(fraction, message)` is called as the work advances."""
    step = progress or (lambda fraction, message: None)
    history_start = _history_start(db)
    cmp = periods.quarter_to_date(flt)
    has_previous_quarter = cmp.previous.start >= history_start  # else "before" would be empty history
    before = periods.filter_period(flt).previous
    has_before = before.start >= history_start
    quarter = periods.current_quarter(flt)

    step(0.05, "Headline KPIs")
    active_now = metrics.active_customers(db, flt)
    active_before = metrics.active_customers(db, cmp.previous)
    churn_now, churn_before = metrics.churn_summary(db, cmp.current), metrics.churn_summary(db, cmp.previous)
    revenue_now = metrics.revenue_retention(db, cmp.current, "range")
    revenue_before = metrics.revenue_retention(db, cmp.previous, "range")
    saves_now, saves_before = metrics.saved_customers(db, cmp.current), metrics.saved_customers(db, cmp.previous)
    pareto_now = metrics.clv_pareto(db, flt, PARETO_TOP_SHARE)
    pareto_before = metrics.clv_pareto(db, cmp.previous, PARETO_TOP_SHARE)
    try:
        targets, targets_error = metrics.targets_vs_actuals(db, flt, quarter), None
    except (FileNotFoundError, ValueError) as err:  # a broken targets file must not stop the deck
        targets, targets_error = empty_frame(COMPARISON_COLUMNS), f"The quarterly targets could not be read: {err}"
    target = dict(zip(targets["metric"], targets["target"])) if not targets.empty else {}

    step(0.25, "Churn and retention trend")
    monthly_churn = metrics.churn_by_period(db, flt, "month")
    monthly_revenue = metrics.revenue_retention(db, flt, "month")
    first_quarter = add_months(quarter_start(flt.as_of), -3 * (TREND_QUARTERS - 1))
    quarterly = metrics.churn_by_period(db, flt.with_period(max(first_quarter, history_start), flt.as_of), "quarter")

    step(0.4, "Retention funnel and segments")
    funnel = metrics.retention_funnel(db, flt)
    funnel_summary = metrics.retention_funnel_summary(db, flt)
    previous_funnel = metrics.retention_funnel_summary(db, before) if has_before else funnel_summary.iloc[0:0]
    segments = metrics.churn_by_dimension(db, flt, "segment")
    previous_segments = metrics.churn_by_dimension(db, before, "segment") if has_before else segments.iloc[0:0]

    step(0.55, "Customer value")
    quantiles = metrics.clv_quantiles(db, flt, CLV_QUANTILES)
    lorenz = lorenz_curve(metrics.customer_clv(db, flt)["clv"])  # per-customer rows end here

    step(0.7, "Revenue at risk and ROI")
    risk = revenue_at_risk(db, flt)
    average_clv = pareto_now.total_clv / pareto_now.customers if pareto_now.customers else 0.0
    if roi_assumptions.value_per_saved is None:
        roi_assumptions = replace(roi_assumptions, value_per_saved=float(round(average_clv, -1)))
    proactive = metrics.proactive_funnel(db, flt)
    attempted = int(_first(funnel_summary, "attempted")) if not funnel_summary.empty else 0
    accepted = int(_first(funnel_summary, "accepted")) if not funnel_summary.empty else 0
    contacted = int(proactive.loc[proactive["step"] == "contacted", "count"].iloc[0]) if not proactive.empty else 0
    saved = metrics.saved_customers(db, flt)
    programme = roi.programme_roi(
        saved_customers=saved, value_per_saved=roi_assumptions.value_per_saved,
        actions=attempted + contacted, cost_per_action=roi_assumptions.cost_per_action,
        offers=accepted, cost_per_offer=roi_assumptions.cost_per_offer,
    )

    step(0.85, "Data quality")
    quality = metrics.data_quality_report(db, flt, unit_cost=unit_cost).drop(columns=["examples"])

    def avg_clv(p: metrics.ParetoShare) -> float:
        return p.total_clv / p.customers if p.customers else math.nan

    churn_rate_now, churn_rate_before = _first(churn_now, "churn_rate"), _first(churn_before, "churn_rate")
    kpis = tuple(k if has_previous_quarter else replace(k, previous=math.nan) for k in (
        Kpi("active_customers", "Active customers", float(active_now), float(active_before), math.nan, "count", True),
        Kpi("logo_churn", "Logo churn", churn_rate_now, churn_rate_before, target.get("churn_rate", math.nan),
            "rate", False),
        Kpi("retention", "Retention", 1 - churn_rate_now, 1 - churn_rate_before,
            target.get("retention_rate", math.nan), "rate", True),
        Kpi("nrr", "Net revenue retention", _first(revenue_now, "nrr"), _first(revenue_before, "nrr"),
            target.get("nrr", math.nan), "rate", True),
        Kpi("grr", "Gross revenue retention", _first(revenue_now, "grr"), _first(revenue_before, "grr"),
            math.nan, "rate", True),
        Kpi("saved_customers", "Saved customers", float(saves_now), float(saves_before),
            target.get("saved_customers", math.nan), "count", True),
        Kpi("average_clv", "Average historical CLV", avg_clv(pareto_now), avg_clv(pareto_before), math.nan,
            "money", True),
        Kpi("revenue_at_risk", "Revenue at risk", risk.total_expected_loss, math.nan, math.nan, "money", False),
    ))
    story = Story(
        filter=flt,
        database_name=db.path.name,
        history_start=history_start,
        period_name=periods.span_name(flt.start, flt.end),
        filter_lines=_filter_lines(flt),
        quarter=quarter,
        comparison_name=cmp.name,
        previous_name=cmp.previous_name,
        previous_period_name=periods.span_name(before.start, before.end) if has_before else None,
        kpis=kpis,
        targets=targets,
        targets_error=targets_error,
        monthly_churn=monthly_churn,
        monthly_revenue=monthly_revenue,
        quarterly_churn=quarterly,
        funnel=funnel,
        funnel_summary=funnel_summary,
        previous_funnel_summary=previous_funnel,
        segments=segments,
        previous_segments=previous_segments,
        clv_quantiles=quantiles,
        pareto=pareto_now,
        lorenz=lorenz,
        risk=risk,
        roi_assumptions=roi_assumptions,
        roi_actions={"retention_calls": attempted, "proactive_contacts": contacted, "accepted_offers": accepted},
        roi=programme,
        data_quality=quality,
        unit_cost=unit_cost,
    )
    step(0.95, "Takeaways")
    same_days = ((churn_rate_before, _first(churn_before, "active_start"), cmp.previous_name.split(" ")[0])
                 if has_previous_quarter else None)
    story = replace(story, sections=_sections(story, same_days))
    step(1.0, "Story ready")
    return story


# --- sections: titles, subtitles, definitions -------------------------------------------------

LOGO_CHURN = definition("Logo churn rate")
GROSS_REVENUE_CHURN = definition("Gross revenue churn")
NRR = definition("NRR")
GRR = definition("GRR")
ACTIVE = definition("Active customers", sentences=1)
SAVED = definition("Saved customers")
HISTORICAL_CLV = definition("Historical CLV", sentences=2)
# The glossary states the Pareto share inside a list of functions; quoted here (a unit
# test checks the phrase is still in docs/metrics.md).
PARETO = Definition("Pareto share", "The fraction of total historical CLV held by the top 20% of customers "
                    "(ceil(0.2 × N) customers), most valuable first.")
FUNNEL = definition("Retention funnel", mentioning="reach rate =")
CHURN_PROFILE = definition("Churn profile", "Churn by segment", mentioning="Who", sentences=1)
EXPECTED_LOSS = definition("Expected loss")
TARGETS = definition("Targets", mentioning="compares a quarter")
RETENTION_ROI = definition("Retention ROI")
PROGRAMME_ROI = Definition(
    "Programme ROI", "Retained value = saved customers × value per saved customer; programme cost = "
    "retention actions × cost per action + accepted offers × cost per offer; net benefit = retained value "
    "− programme cost; ROI = net benefit ÷ programme cost (analytics/roi.py). Actions are the retention "
    "calls answering cancellation requests plus proactive outreach contacts.")
DATA_QUALITY = definition("Data quality")


def _sections(story: Story, same_days: tuple[float, float, str] | None) -> tuple[Section, ...]:
    flt = story.filter
    as_of = f"{flt.as_of:%d %b %Y}"
    nobody = story.kpi("active_customers").value == 0 and story.monthly_churn.empty
    kpi_subtitle = (f"{story.comparison_name} against {story.previous_name}, and the {story.quarter} targets"
                    + (" (targets are for the whole business: indicative under a filter)"
                       if flt.segments or flt.regions or flt.plans else ""))
    months = story.monthly_churn
    span = (f"{pd.Timestamp(months['period_start'].iloc[0]):%b %Y} – {pd.Timestamp(months['period_start'].iloc[-1]):%b %Y}"
            if not months.empty else story.period_name)
    rates = story.funnel_summary
    before_name = f" vs {story.previous_period_name}" if story.previous_period_name else ""
    risk = story.risk
    a = story.roi_assumptions
    quality = story.data_quality
    return (
        Section(
            "title", f"Retention review, {story.period_name}",
            f"As of {as_of} · {story.database_name}",
            facts=story.filter_lines,
        ),
        Section(
            "kpis", targets_takeaway(story.targets, story.quarter) if not nobody else NO_MATCH,
            story.targets_error or kpi_subtitle,
            (ACTIVE, LOGO_CHURN, NRR, GRR, SAVED, HISTORICAL_CLV, EXPECTED_LOSS, TARGETS),
            tuple(f"{k.name}: {k.show(k.value)}"
                  + (f", {story.previous_name} {k.show(k.previous)}" if not math.isnan(k.previous) else "")
                  + (f", target {k.show(k.target)}" if not math.isnan(k.target) else "") for k in story.kpis),
        ),
        Section(
            "trend", churn_takeaway(story.quarterly_churn, same_days),
            f"Monthly logo and gross revenue churn (left), net and gross revenue retention (right), {span}",
            (LOGO_CHURN, GROSS_REVENUE_CHURN, NRR, GRR),
            tuple(f"{r.period}: logo churn {fmt.percent(r.churn_rate, 2)} of {fmt.count(r.active_start)}"
                  for r in story.quarterly_churn.itertuples()),
        ),
        Section(
            "funnel", funnel_takeaway(story.funnel_summary, story.previous_funnel_summary),
            f"Cancellation requests {story.period_name} and what became of them{before_name}",
            (FUNNEL, SAVED),
            () if rates.empty else (
                f"Requests {fmt.count(_first(rates, 'requests'))}, reached {fmt.count(_first(rates, 'reached'))}, "
                f"accepted {fmt.count(_first(rates, 'accepted'))}",
                "Kept 90 days after accepting: "
                f"{fmt.percent_of(_first(rates, 'save_rate_90d'), _first(rates, 'accepted_judged_90d'))}",
            ),
        ),
        Section(
            "segments", segments_takeaway(story.segments, story.previous_segments),
            "Share of the customers active at the period start still active at its end, by segment"
            + (f" — this period and {story.previous_period_name}" if story.previous_period_name else ""),
            (LOGO_CHURN, CHURN_PROFILE),
            tuple(f"{fmt.label(r.group)}: {fmt.count(r.churned)} of {fmt.count(r.active_start)} left"
                  for r in story.segments.itertuples()),
        ),
        Section(
            "value", value_takeaway(story.pareto, story.clv_quantiles),
            f"Historical CLV per customer at {as_of}: percentiles (left) and the share of value held by the "
            "most valuable customers (right)",
            (HISTORICAL_CLV, PARETO),
            (f"{fmt.count(story.pareto.customers)} customers, total historical CLV {fmt.money(story.pareto.total_clv)}",),
        ),
        Section(
            "risk", risk_takeaway(risk),
            "Expected loss (churn probability × CLV) of the active customers by segment"
            + (f", and the part held by the riskiest {risk.top_share:.0%}. {risk.message}" if risk.available else ""),
            (EXPECTED_LOSS,),
            (f"{fmt.count(risk.customers)} scored active customers",) if risk.available else (),
            empty_message=risk.message,
        ),
        Section(
            "roi", roi_takeaway(story.roi),
            f"Saved customers × {fmt.money(a.value_per_saved, compact=False)} each, less "
            f"{fmt.money(a.cost_per_action, compact=False)} per retention action and "
            f"{fmt.money(a.cost_per_offer, compact=False)} per accepted offer (assumptions), {story.period_name}",
            (RETENTION_ROI, PROGRAMME_ROI, SAVED),
            (f"{fmt.count(story.roi.saved_customers)} saved customers; "
             f"{fmt.count(story.roi_actions['retention_calls'])} retention calls + "
             f"{fmt.count(story.roi_actions['proactive_contacts'])} proactive contacts; "
             f"{fmt.count(story.roi_actions['accepted_offers'])} accepted offers",),
        ),
        Section(
            "data_quality", data_quality_takeaway(quality),
            f"Records failing each check (all stored records of the selection), priced with the 1-10-100 rule "
            f"at {fmt.money(story.unit_cost, compact=False)} per error prevented",
            (DATA_QUALITY,),
            () if quality.empty else (
                f"Prevent at entry {fmt.money(quality['prevention_cost'].sum())}, correct now "
                f"{fmt.money(quality['correction_cost'].sum())}, after a failure {fmt.money(quality['failure_cost'].sum())}",),
        ),
    )
