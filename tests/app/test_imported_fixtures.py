"""Every page on each committed import fixture (tests/data/import/), imported with the real
pipeline (`analytics.load.run_import`): a single snapshot (tenure + Yes/No churn flag, the
4-row one and a 40-row one), rejects (text ids, dd/mm/yyyy dates, unknown category values
like "Satellite"), a purchase log with a churned flag, subscriptions, invoices, and service
contacts without surveys or notes. No page raises; each part that needs data the file lacks
says which in one line — on a single snapshot, that churn over time needs churn dates."""

from __future__ import annotations

from pathlib import Path

import pytest

import analytics.load as load
from tests.app.apptest import metric_values, no_exception, run_page
from tests.app.test_partial_data import PAGES

DATA = Path(__file__).resolve().parents[1] / "data" / "import"
FIXTURES = ("snapshot", "snapshot_telco", "rejects", "flag_and_purchases", "subscriptions", "invoices",
            "contacts_only")
SNAPSHOT_NOTE = "needs churn dates — your data records who has left, not when (a single snapshot)."


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("imported")
    paths = {}
    for name in FIXTURES:
        paths[name] = root / f"{name}.duckdb"
        load.run_import(load.read_mapping(DATA / name / "mapping.toml"), paths[name])
    return paths


def _notes(at) -> str:
    return " ".join(x.value for x in list(at.caption) + list(at.info) + list(at.warning))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("name", FIXTURES)
def test_every_page_renders_on_each_imported_fixture(monkeypatch, imported, name, page) -> None:
    no_exception(run_page(monkeypatch, imported[name], page))


def test_snapshot_overview_shows_the_note_instead_of_period_churn(monkeypatch, imported) -> None:
    at = run_page(monkeypatch, imported["snapshot_telco"], "overview.py")
    no_exception(at)
    values = metric_values(at)
    # 40 customers, 13 flagged churned (all given the as-of date): 27 active on it
    assert values["Active customers"] == "27"
    for label in ("Logo churn", "Revenue churn", "Net revenue retention", "Gross revenue retention"):
        assert values[label] == "—", label
    assert not any("%" in v for v in values.values()), values  # no period rate anywhere
    notes = _notes(at)
    assert "Churn over time " + SNAPSHOT_NOTE in notes
    assert notes.count(SNAPSHOT_NOTE) >= 3  # under the cards, the trend, the movers
    keys = {c.proto.id for c in at.get("plotly_chart")}
    assert not any("churn_trend" in k or "movers" in k or "revenue_retention" in k for k in keys), keys


def test_snapshot_retention_by_segment_keeps_survival_and_says_what_needs_dates(monkeypatch, imported) -> None:
    at = run_page(monkeypatch, imported["snapshot_telco"], "retention_by_segment.py")
    no_exception(at)
    # lifetime = tenure: survival is right on a snapshot, so the median is shown
    assert metric_values(at)["Median customer lifetime"] != "—"
    notes = _notes(at)
    for part in ("Cohort retention", "Churn over the period by segment", "Churn reasons by month"):
        assert f"{part} {SNAPSHOT_NOTE}" in notes, part


def test_snapshot_roi_what_if_and_leavers_need_dates(monkeypatch, imported) -> None:
    at = run_page(monkeypatch, imported["snapshot_telco"], "retention_roi.py")
    no_exception(at)
    notes = _notes(at)
    assert "The what-if (today's monthly churn rate) " + SNAPSHOT_NOTE in notes
    assert "Replace or keep (the period's leavers) " + SNAPSHOT_NOTE in notes
    assert "Customers lost" not in metric_values(at)


@pytest.mark.parametrize("page", ["at_risk.py", "model.py"])
def test_snapshot_risk_pages_work(monkeypatch, imported, page) -> None:
    no_exception(run_page(monkeypatch, imported["snapshot_telco"], page))  # no scores: they say so


def test_dated_churn_shows_no_snapshot_note(monkeypatch, imported) -> None:
    at = run_page(monkeypatch, imported["contacts_only"], "overview.py")
    no_exception(at)
    assert SNAPSHOT_NOTE not in _notes(at)
    # 8 customers, 3 left during 2024 on three dates: 5 active on 31 Dec
    assert metric_values(at)["Active customers"] == "5" and metric_values(at)["Logo churn"] != "—"


def test_contacts_without_surveys_or_notes_say_what_they_need(monkeypatch, imported) -> None:
    at = run_page(monkeypatch, imported["contacts_only"], "service_signals.py")
    no_exception(at)
    notes = _notes(at)
    assert "Satisfaction needs survey answers (CSAT or NPS on touchpoints) — your data has none." in notes
    assert "Churn signals needs agents' notes (the note column of touchpoints) — your data has none." in notes
    assert "Service levels needs wait times" in notes
    assert "Service & signals needs service contacts" not in notes  # contacts are there
