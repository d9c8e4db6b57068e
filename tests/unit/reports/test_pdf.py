"""The PDF, through Debian's poppler-utils: one page per story section (rendered to PNG
with pdftoppm, each page actually drawn), its text (pdftotext) holds every takeaway
title and the KPI numbers, and no personal data."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from analytics import metrics
from analytics import formatting as fmt
from analytics import periods
from tests.unit.reports.conftest import leaks

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils (pdftoppm, pdftotext) not installed; `make test` installs it",
)


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


@pytest.fixture(scope="module")
def pages(pdf_path: Path, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("pages")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_path), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def test_one_landscape_page_per_section(pages, story):
    assert len(pages) == len(story.sections) == 9
    for page in pages:
        with Image.open(page) as image:
            width, height = image.size
            assert width > height  # landscape
            grey = image.convert("L")
            dark = sum(grey.histogram()[:200])  # pixels clearly darker than the paper
            assert dark > 0.01 * width * height, page.name


def test_chart_pages_carry_a_picture(pages, story):
    """A page with a chart has a large non-white area below its title (the drawn image)."""
    keys = [s.key for s in story.sections]
    for key in ("trend", "funnel", "segments", "value", "roi", "data_quality"):
        with Image.open(pages[keys.index(key)]) as image:
            grey = image.convert("L")
            w, h = grey.size
            band = grey.crop((0, int(h * 0.25), w, int(h * 0.7)))
            dark = sum(band.histogram()[:230])
            assert dark > 0.05 * band.size[0] * band.size[1], key


def test_text_holds_the_titles_and_numbers(pdf_path, story, sample_db, report_filter):
    text = pdf_text(pdf_path)
    for title in story.slide_titles:
        assert " ".join(title.split()) in text
    cmp = periods.quarter_to_date(report_filter)
    churn = metrics.churn_summary(sample_db, cmp.current)["churn_rate"].iloc[0]
    assert fmt.percent(churn, 2) in text
    assert fmt.count(metrics.active_customers(sample_db, report_filter)) in text
    summary = metrics.retention_funnel_summary(sample_db, report_filter).iloc[0]
    assert f"Reach rate {fmt.percent(summary.reach_rate, 0)}" in text
    assert "churn rate = churned from start ÷ active start" in text  # definitions are printed
    assert "₪" in text  # the currency sign survives (embedded TrueType font)


def test_no_personal_data_in_the_text(pdf_path, personal_data):
    assert leaks(pdf_text(pdf_path), personal_data) == []
