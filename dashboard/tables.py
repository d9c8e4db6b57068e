"""Metric frames shaped for display: readable column names and labelled values, plus
`st.column_config` formats. Pages show these; the numbers are the metric layer's.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import formatting as fmt


# --- fitting a table to the screen (issue 17: 1440 px, no horizontal scroll, 20+ rows) -------

ROW_PX = 35      # Streamlit's default row (and header) height in st.dataframe
LIST_ROWS = 20   # a list shows this many rows before it scrolls inside itself


def list_height(rows: int, visible: int = LIST_ROWS) -> int:
    """The pixel height of a table showing its header and min(`rows`, `visible`) rows
    (at least one): a short list takes only the room it needs, a long one shows `visible`
    rows and scrolls inside the frame."""
    return ROW_PX * (min(max(rows, 1), visible) + 1) + 3


def labelled(df: pd.DataFrame, columns: dict[str, str], value_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """`df` restricted to and renamed by `columns` (raw -> display), the raw values in
    `value_columns` passed through `formatting.label`."""
    out = df.loc[:, list(columns)].copy()
    for c in value_columns:
        out[c] = out[c].map(fmt.label)
    return out.rename(columns=columns)


def finite(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Infinite values (a median lifetime beyond the data) shown as empty cells."""
    out = df.copy()
    for c in columns:
        out[c] = out[c].where(out[c].abs() != float("inf"))
    return out


def percent_column(title: str, digits: int = 1, help_text: str | None = None, width: int | str | None = None):
    return st.column_config.NumberColumn(title, format=f"%.{digits}f%%", help=help_text, width=width)


def percent_values(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rates in [0, 1] as percentages (0.243 -> 24.3) for a `percent_column`."""
    out = df.copy()
    for c in columns:
        out[c] = out[c] * 100.0
    return out


def money_column(title: str, help_text: str | None = None, width: int | str | None = None):
    return st.column_config.NumberColumn(title, format=f"{fmt.currency_symbol()}%,.0f", help=help_text, width=width)


def count_column(title: str, help_text: str | None = None, width: int | str | None = None):
    return st.column_config.NumberColumn(title, format="%,d", help=help_text, width=width)


def quantiles_by_group(frames: dict[str, pd.DataFrame], dimension: str) -> pd.DataFrame:
    """`clv_quantiles` results per group as one long frame (``dimension``, ``quantile``,
    ``clv``) for a CSV download."""
    parts = [f.assign(**{dimension: group}) for group, f in frames.items() if not f.empty]
    if not parts:
        return pd.DataFrame(columns=[dimension, "quantile", "clv"])
    return pd.concat(parts, ignore_index=True)[[dimension, "quantile", "clv"]]


def overall_rate(df: pd.DataFrame, numerator: str, denominator: str) -> float:
    """Σ numerator ÷ Σ denominator over a metric frame's rows (e.g. SLA attainment over
    every channel of `service_levels`): the same ratio the rows hold, for all of them."""
    total = df[denominator].sum() if not df.empty else 0
    return float(df[numerator].sum() / total) if total else float("nan")


def stacked(*frames: pd.DataFrame) -> pd.DataFrame:
    """Frames with the same columns one under the other (a chart's data for download)."""
    parts = [f for f in frames if not f.empty]
    return pd.concat(parts, ignore_index=True) if parts else frames[0]


def record(result) -> pd.DataFrame:
    """A result dataclass as a one-row frame (for a CSV download)."""
    from dataclasses import asdict

    return pd.DataFrame([asdict(result)])


def records(results) -> pd.DataFrame:
    """Result dataclasses as rows."""
    from dataclasses import asdict

    return pd.DataFrame([asdict(r) for r in results])


# --- the model card (Model page) ------------------------------------------------------------

SCORER_NAMES = {"model": "Model", "logistic": "Logistic regression", "rule": "Rule", "base_rate": "Base rate"}
CARD_METRICS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "top_decile_lift": "Top-decile lift",
                "top_decile_capture": "Top-decile capture", "brier": "Brier score"}


def backtest_table(metrics: dict[str, dict[str, float]], improvement: dict[str, dict[str, float]],
                   chosen: str | None = None) -> pd.DataFrame:
    """The card's backtest metrics, one row per scorer (model, logistic, rule, base rate),
    and the model's improvement over each baseline as signed text (model − baseline; Brier:
    baseline − model, so positive = model better; "—" on the model's own row). Capture as a
    percentage. With `chosen` (a card that compared the two candidates), "model" is named
    "Gradient-boosted trees" and the scorer in use is marked "(in use)"."""
    rows = []
    for key, name in SCORER_NAMES.items():
        if key not in metrics:
            continue
        m = metrics[key]
        if chosen is not None:
            name = ("Gradient-boosted trees" if key == "model" else name) + (" (in use)" if key == chosen else "")
        row = {"Scorer": name, **{label: m.get(metric) for metric, label in CARD_METRICS.items()}}
        row["Top-decile capture"] = row["Top-decile capture"] * 100.0 if row["Top-decile capture"] is not None else None
        gain = improvement.get(key, {})
        row["Model's AUC gain"] = f"{gain['roc_auc']:+.4f}" if "roc_auc" in gain else "—"
        row["Model's Brier gain"] = f"{gain['brier']:+.5f}" if "brier" in gain else "—"
        rows.append(row)
    return pd.DataFrame(rows)


LEXICON_SOURCES = {"template": "Template", "handwritten_holdout": "Hand-written holdout"}


def lexicon_quality_table(text_signals: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """Note-lexicon precision and recall per signal (rows) for the template notes and the
    hand-written holdout (columns), precision and recall as percentages, with the number
    of holdout notes labelled with the signal."""
    from analytics.risk.note_signals import NOTE_SIGNALS

    found = list(next(iter(text_signals.values()), {}))
    signals = [s for s in NOTE_SIGNALS if s in found] + [s for s in found if s not in NOTE_SIGNALS]
    rows = []
    for s in signals:
        row = {"Signal": fmt.label(s)}
        for source, name in LEXICON_SOURCES.items():
            scores = text_signals.get(source, {}).get(s, {})
            row[f"{name} precision"] = _pct(scores.get("precision"))
            row[f"{name} recall"] = _pct(scores.get("recall"))
        row["Holdout notes"] = text_signals.get("handwritten_holdout", {}).get(s, {}).get("support")
        rows.append(row)
    return pd.DataFrame(rows)


def _pct(value):
    return None if value is None or pd.isna(value) else value * 100.0


def quantiles_by_group_wide(frames: dict[str, pd.DataFrame], dimension: str) -> pd.DataFrame:
    """`predicted_clv_quantiles` results per group as one long frame (``dimension``,
    ``quantile``, ``clv_historical``, ``clv_predicted``, ``customers``, ``scored_as_of``)
    for a CSV download."""
    columns = [dimension, "quantile", "clv_historical", "clv_predicted", "customers", "scored_as_of"]
    parts = [f.assign(**{dimension: group}) for group, f in frames.items() if not f.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]
