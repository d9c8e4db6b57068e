"""Plotly chart builders: a metric frame in, a `go.Figure` out. No Streamlit here.

Conventions every builder follows:
- The title states the takeaway, computed from the data ("Reach rate 37% — above the
  20–30% baseline"); the subtitle says what is plotted.
- One fixed colour per value of a dimension (segment, plan, channel, …) on every page,
  from `colour()`; rates red when bad, blue when good.
- Fonts sized for a projector; numbers through `analytics.formatting`; raw values
  through `formatting.label`.
- Empty input is the caller's business (pages show an st.info instead of a chart).
"""

from __future__ import annotations

import math
import zlib
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from analytics.schema import (
    ACQUISITION_CHANNELS,
    CHANNELS,
    CHURN_REASONS,
    CONTRACT_TYPES,
    PLANS,
    REGIONS,
    SEGMENTS,
)
from analytics import formatting as fmt

# --- look ---------------------------------------------------------------------------------

FONT_FAMILY = "Source Sans Pro, Helvetica, Arial, sans-serif"
FONT_SIZE = 15
TITLE_SIZE = 20
TEXT_COLOUR = "#262730"
GRID_COLOUR = "#E6E6E6"
MUTED = "#8C8C8C"

# Okabe–Ito (colour-blind safe), without its yellow (unreadable on a projector), then
# two extra dark hues for dimensions with many values.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C564B",
    "#332288", "#117733", "#AA4499",
)
BAD = "#D55E00"       # churn, losses, misses
GOOD = "#0072B2"      # retention, value, hits
SECOND = "#56B4E9"    # a second "good" series (GRR next to NRR)
NEUTRAL = "#7F7F7F"   # targets, baselines, "before"

# The order of each dimension's values fixes their colours, whatever the filter shows.
DIMENSION_VALUES: dict[str, Sequence[str]] = {
    "segment": SEGMENTS,
    "region": REGIONS,
    "plan": PLANS,
    "contract_type": CONTRACT_TYPES,
    "acquisition_channel": ACQUISITION_CHANNELS,
    "channel": CHANNELS,
    "reason": CHURN_REASONS + ("unknown",),
    "loyalty_member": ("true", "false"),
}
TIER_COLOURS = {"platinum": "#4B5D73", "gold": "#C9A227", "silver": "#A3A8AE", "bronze": "#B87333"}
MISSING_VALUES = {"(missing)", "(none)", "(no attempt)", "unknown", "all"}

# Reference values the brief quotes (shown as reference lines, never used in a metric).
from analytics.takeaways import (  # noqa: E402  (one rule for page and deck)
    MIN_N, REACH_BASELINE, enough, note_signals_takeaway, rate_change_is_clear, reach_verdict,
    satisfaction_takeaway, too_few)
FCR_EXPECTATION = 0.86         # 86% expect their issue solved on the first contact

# The house look lives in one plotly template (plotly_white + our fonts, title block,
# legend, grid), made the default once. Setting these on each figure cost ~10 ms a chart —
# plotly validates every property and deep-copies a named template on each assignment — a
# tenth of a page's render; a template is applied by plotly.js in the browser instead.
# `_base` sets only what differs per chart (title, subtitle, height, top margin, legend).
def _house_template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    axis = dict(gridcolor=GRID_COLOUR, automargin=True, title_font_size=FONT_SIZE)
    template.layout.update(
        font=dict(family=FONT_FAMILY, size=FONT_SIZE, color=TEXT_COLOUR),
        title=dict(
            font=dict(size=TITLE_SIZE),
            subtitle=dict(font=dict(size=FONT_SIZE - 1, color=MUTED)),
            x=0, xanchor="left", xref="container", y=1, yanchor="top", yref="container",
            pad=dict(t=14, l=4),
        ),
        margin=dict(l=10, r=20, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title_text=""),
        hoverlabel=dict(font_size=FONT_SIZE),
        separators=".,",
        xaxis=axis,
        yaxis=axis,
    )
    # plotly shrinks bar labels to the bar's width; keep them readable
    for bar in template.data.bar:
        bar.constraintext = "none"
    return template


pio.templates["retention_radar"] = _house_template()
pio.templates.default = "retention_radar"

PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def colour(dimension: str, value) -> str:
    """The fixed colour of `value` of `dimension` (e.g. segment 'enterprise')."""
    text = str(value).lower()
    if dimension == "value_tier" and text in TIER_COLOURS:
        return TIER_COLOURS[text]
    if text in MISSING_VALUES:
        return NEUTRAL
    known = DIMENSION_VALUES.get(dimension, ())
    if text in known:
        return PALETTE[list(known).index(text) % len(PALETTE)]
    # agents, account owners, imported values: stable across runs and pages
    return PALETTE[zlib.crc32(text.encode()) % len(PALETTE)]


def _wrap(text: str, width: int) -> str:
    """Break a title into lines of at most `width` characters (plotly does not wrap)."""
    import textwrap

    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False)) if text else text


def _top_margin(title: str, subtitle: str) -> int:
    lines = title.count("<br>") + 1
    sub_lines = subtitle.count("<br>") + 1 if subtitle else 0
    return 46 + 28 * lines + 22 * sub_lines


def _base(fig: go.Figure, title: str, subtitle: str = "", height: int = 420, legend: bool = True,
          wrap: int = 46) -> go.Figure:
    """Shared layout. `height` is the plot area plus axes; the title block is added on
    top. `wrap` ≈ characters per title line (46 fits a half-width chart on a 1400-px
    screen); `fit_title` re-wraps for the width the page gives the chart."""
    title = _wrap(title, wrap)
    subtitle = _wrap(subtitle, int(wrap * 1.3))
    top = _top_margin(title, subtitle)
    # everything else (fonts, title position, legend, grid) comes from the house template
    fig.update_layout(height=height + top - 70, title_text=title, title_subtitle_text=subtitle,
                      margin_t=top, showlegend=legend)
    return fig


TITLE_CHARS = {"full": 95, "wide": 56, "half": 44, "narrow": 34}


def fit_title(fig: go.Figure, width: str) -> go.Figure:
    """Re-wrap the title and subtitle for a chart drawn `width` wide ("full", "wide" = 3/5,
    "half", "narrow" = 2/5), keeping the plot area's height."""
    chars = TITLE_CHARS[width]
    old_top = fig.layout.margin.t or 0
    title = _wrap((fig.layout.title.text or "").replace("<br>", " "), chars)
    subtitle = _wrap((fig.layout.title.subtitle.text or "").replace("<br>", " "), int(chars * 1.3))
    top = _top_margin(title, subtitle)
    fig.update_layout(title_text=title, title_subtitle_text=subtitle, margin_t=top,
                      height=(fig.layout.height or 450) + top - old_top)
    return fig


def _money_axis(fig: go.Figure, axis: str = "y", **where) -> None:
    # "~s" writes 0.8 as "800m" (milli); below a thousand plain numbers read right
    values = [abs(float(v)) for trace in fig.data
              for v in (() if getattr(trace, axis, None) is None else getattr(trace, axis))
              if isinstance(v, (int, float, np.number)) and not pd.isna(v)]
    small = bool(values) and max(values) < 1_000
    kwargs = dict(tickprefix=fmt.currency_symbol(), tickformat=",.2~f" if small else "~s")
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**kwargs, **where)


