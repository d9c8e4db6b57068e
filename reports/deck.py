"""The leadership deck: a 16:9 PowerPoint file with native, editable charts.

`build_deck(story)` lays out the story's sections (`reports.story`) one per slide, with
the charts `reports.specs` decides on. Charts are PowerPoint charts
(`slide.shapes.add_chart` with `CategoryChartData` / `XyChartData`), so their numbers
live in the chart's embedded data sheet and a presenter can restyle or edit them; the
KPI summary is a native table. Every slide title is the takeaway computed in the story;
the speaker notes carry the definitions of the metrics on the slide (docs/metrics.md),
the facts behind the title and the filter the numbers are for, and the presenter's own
line when one was written (`reports.story.tailor`), which also shows on the slide.

The frame wears the company's brand (`reports.brand`, `[brand]` in retention.toml): its
name in the footer and on the title slide, its logo on every slide, its accent colour on
the title slide and the KPI table's header. The data series keep the dashboard's colours.

Titles use the slide's title placeholder (they show in PowerPoint's outline and are
read by screen readers); fonts are sized for a projector (title 28 pt — 24 pt for the longest
takeaways — body ≥ 14 pt, footer 11 pt).
"""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.chart.data import CategoryChartData, XyChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from reports.specs import (
    MUTED,
    ChartSpec,
    kpi_header,
    kpi_rows,
    number_format,
    slide_charts,
    status_colour,
)
from reports.brand import Brand, load_brand
from reports.story import Section, Story, speaker_notes

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.6)
FONT = "Calibri"
TITLE_PT, SUBTITLE_PT, BODY_PT, CHART_PT, LABEL_PT, FOOTER_PT = 28, 16, 16, 14, 13, 11
LONG_TITLE, LONG_TITLE_PT = 120, 24
TEXT = "262730"
CONTENT_TOP, CONTENT_BOTTOM = Inches(2.05), Inches(6.85)
COMMENTARY_TOP = Inches(6.4)  # the presenter's line sits under the chart, above the footer
LOGO_HEIGHT, TITLE_LOGO_HEIGHT = Inches(0.32), Inches(0.9)
TITLE_ONLY_LAYOUT, TITLE_LAYOUT = 5, 0  # python-pptx's default template

CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "xy": XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS,
}


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _style_runs(paragraph, size: int, bold: bool = False, colour: str = TEXT) -> None:
    for run in paragraph.runs:
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = _rgb(colour)


def _text_box(slide, left, top, width, height, lines, size: int, colour: str = TEXT, bold: bool = False,
              align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP):
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = anchor
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = line
        p.alignment = align
        _style_runs(p, size, bold, colour)
    return box


def _notes(slide, story: Story, section: Section) -> None:
    """Speaker notes (`reports.story.speaker_notes`, as the presenter view shows them)."""
    slide.notes_slide.notes_text_frame.text = speaker_notes(story, section)


def _logo(slide, brand: Brand, right, top, height) -> None:
    """The brand's logo, its right edge at `right` (its width follows its aspect ratio)."""
    if brand.logo is None:
        return
    picture = slide.shapes.add_picture(str(brand.logo), 0, top, height=height)
    picture.left = Emu(int(right - picture.width))
    picture.name = "brand_logo"


def _footer(slide, story: Story, brand: Brand, number: int, total: int) -> None:
    text = f"{brand.name} · {story.period_name} · {story.filter_words}"
    _text_box(slide, MARGIN, Inches(7.0), Inches(9.5), Inches(0.35), [text], FOOTER_PT, MUTED)
    number_right = SLIDE_WIDTH - MARGIN - (Inches(1.3) if brand.logo else 0)
    _text_box(slide, Emu(int(number_right - Inches(1.2))), Inches(7.0), Inches(1.2), Inches(0.35),
              [f"{number} / {total}"], FOOTER_PT, MUTED, align=PP_ALIGN.RIGHT)
    _logo(slide, brand, SLIDE_WIDTH - MARGIN, Inches(7.0), LOGO_HEIGHT)


def _commentary(slide, section: Section, brand: Brand) -> None:
    if section.commentary:
        box = _text_box(slide, MARGIN, COMMENTARY_TOP, SLIDE_WIDTH - 2 * MARGIN, Inches(0.5), [section.commentary],
                        BODY_PT + 2, brand.accent, bold=True, anchor=MSO_ANCHOR.MIDDLE)
        box.name = "commentary"


