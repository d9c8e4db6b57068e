"""Data quality chart: failing records per check."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics import formatting as fmt
from analytics.chart_takeaways import data_quality_chart_takeaway
from charts.theme import DQ_DIMENSION_COLOURS, NEUTRAL, base


def data_quality_chart(report: pd.DataFrame) -> go.Figure:
    """Failing records per check (`data_quality_report`), coloured by quality dimension."""
    d = report[report["failing"] > 0].sort_values("failing")
    fig = go.Figure()
    for dim, g in d.groupby("dimension", sort=False):
        fig.add_bar(
            x=g["failing"], y=[fmt.chart_label(c) for c in g["check"]], orientation="h", name=fmt.chart_label(dim),
            marker_color=DQ_DIMENSION_COLOURS.get(dim, NEUTRAL),
            text=[f"{fmt.count(n)} ({fmt.percent(r, 2)})" for n, r in zip(g["failing"], g["rate"])],
            textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra>" + fmt.chart_label(dim) + "</extra>",
        )
    title = data_quality_chart_takeaway(report)
    base(fig, title, "Records failing each check, coloured by quality dimension (checks that pass are not shown)",
          height=max(320, 130 + 34 * len(d)))
    fig.update_layout(barmode="stack", yaxis=dict(categoryorder="total ascending"))
    fig.update_xaxes(range=[0, float(d["failing"].max() or 1) * 1.35], tickformat=",")
    return fig
