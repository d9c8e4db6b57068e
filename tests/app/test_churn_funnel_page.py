"""AppTest: the Churn funnel page over the session sample and over a tiny database
without cancellation requests."""

from __future__ import annotations

import json

from datetime import date, datetime

from analytics.agents import directory_from_database
from analytics.metrics import retention_funnel_summary
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, run_page
from tests.builders import build_database

PAGE = "churn_funnel.py"
KPIS = ["Requests", "Reach rate", "Offer acceptance", "Kept 90 days", "Called within 24 h"]


def test_funnel_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Churn funnel"
    values = metric_values(at)
    # the page's own KPIs, then the retention team's: the sample's action store holds its
    # simulated year of logged cases, whose last 30 days the section opens on
    assert list(values)[:5] == KPIS and "Cases opened" in list(values)[5:]
    expected = retention_funnel_summary(sample_db, default_filter(sample_db_path)).iloc[0]
    assert values["Requests"] == fmt.count(expected.requests)
    # every rate with the n behind it, under the value
    notes = {m.label: m.proto.delta_description for m in at.metric}
    assert values["Reach rate"] == fmt.percent(expected.reach_rate, 1)
    assert notes["Reach rate"] == f"n = {fmt.count(expected.requests)} requests"
    assert values["Kept 90 days"] == fmt.percent(expected.save_rate_90d, 1)
    assert notes["Kept 90 days"] == f"n = {fmt.count(expected.accepted_judged_90d)} saves"
    assert notes["Offer acceptance"] == f"n = {fmt.count(expected.offered)} offers"
    # funnel, reach gauge, reach by segment, response times, reasons, proactive funnel + comparison,
    # the retention team's funnel
    assert chart_count(at) == 8
    assert [s.value for s in at.subheader][:5] == [
        "From request to retained", "Where the funnel leaks", "Time to the first retention call",
        "Why customers left", "Proactive funnel"]
    assert all("glossary?term=" in m.proto.help for m in at.metric)
    # the team's agents by the sample directory's name, not their codes
    names = directory_from_database(sample_db).set_index("id")["name"]
    agents = next(d.value for d in at.dataframe if {"Agent", "Cases"} <= set(d.value.columns))["Agent"]
    assert len(agents) > 0 and set(agents) <= set(names)


def test_segment_filter_changes_the_funnel(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    everyone = metric_values(at)["Requests"]
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    no_exception(at)
    expected = retention_funnel_summary(sample_db, default_filter(sample_db_path, segments=("enterprise",)))
    assert metric_values(at)["Requests"] == fmt.count(expected.iloc[0].requests)
    assert metric_values(at)["Requests"] != everyone


def test_sla_slider_and_split(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    at.slider(key="funnel_sla_hours").set_value(4).run()
    no_exception(at)
    expected = retention_funnel_summary(sample_db, default_filter(sample_db_path), sla_hours=4).iloc[0]
    assert metric_values(at)["Called within 4 h"] == fmt.percent(expected.sla_attainment, 1)
    card = next(m for m in at.metric if m.label == "Called within 4 h")
    assert card.proto.delta_description == f"n = {fmt.count(expected.sla_due)} requests"
    at.segmented_control(key="funnel_split").set_value("agent").run()
    no_exception(at)
    assert "Agent" in at.dataframe[0].value.columns


def test_no_requests_shows_a_message(monkeypatch, tmp_path):
    path = build_database(
        tmp_path / "quiet.duckdb",
        customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    # no request anywhere in the file: the data is missing, not the filter too narrow
    notes = " ".join(c.value for c in at.caption)
    assert "The churn funnel needs cancellation requests" in notes and not at.info
    assert chart_count(at) == 0


def test_a_rate_over_too_few_requests_is_greyed(monkeypatch, tmp_path):
    # two cancellation requests, one reached: a 50% reach rate over 2 requests says nothing
    path = build_database(
        tmp_path / "two.duckdb",
        customers=[{"customer_id": i, "signup_date": date(2024, 1, 5)} for i in (1, 2)],
        touchpoints=[
            {"touchpoint_id": 1, "customer_id": 1, "kind": "cancellation_request", "occurred_at": datetime(2024, 11, 2, 9)},
            {"touchpoint_id": 2, "customer_id": 2, "kind": "cancellation_request", "occurred_at": datetime(2024, 11, 3, 9)},
            {"touchpoint_id": 3, "customer_id": 1, "kind": "retention_call", "direction": "outbound",
             "related_touchpoint_id": 1, "outcome": "offer_declined", "occurred_at": datetime(2024, 11, 2, 15)},
        ],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    card = next(m for m in at.metric if m.label == "Reach rate")
    assert card.value == ":gray[50.0%]"
    assert card.proto.delta_description == "only 2 requests (fewer than 30): too few to read"
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"].replace("<br>", " ") for c in at.get("plotly_chart")]
    assert "Reach rate 50% of 2 — fewer than 30, too few to read" in titles
    assert not any("baseline" in t and "Reach rate 50%" in t for t in titles)  # no verdict from 2 requests
