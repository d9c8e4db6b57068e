"""Small Streamlit render helpers every page shares: charts with the PNG toolbar,
downloadable tables, KPI cards, empty states. Layout only — no metric logic."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics import formatting as fmt
from analytics.export import csv_bytes, excel_bytes  # noqa: F401 — every download goes through them
from analytics.headlines import Kpi
from analytics.takeaways import enough, too_few
from charts.theme import PLOTLY_CONFIG, fit_title
from dashboard.auth import audited_download  # every export is written to the audit log (decision 023)
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
                "CSV", audited_download(f"{key}.csv (chart data)", lambda: data, lambda frame: csv_bytes(frame)),
                file_name=f"{key}.csv", mime="text/csv", on_click="ignore",
                icon=":material/download:", type="tertiary", key=f"csv_{key}",
                help="Download the data behind this chart",
            )


def table(df: pd.DataFrame, key: str, column_config: dict | None = None, height: int | str = "auto",
          column_order: list[str] | None = None) -> None:
    """A table with Streamlit's own toolbar (search, CSV download) and no index. With
    `column_order`, only those columns show at first; the others stay in the frame and the
    toolbar's column menu can show them (a table that must fit the screen)."""
    st.dataframe(df, hide_index=True, column_config=column_config, key=f"table_{key}", height=height,
                 column_order=column_order)


def section(title: str, anchor: str | None = None, help_text: str = "") -> None:
    """A section heading with a help tooltip that links to the definition."""
    tip = " ".join(t for t in (help_text, help_link(anchor) if anchor else "") if t)
    st.subheader(title, help=tip or None, anchor=_slug(title))


def kpi(column, label: str, value: str, delta: str | None = None, *, help_text: str = "",
        anchor: str | None = None, inverse: bool = False, sparkline=None, chart_type: str = "line",
        delta_description: str | None = None, n: float | None = None, unit: str = "customers") -> None:
    """A KPI card: value, change from the previous period, sparkline and definition link.
    `n` is the count behind a rate (in `unit`s): shown under the value, and below
    `takeaways.MIN_N` the value is greyed, the change uncoloured and marked too few."""
    tip = " ".join(t for t in (help_text, help_link(anchor) if anchor else "") if t)
    data = _spark(sparkline)
    colour = "inverse" if inverse else "normal"
    if n is not None and not pd.isna(n):
        note = f"n = {fmt.count(n)} {unit}" if enough(n) else too_few(n).replace("customers", unit)
        delta_description = " · ".join(t for t in (delta_description, note) if t)
        if not enough(n):
            value, colour = (f":gray[{value}]" if value != "—" else value), "gray"
    column.metric(
        label, value, delta=delta, delta_color=colour, help=tip or None,
        border=True, height="stretch", chart_data=data, chart_type=chart_type, delta_description=delta_description,
    )


TONE_COLOURS = {"good": "green", "bad": "red", "neutral": "gray"}


def kpi_card(column, k: Kpi) -> None:
    """A headline KPI (`analytics.headlines.Kpi`) as a card: the value (greyed with its n
    when too few customers are behind it), the change against the previous window —
    saying what it compares and coloured by whether the change is good for the business
    (`Kpi.change_tone`) — the sparkline, and the definition link."""
    if k.unavailable:
        kpi(column, k.name, "—", help_text=k.unavailable, anchor=k.anchor, delta_description=k.needs or None)
        return
    value = k.show(k.value)
    notes = [k.change_words, k.n_note]
    trend = f" ({k.trend_words})" if k.trend_words and k.reliable else ""
    help_text = " ".join(t for t in (
        k.explanation, f"n = {fmt.count(k.n)}." if k.kind == "rate" and not pd.isna(k.n) else "",
        f"The change is against {k.previous_words} Green or red: good or bad for the business; grey "
        "within noise." if k.change_words else "",
        f"Sparkline: {k.trend_name}{trend}." if k.trend_name else "") if t)
    column.metric(
        k.name, value if k.reliable else f":gray[{value}]",
        delta=None if k.show_change() == "—" else k.show_change(), delta_color=TONE_COLOURS[k.change_tone],
        help=" ".join(t for t in (help_text, help_link(k.anchor)) if t), border=True, height="stretch",
        chart_data=_spark(k.trend.values if k.trend else None),
        chart_type="area" if k.kind != "rate" else "line",
        delta_description=" · ".join(n for n in notes if n) or None,
    )


def _spark(values) -> list[float] | None:
    if values is None:
        return None
    data = [float(v) for v in values if v is not None and not pd.isna(v)]
    return data if len(data) >= 2 else None


def empty(message: str) -> None:
    st.info(message, icon=":material/filter_alt_off:")


def needs_data(message: str) -> None:
    """One line saying which data a part of a section needs and that the selection lacks it
    ("Service levels need wait times — …"): normal for real exports, not an error."""
    st.caption(f":material/info: {message}")


NO_MATCH = ("No customers match these filters. Widen the segment, region or plan selection "
            "in the sidebar, or clear them to see the whole base.")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
