"""Service & signals charts: first-contact resolution, SLA, wait times, satisfaction,
early warning, and churn signals in agent notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics import formatting as fmt
from analytics.chart_takeaways import (early_warning_takeaway, note_signal_summary_takeaway, service_trend_takeaway,
                                       sla_takeaway, wait_times_takeaway)
from analytics.takeaways import FCR_EXPECTATION, note_signals_takeaway, satisfaction_takeaway
from charts.theme import BAD, FONT_SIZE, GOOD, NEUTRAL, SECOND, TEXT_COLOUR, base, colour


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
    title = service_trend_takeaway(fcr, repeat)
    base(fig, title, "Share of service contacts resolved on first contact, and share that repeat "
          "an issue raised in the previous 7 days")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def sla_by_channel(levels: pd.DataFrame) -> go.Figure:
    """Response-SLA attainment per channel (`service_levels`)."""
    d = levels.dropna(subset=["sla_attainment"]).sort_values("sla_attainment")
    fig = go.Figure(go.Bar(
        # the SLA beside the channel's name, the n after the share: the labels fit a half-width chart
        x=d["sla_attainment"],
        y=[f"{fmt.chart_label(c)} · {fmt.duration(s)}" for c, s in zip(d["channel"], d["sla_seconds"])],
        orientation="h", marker_color=[colour("channel", c) for c in d["channel"]],
        text=[f"{fmt.percent(a, 0)} (n = {fmt.count(n)})" for a, n in zip(d["sla_attainment"], d["contacts"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    title = sla_takeaway(levels)
    base(fig, title, "Share of service contacts answered within the channel's SLA (beside its name)",
          height=max(300, 120 + 38 * len(d)), legend=False)
    fig.update_xaxes(tickformat=".0%", range=[0, 1.7], tickvals=[0, 0.25, 0.5, 0.75, 1])
    return fig


def wait_times(levels: pd.DataFrame) -> go.Figure:
    """Median and 90th-percentile wait per channel (`service_levels`), log scale."""
    d = levels.sort_values("wait_p90_seconds")
    names = [fmt.chart_label(c) for c in d["channel"]]
    fig = go.Figure()
    fig.add_bar(x=d["wait_p50_seconds"], y=names, orientation="h", name="Median (p50)", marker_color=GOOD,
                text=[fmt.duration(v) for v in d["wait_p50_seconds"]], textposition="outside", cliponaxis=False)
    fig.add_bar(x=d["wait_p90_seconds"], y=names, orientation="h", name="90th percentile (p90)",
                marker_color=SECOND, text=[fmt.duration(v) for v in d["wait_p90_seconds"]],
                textposition="outside", cliponaxis=False)
    title = wait_times_takeaway(levels)
    base(fig, title, "Wait (phone, chat, store) or time to first response (written channels); log scale",
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
    base(fig, title, "Survey answers per month", height=380, legend=False)
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
    title = early_warning_takeaway(unresolved)
    base(fig, title, "Churn in the next 90 days of customers active at the snapshot, by their contacts in the 90 days before",
          height=400, legend=False)
    top = float(np.nanmax(pd.concat([contacts["churn_rate"], unresolved["churn_rate"]]).to_numpy())) if (
        len(contacts) or len(unresolved)) else 0.1
    fig.update_yaxes(tickformat=".0%", range=[0, top * 1.25])
    fig.update_xaxes(type="category")
    fig.update_annotations(font_size=FONT_SIZE)
    return fig


# One fixed colour per note signal (analytics.risk.note_signals.NOTE_SIGNALS order).
SIGNAL_COLOURS = {
    "cancel_intent": "#D55E00", "competitor": "#CC79A7", "price": "#E69F00", "moving": "#009E73",
    "dissatisfaction": "#0072B2", "billing": "#56B4E9", "any_signal": NEUTRAL,
}


def note_signals_chart(summary: pd.DataFrame) -> go.Figure:
    """Per note signal (`note_signal_summary`, without the ``any_signal`` row): share of
    notes firing it (left) and churn within 90 days after it against the signal-free
    baseline (right, dashed line)."""
    d = summary[summary["signal"] != "any_signal"].iloc[::-1]
    names = [fmt.chart_label(s) for s in d["signal"]]
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
    title = note_signal_summary_takeaway(summary)
    base(fig, title, "Notes of the period by signal, and churn within 90 days after a customer's first "
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
        fig.add_scatter(x=rows["month"], y=rows["share_of_notes"], name=fmt.chart_label(signal), mode="lines+markers",
                        line=dict(color=SIGNAL_COLOURS.get(signal, NEUTRAL), width=3),
                        hovertemplate="%{x|%b %Y}: %{y:.1%} of notes<extra>" + fmt.chart_label(signal) + "</extra>")
    title = note_signals_takeaway(trend)
    base(fig, title, "Share of each month's notes that fire the signal (a note may fire several)")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return fig
