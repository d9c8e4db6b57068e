"""The story's charts as plotly figures for the presentation page: the same specs as the
deck and the PDF (`reports.specs`), drawn for a screen across the room — large type, one
screen per slide, the takeaway as the title. A DataFrame-free `go.Figure` out, no
Streamlit here (the page renders it).
"""

from __future__ import annotations

import textwrap
from html import escape

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics import formatting as fmt
from charts.theme import FONT_FAMILY, GRID_COLOUR, TEXT_COLOUR
from reports.specs import MUTED, ChartSpec, kpi_header, kpi_rows, show, slide_charts, status_colour
from reports.story import Section, Story

FONT_SIZE = 22
TITLE_SIZE = 34
SUBTITLE_SIZE = 20
TICK_FORMATS = {"percent2": ".1%", "percent1": ".1%", "percent0": ".0%", "count": ",.0f", "money": "~s"}
HEIGHT = 720
LEGEND_ROW = 40   # px the legend takes above the panels (it never sits among the axis labels)
PANEL_TITLES = 50  # px for the panels' headings


def _wrap(text: str, width: int) -> str:
    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def _layout(fig: go.Figure, section: Section, legend: bool, titled: bool) -> go.Figure:
    if titled:
        title = _wrap(section.title, 70)
        subtitle = _wrap(section.subtitle, 110)
        top = 60 + 44 * (title.count("<br>") + 1) + 28 * (subtitle.count("<br>") + 1)
        fig.update_layout(title=dict(
            text=title, font=dict(size=TITLE_SIZE),
            subtitle=dict(text=subtitle, font=dict(size=SUBTITLE_SIZE, color=MUTED)),
            x=0, xanchor="left", xref="container", y=1, yanchor="top", yref="container", pad=dict(t=20, l=10)))
    else:
        top = PANEL_TITLES  # the page shows the takeaway as text
    # The legend is a row at the top, between the title and the panel headings: below the
    # plot it ran into the rotated month labels (plotly reserves the bottom margin for the
    # labels or the legend, whichever needs more, never both).
    legend_y = 1 - top / HEIGHT if titled else 1.0  # container fraction: just under the title, or the top
    if legend:
        top += LEGEND_ROW
    fig.update_layout(
        template="plotly_white",
        height=HEIGHT if titled else HEIGHT - 140,
        font=dict(family=FONT_FAMILY, size=FONT_SIZE, color=TEXT_COLOUR),
        margin=dict(l=20, r=30, t=top, b=20),
        showlegend=legend,
        legend=dict(orientation="h", yref="container", yanchor="top", y=legend_y, xanchor="left", x=0,
                    font=dict(size=FONT_SIZE)),
        hoverlabel=dict(font_size=FONT_SIZE),
        separators=".,",
    )
    fig.update_xaxes(gridcolor=GRID_COLOUR, automargin=True, tickfont=dict(size=FONT_SIZE))
    fig.update_yaxes(gridcolor=GRID_COLOUR, automargin=True, tickfont=dict(size=FONT_SIZE))
    fig.update_annotations(font_size=FONT_SIZE + 2)
    return fig


