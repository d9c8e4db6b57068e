"""Rebuild the template part of `tests/data/labelled_notes.csv`.

    .venv/bin/python -m tests.unit.risk.make_labelled_notes

The file has two parts, told apart by the `source` column:
- `template`: every note template of `sample_data/notes.py`, rendered in a few variants
  (prefixes, numbers) exactly as the generator renders them; label = the template's label.
- `handwritten_dev` and `handwritten_holdout`: notes written by hand, NOT from the
  templates (paraphrases, typos, mixed Hebrew/English, negations, neutral text that
  mentions prices). The dev notes were looked at while the lexicon was written; the
  holdout notes were written after it was frozen and must not be used to tune it
  (docs/decisions/006-churn-risk-model.md). This script keeps them as they are.

A label is one of `sample_data.notes.LABELS`, or several signals joined by `|` when a
hand-written note carries more than one intent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sample_data import notes as note_bank

CSV_PATH = Path(__file__).resolve().parents[2] / "data" / "labelled_notes.csv"
FIELDS = ("text", "language", "label", "source")


def template_rows(seed: int = 0, variants: int = 3) -> list[dict[str, str]]:
    texts, labels, langs = note_bank.build_bank(np.random.default_rng(seed), variants=variants)
    return [
        {"text": t, "language": str(lang), "label": note_bank.LABELS[int(lab)], "source": "template"}
        for t, lab, lang in zip(texts, labels, langs)
    ]


def main() -> int:
    handwritten: list[dict[str, str]] = []
    if CSV_PATH.exists():
        with CSV_PATH.open(encoding="utf-8", newline="") as fh:
            handwritten = [row for row in csv.DictReader(fh) if row["source"] != "template"]
    rows = template_rows() + handwritten
    with CSV_PATH.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {CSV_PATH}: {len(rows) - len(handwritten)} template + {len(handwritten)} handwritten notes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