def _full(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of whole periods (a clipped first or last period would mislead a takeaway)."""
    return df[~df["partial"]] if "partial" in df.columns and (~df["partial"]).any() else df


def _direction(first: float, last: float, tolerance: float) -> str:
    if last > first + tolerance:
        return "rose"
    if last < first - tolerance:
        return "fell"
    return "held steady"


# --- Overview -----------------------------------------------------------------------------

def churn_trend(churn: pd.DataFrame, revenue: pd.DataFrame, title: str) -> go.Figure:
    """Monthly logo churn (`churn_by_period`) and gross revenue churn
    (`revenue_retention`, freq month) as two lines, under `title`
    (`analytics.takeaways.churn_trend_takeaway`)."""
    fig = go.Figure()
    fig.add_scatter(
        x=churn["period_start"], y=churn["churn_rate"], name="Logo churn", mode="lines+markers",
        line=dict(color=BAD, width=3),
        hovertemplate="%{x|%b %Y}: %{y:.2%} of customers<extra>Logo churn</extra>",
    )
    if not revenue.empty:
        fig.add_scatter(
            x=revenue["first_month"], y=revenue["gross_revenue_churn"], name="Gross revenue churn",
            mode="lines+markers", line=dict(color="#CC79A7", width=3, dash="dot"),
            hovertemplate="%{x|%b %Y}: %{y:.2%} of MRR<extra>Gross revenue churn</extra>",
        )
    _base(fig, title, "Share of customers (solid) and of MRR (dotted) lost each month")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero", title_text="")
    fig.update_xaxes(title_text="")
    return fig


def revenue_retention_trend(revenue: pd.DataFrame, title: str) -> go.Figure:
    """Monthly NRR and GRR (`revenue_retention`, freq month) with the 100% line, under
    `title` (`analytics.takeaways.revenue_retention_takeaway`)."""
    fig = go.Figure()
    fig.add_scatter(
        x=revenue["first_month"], y=revenue["nrr"], name="NRR", mode="lines+markers",
        line=dict(color=GOOD, width=3), hovertemplate="%{x|%b %Y}: %{y:.1%}<extra>NRR</extra>",
    )
    fig.add_scatter(
        x=revenue["first_month"], y=revenue["grr"], name="GRR", mode="lines+markers",
        line=dict(color=SECOND, width=3, dash="dot"), hovertemplate="%{x|%b %Y}: %{y:.1%}<extra>GRR</extra>",
    )
    fig.add_hline(y=1.0, line=dict(color=NEUTRAL, dash="dash", width=1))
    _base(fig, title, "Monthly net (with expansion) and gross revenue retention of the starting book")
    fig.update_yaxes(tickformat=".1%", title_text="")
    return fig


def targets_chart(comparison: pd.DataFrame, title: str) -> go.Figure:
    """The quarter's targets against actuals (`targets_vs_actuals`) on one scale: the bar
    is the actual as a share of its target (target ÷ actual for churn, where lower is
    better), so 100% means on target; blue met, red missed; labels give the raw values."""
    rows = comparison.dropna(subset=["actual", "target"]).iloc[::-1]
    names, lengths, texts, colours = [], [], [], []
    for r in rows.itertuples():
        show = fmt.count if r.metric == "saved_customers" else (lambda v: fmt.percent(v, 2))
        names.append({"churn_rate": "Logo churn", "retention_rate": "Retention"}.get(r.metric, fmt.label(r.metric)))
        if r.higher_is_better:
            lengths.append(r.actual / r.target if r.target else float("nan"))
        else:
            lengths.append(r.target / r.actual if r.actual else float("nan"))
        texts.append(f"{show(r.actual)} vs target {show(r.target)}")
        colours.append(NEUTRAL if pd.isna(r.met) else (GOOD if bool(r.met) else BAD))
    fig = go.Figure(go.Bar(
        x=lengths, y=names, orientation="h", marker_color=colours, text=texts,
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    fig.add_vline(x=1.0, line=dict(color=TEXT_COLOUR, width=2), annotation_text="target",
                  annotation_position="top")
    _base(fig, title, "Actual as a share of target (for churn: target ÷ actual); 100% = on target",
          height=110 + 56 * max(len(rows), 1), legend=False)
    finite = [v for v in lengths if not pd.isna(v)] or [1.0]
    low = 0.0  # bars of a rate start at zero: a cut axis exaggerates a miss or a win
    high = max(max(finite), 1.0)
    # room right of the longest bar for its "actual vs target" label
    fig.update_xaxes(tickformat=".0%", range=[low, high * 1.5], tickvals=[0, 0.25, 0.5, 0.75, 1.0])
    return fig


def movers_chart(movers: pd.DataFrame, title: str) -> go.Figure:
    """Groups whose churn rate changed most (`analytics.takeaways.churn_movers`): change in
    points, red for more churn, blue for less, faded when the change is within noise;
    under `title` (`analytics.takeaways.movers_takeaway`)."""
    m = movers.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=m["change"], y=m["group_label"], orientation="h",
        marker_color=[BAD if v > 0 else GOOD for v in m["change"]],
        marker_opacity=[1.0 if clear else 0.35 for clear in m["clear"]],
        text=[f"{fmt.points(v)}  ({fmt.percent(p)} → {fmt.percent(c)})"
              for v, p, c in zip(m["change"], m["previous_rate"], m["current_rate"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    _base(fig, title, "Change in logo churn rate against the previous period, by group",
          height=max(300, 110 + 38 * len(m)), legend=False)
    high = float(m["change"].max()) if len(m) else 0.01
    low = float(m["change"].min()) if len(m) else -0.01
    span = max(abs(high), abs(low), 0.001)
    # room for the outside labels on whichever side the bars grow
    fig.update_xaxes(tickformat="+.1%", zeroline=True, zerolinecolor=TEXT_COLOUR,
                     range=[min(low, 0) * 2.6 - span * 0.1, max(high, 0) * 2.6 + span * 0.1])
    return fig


# --- Churn funnel -------------------------------------------------------------------------

def funnel_chart(funnel: pd.DataFrame, title: str | None = None, subtitle: str = "") -> go.Figure:
    """A funnel from `retention_funnel` / `proactive_funnel`: each step's count with its
    conversion from the step before."""
    texts = []
    for i, r in enumerate(funnel.itertuples()):
        if i == 0:
            texts.append(fmt.count(r.count))
        elif r.step == "retained 90 days":
            texts.append(f"{fmt.count(r.count)} · {fmt.percent(r.conversion, 0)}*")
        else:
            texts.append(f"{fmt.count(r.count)} · {fmt.percent(r.conversion, 0)}")
    fig = go.Figure(go.Funnel(
        y=[fmt.label(s) for s in funnel["step"]], x=funnel["count"], text=texts,
        textinfo="text", textposition="auto", insidetextfont=dict(color="white", size=FONT_SIZE),
        outsidetextfont=dict(color=TEXT_COLOUR, size=FONT_SIZE), constraintext="none",
        marker=dict(color=[GOOD] * (len(funnel) - 1) + ["#009E73"]),
        connector=dict(line=dict(color=GRID_COLOUR)),
        hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    if title is None:
        reached = funnel.loc[funnel["step"] == "reached", "share_of_start"]
        started = float(funnel["count"].iloc[0]) if len(funnel) else 0.0
        if len(reached) and not pd.isna(reached.iloc[0]) and not enough(started):
            title = (f"Reach rate {fmt.percent(float(reached.iloc[0]), 0)} of {fmt.count(started)} — "
                     f"fewer than {MIN_N}, too few to read")
        elif len(reached) and not pd.isna(reached.iloc[0]):
            rate = float(reached.iloc[0])
            title = (f"Reach rate {fmt.percent(rate, 0)} — {reach_verdict(rate)} the "
                     f"{REACH_BASELINE[0]:.0%}–{REACH_BASELINE[1]:.0%} baseline")
        else:
            title = "Retention funnel"
    subtitle = (subtitle + " · " if subtitle else "") + "% = of the step before (*of those at least 90 days old)"
    _base(fig, title, subtitle, height=440, legend=False)
    fig.update_yaxes(gridcolor="rgba(0,0,0,0)")
    return fig


def reach_gauge(reach_rate: float, requests: float | None = None) -> go.Figure:
    """The reach rate on a dial with the brief's 20–30% baseline shaded; greyed with no
    verdict when fewer than `MIN_N` requests are behind it."""
    low, high = REACH_BASELINE
    small = requests is not None and not enough(requests)
    top = max(0.6, math.ceil((reach_rate + 0.1) * 10) / 10)
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=reach_rate * 100,
        number=dict(suffix="%", valueformat=".0f", font=dict(size=44)),
        gauge=dict(
            axis=dict(range=[0, top * 100], ticksuffix="%", tickfont=dict(size=FONT_SIZE - 2)),
            bar=dict(color=NEUTRAL if small else GOOD if reach_rate >= low else BAD, thickness=0.35),
            steps=[dict(range=[low * 100, high * 100], color="#E3E3E3")],
            threshold=dict(line=dict(color=TEXT_COLOUR, width=3), thickness=0.8, value=high * 100),
        ),
    ))
    _base(fig, f"{fmt.count(requests)} requests: too few to judge" if small
          else f"{reach_verdict(reach_rate).capitalize()} the baseline",
          f"Grey band: the {low:.0%}–{high:.0%} reached before the case-study project", height=300,
          legend=False)
    fig.update_layout(margin=dict(l=40, r=50, b=10))
    return fig


def rate_by_group(summary: pd.DataFrame, dimension: str, rate: str, rate_name: str,
                  baseline: tuple[float, float] | None = None, n_column: str = "requests") -> go.Figure:
    """One rate per group (a `retention_funnel_summary` split or any frame with
    ``group`` and `rate`), a bar each in the group's colour, best first; the bar label
    carries the n (`n_column`) behind each rate."""
    df = summary.dropna(subset=[rate]).sort_values(rate, ascending=True)
    fig = go.Figure(go.Bar(
        x=df[rate], y=[fmt.label(g) for g in df["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in df["group"]],
        text=[f"{fmt.percent(v, 0)} (n = {fmt.count(n)})" for v, n in zip(
            df[rate], df[n_column] if n_column in df.columns else [math.nan] * len(df))],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    if baseline:
        fig.add_vrect(x0=baseline[0], x1=baseline[1], fillcolor="#BDBDBD", opacity=0.45, line_width=0,
                      layer="below", annotation_text=f"{baseline[0]:.0%}–{baseline[1]:.0%} baseline",
                      annotation_position="top left")
    # groups with fewer than MIN_N behind the rate are drawn but make no claim
    judged = df[[enough(n) for n in df[n_column]]] if n_column in df.columns else df
    if len(judged) >= 2:
        hi, lo = judged.iloc[-1], judged.iloc[0]
        title = (f"{rate_name} from {fmt.percent(lo[rate], 0)} ({fmt.label(lo['group'])}) "
                 f"to {fmt.percent(hi[rate], 0)} ({fmt.label(hi['group'])})")
    elif len(judged) == 1:
        title = f"{rate_name} {fmt.percent(judged.iloc[0][rate], 0)} ({fmt.label(judged.iloc[0]['group'])})"
    elif len(df):
        title = f"{rate_name} by {fmt.label(dimension).lower()}: fewer than {MIN_N} behind each group, too few to read"
    else:
        title = rate_name
    _base(fig, title, f"{rate_name} by {fmt.label(dimension).lower()}",
          height=max(280, 120 + 36 * len(df)), legend=False)
    top = float(df[rate].max()) if len(df) else 1.0
    fig.update_xaxes(tickformat=".0%", range=[0, max(top * 1.2, (baseline or (0, 0))[1] * 1.1)])
    return fig


def response_times(summary: pd.DataFrame, sla_hours: float) -> go.Figure:
    """Hours from request to first attempt, median and p90 per request channel
    (`retention_funnel_summary(by="channel")`), against the SLA line."""
    df = summary.sort_values("median_hours_to_attempt", ascending=False)
    labels = [fmt.label(g) for g in df["group"]]
    fig = go.Figure()
    fig.add_bar(x=df["median_hours_to_attempt"], y=labels, orientation="h", name="Median",
                marker_color=GOOD, hovertemplate="%{y}: median %{x:.1f} h<extra></extra>")
    fig.add_bar(x=df["p90_hours_to_attempt"], y=labels, orientation="h", name="90th percentile",
                marker_color=SECOND, hovertemplate="%{y}: 90%% within %{x:.1f} h<extra></extra>")
    fig.add_vline(x=sla_hours, line=dict(color=BAD, dash="dash", width=2),
                  annotation_text=f"SLA {sla_hours:g} h", annotation_position="top right")
    total_due, total_within = df["sla_due"].sum(), df["within_sla"].sum()
    attainment = total_within / total_due if total_due else float("nan")
    title = (f"{fmt.percent(attainment, 0)} of {fmt.count(total_due)} requests had a first attempt within {sla_hours:g} h"
             if enough(total_due) else
             f"First attempt within {sla_hours:g} h: {too_few(total_due).replace('customers', 'requests')}")
    _base(fig, title, "Hours from cancellation request to the first retention call, by request channel",
          height=max(320, 150 + 46 * len(df)))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="hours")
    return fig


def reasons_chart(reasons: pd.DataFrame, subtitle: str = "Share of customers who left in the period") -> go.Figure:
    """Churn reasons (`churn_reasons`) as bars of their share, largest on top."""
    df = reasons.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=df["share"], y=[fmt.label(r) for r in df["reason"]], orientation="h",
        marker_color=[colour("reason", r) for r in df["reason"]],
        text=[f"{fmt.percent(s, 0)} ({fmt.count(n)})" for s, n in zip(df["share"], df["churned"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    if reasons.empty:
        title = "No churn reasons recorded"
    elif not enough(reasons["churned"].sum()):
        title = f"Churn reasons: {too_few(reasons['churned'].sum()).replace('customers', 'leavers')}"
    else:
        top = reasons.iloc[0]
        title = (f"{fmt.label(top.reason)} is the top reason: {fmt.percent(top.share, 0)} of "
                 f"{fmt.count(reasons['churned'].sum())} leavers")
    _base(fig, title, subtitle, height=max(300, 110 + 36 * len(df)), legend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, float(reasons["share"].max() or 0.1) * 1.3])
    return fig


def proactive_comparison_chart(comparison: pd.DataFrame) -> go.Figure:
    """90-day retention of flagged customers reached vs not reached."""
    df = comparison
    fig = go.Figure(go.Bar(
        x=[fmt.label(g) for g in df["group"]], y=df["retention_90d"],
        marker_color=[GOOD if g == "reached" else NEUTRAL for g in df["group"]],
        text=[f"{fmt.percent(v)} of {fmt.count(n)}" for v, n in zip(df["retention_90d"], df["flags_judged"])],
        textposition="outside", cliponaxis=False, width=0.5,
    ))
    rates = dict(zip(df["group"], df["retention_90d"]))
    if "reached" in rates and "not reached" in rates:
        gap = rates["reached"] - rates["not reached"]
        title = f"Reached at-risk customers: {fmt.points(gap, 1)} 90-day retention vs not reached"
    else:
        title = "90-day retention of flagged customers"
    _base(fig, title, "Descriptive: who gets reached is not random, so the gap is not a causal effect",
          height=360, legend=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15])
    return fig


# --- Retention by segment -----------------------------------------------------------------

def cohort_heatmap(cohorts: pd.DataFrame, basis: str) -> go.Figure:
    """The cohort triangle (`cohort_retention`): signup month × months since signup."""
    grid = cohorts.pivot(index="cohort", columns="months_since_signup", values="retention").sort_index()
    labels = [pd.Timestamp(c).strftime("%b %Y") for c in grid.index]
    cells = grid.size
    text = grid.map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}") if cells <= 400 else None
    what = "customers" if basis == "logo" else "starting MRR"
    zmax = 1.0 if basis == "logo" else max(1.0, float(np.nanmax(grid.to_numpy())))
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=labels,
        text=None if text is None else text.to_numpy(), texttemplate="%{text}" if text is not None else None,
        textfont=dict(size=max(10, FONT_SIZE - 3 - cells // 120)),
        colorscale="Blues", zmin=0.0 if basis == "revenue" else max(0.0, float(np.nanmin(grid.to_numpy())) - 0.05),
        zmax=zmax, colorbar=dict(tickformat=".0%", title=dict(text="")),
        hovertemplate="Joined %{y}, month %{x}: %{z:.1%} of " + what + "<extra></extra>",
        xgap=1, ygap=1,
    ))
    oldest = grid.iloc[0].dropna()
    if len(oldest) > 1:
        k = int(oldest.index[-1])
        title = (f"The {labels[0]} cohort kept {fmt.percent(oldest.iloc[-1], 0)} of its {what} "
                 f"after {k} month{'s' if k != 1 else ''}")
    else:
        title = "Cohort retention"
    _base(fig, title, f"Share of each signup month's {what} retained, by months since signup (%)",
          height=max(360, 140 + 26 * len(labels)), legend=False)
    fig.update_yaxes(autorange="reversed", title_text="signup month", type="category")
    fig.update_xaxes(title_text="months since signup", dtick=1 if grid.shape[1] <= 24 else 3)
    return fig


def _step_sample(curve: pd.DataFrame, points: int = 300) -> pd.DataFrame:
    """A Kaplan–Meier step curve read at ≤ `points` evenly spaced times: exact at those
    times (the value of the last step at or before each), a fraction of the payload."""
    if len(curve) <= points:
        return curve
    grid = np.linspace(curve["timeline"].min(), curve["timeline"].max(), points)
    idx = np.searchsorted(curve["timeline"].to_numpy(), grid, side="right") - 1
    out = curve.iloc[np.clip(idx, 0, len(curve) - 1)].copy()
    out["timeline"] = grid
    return out


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def survival_curves(curves: pd.DataFrame, medians: pd.DataFrame, dimension: str | None,
                    p_value: float | None = None) -> go.Figure:
    """Kaplan–Meier curves (`kaplan_meier`, months) per group with their 95% bands."""
    fig = go.Figure()
    dim = dimension or "all"
    for group, g in curves.groupby("group", sort=True):
        g = _step_sample(g.sort_values("timeline"))
        c = GOOD if dimension is None else colour(dim, group)
        name = "All customers" if dimension is None else fmt.label(group)
        fig.add_scatter(
            x=np.concatenate([g["timeline"], g["timeline"][::-1]]),
            y=np.concatenate([g["ci_upper"], g["ci_lower"][::-1]]),
            fill="toself", fillcolor=_rgba(c, 0.15), line=dict(width=0), hoverinfo="skip",
            showlegend=False, legendgroup=name, line_shape="hv",
        )
        fig.add_scatter(
            x=g["timeline"], y=g["survival"], name=name, legendgroup=name, mode="lines",
            line=dict(color=c, width=3, shape="hv"),
            hovertemplate=name + ", month %{x:.0f}: %{y:.1%} still active<extra></extra>",
        )
    fig.add_hline(y=0.5, line=dict(color=NEUTRAL, dash="dot", width=1),
                  annotation_text="median", annotation_position="bottom left")
    title = "Customer survival"
    finite = medians[np.isfinite(medians["median_lifetime"])] if not medians.empty else medians
    if dimension and len(medians) >= 2:
        order = medians.assign(sort_key=medians["median_lifetime"].replace(np.inf, 1e9)).sort_values("sort_key")
        best, worst = order.iloc[-1], order.iloc[0]
        title = (f"{fmt.label(best.group)} customers last longest "
                 f"(median {fmt.months(best.median_lifetime, 0)}); "
                 f"{fmt.label(worst.group)} shortest ({fmt.months(worst.median_lifetime, 0)})")
    elif len(medians) == 1:
        title = f"Median customer lifetime: {fmt.months(medians.iloc[0].median_lifetime, 0)}"
    del finite
    subtitle = ("Kaplan–Meier: share still active by months since signup (earlier customers from the "
                "data's first day); shaded = 95% band")
    if p_value is not None and not pd.isna(p_value):
        subtitle += f"; log-rank p {fmt.p_value(p_value)}"
    _base(fig, title, subtitle, height=470)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], title_text="still active")
    fig.update_xaxes(title_text="months since signup")
    return fig


def churn_by_group(df: pd.DataFrame, dimension: str) -> go.Figure:
    """Logo churn rate per group (`churn_by_dimension`), highest on top."""
    d = df.dropna(subset=["churn_rate"]).sort_values("churn_rate")
    fig = go.Figure(go.Bar(
        x=d["churn_rate"], y=[fmt.label(g) for g in d["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in d["group"]],
        text=[f"{fmt.percent(r)} ({fmt.count(n)} of {fmt.count(a)})"
              for r, n, a in zip(d["churn_rate"], d["churned"], d["active_start"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    judged = d[[enough(n) for n in d["active_start"]]]
    if len(judged) >= 2 and not rate_change_is_clear(judged.iloc[-1].churn_rate, judged.iloc[-1].active_start,
                                                      judged.iloc[0].churn_rate, judged.iloc[0].active_start):
        title = f"No {fmt.label(dimension).lower()} churns more than another beyond noise"
    elif len(judged) >= 2:
        hi, lo = judged.iloc[-1], judged.iloc[0]
        ratio = hi.churn_rate / lo.churn_rate if lo.churn_rate > 0 else float("nan")
        title = (f"{fmt.label(hi.group)} churns most: {fmt.percent(hi.churn_rate)}"
                 + (f", {fmt.multiple(ratio)} {fmt.label(lo.group)}" if not math.isnan(ratio) else ""))
    else:
        title = f"Logo churn by {fmt.label(dimension).lower()}"
    _base(fig, title, f"Logo churn over the period by {fmt.label(dimension).lower()} (customers active at its start)",
          height=max(280, 120 + 38 * len(d)), legend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, float(d["churn_rate"].max() or 0.1) * 1.9])
    return fig


def tenure_chart(tenure: pd.DataFrame) -> go.Figure:
    """When customers leave (`tenure_at_churn`): share of leavers per tenure band."""
    d = tenure.sort_values("band_order")
    fig = go.Figure(go.Bar(
        x=d["tenure_band"], y=d["share"], marker_color=BAD,
        text=[f"{fmt.percent(s, 0)}" for s in d["share"]], textposition="outside", cliponaxis=False,
        customdata=d["churned"], hovertemplate="%{x}: %{customdata:,} leavers (%{y:.1%})<extra></extra>",
    ))
    early = d.loc[d["band_order"] <= 1, "share"].sum()
    top = d.loc[d["share"].idxmax()] if len(d) else None
    leavers = d["churned"].sum() if len(d) else 0
    if top is None:
        title = "Tenure at churn"
    elif not enough(leavers):
        title = f"Tenure at churn: {too_few(leavers).replace('customers', 'leavers')}"
    else:
        title = (f"{fmt.percent(early, 0)} of {fmt.count(leavers)} leavers go within 6 months; "
                 f"most at {top.tenure_band}")
    _base(fig, title, "Tenure at churn of the customers who left in the period", height=360, legend=False)
    fig.update_xaxes(tickangle=0, tickfont=dict(size=FONT_SIZE - 2))
    fig.update_yaxes(tickformat=".0%", range=[0, float(d["share"].max() or 0.1) * 1.25])
    return fig


def reasons_trend(trend: pd.DataFrame) -> go.Figure:
    """The churn-reason mix per month (`churn_reasons_by_month`) as stacked shares."""
    fig = go.Figure()
    order = trend.groupby("reason")["churned"].sum().sort_values(ascending=False).index
    for reason in order:
        r = trend[trend["reason"] == reason]
        fig.add_bar(x=r["month"], y=r["share"], name=fmt.label(reason), marker_color=colour("reason", reason),
                    hovertemplate="%{x|%b %Y}: %{y:.0%}<extra>" + fmt.label(reason) + "</extra>")
    per_month = trend.groupby("month")["churned"].transform("sum")
    judged = trend[[enough(n) for n in per_month]]  # months with too few leavers name no leader
    leaders = judged.loc[judged.groupby("month")["churned"].idxmax(), "reason"] if len(judged) else judged
    if len(trend) and not len(judged):
        title = f"Churn reasons by month: fewer than {MIN_N} leavers in every month, too few to read"
    elif len(leaders):
        lead = leaders.value_counts()
        title = f"{fmt.label(lead.index[0])} leads the reasons in {lead.iloc[0]} of {len(leaders)} months"
    else:
        title = "Churn reasons by month"
    _base(fig, title, "Share of each month's leavers by reason", height=420)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


# --- Customer value -----------------------------------------------------------------------

def clv_boxes(quantiles_by_group: dict[str, pd.DataFrame], dimension: str = "segment") -> go.Figure:
    """CLV distribution per group from precomputed quantiles (`clv_quantiles` with 0.1,
    0.25, 0.5, 0.75, 0.9): box = quartiles, whiskers = 10th and 90th percentiles."""
    fig = go.Figure()
    medians = {}
    for group, q in quantiles_by_group.items():
        if q.empty:
            continue
        v = dict(zip(q["quantile"].round(3), q["clv"]))
        medians[group] = v[0.5]
        fig.add_trace(go.Box(
            name=fmt.label(group), x=[fmt.label(group)], q1=[v[0.25]], median=[v[0.5]], q3=[v[0.75]],
            lowerfence=[v[0.1]], upperfence=[v[0.9]], marker_color=colour(dimension, group),
            line=dict(width=2), fillcolor=_rgba(colour(dimension, group), 0.35), boxpoints=False,
            hoverinfo="skip",
        ))
        fig.add_annotation(x=fmt.label(group), y=v[0.5], text=fmt.money(v[0.5]), showarrow=False,
                           xshift=95, font=dict(size=FONT_SIZE - 1))
    if len(medians) >= 2:
        hi = max(medians, key=medians.get)
        lo = min(medians, key=medians.get)
        ratio = medians[hi] / medians[lo] if medians[lo] > 0 else float("nan")
        title = (f"{fmt.label(hi)} median CLV {fmt.money(medians[hi])}"
                 + (f" — {fmt.multiple(ratio)} {fmt.label(lo)}'s" if not math.isnan(ratio) else ""))
    elif medians:
        g = next(iter(medians))
        title = f"Median historical CLV {fmt.money(medians[g])}"
    else:
        title = "Historical CLV"
    _base(fig, title, "Historical CLV per customer: box = middle half, whiskers = 10th–90th percentile",
          height=430, legend=False)
    _money_axis(fig)
    return fig


def pareto_curve(clv: pd.DataFrame, top_share: float, top_value_share: float, points: int = 201) -> go.Figure:
    """Cumulative share of value against share of customers, most valuable first, from
    `customer_clv` (already sorted by value): the Lorenz/Pareto curve."""
    values = np.sort(clv["clv"].to_numpy(dtype=float))[::-1]
    total = values.sum()
    cum = np.concatenate([[0.0], np.cumsum(values) / total]) if total > 0 else np.zeros(len(values) + 1)
    share = np.linspace(0, 1, len(cum))
    idx = np.unique(np.linspace(0, len(cum) - 1, min(points, len(cum))).round().astype(int))
    fig = go.Figure()
    fig.add_scatter(x=share[idx], y=cum[idx], mode="lines", line=dict(color=GOOD, width=3),
                    name="Cumulative value", fill="tozeroy", fillcolor=_rgba(GOOD, 0.12),
                    hovertemplate="top %{x:.0%} of customers hold %{y:.0%} of value<extra></extra>")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=NEUTRAL, dash="dot", width=1),
                    name="Equal value", hoverinfo="skip")
    fig.add_scatter(x=[top_share], y=[top_value_share], mode="markers+text", marker=dict(size=12, color=BAD),
                    text=[f"  {top_share:.0%} → {fmt.percent(top_value_share, 0)}"], textposition="middle right",
                    showlegend=False, hoverinfo="skip")
    title = f"The top {top_share:.0%} of customers hold {fmt.percent(top_value_share, 0)} of value"
    _base(fig, title, "Share of total historical CLV held by the most valuable customers", height=430, legend=False)
    fig.update_xaxes(tickformat=".0%", title_text="customers, most valuable first", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", title_text="share of value", range=[0, 1.02])
    return fig


def value_tiers_chart(tiers: pd.DataFrame) -> go.Figure:
    """Share of customers and share of value per value tier (`value_tiers`)."""
    d = tiers.sort_values("tier_order")
    names = [fmt.label(t) for t in d["value_tier"]]
    fig = go.Figure()
    fig.add_bar(x=names, y=d["share_of_customers"], name="Share of customers", marker_color=NEUTRAL,
                text=[fmt.percent(v, 0) for v in d["share_of_customers"]], textposition="outside")
    fig.add_bar(x=names, y=d["share_of_value"], name="Share of value",
                marker_color=[colour("value_tier", t) for t in d["value_tier"]],
                text=[fmt.percent(v, 0) for v in d["share_of_value"]], textposition="outside")
    if len(d):
        top = d.iloc[0]
        title = (f"{fmt.label(top.value_tier)}: {fmt.percent(top.share_of_customers, 0)} of customers, "
                 f"{fmt.percent(top.share_of_value, 0)} of value")
    else:
        title = "Value tiers"
    _base(fig, title, "Customers ranked by historical CLV: top 10% platinum, next 20% gold, next 30% silver, rest bronze",
          height=400)
    fig.update_layout(barmode="group", bargap=0.3)
    fig.update_yaxes(tickformat=".0%", range=[0, float(d[["share_of_customers", "share_of_value"]].max().max()) * 1.2])
    return fig


def clv_cac_chart(df: pd.DataFrame, dimension: str) -> go.Figure:
    """Historical CLV : acquisition cost per group (`clv_cac_ratio`), with break-even."""
    d = df.dropna(subset=["clv_cac_ratio"]).sort_values("clv_cac_ratio")
    fig = go.Figure(go.Bar(
        x=d["clv_cac_ratio"], y=[fmt.label(g) for g in d["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in d["group"]],
        text=[f"{fmt.multiple(r)}  ({fmt.money(c)} vs {fmt.money(a)})"
              for r, c, a in zip(d["clv_cac_ratio"], d["mean_clv"], d["mean_cac"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    fig.add_vline(x=1, line=dict(color=BAD, dash="dash", width=2), annotation_text="break-even 1×",
                  annotation_position="bottom right", annotation_yshift=-4)
    if len(d) >= 2:
        hi, lo = d.iloc[-1], d.iloc[0]
        title = (f"{fmt.label(hi.group)} has returned {fmt.multiple(hi.clv_cac_ratio)} its acquisition cost; "
                 f"{fmt.label(lo.group)} {fmt.multiple(lo.clv_cac_ratio)}")
    elif len(d) == 1:
        title = f"CLV is {fmt.multiple(d.iloc[0].clv_cac_ratio)} the acquisition cost"
    else:
        title = "CLV : acquisition cost"
    _base(fig, title, f"Historical CLV ÷ acquisition cost by {fmt.label(dimension).lower()} "
          "(mean CLV vs mean CAC in brackets)", height=max(280, 120 + 40 * len(d)), legend=False)
    fig.update_xaxes(title_text="CLV ÷ CAC", range=[0, float(d["clv_cac_ratio"].max() or 1) * 1.6], ticksuffix="×")
    return fig


# --- Service & signals --------------------------------------------------------------------

def service_trend(fcr: pd.DataFrame, repeat: pd.DataFrame) -> go.Figure:
    """Monthly first-contact resolution and repeat-contact rate (all channels), with the
    brief's 86% expectation."""
    fig = go.Figure()
    fig.add_scatter(x=fcr["month"], y=fcr["fcr_rate"], name="Resolved on first contact", mode="lines+markers",
                    line=dict(color=GOOD, width=3), hovertemplate="%{x|%b %Y}: %{y:.1%}<extra>FCR</extra>")
    fig.add_scatter(x=repeat["month"], y=repeat["repeat_rate"], name="Repeat contacts", mode="lines+markers",
                    line=dict(color=BAD, width=3, dash="dot"),
                    hovertemplate="%{x|%b %Y}: %{y:.1%}<extra>Repeat</extra>")
    fig.add_hline(y=FCR_EXPECTATION, line=dict(color=NEUTRAL, dash="dash", width=1),
                  annotation_text="86% of customers expect first-contact resolution",
                  annotation_position="top left")
    if len(fcr) and not enough(fcr["contacts"].sum()):
        title = f"First-contact resolution: {too_few(fcr['contacts'].sum()).replace('customers', 'contacts')}"
    elif len(fcr):
        mean_fcr = fcr["resolved_first_contact"].sum() / fcr["contacts"].sum()
        gap = mean_fcr - FCR_EXPECTATION
        title = (f"First-contact resolution {fmt.percent(mean_fcr, 0)} — "
                 f"{fmt.points(abs(gap), 0).lstrip('+')} {'short of' if gap < 0 else 'above'} the 86% customers expect")
    elif len(repeat):
        title = "Repeat contacts (first-contact resolution is not recorded)"
    else:
        title = "First-contact resolution"
    _base(fig, title, "Share of service contacts resolved on first contact, and share that repeat "
          "an issue raised in the previous 7 days")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def sla_by_channel(levels: pd.DataFrame) -> go.Figure:
    """Response-SLA attainment per channel (`service_levels`)."""
    d = levels.dropna(subset=["sla_attainment"]).sort_values("sla_attainment")
    fig = go.Figure(go.Bar(
        x=d["sla_attainment"], y=[fmt.label(c) for c in d["channel"]], orientation="h",
        marker_color=[colour("channel", c) for c in d["channel"]],
        text=[f"{fmt.percent(a, 0)} within {fmt.duration(s)} (n = {fmt.count(n)})"
              for a, s, n in zip(d["sla_attainment"], d["sla_seconds"], d["contacts"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    judged = d[[enough(n) for n in d["contacts"]]]
    if len(d) and judged.empty:
        title = f"Response SLA: fewer than {MIN_N} contacts in every channel, too few to read"
    elif len(judged):
        worst = judged.iloc[0]
        title = (f"{fmt.label(worst.channel)} meets its {fmt.duration(worst.sla_seconds)} SLA on "
                 f"{'only ' if worst.sla_attainment < 0.9 else ''}{fmt.percent(worst.sla_attainment, 0)} "
                 f"of {fmt.count(worst.contacts)} contacts")
    else:
        title = "Response SLA attainment"
    _base(fig, title, "Share of service contacts answered within the channel's SLA",
          height=max(300, 120 + 38 * len(d)), legend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, 1.7], tickvals=[0, 0.25, 0.5, 0.75, 1])
    return fig


def wait_times(levels: pd.DataFrame) -> go.Figure:
    """Median and 90th-percentile wait per channel (`service_levels`), log scale."""
    d = levels.sort_values("wait_p90_seconds")
    names = [fmt.label(c) for c in d["channel"]]
    fig = go.Figure()
    fig.add_bar(x=d["wait_p50_seconds"], y=names, orientation="h", name="Median (p50)", marker_color=GOOD,
                text=[fmt.duration(v) for v in d["wait_p50_seconds"]], textposition="outside", cliponaxis=False)
    fig.add_bar(x=d["wait_p90_seconds"], y=names, orientation="h", name="90th percentile (p90)",
                marker_color=SECOND, text=[fmt.duration(v) for v in d["wait_p90_seconds"]],
                textposition="outside", cliponaxis=False)
    judged = d[[enough(n) for n in d["contacts"]]]
    if len(d) and judged.empty:
        title = f"Wait times: fewer than {MIN_N} contacts in every channel, too few to read"
    elif len(judged):
        slow = judged.iloc[-1]
        title = f"1 in 10 {fmt.label(slow.channel)} contacts waits over {fmt.duration(slow.wait_p90_seconds)}"
    else:
        title = "Wait times"
    _base(fig, title, "Wait (phone, chat, store) or time to first response (written channels); log scale",
          height=max(340, 140 + 50 * len(d)))
    ticks = [10, 60, 600, 3600, 6 * 3600, 86400, 3 * 86400]
    values = pd.concat([d["wait_p50_seconds"], d["wait_p90_seconds"]]).dropna()
    values = values[values > 0]
    low, high = (float(values.min()), float(values.max())) if len(values) else (10.0, 86400.0)
    # log axis: the range is in powers of ten; leave room right of the longest bar's label
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[fmt.duration(t) for t in ticks],
                     range=[math.log10(low) - 0.3, math.log10(high) + 0.9])
    fig.update_layout(barmode="group")
    return fig


def satisfaction_chart(sat: pd.DataFrame) -> go.Figure:
    """CSAT (mean, 1–5) and NPS (−100..100) per month (`satisfaction_trend`)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=["CSAT (1–5, mean)", "NPS (−100 to 100)"],
                        horizontal_spacing=0.1)
    fig.add_scatter(x=sat["month"], y=sat["csat_mean"], mode="lines+markers", line=dict(color=GOOD, width=3),
                    name="CSAT", hovertemplate="%{x|%b %Y}: %{y:.2f}<extra>CSAT</extra>", row=1, col=1)
    fig.add_scatter(x=sat["month"], y=sat["nps"], mode="lines+markers", line=dict(color="#009E73", width=3),
                    name="NPS", hovertemplate="%{x|%b %Y}: %{y:.0f}<extra>NPS</extra>", row=1, col=2)
    title = satisfaction_takeaway(sat)
    _base(fig, title, "Survey answers per month", height=380, legend=False)
    fig.update_yaxes(range=[1, 5], row=1, col=1)
    fig.update_yaxes(range=[-100, 100], zeroline=True, zerolinecolor=NEUTRAL, row=1, col=2)
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def early_warning_chart(contacts: pd.DataFrame, unresolved: pd.DataFrame) -> go.Figure:
    """Churn in the next 90 days by service contacts (left) and unresolved contacts
    (right) in the 90 days before (`churn_by_service_history`). Without unresolved rows
    (the data has no ``resolved`` flag) only the service-contacts panel is drawn."""
    panels = [(1, contacts, "#E69F00"), (2, unresolved, BAD)] if len(unresolved) else [(1, contacts, "#E69F00")]
    titles = ["Service contacts in 90 days", "Unresolved contacts in 90 days"][:len(panels)]
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=titles)
    for col, df, c in panels:
        fig.add_bar(x=df["bucket"], y=df["churn_rate"], marker_color=c, row=1, col=col, showlegend=False,
                    text=[fmt.percent(v) for v in df["churn_rate"]], textposition="outside", cliponaxis=False,
                    customdata=np.stack([df["customers"], df["churned"]], axis=-1) if len(df) else None,
                    hovertemplate="%{x}: %{customdata[1]:,} of %{customdata[0]:,} churned (%{y:.1%})<extra></extra>")
    title = "Churn by recent service history" if len(unresolved) else "Churn by recent service contacts"
    if len(unresolved) >= 2:
        none_rate = unresolved.iloc[0].churn_rate
        top = unresolved.iloc[-1]
        none_n = unresolved.iloc[0].customers
        if not (enough(top.customers) and enough(none_n)):
            title = (f"Churn by unresolved contacts: {fmt.count(min(top.customers, none_n))} customers in the "
                     f"smallest group (fewer than {MIN_N}), too few to compare")
        elif not rate_change_is_clear(top.churn_rate, top.customers, none_rate, none_n):
            title = f"Customers with {top.bucket} unresolved contacts churn no more than those with none, beyond noise"
        elif none_rate > 0:
            title = (f"Customers with {top.bucket} unresolved contacts churn at "
                     f"{fmt.multiple(top.churn_rate / none_rate)} the rate of those with none")
    _base(fig, title, "Churn in the next 90 days of customers active at the snapshot, by their contacts in the 90 days before",
          height=400, legend=False)
    top = float(np.nanmax(pd.concat([contacts["churn_rate"], unresolved["churn_rate"]]).to_numpy())) if (
        len(contacts) or len(unresolved)) else 0.1
    fig.update_yaxes(tickformat=".0%", range=[0, top * 1.25])
    fig.update_xaxes(type="category")
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


# --- Retention ROI ------------------------------------------------------------------------

def whatif_chart(whatif) -> go.Figure:
    """Revenue of today's book over 12 and 24 months at today's churn and at the reduced
    churn (`analytics.roi.ChurnReductionWhatIf`)."""
    horizons = [f"{h.months} months" for h in whatif.horizons]
    fig = go.Figure()
    fig.add_bar(x=horizons, y=[h.baseline_revenue for h in whatif.horizons], name="At today's churn",
                marker_color=NEUTRAL, text=[fmt.money(h.baseline_revenue) for h in whatif.horizons],
                textposition="outside")
    fig.add_bar(x=horizons, y=[h.improved_revenue for h in whatif.horizons],
                name=f"With churn cut by {fmt.points(whatif.reduction_points, 2).lstrip('+')}",
                marker_color=GOOD, text=[fmt.money(h.improved_revenue) for h in whatif.horizons],
                textposition="outside")
    last = whatif.horizons[-1]
    title = (f"Cutting monthly churn by {fmt.points(whatif.reduction_points, 2).lstrip('+')} keeps "
             f"{fmt.money(last.extra_revenue)} more revenue over {last.months} months")
    _base(fig, title, "Revenue from today's customers (no new sales), monthly churn applied each month", height=400)
    fig.update_layout(barmode="group")
    _money_axis(fig)
    top = max(h.improved_revenue for h in whatif.horizons)
    fig.update_yaxes(range=[0, top * 1.18])
    return fig


def replace_or_keep_chart(result) -> go.Figure:
    """Cost of replacing lost customers by acquisition vs keeping them
    (`analytics.roi.ReplaceOrKeep`)."""
    names = ["Replace at observed CAC", f"Replace at {result.multiple:g}× keeping cost", "Keep them"]
    values = [result.replace_at_observed_cac, result.replace_at_multiple, result.keep_cost]
    d = [(n, v, c) for n, v, c in zip(names, values, (BAD, "#E69F00", GOOD)) if not pd.isna(v)]
    fig = go.Figure(go.Bar(
        x=[n for n, _, _ in d], y=[v for _, v, _ in d], marker_color=[c for _, _, c in d],
        text=[fmt.money(v) for _, v, _ in d], textposition="outside", cliponaxis=False, width=0.55,
    ))
    replace = [v for v in (result.replace_at_observed_cac, result.replace_at_multiple) if not pd.isna(v)]
    low, high = min(replace), max(replace)
    span = fmt.money(low) if low == high else f"{fmt.money(low)}–{fmt.money(high)}"
    title = (f"Keeping {fmt.count(result.lost_customers)} leavers would cost {fmt.money(result.keep_cost)}; "
             f"replacing them {span}")
    _base(fig, title, "Acquisition cost of replacing the period's leavers vs the cost of a retention action and offer each",
          height=400, legend=False)
    _money_axis(fig)
    fig.update_yaxes(range=[0, max(v for _, v, _ in d) * 1.2 if d else 1])
    return fig


# --- Data quality -------------------------------------------------------------------------

DQ_DIMENSION_COLOURS = {"completeness": "#0072B2", "validity": "#E69F00", "uniqueness": "#CC79A7",
                        "consistency": "#D55E00"}


def data_quality_chart(report: pd.DataFrame) -> go.Figure:
    """Failing records per check (`data_quality_report`), coloured by quality dimension."""
    d = report[report["failing"] > 0].sort_values("failing")
    fig = go.Figure()
    for dim, g in d.groupby("dimension", sort=False):
        fig.add_bar(
            x=g["failing"], y=[fmt.label(c) for c in g["check"]], orientation="h", name=fmt.label(dim),
            marker_color=DQ_DIMENSION_COLOURS.get(dim, NEUTRAL),
            text=[f"{fmt.count(n)} ({fmt.percent(r, 2)})" for n, r in zip(g["failing"], g["rate"])],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + fmt.label(dim) + "</extra>",
        )
    total = int(report["failing"].sum())
    if total:
        title = (f"{fmt.count(total)} failing records: {fmt.money(report['correction_cost'].sum())} to fix now, "
                 f"{fmt.money(report['failure_cost'].sum())} if they cause failures")
    else:
        title = "No failing records"
    _base(fig, title, "Records failing each check, coloured by quality dimension (checks that pass are not shown)",
          height=max(320, 130 + 34 * len(d)))
    fig.update_layout(barmode="stack", yaxis=dict(categoryorder="total ascending"))
    fig.update_xaxes(range=[0, float(d["failing"].max() or 1) * 1.35], tickformat=",")
    return fig


# --- At-risk customers: the customer-360 panel ------------------------------------------------

def score_history_chart(history: pd.DataFrame) -> go.Figure:
    """The customer's 90-day churn probability at each scoring date, expected loss on hover."""
    first, last = float(history["churn_probability"].iloc[0]), float(history["churn_probability"].iloc[-1])
    verdict = _direction(first, last, 0.01) if len(history) > 1 else "stands"
    title = (f"Churn risk {verdict} at {fmt.percent(last)}" if verdict in ("stands", "held steady")
             else f"Churn risk {verdict} from {fmt.percent(first)} to {fmt.percent(last)}")
    fig = go.Figure()
    fig.add_scatter(
        x=history["scored_on"], y=history["churn_probability"], mode="lines+markers", name="Churn probability",
        line=dict(color=BAD, width=3), marker=dict(size=9),
        customdata=history[["expected_loss"]].to_numpy(),
        hovertemplate="%{x|%d %b %Y}<br>P(churn in 90 days) %{y:.1%}<br>expected loss "
                      + fmt.currency_symbol() + "%{customdata[0]:,.0f}<extra></extra>",
    )
    _base(fig, title, "90-day churn probability at each month-end scoring", height=300, legend=False)
    top = max(float(history["churn_probability"].max()) * 1.25, 0.05)
    fig.update_yaxes(tickformat=".0%", range=[0, min(top, 1.0)])
    fig.update_xaxes(tickformat="%b %Y")
    return fig


def customer_mrr_chart(revenue: pd.DataFrame) -> go.Figure:
    """The customer's MRR by month."""
    first, last = float(revenue["mrr"].iloc[0]), float(revenue["mrr"].iloc[-1])
    verdict = _direction(first, last, 0.5)
    title = (f"MRR {verdict} at {fmt.money(last, compact=False)}" if verdict == "held steady"
             else f"MRR {verdict} from {fmt.money(first, compact=False)} to {fmt.money(last, compact=False)}")
    fig = go.Figure()
    fig.add_scatter(x=revenue["month"], y=revenue["mrr"], mode="lines", line=dict(color=GOOD, width=3,
                    shape="hv"), name="MRR", hovertemplate="%{x|%b %Y}<br>MRR " + fmt.currency_symbol()
                    + "%{y:,.2f}<extra></extra>")
    _base(fig, title, "Monthly recurring revenue since signup", height=300, legend=False)
    _money_axis(fig)
    fig.update_yaxes(rangemode="tozero")
    return fig


def line_series(frames: Iterable[tuple[str, pd.DataFrame, str, str]], title: str, subtitle: str,
                tickformat: str = ".0%") -> go.Figure:
    """Generic monthly lines: (name, frame, x column, y column) each."""
    fig = go.Figure()
    for i, (name, df, x, y) in enumerate(frames):
        fig.add_scatter(x=df[x], y=df[y], name=name, mode="lines+markers",
                        line=dict(color=PALETTE[i % len(PALETTE)], width=3))
    _base(fig, title, subtitle)
    fig.update_yaxes(tickformat=tickformat)
    return fig


def roi_waterfall(result) -> go.Figure:
    """Programme ROI as a waterfall (`analytics.roi.ProgrammeROI`): value kept, minus the
    cost of actions and of offers, to the net benefit."""
    action_cost = result.actions * result.cost_per_action
    offer_cost = result.offers * result.cost_per_offer
    fig = go.Figure(go.Waterfall(
        x=["Value kept", "Retention actions", "Offers", "Net benefit"],
        measure=["absolute", "relative", "relative", "total"],
        y=[result.retained_value, -action_cost, -offer_cost, result.net_benefit],
        text=[fmt.money(result.retained_value), fmt.signed_money(-action_cost), fmt.signed_money(-offer_cost),
              fmt.money(result.net_benefit)],
        textposition="outside", cliponaxis=False,
        increasing=dict(marker=dict(color=GOOD)), decreasing=dict(marker=dict(color=BAD)),
        totals=dict(marker=dict(color="#009E73" if result.net_benefit >= 0 else BAD)),
        connector=dict(line=dict(color=GRID_COLOUR)),
    ))
    if math.isnan(result.roi):
        title = f"Net benefit {fmt.money(result.net_benefit)} (no programme cost entered)"
    else:
        title = (f"Every {fmt.currency_symbol()}1 spent on retention returned "
                 f"{fmt.currency_symbol()}{result.retained_value / result.programme_cost:,.2f} "
                 f"— ROI {result.roi * 100:,.0f}%")
    _base(fig, title, "Saved customers × value per saved customer, less the cost of actions and accepted offers",
          height=400, legend=False)
    _money_axis(fig)
    top = max(result.retained_value, result.net_benefit, 1.0)
    fig.update_yaxes(range=[min(0, result.net_benefit) * 1.2, top * 1.18])
    return fig


# --- Service & signals: churn signals in agent notes ----------------------------------------

# One fixed colour per note signal (analytics.risk.note_signals.NOTE_SIGNALS order).
SIGNAL_COLOURS = {
    "cancel_intent": "#D55E00", "competitor": "#CC79A7", "price": "#E69F00", "moving": "#009E73",
    "dissatisfaction": "#0072B2", "billing": "#56B4E9", "any_signal": NEUTRAL,
}
MIN_FOLLOWED_FOR_TAKEAWAY = 20  # a churn rate over fewer customers is too noisy to headline


def note_signals_chart(summary: pd.DataFrame) -> go.Figure:
    """Per note signal (`note_signal_summary`, without the ``any_signal`` row): share of
    notes firing it (left) and churn within 90 days after it against the signal-free
    baseline (right, dashed line)."""
    d = summary[summary["signal"] != "any_signal"].iloc[::-1]
    names = [fmt.label(s) for s in d["signal"]]
    colours = [SIGNAL_COLOURS.get(s, NEUTRAL) for s in d["signal"]]
    baseline = float(summary["baseline_churn_rate_90d"].iloc[0]) if len(summary) else float("nan")
    churn_title = "Churn within 90 days after the note" + (
        f" (dashed: no signal, {fmt.percent(baseline)})" if not pd.isna(baseline) else "")
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.05,
                        subplot_titles=["Share of notes", churn_title])
    fig.add_bar(x=d["share_of_notes"], y=names, orientation="h", marker_color=colours, row=1, col=1,
                text=[f"{fmt.percent(v)} ({fmt.count(n)})" for v, n in zip(d["share_of_notes"], d["notes"])],
                textposition="outside", cliponaxis=False, showlegend=False,
                hovertemplate="%{y}: %{text} of notes<extra></extra>")
    fig.add_bar(x=d["churn_rate_90d"], y=names, orientation="h", marker_color=colours, row=1, col=2,
                text=[f"{fmt.percent(r)} · {fmt.multiple(l)}" if not pd.isna(r) else "not known yet"
                      for r, l in zip(d["churn_rate_90d"], d["lift"])],
                textposition="outside", cliponaxis=False, showlegend=False,
                customdata=np.stack([d["churned_90d"], d["followed"]], axis=-1) if len(d) else None,
                hovertemplate="%{y}: %{customdata[0]:,} of %{customdata[1]:,} churned<extra></extra>")
    if not pd.isna(baseline):
        fig.add_vline(x=baseline, line=dict(color=TEXT_COLOUR, dash="dash", width=2), row=1, col=2)
    known = d[(d["followed"] >= MIN_FOLLOWED_FOR_TAKEAWAY) & d["lift"].notna()]
    commonest = d.loc[d["share_of_notes"].idxmax()] if len(d) and d["notes"].sum() else None
    parts = []
    if len(known):
        top = known.loc[known["lift"].idxmax()]
        parts.append(f"Customers whose notes show {fmt.label(top.signal).lower()} churned at "
                     f"{fmt.multiple(top.lift)} the signal-free rate")
    if commonest is not None:
        parts.append(f"{fmt.label(commonest.signal).lower()} is the commonest signal "
                     f"({fmt.percent(commonest.share_of_notes, 0)} of notes)")
    title = "; ".join(parts) if parts else "No churn signals in the notes"
    title = title[:1].upper() + title[1:]
    _base(fig, title, "Notes of the period by signal, and churn within 90 days after a customer's first "
          "such note (× = against customers whose notes carried no signal)",
          height=max(320, 130 + 44 * len(d)), legend=False)
    share_top = float(d["share_of_notes"].max()) if len(d) else 0.1
    rate_top = float(np.nanmax(d["churn_rate_90d"].to_numpy(dtype=float))) if d["churn_rate_90d"].notna().any() else 0.1
    fig.update_xaxes(tickformat=".0%", range=[0, max(share_top, 0.01) * 1.7], row=1, col=1)
    fig.update_xaxes(tickformat=".0%", range=[0, max(rate_top, baseline if not pd.isna(baseline) else 0, 0.01) * 1.7],
                     row=1, col=2)
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


def note_signal_trend_chart(trend: pd.DataFrame) -> go.Figure:
    """Monthly share of notes firing each signal (`note_signal_trend`, without
    ``any_signal``), one line per signal."""
    fig = go.Figure()
    d = trend[trend["signal"] != "any_signal"]
    for signal, rows in d.groupby("signal", sort=False):
        fig.add_scatter(x=rows["month"], y=rows["share_of_notes"], name=fmt.label(signal), mode="lines+markers",
                        line=dict(color=SIGNAL_COLOURS.get(signal, NEUTRAL), width=3),
                        hovertemplate="%{x|%b %Y}: %{y:.1%} of notes<extra>" + fmt.label(signal) + "</extra>")
    title = note_signals_takeaway(trend)
    _base(fig, title, "Share of each month's notes that fire the signal (a note may fire several)")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig


# --- Customer value: predicted CLV ------------------------------------------------------------

def predicted_clv_boxes(quantiles_by_group: dict[str, pd.DataFrame], dimension: str = "segment") -> go.Figure:
    """Per group, historical CLV (to date) beside predicted CLV of the same scored
    customers (`predicted_clv_quantiles` with 0.1, 0.25, 0.5, 0.75, 0.9): box = quartiles,
    whiskers = 10th and 90th percentiles; light box historical, solid box predicted."""
    fig = go.Figure()
    medians: dict[str, tuple[float, float]] = {}
    for group, q in quantiles_by_group.items():
        if q.empty:
            continue
        i = len(medians)  # the category's position on the axis
        name = fmt.label(group)
        for column, kind, alpha in (("clv_historical", "to date", 0.12), ("clv_predicted", "predicted", 0.55)):
            v = dict(zip(q["quantile"].round(3), q[column]))
            fig.add_trace(go.Box(
                name=kind, x=[name], q1=[v[0.25]], median=[v[0.5]], q3=[v[0.75]], lowerfence=[v[0.1]],
                upperfence=[v[0.9]], marker_color=colour(dimension, group), line=dict(width=2),
                fillcolor=_rgba(colour(dimension, group), alpha), boxpoints=False, offsetgroup=kind,
                legendgroup=kind, showlegend=False, hoverinfo="skip",
            ))
        fig.add_annotation(x=i - 0.175, y=0, yref="paper", yanchor="top", yshift=-2, text="to date",
                           showarrow=False, font=dict(size=FONT_SIZE - 3, color=MUTED))
        fig.add_annotation(x=i + 0.175, y=0, yref="paper", yanchor="top", yshift=-2, text="predicted",
                           showarrow=False, font=dict(size=FONT_SIZE - 3, color=MUTED))
        v_hist = dict(zip(q["quantile"].round(3), q["clv_historical"]))
        v_pred = dict(zip(q["quantile"].round(3), q["clv_predicted"]))
        medians[group] = (v_hist[0.5], v_pred[0.5])
        # a category axis places category i at x = i; grouped boxes sit ±0.175 either side
        # (boxgap 0.3), so each median goes above its own box's upper whisker
        for offset, v, colour_ in ((-0.175, v_hist, MUTED), (0.175, v_pred, TEXT_COLOUR)):
            fig.add_annotation(x=i + offset, y=v[0.9], text=fmt.money(v[0.5]), showarrow=False, yshift=12,
                               font=dict(size=FONT_SIZE - 2, color=colour_))
    if medians:
        hist = sum(h for h, _ in medians.values())
        pred = sum(p for _, p in medians.values())
        hi = max(medians, key=lambda g: medians[g][1])
        title = (f"{fmt.label(hi)} median predicted CLV {fmt.money(medians[hi][1])}"
                 + (f" — {fmt.multiple(medians[hi][1] / medians[hi][0])} what it has earned so far"
                    if medians[hi][0] > 0 else ""))
        if len(medians) == 1 and hist > 0:
            title = (f"{fmt.label(hi)}: median predicted CLV {fmt.money(pred)} — {fmt.multiple(pred / hist)} "
                     "the margin earned so far")
    else:
        title = "Predicted CLV"
    _base(fig, title, "Active scored customers: light box = CLV to date, solid box = predicted (to date + "
          "expected margin of the next 24 months); whiskers = 10th–90th percentile", height=430, legend=False)
    fig.update_layout(boxmode="group", boxgap=0.3, boxgroupgap=0.3)
    fig.update_xaxes(ticklabelstandoff=24)
    _money_axis(fig)
    return fig


# --- Model --------------------------------------------------------------------------------------

def calibration_chart(calibration: pd.DataFrame) -> go.Figure:
    """Reliability curve from the model card (`calibration`: ``mean_predicted``,
    ``observed_rate``, ``customers`` per equal-size bin) against the diagonal."""
    d = calibration.sort_values("mean_predicted")
    top = float(max(d["mean_predicted"].max(), d["observed_rate"].max())) * 1.1 if len(d) else 0.1
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color=NEUTRAL, dash="dash", width=1),
                    name="Perfect calibration", hoverinfo="skip")
    fig.add_scatter(x=d["mean_predicted"], y=d["observed_rate"], mode="lines+markers", name="Model",
                    line=dict(color=GOOD, width=3), marker=dict(size=10),
                    customdata=np.stack([d["customers"]], axis=-1) if len(d) else None,
                    hovertemplate="predicted %{x:.1%} → observed %{y:.1%} (%{customdata[0]:,} customers)"
                                  "<extra></extra>")
    if len(d):
        gap = (d["observed_rate"] - d["mean_predicted"]).abs()
        worst = d.loc[gap.idxmax()]
        title = (f"Predicted risk is within {fmt.points(gap.max()).lstrip('+')} of observed churn in every "
                 f"tenth of customers" if gap.max() < 0.02 else
                 f"Predicted risk misses observed churn by up to {fmt.points(gap.max()).lstrip('+')} "
                 f"(predicted {fmt.percent(worst.mean_predicted)}, observed {fmt.percent(worst.observed_rate)})")
    else:
        title = "Calibration"
    _base(fig, title, "Backtest customers in ten equal bins by predicted 90-day churn probability: mean "
          "prediction vs the share who churned; on the dashed line = calibrated", height=400)
    fig.update_xaxes(tickformat=".0%", range=[0, top], title_text="predicted churn probability")
    fig.update_yaxes(tickformat=".0%", range=[0, top], title_text="observed churn rate")
    fig.update_layout(legend_y=-0.24)
    return fig


def lift_chart(lift: pd.DataFrame) -> go.Figure:
    """Churn rate per risk decile, riskiest first, with the lift over the average as the
    label, and the cumulative share of churners captured (line, right axis), from the
    model card's `lift`."""
    d = lift.sort_values("decile")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=d["decile"], y=d["churn_rate"], name="Churn rate",
                marker_color=[BAD if k == 1 else _rgba(BAD, 0.45) for k in d["decile"]],
                text=[fmt.multiple(v) for v in d["lift"]], textposition="outside", cliponaxis=False,
                hovertemplate="decile %{x}: %{y:.1%} churned (%{text} the average)<extra></extra>",
                secondary_y=False)
    fig.add_scatter(x=d["decile"], y=d["cumulative_capture"], name="Churners captured (cumulative)",
                    mode="lines+markers", line=dict(color=GOOD, width=3),
                    hovertemplate="riskiest %{x}0%: %{y:.0%} of churners<extra></extra>", secondary_y=True)
    if len(d):
        first = d.iloc[0]
        title = (f"The riskiest 10% churned at {fmt.multiple(first.lift)} the average rate and held "
                 f"{fmt.percent(first.cumulative_capture, 0)} of churners")
        if len(d) >= 3:
            title += f"; the riskiest 30% held {fmt.percent(d.iloc[2].cumulative_capture, 0)}"
    else:
        title = "Lift by decile"
    _base(fig, title, "Backtest customers in tenths by predicted risk, riskiest first: churn rate (bars, "
          "× = lift over the average) and cumulative share of churners (line)", height=420)
    top = float(d["churn_rate"].max()) * 1.25 if len(d) else 0.1
    fig.update_yaxes(tickformat=".0%", range=[0, top], title_text="churn rate", secondary_y=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], tickvals=[0, 0.25, 0.5, 0.75, 1], title_text="churners captured",
                     showgrid=False, secondary_y=True)
    fig.update_xaxes(title_text="risk decile (1 = riskiest 10%)", tickmode="linear", dtick=1)
    fig.update_layout(legend_y=-0.24)
    return fig


