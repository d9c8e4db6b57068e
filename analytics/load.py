"""Import a customer's own exports (CSV, Parquet, Excel) into a new Retention Radar database.

    python -m analytics.load --mapping MAPPING.toml [--out PATH] [--max-reject-share 0.01]

One pipeline, used by this command, `make import MAPPING=...` and the Data page:

1. **Mapping** (`read_mapping`): a TOML file saying which file is which entity, which of
   their columns is which of ours, how their category values map to ours, the date
   format, currency, margin rate, as-of date and the reject threshold (format: README,
   "Your own data", and docs/example-mapping.toml).
2. **Read** (`read_source`): every file as text where the format allows (CSV), so nothing
   is coerced before it is checked; Excel and Parquet cells keep their native types.
3. **Validate** (pandera, docs/decisions/016): required columns present; each value of the
   type its column needs (whole number, number, date in the given format, true/false);
   keys unique; churn ≥ signup; a touchpoint's / revenue row's / purchase's customer kept;
   values in the mapped set when a value map is `closed`. Every failing row is rejected
   (never repaired) and written to `<out>.rejects.csv` with its file, row, column, value
   and reason. `row` is the row number a spreadsheet shows: the header is row 1, the first
   data row is row 2 (Parquet files have no header row: their first record is row 1).
4. **Accept or refuse**: a file whose rejected share exceeds the threshold (default 1 %)
   refuses the whole import: nothing is written, the exit status is 1 and the reason is
   one line.
5. **Write** a new DuckDB file in the data model (`analytics.schema`) next to the target,
   build the rollups on it, open it with `analytics.db.open_database` (the checks the
   dashboard makes), then swap it in with `os.replace`, keeping the previous file as
   `<name>.bak`. Any failure before the swap leaves the target exactly as it was.

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
import os
import shutil
import sys
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
from analytics.schema import OPTIONAL_TABLES, REQUIRED_TABLES, SCHEMA_VERSION, TABLES, create_table_sql

DEFAULT_MARGIN_RATE = 0.5
DEFAULT_MAX_REJECT_SHARE = 0.01
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
def read_source(path: Path, sheet: str | int | None = None, delimiter: str | None = None) -> tuple[pd.DataFrame, int]:
    """One export file as a DataFrame, and the spreadsheet row number of its first data row
    (2 under a header row; 1 for Parquet). CSV cells stay text (an empty cell is missing)."""
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            with path.open("rb") as fh:
                head = fh.read(4096)
            if b"\x00" in head or head.startswith((b"PK\x03\x04", b"PAR1", b"SQLite format", b"\x89PNG")):
                raise ImportFailed(f"{path} is not a CSV file (it holds binary data). "
                                   "Export it as CSV, or give the Excel/Parquet file its own suffix.")
            sep = "\t" if suffix == ".tsv" else (delimiter or ",")
            # Arrow-backed text: a fraction of the memory of Python strings, and vectorised
            # strip / compare / parse (a 20M-row touchpoints file is the target size)
            frame = pd.read_csv(path, dtype="string[pyarrow]", keep_default_na=False, na_values=[""],
                                sep=sep, encoding="utf-8-sig")
            return frame, 2
        if suffix == ".parquet":
            return pd.read_parquet(path), 1
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object)
            return frame, 2
    except ImportFailed:
        raise
    except UnicodeDecodeError:
        raise ImportFailed(f"{path} is not UTF-8 text; save it as CSV UTF-8.") from None
    except Exception as err:  # pandas/pyarrow/openpyxl raise many types for a bad file
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ImportFailed(f"{path} could not be read as {suffix.lstrip('.').upper()} ({first}).") from None
    raise ImportFailed(f"{path}: unknown file type {suffix!r}; use .csv, .parquet or .xlsx.")


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


def _id_text(s: pd.Series) -> pd.Series:
    """Ids as stripped text; a whole float from Excel or Parquet (7.0) reads as "7"."""
    if _is_text(s):
        text = s.str.strip()
        return text.where(text.notna() & text.ne(""), None).astype(object)
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None
    return s.map(one).astype(object)


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
    # the file's raw kept cells (for the rejects file and custom attributes), not reported
    raw: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    raw_columns: dict[str, pd.Series] = field(default_factory=dict, repr=False, compare=False)

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


class _Rejects:
    """Collects rejected cells (file, row, column, value, reason) and per-file counts."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, report: FileReport, first_row: int, index: pd.Index, column: str,
            values: pd.Series | None, reason: str) -> None:
        for i in index:
            value = None if values is None else values.get(i)
            value = None if value is None or (np.ndim(value) == 0 and pd.isna(value)) else str(value)
            self.rows.append((report.file, int(i) + first_row, column, value, reason))
        report.reasons[reason] = report.reasons.get(reason, 0) + len(index)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(REJECT_COLUMNS))


