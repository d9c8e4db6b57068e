"""The deck, opened with python-pptx: 16:9, one slide per story section with the takeaway
as its title, native charts of the expected types whose data (in the chart and in its
embedded data sheet) are the analytics module's numbers for the same filter, speaker
notes with the glossary's definitions, and no personal data anywhere in the file."""

from __future__ import annotations

import io

import openpyxl
import pytest
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches, Pt

from analytics import metrics
from dashboard import formatting as fmt
from dashboard import periods
from reports.specs import QUANTILE_NAMES
from reports.story import CLV_QUANTILES
from tests.unit.reports.conftest import leaks, zip_text

EXPECTED_CHARTS = {
    "trend": [XL_CHART_TYPE.LINE_MARKERS, XL_CHART_TYPE.LINE_MARKERS],
    "funnel": [XL_CHART_TYPE.BAR_CLUSTERED],
    "segments": [XL_CHART_TYPE.COLUMN_CLUSTERED],
    "value": [XL_CHART_TYPE.COLUMN_CLUSTERED, XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS],
    "risk": [],  # no churn_scores in the sample: the slide says so
    "roi": [XL_CHART_TYPE.COLUMN_CLUSTERED],
    "data_quality": [XL_CHART_TYPE.BAR_CLUSTERED],
}


def slide_of(deck, story, key):
    return deck.slides[[s.key for s in story.sections].index(key)]


def charts(slide):
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def chart_named(slide, name):
    return next(shape.chart for shape in slide.shapes if shape.has_chart and shape.name == name)


def series(chart, name):
    return next(s for s in chart.plots[0].series if s.name == name)


def test_sixteen_by_nine_one_slide_per_section(deck, story):
    assert (deck.slide_width, deck.slide_height) == (Inches(13.333), Inches(7.5))
    assert len(deck.slides) == len(story.sections) == 9
    assert [slide.shapes.title.text for slide in deck.slides] == story.slide_titles


def test_titles_are_readable(deck):
    for slide in deck.slides:
        sizes = {run.font.size for p in slide.shapes.title.text_frame.paragraphs for run in p.runs}
        assert sizes and min(sizes) >= Pt(24)


@pytest.mark.parametrize("key", list(EXPECTED_CHARTS))
def test_native_charts_of_the_expected_types(deck, story, key):
    assert [c.chart_type for c in charts(slide_of(deck, story, key))] == EXPECTED_CHARTS[key]


def test_risk_slide_says_scores_are_missing(deck, story):
    slide = slide_of(deck, story, "risk")
    text = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
    assert "Churn scores are not computed yet" in text


def test_trend_values_are_the_metrics(deck, story, sample_db, report_filter):
    slide = slide_of(deck, story, "trend")
    monthly = metrics.churn_by_period(sample_db, report_filter, "month")
    revenue = metrics.revenue_retention(sample_db, report_filter, "month")
    churn = chart_named(slide, "churn_trend")
    assert list(churn.plots[0].categories) == [f"{m:%b %Y}" for m in monthly["period_start"]]
    assert series(churn, "Logo churn").values == pytest.approx(tuple(monthly["churn_rate"]))
    assert series(churn, "Gross revenue churn").values == pytest.approx(tuple(revenue["gross_revenue_churn"]))
    retention = chart_named(slide, "retention_trend")
    assert series(retention, "NRR").values == pytest.approx(tuple(revenue["nrr"]))
    assert series(retention, "GRR").values == pytest.approx(tuple(revenue["grr"]))


def test_funnel_values_are_the_metrics(deck, story, sample_db, report_filter):
    funnel = metrics.retention_funnel(sample_db, report_filter)
    chart = chart_named(slide_of(deck, story, "funnel"), "funnel")
    assert list(chart.plots[0].categories) == [fmt.label(s) for s in funnel["step"]]
    assert series(chart, "Requests").values == tuple(float(v) for v in funnel["count"])
    summary = metrics.retention_funnel_summary(sample_db, report_filter).iloc[0]
    assert slide_of(deck, story, "funnel").shapes.title.text.startswith(
        f"Reach rate {fmt.percent(summary.reach_rate, 0)}")


def test_segment_values_are_the_metrics(deck, story, sample_db, report_filter):
    now = metrics.churn_by_dimension(sample_db, report_filter, "segment")
    before = metrics.churn_by_dimension(sample_db, periods.filter_period(report_filter).previous, "segment")
    chart = chart_named(slide_of(deck, story, "segments"), "segments")
    assert list(chart.plots[0].categories) == ["Consumer", "Small business"]
    assert series(chart, "This period").values == pytest.approx(tuple(now["retention_rate"]))
    assert series(chart, "Period before").values == pytest.approx(tuple(before["retention_rate"]))


