"""Overview charts: the churn and revenue-retention trends, targets, movers."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from charts.theme import BAD, GOOD, NEUTRAL, SECOND, TEXT_COLOUR, base


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
    base(fig, title, "Share of customers (solid) and of MRR (dotted) lost each month")
    fig.update_yaxes(tickformat=".1%", rangemode="tozero", title_text="")
    fig.update_xaxes(title_text="")
    return fig


def revenue_retention_trend(revenue: pd.DataFrame, title: str) -> go.Figure:
    """Monthly NRR and GRR (`revenue_retention`, freq month) with the 100% line, under
    `title` (`analytics.takeaways.revenue_retention_takeaway`)."""
    fig = go.Figure()
    fig.add_scatter(
        x=revenue["first_month"], y=revenue["nrr"], name="NRR", mode="lines+markers",
        line=dict(color=GOOD, width=3), hovertemplate="%{x|%b %Y}: %{y:.2%}<extra>Monthly NRR</extra>",
    )
    fig.add_scatter(
        x=revenue["first_month"], y=revenue["grr"], name="GRR", mode="lines+markers",
        line=dict(color=SECOND, width=3, dash="dot"), hovertemplate="%{x|%b %Y}: %{y:.2%}<extra>Monthly GRR</extra>",
    )
    fig.add_hline(y=1.0, line=dict(color=NEUTRAL, dash="dash", width=1))
    base(fig, title, "Monthly net (with expansion) and gross revenue retention of the starting book")
    fig.update_yaxes(tickformat=".1%", title_text="")
    return fig


def targets_chart(comparison: pd.DataFrame, title: str) -> go.Figure:
    """The quarter's targets against actuals (`targets_vs_actuals`) on one scale: the bar
    is the actual as a share of its target (target ÷ actual for churn, where lower is
    better), so 100% means on target; blue met, red missed; labels give the raw values."""
    rows = comparison.dropna(subset=["actual", "target"]).iloc[::-1]
    names, lengths, texts, colours, verdicts = [], [], [], [], []
    for r in rows.itertuples():
        show = fmt.count if r.metric == "saved_customers" else (lambda v: fmt.percent(v, 2))
        names.append({"churn_rate": "Logo churn", "retention_rate": "Retention"}.get(r.metric, fmt.chart_label(r.metric)))
        if r.higher_is_better:
            lengths.append(r.actual / r.target if r.target else float("nan"))
        else:
            lengths.append(r.target / r.actual if r.actual else float("nan"))
        texts.append(f"{show(r.actual)} vs target {show(r.target)}")
        verdicts.append("" if pd.isna(r.met) else ("Met" if bool(r.met) else "Missed"))
        colours.append(NEUTRAL if pd.isna(r.met) else (GOOD if bool(r.met) else BAD))
    fig = go.Figure(go.Bar(
        x=lengths, y=names, orientation="h", marker_color=colours, text=texts,
        textposition="outside", cliponaxis=False, customdata=verdicts,
        hovertemplate="%{y}: %{text} · %{customdata}<extra></extra>",
    ))
    fig.add_vline(x=1.0, line=dict(color=TEXT_COLOUR, width=2), annotation_text="target",
                  annotation_position="top")
    base(fig, title, "Actual as a share of target (for churn: target ÷ actual); 100% = on target",
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
    base(fig, title, "Change in logo churn rate against the previous period, by group",
          height=max(300, 110 + 38 * len(m)), legend=False)
    high = float(m["change"].max()) if len(m) else 0.01
    low = float(m["change"].min()) if len(m) else -0.01
    span = max(abs(high), abs(low), 0.001)
    # room for the outside labels on whichever side the bars grow
    fig.update_xaxes(tickformat="+.1%", zeroline=True, zerolinecolor=TEXT_COLOUR,
                     range=[min(low, 0) * 2.6 - span * 0.1, max(high, 0) * 2.6 + span * 0.1])
    return fig


def mrr_waterfall_chart(w: pd.Series, title: str) -> go.Figure:
    """The MRR waterfall (`metrics.mrr_waterfall`'s row): opening MRR, the gains (new,
    expansion, reactivation when any) in blue, the losses (contraction, churned) in red,
    closing MRR; under `title` (`analytics.takeaways.mrr_waterfall_takeaway`)."""
    steps = [("New", w["new_mrr"]), ("Expansion", w["expansion_mrr"])]
    if w["reactivation_mrr"] > 0:
        steps.append(("Reactivation", w["reactivation_mrr"]))
    steps += [("Contraction", -w["contraction_mrr"]), ("Churned", -w["churned_mrr"])]
    opening, closing = f"MRR {w['opening_day']:%d %b %Y}", f"MRR {w['closing_day']:%d %b %Y}"
    x = [opening, *(name for name, _ in steps), closing]
    y = [w["opening_mrr"], *(v for _, v in steps), w["closing_mrr"]]
    texts = [fmt.money(w["opening_mrr"]), *(fmt.signed_money(v) for _, v in steps), fmt.money(w["closing_mrr"])]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=["absolute", *(["relative"] * len(steps)), "total"], text=texts,
        textposition="outside", cliponaxis=False,
        increasing=dict(marker=dict(color=GOOD)), decreasing=dict(marker=dict(color=BAD)),
        totals=dict(marker=dict(color=NEUTRAL)), connector=dict(line=dict(color=NEUTRAL, width=1)),
        hovertemplate="%{x}: %{text}<extra></extra>",
    ))
    base(fig, title, "Monthly recurring revenue from the window's opening to its closing day, by movement",
         height=360, legend=False)
    # bars of money start at zero, with room above the tallest for its label
    top = max(float(w["opening_mrr"]), float(w["closing_mrr"]),
              float(w["opening_mrr"] + w["new_mrr"] + w["expansion_mrr"] + w["reactivation_mrr"]))
    fig.update_yaxes(range=[0, top * 1.15 if top > 0 else 1], tickformat="~s", title_text="")
    fig.update_xaxes(title_text="")
    return fig