def importance_chart(importance: pd.DataFrame, top: int = 12) -> go.Figure:
    """Grouped permutation importance from the model card (`importance`: ``group``,
    ``auc_drop``, ``auc_drop_std``): the `top` largest, largest at the top, ± one
    standard deviation in the label."""
    d = importance.sort_values("auc_drop", ascending=False).head(top).iloc[::-1]
    fig = go.Figure(go.Bar(
        x=d["auc_drop"], y=[fmt.label(g) for g in d["group"]], orientation="h", marker_color=GOOD,
        text=[f"{v:.4f} ± {sd:.4f}" for v, sd in zip(d["auc_drop"], d["auc_drop_std"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: AUC falls by %{x:.4f} when shuffled<extra></extra>",
    ))
    if len(d):
        first = d.iloc[-1]
        title = (f"{fmt.label(first.group)} matters most: shuffling it costs {first.auc_drop:.3f} ROC AUC")
    else:
        title = "Driver importance"
    _base(fig, title, f"Drop in backtest ROC AUC when a driver group is shuffled (top {len(d)}; "
          "mean ± standard deviation over repeated shuffles)", height=max(300, 110 + 34 * len(d)), legend=False)
    high = float((d["auc_drop"] + d["auc_drop_std"]).max()) if len(d) else 0.01
    fig.update_xaxes(range=[min(0.0, float(d["auc_drop"].min()) if len(d) else 0.0), max(high, 0.001) * 1.45],
                     title_text="ROC AUC drop")
    return fig
