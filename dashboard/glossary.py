"""Links from any number on screen to its definition in docs/metrics.md.

The glossary page renders docs/metrics.md; Streamlit gives every markdown heading an
anchor made from its text by `@sindresorhus/slugify` (lower-case, camelCase split, runs of
anything but letters and digits to one hyphen), so `## Logo churn rate` is reached at
`glossary#logo-churn-rate` and `## Net revenue retention (NRR)` at
`glossary#net-revenue-retention-nrr`. `slugify` below mirrors that rule so a test can
check that every anchor the pages link to exists.
"""

from __future__ import annotations

import re

from analytics.config import PROJECT_ROOT

METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
GLOSSARY_URL = "glossary"

# Every anchor the pages link to, named once. The metric modules' docstrings cite the
# same anchors (docs/metrics.md#logo-churn-rate, ...).
ACTIVE_CUSTOMERS = "active-customers"
LOGO_CHURN = "logo-churn-rate"
CUSTOMER_BASE = "customer-base"
MRR = "mrr"
GROSS_REVENUE_CHURN = "gross-revenue-churn"
NRR = "nrr"
GRR = "grr"
COHORT_RETENTION = "cohort-retention"
SURVIVAL = "survival-curve"
MEDIAN_LIFETIME = "median-lifetime"
CHURN_PROFILE = "churn-profile"
RETENTION_FUNNEL = "retention-funnel"
PROACTIVE_FUNNEL = "proactive-funnel"
SAVED_CUSTOMERS = "saved-customers"
HISTORICAL_CLV = "historical-clv"
PREDICTIVE_CLV = "predictive-clv"
VALUE_TIERS = "value-tiers"
CLV_CAC = "clv-cac"
EXPECTED_LOSS = "expected-loss"
MARGIN_AT_RISK = "margin-at-risk"
AT_RISK_LIST = "at-risk-list"
SERVICE = "service-experience"
EARLY_WARNING = "early-warning"
DATA_QUALITY = "data-quality"
TARGETS = "targets"
RETENTION_ROI = "retention-roi"
MEASURED_PROGRAMME = "measured-programme"
NOTE_SIGNALS = "note-signals"
RISK_MODEL = "churn-risk-model"
MODEL_BACKTEST = "backtest-metrics"
MODEL_CALIBRATION = "calibration"
MODEL_IMPORTANCE = "driver-importance"
NOTE_LEXICON = "note-lexicon-quality"
PURCHASE_LOG_VALUE = "purchase-log-value"

ANCHORS: tuple[str, ...] = (
    ACTIVE_CUSTOMERS, LOGO_CHURN, CUSTOMER_BASE, MRR, GROSS_REVENUE_CHURN, NRR, GRR,
    COHORT_RETENTION, SURVIVAL, MEDIAN_LIFETIME, CHURN_PROFILE, RETENTION_FUNNEL,
    PROACTIVE_FUNNEL, SAVED_CUSTOMERS, HISTORICAL_CLV, PREDICTIVE_CLV, VALUE_TIERS, CLV_CAC,
    EXPECTED_LOSS, MARGIN_AT_RISK, AT_RISK_LIST, SERVICE, EARLY_WARNING, DATA_QUALITY, TARGETS, RETENTION_ROI,
    NOTE_SIGNALS, RISK_MODEL, MODEL_BACKTEST, MODEL_CALIBRATION, MODEL_IMPORTANCE, NOTE_LEXICON,
    PURCHASE_LOG_VALUE, MEASURED_PROGRAMME,
)


def help_link(anchor: str) -> str:
    """Markdown link to a definition, for a widget's or metric's `help=` text."""
    return f"[Definition]({GLOSSARY_URL}#{anchor})"


def slugify(heading: str) -> str:
    """The anchor Streamlit gives a markdown heading (see module docstring)."""
    text = re.sub(r"([A-Z]{2,})(\d+)", r"\1 \2", heading)  # decamelize, as slugify does
    text = re.sub(r"([a-z\d]+)([A-Z]{2,})", r"\1 \2", text)
    text = re.sub(r"([a-z\d])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z])([A-Z](?!s(?![a-z]))[a-z\d]+)", r"\1 \2", text)
    text = text.lower()
    text = re.sub(r"([a-z\d])['’]([ts])(?![a-z\d])", r"\1\2", text)
    text = re.sub(r"[^a-z\d]+", "-", text)
    return text.strip("-")


def document_anchors() -> set[str]:
    """Anchors of every heading in docs/metrics.md (empty when the file is missing)."""
    if not METRICS_DOC.is_file():
        return set()
    anchors = set()
    in_code = False
    for line in METRICS_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            anchors.add(slugify(line.lstrip("#").strip().replace("`", "")))
    return anchors


def metrics_markdown() -> str:
    if not METRICS_DOC.is_file():
        return "The metrics glossary (docs/metrics.md) is missing from this installation."
    text = METRICS_DOC.read_text(encoding="utf-8")
    # the page draws its own title; drop the document's top-level heading
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines)
