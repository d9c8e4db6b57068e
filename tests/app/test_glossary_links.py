"""Every definition link on screen lands on a heading of docs/metrics.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import glossary

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.mark.parametrize("heading, anchor", [
    ("Logo churn rate", "logo-churn-rate"),
    ("Net revenue retention (NRR)", "net-revenue-retention-nrr"),
    ("CLV : CAC", "clv-cac"),
    ("The 1-10-100 rule", "the-1-10-100-rule"),
    ("ChartMogul's MRR", "chart-moguls-mrr"),
])
def test_slugify_matches_streamlit(heading, anchor):
    assert glossary.slugify(heading) == anchor


def test_pages_link_only_to_named_anchors():
    """Pages pass `glossary` constants, never a hand-typed anchor string."""
    for path in PAGES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"help_link\(\s*[\"']", text), path.name
        assert not re.search(r"\banchor\s*=\s*[\"']", text), path.name  # not xanchor=


@pytest.mark.skipif(not glossary.METRICS_DOC.is_file(), reason="docs/metrics.md is not written yet")
def test_every_anchor_exists_in_the_glossary():
    missing = sorted(set(glossary.ANCHORS) - glossary.document_anchors())
    assert not missing, f"headings missing from docs/metrics.md for anchors: {missing}"
