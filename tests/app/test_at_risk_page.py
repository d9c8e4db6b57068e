"""AppTest: the At-risk customers page — the call list, its criteria, the customer-360 panel
— and the Overview's margin-at-risk card, on the scored session sample."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics.at_risk import AtRiskCriteria, at_risk_customers, customer_timeline, margin_at_risk
from analytics.schema import OPTIONAL_TABLES
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, no_match_database, run_page
from tests.builders import build_database
from tests.unit.reports.test_at_risk import superseded_in

PAGE = "at_risk.py"
DEFAULT = AtRiskCriteria(min_probability=0.10)  # the page's default threshold
LIST_KPIS = ["Customers on the list", "Their expected loss", "Share of margin at risk", "Never contacted"]


def test_list_matches_the_analytics(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "At-risk customers"
    flt = default_filter(scored_db_path)
    expected = at_risk_customers(scored_db, flt, DEFAULT)
    assert expected.matching > 0
    values = metric_values(at)
    assert list(values) == LIST_KPIS
    assert values["Customers on the list"] == fmt.count(expected.matching)
    assert values["Their expected loss"] == fmt.money(expected.matching_expected_loss)
    total = margin_at_risk(scored_db, flt).total_expected_loss
    assert values["Share of margin at risk"] == fmt.percent(expected.matching_expected_loss / total, 0)
    table = at.dataframe[0].value
    # working the list recorded every shown customer's group; the control group is not shown (decision 022)
    from analytics import actions

    store = actions.open_store(f"sqlite:///{scored_db_path.parent / 'actions.sqlite'}")
    try:
        groups = actions.holdout_groups(store).set_index("customer_id")
    finally:
        store.close()
    listed = expected.customers["customer_id"].head(500).tolist()
    assert set(listed) <= set(groups.index) and (groups["list_as_of"] == pd.Timestamp(expected.scored_on)).all()
    held = [c for c in listed if groups.loc[c, "held_out"]]
    assert 0 < len(held) < len(listed) * 0.2
    assert table["ID"].tolist() == [c for c in listed if c not in held]
    assert any(f"{fmt.count(len(held))} customers of this list are in the control group" in c.value for c in at.caption)
    assert table["Rank"].is_monotonic_increasing
    assert {"Churn risk", "Expected loss", "Future value", "Top drivers", "Last contact", "Owner"} <= set(table.columns)
    # expected loss weighs the margin still to come, not the predicted CLV with its banked part
    assert table["Expected loss"].to_numpy() == pytest.approx(
        (table["Churn risk"] / 100 * table["Future value"]).to_numpy())
    assert (table["Expected loss"] < table["Churn risk"] / 100 * table["Predicted CLV"]).any()
    # nothing selected yet: the 360 panel invites a choice
    assert any("Select a customer" in c.value for c in at.caption)
    assert len(at.button) >= 0 and chart_count(at) == 0


def test_criteria_and_sidebar_filter_change_the_list(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    flt = default_filter(scored_db_path)
    at.sidebar.multiselect(key="flt_segments").select("small_business").run()
    no_exception(at)
    small = at_risk_customers(scored_db, default_filter(scored_db_path, segments=("small_business",)), DEFAULT)
    assert 0 < small.matching < at_risk_customers(scored_db, flt, DEFAULT).matching
    assert metric_values(at)["Customers on the list"] == fmt.count(small.matching)
    assert set(at.dataframe[0].value["Segment"]) == {"Small business"}
    at.sidebar.multiselect(key="flt_segments").unselect("small_business").run()
    at.slider(key="at_risk_min_probability").set_value(30).run()
    no_exception(at)
    high = at_risk_customers(scored_db, flt, AtRiskCriteria(min_probability=0.30))
    assert metric_values(at)["Customers on the list"] == fmt.count(high.matching)
    at.slider(key="at_risk_min_probability").set_value(10).run()
    at.selectbox(key="at_risk_not_contacted").set_value(30).run()
    no_exception(at)
    quiet = at_risk_customers(scored_db, flt, AtRiskCriteria(min_probability=0.10, not_contacted_days=30))
    assert metric_values(at)["Customers on the list"] == fmt.count(quiet.matching)
    assert 0 < quiet.matching < at_risk_customers(scored_db, flt, DEFAULT).matching
    assert (at.dataframe[0].value["Days since"].fillna(10**6) >= 30).all()


def test_driver_filter(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    at.multiselect(key="at_risk_drivers").select("cancellation_requests").run()
    no_exception(at)
    expected = at_risk_customers(scored_db, default_filter(scored_db_path),
                                 AtRiskCriteria(min_probability=0.10, driver_groups=("cancellation_requests",)))
    assert 0 < expected.matching
    assert metric_values(at)["Customers on the list"] == fmt.count(expected.matching)
    # the column names the driver short; the full sentence is in the (hidden) Reasons column
    assert all("Cancel request" in d for d in at.dataframe[0].value["Top drivers"])
    assert all("cancellation request" in d for d in at.dataframe[0].value["Reasons"])


def test_selecting_a_customer_opens_the_360_panel(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    flt = default_filter(scored_db_path)
    top = at_risk_customers(scored_db, flt, DEFAULT, limit=1).customers.iloc[0]
    at.selectbox(key="at_risk_customer").set_value(int(top["customer_id"])).run()
    no_exception(at)
    values = metric_values(at)
    assert values["Churn risk, 90 days"] == fmt.percent(top["churn_probability"])
    assert values["Expected loss"] == fmt.money(top["expected_loss"])
    assert values["Predicted CLV"] == fmt.money(top["clv_predicted"])
    assert any(m.value == f"### {fmt.md_escape(top['full_name'])} · #{int(top['customer_id'])}" for m in at.markdown)
    assert any(m.value.startswith("**Why the model flags this customer:** " + fmt.md_escape(top["driver_1"]))
               for m in at.markdown)
    # score history (six month-end scorings) and MRR history
    assert chart_count(at) == 2
    timeline = customer_timeline(scored_db, int(top["customer_id"]), flt.as_of)
    shown = at.dataframe[-1].value
    assert len(shown) == len(timeline) and list(shown["Note"].fillna("")) == list(timeline["note"].fillna(""))


def test_criteria_matching_nobody(monkeypatch, scored_db, scored_db_path):
    # customers at 90% risk have all spoken with us lately (an open cancellation request)
    criteria = AtRiskCriteria(min_probability=0.9, not_contacted_days=90)
    assert at_risk_customers(scored_db, default_filter(scored_db_path), criteria).matching == 0
    at = run_page(monkeypatch, scored_db_path, PAGE)
    at.slider(key="at_risk_min_probability").set_value(90).run()
    at.selectbox(key="at_risk_not_contacted").set_value(90).run()
    no_exception(at)
    assert metric_values(at)["Customers on the list"] == "0"
    assert any("No customer meets these criteria" in i.value for i in at.info)
    assert not at.dataframe


def test_without_scores_the_page_says_how_to_get_them(monkeypatch, tmp_path):
    at = run_page(monkeypatch, no_match_database(tmp_path), PAGE)
    no_exception(at)
    assert "make scores" in at.info[0].value
    assert not at.dataframe and not at.metric


def test_filter_matching_nothing(monkeypatch, tmp_path):
    columns = OPTIONAL_TABLES["churn_scores"]
    scores = [{"customer_id": i, "as_of_date": date(2024, 12, 31), "churn_probability": 0.5, "clv_predicted": 100.0,
               "clv_historical": 50.0, "expected_loss": 50.0, "risk_rank": i, "driver_1": "x"} for i in (1, 2)]
    path = build_database(
        tmp_path / "scored-tiny.duckdb",
        customers=[{"customer_id": 1, "segment": "consumer", "region": "north", "signup_date": date(2024, 1, 5)},
                   {"customer_id": 2, "segment": "enterprise", "region": "south", "signup_date": date(2024, 2, 1)}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
        extra_tables={"churn_scores": (columns, scores)},
    )
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No customers match these filters" in at.info[0].value
    assert not at.dataframe


def test_overview_margin_at_risk_card(monkeypatch, scored_db, scored_db_path):
    at = run_page(monkeypatch, scored_db_path)
    no_exception(at)
    flt = default_filter(scored_db_path)
    risk = margin_at_risk(scored_db, flt)
    card = next(m for m in at.metric if m.label == "Margin at risk")
    assert card.value == fmt.money(risk.total_expected_loss)
    # change against the previous month-end scoring (the backfill), same selection
    con = scored_db.cursor()
    copies = superseded_in(con)  # each person once
    before = con.execute(
        "select sum(s.expected_loss) from churn_scores s join customers c using (customer_id) "
        "where s.as_of_date = ? and c.signup_date <= s.as_of_date "
        "and (c.churn_date is null or c.churn_date > s.as_of_date) and list_contains(?, c.customer_id) = false",
        [date(2026, 8, 31), copies]).fetchone()[0]
    assert card.delta == fmt.signed_money(risk.total_expected_loss - before)


@pytest.mark.parametrize("query", [{}, {"segment": "consumer"}])
def test_overview_card_without_scores(monkeypatch, sample_db_path, query):
    at = run_page(monkeypatch, sample_db_path, None, query)
    no_exception(at)
    card = next(m for m in at.metric if m.label == "Margin at risk")
    assert card.value == "—"
    assert pd.isna(card.delta) or card.delta in ("", None)
