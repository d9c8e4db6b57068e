"""Each page opened in headless Chromium from the navigation, as a user would."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_error, screenshot, start_server, stop_server, wait_until_idle

pytestmark = pytest.mark.e2e


def kpi_value(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label)
    expect(card).to_be_visible(timeout=30_000)
    return card.locator('[data-testid="stMetricValue"]').inner_text()


def test_overview_page(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    expect(page.locator("h1", has_text="Overview")).to_be_visible()
    for label in ("Active customers", "Churn, last 30 days", "Churn, last 90 days", "Monthly recurring revenue"):
        expect(page.locator('[data-testid="stMetric"]', has_text=label)).to_be_visible()
    assert re.fullmatch(r"[\d,]+", kpi_value(page, "Active customers"))
    assert_no_error(page)
    screenshot(page, "overview")


def test_glossary_page_from_navigation(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    page.get_by_role("link", name="Metrics glossary").click()
    wait_until_idle(page)
    assert "glossary" in page.url
    assert_no_error(page)
    screenshot(page, "glossary")


def test_shared_link_applies_filter(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    everyone = kpi_value(page, "Active customers")
    page.goto(f"{app_url}/?segment=enterprise")
    wait_until_idle(page)
    enterprise = kpi_value(page, "Active customers")
    assert int(enterprise.replace(",", "")) < int(everyone.replace(",", ""))
    expect(page.locator('[data-testid="stSidebar"]').get_by_text("Enterprise")).to_be_visible()
    assert_no_error(page)


def test_missing_database_shows_guidance(page, tmp_path):
    proc, url = start_server(tmp_path / "absent.duckdb", tmp_path / "streamlit.log")
    try:
        page.goto(url)
        wait_until_idle(page)
        expect(page.locator("h1", has_text="Retention Radar needs a database")).to_be_visible()
        expect(page.get_by_text("No database at")).to_be_visible()
        expect(page.get_by_role("button", name="Generate the sample database")).to_be_visible()
        assert_no_error(page)
        screenshot(page, "setup-missing-database")
    finally:
        stop_server(proc)
    assert not (tmp_path / "absent.duckdb").exists()