def _content_slide(prs: Presentation, story: Story, brand: Brand, section: Section, number: int, total: int):
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY_LAYOUT])
    title = slide.shapes.title
    title.left, title.top, title.width, title.height = MARGIN, Inches(0.3), SLIDE_WIDTH - 2 * MARGIN, Inches(1.15)
    title.text = section.title
    tf = title.text_frame
    tf.word_wrap = True
    tf.vertical_anchor = MSO_ANCHOR.BOTTOM
    # two lines of title fit the box: 28 pt holds ~130 characters, 24 pt ~150
    size = TITLE_PT if len(section.title) <= LONG_TITLE else LONG_TITLE_PT
    for p in tf.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, size, bold=True)
    _text_box(slide, MARGIN, Inches(1.45), SLIDE_WIDTH - 2 * MARGIN, Inches(0.55), [section.subtitle],
              SUBTITLE_PT, MUTED)
    _footer(slide, story, brand, number, total)
    _commentary(slide, section, brand)
    _notes(slide, story, section)
    return slide


# --- charts ---------------------------------------------------------------------------------

def _chart_data(spec: ChartSpec):
    fmt_code = number_format(spec.value_format)
    if spec.kind == "xy":
        data = XyChartData(number_format=fmt_code)
        for s in spec.series:
            series = data.add_series(s.name, number_format=fmt_code)
            for x, y in zip(spec.x_values, s.values):
                if y is not None:
                    series.add_data_point(x, y)
        return data
    data = CategoryChartData(number_format=fmt_code)
    data.categories = list(spec.categories)
    for s in spec.series:
        data.add_series(s.name, list(s.values), number_format=fmt_code)
    return data


def _axis_font(axis, size: int = CHART_PT) -> None:
    axis.tick_labels.font.size = Pt(size)
    axis.tick_labels.font.name = FONT
    axis.tick_labels.font.color.rgb = _rgb(TEXT)


def _add_chart(slide, spec: ChartSpec, left, top, width, height):
    frame = slide.shapes.add_chart(CHART_TYPES[spec.kind], left, top, width, height, _chart_data(spec))
    frame.name = spec.key
    chart = frame.chart
    chart.font.size = Pt(CHART_PT)
    chart.font.name = FONT
    chart.has_title = True
    chart.chart_title.text_frame.text = spec.heading
    _style_runs(chart.chart_title.text_frame.paragraphs[0], CHART_PT + 2, bold=True)
    chart.has_legend = spec.legend and len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
        chart.legend.font.size = Pt(CHART_PT)
    value_axis, category_axis = chart.value_axis, chart.category_axis
    low, high = spec.value_range
    if low is not None:
        value_axis.minimum_scale = low
    if high is not None:
        value_axis.maximum_scale = high
    value_axis.tick_labels.number_format = number_format(spec.value_format)
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    value_axis.major_gridlines.format.line.color.rgb = _rgb("E6E6E6")
    value_axis.format.line.fill.background()
    _axis_font(value_axis)
    _axis_font(category_axis)
    plot = chart.plots[0]
    if spec.kind == "xy":
        category_axis.minimum_scale, category_axis.maximum_scale = 0.0, 1.0
        category_axis.tick_labels.number_format = number_format(spec.x_format)
        category_axis.tick_labels.number_format_is_linked = False
        for axis, text in ((category_axis, spec.x_title), (value_axis, spec.y_title)):
            if text:
                axis.has_title = True
                axis.axis_title.text_frame.text = text
                _style_runs(axis.axis_title.text_frame.paragraphs[0], CHART_PT)
    if spec.kind in ("bar", "column"):
        plot.gap_width = 60
        plot.overlap = -10 if len(spec.series) > 1 else 0
        plot.vary_by_categories = False
    if spec.kind == "bar":
        category_axis.reverse_order = True  # first category on top, as read
        value_axis.visible = False          # the bars carry their values
        value_axis.has_major_gridlines = False
    if spec.data_labels:
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = number_format(spec.value_format)
        labels.number_format_is_linked = False
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        labels.font.size = Pt(LABEL_PT)
        labels.font.name = FONT
    for s, series in zip(spec.series, plot.series):
        if spec.kind in ("line", "xy"):
            series.smooth = False
            line = series.format.line
            line.color.rgb = _rgb(s.colour)
            line.width = Pt(3 if not s.dashed else 2)
            if s.dashed:
                line.dash_style = MSO_LINE_DASH_STYLE.DASH
            if spec.kind == "line":
                series.marker.style = XL_MARKER_STYLE.CIRCLE
                series.marker.size = 7
                series.marker.format.fill.solid()
                series.marker.format.fill.fore_color.rgb = _rgb(s.colour)
                series.marker.format.line.color.rgb = _rgb(s.colour)
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = _rgb(s.colour)
            series.invert_if_negative = False
            if s.point_colours:
                for i, c in enumerate(s.point_colours):
                    point = series.points[i]
                    point.format.fill.solid()
                    point.format.fill.fore_color.rgb = _rgb(c)
    return frame


