"""Retention ROI charts: the measured programme (worked vs control group), the programme
waterfall, the churn-reduction what-if, replace or keep."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from analytics.chart_takeaways import replace_or_keep_takeaway, roi_waterfall_takeaway, whatif_takeaway
from charts.theme import BAD, GOOD, GRID_COLOUR, NEUTRAL, base, money_axis


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
    title = roi_waterfall_takeaway(result)
    base(fig, title, "Saved customers × value per saved customer, less the cost of actions and accepted offers",
          height=400, legend=False)
    money_axis(fig)
    top = max(result.retained_value, result.net_benefit, 1.0)
    fig.update_yaxes(range=[min(0, result.net_benefit) * 1.2, top * 1.18])
    return fig


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
    title = whatif_takeaway(whatif)
    base(fig, title, "Revenue from today's customers (no new sales), monthly churn applied each month", height=400)
    fig.update_layout(barmode="group")
    money_axis(fig)
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
    title = replace_or_keep_takeaway(result)
    base(fig, title, "Acquisition cost of replacing the period's leavers vs the cost of a retention action and offer each",
          height=400, legend=False)
    money_axis(fig)
    fig.update_yaxes(range=[0, max(v for _, v, _ in d) * 1.2 if d else 1])
    return fig


def measured_churn_chart(result) -> go.Figure:
    """Churn over the follow-up window of the control group and of the worked customers,
    each with its Wilson 95 % interval (`analytics.programme.MeasuredProgramme`); the title
    states the uplift and its Newcombe interval."""
    from analytics.programme import wilson_interval

    groups = [("Control group (held out)", result.held_out_churned, result.held_out, NEUTRAL),
              ("Worked", result.worked_churned, result.worked, GOOD)]
    rates = [x / n for _, x, n, _ in groups]
    bounds = [wilson_interval(x, n, result.confidence) for _, x, n, _ in groups]
    fig = go.Figure(go.Bar(
        x=[g[0] for g in groups], y=rates, marker_color=[g[3] for g in groups], width=0.5,
        error_y=dict(type="data", symmetric=False, array=[hi - r for r, (_, hi) in zip(rates, bounds)],
                     arrayminus=[r - lo for r, (lo, _) in zip(rates, bounds)], color=GRID_COLOUR),
        hovertemplate="%{x}: %{y:.1%}<extra></extra>",
    ))
    for (name, _, n, _), r, (_, hi) in zip(groups, rates, bounds):  # above the whisker, not crossed by it
        fig.add_annotation(x=name, y=hi, text=f"{fmt.percent(r)} of {fmt.count(n)}", showarrow=False,
                           yanchor="bottom", yshift=2)
    direction = "less" if result.uplift >= 0 else "more"
    title = (f"Worked customers churned {abs(result.uplift) * 100:.1f} points {direction} than the control group "
             f"({result.confidence:.0%} interval {fmt.points(result.uplift_low)} to {fmt.points(result.uplift_high)})")
    base(fig, title, f"Churn within {result.follow_up_days} days of being listed; whiskers: Wilson "
         f"{result.confidence:.0%} intervals", height=380, legend=False)
    fig.update_yaxes(tickformat=".0%", range=[0, max(hi for _, hi in bounds) * 1.2 or 1])
    return fig
