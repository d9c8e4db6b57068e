"""AppTest: the app renders the Overview over a real database and reacts to filters;
without a usable database it shows the set-up page instead of a traceback."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.metrics import active_customers, churn_summary, saved_customers
from analytics import formatting as fmt
from analytics.catalog import history_start
from analytics.metrics.revenue import mrr_waterfall
from reports.story import gather_story
from tests.builders import build_database

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def run_app(monkeypatch, db_path, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("RETENTION_DB", str(db_path))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


OVERVIEW_KPIS = [
    "Active customers", "Logo churn", "Revenue churn", "Net revenue retention",
    "Gross revenue retention", "Average historical CLV", "Saved customers",
    "Margin at risk",
]


def test_overview_renders_kpis(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path)
    assert not at.exception
    assert at.title[0].value == "Overview"
    values = metric_values(at)
    assert list(values) == OVERVIEW_KPIS + ["MRR", "ARR", "ARPA"]
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    assert values["Active customers"] == fmt.count(active_customers(db, RetentionFilter(as_of, as_of)))
    quarter = RetentionFilter(date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1), as_of)
    assert values["Logo churn"] == fmt.percent(churn_summary(db, quarter)["churn_rate"].iloc[0], 2)
    assert values["Saved customers"] == fmt.count(saved_customers(db, quarter))
    assert values["Average historical CLV"].startswith(fmt.currency_symbol())
    # MRR, ARR and ARPA on the quarter's last day, from the waterfall over the quarter
    w = mrr_waterfall(db, quarter, history_start(db)).iloc[0]
    assert values["MRR"] == fmt.money(w["closing_mrr"]) and values["ARR"] == fmt.money(12 * w["closing_mrr"])
    assert values["ARPA"] == fmt.money(w["closing_mrr"] / w["paying_customers"])
    assert w["opening_mrr"] + w["new_mrr"] + w["expansion_mrr"] + w["reactivation_mrr"] \
        - w["contraction_mrr"] - w["churned_mrr"] == pytest.approx(w["closing_mrr"])
    # every card names what its change compares, and churn up is never green
    cards_by_label = {m.label: m.proto for m in at.metric}
    assert cards_by_label["Logo churn"].delta_description.startswith("vs Q2 2026")
    assert cards_by_label["MRR"].delta_description.startswith("vs 30 Jun 2026")
    # every card but margin at risk has a change and a sparkline
    cards = {m.label: m.proto for m in at.metric}
    for label in OVERVIEW_KPIS[:-1]:
        assert cards[label].delta, label
        assert len(cards[label].chart_data) >= 2, label
        assert "glossary?term=" in cards[label].help, label
    # MRR waterfall, targets, churn trend, revenue retention trend, movers
    assert len(at.get("plotly_chart")) == 5
    assert any(t.startswith("MRR up") or t.startswith("MRR down") for t in chart_titles(at))
    assert [s.value for s in at.subheader][:4] == [
        "Recurring revenue", "Targets for Q3 2026", "Churn and retention trend", "Groups that moved most"]


def test_the_customers_behind_logo_churn_open_in_a_dialog(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path)
    button = at.button(key="behind_logo_churn")
    assert button.label.startswith("Who churned in Q3 2026")
    at = button.click().run()
    assert not at.exception
    churned = at.metric  # the page is still there; the dialog adds its table
    assert churned
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    quarter = RetentionFilter(date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1), as_of)
    n = int(churn_summary(db, quarter)["churned_from_start"].iloc[0])
    assert any(f"{fmt.count(n)} customers" in m.value for m in at.markdown)
    table = at.dataframe[-1].value
    assert len(table) == min(n, 50) and "Churned" in table.columns


def test_margin_at_risk_waits_for_scores(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path)
    card = next(m for m in at.metric if m.label == "Margin at risk")
    assert card.value == "—"
    assert "python -m analytics.score" in card.proto.help


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        titles.append(" ".join(spec["layout"]["title"]["text"].replace("<br>", " ").split()))
    return titles


@pytest.mark.parametrize("query", [{}, {"segment": "enterprise"}])
def test_overview_and_deck_tell_one_story(monkeypatch, sample_db_path, query):
    """The Overview and the leadership deck, built for the same filter, show the same
    number, change, n and colour for every KPI and the same takeaway titles."""
    at = run_app(monkeypatch, sample_db_path, query)
    assert not at.exception
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    flt = RetentionFilter(as_of - timedelta(days=364), as_of, segments=tuple(query.values()))
    story = gather_story(db, flt)
    cards = {m.label: m.proto for m in at.metric}
    recurring = story.headlines.recurring.kpis
    assert list(cards) == [k.name for k in story.kpis + recurring]
    colours = {"good": "green", "bad": "red", "neutral": "gray"}
    for k in story.kpis + recurring:
        card = cards[k.name]
        if k.unavailable:
            assert card.body == "—"
            continue
        assert card.body in (k.show(k.value), f":gray[{k.show(k.value)}]"), k.key
        assert (card.delta or "—") == k.show_change(), k.key
        assert k.n_note in (card.delta_description or ""), k.key
        assert type(card).MetricColor.Name(card.color) == colours[k.change_tone].upper(), k.key
        if k.key == "logo_churn" and k.change_tone != "neutral":  # churn up is red
            assert (k.change > 0) == (k.change_tone == "bad")
    titles = chart_titles(at)
    assert story.section("trend").title in titles  # the churn trend chart and the trend slide
    if query:  # company-wide targets are not compared under a segment filter, on either
        assert any("clear the segment, region and plan filters" in i.value for i in at.info)
        assert "clear the segment, region and plan filters" in story.section("kpis").subtitle
    else:
        assert story.section("kpis").title in titles  # the targets chart and the KPI slide


def test_rates_follow_the_window_choice(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path)
    quarter = metric_values(at)["Logo churn"]
    at.segmented_control(key="overview_window").set_value("Filter period").run()
    assert not at.exception
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    year = RetentionFilter(as_of - timedelta(days=364), as_of)
    assert metric_values(at)["Logo churn"] == fmt.percent(churn_summary(db, year)["churn_rate"].iloc[0], 2)
    assert metric_values(at)["Logo churn"] != quarter


def test_segment_filter_changes_the_numbers(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path)
    everyone = metric_values(at)["Active customers"]
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    assert not at.exception
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    enterprise = active_customers(db, RetentionFilter(as_of, as_of, segments=("enterprise",)))
    assert metric_values(at)["Active customers"] == fmt.count(enterprise)
    assert metric_values(at)["Active customers"] != everyone
    assert at.query_params["segment"] in ("enterprise", ["enterprise"])  # mirrored into the URL


def test_shared_link_applies_its_filter(monkeypatch, sample_db_path):
    at = run_app(monkeypatch, sample_db_path, {"segment": "small_business", "start": "2026-01-01"})
    assert not at.exception
    assert at.sidebar.multiselect(key="flt_segments").value == ["small_business"]
    assert at.sidebar.date_input(key="flt_period").value[0] == date(2026, 1, 1)
    db = open_database(sample_db_path)
    as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    sb = active_customers(db, RetentionFilter(as_of, as_of, segments=("small_business",)))
    assert metric_values(at)["Active customers"] == fmt.count(sb)


def test_shared_link_says_what_it_ignored(monkeypatch, sample_db_path):
    # a misspelt segment, an impossible date and a start after the data's as-of date
    at = run_app(monkeypatch, sample_db_path, {"segment": ["enterprize", "consumer"], "end": "2026-02-30",
                                               "start": "2031-01-01"})
    assert not at.exception
    assert at.sidebar.multiselect(key="flt_segments").value == ["consumer"]  # the known value is kept
    assert "ignored" in at.sidebar.warning[0].value
    note = at.sidebar.text[0].value
    assert "segment 'enterprize' (not in the data)" in note
    assert "end '2026-02-30' is not a date" in note
    assert "start 01 Jan 2031 is outside the data" in note
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    assert not at.sidebar.warning  # said once, on the run that read the link


def test_filter_matching_nothing_shows_a_message(monkeypatch, tmp_path):
    path = build_database(
        tmp_path / "tiny.duckdb",
        customers=[
            {"customer_id": 1, "segment": "consumer", "region": "north", "signup_date": date(2024, 1, 5)},
            {"customer_id": 2, "segment": "enterprise", "region": "south", "signup_date": date(2024, 2, 1)},
        ],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_app(monkeypatch, path, {"segment": "enterprise", "region": "north"})
    assert not at.exception
    assert not at.metric
    assert "No customers match these filters" in at.info[0].value


def test_missing_database_offers_to_generate_the_sample(monkeypatch, tmp_path):
    target = tmp_path / "new.duckdb"
    at = run_app(monkeypatch, target)
    assert not at.exception
    assert at.title[0].value == "Retention Radar needs a database"
    assert str(target) in at.error[0].value
    assert not target.exists()
    monkeypatch.setattr("dashboard.data.generate_sample.__defaults__", (2_000, 7))  # keep the test quick
    at.button[0].click().run()
    assert not at.exception
    assert target.is_file()
    assert at.title[0].value == "Overview"


@pytest.mark.parametrize("content", [b"this is not a database" * 100])
def test_corrupt_database_shows_guidance_and_changes_nothing(monkeypatch, tmp_path, content):
    path = tmp_path / "broken.duckdb"
    path.write_bytes(content)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    at = run_app(monkeypatch, path)
    assert not at.exception
    assert "not a readable DuckDB database" in at.error[0].value
    assert not at.button  # no offer to overwrite someone's file
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
