"""The leadership report as a PDF, built offline: reportlab (platypus) lays out the pages,
matplotlib draws the charts to PNG in memory — no browser, no kaleido, no network
(docs/decisions/007-report-rendering.md).

`build_pdf(story)` makes one landscape A4 page per story section, in the deck's order:
the title page (with every takeaway as an executive summary), the KPI table, then each
section's takeaway title, what is plotted, the presenter's line if any, and its charts
(`reports.specs`, the same series and colours as the deck). Each page's content is kept
on its page (shrunk if it would overflow), so page n is always section n. The
definitions of the metrics follow in an appendix, each once, with the pages that use
it — not as small print under every chart (decision 027); a section page names the
terms it uses and points there.

Text is set in DejaVu Sans, the TrueType font matplotlib ships, so the currency sign
(₪), dashes and arrows print on any machine and the text stays extractable.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepInFrame,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from analytics import formatting as fmt
from reports.specs import MUTED, ChartSpec, kpi_header, kpi_rows, show, slide_charts, status_colour
from reports.brand import Brand, load_brand
from reports.story import Section, Story

PAGE = landscape(A4)
MARGIN = 14 * mm
FOOTER_SPACE = 8 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN
FRAME_HEIGHT = PAGE[1] - 2 * MARGIN - FOOTER_SPACE
CHART_HEIGHT_IN = 4.7
APPENDIX_TITLE = "Appendix: what the numbers mean"
DPI = 150
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
TEXT = "#262730"


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    """DejaVu Sans from matplotlib's own data directory (always present with matplotlib)."""
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "cover": ParagraphStyle("cover", fontName=BOLD, fontSize=28, leading=34, textColor=TEXT, spaceAfter=10),
        "title": ParagraphStyle("title", fontName=BOLD, fontSize=19, leading=24, textColor=TEXT, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=11, leading=14, textColor=MUTED,
                                   spaceAfter=8),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=12, leading=16, textColor=TEXT),
        "summary": ParagraphStyle("summary", fontName=FONT, fontSize=12, leading=16, textColor=TEXT,
                                  leftIndent=14, bulletIndent=2, spaceAfter=3),
        "heading": ParagraphStyle("heading", fontName=BOLD, fontSize=13, leading=17, textColor=TEXT,
                                  spaceBefore=10, spaceAfter=4),
        "definition": ParagraphStyle("definition", fontName=FONT, fontSize=11, leading=15, textColor=TEXT,
                                     alignment=TA_LEFT, spaceAfter=7),
        "pointer": ParagraphStyle("pointer", fontName=FONT, fontSize=9.5, leading=12, textColor=MUTED,
                                  spaceBefore=6),
        "commentary": ParagraphStyle("commentary", fontName=BOLD, fontSize=13, leading=17, textColor=TEXT,
                                     spaceBefore=2, spaceAfter=6),
    }


# --- charts (matplotlib, no pyplot: no global backend state, safe in a server thread) ---------

def _formatter(kind: str) -> FuncFormatter:
    if kind.startswith("percent"):
        digits = min(int(kind[-1]), 1)  # the axis needs at most one decimal
        return FuncFormatter(lambda v, _: f"{v * 100:.{digits}f}%")
    if kind == "money":
        return FuncFormatter(lambda v, _: fmt.money(v))
    return FuncFormatter(lambda v, _: f"{v:,.0f}")


