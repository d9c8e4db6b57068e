"""Import a customer's own exports (CSV, Parquet, Excel) into a new Retention Radar database.

    python -m analytics.load --mapping MAPPING.toml [--out PATH] [--max-reject-share 0.01]

One pipeline, used by this command, `make import MAPPING=...` and the Data page:

1. **Mapping** (`read_mapping`): a TOML file saying which file is which entity, which of
   their columns is which of ours, how their category values map to ours, the date
   format, currency, margin rate, as-of date and the reject threshold (format: README,
   "Your own data", and docs/example-mapping.toml).
2. **Stage** (`_stage_source`): files are read by DuckDB in a staging database next to
   the target (`.<name>.import-<pid>.stage`, deleted at the end), in file order — CSV with
   every cell as text (`all_varchar`), so nothing is coerced before it is checked; Parquet
   and Excel cells keep their native types (Excel is read by pandas: small files). The
   customers file is copied into staging (it is read several times); touchpoints, revenue
   and purchases are read through a view numbered WITH ORDINALITY, checked as they are
   read. DuckDB works out of core, so a 20M-row file never sits in Python memory.
3. **Validate** (docs/decisions/018): pandera checks each file's header (every mapped
   column present); the row checks are set queries in the staging database, values bound
   as parameters: each value of the type its column needs (whole number, number, date in
   the given format, true/false: `try_strptime` / `try_cast` give NULL where a cell does
   not parse), bounds, values in the mapped set when a value map is `closed`, keys unique;
   churn ≥ signup; a touchpoint's / revenue row's / purchase's customer kept. Every
   failing row is rejected (never repaired) and written to `<out>.rejects.csv` with its
   file, row, column, value and reason. `row` is the row number a spreadsheet shows: the
   header is row 1, the first data row is row 2 (Parquet files have no header row: their
   first record is row 1).
4. **Accept or refuse**: a file whose rejected share exceeds the threshold (default 1 %)
   refuses the whole import: nothing is written, the exit status is 1 and the reason is
   one line.
5. **Write** a new DuckDB file in the data model (`analytics.schema`) next to the target
   (`insert ... select` from the staging database), build the rollups on it, open it with
   `analytics.db.open_database` (the checks the dashboard makes), then swap it in with
   `os.replace`, keeping the previous file as `<name>.bak`. Any failure before the swap
   leaves the target exactly as it was.

Choices a user should know (also in the report):

- **Customer ids.** Whole-number ids are kept as `customer_id`. Text ids (any id that is
  not a whole number) are numbered 1, 2, … in the order of the customers file, and the
  original id is kept in the optional table `customer_source_ids(customer_id, source_id)`.
- **Extra customer columns** (not mapped to one of ours) become rows of the optional long
  table `customer_attributes(customer_id, attribute, value)`, values as text.
- **Category values** not in a value map are kept as they are (dimension values come from
  the data); a map marked `closed = true` rejects them instead.
- **Revenue** comes in one of three shapes; subscription periods and invoices are turned
  into monthly revenue rows (`analytics/revenue_shapes.py` states the rules).
- **Purchase log**: the schema has no purchase-log table (touchpoints of kind `purchase`
  are add-ons of subscribers), so it goes to the optional table
  `purchases(customer_id, purchase_date, amount)`.
- **Constants**: `[<entity>.constants]` gives a column the export lacks one value for
  every row (e.g. `kind = "service_request"` for a ticket log); listed in the notes.
- **Single snapshots**: a `churned` flag without dates gives churned customers the as-of
  date as churn date; `tenure_months` without signup dates gives signup = as-of − tenure.
- **Guesses** are listed as guesses: a margin rate not given (default `DEFAULT_MARGIN_RATE`,
  recorded as `schema_info.margin_rate_guessed = true`), an as-of date or history start
  taken from the data, churn dates of customers flagged churned without one.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import time
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from analytics import revenue_shapes
from analytics.db import close_at_exit
from analytics.export import formula_guard_sql
from analytics.schema import OPTIONAL_TABLES, REQUIRED_TABLES, SCHEMA_VERSION, TABLES, create_table_sql

DEFAULT_MARGIN_RATE = 0.5
DEFAULT_MAX_REJECT_SHARE = 0.01
# DuckDB's memory cap while staging an import (issue 13's target: peak at most 6 GiB in all)
log = logging.getLogger(__name__)  # --verbose: each staging statement with its seconds

STAGING_MEMORY_LIMIT = "3GB"
TRUE_VALUES = ("true", "t", "yes", "y", "1")
FALSE_VALUES = ("false", "f", "no", "n", "0")
REJECT_COLUMNS = ("file", "row", "column", "value", "reason")

ENTITIES = ("customers", "revenue", "touchpoints", "purchases")
REVENUE_SHAPES = ("monthly", "subscriptions", "invoices")


class ImportFailed(Exception):
    """The import cannot go on; `str(err)` is a one-line message for the user. Nothing was
    written to the target database."""


# --------------------------------------------------------------------------- mapping
@dataclass(frozen=True)
class ValueMap:
    """Their category values -> ours for one column; `closed` rejects values not mapped."""

    values: dict[str, str]
    closed: bool = False


@dataclass(frozen=True)
class EntityMapping:
    entity: str
    file: Path
    columns: dict[str, str]  # ours -> theirs
    values: dict[str, ValueMap] = field(default_factory=dict)  # ours -> map
    date_format: str | None = None
    timestamp_format: str | None = None
    sheet: str | int | None = None
    shape: str | None = None  # revenue only
    constants: dict[str, object] = field(default_factory=dict)  # ours -> one value for every row
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    entities: dict[str, EntityMapping]
    as_of_date: date | None = None
    history_start: date | None = None
    currency: str | None = None
    margin_rate: float | None = None
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE
    true_values: tuple[str, ...] = TRUE_VALUES
    false_values: tuple[str, ...] = FALSE_VALUES
    source: Path | None = None


def _date_setting(raw: dict, key: str, where: str) -> date | None:
    value = raw.get(key)
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ImportFailed(f"{where}: {key} = {value!r} is not a date in YYYY-MM-DD form.") from None


def mapping_from_dict(raw: dict, base: Path, where: str = "mapping") -> Mapping:
    """Build a `Mapping` from parsed TOML (`base`: the folder file paths are relative to).
    Raises `ImportFailed` naming the first thing wrong."""
    general = raw.get("import", {})
    unknown = set(raw) - {"import", *ENTITIES}
    if unknown:
        raise ImportFailed(f"{where}: unknown section(s) {', '.join(sorted(unknown))}; "
                           f"expected [import] and any of {', '.join(f'[{e}]' for e in ENTITIES)}.")
    if "customers" not in raw:
        raise ImportFailed(f"{where}: a [customers] section is required (the customers file).")
    default_date = general.get("date_format")
    default_ts = general.get("timestamp_format")
    entities: dict[str, EntityMapping] = {}
    for entity in ENTITIES:
        section = raw.get(entity)
        if section is None:
            continue
        if "file" not in section:
            raise ImportFailed(f"{where}: [{entity}] needs file = \"...\" (the {entity} file).")
        columns = section.get("columns", {})
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise ImportFailed(f"{where}: [{entity}.columns] must map our column names to theirs, "
                               "e.g. customer_id = \"CustomerID\".")
        values: dict[str, ValueMap] = {}
        for ours, spec in section.get("values", {}).items():
            if not isinstance(spec, dict) or not isinstance(spec.get("map", {}), dict):
                raise ImportFailed(f"{where}: [{entity}.values.{ours}] needs a map table "
                                   "(their value = our value) and optionally closed = true.")
            values[ours] = ValueMap({str(k): str(v) for k, v in spec.get("map", {}).items()},
                                    bool(spec.get("closed", False)))
        shape = section.get("shape")
        if entity == "revenue":
            shape = shape or "monthly"
            if shape not in REVENUE_SHAPES:
                raise ImportFailed(f"{where}: [revenue] shape = {shape!r}; it must be one of "
                                   f"{', '.join(REVENUE_SHAPES)}.")
        file = Path(section["file"]).expanduser()
        entities[entity] = EntityMapping(
            entity=entity, file=file if file.is_absolute() else base / file, columns=dict(columns),
            values=values, date_format=section.get("date_format", default_date),
            timestamp_format=section.get("timestamp_format", default_ts),
            sheet=section.get("sheet"), shape=shape, constants=dict(section.get("constants", {})),
            options={k: v for k, v in section.items()
                     if k not in ("file", "columns", "values", "date_format", "timestamp_format",
                                  "sheet", "shape", "constants")})
    margin = general.get("margin_rate")
    if margin is not None and not (isinstance(margin, (int, float)) and 0 <= margin <= 1):
        raise ImportFailed(f"{where}: margin_rate = {margin!r}; it must be a share between 0 and 1.")
    share = general.get("max_reject_share", DEFAULT_MAX_REJECT_SHARE)
    if not (isinstance(share, (int, float)) and 0 <= share <= 1):
        raise ImportFailed(f"{where}: max_reject_share = {share!r}; it must be between 0 and 1.")
    return Mapping(
        entities=entities,
        as_of_date=_date_setting(general, "as_of_date", where),
        history_start=_date_setting(general, "history_start", where),
        currency=general.get("currency"),
        margin_rate=None if margin is None else float(margin),
        max_reject_share=float(share),
        true_values=tuple(str(v).lower() for v in general.get("true_values", TRUE_VALUES)),
        false_values=tuple(str(v).lower() for v in general.get("false_values", FALSE_VALUES)),
    )


def read_mapping(path: str | Path) -> Mapping:
    """Read a mapping file (TOML); file paths in it are relative to its folder."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"No mapping file at {path}.")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ImportFailed(f"{path} is not a readable TOML mapping file ({err}).") from None
    mapping = mapping_from_dict(raw, path.parent, where=str(path))
    return Mapping(**{**mapping.__dict__, "source": path})


