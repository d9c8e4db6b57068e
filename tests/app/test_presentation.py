"""AppTest: presentation mode — chrome hidden by injected CSS, one slide per screen with
the story's takeaway as the chart title, next / previous move through the slides (state
in the session, slide number in the URL), and `?slide=N` opens on slide N."""

from __future__ import annotations

import pytest

from analytics import formatting as fmt
from analytics.db import open_database
from reports.story import gather_story
from tests.app.apptest import default_filter, no_exception
from tests.app.test_leadership_report import run_report_page

PAGE = "presentation.py"


@pytest.fixture(scope="module")
def titles(sample_db_path) -> list[str]:
    db = open_database(sample_db_path)
    try:
        return gather_story(db, default_filter(sample_db_path)).slide_titles
    finally:
        db.close()


def figure_title(at) -> str:
    """The slide's takeaway (a heading above its one chart)."""
    assert len(at.get("plotly_chart")) == 1
    return at.header[0].value


def counter(at) -> str:
    return next(m.value for m in at.markdown if "Slide " in m.value)


def test_opens_on_the_title_slide_with_chrome_hidden(monkeypatch, sample_db_path, titles):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == fmt.md_escape(titles[0])
    css = " ".join(h.proto.body for h in at.get("html"))
    for selector in ('[data-testid="stSidebar"]', '[data-testid="stHeader"]', '[data-testid="stToolbar"]'):
        assert selector in css
    assert "display: none" in css
    assert f"Slide 1 of {len(titles)}" in counter(at)
    assert at.button(key="presentation_previous").disabled
    assert at.query_params["slide"] == "1"


def test_next_and_previous_change_the_slide(monkeypatch, sample_db_path, titles):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.button(key="presentation_next").click().run()
    no_exception(at)
    assert f"Slide 2 of {len(titles)}" in counter(at)
    assert at.query_params["slide"] == "2"
    assert len(at.get("plotly_chart")) == 1  # one chart per screen
    assert figure_title(at) == fmt.md_escape(titles[1])
    at.button(key="presentation_next").click().run()
    assert figure_title(at) == fmt.md_escape(titles[2])
    at.button(key="presentation_previous").click().run()
    no_exception(at)
    assert figure_title(at) == fmt.md_escape(titles[1])
    assert at.session_state["presentation_slide"] == 1
    while not at.button(key="presentation_next").disabled:  # to the end, where Next is disabled
        at.button(key="presentation_next").click().run()
        no_exception(at)
    assert figure_title(at) == fmt.md_escape(titles[-1])
    assert at.session_state["presentation_slide"] == len(titles) - 1


def test_slide_from_the_url(monkeypatch, sample_db_path, titles):
    at = run_report_page(monkeypatch, sample_db_path, PAGE, {"slide": "4"})
    no_exception(at)
    assert figure_title(at) == fmt.md_escape(titles[3])
    assert at.query_params["slide"] == "4"