def _charts(slide, specs: list[ChartSpec], bottom=CONTENT_BOTTOM) -> None:
    width = SLIDE_WIDTH - 2 * MARGIN
    gap = Inches(0.3)
    each = Emu(int((width - gap * (len(specs) - 1)) / len(specs)))
    for i, spec in enumerate(specs):
        _add_chart(slide, spec, Emu(MARGIN + i * (each + gap)), CONTENT_TOP, each, bottom - CONTENT_TOP)


def _message(slide, text: str) -> None:
    _text_box(slide, MARGIN, Inches(3.2), SLIDE_WIDTH - 2 * MARGIN, Inches(1.5), [text], 22, MUTED,
              align=PP_ALIGN.CENTER, anchor=MSO_ANCHOR.MIDDLE)


# --- slides ---------------------------------------------------------------------------------

def _title_slide(prs: Presentation, story: Story, brand: Brand, section: Section, total: int) -> None:
    """The brand's name and logo, the review's title, and what it covers in words (the
    period, the selection, the as-of date) — never the database file's name."""
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_LAYOUT])
    band = slide.shapes.add_shape(1, 0, 0, Inches(0.25), SLIDE_HEIGHT)  # 1 = rectangle
    band.name = "brand_band"
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(brand.accent)
    band.line.fill.background()
    _text_box(slide, MARGIN, Inches(0.6), Inches(8), Inches(0.6), [brand.name], 20, brand.accent, bold=True,
              anchor=MSO_ANCHOR.MIDDLE).name = "brand_name"
    _logo(slide, brand, SLIDE_WIDTH - MARGIN, Inches(0.45), TITLE_LOGO_HEIGHT)
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = MARGIN, Inches(1.7), SLIDE_WIDTH - 2 * MARGIN, Inches(1.6)
    title.text = section.title
    title.text_frame.word_wrap = True
    for p in title.text_frame.paragraphs:
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, 40, bold=True)
    subtitle.left, subtitle.top, subtitle.width, subtitle.height = (MARGIN, Inches(3.5), SLIDE_WIDTH - 2 * MARGIN,
                                                                    Inches(2.8))
    tf = subtitle.text_frame
    lines = [section.subtitle, *([section.commentary] if section.commentary else [])]
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.text = line
        p.alignment = PP_ALIGN.LEFT
        _style_runs(p, 22 if i == 0 else 20, bold=i > 0, colour=TEXT if i == 0 else brand.accent)
    _footer(slide, story, brand, 1, total)
    _notes(slide, story, section)


def _kpi_slide(slide, story: Story, brand: Brand, section: Section) -> None:
    header, rows = kpi_header(story), kpi_rows(story)
    width = SLIDE_WIDTH - 2 * MARGIN
    row_height = Inches(0.46 if section.commentary else 0.52)  # nine rows end above the commentary
    shape = slide.shapes.add_table(len(rows) + 1, len(header), MARGIN, CONTENT_TOP, width,
                                   row_height * (len(rows) + 1))
    shape.name = "kpi_table"
    table = shape.table
    shares = (0.28, 0.14, 0.14, 0.13, 0.14, 0.17)
    for i, share in enumerate(shares):
        table.columns[i].width = Emu(int(width * share))
    for r, values in enumerate([header, *rows]):
        table.rows[r].height = row_height
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.text = value
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if c == 0 else PP_ALIGN.RIGHT
            colour = "FFFFFF" if r == 0 else (status_colour(value) if c == len(header) - 1 else TEXT)
            _style_runs(p, BODY_PT, bold=(r == 0 or c == len(header) - 1), colour=colour)
            cell.fill.solid()
            cell.fill.fore_color.rgb = _rgb(brand.accent if r == 0 else ("F4F5F7" if r % 2 else "FFFFFF"))


def build_deck(story: Story, brand: Brand | None = None) -> bytes:
    """The story as a .pptx file (bytes): title slide, KPI summary against targets, then
    one slide per story section with native charts (see the module docstring). `brand`
    defaults to the configured one (`reports.brand.load_brand`)."""
    brand = brand or load_brand()
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    total = len(story.sections)
    for number, section in enumerate(story.sections, start=1):
        if section.key == "title":
            _title_slide(prs, story, brand, section, total)
            continue
        slide = _content_slide(prs, story, brand, section, number, total)
        if section.key == "kpis":
            _kpi_slide(slide, story, brand, section)
            continue
        specs = slide_charts(story, section.key)
        if specs:
            _charts(slide, specs, COMMENTARY_TOP if section.commentary else CONTENT_BOTTOM)
        else:
            _message(slide, section.empty_message)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
