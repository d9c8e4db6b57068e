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
    # a file without any touchpoint: what is missing is data, not a wider filter
    notes = " ".join(c.value for c in at.caption)
    assert "Service & signals needs service contacts" in notes and not at.info
    assert chart_count(at) == 0


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No service contacts or surveys match" in at.info[0].value
    assert chart_count(at) == 0


def _bars(at, key: str) -> list[dict]:
    """The traces of the chart whose widget key contains `key`, plotly's packed arrays
    ({"dtype", "bdata", "shape"}) decoded to lists."""
    import base64
    import json

    import numpy as np

    def unpack(value):
        if isinstance(value, dict) and "bdata" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = [int(n) for n in str(value.get("shape", len(array))).split(",")]
            return array.reshape(shape).tolist()
        return value

    chart = next(c for c in at.get("plotly_chart") if key in c.proto.id)
    return [{k: unpack(v) for k, v in trace.items()} for trace in json.loads(chart.proto.spec)["data"]]


def test_contacts_without_waits_or_resolution_flags(monkeypatch, tmp_path):
    # Service contacts with no wait_seconds, first_contact_resolution or resolved (an export
    # without those columns). Snapshot = 2024-12-31 − 90 days = 2024-10-02; look-back
    # [2024-07-04, 2024-10-02). Active at the snapshot: c1 (2 contacts in Aug), c2 (1 in
    # Sep, churns 2024-11-15 — within the 90-day horizon), c3 (none). Churn by contacts:
    # "0": c3, 0 of 1; "1": c2, 1 of 1; "2": c1, 0 of 1.
    # Old page: stopped at "No service contacts or surveys match" (FCR, waits and surveys
    # were all empty), so the early-warning chart it could compute was hidden.
    path = build_database(
        tmp_path / "bare_contacts.duckdb",
        customers=[{"customer_id": 1, "signup_date": date(2024, 1, 5)},
                   {"customer_id": 2, "signup_date": date(2024, 1, 5), "churn_date": date(2024, 11, 15)},
                   {"customer_id": 3, "signup_date": date(2024, 2, 1)}],
        touchpoints=[{"customer_id": 1, "occurred_at": "2024-08-01 10:00:00", "subject": "technical"},
                     {"customer_id": 1, "occurred_at": "2024-08-20 10:00:00", "subject": "technical"},
                     {"customer_id": 2, "occurred_at": "2024-09-10 10:00:00", "kind": "complaint",
                      "subject": "billing"}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    assert not any("No service contacts or surveys match" in i.value for i in at.info)
    values = metric_values(at)
    assert values["FCR"] == "—" and values["Repeat contacts"] != "—"
    bars = _bars(at, "early_warning")
    assert len(bars) == 1  # the contacts panel only
    assert bars[0]["x"] == ["0", "1", "2"]
    assert bars[0]["customdata"] == [[1, 0], [1, 1], [1, 0]]  # [customers, churned]
    notes = [c.value for c in at.caption]
    assert any("Churn by unresolved contacts needs the resolved flag" in n for n in notes)
    assert any("Service levels needs wait times" in n and "your data has none" in n for n in notes)
    assert any("First-contact resolution needs the first_contact_resolution flag" in n for n in notes)
