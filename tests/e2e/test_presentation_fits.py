"""Presentation mode in headless Chromium at a 1280×720 projector and a 1920×1080 screen:
every slide fits the window — nothing scrolls, vertically or sideways, the chart is sized
from the viewport and ends above the fixed footer, its legend clear of the axis labels —
and the presenter view (a second window of the same talk) shows the speaker notes and
follows the projector window. Screenshots of each slide go to artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, assert_no_error, wait_until_idle

pytestmark = pytest.mark.e2e

VIEWPORTS = [(1280, 720), (1920, 1080)]

# Every scrolling box of the page: the document and Streamlit's own containers (Streamlit
# scrolls inside stMain, so the document alone would always look as if it fits).
OVERFLOW = """() => {
  const boxes = [['document', document.scrollingElement],
    ...['stAppViewContainer', 'stMain', 'stMainBlockContainer'].map(id => [id, document.querySelector(`[data-testid="${id}"]`)])];
  return boxes.filter(([, e]) => e).map(([name, e]) => ({name, scrollHeight: e.scrollHeight, clientHeight: e.clientHeight,
    scrollWidth: e.scrollWidth, clientWidth: e.clientWidth}));
}"""

# Boxes of the chart, the footer, the legend and every axis tick label (plotly's SVG).
LAYOUT = """() => {
  const box = e => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const chart = document.querySelector('.st-key-slide_area [data-testid="stPlotlyChart"]');
  const area = document.querySelector('.st-key-slide_area');
  const nav = document.querySelector('.st-key-presentation_nav');
  return {
    chart: chart && box(chart), area: area && box(area), nav: box(nav),
    legend: [...document.querySelectorAll('.st-key-slide_area g.legend')].map(box),
    ticks: [...document.querySelectorAll('.st-key-slide_area g.xtick text, .st-key-slide_area g.ytick text')].map(box),
  };
}"""


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def slide_count(page) -> int:
    text = page.locator(".st-key-presentation_nav").get_by_text(re.compile(r"Slide \d+ of \d+")).inner_text()
    return int(re.search(r"of (\d+)", text).group(1))


def wait_for_slide(page, number: int) -> None:
    expect(page.locator(".st-key-presentation_nav")).to_contain_text(re.compile(rf"Slide {number} of \d+"),
                                                                      timeout=60_000)
    wait_until_idle(page, timeout_ms=60_000)
    if page.locator(".st-key-slide_area [data-testid='stPlotlyChart']").count():
        page.locator(".st-key-slide_area .main-svg").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(600)  # plotly sizes itself to its box after a frame


@pytest.mark.parametrize("width, height", VIEWPORTS, ids=lambda v: str(v))
def test_every_slide_fits_the_window(browser, app_url, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(f"{app_url}/presentation?slide=1")
        wait_for_slide(page, 1)
        expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        expect(page.get_by_role("button", name="← Previous", exact=True)).to_be_visible()
        next_button = page.get_by_role("button", name="Next →", exact=True)
        expect(next_button).to_be_visible()
        total = slide_count(page)
        assert total == 9
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for number in range(1, total + 1):
            if number > 1:
                next_button.click()
                wait_for_slide(page, number)
            assert_no_error(page)
            page.screenshot(path=str(SCREENSHOTS / f"presentation-{width}x{height}-{number}.png"))
            for box in page.evaluate(OVERFLOW):
                assert box["scrollHeight"] <= box["clientHeight"] + 1, (number, box)  # no vertical scroll
                assert box["scrollWidth"] <= box["clientWidth"] + 1, (number, box)    # no horizontal scroll
            assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
            layout = page.evaluate(LAYOUT)
            if layout["chart"]:
                chart = layout["chart"]
                assert chart["bottom"] <= layout["nav"]["top"] + 1, (number, chart, layout["nav"])  # above the footer
                assert chart["bottom"] - chart["top"] >= 0.4 * height, (number, chart)  # sized from the viewport
                for legend in layout["legend"]:
                    clashes = [t for t in layout["ticks"] if overlaps(legend, t)]
                    assert not clashes, (number, legend, clashes[:3])
            elif number > 1:  # the KPI slide: its table ends above the footer
                assert layout["area"]["bottom"] <= layout["nav"]["top"] + 1
        expect(next_button).to_be_disabled()
    finally:
        context.close()


def test_presenter_view_shows_notes_and_follows_the_screen(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    screen = context.new_page()
    try:
        screen.goto(f"{app_url}/presentation?slide=3")
        wait_for_slide(screen, 3)
        with context.expect_page() as opened:
            screen.get_by_role("link", name="Presenter view").click()
        presenter = opened.value
        presenter.set_viewport_size({"width": 1280, "height": 720})
        notes = presenter.locator(".st-key-speaker_notes")
        expect(notes).to_contain_text("What the numbers mean:", timeout=60_000)
        expect(notes).to_contain_text("churn rate = churned from start ÷ active start")
        assert "view=presenter" in presenter.url
        assert re.search(r"talk=([\w-]+)", presenter.url).group(1) == re.search(r"talk=([\w-]+)", screen.url).group(1)
        heading = presenter.locator('[data-testid="stMain"] h2').first
        expect(heading).to_contain_text("Slide 3 of 9")
        expect(presenter.get_by_text("Next:", exact=False).first).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        presenter.screenshot(path=str(SCREENSHOTS / "presentation-presenter-view.png"))
        # the projector window moves on: the presenter view follows within its poll
        screen.get_by_role("button", name="Next →", exact=True).click()
        expect(heading).to_contain_text("Slide 4 of 9", timeout=15_000)
        # and the presenter drives the projector from the laptop
        presenter.get_by_role("button", name="Next →", exact=True).click()
        screen.wait_for_url(re.compile(r"slide=5"), timeout=15_000)
        wait_for_slide(screen, 5)
        assert_no_error(screen)
        assert_no_error(presenter)
    finally:
        context.close()
