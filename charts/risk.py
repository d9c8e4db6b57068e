"""Risk charts: the customer-360 panel (At-risk customers page) and the churn model's
calibration, lift and driver importance (Model page)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics import formatting as fmt
from analytics.chart_takeaways import (calibration_takeaway, customer_mrr_takeaway, importance_takeaway,
                                       lift_takeaway, score_history_takeaway)
from charts.theme import BAD, GOOD, NEUTRAL, base, money_axis, rgba


def score_history_chart(history: pd.DataFrame) -> go.Figure:
    """The customer's 90-day churn probability at each scoring date, expected loss on hover."""
    title = score_history_takeaway(history)
    fig = go.Figure()
    fig.add_scatter(
        x=history["scored_on"], y=history["churn_probability"], mode="lines+markers", name="Churn probability",
        line=dict(color=BAD, width=3), marker=dict(size=9),
        customdata=history[["expected_loss"]].to_numpy(),
        hovertemplate="%{x|%d %b %Y}<br>P(churn in 90 days) %{y:.1%}<br>expected loss "
                      + fmt.currency_symbol() + "%{customdata[0]:,.0f}<extra></extra>",
    )
    base(fig, title, "90-day churn probability at each month-end scoring", height=300, legend=False)
    top = max(float(history["churn_probability"].max()) * 1.25, 0.05)
    fig.update_yaxes(tickformat=".0%", range=[0, min(top, 1.0)])
    fig.update_xaxes(tickformat="%b %Y")
    return fig


def customer_mrr_chart(revenue: pd.DataFrame) -> go.Figure:
    """The customer's MRR by month."""
    title = customer_mrr_takeaway(revenue)
    fig = go.Figure()
    fig.add_scatter(x=revenue["month"], y=revenue["mrr"], mode="lines", line=dict(color=GOOD, width=3,
                    shape="hv"), name="MRR", hovertemplate="%{x|%b %Y}<br>MRR " + fmt.currency_symbol()
                    + "%{y:,.2f}<extra></extra>")
    base(fig, title, "Monthly recurring revenue since signup", height=300, legend=False)
    money_axis(fig)
    fig.update_yaxes(rangemode="tozero")
    return fig


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
    title = calibration_takeaway(calibration)
    base(fig, title, "Backtest customers in ten equal bins by predicted 90-day churn probability: mean "
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
                marker_color=[BAD if k == 1 else rgba(BAD, 0.45) for k in d["decile"]],
                text=[fmt.multiple(v) for v in d["lift"]], textposition="outside", cliponaxis=False,
                hovertemplate="decile %{x}: %{y:.1%} churned (%{text} the average)<extra></extra>",
                secondary_y=False)
    fig.add_scatter(x=d["decile"], y=d["cumulative_capture"], name="Churners captured (cumulative)",
                    mode="lines+markers", line=dict(color=GOOD, width=3),
                    hovertemplate="riskiest %{x}0%: %{y:.0%} of churners<extra></extra>", secondary_y=True)
    title = lift_takeaway(lift)
    base(fig, title, "Backtest customers in tenths by predicted risk, riskiest first: churn rate (bars, "
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
        x=d["auc_drop"], y=[fmt.chart_label(g) for g in d["group"]], orientation="h", marker_color=GOOD,
        text=[f"{v:.4f} ± {sd:.4f}" for v, sd in zip(d["auc_drop"], d["auc_drop_std"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: AUC falls by %{x:.4f} when shuffled<extra></extra>",
    ))
    title = importance_takeaway(importance)
    base(fig, title, f"Drop in backtest ROC AUC when a driver group is shuffled (top {len(d)}; "
          "mean ± standard deviation over repeated shuffles)", height=max(300, 110 + 34 * len(d)), legend=False)
    high = float((d["auc_drop"] + d["auc_drop_std"]).max()) if len(d) else 0.01
    fig.update_xaxes(range=[min(0.0, float(d["auc_drop"].min()) if len(d) else 0.0), max(high, 0.001) * 1.45],
                     title_text="ROC AUC drop")
    return fig
