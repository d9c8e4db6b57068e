"""Purchase-log value (analytics/metrics/purchase_value.py): predicted CLV and P(alive) of
buyers without subscriptions. DataFrame in, `go.Figure` out; titles from
analytics.chart_takeaways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.chart_takeaways import p_alive_takeaway, predicted_purchase_value_takeaway
from analytics.metrics.purchase_value import ALIVE_THRESHOLD
from charts.theme import BAD, GOOD, base


def predicted_clv_chart(customers: pd.DataFrame) -> go.Figure:
    """Histogram of predicted CLV per customer (`purchase_value().customers`)."""
    values = customers["predicted_clv"].astype(float)
    fig = go.Figure()
    fig.add_histogram(x=values, nbinsx=40, marker_color=GOOD, name="Customers",
                      hovertemplate="%{x}: %{y} customers<extra></extra>")
    fig.update_xaxes(title_text="predicted CLV")
    fig.update_yaxes(title_text="customers")
    return base(fig, predicted_purchase_value_takeaway(values),
                "Predicted CLV per customer: expected margin of the horizon (BG/NBD × Gamma-Gamma)", legend=False)


def p_alive_chart(customers: pd.DataFrame) -> go.Figure:
    """P(alive) of the repeat buyers in ten bins. One-time buyers are left out: BG/NBD
    gives them P(alive) = 1 by construction."""
    repeat = customers.loc[customers["frequency"] > 0, "p_alive"].astype(float)
    bins = np.linspace(0, 1, 11)
    counts, _ = np.histogram(repeat, bins=bins)
    labels = [f"{lo:.0%}–{hi:.0%}" for lo, hi in zip(bins[:-1], bins[1:])]
    colours = [GOOD if lo >= ALIVE_THRESHOLD else BAD for lo in bins[:-1]]
    fig = go.Figure()
    fig.add_bar(x=labels, y=counts, marker_color=colours, name="Repeat buyers",
                hovertemplate="P(alive) %{x}: %{y} customers<extra></extra>")
    fig.update_xaxes(title_text="P(alive)")
    fig.update_yaxes(title_text="customers")
    return base(fig, p_alive_takeaway(repeat, ALIVE_THRESHOLD),
                f"P(alive) of customers who bought more than once; ≥ {ALIVE_THRESHOLD:.0%} counts as active",
                legend=False)
