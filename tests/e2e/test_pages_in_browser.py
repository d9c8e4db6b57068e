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
    for label in ("Active customers", "Logo churn", "Revenue churn", "Net revenue retention",
                  "Gross revenue retention", "Average historical CLV", "Saved customers", "Margin at risk"):
        expect(page.locator('[data-testid="stMetric"]', has_text=label)).to_be_visible()
    assert re.fullmatch(r"[\d,]+", kpi_value(page, "Active customers"))
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(5, timeout=30_000)  # + the MRR waterfall
    assert_no_error(page)
    screenshot(page, "overview")


# (navigation label, page title, KPI labels, number of charts) for every page but the Overview
PAGES = [
    ("Retention ROI & what-if", "Retention ROI & what-if",
     ("Saved customers", "Programme cost", "Net benefit", "ROI", "Extra revenue, 12 months"), 4),
    # 7 + the retention team's funnel: the sample's simulated year of logged cases (its last 30 days)
    ("Churn funnel", "Churn funnel", ("Requests", "Reach rate", "Offer acceptance", "Kept 90 days"), 8),
    ("Service & signals", "Service & signals",
     ("FCR", "Repeat contacts", "Within SLA", "CSAT", "NPS", "Notes read", "Notes with a churn signal"), 7),
    ("Retention by segment", "Retention by segment",
     ("Median customer lifetime", "Log-rank p-value by segment", "Groups compared"), 5),
    ("Customer value", "Customer value",
     ("Average historical CLV", "Median historical CLV", "CLV : acquisition cost"), 5),
    ("Data quality", "Data quality", ("Customer records checked", "Failures found", "Cost to fix now"), 1),
    ("Model", "Model", ("ROC AUC", "Top-decile lift", "Top-decile capture", "Brier score", "Customers scored"), 3),
]


@pytest.mark.parametrize("nav, title, kpis, charts", PAGES, ids=[p[0] for p in PAGES])
def test_page_from_navigation(page, app_url, nav, title, kpis, charts):
    page.goto(app_url)
    wait_until_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=nav).click()
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=\"stMain\"] h1')].some(h => h.innerText.includes(t))",
        arg=title, timeout=30_000,
    )
    wait_until_idle(page)
    expect(page.locator("h1", has_text=title)).to_be_visible()
    for label in kpis:
        expect(page.locator('[data-testid="stMetric"]', has_text=label).first).to_be_visible()
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(charts, timeout=30_000)
    # every chart carries plotly's toolbar with the PNG export, and no plotly logo
    assert page.locator(".modebar-btn[data-title='Download plot as a png' i]").count() == charts
    assert page.locator(".modebar-btn--logo").count() == 0
    assert_no_error(page)
    screenshot(page, title.lower().replace(" & ", "-").replace(" ", "-"))


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


def test_leadership_report_builds_and_downloads_a_deck(page, app_url, tmp_path):
    from pptx import Presentation

    page.goto(app_url)
    wait_until_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Leadership report").click()
    expect(page.locator("h1", has_text="Leadership report")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Build the deck and PDF").click()
    download_button = page.get_by_role("button", name="Deck (PowerPoint)")
    expect(download_button).to_be_visible(timeout=90_000)
    with page.expect_download() as info:
        download_button.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.suffix == ".pptx"
    deck = Presentation(str(path))
    assert len(deck.slides) >= 8
    assert any(shape.has_chart for slide in deck.slides for shape in slide.shapes)
    assert_no_error(page)
    screenshot(page, "leadership-report")


def test_presentation_mode_steps_through_slides(page, app_url):
    page.goto(f"{app_url}/presentation")
    wait_until_idle(page)
    heading = page.locator('[data-testid="stMain"] :is(h1, h2)').first
    first = heading.inner_text()
    expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"slide=2"), timeout=30_000)
    wait_until_idle(page)
    expect(heading).not_to_have_text(first, timeout=30_000)
    assert_no_error(page)
    screenshot(page, "presentation")
