"""Small Streamlit render helpers every page shares: charts with the PNG toolbar,
downloadable tables, KPI cards, empty states. Layout only — no metric logic."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.charts import PLOTLY_CONFIG, fit_title
from dashboard.glossary import help_link


def chart(fig: go.Figure, key: str, data: pd.DataFrame | None = None, help_anchor: str | None = None,
          caption: str | None = None, width: str = "full") -> None:
    """A plotly chart with its toolbar (PNG export), an optional caption linking to the
    definition, and the chart's data as a CSV download. `width` is the share of the page
    the chart gets ("full", "wide" = 3/5, "half", "narrow" = 2/5): titles wrap to fit it."""
    st.plotly_chart(fit_title(fig, width), config=PLOTLY_CONFIG, theme=None, key=f"chart_{key}")
    notes = [n for n in (caption, help_link(help_anchor) if help_anchor else None) if n]
    if notes or data is not None:
        left, right = st.columns([5, 1], vertical_alignment="center")
        if notes:
            left.caption(" · ".join(notes))
        if data is not None:
            right.download_button(
                "CSV", csv_bytes(data), file_name=f"{key}.csv", mime="text/csv",
                icon=":material/download:", type="tertiary", key=f"csv_{key}",
                help="Download the data behind this chart",
            )


def table(df: pd.DataFrame, key: str, column_config: dict | None = None, height: int | str = "auto") -> None:
    """A table with Streamlit's own toolbar (search, CSV download) and no index."""
    st.dataframe(df, hide_index=True, column_config=column_config, key=f"table_{key}", height=height)


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def excel_bytes(df: pd.DataFrame, sheet: str = "Data") -> bytes:
    """`df` as an .xlsx workbook: one sheet, a frozen bold header, columns sized to fit."""
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        df.to_excel(writer, sheet_name=sheet, index=False)
        ws = writer.sheets[sheet]
        ws.freeze_panes(1, 0)
        for i, column in enumerate(df.columns):
            longest = max([len(str(column))] + [len(str(v)) for v in df[column].head(200)])
            ws.set_column(i, i, min(longest + 2, 60))
    return buffer.getvalue()


def section(title: str, anchor: str | None = None, help_text: str = "") -> None:
    """A section heading with a help tooltip that links to the definition."""
    tip = " ".join(t for t in (help_text, help_link(anchor) if anchor else "") if t)
    st.subheader(title, help=tip or None, anchor=_slug(title))


def kpi(column, label: str, value: str, delta: str | None = None, *, help_text: str = "",
        anchor: str | None = None, inverse: bool = False, sparkline=None, chart_type: str = "line",
        delta_description: str | None = None) -> None:
    """A KPI card: value, change from the previous period, sparkline and definition link."""
    tip = " ".join(t for t in (help_text, help_link(anchor) if anchor else "") if t)
    data = None
    if sparkline is not None:
        data = [float(v) for v in sparkline if v is not None and not pd.isna(v)]
        data = data if len(data) >= 2 else None
    column.metric(
        label, value, delta=delta, delta_color="inverse" if inverse else "normal", help=tip or None,
        border=True, height="stretch", chart_data=data, chart_type=chart_type, delta_description=delta_description,
    )


def empty(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


NO_MATCH = ("No customers match these filters. Widen the segment, region or plan selection "
            "in the sidebar, or clear them to see the whole base.")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