def test_value_slide_values_are_the_metrics(deck, story, sample_db, report_filter):
    slide = slide_of(deck, story, "value")
    quantiles = metrics.clv_quantiles(sample_db, report_filter, CLV_QUANTILES)
    distribution = chart_named(slide, "clv_distribution")
    assert list(distribution.plots[0].categories) == [QUANTILE_NAMES[q] for q in CLV_QUANTILES]
    assert series(distribution, "Historical CLV").values == pytest.approx(tuple(quantiles["clv"]))
    pareto = chart_named(slide, "pareto")
    curve = series(pareto, "Cumulative share of value")
    xs = [float(v) for v in curve._element.xpath("./c:xVal//c:v/text()")]
    share = metrics.clv_pareto(sample_db, report_filter, 0.2)
    assert curve.values[xs.index(0.2)] == pytest.approx(share.top_value_share)
    assert xs[0] == 0.0 and xs[-1] == 1.0 and curve.values[-1] == pytest.approx(1.0)


def test_roi_and_quality_values_are_the_metrics(deck, story, sample_db, report_filter):
    r = story.roi  # equal to analytics.roi.programme_roi on the metrics: test_story
    chart = chart_named(slide_of(deck, story, "roi"), "roi")
    assert series(chart, "Amount").values == pytest.approx(
        (r.retained_value, r.actions * r.cost_per_action, r.offers * r.cost_per_offer, r.net_benefit))
    report = metrics.data_quality_report(sample_db, report_filter)
    failing = report[report["failing"] > 0].sort_values(["failing", "check"], ascending=[False, True])
    chart = chart_named(slide_of(deck, story, "data_quality"), "data_quality")
    assert list(chart.plots[0].categories) == [fmt.label(c) for c in failing["check"]]
    assert series(chart, "Failing records").values == tuple(float(v) for v in failing["failing"])


def test_numbers_live_in_the_chart_data_sheet(deck, story, sample_db, report_filter):
    chart = chart_named(slide_of(deck, story, "funnel"), "funnel")
    workbook = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob))
    sheet = workbook.worksheets[0]
    rows = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] is not None]
    funnel = metrics.retention_funnel(sample_db, report_filter)
    assert [r[0] for r in rows] == [fmt.label(s) for s in funnel["step"]]
    assert [r[1] for r in rows] == list(funnel["count"])


def test_kpi_table_against_targets(deck, story, sample_db, report_filter):
    slide = slide_of(deck, story, "kpis")
    table = next(shape.table for shape in slide.shapes if shape.has_table)
    cells = [[table.cell(r, c).text for c in range(len(table.columns))] for r in range(len(table.rows))]
    assert cells[0][1] == story.comparison_name
    rows = {row[0]: row for row in cells[1:]}
    cmp = periods.quarter_to_date(report_filter)
    churn = metrics.churn_summary(sample_db, cmp.current)["churn_rate"].iloc[0]
    targets = metrics.targets_vs_actuals(sample_db, report_filter, story.quarter).set_index("metric")
    assert rows["Logo churn"][1] == fmt.percent(churn, 2)
    assert rows["Logo churn"][4] == fmt.percent(targets.loc["churn_rate", "target"], 2)
    assert rows["Logo churn"][5] == ("Met" if targets.loc["churn_rate", "met"] else "Missed")
    assert rows["Saved customers"][1] == fmt.count(metrics.saved_customers(sample_db, cmp.current))
    assert rows["Margin at risk"][5] == "Not computed yet"


def test_speaker_notes_carry_the_definitions(deck, story):
    for slide, section in zip(deck.slides, story.sections):
        notes = slide.notes_slide.notes_text_frame.text
        assert notes.startswith(section.title)
        for d in section.definitions:
            assert f"{d.name}: {d.text}" in notes
        assert "Segments: Consumer, Small business" in notes
    trend = slide_of(deck, story, "trend").notes_slide.notes_text_frame.text
    assert "churn rate = churned from start ÷ active start" in trend
    assert "Retention rate = 1 − churn rate." in trend


def test_no_personal_data_in_the_file(deck_bytes, personal_data):
    text = zip_text(deck_bytes)
    assert "Consumer" in text  # the scan does read the slides' text
    assert len(personal_data["names"]) > 500 and len(personal_data["emails"]) > 500
    assert leaks(text, personal_data) == []
