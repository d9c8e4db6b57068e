"""The leadership story: every number the deck, the PDF and the presentation page show,
gathered once for a `RetentionFilter` from the analytics module, with each slide's
takeaway title computed from the data and the definitions behind it (docs/metrics.md).

The renderers (`reports.deck`, `reports.pdf`, `reports.figures`) only lay out what is
here: they compute nothing, so the deck, the PDF and the screen cannot disagree.

One story: the headline KPIs, the trend, the targets and the groups that moved are
`analytics.headlines.headline_kpis` — the very object the Overview renders (quarter to
date against the same days of the quarter before) — and every takeaway title comes from
`analytics.takeaways`, the rules the dashboard's charts use. The funnel, value and ROI
slides are over the filter's period; the funnel is compared with the equally long period
before it when the data reaches back that far.

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

from analytics import formatting as fmt
from analytics import metrics, periods, roi
from analytics.at_risk import RiskSummary
from analytics.catalog import history_start as data_history_start
from analytics.dates import add_months, quarter_start
from analytics.db import Database
from analytics.filters import RetentionFilter
from analytics.headlines import Headlines, Kpi, headline_kpis
from analytics.roi import DEFAULT_COST_PER_ACTION, DEFAULT_COST_PER_OFFER
from analytics.takeaways import (NO_MATCH, data_quality_takeaway, funnel_takeaway, risk_takeaway,
                                 roi_takeaway, segments_takeaway, value_takeaway)
from reports.definitions import Definition, definition

TREND_QUARTERS = 4
CLV_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
PARETO_TOP_SHARE = 0.2
LORENZ_POINTS = 101

# The ROI page's default assumptions (pages/retention_roi.py), so both show one ROI.
DEFAULT_UNIT_COST = 1.0  # data quality: the "1" of the 1-10-100 rule

SLIDE_KEYS = ("title", "kpis", "trend", "funnel", "segments", "value", "risk", "roi", "data_quality")
# What each slide is about, for picking slides before the takeaways are computed
SLIDE_NAMES = {
    "title": "Title and summary",
    "kpis": "Headline KPIs against targets",
    "trend": "Churn and revenue retention each month",
    "funnel": "Cancellation requests and saves",
    "segments": "Retention by segment",
    "value": "Customer value",
    "risk": "Margin at risk",
    "roi": "Retention programme ROI",
    "data_quality": "Data quality",
}
COMMENTARY_CHARS = 200  # one line on a slide

Progress = Callable[[float, str], None]


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
    commentary: str = ""  # the presenter's own line for this slide (`tailor`)


@dataclass(frozen=True)
class RoiAssumptions:
    """The programme's unit costs (user assumptions, as on the ROI page). A None
    `value_per_saved` means the ROI page's default: the future value a saved customer
    keeps (analytics.metrics.saved_customer_value), rounded to 10."""

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
    filter_words: str  # the selection in words: "All customers", "Enterprise, Tel Aviv"
    quarter: str
    comparison_name: str
    previous_name: str
    previous_period_name: str | None  # the equally long period before, when in the data
    headlines: Headlines  # the Overview's KPIs, trend, targets and movers (one assembly)
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

    @property
    def kpis(self) -> tuple[Kpi, ...]:
        return self.headlines.kpis

    def kpi(self, key: str) -> Kpi:
        return self.headlines.kpi(key)

    @property
    def targets(self) -> pd.DataFrame:
        return self.headlines.targets

    @property
    def targets_error(self) -> str | None:
        return self.headlines.targets_error

    @property
    def monthly_churn(self) -> pd.DataFrame:
        return self.headlines.monthly_churn

    @property
    def monthly_revenue(self) -> pd.DataFrame:
        return self.headlines.monthly_revenue


# --- gathering ------------------------------------------------------------------------------

def _median(quantiles: pd.DataFrame) -> float:
    median = quantiles.loc[np.isclose(quantiles["quantile"], 0.5), "clv"]
    return float(median.iloc[0]) if len(median) else math.nan


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


def filter_words(flt: RetentionFilter) -> str:
    """The selection as a reader says it: "All customers" when nothing is filtered, else
    the chosen values, one dimension after another ("Enterprise, Tel Aviv"); values of one
    dimension are alternatives ("Consumer or Small business"); a custom attribute is named
    ("Payment method Card"); contact channels, which only narrow the funnel and contact
    counts (decision 003), come last ("contacts by Phone")."""
    def either(values) -> str:
        return " or ".join(fmt.label(v) for v in values)

    parts = [either(values) for values in (flt.segments, flt.regions, flt.plans) if values]
    parts += [f"{fmt.label(name)} {either(values)}" for name, values in flt.attributes]
    population = ", ".join(parts) or "All customers"
    return population + (f", contacts by {either(flt.channels)}" if flt.channels else "")


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
    history_start = data_history_start(db)
    before = periods.filter_period(flt).previous
    has_before = before.start >= history_start

    step(0.05, "Headline KPIs, trend and targets")
    board = headline_kpis(db, flt, periods.QUARTER_TO_DATE)
    cmp = board.comparison
    first_quarter = add_months(quarter_start(flt.as_of), -3 * (TREND_QUARTERS - 1))
    quarterly = metrics.churn_by_period(db, flt.with_period(max(first_quarter, history_start), flt.as_of), "quarter")
    if board.churn_dates_note:  # a single snapshot: no churn per quarter (analytics.headlines)
        quarterly = quarterly.iloc[0:0]

    step(0.4, "Retention funnel")
    funnel = metrics.retention_funnel(db, flt)
    funnel_summary = metrics.retention_funnel_summary(db, flt)
    previous_funnel = metrics.retention_funnel_summary(db, before) if has_before else funnel_summary.iloc[0:0]

    step(0.55, "Customer value")
    quantiles = metrics.clv_quantiles(db, flt, CLV_QUANTILES)
    pareto_now = metrics.clv_pareto(db, flt, PARETO_TOP_SHARE)
    lorenz = metrics.clv_pareto_curve(db, flt, LORENZ_POINTS - 1)

    step(0.7, "Margin at risk and ROI")
    if roi_assumptions.value_per_saved is None:  # the ROI page's default, from the same function
        roi_assumptions = replace(roi_assumptions, value_per_saved=metrics.saved_customer_value(db, flt).value)
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

    story = Story(
        filter=flt,
        database_name=db.path.name,
        history_start=history_start,
        period_name=periods.span_name(flt.start, flt.end),
        filter_lines=_filter_lines(flt),
        filter_words=filter_words(flt),
        quarter=board.quarter,
        comparison_name=cmp.name,
        previous_name=cmp.previous_name,
        previous_period_name=periods.span_name(before.start, before.end) if has_before else None,
        headlines=board,
        quarterly_churn=quarterly,
        funnel=funnel,
        funnel_summary=funnel_summary,
        previous_funnel_summary=previous_funnel,
        segments=board.segments_now,
        previous_segments=board.segments_before,
        clv_quantiles=quantiles,
        pareto=pareto_now,
        lorenz=lorenz,
        risk=board.risk,
        roi_assumptions=roi_assumptions,
        roi_actions={"retention_calls": attempted, "proactive_contacts": contacted, "accepted_offers": accepted},
        roi=programme,
        data_quality=quality,
        unit_cost=unit_cost,
    )
    step(0.95, "Takeaways")
    story = replace(story, sections=_sections(story))
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


def _sections(story: Story) -> tuple[Section, ...]:
    flt = story.filter
    board = story.headlines
    as_of = f"{flt.as_of:%d %b %Y}"
    nobody = story.kpi("active_customers").value == 0 and story.monthly_churn.empty
    kpi_subtitle = (f"{story.comparison_name} against {story.previous_name}, and the {story.quarter} targets"
                    + (f" — {board.targets_note}" if board.targets_note else ""))
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
            f"As of {as_of} · {story.filter_words}",  # no file name: the audience reads this
            facts=story.filter_lines,
        ),
        Section(
            "kpis", board.targets_takeaway if not nobody else NO_MATCH,
            story.targets_error or kpi_subtitle,
            (ACTIVE, LOGO_CHURN, NRR, GRR, SAVED, HISTORICAL_CLV, EXPECTED_LOSS, TARGETS),
            tuple(f"{k.name}: {k.show(k.value)}"
                  + (f" ({k.n_note})" if k.n_note else "")
                  + (f", {k.previous_window} {k.show(k.previous)}" if not math.isnan(k.previous) else "")
                  + (f", target {k.show(k.target)}" if not math.isnan(k.target) else "")
                  + (f"; {k.trend_words} ({k.trend_name})" if k.trend_name and k.reliable else "")
                  for k in story.kpis if not k.unavailable),
        ),
        Section(
            "trend", board.churn_trend_takeaway,
            f"Monthly logo and gross revenue churn (left), net and gross revenue retention (right), {span}",
            (LOGO_CHURN, GROSS_REVENUE_CHURN, NRR, GRR),
            tuple(f"{r.period}: logo churn {fmt.percent(r.churn_rate, 2)} of {fmt.count(r.active_start)}"
                  for r in story.quarterly_churn.itertuples()),
            empty_message=board.churn_dates_note or Section.empty_message,
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
            "segments", board.churn_dates_note or segments_takeaway(story.segments, board.movers),
            f"Share of the customers active at the start of {story.comparison_name} still active at its end, "
            "by segment" + (f" — and over {story.previous_name}" if board.has_previous else ""),
            (LOGO_CHURN, CHURN_PROFILE),
            tuple(f"{fmt.label(r.group)}: {fmt.count(r.churned)} of {fmt.count(r.active_start)} left"
                  for r in story.segments.itertuples()),
            empty_message=board.churn_dates_note or Section.empty_message,
        ),
        Section(
            "value", value_takeaway(story.pareto, _median(story.clv_quantiles)),
            f"Historical CLV per customer at {as_of}: percentiles (left) and the share of value held by the "
            "most valuable customers (right)",
            (HISTORICAL_CLV, PARETO),
            (f"{fmt.count(story.pareto.customers)} customers, total historical CLV {fmt.money(story.pareto.total_clv)}",),
        ),
        Section(
            "risk", risk_takeaway(risk),
            "Expected loss (churn probability × the margin still to come) of the active customers by segment"
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


# --- the presenter's cut ----------------------------------------------------------------------

def tailor(story: Story, keys: tuple[str, ...] | list[str] | None = None,
           commentary: dict[str, str] | None = None) -> Story:
    """The story with only the slides `keys` (in the story's order; None = all) and the
    presenter's `commentary` line per slide key. The title slide always stays (it says
    what the numbers cover); unknown keys raise a ValueError. A commentary is one line:
    whitespace and line breaks collapse, and it is cut at COMMENTARY_CHARS."""
    chosen = set(SLIDE_KEYS if keys is None else keys) | {"title"}
    unknown = chosen - set(SLIDE_KEYS)
    if unknown:
        raise ValueError(f"unknown slide(s) {', '.join(sorted(unknown))}; choose from {', '.join(SLIDE_KEYS)}")
    notes = {k: " ".join(str(v).split())[:COMMENTARY_CHARS] for k, v in (commentary or {}).items()}
    sections = tuple(replace(s, commentary=notes.get(s.key, s.commentary))
                     for s in story.sections if s.key in chosen)
    return replace(story, sections=sections)


def speaker_notes(story: Story, section: Section) -> str:
    """What the presenter reads and the audience does not see (the deck's notes and the
    presenter view): the presenter's own line, the definitions of the metrics on the
    slide, the numbers behind the title, and what the numbers cover."""
    lines = [section.title, ""]
    if section.commentary:
        lines += [f"Your line: {section.commentary}", ""]
    if section.definitions:
        lines.append("What the numbers mean:")
        lines += [f"• {d.name}: {d.text}" for d in section.definitions]
        lines.append("")
    if section.facts:
        lines.append("The numbers behind the title:")
        lines += [f"• {fact}" for fact in section.facts]
        lines.append("")
    lines.append(f"Period {story.period_name}, as of {story.as_of:%d %b %Y}; " + "; ".join(story.filter_lines) + ".")
    lines.append(f"Source: Retention Radar, {story.database_name}. Definitions: docs/metrics.md.")
    return "\n".join(lines)