# --------------------------------------------------------------------------- validation
def _check(fn: Callable[[pd.Series], pd.Series], reason: str) -> pa.Check:
    return pa.Check(fn, error=reason)


def _column_schema(spec: ColumnSpec, column: str, em: EntityMapping,
                   parsed: tuple[pd.Series, pd.Series] | None) -> pa.Column:
    """A pandera column over the *raw* values, so a failure names the value as the user
    wrote it. `parsed` is the column parsed once beforehand ((values, failed), aligned on
    the rows): the checks read it instead of parsing again (a 20M-row file is parsed once)."""
    fmt = em.timestamp_format if spec.kind == "timestamp" else em.date_format
    kind = {"id": "text", "ref": "text"}.get(spec.kind, spec.kind)
    checks = []
    if parsed is not None:
        values, failed = parsed
        if kind != "text":
            checks.append(_check(lambda s, failed=failed: ~failed.reindex(s.index, fill_value=False),
                                 _kind_words(kind, fmt)))
        if spec.low is not None or spec.high is not None:
            low, high = spec.low, spec.high
            v = values.astype(float)
            ok = v.isna() | (((v >= low) if low is not None else True) & ((v <= high) if high is not None else True))
            bounds = (f"between {low:g} and {high:g}" if low is not None and high is not None
                      else f"at least {low:g}" if low is not None else f"at most {high:g}")
            checks.append(_check(lambda s, ok=ok: ok.reindex(s.index, fill_value=True),
                                 f"out of range (must be {bounds})"))
        vm = em.values.get(column)
        if vm is not None and vm.closed:
            allowed = set(vm.values)
            checks.append(_check(lambda s, values=values, allowed=allowed:
                                 (values.isna() | values.isin(allowed)).reindex(s.index, fill_value=True),
                                 "value not in the mapping's closed value map"))
        if spec.kind == "id":
            # unique on the id as we read it ("C-10 " is "C-10", Excel's 7.0 is "7"); every
            # copy fails: which one is right cannot be known
            duplicated = values.notna() & values.duplicated(keep=False)
            checks.append(_check(lambda s, ok=~duplicated: ok.reindex(s.index, fill_value=True),
                                 _PANDERA_REASONS["field_uniqueness"]))
    return pa.Column(None, checks=checks, nullable=not spec.not_null, required=True, coerce=False)


_PANDERA_REASONS = {
    "not_nullable": "missing value in a required column",
    "field_uniqueness": "duplicate id (every row with this id is rejected)",
}


