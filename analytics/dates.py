"""Calendar arithmetic shared by the metrics, the pages and the reports: month and quarter
boundaries, whole-month steps with DuckDB's day clamping, quarter labels ("2026Q3").
Public so the dashboard and the reports need not reach into analytics.metrics._common."""

from __future__ import annotations

import calendar
from datetime import date


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def add_months(d: date, months: int) -> date:
    """`d` moved by whole calendar months, the day clamped to the target month's length
    (Jan 31 + 1 month = Feb 28/29), the same rule DuckDB applies to `date + interval`."""
    index = d.year * 12 + d.month - 1 + months
    year, month0 = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_label(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def parse_quarter(label: str) -> tuple[date, date]:
    """'2025Q1' -> (2025-01-01, 2025-03-31). Raises ValueError on anything else."""
    text = label.strip().upper()
    try:
        year_text, q_text = text.split("Q")
        year, q = int(year_text), int(q_text)
    except ValueError as err:
        raise ValueError(f"quarter must look like '2025Q1', got {label!r}") from err
    if not 1 <= q <= 4:
        raise ValueError(f"quarter number must be 1-4, got {label!r}")
    start = date(year, 3 * (q - 1) + 1, 1)
    return start, month_end(add_months(start, 2))
