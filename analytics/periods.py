"""Which dates a page compares: the current window of a KPI and the one before it.

Pure date arithmetic for the screen (no Streamlit, no metric definitions): the metric
functions take any ``[start, end]``; these helpers only decide *which* windows the
Overview puts side by side, so the choice is made once and tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from analytics.filters import RetentionFilter
from analytics.dates import add_months, month_end, quarter_label, quarter_start

QUARTER_TO_DATE = "Quarter to date"
FILTER_PERIOD = "Filter period"
WINDOW_MODES = (QUARTER_TO_DATE, FILTER_PERIOD)


@dataclass(frozen=True)
class Comparison:
    """A KPI window and the window it is compared with, both days inclusive."""

    current: RetentionFilter
    previous: RetentionFilter
    name: str  # e.g. "Q3 2026", "Q3 2026 to 4 Aug" or "01 Oct 2025 – 30 Sep 2026"
    previous_name: str

    @property
    def days(self) -> int:
        return (self.current.end - self.current.start).days + 1


def span_name(start: date, end: date) -> str:
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


def quarter_name(d: date) -> str:
    """'Q3 2026' for the quarter holding `d` (what a reader sees; the targets file keys
    quarters as '2026Q3', `current_quarter`)."""
    return f"Q{(d.month - 1) // 3 + 1} {d.year}"


def quarter_to_date(flt: RetentionFilter) -> Comparison:
    """The quarter holding the as-of date, from its first day to the as-of date, against
    the same number of days from the start of the previous quarter (clipped to that
    quarter), so a half-finished quarter is compared with the first half of the last.
    Named "Q3 2026" against "Q2 2026" when the quarter is over, else "Q3 2026 to 4 Aug"
    against "Q2 2026 to 4 May": each name says the days it covers."""
    q_start = quarter_start(flt.as_of)
    prev_start = add_months(q_start, -3)
    prev_end = min(prev_start + (flt.as_of - q_start), q_start - timedelta(days=1))
    full = flt.as_of == month_end(add_months(q_start, 2))
    name = quarter_name(q_start) + ("" if full else f" to {flt.as_of.day} {flt.as_of:%b}")
    prev_name = quarter_name(prev_start) + ("" if full else f" to {prev_end.day} {prev_end:%b}")
    return Comparison(
        flt.with_period(q_start, flt.as_of), flt.with_period(prev_start, prev_end), name, prev_name
    )


def filter_period(flt: RetentionFilter) -> Comparison:
    """The sidebar's period against the equally long period just before it."""
    length = flt.end - flt.start
    prev_end = flt.start - timedelta(days=1)
    prev_start = prev_end - length
    return Comparison(
        flt, flt.with_period(prev_start, prev_end),
        span_name(flt.start, flt.end), span_name(prev_start, prev_end),
    )


def comparison(flt: RetentionFilter, mode: str) -> Comparison:
    if mode == QUARTER_TO_DATE:
        return quarter_to_date(flt)
    if mode == FILTER_PERIOD:
        return filter_period(flt)
    raise ValueError(f"mode must be one of {WINDOW_MODES}, got {mode!r}")


def current_quarter(flt: RetentionFilter) -> str:
    """'2026Q3' for the quarter holding the as-of date (the targets' key)."""
    return quarter_label(flt.as_of)


def quarter_ends(flt: RetentionFilter, count: int) -> list[date]:
    """The as-of date and the ends of the `count` - 1 quarters before it, oldest first
    (points of a quarterly sparkline)."""
    return [w.end for w in quarter_windows(flt, count)]


def quarter_windows(flt: RetentionFilter, count: int) -> list[RetentionFilter]:
    """The current quarter to date and the `count` - 1 full quarters before it, oldest
    first, each as a copy of `flt` with that period."""
    q_start = quarter_start(flt.as_of)
    out = [flt.with_period(q_start, flt.as_of)]
    for _ in range(count - 1):
        start = add_months(quarter_start(out[-1].start), -3)
        out.append(flt.with_period(start, month_end(add_months(start, 2))))
    return list(reversed(out))


def length_days(flt: RetentionFilter) -> int:
    """Days in the filter's period, both ends included."""
    return (flt.end - flt.start).days + 1
