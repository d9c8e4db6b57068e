"""AppTest: the Leadership report page — filters shown, the build button makes the deck
and the PDF (with progress), two downloads and the slide titles appear; a filter change
asks for a rebuild.

Until dashboard/app.py registers the page, it runs under a minimal entry script that
does what app.py does (page config, navigation, the shared sidebar) with the report
pages registered; once registered, through the real app."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from analytics import formatting as fmt
from analytics.db import open_database
from reports.story import gather_story
from tests.app.apptest import default_filter, no_exception, run_page

ROOT = Path(__file__).resolve().parents[2]
PAGE = "leadership_report.py"


def _entry(root: str, page: str) -> None:  # runs as the app script (AppTest.from_function)
    import sys
    from pathlib import Path

    if root not in sys.path:
        sys.path.insert(0, root)
    import streamlit as st

    from dashboard import data, sidebar

    pages = Path(root) / "pages"
    st.set_page_config(page_title="Retention Radar", layout="wide")
    titles = {"leadership_report.py": "Leadership report", "presentation.py": "Presentation",
              "overview.py": "Overview"}
    nav = st.navigation([st.Page(pages / name, title=title, default=name == page) for name, title in titles.items()])
    sidebar.render_filters(data.as_of_date(), data.history_start(), data.dimension_values())
    nav.run()


def registered(page: str) -> bool:
    return page in (ROOT / "dashboard" / "app.py").read_text(encoding="utf-8")


def run_report_page(monkeypatch, db_path, page: str, query: dict | None = None) -> AppTest:
    """Run `page` (leadership_report.py or presentation.py) over `db_path`."""
    if registered(page):
        return run_page(monkeypatch, db_path, page, query)
    monkeypatch.setenv("RETENTION_DB", str(db_path))
    at = AppTest.from_function(_entry, args=(str(ROOT), page), default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def downloads(at: AppTest):
    return at.get("download_button")


def test_page_shows_the_filters_and_waits(monkeypatch, sample_db_path):
    at = run_report_page(monkeypatch, sample_db_path, PAGE, {"segment": "consumer"})
    no_exception(at)
    assert at.title[0].value == "Leadership report"
    text = " ".join(m.value for m in at.markdown)
    assert "Filters in effect" in text and "**Segments** Consumer" in text
    assert not downloads(at)
    assert "Build the report" in at.info[0].value


def test_build_gives_deck_pdf_and_titles(monkeypatch, sample_db_path):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.button(key="report_build").click().run()
    no_exception(at)
    assert not at.error
    assert [d.proto.label for d in downloads(at)] == ["Deck (PowerPoint)", "Report (PDF)"]
    report = at.session_state["leadership_report"]
    assert report["deck"][:2] == b"PK" and report["pdf"][:5] == b"%PDF-"
    db = open_database(sample_db_path)
    try:
        titles = gather_story(db, default_filter(sample_db_path)).slide_titles
    finally:
        db.close()
    assert report["titles"] == titles
    preview = at.markdown[-1].value
    assert all(f"{i}. {fmt.md_escape(t)}" in preview for i, t in enumerate(titles, start=1))
    status = at.status[0]
    assert status.label == f"Report ready: {len(titles)} slides" and status.proto.state == status.proto.COMPLETE
    assert at.get("progress")[0].proto.value == 100
    assert [link.proto.label for link in at.get("page_link")] == ["Present on screen"]
    # downloads do not rerun the page; rerunning keeps the built report
    at.run()
    assert len(downloads(at)) == 2


def test_filter_change_asks_for_a_rebuild(monkeypatch, sample_db_path):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.button(key="report_build").click().run()
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    no_exception(at)
    assert not downloads(at)
    assert "filters changed" in at.warning[0].value


def deck_of(at: AppTest):
    import io

    from pptx import Presentation

    return Presentation(io.BytesIO(at.session_state["leadership_report"]["deck"]))


def test_picked_slides_and_commentary_go_into_the_report(monkeypatch, sample_db_path):
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    assert at.checkbox(key="report_pick_title").disabled  # the title slide always stays
    for key in ("funnel", "segments", "value", "risk", "data_quality"):
        at.checkbox(key=f"report_pick_{key}").uncheck()
    at.text_input(key="report_line_trend").input("Churn is down since the spring")
    at.button(key="report_build").click().run()
    no_exception(at)
    report = at.session_state["leadership_report"]
    assert report["cut"] == {"keys": ("title", "kpis", "trend", "roi"),
                             "commentary": {"trend": "Churn is down since the spring"}}
    deck = deck_of(at)
    assert len(deck.slides) == 4 and len(report["titles"]) == 4
    trend = deck.slides[2]
    assert any(s.name == "commentary" and s.text_frame.text == "Churn is down since the spring" for s in trend.shapes)
    assert at.status[0].label == "Report ready: 4 slides"
    # a changed line after the build asks for a rebuild, and the downloads go
    at.text_input(key="report_line_roi").input("Worth every shekel").run()
    assert not downloads(at)
    assert "slides or commentary changed" in at.warning[0].value


def test_brand_from_config_dresses_the_deck(monkeypatch, sample_db_path, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (240, 80), "#0B3D91").save(logo)
    config = tmp_path / "retention.toml"
    config.write_text(f'[brand]\nname = "Acme Telecom"\nlogo = "{logo}"\ncolours = ["#0B3D91"]\n', encoding="utf-8")
    monkeypatch.setenv("RETENTION_CONFIG", str(config))
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    at.button(key="report_build").click().run()
    no_exception(at)
    title = deck_of(at).slides[0]
    assert any(s.name == "brand_logo" for s in title.shapes)
    assert any(s.has_text_frame and s.text_frame.text == "Acme Telecom" for s in title.shapes)


def test_a_bad_brand_setting_is_one_line_and_the_report_still_builds(monkeypatch, sample_db_path, tmp_path):
    config = tmp_path / "retention.toml"
    config.write_text('[brand]\ncolours = ["navy"]\n', encoding="utf-8")
    monkeypatch.setenv("RETENTION_CONFIG", str(config))
    at = run_report_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    warning = at.warning[0].value
    assert "[brand] colours has 'navy'" in warning and "built without the brand" in warning
    assert "\n" not in warning
    at.button(key="report_build").click().run()
    assert [d.proto.label for d in downloads(at)] == ["Deck (PowerPoint)", "Report (PDF)"]
