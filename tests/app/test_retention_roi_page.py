"""AppTest: the Retention ROI & what-if page — inputs drive analytics.roi."""

from __future__ import annotations

import pytest

from analytics import roi
from analytics.metrics import churn_summary, clv_pareto, mrr_by_month, saved_customer_value, saved_customers
from analytics import formatting as fmt
from tests.unit.reports.test_at_risk import superseded_in
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, no_match_database, run_page

PAGE = "retention_roi.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Retention ROI & what-if"
    values = metric_values(at)
    flt = default_filter(sample_db_path)
    assert values["Saved customers"] == fmt.count(saved_customers(sample_db, flt))
    churn = churn_summary(sample_db, flt)
    monthly = roi.monthly_churn_rate(churn["churn_rate"].iloc[0], 365)
    assert values["Monthly churn today"] == fmt.percent(monthly, 2)
    whatif = roi.churn_reduction_whatif(mrr_by_month(sample_db, flt)["mrr"].iloc[-1], monthly, 0.0025)
    assert values["Extra revenue, 12 months"] == fmt.money(whatif.horizons[0].extra_revenue)
    assert values["Customers lost"] == fmt.count(churn["churned"].iloc[0])
    # the value of a saved customer defaults to a future value, not the average historical CLV
    value = saved_customer_value(sample_db, flt)
    assert at.number_input(key="roi_value_per_saved").value == value.value
    pareto = clv_pareto(sample_db, flt)
    assert value.value != round(pareto.total_clv / pareto.customers, -1)
    # measured churn, ROI waterfall, what-if, replace or keep
    assert chart_count(at) == 4
    assert [h.value for h in at.header] == ["Measured against a control group", "What-if (assumed inputs)"]
    assert [s.value for s in at.subheader][:4] == ["Measured programme", "Programme ROI", "What if churn fell?",
                                                   "Replace them or keep them?"]
    # the measured programme: the sample's simulated year in the action store next to it (decision 022)
    from datetime import date

    from analytics import actions, programme

    store = actions.open_store(f"sqlite:///{sample_db_path.parent / 'actions.sqlite'}")
    try:
        measured = programme.measured_programme(sample_db, store, as_of=date(2026, 9, 30), value_per_saved=value.value)
    finally:
        store.close()
    assert measured.measured
    assert values["Worked churn"] == fmt.percent(measured.worked_churn)
    assert values["Control churn"] == fmt.percent(measured.held_out_churn)
    assert values["Churn prevented"] == fmt.points(measured.uplift)
    assert values["Programme saves"] == fmt.count(round(measured.saves))
    assert values["Measured ROI"] == f"{measured.roi * 100:,.0f}%"
    assert any(c.value.startswith(f"95% intervals: churn prevented {fmt.points(measured.uplift_low)} to "
                                  f"{fmt.points(measured.uplift_high)}") for c in at.caption)


def test_measured_section_says_what_it_needs_without_a_holdout(monkeypatch, tmp_path, sample_db_path):
    # an empty action store of its own: nothing assigned yet -> one line, no traceback
    monkeypatch.setenv("RETENTION_ACTIONS_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert any(c.value.endswith("The measured programme needs a control group: work an at-risk list (the At-risk "
                                "page holds out 10% of it at random and records who), then let 90 days of follow-up "
                                "pass in the data.") for c in at.caption)
    assert "Measured ROI" not in metric_values(at) and chart_count(at) == 3
    # a store that cannot be opened (a folder where the file should be): one line too
    (tmp_path / "blocked.sqlite").mkdir()
    monkeypatch.setenv("RETENTION_ACTIONS_URL", f"sqlite:///{tmp_path / 'blocked.sqlite'}")
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert any("The measured programme cannot be shown: " in c.value for c in at.caption)
    assert "Programme cost" in metric_values(at)  # the what-if still shows


def test_inputs_change_the_results(monkeypatch, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    cost = metric_values(at)["Programme cost"]
    at.number_input(key="roi_action_cost").set_value(40.0).run()
    no_exception(at)
    assert metric_values(at)["Programme cost"] != cost
    extra = metric_values(at)["Extra revenue, 24 months"]
    at.slider(key="roi_churn_cut").set_value(0.5).run()
    no_exception(at)
    assert metric_values(at)["Extra revenue, 24 months"] != extra
    saving = metric_values(at)["Saved by keeping them"]
    at.sidebar.multiselect(key="flt_segments").select("consumer").run()
    no_exception(at)
    assert metric_values(at)["Saved by keeping them"] != saving


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No customers match these filters" in at.info[0].value
    assert chart_count(at) == 0


def test_value_of_a_saved_customer_from_the_scores(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    flt = default_filter(scored_db_path)
    value = saved_customer_value(scored_db, flt)
    assert value.basis == "scores"
    # the future value of the customers expected to leave (margin at risk ÷ expected
    # leavers among the scored active customers), by SQL on the table
    con = scored_db.cursor()
    copies = superseded_in(con)  # each person once
    average = con.execute(
        "select sum(s.churn_probability * s.clv_future) / sum(s.churn_probability) "
        "from churn_scores s join customers c using (customer_id) "
        "where s.as_of_date = ? and c.signup_date <= ? and (c.churn_date is null or c.churn_date > ?) "
        "and list_contains(?, c.customer_id) = false",
        [flt.as_of, flt.as_of, flt.as_of, copies]).fetchone()[0]
    assert value.average == pytest.approx(average)
    assert at.number_input(key="roi_value_per_saved").value == round(average, -1)


def test_nobody_active_at_the_period_start(monkeypatch, tmp_path):
    # Everyone signed up after the default period's start (2024-01-01 = 2024-12-31 − 365
    # days + 1): logo churn = churned from the start ÷ active at the start = 0 ÷ 0, so there
    # is no monthly churn to project. c2 signs up in March and leaves in June: 1 customer lost.
    # Old page: ValueError "period_churn_rate must be a rate in [0, 1], got nan".
    from datetime import date

    from tests.builders import build_database

    path = build_database(
        tmp_path / "all_new.duckdb",
        customers=[{"customer_id": 1, "signup_date": date(2024, 3, 1), "monthly_revenue": 50.0},
                   {"customer_id": 2, "signup_date": date(2024, 3, 1), "churn_date": date(2024, 6, 10),
                    "monthly_revenue": 30.0}],
        monthly_revenue=[{"customer_id": 1, "month": date(2024, m, 1), "mrr": 50.0} for m in range(3, 13)]
        + [{"customer_id": 2, "month": date(2024, m, 1), "mrr": 30.0} for m in range(3, 7)],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    assert any("The what-if needs customers active at the period start — none in this selection" in c.value
               for c in at.caption)
    values = metric_values(at)
    assert "Monthly churn today" not in values
    assert values["Customers lost"] == "1"
    # ROI waterfall and replace-or-keep still drawn; no what-if chart
    assert chart_count(at) == 2
