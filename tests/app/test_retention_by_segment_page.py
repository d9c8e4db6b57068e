"""AppTest: the Retention by segment page — survival, cohorts, churn profile."""

from __future__ import annotations

import math
from datetime import date

from analytics.filters import RetentionFilter
from analytics.metrics import median_lifetime, survival_logrank
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, run_page
from tests.builders import build_database

PAGE = "retention_by_segment.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Retention by segment"
    values = metric_values(at)
    assert list(values) == ["Median customer lifetime", "Log-rank p-value by segment", "Groups compared"]
    flt = default_filter(sample_db_path)
    as_of = RetentionFilter(flt.end, flt.end)
    assert values["Median customer lifetime"] == fmt.months(median_lifetime(sample_db, as_of)["median_lifetime"].iloc[0], 1)
    assert values["Log-rank p-value by segment"] == fmt.p_value(survival_logrank(sample_db, as_of, "segment").p_value)
    # survival, cohort heatmap, churn by segment, tenure at churn, reasons by month
    assert chart_count(at) == 5
    assert [s.value for s in at.subheader][:4] == [
        "Survival by segment", "Cohort retention", "Churn by segment", "When and why customers leave"]
    # the medians table: a median or bound the curve never reaches is said in words, not "None"
    medians = median_lifetime(sample_db, flt, "segment")
    table = next(d.value for d in at.dataframe if "Median (months)" in d.value.columns)
    reached = [v is not None and math.isfinite(float(v)) for v in medians["median_lifetime"]]
    assert list(table["Median (months)"]) == [f"{v:.1f}" if r else "not reached"
                                              for v, r in zip(medians["median_lifetime"], reached)]
    for r, lo, hi, shown in zip(reached, medians["median_ci_lower"], medians["median_ci_upper"], table["95% CI"]):
        if r and hi is not None and math.isfinite(float(hi)):
            assert shown == f"{lo:.1f}–{hi:.1f}"
    assert "not reached" in list(table["Median (months)"])  # the sample's Enterprise outlasts the data


def test_dimension_and_basis_switch(monkeypatch, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    at.selectbox(key="retention_by").set_value("contract_type").run()
    no_exception(at)
    assert "Log-rank p-value by contract type" in metric_values(at)
    assert metric_values(at)["Groups compared"] == "3"
    at.segmented_control(key="cohort_basis").set_value("revenue").run()
    no_exception(at)
    assert chart_count(at) == 5


def test_filter_changes_the_numbers(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    before = metric_values(at)["Median customer lifetime"]
    at.sidebar.multiselect(key="flt_plans").select("basic").run()
    no_exception(at)
    flt = default_filter(sample_db_path)
    basic = RetentionFilter(flt.end, flt.end, plans=("basic",))
    expected = fmt.months(median_lifetime(sample_db, basic)["median_lifetime"].iloc[0], 1)
    assert metric_values(at)["Median customer lifetime"] == expected != before


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = build_database(
        tmp_path / "tiny.duckdb",
        customers=[
            {"customer_id": 1, "segment": "consumer", "region": "north", "signup_date": date(2024, 1, 5)},
            {"customer_id": 2, "segment": "enterprise", "region": "south", "signup_date": date(2024, 2, 1)},
        ],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No customers match these filters" in at.info[0].value
    assert not at.metric and chart_count(at) == 0

