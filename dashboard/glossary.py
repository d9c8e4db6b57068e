"""Links from any number on screen to its definition in docs/metrics.md.

The glossary page renders docs/metrics.md; Streamlit gives every markdown heading an
anchor made from its text (lower-case, spaces to hyphens), so `## Logo churn rate` is
reached at `glossary#logo-churn-rate`.
"""

from __future__ import annotations

from analytics.config import PROJECT_ROOT

METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
GLOSSARY_URL = "glossary"


def help_link(anchor: str) -> str:
    """Markdown link to a definition, for a widget's or metric's `help=` text."""
    return f"[Definition]({GLOSSARY_URL}#{anchor})"


def metrics_markdown() -> str:
    if not METRICS_DOC.is_file():
        return "The metrics glossary (docs/metrics.md) is missing from this installation."
    text = METRICS_DOC.read_text(encoding="utf-8")
    # the page draws its own title; drop the document's top-level heading
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines)
