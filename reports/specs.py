"""What each slide plots, decided once for every medium.

`slide_charts(story, key)` turns a story section into chart specifications — kind,
categories, series values, colours, number format — and `kpi_rows(story)` into the KPI
table. The deck (python-pptx), the PDF (matplotlib) and the presentation page (plotly)
only draw these, so the three show the same series with the same numbers and colours.
Colours are the dashboard's (`charts.theme`): red for churn and losses, blue for
retention and value, one fixed colour per segment and per data-quality dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analytics import formatting as fmt
from charts.theme import BAD, DQ_DIMENSION_COLOURS, GOOD, NEUTRAL, SECOND, TEXT_COLOUR, colour
from reports.story import Story

REVENUE_CHURN = "#CC79A7"  # gross revenue churn, as on the Overview's churn trend
KEPT = "#009E73"           # retained / net benefit
TOP_RISK = "#E69F00"       # the riskiest customers' part
MUTED = "#5F6368"

# value formats: Excel number formats for the deck's data sheet, Python formats elsewhere
NUMBER_FORMATS = {
    "percent2": '0.00%',
    "percent1": '0.0%',
    "percent0": '0%',
    "count": '#,##0',
    "money": '"{symbol}"#,##0',
}


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    colour: str
    point_colours: tuple[str, ...] | None = None  # one per category (bars)
    dashed: bool = False


@dataclass(frozen=True)
class ChartSpec:
    """One chart. `kind`: "line" (categories left to right), "column", "bar" (horizontal,
    first category on top) or "xy" (numeric x shared by the series: `x_values`)."""

    key: str
    kind: str
    heading: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    value_format: str
    value_range: tuple[float | None, float | None] = (None, None)
    data_labels: bool = False
    x_values: tuple[float, ...] = ()
    x_format: str = "percent0"
    x_title: str = ""
    y_title: str = ""
    legend: bool = True


def number_format(kind: str) -> str:
    return NUMBER_FORMATS[kind].replace("{symbol}", fmt.currency_symbol())


def show(value: float | None, kind: str) -> str:
    """A value as the chart labels show it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind.startswith("percent"):
        return fmt.percent(value, int(kind[-1]))
    if kind == "money":
        return fmt.money(value)
    return fmt.count(value)


def _values(series: pd.Series) -> tuple[float | None, ...]:
    """Floats, with None where missing (a gap in the chart, never 'nan' in the file)."""
    return tuple(None if pd.isna(v) else float(v) for v in series)


def _month_label(ts) -> str:
    return f"{pd.Timestamp(ts):%b %Y}"


# --- per slide ------------------------------------------------------------------------------

def _trend(story: Story) -> list[ChartSpec]:
    if story.headlines.churn_dates_note:  # a single snapshot: the slide says so instead
        return []
    churn, revenue = story.monthly_churn, story.monthly_revenue
    months = [_month_label(m) for m in churn["period_start"]]
    by_month = {_month_label(m): r for m, r in zip(revenue["first_month"], revenue.itertuples())} if not revenue.empty else {}

    def revenue_values(column: str) -> tuple[float | None, ...]:
        return tuple(None if m not in by_month or pd.isna(getattr(by_month[m], column))
                     else float(getattr(by_month[m], column)) for m in months)

    churn_series = [Series("Logo churn", _values(churn["churn_rate"]), BAD)]
    if by_month:
        churn_series.append(Series("Gross revenue churn", revenue_values("gross_revenue_churn"), REVENUE_CHURN,
                                   dashed=True))
    charts = [ChartSpec("churn_trend", "line", "Churn each month", tuple(months), tuple(churn_series), "percent1",
                        value_range=(0.0, None))]
    if by_month:
        charts.append(ChartSpec(
            "retention_trend", "line", "Revenue retention each month", tuple(months),
            (Series("NRR", revenue_values("nrr"), GOOD), Series("GRR", revenue_values("grr"), SECOND, dashed=True)),
            "percent1"))
    return charts


def _funnel(story: Story) -> list[ChartSpec]:
    f = story.funnel
    if f.empty:
        return []
    last = len(f) - 1
    return [ChartSpec(
        "funnel", "bar", "From cancellation request to retained", tuple(fmt.label(s) for s in f["step"]),
        (Series("Requests", _values(f["count"]), GOOD,
                point_colours=tuple(KEPT if i == last else GOOD for i in range(len(f)))),),
        "count", value_range=(0.0, None), data_labels=True, legend=False)]


def _segments(story: Story) -> list[ChartSpec]:
    seg = story.segments.dropna(subset=["retention_rate"])
    if seg.empty:
        return []
    groups = list(seg["group"])
    prev = story.previous_segments
    # one series: each segment in its dashboard colour; with the period before, one colour
    # per period so the legend reads true
    series = [Series(story.comparison_name, _values(seg["retention_rate"]), GOOD,
                     point_colours=None if not prev.empty else tuple(colour("segment", g) for g in groups))]
    if not prev.empty:
        before = dict(zip(prev["group"], prev["retention_rate"]))
        series.append(Series(story.previous_name, tuple(None if pd.isna(before.get(g, math.nan)) else float(before[g])
                                                    for g in groups), NEUTRAL))
    return [ChartSpec("segments", "column", f"Retention over {story.comparison_name} by segment",
                      tuple(fmt.label(g) for g in groups), tuple(series), "percent1", value_range=(0.0, 1.0),
                      data_labels=True, legend=len(series) > 1)]


