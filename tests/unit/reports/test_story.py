"""The leadership story: its numbers are the analytics module's for the same filter, its
takeaway titles compare honestly (noise is not a trend, a running quarter is compared
with the same days), it carries the glossary's definitions and no personal data, and
the reports package never imports streamlit."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from datetime import date

import pandas as pd
import pytest

from analytics import metrics, roi
from analytics.config import PROJECT_ROOT
from analytics import formatting as fmt
from analytics import periods
from reports import story as story_module
from reports.definitions import METRICS_DOC, definition
from analytics.headlines import headline_kpis
from reports.story import SLIDE_KEYS, gather_story


def test_sections_in_deck_order(story):
    assert [s.key for s in story.sections] == list(SLIDE_KEYS)
    assert all(s.title and s.subtitle for s in story.sections)
    assert story.filter_lines[0] == "Segments: Consumer, Small business"


def test_kpis_are_the_overview_numbers(story, sample_db, report_filter):
    # the story holds the Overview's own assembly: the same KPIs, trend and movers takeaways
    board = headline_kpis(sample_db, report_filter, periods.QUARTER_TO_DATE)
    assert [(k.key, k.show(k.value), k.show_change(), k.n_note, k.tone) for k in story.kpis] == [
        (k.key, k.show(k.value), k.show_change(), k.n_note, k.tone) for k in board.kpis]
    assert story.section("trend").title == board.churn_trend_takeaway
    cmp = periods.quarter_to_date(report_filter)
    churn = metrics.churn_summary(sample_db, cmp.current)
    before = metrics.churn_summary(sample_db, cmp.previous)
    revenue = metrics.revenue_retention(sample_db, cmp.current, "range")
    assert story.kpi("active_customers").value == metrics.active_customers(sample_db, report_filter)
    assert story.kpi("logo_churn").value == pytest.approx(churn["churn_rate"].iloc[0])
    assert story.kpi("logo_churn").n == churn["active_start"].iloc[0]
    assert story.kpi("logo_churn").previous == pytest.approx(before["churn_rate"].iloc[0])
    assert story.kpi("nrr").value == pytest.approx(revenue["nrr"].iloc[0])
    assert story.kpi("grr").value == pytest.approx(revenue["grr"].iloc[0])
    assert story.kpi("saved_customers").value == metrics.saved_customers(sample_db, cmp.current)
    pareto = metrics.clv_pareto(sample_db, report_filter)
    assert story.kpi("average_clv").value == pytest.approx(pareto.total_clv / pareto.customers)
    # two segments are selected: company-wide targets are not compared, and the slide says so
    assert math.isnan(story.kpi("logo_churn").target) and story.targets.empty
    assert "clear the segment, region and plan filters" in story.section("kpis").subtitle
    assert story.kpi("margin_at_risk").unavailable  # no churn_scores table in the sample


def test_targets_follow_the_unfiltered_kpis(sample_db, report_filter):
    everyone = dataclasses.replace(report_filter, segments=())
    board = headline_kpis(sample_db, everyone)
    targets = metrics.targets_vs_actuals(sample_db, everyone, periods.current_quarter(everyone))
    target = dict(zip(targets["metric"], targets["target"]))
    assert board.kpi("logo_churn").target == target["churn_rate"]
    assert board.kpi("nrr").target == target["nrr"]
    assert board.kpi("saved_customers").target == target["saved_customers"]
    actual = dict(zip(targets["metric"], targets["actual"]))
    assert board.kpi("logo_churn").value == pytest.approx(actual["churn_rate"])
    assert board.kpi("saved_customers").value == actual["saved_customers"]


def test_frames_are_the_analytics_frames(story, sample_db, report_filter):
    pd.testing.assert_frame_equal(story.monthly_churn, metrics.churn_by_period(sample_db, report_filter, "month"))
    pd.testing.assert_frame_equal(story.funnel, metrics.retention_funnel(sample_db, report_filter))
    cmp = periods.quarter_to_date(report_filter)
    segments = metrics.churn_by_dimension(sample_db, cmp.current, "segment")
    pd.testing.assert_frame_equal(story.segments[segments.columns], segments)
    pd.testing.assert_frame_equal(story.clv_quantiles,
                                  metrics.clv_quantiles(sample_db, report_filter, story_module.CLV_QUANTILES))
    # DuckDB sums in parallel: totals agree to rounding, not bit for bit
    assert dataclasses.asdict(story.pareto) == pytest.approx(
        dataclasses.asdict(metrics.clv_pareto(sample_db, report_filter, 0.2)))


def test_roi_as_on_the_roi_page(story, sample_db, report_filter):
    summary = metrics.retention_funnel_summary(sample_db, report_filter).iloc[0]
    proactive = metrics.proactive_funnel(sample_db, report_filter)
    contacted = int(proactive.loc[proactive["step"] == "contacted", "count"].iloc[0]) if not proactive.empty else 0
    # the page's default value of a saved customer: a future value (unscored sample: the
    # average monthly margin at the period's churn), no longer the average historical CLV
    value = metrics.saved_customer_value(sample_db, report_filter)
    assert value.basis == "churn rate" and story.roi_assumptions.value_per_saved == value.value
    expected = roi.programme_roi(
        saved_customers=metrics.saved_customers(sample_db, report_filter),
        value_per_saved=value.value,
        actions=int(summary.attempted) + contacted, cost_per_action=20.0,
        offers=int(summary.accepted), cost_per_offer=100.0,
    )
    assert dataclasses.asdict(story.roi) == pytest.approx(dataclasses.asdict(expected))


def test_titles_state_the_numbers(story, sample_db, report_filter):
    summary = metrics.retention_funnel_summary(sample_db, report_filter).iloc[0]
    assert story.section("funnel").title.startswith(f"Reach rate {fmt.percent(summary.reach_rate, 0)} — ")
    pareto = metrics.clv_pareto(sample_db, report_filter)
    assert f"hold {fmt.percent(pareto.top_value_share, 0)} of historical CLV" in story.section("value").title
    report = metrics.data_quality_report(sample_db, report_filter)
    assert story.section("data_quality").title.startswith(f"{fmt.count(report['failing'].sum())} failing records")
    assert story.section("risk").title == "Margin at risk: churn scores are not computed yet"


def test_no_personal_data_in_the_story(story, personal_data):
    frames = {f.name: getattr(story, f.name) for f in dataclasses.fields(story)
              if isinstance(getattr(story, f.name), pd.DataFrame)}
    frames["risk.by_segment"] = story.risk.by_segment
    for name, frame in frames.items():
        assert not {"customer_id", "full_name", "email", "phone"} & set(frame.columns), name
    assert "examples" not in story.data_quality.columns  # data-quality examples are customer ids
    text = repr(story)
    assert not [n for n in personal_data["names"] if n in text]
    assert not [e for e in personal_data["emails"] if e in text]


def test_empty_selection_gives_a_story(sample_db, report_filter):
    s = gather_story(sample_db, dataclasses.replace(report_filter, segments=("no-such-segment",)))
    assert s.section("kpis").title == "No customers match these filters"
    assert s.section("trend").title == "No customers were active to measure churn"
    assert s.section("data_quality").title == "No stored records in the selection to check"


# --- definitions ----------------------------------------------------------------------------

def test_definitions_quote_the_glossary():
    doc = " ".join(METRICS_DOC.read_text(encoding="utf-8").replace("**", "").split())
    churn = definition("Logo churn rate")
    assert churn.text.startswith("For a period: churn rate = churned from start ÷ active start")
    assert "Retention rate = 1 − churn rate." in churn.text and "Retention rate = 1 − churn rate." in doc
    assert definition("Retention funnel", mentioning="reach rate =").text.startswith("Rates: reach rate = reached ÷ requests")
    assert "`" not in definition("Saved customers").text  # code references are dropped
    # the Pareto share is quoted by hand: its phrase must still be in the glossary
    assert "the fraction of total historical CLV held by the top 20% of customers" in doc
    assert definition("No such metric").text.startswith("See the metrics glossary")


def test_reports_never_import_streamlit():
    code = ("import sys; import reports.story, reports.deck, reports.pdf, reports.figures, reports.specs, "
            "analytics.at_risk, reports.definitions; assert 'streamlit' not in sys.modules, 'streamlit imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_as_of_is_the_filter_end(story, report_filter):
    assert story.as_of == report_filter.end
    assert isinstance(story.history_start, date)


def test_a_single_snapshot_story_says_churn_over_time_needs_dates(tmp_path):
    # every churner on the as-of date (a Yes/No flag imported): the trend and segments slides
    # carry the headlines' note as title and message, with no chart; deck and PDF build
    from analytics.db import open_database
    from analytics.filters import RetentionFilter
    from reports.deck import build_deck
    from reports.pdf import build_pdf
    from reports.specs import slide_charts
    from tests.builders import build_database

    customers = [{"customer_id": i, "signup_date": date(2023, 6, 1), "segment": ("consumer", "smb")[i % 2],
                  "churn_date": date(2024, 6, 30) if i % 5 == 0 else None} for i in range(1, 41)]
    path = build_database(tmp_path / "snapshot.duckdb", customers=customers,
                          schema_info={"as_of_date": "2024-06-30", "history_start": "2023-06-01"})
    db = open_database(path)
    try:
        story = gather_story(db, RetentionFilter(date(2023, 7, 1), date(2024, 6, 30)))
    finally:
        db.close()
    note = story.headlines.churn_dates_note
    assert note.startswith("Churn over time needs churn dates")
    for key in ("trend", "segments"):
        section = story.section(key)
        assert section.title == note and section.empty_message == note and not section.facts, key
        assert slide_charts(story, key) == [], key
    assert story.quarterly_churn.empty
    facts = " ".join(story.section("kpis").facts)
    assert "Logo churn" not in facts and "Active customers: 32" in facts
    assert build_deck(story) and build_pdf(story)
