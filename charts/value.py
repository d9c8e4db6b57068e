"""Customer value charts: CLV distributions (historical and predicted), Pareto curve, value
tiers, CLV : CAC."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from analytics.chart_takeaways import (clv_cac_takeaway, clv_takeaway, pareto_takeaway, predicted_clv_takeaway,
                                       value_tiers_takeaway)
from charts.theme import BAD, FONT_SIZE, GOOD, MUTED, NEUTRAL, TEXT_COLOUR, base, colour, money_axis, rgba


def clv_boxes(quantiles_by_group: dict[str, pd.DataFrame], dimension: str = "segment") -> go.Figure:
    """CLV distribution per group from precomputed quantiles (`clv_quantiles` with 0.1,
    0.25, 0.5, 0.75, 0.9): box = quartiles, whiskers = 10th and 90th percentiles."""
    fig = go.Figure()
    for group, q in quantiles_by_group.items():
        if q.empty:
            continue
        v = dict(zip(q["quantile"].round(3), q["clv"]))
        fig.add_trace(go.Box(
            name=fmt.chart_label(group), x=[fmt.chart_label(group)], q1=[v[0.25]], median=[v[0.5]], q3=[v[0.75]],
            lowerfence=[v[0.1]], upperfence=[v[0.9]], marker_color=colour(dimension, group),
            line=dict(width=2), fillcolor=rgba(colour(dimension, group), 0.35), boxpoints=False,
            hoverinfo="skip",
        ))
        fig.add_annotation(x=fmt.chart_label(group), y=v[0.5], text=fmt.money(v[0.5]), showarrow=False,
                           xshift=95, font=dict(size=FONT_SIZE - 1))
    title = clv_takeaway(quantiles_by_group)
    base(fig, title, "Historical CLV per customer: box = middle half, whiskers = 10th–90th percentile",
          height=430, legend=False)
    money_axis(fig)
    return fig


def pareto_curve(curve: pd.DataFrame, top_share: float, top_value_share: float) -> go.Figure:
    """Cumulative share of value against share of customers, most valuable first
    (`clv_pareto_curve`): the Lorenz/Pareto curve."""
    fig = go.Figure()
    fig.add_scatter(x=curve["customer_share"], y=curve["value_share"], mode="lines", line=dict(color=GOOD, width=3),
                    name="Cumulative value", fill="tozeroy", fillcolor=rgba(GOOD, 0.12),
                    hovertemplate="top %{x:.0%} of customers hold %{y:.0%} of value<extra></extra>")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color=NEUTRAL, dash="dot", width=1),
                    name="Equal value", hoverinfo="skip")
    fig.add_scatter(x=[top_share], y=[top_value_share], mode="markers+text", marker=dict(size=12, color=BAD),
                    text=[f"  {top_share:.0%} → {fmt.percent(top_value_share, 0)}"], textposition="middle right",
                    showlegend=False, hoverinfo="skip")
    title = pareto_takeaway(top_share, top_value_share)
    base(fig, title, "Share of total historical CLV held by the most valuable customers", height=430, legend=False)
    fig.update_xaxes(tickformat=".0%", title_text="customers, most valuable first", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", title_text="share of value", range=[0, 1.02])
    return fig


def value_tiers_chart(tiers: pd.DataFrame) -> go.Figure:
    """Share of customers and share of value per value tier (`value_tiers`)."""
    d = tiers.sort_values("tier_order")
    names = [fmt.chart_label(t) for t in d["value_tier"]]
    fig = go.Figure()
    fig.add_bar(x=names, y=d["share_of_customers"], name="Share of customers", marker_color=NEUTRAL,
                text=[fmt.percent(v, 0) for v in d["share_of_customers"]], textposition="outside")
    fig.add_bar(x=names, y=d["share_of_value"], name="Share of value",
                marker_color=[colour("value_tier", t) for t in d["value_tier"]],
                text=[fmt.percent(v, 0) for v in d["share_of_value"]], textposition="outside")
    title = value_tiers_takeaway(tiers)
    base(fig, title, "Customers ranked by historical CLV: top 10% platinum, next 20% gold, next 30% silver, rest bronze",
          height=400)
    fig.update_layout(barmode="group", bargap=0.3)
    fig.update_yaxes(tickformat=".0%", range=[0, float(d[["share_of_customers", "share_of_value"]].max().max()) * 1.2])
    return fig


def clv_cac_chart(df: pd.DataFrame, dimension: str) -> go.Figure:
    """Historical CLV : acquisition cost per group (`clv_cac_ratio`), with break-even."""
    d = df.dropna(subset=["clv_cac_ratio"]).sort_values("clv_cac_ratio")
    fig = go.Figure(go.Bar(
        x=d["clv_cac_ratio"], y=[fmt.chart_label(g) for g in d["group"]], orientation="h",
        marker_color=[colour(dimension, g) for g in d["group"]],
        text=[f"{fmt.multiple(r)}  ({fmt.money(c)} vs {fmt.money(a)})"
              for r, c, a in zip(d["clv_cac_ratio"], d["mean_clv"], d["mean_cac"])],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{text}<extra></extra>",
    ))
    fig.add_vline(x=1, line=dict(color=BAD, dash="dash", width=2), annotation_text="break-even 1×",
                  annotation_position="top right", annotation_yanchor="bottom")  # above the bars
    title = clv_cac_takeaway(df)
    base(fig, title, f"Historical CLV ÷ acquisition cost by {fmt.chart_label(dimension).lower()} "
          "(mean CLV vs mean CAC in brackets)", height=max(280, 120 + 40 * len(d)), legend=False)
    fig.update_xaxes(title_text="CLV ÷ CAC", range=[0, float(d["clv_cac_ratio"].max() or 1) * 1.6], ticksuffix="×")
    return fig


def predicted_clv_boxes(quantiles_by_group: dict[str, pd.DataFrame], dimension: str = "segment") -> go.Figure:
    """Per group, historical CLV (to date) beside predicted CLV of the same scored
    customers (`predicted_clv_quantiles` with 0.1, 0.25, 0.5, 0.75, 0.9): box = quartiles,
    whiskers = 10th and 90th percentiles; light box historical, solid box predicted."""
    fig = go.Figure()
    drawn = [(group, q) for group, q in quantiles_by_group.items() if not q.empty]
    for i, (group, q) in enumerate(drawn):  # i: the category's position on the axis
        name = fmt.chart_label(group)
        for column, kind, alpha in (("clv_historical", "to date", 0.12), ("clv_predicted", "predicted", 0.55)):
            v = dict(zip(q["quantile"].round(3), q[column]))
            fig.add_trace(go.Box(
                name=kind, x=[name], q1=[v[0.25]], median=[v[0.5]], q3=[v[0.75]], lowerfence=[v[0.1]],
                upperfence=[v[0.9]], marker_color=colour(dimension, group), line=dict(width=2),
                fillcolor=rgba(colour(dimension, group), alpha), boxpoints=False, offsetgroup=kind,
                legendgroup=kind, showlegend=False, hoverinfo="skip",
            ))
        fig.add_annotation(x=i - 0.175, y=0, yref="paper", yanchor="top", yshift=-2, text="to date",
                           showarrow=False, font=dict(size=FONT_SIZE - 3, color=MUTED))
        fig.add_annotation(x=i + 0.175, y=0, yref="paper", yanchor="top", yshift=-2, text="predicted",
                           showarrow=False, font=dict(size=FONT_SIZE - 3, color=MUTED))
        v_hist = dict(zip(q["quantile"].round(3), q["clv_historical"]))
        v_pred = dict(zip(q["quantile"].round(3), q["clv_predicted"]))
        # a category axis places category i at x = i; grouped boxes sit ±0.175 either side
        # (boxgap 0.3), so each median goes above its own box's upper whisker
        for offset, v, colour_ in ((-0.175, v_hist, MUTED), (0.175, v_pred, TEXT_COLOUR)):
            fig.add_annotation(x=i + offset, y=v[0.9], text=fmt.money(v[0.5]), showarrow=False, yshift=12,
                               font=dict(size=FONT_SIZE - 2, color=colour_))
    title = predicted_clv_takeaway(quantiles_by_group)
    base(fig, title, "Active scored customers: light box = CLV to date, solid box = predicted (to date + "
          "expected margin of the next 24 months); whiskers = 10th–90th percentile", height=430, legend=False)
    fig.update_layout(boxmode="group", boxgap=0.3, boxgroupgap=0.3)
    fig.update_xaxes(ticklabelstandoff=24)
    money_axis(fig)
    return fig