QUANTILE_NAMES = {0.1: "P10", 0.25: "P25", 0.5: "Median", 0.75: "P75", 0.9: "P90", 0.95: "P95", 0.99: "P99"}


def _value(story: Story) -> list[ChartSpec]:
    q = story.clv_quantiles
    charts = []
    if not q.empty:
        charts.append(ChartSpec(
            "clv_distribution", "column", "Historical CLV per customer (percentiles)",
            tuple(QUANTILE_NAMES.get(round(v, 3), f"P{v * 100:g}") for v in q["quantile"]),
            (Series("Historical CLV", _values(q["clv"]), GOOD),), "money", value_range=(0.0, None),
            data_labels=True, legend=False))
    lorenz = story.lorenz.dropna()
    if not lorenz.empty:
        charts.append(ChartSpec(
            "pareto", "xy", "Cumulative share of historical CLV", (),
            (Series("Cumulative share of value", _values(lorenz["value_share"]), GOOD),
             Series("Equal value", _values(lorenz["customer_share"]), NEUTRAL, dashed=True)),
            "percent0", value_range=(0.0, 1.0), x_values=tuple(float(v) for v in lorenz["customer_share"]),
            x_title="Customers, most valuable first", y_title="Share of historical CLV"))
    return charts


def _risk(story: Story) -> list[ChartSpec]:
    risk = story.risk
    if not risk.available or risk.by_segment.empty:
        return []
    d = risk.by_segment
    return [ChartSpec(
        "margin_at_risk", "bar", "Expected loss by segment", tuple(fmt.label(s) for s in d["segment"]),
        (Series("Expected loss", _values(d["expected_loss"]), BAD),
         Series(f"Riskiest {risk.top_share:.0%} of customers", _values(d["top_expected_loss"]), TOP_RISK)),
        "money", value_range=(0.0, None), data_labels=True)]


def _roi(story: Story) -> list[ChartSpec]:
    r = story.roi
    action_cost, offer_cost = r.actions * r.cost_per_action, r.offers * r.cost_per_offer
    return [ChartSpec(
        "roi", "column", "Value kept against the programme's cost",
        ("Value kept", "Retention actions", "Accepted offers", "Net benefit"),
        (Series("Amount", (r.retained_value, action_cost, offer_cost, r.net_benefit), GOOD,
                point_colours=(GOOD, BAD, BAD, KEPT if r.net_benefit >= 0 else BAD)),),
        "money", data_labels=True, legend=False)]


def _data_quality(story: Story) -> list[ChartSpec]:
    d = story.data_quality
    d = d[d["failing"] > 0].sort_values(["failing", "check"], ascending=[False, True])
    if d.empty:
        return []
    return [ChartSpec(
        "data_quality", "bar", "Failing records by check", tuple(fmt.label(c) for c in d["check"]),
        (Series("Failing records", _values(d["failing"]), NEUTRAL,
                point_colours=tuple(DQ_DIMENSION_COLOURS.get(dim, NEUTRAL) for dim in d["dimension"])),),
        "count", value_range=(0.0, None), data_labels=True, legend=False)]


BUILDERS = {"trend": _trend, "funnel": _funnel, "segments": _segments, "value": _value, "risk": _risk,
            "roi": _roi, "data_quality": _data_quality}


def slide_charts(story: Story, key: str) -> list[ChartSpec]:
    """The charts of the slide `key` (none for the title and KPI slides, or when there
    is nothing to plot — the slide then says why in its subtitle)."""
    builder = BUILDERS.get(key)
    specs = builder(story) if builder else []
    return [spec for spec in specs if _has_data(spec)]


def _has_data(spec: ChartSpec) -> bool:
    points = spec.x_values if spec.kind == "xy" else spec.categories
    return bool(points) and any(v is not None for s in spec.series for v in s.values)


# --- the KPI table --------------------------------------------------------------------------

def kpi_header(story: Story) -> tuple[str, ...]:
    """Column names of the KPI table: the windows compared, and the quarter's target."""
    return ("KPI", story.comparison_name, story.previous_name, "Change", f"{story.quarter} target", "Status")


def kpi_rows(story: Story) -> list[tuple[str, ...]]:
    """One row per KPI: name, value (with its n when a rate rests on too few customers),
    previous, change, target, status ('Met', 'Missed' or '' without a target; 'Not computed
    yet' for a KPI whose data is missing, e.g. margin at risk without scores)."""
    rows = []
    for k in story.kpis:
        status = {True: "Met", False: "Missed", None: ""}[k.met]
        if k.unavailable:
            # scores are computed by a command; missing data is the file's: say which it is
            status = "Not computed yet" if k.key == "margin_at_risk" else k.needs.rstrip(".")
        value = k.show(k.value) + ("" if k.reliable else f" (n = {fmt.count(k.n)}, too few)")
        previous = k.show(k.previous)
        same_window = (story.previous_name, f"{story.headlines.comparison.previous.end:%d %b %Y}")
        if previous != "—" and k.previous_window and k.previous_window not in same_window:
            previous += f" ({k.previous_window})"  # e.g. the previous month-end scoring
        rows.append((k.name, value, previous, k.show_change(),
                     "" if math.isnan(k.target) else k.show(k.target), status))
    return rows


def status_colour(status: str) -> str:
    return {"Met": GOOD, "Missed": BAD}.get(status, TEXT_COLOUR)