def _trace(spec: ChartSpec, fig: go.Figure, col: int) -> None:
    for s in spec.series:
        texts = [show(v, spec.value_format) for v in s.values]
        colours = list(s.point_colours) if s.point_colours else s.colour
        if spec.kind in ("line", "xy"):
            x = list(spec.categories) if spec.kind == "line" else list(spec.x_values)
            fig.add_scatter(x=x, y=list(s.values), name=s.name, mode="lines+markers" if spec.kind == "line" else "lines",
                            line=dict(color=s.colour, width=4 if not s.dashed else 3, dash="dot" if s.dashed else None),
                            marker=dict(size=9), hovertemplate="%{x}: %{text}<extra>" + s.name + "</extra>",
                            text=texts, row=1, col=col, legendgroup=s.name)
        elif spec.kind == "bar":
            fig.add_bar(y=list(spec.categories), x=list(s.values), orientation="h", name=s.name, marker_color=colours,
                        text=texts if spec.data_labels else None, textposition="outside", cliponaxis=False,
                        textfont=dict(size=FONT_SIZE), row=1, col=col)
        else:
            fig.add_bar(x=list(spec.categories), y=list(s.values), name=s.name, marker_color=colours,
                        text=texts if spec.data_labels else None, textposition="outside", cliponaxis=False,
                        textfont=dict(size=FONT_SIZE), row=1, col=col)
    tick = TICK_FORMATS[spec.value_format]
    if spec.kind == "bar":
        top = max((v for s in spec.series for v in s.values if v is not None), default=1.0)
        fig.update_yaxes(autorange="reversed", row=1, col=col)
        fig.update_xaxes(visible=False, range=[0, top * 1.3 if top > 0 else 1], row=1, col=col)
    else:
        low, high = spec.value_range
        fig.update_yaxes(tickformat=tick, row=1, col=col,
                         tickprefix=fmt.currency_symbol() if spec.value_format == "money" else None)
        if spec.kind == "line" and len(spec.categories) > 8:
            # every other month, slanted: twelve "Oct 2025" labels upright ate the panel
            fig.update_xaxes(tickangle=-40, tickvals=list(spec.categories)[::2], row=1, col=col)
        if low is not None and high is not None:
            fig.update_yaxes(range=[low, high * 1.08], row=1, col=col)
        elif low is not None:
            fig.update_yaxes(rangemode="tozero", row=1, col=col)
    if spec.kind == "xy":
        fig.update_xaxes(tickformat=".0%", range=[0, 1], title_text=spec.x_title, row=1, col=col)
        fig.update_yaxes(title_text=spec.y_title, row=1, col=col)


def slide_figure(story: Story, key: str, titled: bool = True) -> go.Figure:
    """The slide `key` as one figure: its charts side by side, the KPI table for "kpis",
    or the slide's message when there is nothing to plot. `titled=False` leaves the
    takeaway and subtitle to the page (as text: multi-line plotly titles clip at this
    size), and makes the figure that much shorter."""
    section = story.section(key)
    if key == "kpis":
        header, rows = kpi_header(story), kpi_rows(story)
        columns = list(zip(*rows)) if rows else [[] for _ in header]
        fig = go.Figure(go.Table(
            columnwidth=[2.2, 1, 1, 1, 1, 1.3],
            header=dict(values=[f"<b>{h}</b>" for h in header], fill_color=TEXT_COLOUR,
                        font=dict(color="white", size=FONT_SIZE), align=["left"] + ["right"] * 5, height=48),
            cells=dict(values=columns, align=["left"] + ["right"] * 5, height=46,
                       font=dict(size=FONT_SIZE, color=[[TEXT_COLOUR] * len(rows)] * 5
                                 + [[status_colour(r[-1]) for r in rows]]),
                       fill_color=[["#F4F5F7" if i % 2 == 0 else "white" for i in range(len(rows))]]),
        ))
        return _layout(fig, section, legend=False, titled=titled)
    specs = slide_charts(story, key)
    if not specs:
        fig = go.Figure()
        fig.add_annotation(text=_wrap(section.empty_message, 70), x=0.5, y=0.5, xref="paper", yref="paper",
                           showarrow=False, font=dict(size=FONT_SIZE + 4, color=MUTED))
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _layout(fig, section, legend=False, titled=titled)
    # a panel with a y-axis title needs the room for it, or the title runs into the panel on its left
    spacing = 0.14 if any(s.y_title for s in specs[1:]) else 0.08
    fig = make_subplots(rows=1, cols=len(specs), subplot_titles=[s.heading for s in specs], horizontal_spacing=spacing)
    for col, spec in enumerate(specs, start=1):
        _trace(spec, fig, col)
    legend = any(s.legend and len(s.series) > 1 for s in specs)
    fig.update_layout(barmode="group")
    return _layout(fig, section, legend=legend, titled=titled)


def kpi_table_html(story: Story) -> str:
    """The KPI slide as an HTML table (class ``kpi-table``) for the presentation page,
    whose CSS sizes it in viewport units — a plotly table keeps fixed pixel rows, small
    on a 1080-px screen. Every cell is escaped (segment names come from the data)."""
    header, rows = kpi_header(story), kpi_rows(story)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row[:-1])
        + f"<td style='color:{status_colour(row[-1])};font-weight:600'>{escape(row[-1])}</td></tr>"
        for row in rows)
    return f"<table class='kpi-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
