"""The main tables fit a 1440 × 900 screen with the sidebar open (issue 17): no data grid
scrolls sideways (its scroller's scrollWidth is not wider than its clientWidth) and
neither does the page; the at-risk list shows 20 rows, and a selected row shows its
customer right under the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashboard.tables import LIST_ROWS, ROW_PX
from tests.e2e.conftest import SCREENSHOTS, assert_no_error, screenshot, wait_until_idle

pytestmark = pytest.mark.e2e

# every data grid on the page: its element width, its scroller's full and visible widths
GRIDS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
    .filter(d => d.offsetParent !== null)
    .map(d => { const s = d.querySelector('.dvn-scroller');
                const r = d.getBoundingClientRect();
                return {scroll: s ? s.scrollWidth : 0, visible: s ? s.clientWidth : 0,
                        top: r.top, bottom: r.bottom, height: r.height}; })"""
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture
def wide_page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def grids(page) -> list[dict]:
    # a grid below the fold is drawn when it scrolls into view
    for frame in page.locator('[data-testid="stDataFrame"]').all():
        if frame.is_visible():
            frame.scroll_into_view_if_needed()
            frame.locator(".dvn-scroller").wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    found = page.evaluate(GRIDS)
    assert found, "no table on the page"
    return found


def assert_fits(page, where: str) -> None:
    for i, grid in enumerate(grids(page)):
        assert grid["scroll"] <= grid["visible"] + 1, f"{where}: table {i} scrolls sideways ({grid})"
    scroll, visible = page.evaluate(PAGE_WIDTH)
    assert scroll <= visible, f"{where}: the page scrolls sideways ({scroll} > {visible})"


@pytest.mark.parametrize("path, opens", [
    ("data_quality", None), ("customer_value", None), ("service_signals", None),
    ("model", "model inputs"),  # the inputs' table sits in an expander
])
def test_main_tables_fit_1440(wide_page, app_url, path, opens):
    wide_page.goto(f"{app_url}/{path}")
    wait_until_idle(wide_page, 90_000)
    wide_page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    if opens:
        wide_page.locator('[data-testid="stExpander"] summary', has_text=opens).click()
        wide_page.wait_for_timeout(800)
    assert_fits(wide_page, path)
    assert_no_error(wide_page)


def test_at_risk_list_fits_shows_20_rows_and_the_selected_customer_below(wide_page, app_url):
    page = wide_page
    page.goto(f"{app_url}/at_risk")
    wait_until_idle(page, 90_000)
    # everyone scored (0%), so the list is long
    heading = page.locator("h3", has_text="customers with the largest expected loss")
    before = heading.inner_text()
    slider = page.get_by_role("slider", name="Churn risk at least")
    slider.focus()
    slider.press("Home")
    page.wait_for_function("t => [...document.querySelectorAll('h3')].some(h => "
                           "h.innerText.includes('customers with the largest') && h.innerText !== t)",
                           arg=before, timeout=30_000)
    wait_until_idle(page)
    assert_fits(page, "at_risk")
    table = grids(page)[0]
    assert table["height"] >= ROW_PX * (LIST_ROWS + 1), f"fewer than {LIST_ROWS} rows show: {table}"

    # select the first row (the selection column's box at the grid's left edge)
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + ROW_PX + ROW_PX / 2)
    card = page.locator(".st-key-at_risk_selected")
    expect(card).to_be_visible(timeout=30_000)
    wait_until_idle(page)
    expect(card).to_contain_text("Why:")
    card_top = card.bounding_box()["y"]
    table_bottom = grid.bounding_box()["y"] + grid.bounding_box()["height"]
    assert 0 <= card_top - table_bottom < 200, "the selected customer is not right under the list"
    assert_no_error(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "at-risk-1440x900.png"))  # what the screen shows
    screenshot(page, "at-risk-1440")


def test_glossary_link_lands_on_the_definition(wide_page, app_url):
    page = wide_page
    page.goto(f"{app_url}/glossary?term=nrr")
    wait_until_idle(page, 90_000)
    chosen = page.locator(".st-key-glossary_chosen")
    expect(chosen).to_contain_text("Net revenue retention")
    assert chosen.bounding_box()["y"] < 900, "the definition is not on the first screen"
    assert "term=nrr" in page.url  # the app's filter parameters did not drop it
    assert_no_error(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "glossary-1440x900.png"))
    screenshot(page, "glossary-1440")