def validate_entity(em: EntityMapping, raw: pd.DataFrame, first_row: int, mapping: Mapping,
                    rejects: _Rejects) -> tuple[pd.DataFrame, FileReport]:
    """Check one file with pandera and return its kept rows, renamed to our columns and
    parsed, plus its report. A missing mapped column is an `ImportFailed` (the whole file
    is unusable); a failing cell rejects its row."""
    report = FileReport(em.entity, em.file.name, read=len(raw))
    specs = _entity_specs(em)
    unknown = [ours for ours in em.columns if ours not in specs]
    if unknown:
        raise ImportFailed(f"mapping [{em.entity}.columns]: {', '.join(unknown)} is not one of our "
                           f"{em.entity} columns ({', '.join(specs)}).")
    # their name -> ours; our columns the file has under our own name count as mapped
    theirs_to_ours = {theirs: ours for ours, theirs in em.columns.items()}
    for ours in specs:
        if ours not in em.columns and ours in raw.columns and ours not in theirs_to_ours:
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
    parsed_all: dict[str, tuple[pd.Series, pd.Series]] = {}
    for theirs, ours in theirs_to_ours.items():
        if theirs not in raw.columns:
            continue  # pandera reports it (required column)
        spec = specs[ours]
        kind = {"id": "text", "ref": "text"}.get(spec.kind, spec.kind)
        fmt = em.timestamp_format if kind == "timestamp" else em.date_format
        if spec.kind in ("id", "ref"):
            parsed_all[ours] = (_id_text(raw[theirs]), pd.Series(False, index=raw.index))
        else:
            parsed_all[ours] = parse_column(raw[theirs], kind, fmt, mapping.true_values, mapping.false_values)
    schema = pa.DataFrameSchema(
        {theirs: _column_schema(specs[ours], ours, em, parsed_all.get(ours)) for theirs, ours in theirs_to_ours.items()},
        strict=False)
    bad = pd.Series(False, index=raw.index)
    try:
        schema.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        absent = cases[cases["check"] == "column_in_dataframe"]
        if len(absent):
            names = ", ".join(f"'{c}'" for c in absent["failure_case"])
            raise ImportFailed(f"{em.file.name} has no column {names} (named in the mapping's "
                               f"[{em.entity}.columns]); its columns are: {', '.join(map(str, raw.columns))}.")
        broken = cases[cases["index"].isna()]
        if len(broken):  # a check that could not run is a bug, never a silent pass
            row = broken.iloc[0]
            raise ImportFailed(f"{em.file.name}: the check '{row['check']}' on column '{row['column']}' "
                               f"could not run ({row['failure_case']}).")
        cases = cases[cases["index"].notna()]
        for (column, check), group in cases.groupby(["column", "check"], sort=True):
            index = pd.Index(sorted(set(int(i) for i in group["index"])))
            index = index[~bad.loc[index].to_numpy()]  # one reason per row: the first found
            if len(index):
                reason = _PANDERA_REASONS.get(check, check)
                rejects.add(report, first_row, index, theirs_to_ours[column], raw[column], reason)
                bad.loc[index] = True
    kept_raw = raw.loc[~bad]
    parsed = pd.DataFrame(index=kept_raw.index)
    keep = ~bad.to_numpy()
    for theirs, ours in theirs_to_ours.items():
        values = parsed_all[ours][0][keep]
        vm = em.values.get(ours)
        if vm is not None:
            values = values.replace(vm.values)  # values not in the map stay as they are
        parsed[ours] = values
    for ours, value in em.constants.items():
        kind = {"id": "text", "ref": "text"}.get(specs[ours].kind, specs[ours].kind)
        one, failed = parse_column(pd.Series([value], dtype=object), kind, em.date_format,
                                   mapping.true_values, mapping.false_values)
        if failed.iloc[0]:
            raise ImportFailed(f"mapping [{em.entity}.constants]: {ours} = {value!r} is "
                               f"{_kind_words(kind, em.date_format)}.")
        parsed[ours] = pd.Series([one.iloc[0]] * len(parsed), index=parsed.index, dtype=one.dtype)
    report.ignored_columns = [c for c in map(str, raw.columns) if c not in theirs_to_ours]
    report.raw_columns = {ours: kept_raw[theirs] for theirs, ours in theirs_to_ours.items()}
    report.raw = kept_raw
    return parsed, report


def _reject_rows(parsed: pd.DataFrame, mask: pd.Series, report: FileReport, first_row: int,
                 column: str, reason: str, rejects: _Rejects, values: pd.Series | None = None) -> pd.DataFrame:
    """Move the rows of `mask` from `parsed` to the rejects, with the value as the file
    holds it (`report.raw_columns`) when known."""
    index = parsed.index[mask.to_numpy()]
    if len(index):
        if values is None:
            values = report.raw_columns.get(column, parsed[column])
        rejects.add(report, first_row, index, column, values, reason)
    return parsed.loc[~mask.to_numpy()]


# --------------------------------------------------------------------------- import
@dataclass
class _Prepared:
    customers: pd.DataFrame
    attributes: pd.DataFrame
    source_ids: pd.DataFrame | None
    touchpoints: pd.DataFrame | None
    revenue: pd.DataFrame | None
    purchases: pd.DataFrame | None
    info: dict[str, str]


def _finish_report(report: FileReport, kept: int) -> None:
    report.kept = kept
    report.rejected = report.read - kept


