"""The house look every chart shares: fonts, the colour-blind-safe palette, one fixed
colour per value of a dimension, the plotly template, and the layout helpers
(`base`, `fit_title`, `money_axis`, `rgba`). The reports (deck, PDF, Presentation mode)
take their colours from here too."""

from __future__ import annotations

import textwrap
import zlib
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from analytics import formatting as fmt
from analytics.schema import (
    ACQUISITION_CHANNELS,
    CHANNELS,
    CHURN_REASONS,
    CONTRACT_TYPES,
    PLANS,
    REGIONS,
    SEGMENTS,
)

# --- look ---------------------------------------------------------------------------------

FONT_FAMILY = "Source Sans Pro, Helvetica, Arial, sans-serif"
FONT_SIZE = 15
TITLE_SIZE = 20
TEXT_COLOUR = "#262730"
GRID_COLOUR = "#E6E6E6"
MUTED = "#8C8C8C"

# Okabe–Ito (colour-blind safe), without its yellow (unreadable on a projector), then
# two extra dark hues for dimensions with many values.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#8C564B",
    "#332288", "#117733", "#AA4499",
)
BAD = "#D55E00"       # churn, losses, misses
GOOD = "#0072B2"      # retention, value, hits
SECOND = "#56B4E9"    # a second "good" series (GRR next to NRR)
NEUTRAL = "#7F7F7F"   # targets, baselines, "before"

# The order of each dimension's values fixes their colours, whatever the filter shows.
DIMENSION_VALUES: dict[str, Sequence[str]] = {
    "segment": SEGMENTS,
    "region": REGIONS,
    "plan": PLANS,
    "contract_type": CONTRACT_TYPES,
    "acquisition_channel": ACQUISITION_CHANNELS,
    "channel": CHANNELS,
    "reason": CHURN_REASONS + ("unknown",),
    "loyalty_member": ("true", "false"),
}
TIER_COLOURS = {"platinum": "#4B5D73", "gold": "#C9A227", "silver": "#A3A8AE", "bronze": "#B87333"}
MISSING_VALUES = {"(missing)", "(none)", "(no attempt)", "unknown", "all"}


# The house look lives in one plotly template (plotly_white + our fonts, title block,
# legend, grid), made the default once. Setting these on each figure cost ~10 ms a chart —
# plotly validates every property and deep-copies a named template on each assignment — a
# tenth of a page's render; a template is applied by plotly.js in the browser instead.
# `base` sets only what differs per chart (title, subtitle, height, top margin, legend).
def _house_template() -> go.layout.Template:
    template = go.layout.Template(pio.templates["plotly_white"])
    axis = dict(gridcolor=GRID_COLOUR, automargin=True, title_font_size=FONT_SIZE)
    template.layout.update(
        font=dict(family=FONT_FAMILY, size=FONT_SIZE, color=TEXT_COLOUR),
        title=dict(
            font=dict(size=TITLE_SIZE),
            subtitle=dict(font=dict(size=FONT_SIZE - 1, color=MUTED)),
            x=0, xanchor="left", xref="container", y=1, yanchor="top", yref="container",
            pad=dict(t=14, l=4),
        ),
        margin=dict(l=10, r=20, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title_text=""),
        hoverlabel=dict(font_size=FONT_SIZE),
        separators=".,",
        xaxis=axis,
        yaxis=axis,
    )
    # plotly shrinks bar labels to the bar's width; keep them readable
    for bar in template.data.bar:
        bar.constraintext = "none"
    return template


pio.templates["retention_radar"] = _house_template()
pio.templates.default = "retention_radar"

PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def colour(dimension: str, value) -> str:
    """The fixed colour of `value` of `dimension` (e.g. segment 'enterprise')."""
    text = str(value).lower()
    if dimension == "value_tier" and text in TIER_COLOURS:
        return TIER_COLOURS[text]
    if text in MISSING_VALUES:
        return NEUTRAL
    known = DIMENSION_VALUES.get(dimension, ())
    if text in known:
        return PALETTE[list(known).index(text) % len(PALETTE)]
    # agents, account owners, imported values: stable across runs and pages
    return PALETTE[zlib.crc32(text.encode()) % len(PALETTE)]


def _wrap(text: str, width: int) -> str:
    """Break a title into lines of at most `width` characters (plotly does not wrap)."""
    return "<br>".join(textwrap.wrap(text, width=width, break_long_words=False)) if text else text


def _top_margin(title: str, subtitle: str) -> int:
    lines = title.count("<br>") + 1
    sub_lines = subtitle.count("<br>") + 1 if subtitle else 0
    return 46 + 28 * lines + 22 * sub_lines


def base(fig: go.Figure, title: str, subtitle: str = "", height: int = 420, legend: bool = True,
          wrap: int = 46) -> go.Figure:
    """Shared layout. `height` is the plot area plus axes; the title block is added on
    top. `wrap` ≈ characters per title line (46 fits a half-width chart on a 1400-px
    screen); `fit_title` re-wraps for the width the page gives the chart."""
    # takeaways name the data's categories: plotly would read `<a href>` in them as a link
    title = _wrap(fmt.plotly_text(title) if title else title, wrap)
    subtitle = _wrap(fmt.plotly_text(subtitle) if subtitle else subtitle, int(wrap * 1.3))
    top = _top_margin(title, subtitle)
    # everything else (fonts, title position, legend, grid) comes from the house template
    fig.update_layout(height=height + top - 70, title_text=title, title_subtitle_text=subtitle,
                      margin_t=top, showlegend=legend)
    return fig


TITLE_CHARS = {"full": 95, "wide": 56, "half": 44, "narrow": 34}


def fit_title(fig: go.Figure, width: str) -> go.Figure:
    """Re-wrap the title and subtitle for a chart drawn `width` wide ("full", "wide" = 3/5,
    "half", "narrow" = 2/5), keeping the plot area's height."""
    chars = TITLE_CHARS[width]
    old_top = fig.layout.margin.t or 0
    title = _wrap((fig.layout.title.text or "").replace("<br>", " "), chars)
    subtitle = _wrap((fig.layout.title.subtitle.text or "").replace("<br>", " "), int(chars * 1.3))
    top = _top_margin(title, subtitle)
    fig.update_layout(title_text=title, title_subtitle_text=subtitle, margin_t=top,
                      height=(fig.layout.height or 450) + top - old_top)
    return fig


def money_axis(fig: go.Figure, axis: str = "y", **where) -> None:
    # "~s" writes 0.8 as "800m" (milli); below a thousand plain numbers read right
    values = [abs(float(v)) for trace in fig.data
              for v in (() if getattr(trace, axis, None) is None else getattr(trace, axis))
              if isinstance(v, (int, float, np.number)) and not pd.isna(v)]
    small = bool(values) and max(values) < 1_000
    kwargs = dict(tickprefix=fmt.currency_symbol(), tickformat=",.2~f" if small else "~s")
    (fig.update_yaxes if axis == "y" else fig.update_xaxes)(**kwargs, **where)


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


DQ_DIMENSION_COLOURS = {"completeness": "#0072B2", "validity": "#E69F00", "uniqueness": "#CC79A7",
                        "consistency": "#D55E00"}
