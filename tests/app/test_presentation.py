"""AppTest: presentation mode — chrome hidden by injected CSS, one slide per screen with
the story's takeaway as the chart title, next / previous move through the slides (state
in the session, slide number in the URL), and `?slide=N` opens on slide N; the presenter
view (`?view=presenter`) of the same talk shows the speaker notes and the next slide and
follows the projector window; the slides are the cut made on the Leadership report page."""

from __future__ import annotations

import pytest

from analytics import formatting as fmt
from analytics.db import open_database
from reports.story import SLIDE_KEYS as SLIDE_ORDER, gather_story
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
    """The slide's takeaway (a heading above its one chart, or the KPI table)."""
    kpi_table = any("<table class='kpi-table'" in h.proto.body for h in at.get("html"))
    assert len(at.get("plotly_chart")) + kpi_table == 1
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
    # one arrow per button, in the label (the shortcut's own key hint is hidden by the CSS)
    assert at.button(key="presentation_previous").label == "← Previous"
    assert at.button(key="presentation_next").label == "Next →"
    assert ".st-key-presentation_nav kbd" in css


def test_next_and_previous_change_the_slide(monkeypatch, sample_db_path, titles):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.button(key="presentation_next").click().run()
    no_exception(at)
    assert f"Slide 2 of {len(titles)}" in counter(at)
    assert at.query_params["slide"] == "2"
    assert figure_title(at) == fmt.md_escape(titles[1])  # the KPI table
    assert "Logo churn" in next(h.proto.body for h in at.get("html") if "<table class='kpi-table'" in h.proto.body)
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


def notes_text(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_presenter_view_shows_the_notes_and_follows_the_screen(monkeypatch, sample_db_path, titles):
    screen = run_report_page(monkeypatch, sample_db_path, PAGE, {"slide": "3"})
    code = screen.query_params["talk"]
    presenter = run_report_page(monkeypatch, sample_db_path, PAGE, {"talk": code, "view": "presenter"})
    no_exception(presenter)
    assert presenter.header[0].value == f"Slide 3 of {len(titles)}: {fmt.md_escape(titles[2])}"
    text = notes_text(presenter)
    assert "**Speaker notes**" in text and fmt.md_escape("What the numbers mean:") in text
    assert fmt.md_escape("churn rate = churned from start ÷ active start") in text  # the definitions
    assert f"**Next:** {fmt.md_escape(titles[3])}" in text
    assert not presenter.get("link_button")  # no second presenter view from the presenter view
    # the projector window moves on: the presenter view follows (its poll reruns the page)
    screen.button(key="presentation_next").click().run()
    presenter.run()
    assert presenter.header[0].value.startswith(f"Slide 4 of {len(titles)}:")
    # and the other way round
    presenter.button(key="presentation_previous").click().run()
    screen.run()
    assert screen.query_params["slide"] == "3" and figure_title(screen) == fmt.md_escape(titles[2])


def test_presenter_link_carries_the_talk_and_the_filters(monkeypatch, sample_db_path):
    at = run_report_page(monkeypatch, sample_db_path, PAGE, {"segment": "enterprise"})
    link = at.get("link_button")[0].proto
    assert link.label == "Presenter view"
    assert link.url.startswith("presentation?") and f"talk={at.query_params['talk']}" in link.url
    assert "segment=enterprise" in link.url and "view=presenter" in link.url


def test_slides_are_the_cut_made_on_the_report_page(monkeypatch, sample_db_path, titles):
    monkeypatch.setenv("RETENTION_DB", str(sample_db_path))
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.session_state["report_cut"] = {"keys": ("title", "trend", "roi"), "commentary": {"roi": "Worth every shekel"}}
    at.run()
    no_exception(at)
    assert "Slide 1 of 3" in counter(at)
    assert notes_text(at).count("\n- ") == 1  # the title slide lists the two takeaways
    at.button(key="presentation_next").click().run()
    at.button(key="presentation_next").click().run()
    assert figure_title(at) == fmt.md_escape(titles[SLIDE_ORDER.index("roi")])
    assert "Worth every shekel" in notes_text(at)
    # the presenter view, another session, shows the same cut
    presenter = run_report_page(monkeypatch, sample_db_path, PAGE,
                                {"talk": at.query_params["talk"], "view": "presenter"})
    assert presenter.header[0].value.startswith("Slide 3 of 3:")
    assert notes_text(presenter).count("Worth every shekel") == 1  # once, above the notes


def test_a_shorter_cut_moves_the_talk_to_its_last_slide(monkeypatch, sample_db_path):
    """A talk on slide 9 whose cut shrinks to three slides ends on slide 3 — the talk too,
    or the windows' poll would see a difference every second and rerun for ever."""
    from dashboard.talks import talks

    at = run_report_page(monkeypatch, sample_db_path, PAGE, {"slide": "9"})
    assert "Slide 9 of 9" in counter(at)
    at.session_state["report_cut"] = {"keys": ("title", "kpis", "roi"), "commentary": {}}
    at.run()
    no_exception(at)
    assert "Slide 3 of 3" in counter(at) and at.query_params["slide"] == "3"
    talk, joined = talks().open(at.query_params["talk"])
    assert joined and talk.slide == 2
