"""Chart builders for purchase-log value (analytics/metrics/purchase_value.py): DataFrame
in, `go.Figure` out, no `st` inside. Kept apart from dashboard/charts.py (being split into
a package); the colours repeat the house palette's "good" / "bad" / neutral (Okabe–Ito)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from analytics.metrics.purchase_value import ALIVE_THRESHOLD

GOOD = "#0072B2"
BAD = "#D55E00"
NEUTRAL = "#7F7F7F"
TOP_SHARE = 0.10


def _layout(fig: go.Figure, title: str, subtitle: str, x_title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{subtitle}</sup>", x=0, xanchor="left"), height=420,
        margin=dict(t=90, l=60, r=20, b=50), barmode="stack", plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.18, x=0))
    fig.update_xaxes(title_text=x_title, showgrid=False)
    fig.update_yaxes(title_text=y_title, gridcolor="#E6E6E6")
    return fig


def top_share_of_value(values: pd.Series, share: float = TOP_SHARE) -> float:
    """Share of the total held by the top `share` of customers (NaN when the total is 0)."""
    v = np.sort(values.to_numpy(dtype=float))[::-1]
    total = v.sum()
    if total <= 0:
        return float("nan")
    return float(v[: max(1, int(np.ceil(len(v) * share)))].sum() / total)


def predicted_clv_chart(customers: pd.DataFrame) -> go.Figure:
    """Histogram of predicted CLV per customer (`purchase_value().customers`), the title
    saying how much of it the top 10% hold."""
    values = customers["predicted_clv"].astype(float)
    held = top_share_of_value(values)
    fig = go.Figure()
    fig.add_histogram(x=values, nbinsx=40, marker_color=GOOD, name="Customers",
                      hovertemplate="%{x}: %{y} customers<extra></extra>")
    title = (f"The top {TOP_SHARE:.0%} of buyers hold {fmt.percent(held, 0)} of predicted value"
             if not np.isnan(held) else "No predicted value in this selection")
    return _layout(fig, title, "Predicted CLV per customer: expected margin of the horizon (BG/NBD × Gamma-Gamma)",
                   "predicted CLV", "customers")


def p_alive_chart(customers: pd.DataFrame) -> go.Figure:
    """P(alive) of the repeat buyers in ten bins, the title saying what share is probably
    still buying (P(alive) ≥ the active threshold). One-time buyers are left out: BG/NBD
    gives them P(alive) = 1 by construction."""
    repeat = customers.loc[customers["frequency"] > 0, "p_alive"].astype(float)
    bins = np.linspace(0, 1, 11)
    counts, _ = np.histogram(repeat, bins=bins)
    labels = [f"{lo:.0%}–{hi:.0%}" for lo, hi in zip(bins[:-1], bins[1:])]
    colours = [GOOD if lo >= ALIVE_THRESHOLD else BAD for lo in bins[:-1]]
    fig = go.Figure()
    fig.add_bar(x=labels, y=counts, marker_color=colours, name="Repeat buyers",
                hovertemplate="P(alive) %{x}: %{y} customers<extra></extra>")
    share = float((repeat >= ALIVE_THRESHOLD).mean()) if len(repeat) else float("nan")
    title = (f"{fmt.percent(share, 0)} of repeat buyers are probably still buying" if len(repeat)
             else "No repeat buyers in this selection")
    return _layout(fig, title, f"P(alive) of customers who bought more than once; ≥ {ALIVE_THRESHOLD:.0%} "
                   "counts as active", "P(alive)", "customers")
