"""AppTest: the Service & signals page — FCR, repeats, SLAs, satisfaction, early warning,
churn signals in agent notes."""

from __future__ import annotations

from datetime import date

from analytics.metrics import first_contact_resolution, note_signal_summary, satisfaction_trend
from analytics import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, no_match_database, run_page
from tests.builders import build_database

PAGE = "service_signals.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Service & signals"
    values = metric_values(at)
    assert list(values) == ["FCR", "Repeat contacts", "Within SLA", "CSAT", "NPS", "Notes read",
                            "Notes with a churn signal", "Churn after a signal", "Churn after signal-free notes"]
    flt = default_filter(sample_db_path)
    fcr = first_contact_resolution(sample_db, flt, by_channel=False)
    assert values["FCR"] == fmt.percent(fcr["fcr_rate"].iloc[-1], 1)
    nps = satisfaction_trend(sample_db, flt)["nps"].iloc[-1]
    assert values["NPS"] == f"{nps:+.0f}"
    # service trend, SLA by channel, wait times, satisfaction, early warning, note signals, their trend
    assert chart_count(at) == 7
    assert "Early warning: service history and churn" in [s.value for s in at.subheader]
    assert "Churn signals in agent notes" in [s.value for s in at.subheader]


def test_note_signals_section(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    summary = note_signal_summary(sample_db, default_filter(sample_db_path)).set_index("signal")
    anything = summary.loc["any_signal"]
    values = metric_values(at)
    assert values["Notes read"] == fmt.count(anything.all_notes)
    assert values["Notes with a churn signal"] == fmt.percent(anything.share_of_notes, 1)
    assert values["Churn after a signal"] == fmt.percent(anything.churn_rate_90d, 1)
    assert values["Churn after signal-free notes"] == fmt.percent(anything.baseline_churn_rate_90d, 1)
    # cancel intent precedes churn far more often than a signal-free note
    assert summary.loc["cancel_intent", "lift"] > 2
    table = next(d.value for d in at.dataframe if "Lift" in d.value.columns)
    assert list(table["Signal"]) == ["Cancel intent", "Competitor", "Price", "Moving", "Dissatisfaction",
                                     "Billing", "Any signal"]
    assert table.loc[0, "Notes"] == summary.loc["cancel_intent", "notes"]
    examples = at.dataframe[-1].value
    assert list(examples.columns) == ["Signal", "Date", "Channel", "Kind", "Language", "Note"]
    assert {"Hebrew", "English"} <= set(examples["Language"])
    assert examples.groupby("Signal").size().max() <= 3
    assert not any(c in examples.columns for c in ("customer_id", "full_name", "phone"))


def test_channel_filter_changes_the_note_signals(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    everyone = metric_values(at)["Notes read"]
    at.sidebar.multiselect(key="flt_channels").select("chat").run()
    no_exception(at)
    chat = note_signal_summary(sample_db, default_filter(sample_db_path, channels=("chat",)))
    assert metric_values(at)["Notes read"] == fmt.count(chat["all_notes"].iloc[0]) != everyone
    assert set(at.dataframe[-1].value["Channel"]) == {"Chat"}


def test_channel_filter_changes_the_numbers(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    everyone = metric_values(at)["Within SLA"]
    at.sidebar.multiselect(key="flt_channels").select("phone").run()
    no_exception(at)
    flt = default_filter(sample_db_path, channels=("phone",))
    fcr = first_contact_resolution(sample_db, flt, by_channel=False)
    assert metric_values(at)["FCR"] == fmt.percent(fcr["fcr_rate"].iloc[-1], 1)
    assert metric_values(at)["Within SLA"] != everyone


def test_nothing_to_show(monkeypatch, tmp_path):
    path = build_database(
        tmp_path / "quiet.duckdb",
        customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    assert "No service contacts or surveys match" in at.info[0].value
    assert chart_count(at) == 0


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No service contacts or surveys match" in at.info[0].value
    assert chart_count(at) == 0
