"""The PDF, through Debian's poppler-utils: one page per story section (rendered to PNG
with pdftoppm, each page actually drawn), then an appendix with the definitions (not
small print on every page); its text (pdftotext) holds every takeaway title and the KPI
numbers, and no personal data."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from analytics import metrics
from analytics import formatting as fmt
from analytics import periods
from reports.pdf import APPENDIX_TITLE
from tests.unit.reports.conftest import leaks

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils (pdftoppm, pdftotext) not installed; `make test` installs it",
)


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", *pages, str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


@pytest.fixture(scope="module")
def pages(pdf_path: Path, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("pages")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf_path), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def test_one_landscape_page_per_section(pages, story, pdf_path):
    assert len(story.sections) == 9
    assert len(pages) > 9  # the sections, then the appendix
    assert APPENDIX_TITLE not in pdf_text(pdf_path, 9, 9) and APPENDIX_TITLE in pdf_text(pdf_path, 10, 10)
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


def test_definitions_are_in_an_appendix_not_under_every_chart(pdf_path, story, pages):
    """Each definition is printed once, after the sections, with the pages that use it;
    a section page only names its terms and points to the appendix."""
    total = len(pages)
    appendix = pdf_text(pdf_path, len(story.sections) + 1, total)
    assert appendix.startswith(APPENDIX_TITLE)
    churn = "churn rate = churned from start ÷ active start"
    assert appendix.count(churn) == 1
    used = [n for n, s in enumerate(story.sections, start=1) if any(d.name == "Logo churn rate" for d in s.definitions)]
    assert used[:2] == [2, 3]  # the KPI and trend pages
    assert f"Logo churn rate (pages {', '.join(map(str, used))}):" in appendix
    for section in story.sections:
        for d in section.definitions:
            # its opening (a long one may run over a page break, where the footer interrupts it)
            assert f"{d.name} (" in appendix and " ".join(d.text.split())[:80] in appendix, d.name
    for number, section in enumerate(story.sections, start=1):
        text = pdf_text(pdf_path, number, number)
        assert churn not in text, section.key  # no small print on the section pages
        if section.definitions:
            assert "Defined in the appendix: " + ", ".join(d.name for d in section.definitions) in text
        assert text.rstrip().endswith(f"{number} / {total}")  # numbered out of the whole document
