"""AppTest: the Service & signals page — FCR, repeats, SLAs, satisfaction, early warning."""

from __future__ import annotations

from datetime import date

from analytics.metrics import first_contact_resolution, satisfaction_trend
from dashboard import formatting as fmt
from tests.app.apptest import chart_count, default_filter, metric_values, no_exception, run_page
from tests.builders import build_database

PAGE = "service_signals.py"


def test_page_renders(monkeypatch, sample_db, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Service & signals"
    values = metric_values(at)
    assert list(values) == ["FCR", "Repeat contacts", "Within SLA", "CSAT", "NPS"]
    flt = default_filter(sample_db_path)
    fcr = first_contact_resolution(sample_db, flt, by_channel=False)
    assert values["FCR"] == fmt.percent(fcr["fcr_rate"].iloc[-1], 1)
    nps = satisfaction_trend(sample_db, flt)["nps"].iloc[-1]
    assert values["NPS"] == f"{nps:+.0f}"
    # service trend, SLA by channel, wait times, satisfaction, early warning
    assert chart_count(at) == 5
    assert "Early warning: service history and churn" in [s.value for s in at.subheader]


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
