"""Links from any number on screen to its definition in docs/metrics.md.

A link is `glossary?term=<anchor>` (`help_link`): the glossary page reads the `term` query
parameter and shows that entry first, open. A `#anchor` link does not survive: the app
rewrites the URL with the sidebar's filter parameters on load and drops the fragment, so
the reader landed at the top of an 11,000 px page (issue 17). Anchors are still the ones
Streamlit would give the markdown headings, by `@sindresorhus/slugify` (lower-case,
camelCase split, runs of anything but letters and digits to one hyphen): `## Logo churn
rate` is `logo-churn-rate`, `## Net revenue retention (NRR)` `net-revenue-retention-nrr`.
`slugify` mirrors that rule so a test can check that every anchor the pages link to exists,
and docs/metrics.md's own `](#anchor)` links keep working on GitHub.

`entries` splits the document into its `##` / `###` sections; a section's
`> **In short:** …` line is its plain-language definition, shown before the formula.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analytics.config import PROJECT_ROOT

METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
GLOSSARY_URL = "glossary"
TERM_PARAM = "term"  # glossary?term=nrr opens the NRR entry
PLAIN_MARK = "> **In short:**"

# Every anchor the pages link to, named once. The metric modules' docstrings cite the
# same anchors (docs/metrics.md#logo-churn-rate, ...).
ACTIVE_CUSTOMERS = "active-customers"
LOGO_CHURN = "logo-churn-rate"
CUSTOMER_BASE = "customer-base"
MRR = "mrr"
MRR_WATERFALL = "mrr-waterfall"
ARR = "arr"
ARPU = "arpu"
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
TEAM_OUTCOMES = "retention-team-outcomes"

ANCHORS: tuple[str, ...] = (
    ACTIVE_CUSTOMERS, LOGO_CHURN, CUSTOMER_BASE, MRR, GROSS_REVENUE_CHURN, NRR, GRR,
    COHORT_RETENTION, SURVIVAL, MEDIAN_LIFETIME, CHURN_PROFILE, RETENTION_FUNNEL,
    PROACTIVE_FUNNEL, SAVED_CUSTOMERS, HISTORICAL_CLV, PREDICTIVE_CLV, VALUE_TIERS, CLV_CAC,
    EXPECTED_LOSS, MARGIN_AT_RISK, AT_RISK_LIST, SERVICE, EARLY_WARNING, DATA_QUALITY, TARGETS, RETENTION_ROI,
    NOTE_SIGNALS, RISK_MODEL, MODEL_BACKTEST, MODEL_CALIBRATION, MODEL_IMPORTANCE, NOTE_LEXICON,
    PURCHASE_LOG_VALUE, MRR_WATERFALL, ARR, ARPU, TEAM_OUTCOMES, MEASURED_PROGRAMME,
)


def help_link(anchor: str) -> str:
    """Markdown link to a definition, for a widget's or metric's `help=` text."""
    return f"[Definition]({term_url(anchor)})"


def term_url(anchor: str) -> str:
    """The glossary page opened on the entry `anchor` (relative: works under any base URL)."""
    return f"{GLOSSARY_URL}?{TERM_PARAM}={anchor}"


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


@dataclass(frozen=True)
class Entry:
    """One `##` or `###` section of docs/metrics.md: its anchor (`slug`), heading, level
    (2 or 3), the `##` section it sits in (`parent`, None for a `##`), the plain-language
    definition (the `> **In short:**` line, without the mark; "" when the section has
    none) and the rest of its markdown (`body`, up to the next `##`/`###` heading)."""

    slug: str
    title: str
    level: int
    parent: str | None
    plain: str
    body: str

    def matches(self, text: str) -> bool:
        """Every word of `text` (case-insensitive) in the heading, the plain definition or
        the body; blank text matches every entry."""
        haystack = f"{self.title}\n{self.plain}\n{self.body}".lower()
        return all(word in haystack for word in text.lower().split())


def entries(document: str | None = None) -> list[Entry]:
    """The glossary's entries in document order (`document`: markdown text, default
    docs/metrics.md; empty when the file is missing). Headings inside code fences are
    code, not sections; the text before the first `##` (the document's title and intro)
    is not an entry."""
    if document is None:
        if not METRICS_DOC.is_file():
            return []
        document = METRICS_DOC.read_text(encoding="utf-8")
    found: list[Entry] = []
    heading: tuple[int, str] | None = None
    parent: str | None = None
    lines: list[str] = []
    in_code = False

    def close() -> None:
        if heading is None:
            return
        level, title = heading
        plain = [ln[len(PLAIN_MARK):].strip() for ln in lines if ln.startswith(PLAIN_MARK)]
        body = "\n".join(ln for ln in lines if not ln.startswith(PLAIN_MARK)).strip()
        found.append(Entry(slugify(title.replace("`", "")), title, level,
                           parent if level == 3 else None, " ".join(plain), body))

    for line in document.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        match = None if in_code else re.match(r"^(#{2,3}) (.*\S)\s*$", line)
        if match:
            close()
            heading, lines = (len(match.group(1)), match.group(2)), []
            if heading[0] == 2:
                parent = slugify(heading[1].replace("`", ""))
        elif heading is not None:
            lines.append(line)
    close()
    return found


def linked_body(body: str) -> str:
    """`body` with the document's in-page links (`](#logo-churn-rate)`) pointing at the
    glossary page's `?term=` (a fragment does not reach a folded entry)."""
    return re.sub(r"\]\(#([a-z0-9-]+)\)", lambda m: f"]({term_url(m.group(1))})", body)


def search(found: list[Entry], text: str) -> list[Entry]:
    """The entries of `found` that hold every word of `text` (`Entry.matches`): those whose
    heading holds them all first, then those whose plain definition does, then the rest,
    each group in document order. Blank text returns `found` unchanged."""
    words = text.lower().split()
    if not words:
        return list(found)

    def rank(entry: Entry) -> int:
        if all(w in entry.title.lower() for w in words):
            return 0
        return 1 if all(w in entry.plain.lower() for w in words) else 2

    return sorted((e for e in found if e.matches(text)), key=rank)
