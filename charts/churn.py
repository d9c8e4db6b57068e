"""Churn charts: the retention funnel, response times and reasons (Churn funnel page), and
survival curves, cohorts, churn by group, tenure and reason mix (Retention by segment)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from analytics.chart_takeaways import (churn_by_group_takeaway, cohort_takeaway, funnel_chart_takeaway,
                                       proactive_comparison_takeaway, rate_by_group_takeaway, reach_gauge_takeaway,
                                       reach_judged, reach_meets_baseline, reasons_takeaway, reasons_trend_takeaway,
                                       response_times_takeaway, survival_takeaway, tenure_takeaway)
from analytics.takeaways import REACH_BASELINE
from charts.theme import (BAD, FONT_SIZE, GOOD, GRID_COLOUR, NEUTRAL, SECOND, TEXT_COLOUR, base, colour,
                          rgba)


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
        y=[fmt.chart_label(s) for s in funnel["step"]], x=funnel["count"], text=texts,
        textinfo="text", textposition="auto", insidetextfont=dict(color="white", size=FONT_SIZE),
        outsidetextfont=dict(color=TEXT_COLOUR, size=FONT_SIZE), constraintext="none",
        marker=dict(color=[GOOD] * (len(funnel) - 1) + ["#009E73"]),
        connector=dict(line=dict(color=GRID_COLOUR)),
        hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    if title is None:
        title = funnel_chart_takeaway(funnel)
    judged = " (*of those at least 90 days old)" if (funnel["step"] == "retained 90 days").any() else ""
    subtitle = (subtitle + " · " if subtitle else "") + "% = of the step before" + judged
    base(fig, title, subtitle, height=440, legend=False)
    fig.update_yaxes(gridcolor="rgba(0,0,0,0)")
    return fig


def reach_gauge(reach_rate: float, requests: float | None = None) -> go.Figure:
    """The reach rate on a dial with the brief's 20–30% baseline shaded; greyed with no
    verdict when fewer than `MIN_N` requests are behind it."""
    low, high = REACH_BASELINE
    top = max(0.6, math.ceil((reach_rate + 0.1) * 10) / 10)
    fig = go.Figure(go.Indicator(
        mode="gauge+number", value=reach_rate * 100,
        number=dict(suffix="%", valueformat=".0f", font=dict(size=44)),
        gauge=dict(
            axis=dict(range=[0, top * 100], ticksuffix="%", tickfont=dict(size=FONT_SIZE - 2)),
            bar=dict(color=(GOOD if reach_meets_baseline(reach_rate) else BAD) if reach_judged(requests)
                     else NEUTRAL, thickness=0.35),
            steps=[dict(range=[low * 100, high * 100], color="#E3E3E3")],
            threshold=dict(line=dict(color=TEXT_COLOUR, width=3), thickness=0.8, value=high * 100),
        ),
    ))
    base(fig, reach_gauge_takeaway(reach_rate, requests),
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
        x=df[rate], y=[fmt.chart_label(g) for g in df["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in df["group"]],
        text=[f"{fmt.percent(v, 0)} (n = {fmt.count(n)})" for v, n in zip(
            df[rate], df[n_column] if n_column in df.columns else [math.nan] * len(df))],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    if baseline:
        fig.add_vrect(x0=baseline[0], x1=baseline[1], fillcolor="#BDBDBD", opacity=0.45, line_width=0,
                      layer="below", annotation_text=f"{baseline[0]:.0%}–{baseline[1]:.0%} baseline",
                      annotation_position="top left", annotation_yanchor="bottom",
                      annotation_y=1, annotation_yref="paper")  # above the bars, not on them
    title = rate_by_group_takeaway(summary, dimension, rate, rate_name, n_column)
    base(fig, title, f"{rate_name} by {fmt.chart_label(dimension).lower()}",
          height=max(280, 120 + 36 * len(df)), legend=False)
    top = float(df[rate].max()) if len(df) else 1.0
    fig.update_xaxes(tickformat=".0%", range=[0, max(top * 1.2, (baseline or (0, 0))[1] * 1.1)])
    return fig


def response_times(summary: pd.DataFrame, sla_hours: float) -> go.Figure:
    """Hours from request to first attempt, median and p90 per request channel
    (`retention_funnel_summary(by="channel")`), against the SLA line."""
    df = summary.sort_values("median_hours_to_attempt", ascending=False)
    labels = [fmt.chart_label(g) for g in df["group"]]
    fig = go.Figure()
    fig.add_bar(x=df["median_hours_to_attempt"], y=labels, orientation="h", name="Median",
                marker_color=GOOD, hovertemplate="%{y}: median %{x:.1f} h<extra></extra>")
    fig.add_bar(x=df["p90_hours_to_attempt"], y=labels, orientation="h", name="90th percentile",
                marker_color=SECOND, hovertemplate="%{y}: 90%% within %{x:.1f} h<extra></extra>")
    fig.add_vline(x=sla_hours, line=dict(color=BAD, dash="dash", width=2),
                  annotation_text=f"SLA {sla_hours:g} h", annotation_position="top right",
                  annotation_yanchor="bottom")  # above the top bar, not on it
    title = response_times_takeaway(df, sla_hours)
    base(fig, title, "Hours from cancellation request to the first retention call, by request channel",
          height=max(320, 150 + 46 * len(df)))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="hours")
    return fig


def reasons_chart(reasons: pd.DataFrame, subtitle: str = "Share of customers who left in the period") -> go.Figure:
    """Churn reasons (`churn_reasons`) as bars of their share, largest on top."""
    df = reasons.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=df["share"], y=[fmt.chart_label(r) for r in df["reason"]], orientation="h",
        marker_color=[colour("reason", r) for r in df["reason"]],
        text=[f"{fmt.percent(s, 0)} ({fmt.count(n)})" for s, n in zip(df["share"], df["churned"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    title = reasons_takeaway(reasons)
    base(fig, title, subtitle, height=max(300, 110 + 36 * len(df)), legend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, float(reasons["share"].max() or 0.1) * 1.3])
    return fig


def proactive_comparison_chart(comparison: pd.DataFrame) -> go.Figure:
    """90-day retention of flagged customers reached vs not reached."""
    df = comparison
    fig = go.Figure(go.Bar(
        x=[fmt.chart_label(g) for g in df["group"]], y=df["retention_90d"],
        marker_color=[GOOD if g == "reached" else NEUTRAL for g in df["group"]],
        text=[f"{fmt.percent(v)} of {fmt.count(n)}" for v, n in zip(df["retention_90d"], df["flags_judged"])],
        textposition="outside", cliponaxis=False, width=0.5,
    ))
    title = proactive_comparison_takeaway(comparison)
    base(fig, title, "Descriptive: who gets reached is not random, so the gap is not a causal effect",
          height=360, legend=False)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15])
    return fig


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
    title = cohort_takeaway(cohorts, basis)
    base(fig, title, f"Share of each signup month's {what} retained, by months since signup (%)",
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


def survival_curves(curves: pd.DataFrame, medians: pd.DataFrame, dimension: str | None,
                    p_value: float | None = None) -> go.Figure:
    """Kaplan–Meier curves (`kaplan_meier`, months) per group with their 95% bands."""
    fig = go.Figure()
    dim = dimension or "all"
    for group, g in curves.groupby("group", sort=True):
        g = _step_sample(g.sort_values("timeline"))
        c = GOOD if dimension is None else colour(dim, group)
        name = "All customers" if dimension is None else fmt.chart_label(group)
        fig.add_scatter(
            x=np.concatenate([g["timeline"], g["timeline"][::-1]]),
            y=np.concatenate([g["ci_upper"], g["ci_lower"][::-1]]),
            fill="toself", fillcolor=rgba(c, 0.15), line=dict(width=0), hoverinfo="skip",
            showlegend=False, legendgroup=name, line_shape="hv",
        )
        fig.add_scatter(
            x=g["timeline"], y=g["survival"], name=name, legendgroup=name, mode="lines",
            line=dict(color=c, width=3, shape="hv"),
            hovertemplate=name + ", month %{x:.0f}: %{y:.1%} still active<extra></extra>",
        )
    fig.add_hline(y=0.5, line=dict(color=NEUTRAL, dash="dot", width=1),
                  annotation_text="median", annotation_position="bottom left")
    title = survival_takeaway(medians, dimension)
    subtitle = ("Kaplan–Meier: share still active by months since signup (earlier customers from the "
                "data's first day); shaded = 95% band")
    if p_value is not None and not pd.isna(p_value):
        subtitle += f"; log-rank p {fmt.p_value(p_value)}"
    base(fig, title, subtitle, height=470)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02], title_text="still active")
    fig.update_xaxes(title_text="months since signup")
    return fig


def churn_by_group(df: pd.DataFrame, dimension: str) -> go.Figure:
    """Logo churn rate per group (`churn_by_dimension`), highest on top."""
    d = df.dropna(subset=["churn_rate"]).sort_values("churn_rate")
    fig = go.Figure(go.Bar(
        x=d["churn_rate"], y=[fmt.chart_label(g) for g in d["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in d["group"]],
        text=[f"{fmt.percent(r)} ({fmt.count(n)} of {fmt.count(a)})"
              for r, n, a in zip(d["churn_rate"], d["churned"], d["active_start"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    title = churn_by_group_takeaway(df, dimension)
    base(fig, title, f"Logo churn over the period by {fmt.chart_label(dimension).lower()} (customers active at its start)",
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
    title = tenure_takeaway(tenure)
    base(fig, title, "Tenure at churn of the customers who left in the period", height=360, legend=False)
    fig.update_xaxes(tickangle=0, tickfont=dict(size=FONT_SIZE - 2))
    fig.update_yaxes(tickformat=".0%", range=[0, float(d["share"].max() or 0.1) * 1.25])
    return fig


def reasons_trend(trend: pd.DataFrame) -> go.Figure:
    """The churn-reason mix per month (`churn_reasons_by_month`) as stacked shares."""
    fig = go.Figure()
    order = trend.groupby("reason")["churned"].sum().sort_values(ascending=False).index
    for reason in order:
        r = trend[trend["reason"] == reason]
        fig.add_bar(x=r["month"], y=r["share"], name=fmt.chart_label(reason), marker_color=colour("reason", reason),
                    hovertemplate="%{x|%b %Y}: %{y:.0%}<extra>" + fmt.chart_label(reason) + "</extra>")
    title = reasons_trend_takeaway(trend)
    base(fig, title, "Share of each month's leavers by reason", height=420)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig
