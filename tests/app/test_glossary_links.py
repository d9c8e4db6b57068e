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


# --- the glossary page: a link with a term opens that definition; search narrows ---------------

def test_help_link_carries_the_term_not_a_fragment():
    # a `#anchor` is dropped when the app rewrites the URL with the filter (issue 17)
    assert glossary.help_link(glossary.NRR) == "[Definition](glossary?term=nrr)"


def test_entries_split_the_document():
    doc = ("# Title\n\nIntro.\n\n## Logo churn rate\n\n> **In short:** Who left.\n\n"
           "**churn = churned ÷ active**\n\n```toml\n## not a heading\n```\n\n### MRR movements\n\n"
           "> **In short:** Why MRR changed.\n\nSee [churn](#logo-churn-rate).\n\n## NRR\n\nNo plain line.\n")
    found = glossary.entries(doc)
    assert [(e.slug, e.level, e.parent) for e in found] == [
        ("logo-churn-rate", 2, None), ("mrr-movements", 3, "logo-churn-rate"), ("nrr", 2, None)]
    churn, movements, nrr = found
    assert churn.plain == "Who left." and churn.body.startswith("**churn = churned ÷ active**")
    assert "## not a heading" in churn.body and ">" not in churn.body.splitlines()[0]
    assert nrr.plain == "" and nrr.body == "No plain line."
    assert glossary.linked_body(movements.body) == "See [churn](glossary?term=logo-churn-rate)."
    assert movements.matches("WHY mrr") and not movements.matches("why nrr")


def test_every_entry_has_a_plain_definition_first():
    missing = [e.title for e in glossary.entries() if not e.plain]
    assert not missing, f"entries without a '> **In short:**' line: {missing}"


def _glossary(monkeypatch, sample_db_path, term: str | None = None):
    from tests.app.apptest import no_exception, run_page

    at = run_page(monkeypatch, sample_db_path, "glossary.py", query={"term": term} if term else None)
    no_exception(at)
    return at


def test_a_link_with_a_term_opens_that_definition(monkeypatch, sample_db_path):
    at = _glossary(monkeypatch, sample_db_path, glossary.NRR)
    # the chosen entry is the first section, before the search results and contents
    assert at.main.subheader[0].value == "NRR"
    texts = [m.value for m in at.markdown]
    plain = next(i for i, t in enumerate(texts) if t.startswith("**Net revenue retention: what the customers"))
    formula = next(i for i, t in enumerate(texts) if "Σ end_i ÷ Σ start_i" in t)
    assert plain < formula  # plain words first, formula after
    assert at.expander[0].label == "Contents" and not at.expander[0].proto.expanded
    assert "NRR" not in [e.label for e in at.expander]  # not repeated below


def test_without_a_term_the_contents_are_open(monkeypatch, sample_db_path):
    at = _glossary(monkeypatch, sample_db_path)
    assert not at.main.subheader
    assert at.expander[0].label == "Contents" and at.expander[0].proto.expanded
    labels = [e.label for e in at.expander[1:]]
    assert len(labels) == len(glossary.entries()) and "MRR › MRR movements" in labels


def test_an_unknown_term_says_so(monkeypatch, sample_db_path):
    at = _glossary(monkeypatch, sample_db_path, "no-such-metric")
    assert any("no entry “no\\-such\\-metric”" in c.value or "no entry “no-such-metric”" in c.value
               for c in at.caption)
    assert not at.main.subheader


def test_search_narrows_the_entries(monkeypatch, sample_db_path):
    at = _glossary(monkeypatch, sample_db_path)
    at.text_input(key="glossary_search").input("Kaplan").run()
    assert [e.label for e in at.expander] == ["Survival curve"]  # "Contents" folds away while searching
    assert at.expander[0].proto.expanded  # few matches: open
    assert any(c.value == f"1 of {len(glossary.entries())} entries match." for c in at.caption)
    # a heading match comes first, then a plain definition that names it, then the rest
    at.text_input(key="glossary_search").input("nrr").run()
    assert [e.label for e in at.expander] == [
        "NRR", "GRR", "Conventions", "Headline KPIs and takeaways", "Purchase-log value", "Targets"]
    assert not any(e.proto.expanded for e in at.expander)
    at.text_input(key="glossary_search").input("zzz nothing").run()
    assert not at.expander and at.info[0].value.startswith("No entry holds")
