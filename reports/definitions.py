"""Metric definitions for speaker notes and PDF footnotes, read from docs/metrics.md.

The glossary is the single source of every definition (the metric docstrings carry the
same text), so the deck quotes it instead of restating it. A definition here is the
first paragraph of a `##`/`###` section — or the first paragraph mentioning a given
phrase — with a paragraph ending in ":" (or continued in lower case) joined to the one
that follows, markdown emphasis removed, and implementation references (`module.function` code spans)
dropped: the notes are read aloud to leadership, not to developers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analytics.config import PROJECT_ROOT

METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
MAX_CHARS = 700


@dataclass(frozen=True)
class Definition:
    """One metric's name and its definition text (plain text, one paragraph)."""

    name: str
    text: str


@lru_cache(maxsize=4)
def _sections(path: str, mtime: float) -> dict[str, list[str]]:  # mtime only keys the cache
    """Heading (lower case) -> the section's paragraphs (list items kept as '- ...' lines)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    block: list[str] = []

    def flush() -> None:
        if current is not None and block:
            current.append("\n".join(block))
        block.clear()

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^#{2,3}\s+(.*\S)\s*$", line)
        if heading:
            flush()
            current = sections.setdefault(heading.group(1).strip().lower(), [])
            continue
        if not line.strip():
            flush()
        # tables, code and the glossary page's "> **In short:**" lines stay in the doc
        elif not line.lstrip().startswith(("|", "```", ">")):
            block.append(line.strip())
    flush()
    return sections


def _code_span(match: re.Match) -> str:
    return match.group(1).replace("_", " ")


def _plain(paragraph: str) -> str:
    """Markdown paragraph -> one line of plain text without implementation references."""
    text = " ".join(line[2:] if line.startswith("- ") else line for line in paragraph.splitlines())
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
    # `customer_base.churn_by_period` names code, not the metric; so does (`churn_summary`)
    text = re.sub(r"`[A-Za-z_]+\.[A-Za-z_.]+`(?:\s*\(\))?\s*[;,:—–]?\s*", "", text)
    text = re.sub(r"\s*\(`[A-Za-z_]+`\)", "", text)
    sentences = []
    for sentence in re.split(r"(?<=\.)\s+", text):
        residue = re.sub(r"`[^`]*`|[\s.,;:—–]", "", sentence)
        if not residue or sentence.startswith(("Implemented in", "See that module")):
            continue
        sentences.append(sentence[:1].upper() + sentence[1:])
    text = " ".join(sentences)
    text = re.sub(r"`([^`]*)`", _code_span, text)
    text = text.replace("**", "").replace("*", "")
    return re.sub(r"\s+", " ", text).strip()


def _shorten(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("; "))
    return (cut[: end + 1] if end > limit // 3 else cut.rsplit(" ", 1)[0] + " …").strip()


def definition(heading: str, name: str | None = None, mentioning: str | None = None,
               sentences: int | None = None, path: Path = METRICS_DOC) -> Definition:
    """The definition of the metric under `heading` in docs/metrics.md.

    The first paragraph of the section, or the first one mentioning `mentioning` (case
    insensitive); a paragraph ending in ':' takes the next one with it. `name` is the
    label shown in the notes (default: the heading). A heading missing from the file
    gives a pointer to the glossary instead of an error: notes must never stop a deck.
    `sentences` keeps only that many sentences of the result."""
    label = name or heading
    try:
        sections = _sections(str(path), path.stat().st_mtime)
    except OSError:
        return Definition(label, f"See the metrics glossary (docs/metrics.md), '{heading}'.")
    paragraphs = sections.get(heading.lower(), [])
    index = 0
    if mentioning:
        hits = [i for i, p in enumerate(paragraphs) if mentioning.lower() in p.lower()]
        index = hits[0] if hits else 0
    if not paragraphs:
        return Definition(label, f"See the metrics glossary (docs/metrics.md), '{heading}'.")
    chosen = [paragraphs[index]]
    # a paragraph ending in ':' or continued in lower case after a formula goes on
    while index + 1 < len(paragraphs) and (
        chosen[-1].rstrip().endswith(":") or paragraphs[index + 1][:1].islower()
    ):
        index += 1
        chosen.append(paragraphs[index])
    text = _plain("\n".join(chosen))
    if sentences:
        text = " ".join(re.split(r"(?<=[a-z0-9)%]\.)\s+", text)[:sentences])
    return Definition(label, _shorten(text))
