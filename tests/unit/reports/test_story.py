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

import numpy as np
import pandas as pd
import pytest

from analytics import metrics, roi
from analytics.config import PROJECT_ROOT
from dashboard import formatting as fmt
from dashboard import periods
from reports import story as story_module
from reports.definitions import METRICS_DOC, definition
from reports.story import (
    SLIDE_KEYS,
    churn_takeaway,
    funnel_takeaway,
    gather_story,
    lorenz_curve,
    rate_change_is_clear,
    segments_takeaway,
    targets_takeaway,
)


def test_sections_in_deck_order(story):
    assert [s.key for s in story.sections] == list(SLIDE_KEYS)
    assert all(s.title and s.subtitle for s in story.sections)
    assert story.filter_lines[0] == "Segments: Consumer, Small business"


def test_kpis_are_the_overview_numbers(story, sample_db, report_filter):
    cmp = periods.quarter_to_date(report_filter)
    churn = metrics.churn_summary(sample_db, cmp.current)
    before = metrics.churn_summary(sample_db, cmp.previous)
    revenue = metrics.revenue_retention(sample_db, cmp.current, "range")
    assert story.kpi("active_customers").value == metrics.active_customers(sample_db, report_filter)
    assert story.kpi("logo_churn").value == pytest.approx(churn["churn_rate"].iloc[0])
    assert story.kpi("logo_churn").previous == pytest.approx(before["churn_rate"].iloc[0])
    assert story.kpi("nrr").value == pytest.approx(revenue["nrr"].iloc[0])
    assert story.kpi("grr").value == pytest.approx(revenue["grr"].iloc[0])
    assert story.kpi("saved_customers").value == metrics.saved_customers(sample_db, cmp.current)
    pareto = metrics.clv_pareto(sample_db, report_filter)
    assert story.kpi("average_clv").value == pytest.approx(pareto.total_clv / pareto.customers)
    targets = metrics.targets_vs_actuals(sample_db, report_filter, periods.current_quarter(report_filter))
    target = dict(zip(targets["metric"], targets["target"]))
    assert story.kpi("logo_churn").target == target["churn_rate"]
    assert story.kpi("nrr").target == target["nrr"]
    assert story.kpi("saved_customers").target == target["saved_customers"]
    assert math.isnan(story.kpi("margin_at_risk").value)  # no churn_scores table in the sample


def test_frames_are_the_analytics_frames(story, sample_db, report_filter):
    pd.testing.assert_frame_equal(story.monthly_churn, metrics.churn_by_period(sample_db, report_filter, "month"))
    pd.testing.assert_frame_equal(story.funnel, metrics.retention_funnel(sample_db, report_filter))
    pd.testing.assert_frame_equal(story.segments, metrics.churn_by_dimension(sample_db, report_filter, "segment"))
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


# --- honest comparisons ---------------------------------------------------------------------

def quarters(rates, starts=None, partial_last=False):
    n = len(rates)
    return pd.DataFrame({
        "period": [f"2026Q{i + 1}" if i < 4 else f"2027Q{i - 3}" for i in range(n)],
        "partial": [False] * (n - 1) + [partial_last],
        "active_start": starts or [30_000] * n,
        "churn_rate": rates,
    })


def test_noise_is_not_a_trend():
    # 3.77% of 32,773 against 3.66% of 31,033: inside 1.96 standard errors
    assert not rate_change_is_clear(0.0377, 32_773, 0.0366, 31_033)
    assert rate_change_is_clear(0.0377, 32_773, 0.0300, 31_033)
    assert not rate_change_is_clear(0.05, 0, 0.04, 100)
    assert not rate_change_is_clear(float("nan"), 100, 0.04, 100)


def test_churn_takeaway_full_quarters():
    assert churn_takeaway(quarters([0.058, 0.044, 0.0366, 0.0377])) == (
        "Quarterly logo churn held at 3.77% in 2026Q4 (3.66% in 2026Q3) — the second-lowest of the last 4 quarters")
    assert churn_takeaway(quarters([0.05, 0.045, 0.04, 0.021])) == (
        "Quarterly logo churn fell to 2.10% in 2026Q4, from 4.00% — the lowest of the last 4 quarters")
    assert churn_takeaway(quarters([0.03, 0.035, 0.04, 0.06])).startswith("Quarterly logo churn rose to 6.00%")
    assert churn_takeaway(quarters([0.03, 0.03, 0.03])) == (
        "Quarterly logo churn held at 3.00% in 2026Q3 (3.00% in 2026Q2)")  # ties: no rank claimed


def test_a_running_quarter_is_compared_with_the_same_days():
    frame = quarters([0.05, 0.045, 0.04, 0.012], partial_last=True)
    assert churn_takeaway(frame, (0.02, 30_000, "2026Q3")) == (
        "Logo churn 1.20% in 2026Q4 so far — down from 2.00% over the same days of 2026Q3")
    assert churn_takeaway(frame, (0.0121, 30_000, "2026Q3")) == (
        "Logo churn 1.20% in 2026Q4 so far — level with the same days of 2026Q3 (1.21%)")
    assert churn_takeaway(frame) == "Logo churn 1.20% in 2026Q4 so far"


def test_funnel_and_segment_takeaways():
    now = pd.DataFrame({"reach_rate": [0.37], "requests": [5_000]})
    assert funnel_takeaway(now, pd.DataFrame({"reach_rate": [0.24], "requests": [5_000]})) == (
        "Reach rate 37% — above the 20–30% baseline, up from 24% the period before")
    assert funnel_takeaway(now, pd.DataFrame({"reach_rate": [0.366], "requests": [5_000]})).endswith(
        "level with the period before (37%)")
    assert funnel_takeaway(now.assign(reach_rate=0.15), now.iloc[0:0]) == "Reach rate 15% — below the 20–30% baseline"
    seg = pd.DataFrame({"group": ["consumer", "enterprise"], "active_start": [20_000, 3_000],
                        "churn_rate": [0.17, 0.06], "retention_rate": [0.83, 0.94]})
    before = seg.assign(churn_rate=[0.20, 0.06], retention_rate=[0.80, 0.94])
    assert segments_takeaway(seg, before) == (
        "Enterprise kept 94.0% of its customers, consumer 83.0%; consumer churn down 3.0 pp on the period before")
    assert segments_takeaway(seg, seg).endswith("no segment moved beyond noise on the period before")


def test_targets_takeaway():
    frame = pd.DataFrame({"metric": ["churn_rate", "nrr", "saved_customers"], "target": [0.04, 0.98, 210.0],
                          "met": pd.array([True, False, False], dtype="boolean"), "partial": [True] * 3})
    assert targets_takeaway(frame, "2026Q3") == "1 of 3 targets met in 2026Q3 so far — NRR and saved customers short"
    assert targets_takeaway(frame.iloc[:1], "2026Q3") == "All 1 targets met in 2026Q3 so far"


def test_lorenz_curve_holds_the_pareto_share():
    clv = pd.Series([50.0, 30.0, 10.0, 5.0, 5.0])
    curve = lorenz_curve(clv, points=6)
    assert list(curve["customer_share"]) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert list(curve["value_share"]) == pytest.approx([0, 0.5, 0.8, 0.9, 0.95, 1.0])
    assert np.isnan(lorenz_curve(pd.Series([], dtype=float))["value_share"]).all()


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
