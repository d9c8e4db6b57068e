"""Shared AppTest helpers: run the app on one page over a given database."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics.db import open_database
from analytics.filters import RetentionFilter
from tests.builders import build_database

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
DEFAULT_PERIOD_DAYS = 365  # the sidebar's default period, as-of date inclusive


def run_page(monkeypatch, db_path, page: str | None = None, query: dict | None = None) -> AppTest:
    """Run the app with `RETENTION_DB=db_path` on `page` (a file in pages/, e.g.
    "churn_funnel.py"; None = the default page) with the URL `query`."""
    monkeypatch.setenv("RETENTION_DB", str(db_path))
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(f"../pages/{page}")
    return at.run()


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def default_filter(db_path, **dimensions) -> RetentionFilter:
    """The filter a fresh session starts with: the last 365 days to the as-of date."""
    db = open_database(db_path)
    try:
        as_of = date.fromisoformat(db.schema_info()["as_of_date"])
    finally:
        db.close()
    return RetentionFilter(as_of - timedelta(days=DEFAULT_PERIOD_DAYS - 1), as_of, **dimensions)


def chart_count(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def no_match_database(tmp_path) -> Path:
    """Two customers (consumer/north, enterprise/south): segment=enterprise with
    region=north matches nobody — the empty-selection case every page must handle. The
    file holds revenue, a service contact, a survey answer, a note and a cancellation request
    with its outcome (all customer 1's), so a page's message is about the filter, not about
    data the file lacks."""
    return build_database(
        tmp_path / "tiny.duckdb",
        customers=[{"customer_id": 1, "segment": "consumer", "region": "north", "signup_date": date(2024, 1, 5)},
                   {"customer_id": 2, "segment": "enterprise", "region": "south", "signup_date": date(2024, 2, 1)}],
        touchpoints=[
            {"customer_id": 1, "occurred_at": "2024-06-03 10:00:00", "kind": "service_request",
             "wait_seconds": 60, "first_contact_resolution": True, "note": "asked about the bill"},
            {"customer_id": 1, "occurred_at": "2024-06-04 10:00:00", "kind": "survey", "csat": 4, "nps": 8},
            {"customer_id": 1, "occurred_at": "2024-06-05 10:00:00", "kind": "cancellation_request"},
            {"customer_id": 1, "occurred_at": "2024-06-05 12:00:00", "kind": "retention_call",
             "outcome": "offer_accepted", "related_touchpoint_id": 3},
        ],
        monthly_revenue=[{"customer_id": 1, "month": date(2024, 6, 1), "mrr": 100.0}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
    )