# --------------------------------------------------------------------------- reading
def _check_text_file(path: Path) -> None:
    """`ImportFailed` unless the file named .csv/.txt/.tsv looks like text (an Excel
    workbook, a Parquet file or an image renamed .csv gets a message, not a parse error)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"PAR1", b"SQLite format", b"\x89PNG")):
        raise ImportFailed(f"{path} is not a CSV file (it holds binary data). "
                           "Export it as CSV, or give the Excel/Parquet file its own suffix.")


@dataclass
class SourcePreview:
    """What the Data page shows of an uploaded file before it is mapped: its columns, first
    rows and row count, and each column's most frequent values — read by DuckDB without
    loading the file into memory (a touchpoints export can be millions of rows)."""

    columns: list[str]
    head: pd.DataFrame
    rows: int
    _relation: duckdb.DuckDBPyRelation = field(repr=False)

    def distinct_values(self, column: str, limit: int = 50) -> list[str]:
        """The most frequent non-blank values of `column` as text (at most `limit`), most
        frequent first (ties by value)."""
        values = self._relation.select(duckdb.ColumnExpression(column).cast(duckdb.sqltype("VARCHAR")).alias("v"))
        counted = (values.filter("v is not null and trim(v) <> ''").aggregate("v, count(*) as n", "v")
                   .order("n desc, v").limit(limit))
        return [str(row[0]) for row in counted.fetchall()]


def preview_source(path: Path, rows: int = 10, sheet: str | int | None = None,
                   delimiter: str | None = None) -> SourcePreview:
    """A `SourcePreview` of one export file; `ImportFailed` with a one-line reason for a file
    that cannot be read."""
    con = close_at_exit(duckdb.connect())  # kept open by the preview's relation while it is shown
    relation, _ = _source_relation(con, path, sheet, delimiter)
    try:
        head = relation.limit(rows).df()
        count = relation.aggregate("count(*)").fetchall()[0][0]
    except duckdb.Error as err:
        raise _source_error(path, err) from None
    return SourcePreview([str(c) for c in relation.columns], head, int(count), relation)


# --------------------------------------------------------------------------- parsing
# A column's kind: what a value must parse as. Parsing returns the values and a mask of the
# cells that were given but did not parse (a missing cell is not a parse failure).
def _kind(schema_type: str) -> str:
    return {"BIGINT": "int", "INTEGER": "int", "TINYINT": "int", "DOUBLE": "number",
            "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "bool"}.get(schema_type, "text")


def _is_text(s: pd.Series) -> bool:
    """Only strings and missing cells (a CSV column read as text)."""
    if isinstance(s.dtype, pd.StringDtype):
        return True
    return s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def _as_text(s: pd.Series) -> pd.Series:
    if _is_text(s):
        return s
    return s.map(lambda v: v if isinstance(v, str) or v is None or (isinstance(v, float) and np.isnan(v))
                 else str(v)).astype(object)


def _missing(s: pd.Series) -> pd.Series:
    if _is_text(s):
        return s.isna() | s.str.strip().eq("").fillna(False).astype(bool)
    text = s.map(lambda v: isinstance(v, str) and v.strip() == "")
    return s.isna() | text.astype(bool)


def parse_column(s: pd.Series, kind: str, fmt: str | None = None,
                 true_values=TRUE_VALUES, false_values=FALSE_VALUES) -> tuple[pd.Series, pd.Series]:
    """(parsed values, failed mask) for one raw column. Dates use `fmt` (strptime) when
    given, else ISO; numbers accept a '.' decimal point only; whole numbers must be whole."""
    missing = _missing(s)
    if kind == "text":
        values = _as_text(s).where(~missing, None)
        return values, pd.Series(False, index=s.index)
    if kind in ("int", "number"):
        if pd.api.types.is_bool_dtype(s):
            values = pd.Series(np.nan, index=s.index)
        elif pd.api.types.is_numeric_dtype(s):
            values = s.astype(float)
        else:
            values = pd.to_numeric(_as_text(s).where(~missing, None).str.strip(), errors="coerce").astype(float)
        failed = values.isna() & ~missing
        if kind == "int":
            whole = values.notna() & (values == np.floor(values.fillna(0))) & (values.abs() < 2**53)
            failed |= values.notna() & ~whole
            values = values.where(whole).astype("Int64") if len(values) else values.astype("Int64")
        return values.where(~failed), failed
    if kind in ("date", "timestamp"):
        if pd.api.types.is_datetime64_any_dtype(s):
            values = pd.to_datetime(s)
        else:
            native = (pd.Series(False, index=s.index) if _is_text(s)
                      else s.map(lambda v: isinstance(v, (pd.Timestamp, date))).astype(bool))
            text = _as_text(s).where(~missing & ~native, None).str.strip()
            parsed = pd.to_datetime(text, format=fmt or ("ISO8601"), errors="coerce")
            values = parsed.where(~native, pd.to_datetime(s.where(native), errors="coerce"))
        values = pd.to_datetime(values)
        failed = values.isna() & ~missing
        if kind == "date":
            # a date column takes a time of day only when it is midnight (no truncation)
            failed |= values.notna() & (values != values.dt.normalize())
            values = values.where(~failed)
        return values, failed
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s):
            return s.astype("boolean"), pd.Series(False, index=s.index)
        text = _as_text(s).where(~missing, None).str.strip().str.lower()
        values = pd.Series(pd.NA, index=s.index, dtype="boolean")
        values[text.isin(true_values).fillna(False).astype(bool)] = True
        values[text.isin(false_values).fillna(False).astype(bool)] = False
        return values, values.isna() & ~missing
    raise ValueError(f"unknown column kind {kind!r}")


def _kind_words(kind: str, fmt: str | None) -> str:
    return {"int": "not a whole number", "number": "not a number",
            "date": f"not a date in the form {fmt or 'YYYY-MM-DD'}",
            "timestamp": f"not a date/time in the form {fmt or 'YYYY-MM-DD HH:MM:SS'}",
            "bool": "not true/false (yes/no, 1/0)"}.get(kind, "not text")


# --------------------------------------------------------------------------- entity specs
@dataclass(frozen=True)
class ColumnSpec:
    kind: str
    required: bool = False  # the column must be mapped / present
    not_null: bool = False  # every row must have a value
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None


def _entity_specs(em: EntityMapping) -> dict[str, ColumnSpec]:
    """Our columns of one entity: kind, required, bounds (the data model's types)."""
    if em.entity == "customers":
        specs = {c: ColumnSpec(_kind(t)) for c, t in TABLES["customers"].items()}
        specs["customer_id"] = ColumnSpec("id", required=True, not_null=True)
        specs["signup_date"] = ColumnSpec("date", required=True, not_null=True)
        specs["churned"] = ColumnSpec("bool")
        specs["tenure_months"] = ColumnSpec("int", low=0)  # single snapshots: signup derived
        specs["acquisition_cost"] = ColumnSpec("number", low=0)
        specs["monthly_revenue"] = ColumnSpec("number", low=0)
        specs["margin_rate"] = ColumnSpec("number", low=0, high=1)
        return specs
    if em.entity == "touchpoints":
        specs = {c: ColumnSpec(_kind(t)) for c, t in TABLES["touchpoints"].items()}
        specs["customer_id"] = ColumnSpec("ref", required=True, not_null=True)
        specs["occurred_at"] = ColumnSpec("timestamp", required=True, not_null=True)
        specs["kind"] = ColumnSpec("text", required=True, not_null=True)
        specs["csat"] = ColumnSpec("int", low=1, high=5)
        specs["nps"] = ColumnSpec("int", low=0, high=10)
        specs["wait_seconds"] = ColumnSpec("int", low=0)
        specs["handle_seconds"] = ColumnSpec("int", low=0)
        return specs
    if em.entity == "purchases":
        return {"customer_id": ColumnSpec("ref", True, True), "date": ColumnSpec("date", True, True),
                "amount": ColumnSpec("number", True, True, low=0)}
    money = "mrr" if em.shape in ("monthly", "subscriptions") else "amount"
    specs = {"customer_id": ColumnSpec("ref", True, True), money: ColumnSpec("number", True, True, low=0)}
    if em.shape == "monthly":
        specs["month"] = ColumnSpec("date", True, True)
    elif em.shape == "subscriptions":
        specs["start"] = ColumnSpec("date", True, True)
        specs["end"] = ColumnSpec("date")
    else:
        specs["date"] = ColumnSpec("date", True, True)
    return specs


# --------------------------------------------------------------------------- report
@dataclass
class FileReport:
    """What happened to one file: rows read, kept, rejected, and the reasons counted."""

    entity: str
    file: str
    read: int = 0
    kept: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)  # kept rows flagged
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def reject_share(self) -> float:
        return self.rejected / self.read if self.read else 0.0


