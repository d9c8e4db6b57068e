"""`make run` with the Spark config: a real Streamlit server started with
RETENTION_CONFIG pointing at the Parquet export (`[engine] kind = "spark"`), and every page
opened in headless Chromium renders without an exception or an error box."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (CHROMIUM, assert_no_error, screenshot, start_server, stop_server,
                                wait_until_idle)

pytestmark = pytest.mark.e2e

# (URL path, title) of every page; the Overview is the default page
PAGES = [("", "Overview"), ("retention_roi", "Retention ROI & what-if"), ("leadership_report", "Leadership report"),
         ("presentation", None), ("at_risk", "At-risk customers"), ("churn_funnel", "Churn funnel"),
         ("service_signals", "Service & signals"), ("retention_by_segment", "Retention by segment"),
         ("customer_value", "Customer value"), ("data_quality", "Data quality"), ("data_import", None),
         ("model", "Model"), ("glossary", None)]


@pytest.fixture(scope="module")
def spark_url(sample_files, tmp_path_factory):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed; `make test` installs it")
    proc, url = start_server(None, tmp_path_factory.mktemp("spark-logs") / "streamlit.log",
                             config=sample_files[1])
    yield url
    stop_server(proc)


def test_every_page_renders_over_spark(browser, spark_url) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    for path, title in PAGES:
        page.goto(f"{spark_url}/{path}")
        # the first page starts the server's Spark session (a JVM): give it time
        wait_until_idle(page, timeout_ms=240_000)
        assert_no_error(page)
        errors = page.locator('[data-testid="stAlertContentError"]')
        texts = [e for e in errors.all_inner_texts() if not e.startswith("The stored model card cannot be read")]
        assert not texts, (path, texts)
        if title:
            expect(page.locator("h1", has_text=title)).to_be_visible()
        screenshot(page, f"spark-{path or 'overview'}")
    context.close()