def prepare(mapping: Mapping, rejects: _Rejects, reports: list[FileReport], guesses: list[str],
            notes: list[str]) -> _Prepared:
    """Read, validate and shape every file of the mapping into the data model's tables."""
    cm = mapping.entities["customers"]
    raw, first = read_source(cm.file, cm.sheet, cm.options.get("delimiter"))
    customers, crep = validate_entity(cm, raw, first, mapping, rejects)
    reports.append(crep)
    notes.extend(f"customers: {ours} = {value!r} on every row (a constant of the mapping)"
                 for ours, value in cm.constants.items())
    raw_kept = crep.raw

    if "signup_date" not in customers:  # tenure only (a single snapshot)
        if mapping.as_of_date is None:
            raise ImportFailed(f"{cm.file.name}: signup dates are derived from tenure_months and the as-of "
                               "date; set as_of_date in the mapping's [import] section.")
        missing_tenure = customers["tenure_months"].isna()
        customers = _reject_rows(customers, missing_tenure, crep, first, "tenure_months",
                                 "missing value in a required column", rejects)
        as_of_ts = pd.Timestamp(mapping.as_of_date)
        customers["signup_date"] = [as_of_ts - pd.DateOffset(months=int(m)) for m in customers["tenure_months"]]
        customers["signup_date"] = pd.to_datetime(customers["signup_date"])
        guesses.append(f"signup dates of {len(customers):,} customers derived as the as-of date minus their "
                       "tenure in months (the export has no signup dates)")
    if "tenure_months" in customers:
        customers = customers.drop(columns="tenure_months")
    # ids: whole numbers stay; otherwise number them in file order, keep the original
    ids = customers["customer_id"]
    as_int = pd.to_numeric(ids, errors="coerce")
    all_ids = _id_text(raw[cm.columns.get("customer_id", "customer_id")]).dropna()
    text_ids = pd.to_numeric(all_ids, errors="coerce").isna().any() or not (
        as_int.dropna() == np.floor(as_int.dropna())).all()
    if text_ids:
        id_of = {source: n for n, source in enumerate(all_ids.drop_duplicates(), start=1)}
        notes.append("customer ids are text: numbered 1, 2, … in file order; the original id is in "
                     "table customer_source_ids (customer_id, source_id)")
    else:
        id_of = {source: int(float(source)) for source in all_ids.drop_duplicates()}
    source_of = customers["customer_id"]
    customers["customer_id"] = source_of.map(id_of).astype("Int64")

    # churn: a date, a flag, or both (they must agree)
    if "churn_date" in customers:
        order_bad = customers["churn_date"].notna() & (customers["churn_date"] < customers["signup_date"])
        if cm.options.get("churn_before_signup", "reject") == "keep":
            if order_bad.any():
                crep.warnings["churn date before signup date (kept: churn_before_signup = \"keep\")"] = int(order_bad.sum())
        else:
            customers = _reject_rows(customers, order_bad, crep, first, "churn_date",
                                     "churn date before signup date", rejects)
    if "churned" in customers:
        flag = customers["churned"]
        if "churn_date" in customers:
            clash = (flag == False) & customers["churn_date"].notna()  # noqa: E712 (nullable boolean)
            customers = _reject_rows(customers, clash.fillna(False), crep, first, "churned",
                                     "flagged not churned but has a churn date", rejects)
    if "churn_date" not in customers and "churned" not in customers:
        guesses.append("no churn date or churned flag mapped: every customer is taken as active")
    kept_ids = set(customers["customer_id"].dropna().astype(int))
    rejected_ids = set(id_of.values()) - kept_ids

    dates_seen: list[pd.Series] = [customers["signup_date"]]
    if "churn_date" in customers:
        dates_seen.append(customers["churn_date"])

    def resolve(frame: pd.DataFrame, rep: FileReport, first_row: int) -> pd.DataFrame:
        src = frame["customer_id"]
        cid = src.map(id_of)
        frame = frame.assign(customer_id=cid)
        frame = _reject_rows(frame, cid.isna(), rep, first_row, "customer_id",
                             "customer not in the customers file", rejects, values=src)
        dropped = frame["customer_id"].isin(rejected_ids)
        frame = _reject_rows(frame, dropped, rep, first_row, "customer_id",
                             "customer was rejected (see the customers file's rejects)", rejects, values=src)
        frame["customer_id"] = frame["customer_id"].astype("Int64")
        return frame

    def load_dependent(entity: str) -> tuple[pd.DataFrame | None, FileReport | None, int]:
        em = mapping.entities.get(entity)
        if em is None:
            return None, None, 0
        raw_e, first_e = read_source(em.file, em.sheet, em.options.get("delimiter"))
        frame, rep = validate_entity(em, raw_e, first_e, mapping, rejects)
        reports.append(rep)
        notes.extend(f"{entity}: {ours} = {value!r} on every row (a constant of the mapping)"
                     for ours, value in em.constants.items())
        return resolve(frame, rep, first_e), rep, first_e

    touchpoints, trep, tfirst = load_dependent("touchpoints")
    if touchpoints is not None:
        if "touchpoint_id" not in touchpoints:
            touchpoints["touchpoint_id"] = pd.array(touchpoints.index + 1, dtype="Int64")
            notes.append("touchpoints have no id column: numbered by their row order")
        else:
            missing_id = touchpoints["touchpoint_id"].isna()
            touchpoints = _reject_rows(touchpoints, missing_id, trep, tfirst, "touchpoint_id",
                                       "missing value in a required column", rejects)
            dup = touchpoints["touchpoint_id"].duplicated(keep=False)
            touchpoints = _reject_rows(touchpoints, dup, trep, tfirst, "touchpoint_id",
                                       "duplicate id (every row with this id is rejected)", rejects)
        if "related_touchpoint_id" in touchpoints:
            rel = touchpoints["related_touchpoint_id"]
            dangling = rel.notna() & ~rel.isin(touchpoints["touchpoint_id"])
            touchpoints = _reject_rows(touchpoints, dangling.fillna(False), trep, tfirst,
                                       "related_touchpoint_id", "related touchpoint not in the touchpoints file",
                                       rejects)
        dates_seen.append(touchpoints["occurred_at"].dt.normalize())

    revenue, rrep, rfirst = load_dependent("revenue")
    if revenue is not None:
        shape = mapping.entities["revenue"].shape
        if shape == "monthly":
            not_first = revenue["month"].dt.day != 1
            revenue = _reject_rows(revenue, not_first, rrep, rfirst, "month",
                                   "month is not the first day of a month", rejects)
            dup = revenue.duplicated(["customer_id", "month"], keep=False)
            revenue = _reject_rows(revenue, dup, rrep, rfirst, "month",
                                   "duplicate customer and month (every such row is rejected)", rejects)
            dates_seen.append(revenue["month"])
        elif shape == "subscriptions":
            backwards = revenue["end"].notna() & (revenue["end"] <= revenue["start"])
            revenue = _reject_rows(revenue, backwards, rrep, rfirst, "end",
                                   "subscription ends on or before its start", rejects)
            dates_seen += [revenue["start"], revenue["end"]]
        else:
            dates_seen.append(revenue["date"])

    purchases, prep_, pfirst = load_dependent("purchases")
    if purchases is not None:
        dates_seen.append(purchases["date"])

    # dates: the as-of date and history start from the mapping, else from the data (guesses)
    seen = pd.concat([d.dropna() for d in dates_seen if len(d)], ignore_index=True)
    if mapping.as_of_date is not None:
        as_of = mapping.as_of_date
    elif len(seen):
        as_of = seen.max().date()
        guesses.append(f"as-of date {as_of} is the latest date in the data (set as_of_date in [import])")
    else:
        raise ImportFailed("no dates in the data and no as_of_date in the mapping's [import] section.")
    # rows dated after the as-of date are outside the history: rejected, never kept unseen
    after = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    if touchpoints is not None:
        touchpoints = _reject_rows(touchpoints, touchpoints["occurred_at"] >= after, trep, tfirst,
                                   "occurred_at", "dated after the as-of date", rejects)
        _finish_report(trep, len(touchpoints))
    if revenue is not None:
        column = {"monthly": "month", "subscriptions": "start", "invoices": "date"}[mapping.entities["revenue"].shape]
        revenue = _reject_rows(revenue, revenue[column] >= after, rrep, rfirst, column,
                               "dated after the as-of date", rejects)
        _finish_report(rrep, len(revenue))
    if purchases is not None:
        purchases = _reject_rows(purchases, purchases["date"] >= after, prep_, pfirst, "date",
                                 "dated after the as-of date", rejects)
        _finish_report(prep_, len(purchases))
    _finish_report(crep, len(customers))
    if mapping.history_start is not None:
        history_start = mapping.history_start
    else:
        history_start = seen.min().date() if len(seen) else as_of
        guesses.append(f"history start {history_start} is the earliest date in the data "
                       "(set history_start in [import] if your export starts later)")

    if "churned" in customers:
        no_date = customers["churned"].fillna(False).astype(bool)
        if "churn_date" in customers:
            no_date &= customers["churn_date"].isna()
        else:
            customers["churn_date"] = pd.Series(pd.NaT, index=customers.index, dtype="datetime64[ns]")
        if no_date.any():
            customers.loc[no_date, "churn_date"] = pd.Timestamp(as_of)
            guesses.append(f"{int(no_date.sum()):,} customers flagged churned without a churn date: "
                           f"churn date set to the as-of date {as_of}")
        customers = customers.drop(columns="churned")

    # margin: a column, the mapping's rate, or the default (a guess)
    info = {"schema_version": SCHEMA_VERSION, "as_of_date": as_of.isoformat(),
            "history_start": history_start.isoformat(), "imported_by": "analytics.load"}
    if mapping.currency:
        info["currency"] = str(mapping.currency)
    if "margin_rate" not in customers or customers["margin_rate"].isna().all():
        rate = mapping.margin_rate
        if rate is None:
            rate = DEFAULT_MARGIN_RATE
            info["margin_rate_guessed"] = "true"
            guesses.append(f"margin rate {rate:.0%} (default; set margin_rate in [import])")
        info["margin_rate"] = repr(float(rate))
        customers["margin_rate"] = float(rate)
    elif customers["margin_rate"].isna().any():
        rate = mapping.margin_rate if mapping.margin_rate is not None else DEFAULT_MARGIN_RATE
        n = int(customers["margin_rate"].isna().sum())
        customers["margin_rate"] = customers["margin_rate"].fillna(float(rate))
        (notes if mapping.margin_rate is not None else guesses).append(
            f"{n:,} customers without a margin rate get {rate:.0%}"
            + ("" if mapping.margin_rate is not None else " (default)"))
        if mapping.margin_rate is None:
            info["margin_rate_guessed"] = "true"
    elif mapping.margin_rate is not None:
        info["margin_rate"] = repr(float(mapping.margin_rate))

    monthly = None
    if revenue is not None:
        shape = mapping.entities["revenue"].shape
        if shape == "monthly":
            monthly = revenue[["customer_id", "month", "mrr"]]
        elif shape == "subscriptions":
            monthly = revenue_shapes.monthly_from_subscriptions(revenue, as_of)
            notes.append(f"monthly revenue derived from {len(revenue):,} subscription periods "
                         f"({len(monthly):,} month rows)")
        else:
            monthly = revenue_shapes.monthly_from_invoices(revenue, as_of)
            notes.append(f"monthly revenue derived from {len(revenue):,} invoices ({len(monthly):,} month rows)")
        if "monthly_revenue" not in customers:
            notes.append("customers.monthly_revenue taken from each customer's latest revenue month")
            latest = monthly.sort_values("month").groupby("customer_id")["mrr"].last()
            customers["monthly_revenue"] = customers["customer_id"].map(latest)

    # extra columns -> customer_attributes (long); ignored columns are listed, not dropped silently
    extra = crep.ignored_columns
    crep.ignored_columns = []
    attr_frames = []
    for column in extra:
        values = _as_text(raw_kept.loc[customers.index, column])
        present = ~_missing(values)
        attr_frames.append(pd.DataFrame({"customer_id": customers["customer_id"][present].to_numpy(),
                                         "attribute": column, "value": values[present].astype(str).to_numpy()}))
    attributes = (pd.concat(attr_frames, ignore_index=True) if attr_frames
                  else pd.DataFrame({"customer_id": pd.Series(dtype="Int64"), "attribute": pd.Series(dtype=object),
                                     "value": pd.Series(dtype=object)}))
    if extra:
        notes.append(f"extra customer columns kept as custom attributes (table customer_attributes): "
                     f"{', '.join(extra)}")
    source_ids = None
    if text_ids:
        source_ids = pd.DataFrame({"customer_id": customers["customer_id"].to_numpy(),
                                   "source_id": source_of.loc[customers.index].to_numpy()})
    if purchases is not None:
        purchases = purchases.rename(columns={"date": "purchase_date"})
        notes.append("purchase log stored in table purchases (customer_id, purchase_date, amount): "
                     "the data model has no purchase-log table of its own")
    return _Prepared(customers, attributes, source_ids, touchpoints, monthly, purchases, info)