def _values(values) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _draw(ax, spec: ChartSpec) -> None:
    ax.set_title(spec.heading, loc="left", fontsize=12, fontweight="bold", color=TEXT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9.5, colors=TEXT)
    n_series = len(spec.series)
    if spec.kind in ("line", "xy"):
        xs = list(range(len(spec.categories))) if spec.kind == "line" else list(spec.x_values)
        for s in spec.series:
            ax.plot(xs, _values(s.values), color=s.colour, linewidth=2.2 if not s.dashed else 1.6,
                    linestyle="--" if s.dashed else "-", marker="o" if spec.kind == "line" else None,
                    markersize=4, label=s.name)
        if spec.kind == "line":
            step = max(1, math.ceil(len(xs) / 12))
            ax.set_xticks(xs[::step], list(spec.categories)[::step], rotation=45, ha="right")
        else:
            ax.xaxis.set_major_formatter(_formatter(spec.x_format))
            ax.set_xlim(0, 1)
            ax.set_xlabel(spec.x_title, fontsize=10)
            ax.set_ylabel(spec.y_title, fontsize=10)
        ax.yaxis.set_major_formatter(_formatter(spec.value_format))
        ax.grid(axis="y", color="#E6E6E6")
    else:
        width = 0.8 / n_series
        positions = list(range(len(spec.categories)))
        for i, s in enumerate(spec.series):
            offsets = [p - 0.4 + width * (i + 0.5) for p in positions]
            bar_colours = list(s.point_colours) if s.point_colours else s.colour
            values = _values(s.values)
            if spec.kind == "bar":
                bars = ax.barh(offsets, values, height=width * 0.92, color=bar_colours, label=s.name)
            else:
                bars = ax.bar(offsets, values, width=width * 0.92, color=bar_colours, label=s.name)
            if spec.data_labels:
                ax.bar_label(bars, labels=[show(v, spec.value_format) for v in s.values], padding=3, fontsize=9,
                             color=TEXT)
        if spec.kind == "bar":
            ax.set_yticks(positions, list(spec.categories))
            ax.invert_yaxis()  # first category on top, as read
            ax.xaxis.set_visible(False)
            ax.spines["bottom"].set_visible(False)
            top = max((v for s in spec.series for v in s.values if v is not None), default=1.0)
            ax.set_xlim(0, top * 1.25 if top > 0 else 1)
        else:
            ax.set_xticks(positions, list(spec.categories))
            ax.yaxis.set_major_formatter(_formatter(spec.value_format))
            ax.grid(axis="y", color="#E6E6E6")
            ax.set_axisbelow(True)
            values = [v for s in spec.series for v in s.values if v is not None]
            low = min(0.0, min(values, default=0.0))
            high = max(values, default=1.0)
            span = (high - low) or 1.0
            ax.set_ylim(low - (0.08 * span if low < 0 else 0), high + 0.14 * span)
    low, high = spec.value_range
    if spec.kind != "bar" and (low is not None or high is not None):
        current = ax.get_ylim()
        ax.set_ylim(low if low is not None else current[0], high if high is not None else current[1])
    if spec.legend and n_series > 1:  # below the plot, as on the dashboard: never over the data
        ax.legend(frameon=False, fontsize=9.5, loc="upper left", bbox_to_anchor=(0, -0.12 if spec.kind != "line"
                                                                                    else -0.22), ncol=n_series)