@dataclass
class ImportReport:
    """The whole import: per-file counts, the guesses made, notes, and the outcome."""

    files: list[FileReport]
    guesses: list[str]
    notes: list[str]
    accepted: bool
    reason: str | None = None  # one line when refused
    out: Path | None = None
    rejects_path: Path | None = None
    backup: Path | None = None
    max_reject_share: float = DEFAULT_MAX_REJECT_SHARE

    def lines(self) -> list[str]:
        out = []
        for f in self.files:
            out.append(f"{f.entity} ({f.file}): {f.read:,} read, {f.kept:,} kept, {f.rejected:,} rejected "
                       f"({f.reject_share:.2%}, threshold {self.max_reject_share:.2%})")
            out += [f"  rejected: {reason}: {n:,}" for reason, n in sorted(f.reasons.items())]
            out += [f"  kept with a warning: {reason}: {n:,}" for reason, n in sorted(f.warnings.items())]
            if f.ignored_columns:
                out.append(f"  columns not imported: {', '.join(f.ignored_columns)}")
        out += [f"GUESS: {g}" for g in self.guesses]
        out += [f"note: {n}" for n in self.notes]
        if self.rejects_path is not None:
            out.append(f"rejected rows: {self.rejects_path}")
        if self.accepted and self.out is None:
            out.append("checked only: within the threshold, nothing written yet")
        elif self.accepted:
            out.append(f"imported into {self.out}" + (f" (previous file kept as {self.backup})" if self.backup else ""))
        else:
            out.append(f"NOT IMPORTED: {self.reason}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


# --------------------------------------------------------------------------- staging (DuckDB)
_PANDERA_REASONS = {
    "not_nullable": "missing value in a required column",
    "field_uniqueness": "duplicate id (every row with this id is rejected)",
}
# Every file is loaded into a staging DuckDB file next to the target and checked there with
# set queries (docs/decisions/018): a 20M-row touchpoints file never sits in pandas memory.
# Each staged entity is a table `e_<entity>` of the rows still kept: `_row` (the spreadsheet
# row number) and our columns, parsed. A rejected row is moved to the table `rejects`.
_WS = "' \t\n\x0b\x0c\r'"  # Python's str.strip() set, as one SQL literal (real control characters)
_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
              "UBIGINT", "UHUGEINT")
_SQL_TYPE = {"id": "VARCHAR", "ref": "VARCHAR", "text": "VARCHAR", "int": "BIGINT", "number": "DOUBLE",
             "date": "TIMESTAMP", "timestamp": "TIMESTAMP", "bool": "BOOLEAN"}


def _q(name: str) -> str:
    """A name from a file's header as a quoted SQL identifier. Identifiers cannot be bind
    parameters; every *value* goes in as one (`_Params`)."""
    return '"' + str(name).replace('"', '""') + '"'


class _Params:
    """Bind parameters of one statement: `p(value)` returns its placeholder."""

    def __init__(self, **named) -> None:
        self.values: dict[str, object] = dict(named)

    def __call__(self, value) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _is_float_type(sql_type: str) -> bool:
    return sql_type in ("FLOAT", "DOUBLE") or sql_type.startswith("DECIMAL")


@dataclass(frozen=True)
class _ParsedSQL:
    """How one raw column is parsed in SQL, in layers so that each cell is stripped and
    cast once (DuckDB does not share repeated sub-expressions inside CASE): `strip` items
    go in a first projection, `cast` items in a second over it; `value` and `missing` are
    expressions over both."""

    strip: tuple[str, ...]
    cast: tuple[str, ...]
    value: str
    missing: str


def _layered(source: str, parsed: list[_ParsedSQL]) -> str:
    """`source` (a FROM item) with the strip and cast projections of `parsed` added."""
    strip = [item for one in parsed for item in one.strip]
    cast = [item for one in parsed for item in one.cast]
    out = source
    if strip:
        out = f"(select *, {', '.join(strip)} from {out})"
    if cast:
        out = f"(select *, {', '.join(cast)} from {out})"
    return out


def _parse_sql(column: str, sql_type: str, kind: str, fmt: str | None, p: _Params, mapping: Mapping,
               key: str) -> _ParsedSQL:
    """How to parse one raw column (`key` names its helper columns). `value` is the parsed
    cell, NULL when the cell is missing or does not parse (so a parse failure is `not
    missing and value is null`). Same rules as `parse_column`: text cells are stripped
    before parsing, dates use `fmt` (strptime) or ISO, numbers a '.' decimal point, whole
    numbers must be whole, a date takes a time of day only when it is midnight. Native
    cells (Parquet, Excel) of the right type are taken as they are."""
    r = _q(column)
    s, d = _q(f"__s_{key}"), _q(f"__d_{key}")
    text = sql_type == "VARCHAR"
    as_text = r if text else f"cast({r} as varchar)"
    strip = (f"trim({as_text}, {_WS}) as {s}",)
    cast: tuple[str, ...] = ()
    if text:
        missing = f"({s} is null or {s} = '')"
    elif sql_type in ("FLOAT", "DOUBLE"):
        missing = f"({r} is null or isnan({r}))"
    else:
        missing = f"({r} is null)"
    if kind == "text":
        value = f"case when {missing} then null else {as_text} end"
        strip = strip if text else ()
    elif kind in ("id", "ref"):
        # ids as stripped text; a whole float from Excel or Parquet (7.0) reads as "7"
        if _is_float_type(sql_type):
            value = (f"case when {missing} then null when {r} = floor({r}) and abs({r}) < 2^63 "
                     f"then cast(cast({r} as bigint) as varchar) else {s} end")
        else:
            value = f"case when {missing} then null else {s} end"
    elif kind in ("int", "number"):
        if sql_type == "BOOLEAN":
            cast, strip = (f"cast(null as double) as {d}",), ()
        elif sql_type in _INT_TYPES or _is_float_type(sql_type):
            cast, strip = (f"cast({r} as double) as {d}",), ()
        else:
            cast = (f"try_cast({s} as double) as {d}",)
        ok = f"not isnan({d})"
        if kind == "int":
            ok += f" and {d} = floor({d}) and abs({d}) < 2^53"
            value = f"case when not {missing} and {ok} then cast({d} as bigint) end"
        else:
            value = f"case when not {missing} and {ok} then {d} end"
    elif kind in ("date", "timestamp"):
        if sql_type in ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"):
            cast, strip = (f"cast({r} as timestamp) as {d}",), ()
        elif fmt:
            cast = (f"try_strptime({s}, {p(fmt)}) as {d}",)
        else:
            cast = (f"try_cast({s} as timestamp) as {d}",)
        value = f"case when not {missing} then {d} end"
        if kind == "date":
            value = f"case when not {missing} and {d} = date_trunc('day', {d}) then {d} end"
    elif kind == "bool":
        if sql_type == "BOOLEAN":
            value, strip = r, ()
        else:
            cast = (f"lower({s}) as {d}",)
            value = (f"case when {missing} then null when list_contains({p(list(mapping.true_values))}, {d}) "
                     f"then true when list_contains({p(list(mapping.false_values))}, {d}) then false end")
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    return _ParsedSQL(strip, cast, value, missing)


