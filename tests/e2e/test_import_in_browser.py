"""A new user's first import, in headless Chromium: the generator's CSV export uploaded on
the Data page, columns mapped by the page's suggestions, imported, and the Overview then
shows the imported numbers — read from the swapped file without a restart."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from analytics import metrics
from analytics.db import open_database
from analytics.filters import RetentionFilter
from sample_data.generate import export_csv, generate
from tests.e2e.conftest import assert_no_error, screenshot, start_server, stop_server, wait_until_idle

pytestmark = pytest.mark.e2e


@pytest.fixture()
def export_and_server(tmp_path):
    source = generate(tmp_path / "source.duckdb", customers=400, seed=9).path
    export = tmp_path / "export"
    export_csv(source, export)
    db = open_database(source)
    try:
        as_of = date.fromisoformat(db.schema_info()["as_of_date"])
        active = metrics.active_customers(db, RetentionFilter(as_of, as_of))
    finally:
        db.close()
    live = generate(tmp_path / "live.duckdb", customers=150, seed=2).path  # what the dashboard had before
    proc, url = start_server(live, tmp_path / "streamlit.log")
    yield export, as_of, active, url, live
    stop_server(proc)


def test_upload_map_import_then_the_overview_shows_the_import(page, export_and_server) -> None:
    export, as_of, active, url, live = export_and_server
    page.goto(f"{url}/data_import")
    wait_until_idle(page)
    uploads = {"Customers": "customers.csv", "Revenue": "monthly_revenue.csv", "Touchpoints": "touchpoints.csv"}
    for label, name in uploads.items():
        uploader = page.locator('[data-testid="stFileUploader"]', has_text=label)
        uploader.locator('input[type="file"]').set_input_files(str(export / name))
        page.wait_for_selector(f'[data-testid="stExpander"]:has-text("{name}")', timeout=60_000)
        wait_until_idle(page, timeout_ms=60_000)
    page.get_by_label("As-of date").fill(as_of.isoformat())
    page.get_by_label("As-of date").press("Enter")
    wait_until_idle(page, timeout_ms=60_000)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile(r"Imported into"))).to_be_visible(timeout=180_000)
    assert_no_error(page)
    screenshot(page, "data-import")
    assert (live.parent / f"{live.name}.bak").is_file()  # the previous file is kept

    page.goto(url)
    wait_until_idle(page, timeout_ms=60_000)
    card = page.locator('[data-testid="stMetric"]', has_text="Active customers")
    expect(card.locator('[data-testid="stMetricValue"]')).to_have_text(f"{active:,}", timeout=60_000)
    assert_no_error(page)