def chart_png(specs: list[ChartSpec], width_in: float, height_in: float = CHART_HEIGHT_IN) -> bytes:
    """The charts of one page side by side, as a PNG."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    fig.set_layout_engine("constrained")
    axes = fig.subplots(1, len(specs), squeeze=False)[0]
    for ax, spec in zip(axes, specs):
        _draw(ax, spec)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


# --- pages ----------------------------------------------------------------------------------

def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _pointer(section: Section, styles) -> list:
    """One line naming the terms the page uses; their definitions are in the appendix."""
    if not section.definitions:
        return []
    names = ", ".join(d.name for d in section.definitions)
    return [_p(f"Defined in the appendix: {names}.", styles["pointer"])]


def _appendix(story: Story, styles) -> list:
    """Every definition of the report once, in the order the pages first use it, with the
    pages that use it."""
    pages: dict[str, list[int]] = {}
    texts: dict[str, str] = {}
    for number, section in enumerate(story.sections, start=1):
        for d in section.definitions:
            pages.setdefault(d.name, []).append(number)
            texts.setdefault(d.name, d.text)
    if not pages:
        return []
    flow = [_p(APPENDIX_TITLE, styles["title"]),
            _p("The definitions behind every number in this report, as in the dashboard's metrics glossary "
               "(docs/metrics.md).", styles["subtitle"])]
    for name, used in pages.items():
        where = ("page " if len(used) == 1 else "pages ") + ", ".join(str(n) for n in used)
        flow.append(Paragraph(f"<b>{escape(name)}</b> ({where}): {escape(texts[name])}", styles["definition"]))
    return flow


def _kpi_table(story: Story, brand: Brand) -> Table:
    header, rows = kpi_header(story), kpi_rows(story)
    data = [list(header), *[list(r) for r in rows]]
    shares = (0.28, 0.14, 0.14, 0.13, 0.14, 0.17)
    table = Table(data, colWidths=[FRAME_WIDTH * s for s in shares], rowHeights=22)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 11.5),
        ("FONT", (0, 0), (-1, 0), BOLD, 11.5),
        ("FONT", (-1, 1), (-1, -1), BOLD, 11.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(brand.accent)),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.HexColor("#F4F5F7"), colors.white]),
    ]
    for r, row in enumerate(rows, start=1):
        style.append(("TEXTCOLOR", (-1, r), (-1, r), colors.HexColor(status_colour(row[-1]))))
    table.setStyle(TableStyle(style))
    return table


def _title_page(story: Story, brand: Brand, section: Section, styles) -> list:
    """The brand, the review's title and what it covers in words — no database file name —
    then every takeaway as an executive summary."""
    flow = []
    if brand.logo is not None:
        logo = Image(str(brand.logo))
        scale = 16 * mm / logo.imageHeight
        logo.drawHeight, logo.drawWidth = 16 * mm, logo.imageWidth * scale
        logo.hAlign = "LEFT"
        flow.append(logo)
    brand_style = ParagraphStyle("brand", parent=styles["heading"], textColor=colors.HexColor(brand.accent))
    flow += [_p(brand.name, brand_style), Spacer(1, 4 * mm),
             _p(section.title, ParagraphStyle("cover_brand", parent=styles["cover"],
                                              textColor=colors.HexColor(brand.accent))),
             _p(section.subtitle, styles["body"])]
    if section.commentary:
        flow.append(_p(section.commentary, styles["commentary"]))
    flow.append(_p("The story in one page", styles["heading"]))
    flow += [Paragraph(escape(s.title), styles["summary"], bulletText="•") for s in story.sections[1:]]
    return flow


def _section_page(story: Story, brand: Brand, section: Section, styles) -> list:
    flow = [_p(section.title, styles["title"]), _p(section.subtitle, styles["subtitle"])]
    if section.commentary:
        flow.append(_p(section.commentary, styles["commentary"]))
    if section.key == "kpis":
        flow += [Spacer(1, 4 * mm), _kpi_table(story, brand)]
        if story.targets.empty or story.targets["target"].isna().all():
            flow.append(_p(f"No targets are set for {story.quarter} in config/targets.toml.", styles["body"]))
    else:
        specs = slide_charts(story, section.key)
        if specs:
            width_in = FRAME_WIDTH / 72
            flow.append(Image(io.BytesIO(chart_png(specs, width_in)), width=FRAME_WIDTH,
                              height=FRAME_WIDTH * CHART_HEIGHT_IN / width_in))
        else:
            flow += [Spacer(1, 30 * mm), _p(section.empty_message, styles["body"]), Spacer(1, 30 * mm)]
    return flow + _pointer(section, styles)


def _numbered_canvas(footer: str):
    """A canvas class that holds its pages until the end, then stamps each with the
    footer and "n / total" (the appendix's length is known only once it is laid out)."""
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 — reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(FONT, 8.5)
                self.setFillColor(colors.HexColor(MUTED))
                self.drawString(MARGIN, MARGIN - 2 * mm, footer)
                self.drawRightString(PAGE[0] - MARGIN, MARGIN - 2 * mm, f"{self._pageNumber} / {total}")
                self.restoreState()
                super().showPage()
            super().save()

    return NumberedCanvas


def build_pdf(story: Story, brand: Brand | None = None) -> bytes:
    """The story as a PDF (bytes): one landscape A4 page per section, then the appendix
    of definitions (module docstring). `brand` defaults to the configured one."""
    brand = brand or load_brand()
    _register_fonts()
    styles = _styles()
    total = len(story.sections)
    footer = f"{brand.name} · {story.period_name} · {story.filter_words}"

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + FOOTER_SPACE, title=story.sections[0].title, author="Retention Radar",
        subject=f"Retention review {story.period_name}", creator="Retention Radar (reportlab)",
    )
    flow = []
    for i, section in enumerate(story.sections):
        content = _title_page(story, brand, section, styles) if section.key == "title" else _section_page(
            story, brand, section, styles)
        # one page per section: shrink rather than spill onto the next page
        flow.append(KeepInFrame(FRAME_WIDTH, FRAME_HEIGHT - 2, content, mode="shrink"))
        if i < total - 1:
            flow.append(PageBreak())
    appendix = _appendix(story, styles)
    if appendix:  # may run over more than one page: it is reference, not a slide
        flow += [PageBreak(), *appendix]
    doc.build(flow, canvasmaker=_numbered_canvas(footer))
    return out.getvalue()