def _source_error(path: Path, err: Exception) -> ImportFailed:
    first = str(err).splitlines()[0] if str(err) else type(err).__name__
    if "invalid unicode" in str(err).lower() or "not utf-8" in str(err).lower():
        return ImportFailed(f"{path} is not UTF-8 text; save it as CSV UTF-8.")
    return ImportFailed(f"{path} could not be read as {path.suffix.lstrip('.').upper()} ({first}).")


def _excel_as_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel cells (objects) as typed columns DuckDB can take: a column of only numbers,
    only dates or only true/false keeps that type, anything else is text (str of the cell)."""
    out = {}
    for column in frame.columns:
        s = frame[column]
        cells = s[s.notna()]
        if len(cells) and all(isinstance(v, (bool, np.bool_)) for v in cells):
            out[str(column)] = s.astype("boolean")
        elif len(cells) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                                for v in cells):
            out[str(column)] = s.astype(float)
        elif len(cells) and all(isinstance(v, (pd.Timestamp, date)) for v in cells):
            out[str(column)] = pd.to_datetime(s)
        else:
            out[str(column)] = _as_text(s).astype(object)
    return pd.DataFrame(out, index=frame.index)


def _source_relation(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | int | None = None,
                     delimiter: str | None = None) -> tuple[duckdb.DuckDBPyRelation, int]:
    """One export file as a DuckDB relation, read lazily (CSV cells as text, so nothing is
    coerced before it is checked; Parquet and Excel keep native types), and the spreadsheet
    row number of its first record (2 under a header row, 1 for Parquet)."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            _check_text_file(path)
            sep = "\t" if suffix == ".tsv" else (delimiter or ",")
            # a short row reads as missing cells (then checked), as a spreadsheet shows it
            return con.read_csv(str(path), header=True, all_varchar=True, sep=sep, null_padding=True), 2
        if suffix == ".parquet":
            return con.read_parquet(str(path)), 1
        if suffix in (".xlsx", ".xlsm", ".xls"):  # small files: pandas reads them
            frame = _excel_as_columns(pd.read_excel(path, sheet_name=sheet if sheet is not None else 0,
                                                    dtype=object))
            return con.from_df(frame), 2
    except ImportFailed:
        raise
    except UnicodeDecodeError:
        raise ImportFailed(f"{path} is not UTF-8 text; save it as CSV UTF-8.") from None
    except Exception as err:  # duckdb/openpyxl raise many types for a bad file
        raise _source_error(path, err) from None
    raise ImportFailed(f"{path}: unknown file type {suffix!r}; use .csv, .parquet or .xlsx.")


def _stage_source(con: duckdb.DuckDBPyConnection, em: EntityMapping, table: str,
                  materialize: bool = True) -> tuple[str, int]:
    """Stage one export file as `table`. Returns SQL of its rows numbered as the
    spreadsheet numbers them (`_row`, then the file's columns), and the number of its first
    record (2 under a header row, 1 for Parquet).

    `materialize` copies the file into a table (the customers file: read several times).
    Otherwise `table` is a view that reads the file on each use, numbered WITH ORDINALITY
    (file order, also in a parallel scan): a 20M-row touchpoints file is then read once
    while checked, instead of copied first, and read again only to quote the cells of
    rows a later check rejects."""
    relation, first_row = _source_relation(con, em.file, em.sheet, em.options.get("delimiter"))
    suffix = em.file.suffix.lower()
    # a file with its own column named "ordinality" is copied instead (the name would clash)
    lazy = not materialize and suffix in (".csv", ".txt", ".tsv", ".parquet") and "ordinality" not in [
        str(c).lower() for c in relation.columns]
    try:
        if lazy:
            sep = "\t" if suffix == ".tsv" else (em.options.get("delimiter") or ",")
            reader = ("read_parquet($path)" if suffix == ".parquet" else
                      "read_csv($path, header = true, all_varchar = true, sep = $sep, null_padding = true)")
            con.sql(f"select ordinality + $first - 1 as _row, * exclude (ordinality) from {reader} with ordinality",
                    params={"path": str(em.file), "first": first_row,
                            **({} if suffix == ".parquet" else {"sep": sep})}).create_view(table)
            return f"(select * from {table})", first_row
        relation.create(table)
    except UnicodeDecodeError:
        raise ImportFailed(f"{em.file} is not UTF-8 text; save it as CSV UTF-8.") from None
    except duckdb.Error as err:
        raise _source_error(em.file, err) from None
    return f"(select rowid + {int(first_row)} as _row, * from {table})", first_row