# --------------------------------------------------------------------------- writing
EXTRA_TABLES = ("customer_attributes", "customer_source_ids", "purchases")


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    con.execute(create_table_sql(table, columns))
    if frame is None or not len(frame):
        return
    frame = frame[[c for c in columns if c in frame.columns]].reset_index(drop=True)
    con.register("import_batch", frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        casts = ", ".join(f'cast("{c}" as {columns[c]}) as "{c}"' for c in frame.columns)
        con.execute(f'insert into "{table}" ({cols}) select {casts} from import_batch')
    finally:
        con.unregister("import_batch")


def write_database(prepared: _Prepared, path: Path) -> None:
    """Write the prepared tables into a new DuckDB file at `path` (which must not exist)."""
    con = duckdb.connect(str(path))
    try:
        customers = prepared.customers.sort_values("customer_id")
        _insert(con, "customers", customers, TABLES["customers"])
        tp = prepared.touchpoints
        _insert(con, "touchpoints", None if tp is None else tp.sort_values("touchpoint_id"), TABLES["touchpoints"])
        rev = prepared.revenue
        _insert(con, "monthly_revenue", None if rev is None else rev.sort_values(["month", "customer_id"]),
                TABLES["monthly_revenue"])
        _insert(con, "schema_info", pd.DataFrame(list(prepared.info.items()), columns=["key", "value"]),
                TABLES["schema_info"])
        if len(prepared.attributes):
            _insert(con, "customer_attributes", prepared.attributes, OPTIONAL_TABLES["customer_attributes"])
        if prepared.source_ids is not None:
            _insert(con, "customer_source_ids", prepared.source_ids, OPTIONAL_TABLES["customer_source_ids"])
        if prepared.purchases is not None:
            _insert(con, "purchases", prepared.purchases, OPTIONAL_TABLES["purchases"])
        for table in REQUIRED_TABLES:  # present even when the export had no such file
            con.execute(create_table_sql(table, TABLES[table]))
        con.execute("checkpoint")
    finally:
        con.close()


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


def _spreadsheet_safe(value):
    """A rejected cell as text a spreadsheet shows and never runs: a value starting with
    = + - @ (a formula) gets a leading apostrophe, unless it is just a signed number."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


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
    rejects, reports, guesses, notes = _Rejects(), [], [], []
    say("reading and validating the files")
    prepared = prepare(mapping, rejects, reports, guesses, notes)
    report = ImportReport(reports, guesses, notes, accepted=False, out=out, max_reject_share=threshold)
    if rejects_path is None:
        out.parent.mkdir(parents=True, exist_ok=True)
        rejects_path = out.with_name(out.name + ".rejects.csv")
    frame = rejects.frame()
    if len(frame):
        order = {f.file: n for n, f in enumerate(reports)}
        frame = (frame.assign(_f=frame["file"].map(order)).sort_values(["_f", "row"], kind="stable")
                 .drop(columns="_f"))
        # a cell starting with = + - @ would run as a formula in a spreadsheet: quote it
        frame["value"] = frame["value"].map(_spreadsheet_safe)
        frame.to_csv(rejects_path, index=False)
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
    tmp = out.with_name(f".{out.name}.import-{os.getpid()}.tmp")
    try:
        for stale in (tmp, Path(f"{tmp}.wal")):
            stale.unlink(missing_ok=True)
        say("writing the new database")
        write_database(prepared, tmp)
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
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
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


def distinct_values(frame: pd.DataFrame, column: str, limit: int = 50) -> list[str]:
    """The most frequent values of a column as text (at most `limit`), most frequent first."""
    text = _as_text(frame[column])
    return [str(v) for v in text[~_missing(text)].value_counts().index[:limit]]


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
    args = parser.parse_args(argv)
    if args.out is None:
        from analytics.config import database_path

        args.out = database_path()
    try:
        mapping = read_mapping(args.mapping)
        report = run_import(mapping, args.out, args.max_reject_share,
                            progress=lambda msg: print(f"... {msg}", file=sys.stderr, flush=True))
    except ImportFailed as err:
        print(f"import failed: {err} Nothing was changed.", file=sys.stderr)
        return 1
    print(report)
    if not report.accepted:
        print(f"import refused: {report.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