def _check_columns(em: EntityMapping, columns: list[str], theirs_to_ours: dict[str, str]) -> None:
    """pandera on the file's header (a zero-row frame): every mapped column is present."""
    schema = pa.DataFrameSchema({theirs: pa.Column(None, required=True, nullable=True) for theirs in theirs_to_ours},
                                strict=False)
    try:
        schema.validate(pd.DataFrame(columns=columns), lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        absent = cases[cases["check"] == "column_in_dataframe"]
        names = ", ".join(f"'{c}'" for c in absent["failure_case"])
        raise ImportFailed(f"{em.file.name} has no column {names} (named in the mapping's "
                           f"[{em.entity}.columns]); its columns are: {', '.join(columns)}.") from None


@dataclass
class _Entity:
    """One staged file: its report, table of kept rows, raw table and column names."""

    em: EntityMapping
    report: FileReport
    index: int  # order of the file in the report (the rejects file is sorted by it)
    first: int  # spreadsheet row number of the first record
    table: str
    raw: str
    numbered: str  # SQL of the raw rows with their spreadsheet row number `_row` (`_stage_source`)
    theirs: dict[str, str]  # ours -> their column (mapped and present)
    types: dict[str, str]  # their column -> its type in the staged raw table


class _Stage:
    """The staging database of one import: the staged entities and the rejects."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.entities: dict[str, _Entity] = {}
        con.execute("create table rejects (file_index integer, file varchar, row bigint, column_name varchar, "
                    "value varchar, reason varchar)")

    def execute(self, sql: str, params: _Params | dict | None = None):
        values = params.values if isinstance(params, _Params) else (params or {})
        used = set(re.findall(r"\$(\w+)", sql))  # a statement takes only the parameters it names
        values = {k: v for k, v in values.items() if k in used}
        # fetched at once: DuckDB wants a result finished before the next statement
        started = time.perf_counter()
        rows = (self.con.execute(sql, values) if values else self.con.execute(sql)).fetchall()
        log.debug("%6.2f s  %s", time.perf_counter() - started, " ".join(sql.split())[:160])
        return rows

    def scalar(self, sql: str, params: _Params | dict | None = None):
        return self.execute(sql, params)[0][0]

    def reject(self, e: _Entity, where: str, column: str, reason: str, params: _Params | None = None,
               value: str | None = None) -> int:
        """Move the kept rows matching `where` (SQL over e.table) to the rejects, with the
        cell of `column` as the file holds it (or the SQL `value` over e.table). `where` is
        evaluated once (a check over 20M rows is a full pass); its rows are kept aside."""
        p = params or _Params()
        self.execute(f"create or replace temp table reject_hits as select _row from {e.table} where {where}", p)
        hits = self.scalar("select count(*) from reject_hits")
        if not hits:
            return 0
        p = _Params()
        names = p(e.report.file), p(column), p(reason), p(e.index)
        rows = f"(select * from {e.table} where _row in (select _row from reject_hits)) t"
        if value is None and column in e.theirs:
            source = (f"{rows} join (select _row as _raw_row, cast({_q(e.theirs[column])} as varchar) as _cell "
                      f"from {e.numbered}) r on r._raw_row = t._row")
            cell = "r._cell"
        else:
            source, cell = rows, ("cast(null as varchar)" if value is None else value)
        self.execute(f"insert into rejects select {names[3]}, {names[0]}, t._row, {names[1]}, {cell}, {names[2]} "
                     f"from {source}", p)
        self.execute(f"delete from {e.table} where _row in (select _row from reject_hits)")
        return hits

    def count(self, e: _Entity) -> int:
        return self.count_rows(e.table)

    def count_rows(self, table: str) -> int:
        return self.scalar(f"select count(*) from {table}")


def validate_entity(stage: _Stage, em: EntityMapping, mapping: Mapping, resolve: bool = False) -> _Entity:
    """Stage one file and check its cells: required columns mapped and present (pandera on
    the header), each value of the type its column needs, bounds, closed value maps, keys
    unique, required cells present. A failing cell rejects its row (one reason per row: the
    first in the order of their column name, then the reason); kept rows are parsed, their
    category values translated by the value maps. A missing mapped column is an
    `ImportFailed` (the whole file is unusable)."""
    specs = _entity_specs(em)
    unknown = [ours for ours in em.columns if ours not in specs]
    if unknown:
        raise ImportFailed(f"mapping [{em.entity}.columns]: {', '.join(unknown)} is not one of our "
                           f"{em.entity} columns ({', '.join(specs)}).")
    # `resolve`: the customer id is looked up in `id_map` in the same pass (kept as `_source`)
    index = len(stage.entities)
    raw = f"raw_{em.entity}"
    numbered, first = _stage_source(stage.con, em, raw, materialize=not resolve)
    rel = stage.con.table(raw)
    columns, types = [str(c) for c in rel.columns], dict(zip(map(str, rel.columns), map(str, rel.types)))
    theirs_to_ours = {theirs: ours for ours, theirs in em.columns.items()}
    for ours in specs:
        if ours not in em.columns and ours in columns and ours not in theirs_to_ours:
            theirs_to_ours[ours] = ours
    unknown = [ours for ours in em.constants if ours not in specs or ours in theirs_to_ours.values()]
    if unknown:
        raise ImportFailed(f"mapping [{em.entity}.constants]: {', '.join(unknown)} is not one of our "
                           f"{em.entity} columns, or is also mapped to a column of the file.")
    missing_required = [ours for ours, spec in specs.items() if spec.required
                        and ours not in theirs_to_ours.values() and ours not in em.constants]
    if em.entity == "customers" and "signup_date" in missing_required and "tenure_months" in theirs_to_ours.values():
        missing_required.remove("signup_date")  # derived from the tenure and the as-of date
    if missing_required:
        raise ImportFailed(f"{em.file.name}: no column is mapped to {', '.join(missing_required)} "
                           f"(required for {em.entity}); add it under [{em.entity}.columns].")
    _check_columns(em, columns, theirs_to_ours)
    report = FileReport(em.entity, em.file.name, read=0)  # counted once staged (a view reads its file)
    report.ignored_columns = [c for c in columns if c not in theirs_to_ours]

    p = _Params()
    parsed, checks, layers = [], [], []  # checks: (their column, check name, reason, condition, ours)
    for theirs, ours in theirs_to_ours.items():
        spec = specs[ours]
        kind = {"id": "text", "ref": "text"}.get(spec.kind, spec.kind)
        fmt = em.timestamp_format if kind == "timestamp" else em.date_format
        one = _parse_sql(theirs, types[theirs], spec.kind, fmt, p, mapping, ours)
        layers.append(one)
        value, missing = one.value, one.missing
        parsed.append(f"{value} as {_q('v_' + ours)}, {missing} as {_q('m_' + ours)}")
        v, m = _q("v_" + ours), _q("m_" + ours)
        if spec.not_null:
            checks.append((theirs, "not_nullable", _PANDERA_REASONS["not_nullable"], m, ours))
        if kind != "text":
            checks.append((theirs, _kind_words(kind, fmt), _kind_words(kind, fmt), f"not {m} and {v} is null", ours))
        if spec.low is not None or spec.high is not None:
            low, high = spec.low, spec.high
            bounds = (f"between {low:g} and {high:g}" if low is not None and high is not None
                      else f"at least {low:g}" if low is not None else f"at most {high:g}")
            cond = " or ".join(([f"{v} < {p(float(low))}"] if low is not None else [])
                               + ([f"{v} > {p(float(high))}"] if high is not None else []))
            checks.append((theirs, f"out of range (must be {bounds})", f"out of range (must be {bounds})",
                           f"{v} is not null and ({cond})", ours))
        vm = em.values.get(ours)
        if vm is not None and vm.closed:
            allowed = f"list_contains({p(list(vm.values))}, cast({v} as varchar))" if vm.values else "false"
            reason = "value not in the mapping's closed value map"
            checks.append((theirs, reason, reason, f"{v} is not null and not {allowed}", ours))
        if spec.kind == "id":
            # unique on the id as we read it ("C-10 " is "C-10", Excel's 7.0 is "7"); every
            # copy fails: which one is right cannot be known
            parsed.append(f"count(*) over (partition by {value}) as {_q('n_' + ours)}")
            reason = _PANDERA_REASONS["field_uniqueness"]
            checks.append((theirs, "field_uniqueness", reason, f"{v} is not null and {_q('n_' + ours)} > 1", ours))
    checks.sort(key=lambda c: (c[0], c[1]))
    # the first failing check's number, its conditions evaluated once per row; the reason,
    # column and cell follow from the number
    check_sql = " ".join(f"when {cond} then {n}" for n, (_, _, _, cond, _) in enumerate(checks, start=1))
    reasons, check_columns = p([c[2] for c in checks]), p([c[4] for c in checks])
    value_sql = " ".join(f"when {n} then cast({_q(theirs)} as varchar)"
                         for n, (theirs, _, _, _, _) in enumerate(checks, start=1))
    kept_cols = []
    for theirs, ours in theirs_to_ours.items():
        v = _q("v_" + ours)
        vm = em.values.get(ours)
        if vm is not None and vm.values and {"id": "text", "ref": "text"}.get(specs[ours].kind, specs[ours].kind) == "text":
            cases = " ".join(f"when {p(k)} then {p(val)}" for k, val in vm.values.items())
            v = f"case {v} {cases} else {v} end"  # values not in the map stay as they are
        if resolve and ours == "customer_id":
            kept_cols.append(f"{v} as _source, _map_id as customer_id")
        else:
            kept_cols.append(f"{v} as {_q(ours)}")
    for ours, const in em.constants.items():
        kind = {"id": "text", "ref": "text"}.get(specs[ours].kind, specs[ours].kind)
        one, failed = parse_column(pd.Series([const], dtype=object), kind, em.date_format,
                                   mapping.true_values, mapping.false_values)
        if failed.iloc[0]:
            raise ImportFailed(f"mapping [{em.entity}.constants]: {ours} = {const!r} is "
                               f"{_kind_words(kind, em.date_format)}.")
        item = one.iloc[0]
        item = None if pd.isna(item) else (item.to_pydatetime() if isinstance(item, pd.Timestamp)
                                           else item.item() if isinstance(item, np.generic) else item)
        kept_cols.append(f"cast({p(item)} as {_SQL_TYPE[specs[ours].kind]}) as {_q(ours)}")
    table = f"e_{em.entity}"
    no_checks = "cast(null as varchar)"
    stage.execute(
        f"create table {table} as select _row, {', '.join(kept_cols) or '1 as _none'}, "
        f"{f'list_extract({reasons}, _check)' if checks else no_checks} as _reason, "
        f"{f'list_extract({check_columns}, _check)' if checks else no_checks} as _column, "
        f"{'case _check ' + value_sql + ' end' if checks else no_checks} as _value "
        f"from (select *, {'case ' + check_sql + ' end' if checks else 'null'} as _check from "
        f"(select *, {', '.join(parsed) or '1 as _none2'} from {_layered(numbered, layers)}))"
        + (' left join id_map on _map_source = "v_customer_id"' if resolve else ""), p)
    report.read = stage.count_rows(table)
    e = _Entity(em, report, index, first, table, raw, numbered, {ours: theirs for theirs, ours in theirs_to_ours.items()},
                types)
    stage.execute(f"insert into rejects select {index}, $file, _row, _column, _value, _reason from {table} "
                  "where _reason is not null", {"file": report.file})
    stage.execute(f"delete from {table} where _reason is not null")
    # the columns _reason, _column, _value stay (all NULL now): dropping them rewrites the table
    stage.entities[em.entity] = e
    return e


# --------------------------------------------------------------------------- import
@dataclass
class _Prepared:
    """The staged, checked tables of an import (in `stage`), ready to be written."""

    stage: _Stage
    tables: dict[str, str]  # our table -> SELECT over the staging database
    info: dict[str, str]


def prepare(mapping: Mapping, stage: _Stage, reports: list[FileReport], guesses: list[str],
            notes: list[str]) -> _Prepared:
    """Stage, validate and shape every file of the mapping into the data model's tables
    (rows rejected on the way go to `stage`'s rejects table)."""
    cm = mapping.entities["customers"]
    ce = validate_entity(stage, cm, mapping)
    crep = ce.report
    reports.append(crep)
    notes.extend(f"customers: {ours} = {value!r} on every row (a constant of the mapping)"
                 for ours, value in cm.constants.items())
    cols = set(stage.con.table(ce.table).columns)

    if "signup_date" not in cols:  # tenure only (a single snapshot)
        if mapping.as_of_date is None:
            raise ImportFailed(f"{cm.file.name}: signup dates are derived from tenure_months and the as-of "
                               "date; set as_of_date in the mapping's [import] section.")
        stage.reject(ce, "tenure_months is null", "tenure_months", "missing value in a required column")
        stage.execute(f"alter table {ce.table} add column signup_date timestamp")
        stage.execute(f"update {ce.table} set signup_date = cast($as_of as timestamp) - to_months(tenure_months)",
                      {"as_of": mapping.as_of_date})
        guesses.append(f"signup dates of {stage.count(ce):,} customers derived as the as-of date minus their "
                       "tenure in months (the export has no signup dates)")
        cols.add("signup_date")
    if "tenure_months" in cols:
        stage.execute(f"alter table {ce.table} drop column tenure_months")
        cols.discard("tenure_months")

    # ids: whole numbers stay; otherwise number them in file order (every row of the file,
    # rejected ones too), keep the original
    id_column = ce.theirs["customer_id"]
    one = _parse_sql(id_column, ce.types[id_column], "id", None, _Params(), mapping, "id_source")
    stage.execute(f"create table source_ids as select source, min(_rid) as first from "
                  f"(select _rid, {one.value} as source from {_layered(f'(select rowid as _rid, * from {ce.raw})', [one])}) "
                  "where source is not null group by source")
    text_ids = stage.scalar(
        "select coalesce(bool_or(d is null or isnan(d) or isinf(d)), false) from "
        "(select try_cast(source as double) as d from source_ids)") or stage.scalar(
        f"select coalesce(bool_or(d != floor(d)), false) from "
        f"(select try_cast(customer_id as double) as d from {ce.table})")
    if text_ids:
        stage.execute("create table id_map as select source as _map_source, "
                      "cast(row_number() over (order by first) as bigint) as _map_id from source_ids")
        notes.append("customer ids are text: numbered 1, 2, … in file order; the original id is in "
                     "table customer_source_ids (customer_id, source_id)")
    else:
        stage.execute("create table id_map as select source as _map_source, "
                      "cast(cast(source as double) as bigint) as _map_id from source_ids")
    stage.execute(f"alter table {ce.table} rename column customer_id to _source")
    stage.execute(f"create table e_customers_ as select c.* exclude (_source), c._source, m._map_id as customer_id "
                  f"from {ce.table} c join id_map m on m._map_source = c._source order by c._row")
    stage.execute(f"drop table {ce.table}")
    stage.execute(f"alter table e_customers_ rename to {ce.table}")

    # churn: a date, a flag, or both (they must agree)
    if "churn_date" in cols:
        order_bad = "churn_date is not null and churn_date < signup_date"
        if cm.options.get("churn_before_signup", "reject") == "keep":
            n = stage.scalar(f"select count(*) from {ce.table} where {order_bad}")
            if n:
                crep.warnings["churn date before signup date (kept: churn_before_signup = \"keep\")"] = int(n)
        else:
            stage.reject(ce, order_bad, "churn_date", "churn date before signup date")
    if "churned" in cols and "churn_date" in cols:
        stage.reject(ce, "churned = false and churn_date is not null", "churned",
                     "flagged not churned but has a churn date")
    if "churn_date" not in cols and "churned" not in cols:
        guesses.append("no churn date or churned flag mapped: every customer is taken as active")

    dates_seen = [f"select signup_date as d from {ce.table}"]
    if "churn_date" in cols:
        dates_seen.append(f"select churn_date from {ce.table}")

    def load_dependent(entity: str) -> _Entity | None:
        em = mapping.entities.get(entity)
        if em is None:
            return None
        e = validate_entity(stage, em, mapping, resolve=True)
        reports.append(e.report)
        notes.extend(f"{entity}: {ours} = {value!r} on every row (a constant of the mapping)"
                     for ours, value in em.constants.items())
        # resolved (validate_entity): a customer that exists, and was not itself rejected
        stage.reject(e, "customer_id is null", "customer_id", "customer not in the customers file", value="_source")
        stage.reject(e, f"customer_id not in (select customer_id from {ce.table})", "customer_id",
                     "customer was rejected (see the customers file's rejects)", value="_source")
        return e

    te = load_dependent("touchpoints")
    if te is not None:
        tcols = set(stage.con.table(te.table).columns)
        if "touchpoint_id" not in tcols:
            stage.execute(f"alter table {te.table} add column touchpoint_id bigint")
            stage.execute(f"update {te.table} set touchpoint_id = _row - {int(te.first)} + 1")
            notes.append("touchpoints have no id column: numbered by their row order")
        else:
            stage.reject(te, "touchpoint_id is null", "touchpoint_id", "missing value in a required column")
            stage.reject(te, f"touchpoint_id in (select touchpoint_id from {te.table} group by 1 having count(*) > 1)",
                         "touchpoint_id", "duplicate id (every row with this id is rejected)")
        if "related_touchpoint_id" in tcols:
            stage.reject(te, f"related_touchpoint_id is not null and related_touchpoint_id not in "
                             f"(select touchpoint_id from {te.table})", "related_touchpoint_id",
                         "related touchpoint not in the touchpoints file")
        dates_seen.append(f"select date_trunc('day', occurred_at) from {te.table}")

    re_ = load_dependent("revenue")
    shape = mapping.entities["revenue"].shape if re_ is not None else None
    if re_ is not None:
        if shape == "monthly":
            stage.reject(re_, "day(month) != 1", "month", "month is not the first day of a month")
            stage.reject(re_, f"(customer_id, month) in (select (customer_id, month) from {re_.table} "
                              "group by all having count(*) > 1)",
                         "month", "duplicate customer and month (every such row is rejected)")
            dates_seen.append(f"select month from {re_.table}")
        elif shape == "subscriptions":
            stage.reject(re_, '"end" is not null and "end" <= start', "end", "subscription ends on or before its start")
            dates_seen += [f"select start from {re_.table}", f'select "end" from {re_.table}']
        else:
            dates_seen.append(f"select date from {re_.table}")

    pe = load_dependent("purchases")
    if pe is not None:
        dates_seen.append(f"select date from {pe.table}")

    # dates: the as-of date and history start from the mapping, else from the data (guesses)
    low, high = stage.execute(f"select min(d), max(d) from ({' union all '.join(dates_seen)})")[0]
    if mapping.as_of_date is not None:
        as_of = mapping.as_of_date
    elif high is not None:
        as_of = high.date()
        guesses.append(f"as-of date {as_of} is the latest date in the data (set as_of_date in [import])")
    else:
        raise ImportFailed("no dates in the data and no as_of_date in the mapping's [import] section.")
    # rows dated after the as-of date are outside the history: rejected, never kept unseen
    after = _Params(after=pd.Timestamp(as_of).to_pydatetime() + pd.Timedelta(days=1).to_pytimedelta())
    if te is not None:
        stage.reject(te, "occurred_at >= $after", "occurred_at", "dated after the as-of date", after)
    if re_ is not None:
        column = {"monthly": "month", "subscriptions": "start", "invoices": "date"}[shape]
        stage.reject(re_, f"{_q(column)} >= $after", column, "dated after the as-of date",
                     _Params(after=after.values["after"]))
    if pe is not None:
        stage.reject(pe, "date >= $after", "date", "dated after the as-of date", _Params(after=after.values["after"]))
    for e in stage.entities.values():
        e.report.kept = stage.count(e)
        e.report.rejected = e.report.read - e.report.kept
        e.report.reasons = dict(stage.execute("select reason, count(*) from rejects where file_index = $i "
                                              "group by reason", {"i": e.index}))
    if mapping.history_start is not None:
        history_start = mapping.history_start
    else:
        history_start = low.date() if low is not None else as_of
        guesses.append(f"history start {history_start} is the earliest date in the data "
                       "(set history_start in [import] if your export starts later)")

    if "churned" in cols:
        if "churn_date" not in cols:
            stage.execute(f"alter table {ce.table} add column churn_date timestamp")
            cols.add("churn_date")
        n = stage.scalar(f"update {ce.table} set churn_date = cast($as_of as timestamp) "
                         "where churned and churn_date is null", {"as_of": as_of})
        if n:
            guesses.append(f"{int(n):,} customers flagged churned without a churn date: "
                           f"churn date set to the as-of date {as_of}")
        stage.execute(f"alter table {ce.table} drop column churned")
        cols.discard("churned")

    # margin: a column, the mapping's rate, or the default (a guess)
    info = {"schema_version": SCHEMA_VERSION, "as_of_date": as_of.isoformat(),
            "history_start": history_start.isoformat(), "imported_by": "analytics.load"}
    if mapping.currency:
        info["currency"] = str(mapping.currency)
    missing_margin = (stage.scalar(f"select count(*) from {ce.table} where margin_rate is null")
                      if "margin_rate" in cols else None)
    if "margin_rate" not in cols:
        stage.execute(f"alter table {ce.table} add column margin_rate double")
        cols.add("margin_rate")
    if missing_margin is None or missing_margin == stage.count(ce):
        rate = mapping.margin_rate
        if rate is None:
            rate = DEFAULT_MARGIN_RATE
            info["margin_rate_guessed"] = "true"
            guesses.append(f"margin rate {rate:.0%} (default; set margin_rate in [import])")
        info["margin_rate"] = repr(float(rate))
        stage.execute(f"update {ce.table} set margin_rate = $rate", {"rate": float(rate)})
    elif missing_margin:
        rate = mapping.margin_rate if mapping.margin_rate is not None else DEFAULT_MARGIN_RATE
        stage.execute(f"update {ce.table} set margin_rate = $rate where margin_rate is null", {"rate": float(rate)})
        (notes if mapping.margin_rate is not None else guesses).append(
            f"{missing_margin:,} customers without a margin rate get {rate:.0%}"
            + ("" if mapping.margin_rate is not None else " (default)"))
        if mapping.margin_rate is None:
            info["margin_rate_guessed"] = "true"
    elif mapping.margin_rate is not None:
        info["margin_rate"] = repr(float(mapping.margin_rate))

    tables = {"customers": f"select * from {ce.table} order by customer_id"}
    if re_ is not None:
        if shape == "monthly":
            # a view, not a copy: 20M revenue rows are written once, into the new database
            stage.execute(f"create view monthly as select customer_id, month, mrr from {re_.table}")
        else:
            # subscription periods and invoices are few per customer: derived in pandas
            frame = stage.con.sql(f"select * exclude (_row) from {re_.table} order by _row").df()
            if shape == "subscriptions":
                monthly = revenue_shapes.monthly_from_subscriptions(frame, as_of)
                notes.append(f"monthly revenue derived from {len(frame):,} subscription periods "
                             f"({len(monthly):,} month rows)")
            else:
                monthly = revenue_shapes.monthly_from_invoices(frame, as_of)
                notes.append(f"monthly revenue derived from {len(frame):,} invoices ({len(monthly):,} month rows)")
            stage.con.register("monthly_frame", monthly)
            stage.execute("create table monthly as select * from monthly_frame")
            stage.con.unregister("monthly_frame")
        tables["monthly_revenue"] = "select * from monthly"
        if "monthly_revenue" not in cols:
            notes.append("customers.monthly_revenue taken from each customer's latest revenue month")
            stage.execute(f"alter table {ce.table} add column monthly_revenue double")
            stage.execute(f"update {ce.table} c set monthly_revenue = l.mrr from "
                          "(select customer_id, arg_max(mrr, month) as mrr from monthly group by 1) l "
                          "where l.customer_id = c.customer_id")
            cols.add("monthly_revenue")
    if te is not None:
        # in the file's order: sorting 20M rows would cost more than it gives
        tables["touchpoints"] = f"select * from {te.table}"

    # extra columns -> customer_attributes (long); ignored columns are listed, not dropped silently
    extra = crep.ignored_columns
    crep.ignored_columns = []
    if extra:
        p = _Params()
        parts = []
        for column in extra:
            one = _parse_sql(column, ce.types[column], "text", None, p, mapping, "attribute")
            cells = _layered(f"(select rowid + {int(ce.first)} as _raw_row, * from {ce.raw})", [one])
            parts.append(f"select c.customer_id, {p(column)} as attribute, {one.value} as value, c._row "
                         f"from {ce.table} c join {cells} r on r._raw_row = c._row where not {one.missing}")
        stage.execute(f"create table attributes as select customer_id, attribute, value from "
                      f"({' union all '.join(parts)})", p)
        tables["customer_attributes"] = "select * from attributes"
        notes.append(f"extra customer columns kept as custom attributes (table customer_attributes): "
                     f"{', '.join(extra)}")
    if text_ids:
        tables["customer_source_ids"] = f"select customer_id, _source as source_id from {ce.table}"
    if pe is not None:
        tables["purchases"] = f"select customer_id, date as purchase_date, amount from {pe.table}"
        notes.append("purchase log stored in table purchases (customer_id, purchase_date, amount): "
                     "the data model has no purchase-log table of its own")
    return _Prepared(stage, tables, info)


# --------------------------------------------------------------------------- writing
EXTRA_TABLES = ("customer_attributes", "customer_source_ids", "purchases")


def write_database(prepared: _Prepared, path: Path) -> None:
    """Write the prepared tables into a new DuckDB file at `path` (which must not exist):
    `insert ... select` from the staging database, cast to the data model's types."""
    stage = prepared.stage
    home = stage.scalar("select current_database()")
    stage.execute("attach $path as import_target", {"path": str(path)})
    try:
        stage.execute("use import_target")
        written = {table: TABLES[table] for table in REQUIRED_TABLES}
        written.update({t: OPTIONAL_TABLES[t] for t in EXTRA_TABLES if t in prepared.tables})
        for table, columns in written.items():
            stage.execute(create_table_sql(table, columns))
        stage.execute(f"use {_q(home)}")
        p = _Params()
        rows = " union all ".join(f"select {p(k)}, {p(v)}" for k, v in prepared.info.items())
        stage.execute(f'insert into import_target."schema_info" {rows}', p)
        for table, select in prepared.tables.items():
            columns = written[table]
            have = [str(c) for c in stage.con.query(select).limit(0).columns]
            names = [c for c in columns if c in have]
            stage.execute(f'insert into import_target."{table}" ({", ".join(_q(c) for c in names)}) '
                          f'select {", ".join(f"cast({_q(c)} as {columns[c]})" for c in names)} from ({select})')
        stage.execute("checkpoint import_target")
    finally:
        stage.execute(f"use {_q(home)}")
        stage.execute("detach import_target")


def _build_rollups(path: Path, notes: list[str]) -> None:
    from analytics.db import open_database
    from analytics.rollups import build_rollups

    db = open_database(path, read_only=False)
    try:
        build = build_rollups(db)
        db.cursor().execute("checkpoint")
    except Exception as err:  # noqa: BLE001 — rollups are an accelerator; the pages work live
        first = (str(err).splitlines() or [type(err).__name__])[0]
        notes.append(f"rollups not built ({type(err).__name__}: {first}); the metrics compute live, "
                     "run `python -m analytics.rollups` after fixing the cause")
        return
    finally:
        db.close()
    skipped = getattr(build, "skipped", None)
    if skipped:
        notes.append(f"rollups not built: {skipped}")


def swap_into_place(tmp: Path, out: Path) -> Path | None:
    """Replace `out` by `tmp` atomically, keeping the previous file as `<name>.bak`. The
    target exists at every moment: the backup is a hard link (or copy) made first."""
    backup = None
    if out.exists():
        backup = out.with_name(out.name + ".bak")
        staged = out.with_name(f".{out.name}.bak-{os.getpid()}")
        staged.unlink(missing_ok=True)
        try:
            os.link(out, staged)
        except OSError:
            shutil.copy2(out, staged)
        os.replace(staged, backup)
    os.replace(tmp, out)
    return backup


def run_import(mapping: Mapping, out: str | Path, max_reject_share: float | None = None,
               progress: Callable[[str], None] | None = None, check_only: bool = False,
               rejects_path: Path | None = None) -> ImportReport:
    """The whole pipeline (module docstring). Returns the report; the target is replaced
    only when every file is within the reject threshold and the new file opens cleanly.
    `check_only` validates and reports without writing a database (`report.out` is None).
    Raises `ImportFailed` for a file or mapping that cannot be used at all."""
    say = progress or (lambda _msg: None)
    out = Path(out)
    threshold = mapping.max_reject_share if max_reject_share is None else max_reject_share
    reports, guesses, notes = [], [], []
    out.parent.mkdir(parents=True, exist_ok=True)
    if rejects_path is None:
        rejects_path = out.with_name(out.name + ".rejects.csv")
    staging = out.with_name(f".{out.name}.import-{os.getpid()}.stage")
    tmp = out.with_name(f".{out.name}.import-{os.getpid()}.tmp")
    leftovers = (staging, Path(f"{staging}.wal"), tmp, Path(f"{tmp}.wal"))
    for stale in leftovers:
        stale.unlink(missing_ok=True)
    spill = Path(f"{staging}.spill")
    con = stage = None
    try:
        # DuckDB works out of core: memory is bounded, the rest spills to disk
        con = duckdb.connect(str(staging), config={"memory_limit": STAGING_MEMORY_LIMIT,
                                                   "temp_directory": str(spill),
                                                   "preserve_insertion_order": True})
        con.execute("set enable_progress_bar = false").fetchall()
        stage = _Stage(con)
        say("reading and validating the files")
        prepared = prepare(mapping, stage, reports, guesses, notes)
        report = ImportReport(reports, guesses, notes, accepted=False, out=out, max_reject_share=threshold)
        if stage.scalar("select count(*) from rejects"):
            # a cell starting with = + - @ (tab, CR) would run as a formula in a spreadsheet:
            # quoted by the exports' one rule (analytics/export.py; a plain signed number stays)
            guarded, params = formula_guard_sql("value")
            con.sql(f"select file, row, column_name as column, {guarded} as value, reason "
                    "from rejects order by file_index, row", params=params).write_csv(str(rejects_path), header=True)
            report.rejects_path = rejects_path
        else:
            rejects_path.unlink(missing_ok=True)
        over = [f for f in reports if f.reject_share > threshold]
        if over:
            f = over[0]
            top = max(f.reasons, key=f.reasons.get)
            report.reason = (f"{f.file}: {f.rejected:,} of {f.read:,} rows rejected ({f.reject_share:.2%}, above "
                             f"the {threshold:.2%} threshold; most often: {top}); see {rejects_path}. "
                             f"{out} was not changed.")
            return report
        if check_only:
            report.accepted, report.out = True, None
            return report
        say("writing the new database")
        write_database(prepared, tmp)
        con.close()
        con = None
        say("building the rollups")
        _build_rollups(tmp, notes)
        say("checking the new database")
        from analytics.db import DatabaseError, open_database
        try:
            open_database(tmp).close()
        except DatabaseError as err:
            raise ImportFailed(f"the imported file does not pass the dashboard's checks: {err}") from err
        say("swapping it into place")
        report.backup = swap_into_place(tmp, out)
    except duckdb.Error as err:  # a file DuckDB cannot take as we read it: one line, never a traceback
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise ImportFailed(f"the import stopped on a database error ({first}).") from err
    finally:
        if con is not None:
            con.close()
        # Drop the names too: a caller that keeps the exception keeps this frame through its
        # traceback, and the frame would keep the (closed) staging connection alive to the
        # interpreter's exit, where DuckDB's bindings report it as ~40 "nanobind: leaked"
        # lines (issue 17; seen after a full `pytest tests/unit`).
        con = stage = None
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
    report.accepted = True
    return report


# --------------------------------------------------------------------------- for the Data page
def entity_columns(entity: str, shape: str | None = None) -> list[tuple[str, bool]]:
    """Our columns of an entity (revenue: of its shape) and whether each is required."""
    em = EntityMapping(entity, Path("."), {}, shape=shape or ("monthly" if entity == "revenue" else None))
    return [(name, spec.required) for name, spec in _entity_specs(em).items()]


# our category columns, whose values a mapping may translate (their "Fiber optic" -> a plan)
CATEGORY_COLUMNS = {
    "customers": ("segment", "region", "plan", "contract_type", "acquisition_channel", "churn_reason"),
    "touchpoints": ("kind", "channel", "direction", "subject", "outcome"),
}


def value_map(theirs: list[str], ours: list[str]) -> dict[str, str]:
    """The entries of an edited value table that change a value (unchanged ones need none)."""
    return {t: o.strip() for t, o in zip(theirs, ours)
            if isinstance(o, str) and o.strip() and o.strip() != t}


def suggest_column(ours: str, theirs: list[str]) -> str | None:
    """Their column that is plainly ours: the same name ignoring case, spaces, '_' and '-'."""
    def norm(name: str) -> str:
        return "".join(ch for ch in str(name).lower() if ch.isalnum())
    return next((t for t in theirs if norm(t) == norm(ours)), None)


def stage_upload(folder: Path, entity: str, filename: str, data: bytes) -> Path:
    """Save an uploaded file as `<folder>/<entity><suffix>` (the mapping's `file`)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entity}{Path(filename).suffix.lower()}"
    path.write_bytes(data)
    return path


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else _toml_value(key)


def mapping_to_toml(raw: dict, header: str = "") -> str:
    """A mapping (as `mapping_from_dict` takes it) written as a TOML file."""
    lines = [f"# {line}" for line in header.splitlines()]

    def table(name: str, body: dict) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, dict)}
        if scalars or not body:
            lines.append(f"\n[{name}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
        for key, sub in body.items():
            if isinstance(sub, dict):
                table(f"{name}.{_toml_key(key)}", sub)

    for name, body in raw.items():
        table(_toml_key(name), body)
    return "\n".join(lines).lstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import your own exports into a Retention Radar database.")
    parser.add_argument("--mapping", type=Path, required=True, help="the mapping file (TOML)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the DuckDB file to write (default: $RETENTION_DB, retention.toml, data/sample.duckdb)")
    parser.add_argument("--max-reject-share", type=float, default=None,
                        help="largest share of rejected rows per file that is accepted "
                             f"(default: the mapping's, else {DEFAULT_MAX_REJECT_SHARE})")
    parser.add_argument("--verbose", action="store_true", help="print each staging statement with its time")
    args = parser.parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("    %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    if args.out is None:
        from analytics.config import database_path

        args.out = database_path()
    started = time.perf_counter()

    def say(msg: str) -> None:  # each step with the seconds since the start, so a slow step shows
        print(f"... {time.perf_counter() - started:6.1f} s  {msg}", file=sys.stderr, flush=True)

    try:
        mapping = read_mapping(args.mapping)
        report = run_import(mapping, args.out, args.max_reject_share, progress=say)
    except ImportFailed as err:
        print(f"import failed: {err} Nothing was changed.", file=sys.stderr)
        return 1
    say("done")
    print(report)
    if not report.accepted:
        print(f"import refused: {report.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
