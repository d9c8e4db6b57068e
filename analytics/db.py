"""The one place that opens the Retention Radar database: a DuckDB file (the default) or
the same tables on Spark (`[engine] kind = "spark"`; `open_engine` chooses by config,
docs/decisions/017-engine-seam-duckdb-and-spark.md).

`Database` is the engine-neutral interface the analytics use (Ibis tables and backend,
`schema_info`, `has_table`, `transaction`). The dashboard opens the data read-only. A
`DuckDBDatabase` owns one DuckDB connection and hands every thread its own cursor (and an
Ibis backend over another cursor): duckdb 2.x refuses concurrent calls on one connection
("connection is busy with another call"), while cursors of one connection share the
database and its cache and may run in parallel. A `SparkDatabase` holds one SparkSession
for all threads (a session is thread-safe).

Every failure to open is raised as a `DatabaseError` subclass whose message tells the user
what is wrong and what to do, so the pages can show it instead of a traceback. Opening
never writes: a missing, locked, corrupt or wrong-version file is left exactly as it was.

Opening checks what an import guarantees, so a page never meets a file it cannot read:
the path is a file (not a directory) whose header says DuckDB — read *before* connecting,
because DuckDB hands an SQLite file to its sqlite extension and tries to download it —
the required tables and columns exist with the types `analytics.schema` gives (within the
compatible family, see `TYPE_FAMILIES`), and `schema_info` carries `as_of_date` (and
`history_start` when present) as ISO dates.
"""

from __future__ import annotations

import atexit
import shutil
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis

from analytics.schema import REQUIRED_TABLES, SCHEMA_VERSION, TABLES, ibis_schema


class DatabaseError(Exception):
    """Base class: the database cannot be used; `str(err)` is a user-facing message."""


class DatabaseMissing(DatabaseError):
    """No file at the configured path."""


class DatabaseLocked(DatabaseError):
    """Another process holds DuckDB's write lock on the file."""


def writer_locked_message(action: str, command: str, path, err: DatabaseError) -> str:
    """What a command that writes the file (`python -m <command>`, which `action`s) says
    when another program has it open: who most likely holds it and what to do."""
    return (f"Cannot {action}: {path} is open in another program (DuckDB lets one program write, "
            "and no one else may have it open meanwhile) — most likely the dashboard. Stop it "
            f"(Ctrl+C in its terminal), run `python -m {command}` again, then restart the "
            f"dashboard. Nothing was changed. ({err})")


class DatabaseCorrupt(DatabaseError):
    """The file is not a readable DuckDB database."""


class SchemaMismatch(DatabaseError):
    """The file is a DuckDB database but not one of ours, or of another schema version, or
    a required column has the wrong type, or `schema_info` lacks a readable as-of date."""


class DatabaseIsDirectory(DatabaseError):
    """The configured path is a directory, not a database file."""


class NotDuckDB(DatabaseCorrupt):
    """The file exists but its header is not DuckDB's (an SQLite file, a Parquet or CSV
    export, ...); recognised from its first bytes, without connecting."""


# A DuckDB database file carries the magic bytes "DUCK" at offset 8 (after the checksum of
# its main header). Other formats users point us at, by their first bytes.
DUCKDB_MAGIC = (8, b"DUCK")
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook is one)"),
)


def _check_file_format(path: Path) -> None:
    """Raise `NotDuckDB` unless `path` starts with DuckDB's header. Reads 16 bytes only:
    connecting to a foreign file makes DuckDB guess its format (an SQLite file makes it
    download the sqlite extension), so the header is judged first."""
    with path.open("rb") as f:
        head = f.read(16)
    offset, magic = DUCKDB_MAGIC
    if head[offset:offset + len(magic)] == magic:
        return
    what = next((name for prefix, name in _OTHER_FORMATS if head.startswith(prefix)), None)
    if not head:
        what = "an empty file"
    fix = ("Point RETENTION_DB at a Retention Radar DuckDB file, or regenerate the sample with "
           "`make sample`. Nothing was read beyond its first bytes and nothing was changed.")
    if what is None:
        raise NotDuckDB(f"{path} is not a readable DuckDB database: it does not start with DuckDB's "
                        f"file header. {fix}")
    if what == "an empty file":
        raise NotDuckDB(f"{path} is an empty file, not a DuckDB database. {fix}")
    raise NotDuckDB(
        f"{path} is {what}, not a DuckDB database. Retention Radar reads a DuckDB file in its "
        "data model (docs/data-model.md): import your data into one, then point RETENTION_DB "
        f"at it. {fix.split('. ', 1)[1]}")


# Compatible DuckDB types per family (information_schema.columns.data_type). A required
# column's type must be in the family of its type in `analytics.schema.TABLES`; within a
# family the analytics work unchanged (e.g. INTEGER for BIGINT ids, INTEGER for a DOUBLE
# amount). Deliberately strict where a neighbour breaks a page: a TIMESTAMP signup_date
# passes the Overview but fails the survival curve (Ibis date arithmetic wants DATE), a
# DATE occurred_at has no time of day, DECIMAL sums come back as Python Decimals.
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
             "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
TYPE_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    # schema type -> (what the message calls it, accepted data_type values)
    "BIGINT": ("a whole number (BIGINT)", _INTEGERS),
    "INTEGER": ("a whole number (INTEGER)", _INTEGERS),
    "TINYINT": ("a whole number (TINYINT)", _INTEGERS),
    "DOUBLE": ("a number (DOUBLE)", _INTEGERS + ("FLOAT", "DOUBLE")),
    "DATE": ("a DATE", ("DATE",)),
    "TIMESTAMP": ("a TIMESTAMP", ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")),
    "BOOLEAN": ("a BOOLEAN (true/false)", ("BOOLEAN",)),
    "VARCHAR": ("text (VARCHAR)", ("VARCHAR",)),
}


def _type_fix(table: str, column: str, found: str, wanted: str) -> str:
    """What to do about one wrongly typed column: re-import, or the cast that fixes it."""
    alter = f'ALTER TABLE {table} ALTER {column} TYPE {wanted}'
    if wanted == "DATE" and found == "VARCHAR":
        return (f"Re-import with the date format set, or cast it: `{alter} USING "
                f"strptime({column}, '%d/%m/%Y')::DATE` (with your text's format)")
    if wanted in ("BIGINT", "INTEGER", "TINYINT") and found == "VARCHAR":
        return (f"Re-import with the text values mapped to numbers (ids must be whole numbers), "
                f"or cast it if they are digits: `{alter}`")
    return f"Re-import it with that type, or cast it: `{alter}`"


def _column_type_problems(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    found = dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'main' and table_name = ?", [table]).fetchall())
    problems = []
    for column, wanted in TABLES[table].items():
        name, accepted = TYPE_FAMILIES[wanted]
        have = found.get(column)
        if have is not None and have not in accepted:
            problems.append(f"{table}.{column} is {have}; it must be {name}. "
                            f"{_type_fix(table, column, have, wanted)}.")
    return problems


def _schema_info_dates(info: dict[str, str], path: Path) -> None:
    """`as_of_date` present and an ISO date; `history_start`, when present, too, and not
    after the as-of date."""
    fix = ("Every page measures up to the as-of date (the last day the data covers). "
           "Re-import, or add it with the dashboard stopped: "
           "`INSERT INTO schema_info VALUES ('as_of_date', 'YYYY-MM-DD')`.")
    raw = info.get("as_of_date")
    if raw is None:
        raise SchemaMismatch(f"{path}: schema_info has no as_of_date. {fix}")
    parsed: dict[str, date] = {}
    for key in ("as_of_date", "history_start"):
        value = info.get(key)
        if value is None:
            continue
        try:
            parsed[key] = date.fromisoformat(str(value))  # as dashboard.data reads it
        except ValueError:
            raise SchemaMismatch(
                f"{path}: schema_info.{key} is {value!r}, not a date in YYYY-MM-DD form. "
                f"Re-import, or correct it: `UPDATE schema_info SET value = 'YYYY-MM-DD' "
                f"WHERE key = '{key}'`.") from None
    if "history_start" in parsed and parsed["history_start"] > parsed["as_of_date"]:
        raise SchemaMismatch(
            f"{path}: schema_info.history_start ({parsed['history_start']}) is after as_of_date "
            f"({parsed['as_of_date']}); the history must start on or before the as-of date. "
            "Re-import, or correct the two rows of schema_info.")


def _classify_open_error(path: Path, err: duckdb.Error) -> DatabaseError:
    text = str(err)
    lowered = text.lower()
    if "lock" in lowered:
        return DatabaseLocked(
            f"The database {path} is locked by another program (DuckDB allows one writer). "
            "Close the program that has it open for writing — for example a running "
            "generator or scoring job — and reload this page."
        )
    return DatabaseCorrupt(
        f"{path} is not a readable DuckDB database ({text.splitlines()[0]}). "
        "Point RETENTION_DB at a valid file, or regenerate the sample with "
        "`make sample`."
    )


# Every DuckDB connection this process opened and has not closed, closed at interpreter
# exit (`close_at_exit`). Why: a connection that holds a Python object — a table Ibis
# registered on it, a Python function — which leads back to the connection forms a cycle
# through C++ that Python's garbage collector cannot see, so it is never freed, and
# DuckDB's bindings (nanobind) print "leaked instance ... DuckDBPyConnection /
# DuckDBPyType" lines at exit (~44 after a green `pytest`). Closing the connection drops
# what it holds and breaks the cycle. Weak references: this keeps nothing alive.
_OPEN_CONNECTIONS: "weakref.WeakSet[duckdb.DuckDBPyConnection]" = weakref.WeakSet()


def close_at_exit(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Remember `con` (a connection or cursor) to close at interpreter exit; returns it."""
    _OPEN_CONNECTIONS.add(con)
    return con


@atexit.register
def close_open_connections() -> None:
    """Close every connection `close_at_exit` remembered (cursors before their connection:
    the newest first). Safe to call twice; a connection already closed is skipped."""
    for con in reversed(list(_OPEN_CONNECTIONS)):
        try:
            con.close()
        except Exception:  # closing at exit: nothing left to report to
            pass
    _OPEN_CONNECTIONS.clear()


class Database:
    """An open database, whatever the engine: Ibis tables, `schema_info`, and the facts a
    read-only file cannot change. Analytics code uses only this interface — `table`,
    `ibis` (the Ibis backend: `to_pandas`, `create_table`, `insert`, `list_tables`),
    `has_table`, `schema_info`, `transaction` with `drop_tables`, `create_table` and
    `replace_rows`, `close` — so it runs on every engine.

    `DuckDBDatabase` (a DuckDB file, the default) and `SparkDatabase` (Parquet files or
    catalog tables in a Spark session, `[engine] kind = "spark"`) implement it; what only
    one engine has (DuckDB's cursor, write lock and checkpoint) stays on that class."""

    kind: str = "?"
    path: Path
    read_only: bool
    read_only_facts: dict

    def ibis(self) -> ibis.BaseBackend:  # pragma: no cover - abstract
        raise NotImplementedError

    def _table_cache(self) -> dict[str, ibis.Table]:  # pragma: no cover - abstract
        raise NotImplementedError

    def table(self, name: str) -> ibis.Table:
        """The Ibis table expression for `name`. Cached: building one asks the engine for the
        schema (≈ 3 ms on DuckDB), and a page builds 20–40 of them. Tables do not change
        shape while a read-only dashboard has the data open; a writer that alters a table
        through this object calls `forget_tables()`."""
        tables = self._table_cache()
        table = tables.get(name)
        if table is None:
            table = tables[name] = self.ibis().table(name)
        return table

    def forget_tables(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def table_names(self) -> list[str]:
        """Every table (and view) the analytics can read, sorted."""
        return sorted(self.ibis().list_tables())

    def has_table(self, name: str) -> bool:
        """Whether the (optional) table `name` exists, e.g. ``churn_scores``."""
        return name in self.table_names()

    def schema_info(self) -> dict[str, str]:
        """The key/value rows of `schema_info` (schema_version, as_of_date, seed, ...)."""
        frame = self.ibis().to_pandas(self.table("schema_info").select("key", "value"))
        return {k: (None if v is None or v != v else str(v))
                for k, v in zip(frame["key"], frame["value"])}

    @contextmanager
    def transaction(self) -> Iterator[ibis.BaseBackend]:  # pragma: no cover - abstract
        """An Ibis backend whose writes (create_table, insert, drop_table) land together
        where the engine can promise it; see each engine's notes."""
        raise NotImplementedError
        yield

    def drop_tables(self, backend: ibis.BaseBackend, *names: str) -> None:  # pragma: no cover
        """Drop the tables `names` that exist, through `backend` (a `transaction()`'s)."""
        raise NotImplementedError

    def create_table(self, backend: ibis.BaseBackend, name: str, expr: ibis.Table) -> ibis.Table:  # pragma: no cover
        """Store `expr` as the table `name` (dropped before by `drop_tables`) through
        `backend` (a `transaction()`'s); return it."""
        raise NotImplementedError

    def add_columns(self, backend: ibis.BaseBackend, table: str, columns: dict[str, str]) -> None:  # pragma: no cover
        """Add nullable `columns` (name -> SQL type as in `analytics.schema`) to `table`."""
        raise NotImplementedError

    def delete_rows(self, backend: ibis.BaseBackend, table: str, column: str, values) -> None:  # pragma: no cover
        """Delete the rows of `table` whose `column` is one of `values` (Ibis has no DELETE)."""
        raise NotImplementedError

    def replace_rows(self, backend: ibis.BaseBackend, table: str, columns: dict[str, str], column: str,
                     values, rows: ibis.Table) -> None:
        """Replace the rows of `table` whose `column` is one of `values` by `rows`, through
        `backend` (a `transaction()`'s), in the layout `columns` (name -> SQL type as in
        `analytics.schema`): the table is created when missing, given the columns it lacks
        (nullable, so old rows stay valid), and `rows` are cast to the layout. Rows whose
        `column` is NULL are kept. Here: create, `add_columns`, `delete_rows`, `insert`."""
        schema = ibis_schema(columns)
        if not self.has_table(table):
            backend.create_table(table, schema=schema)
        else:
            have = backend.table(table).columns
            self.add_columns(backend, table, {c: t for c, t in columns.items() if c not in have})
        self.delete_rows(backend, table, column, values)
        backend.insert(table, rows.select(**{c: rows[c].cast(schema[c]) for c in schema}))

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(eq=False)
class DuckDBDatabase(Database):
    """A DuckDB file: one connection, a cursor and an Ibis backend per thread.

    Per thread: duckdb refuses concurrent calls on one connection ("connection is busy
    with another call"), while cursors of one connection share the database and its cache
    and may run in parallel; so every thread gets its own cursor and its own Ibis backend
    over a second cursor (created on first use, then reused by that thread).

    DuckDB-only conveniences live here and nowhere else: `cursor()` (raw SQL, for tests
    and the generator), the read-only open and the write lock (`open_database`), and
    `checkpoint()`."""

    path: Path
    read_only: bool
    connection: duckdb.DuckDBPyConnection
    _local: threading.local = field(default_factory=threading.local, repr=False)
    # Facts about the file that cannot change while a read-only connection holds it (DuckDB
    # admits no writer meanwhile), e.g. whether the rollups are fresh; shared by threads.
    read_only_facts: dict = field(default_factory=dict, repr=False)
    kind: str = "duckdb"
    _cursors: "weakref.WeakSet[duckdb.DuckDBPyConnection]" = field(default_factory=weakref.WeakSet, repr=False)

    def __post_init__(self) -> None:
        close_at_exit(self.connection)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's own cursor (created on first use, then reused by the thread)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._remember(self.connection.cursor())
            self._local.cursor = cur
        return cur

    def _remember(self, cur: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """A cursor of this database: closed by `close()` (and at exit, `close_at_exit`),
        whichever thread made it — a thread's local cursor outlives nothing else."""
        self._cursors.add(cur)
        return close_at_exit(cur)

    def ibis(self) -> ibis.BaseBackend:
        """This thread's Ibis backend, on a second cursor of its own for this thread."""
        backend = getattr(self._local, "ibis", None)
        if backend is None:
            # its own cursor: a raw query left half-fetched on `cursor()` must not block Ibis
            backend = ibis.duckdb.from_connection(self._remember(self.connection.cursor()))
            self._local.ibis = backend
        return backend

    def _table_cache(self) -> dict[str, ibis.Table]:
        tables = getattr(self._local, "tables", None)
        if tables is None:
            tables = self._local.tables = {}
        return tables

    def forget_tables(self) -> None:
        """Drop this thread's cached table expressions (after DDL through this object)."""
        self._local.tables = {}

    # Ibis 12's DuckDB `list_tables` calls `fetch_arrow_table`, which duckdb 2.0 removed;
    # the catalog is asked directly (the same answer, for the main schema).
    def table_names(self) -> list[str]:
        rows = self.cursor().execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "order by table_name").fetchall()
        return [r[0] for r in rows]

    def has_table(self, name: str) -> bool:
        # a read-only file cannot gain or lose a table while open: asked once per name (the
        # purchase reads and the at-risk checks ask on every call)
        known = self.read_only_facts.setdefault("tables present", {}) if self.read_only else {}
        if name not in known:
            rows = self.cursor().execute(
                "select 1 from information_schema.tables where table_name = ?", [name]).fetchall()
            known[name] = bool(rows)
        return known[name]

    @contextmanager
    def transaction(self) -> Iterator[ibis.BaseBackend]:
        """An Ibis backend on a fresh cursor inside one DuckDB transaction: everything
        written through it commits together, or not at all when the block raises."""
        cur = self.connection.cursor()
        cur.execute("begin transaction")
        try:
            yield ibis.duckdb.from_connection(cur)
            cur.execute("commit")
        except BaseException:
            cur.execute("rollback")
            raise
        finally:
            self.forget_tables()
            cur.close()  # with what Ibis registered on it (the written batches)

    # Ibis 12's `drop_table` (and `create_table(overwrite=True)`) emit a bare "DROP TABLE"
    # with sqlglot 30; the statement is written here, on the transaction's own connection.
    def drop_tables(self, backend: ibis.BaseBackend, *names: str) -> None:
        for name in names:
            backend.con.execute(f'drop table if exists "{_identifier(name)}"')

    def create_table(self, backend: ibis.BaseBackend, name: str, expr: ibis.Table) -> ibis.Table:
        return backend.create_table(name, expr)

    def add_columns(self, backend: ibis.BaseBackend, table: str, columns: dict[str, str]) -> None:
        for column, dtype in columns.items():
            backend.con.execute(f'alter table "{_identifier(table)}" add column "{_identifier(column)}" {dtype}')

    def delete_rows(self, backend: ibis.BaseBackend, table: str, column: str, values) -> None:
        for value in values:
            backend.con.execute(f'delete from "{_identifier(table)}" where "{_identifier(column)}" = ?', [value])

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file now rather than at the next open."""
        self.cursor().execute("checkpoint")

    def close(self) -> None:
        """Close every thread's cursors, then the connection (what they hold goes with them)."""
        for cur in list(self._cursors):
            try:
                cur.close()
            except duckdb.Error:
                pass
        self._cursors.clear()
        self.connection.close()


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Raise `SchemaMismatch` naming what is missing or incompatible; return schema_info.

    Checked in order: the required tables exist; ``schema_version`` matches; ``as_of_date``
    (and ``history_start`` when present) are ISO dates, history_start ≤ as_of_date; every
    required column exists; every required column's type is in the family of its type in
    `analytics.schema.TABLES` (`TYPE_FAMILIES`) — all wrong types named in one message."""
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    }
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise SchemaMismatch(
            f"{path} is not a Retention Radar database: missing table(s) "
            f"{', '.join(missing)}. See docs/data-model.md for the expected tables."
        )
    info = dict(con.execute("select key, value from schema_info").fetchall())
    version = info.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaMismatch(
            f"{path} has schema version {version or 'none'}, this version of Retention "
            f"Radar reads version {SCHEMA_VERSION}. Regenerate it with `make sample` or "
            "migrate it as described in docs/data-model.md."
        )
    _schema_info_dates(info, path)
    for table in REQUIRED_TABLES:
        cols = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_name = ?",
                [table],
            ).fetchall()
        }
        absent = [c for c in TABLES[table] if c not in cols]
        if absent:
            raise SchemaMismatch(
                f"{path}: table {table} lacks column(s) {', '.join(absent)} "
                "required by schema version "
                f"{SCHEMA_VERSION} (docs/data-model.md)."
            )
    problems = [p for table in REQUIRED_TABLES for p in _column_type_problems(con, table)]
    if problems:
        raise SchemaMismatch(
            f"{path} has column(s) of the wrong type: " + " ".join(problems)
            + " Nothing was changed. To cast, stop the dashboard and run the statement in DuckDB "
            "on the file (or on a copy).")
    return info


def open_database(path: str | Path, read_only: bool = True) -> Database:
    """Open and validate the database at `path`.

    Raises `DatabaseMissing`, `DatabaseIsDirectory`, `DatabaseLocked`, `DatabaseCorrupt`
    (`NotDuckDB` for another file format, judged from its header before connecting) or
    `SchemaMismatch`; never creates or modifies a file when `read_only` (the dashboard's mode).
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseIsDirectory(
            f"{path} is a directory, not a database file. Set RETENTION_DB (or [database] path "
            "in retention.toml) to the DuckDB file itself (a file inside it, e.g. "
            f"{path / 'sample.duckdb'}). Nothing was changed.")
    if not path.is_file():
        raise DatabaseMissing(
            f"No database at {path}. Generate the sample with `make sample` (or the "
            "button below), or set RETENTION_DB to your own DuckDB file."
        )
    try:
        _check_file_format(path)
    except OSError as err:
        raise DatabaseCorrupt(f"{path} could not be read ({err}). Check its permissions, or point "
                              "RETENTION_DB at another file.") from err
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as err:
        raise _classify_open_error(path, err) from err
    try:
        check_schema(con, path)
    except duckdb.Error as err:
        con.close()
        raise DatabaseCorrupt(f"{path} could not be read: {err}") from err
    except SchemaMismatch:
        con.close()
        raise
    return DuckDBDatabase(path=path, read_only=read_only, connection=con)


# --- Spark ---------------------------------------------------------------------------------

class SparkDatabase(Database):
    """The data model in a Spark session, through Ibis's pyspark backend.

    Each table of `[engine.tables]` is a Parquet file or directory (registered as a
    temporary view of that name) or a catalog table name (a temporary view over it), so
    the analytics see the same table names as in a DuckDB file.

    One session and one Ibis backend for the process: a SparkSession is thread-safe (each
    query is its own job), so unlike DuckDB there is no per-thread handle. Spark has no
    transactions: `transaction()` yields the backend and a failed rollup build can leave
    part of the tables written (the freshness check then refuses them).

    Writes (`create_table`, `replace_rows`, `delete_rows`, `add_columns`) write the whole
    table as Parquet in `output` (`write_table`); `open_spark` reads tables written there
    before."""

    kind = "spark"

    def __init__(self, path: Path, backend: ibis.BaseBackend, read_only: bool = True,
                 owns_session: bool = True, output: Path | None = None):
        self.path = path  # the config file (for messages and cache keys)
        self.output = output  # the folder tables written on Spark go to (`write_table`)
        self.read_only = read_only
        self.read_only_facts: dict = {}
        self._backend = backend
        self._tables: dict[str, ibis.Table] = {}
        self._owns_session = owns_session

    def ibis(self) -> ibis.BaseBackend:
        return self._backend

    def _table_cache(self) -> dict[str, ibis.Table]:
        return self._tables

    def forget_tables(self) -> None:
        self._tables = {}

    @contextmanager
    def transaction(self) -> Iterator[ibis.BaseBackend]:
        try:
            yield self._backend
        finally:
            self.forget_tables()

    def drop_tables(self, backend: ibis.BaseBackend, *names: str) -> None:
        for name in names:
            backend.raw_sql(f"drop view if exists `{_identifier(name)}`")
            backend.raw_sql(f"drop table if exists `{_identifier(name)}`")

    # A Parquet view cannot be altered or deleted from in place: every write is the whole
    # new table, written by Spark as Parquet into the output folder (`write_table`).
    def add_columns(self, backend: ibis.BaseBackend, table: str, columns: dict[str, str]) -> None:
        if columns:
            old = backend.table(table)
            self.write_table(table, old.mutate(**{c: ibis.null().cast(ibis_schema(columns)[c]) for c in columns}))

    def create_table(self, backend: ibis.BaseBackend, name: str, expr: ibis.Table) -> ibis.Table:
        return self.write_table(name, expr)

    def delete_rows(self, backend: ibis.BaseBackend, table: str, column: str, values) -> None:
        old = backend.table(table)
        self.write_table(table, _rows_not_in(old, column, values))

    def replace_rows(self, backend: ibis.BaseBackend, table: str, columns: dict[str, str], column: str,
                     values, rows: ibis.Table) -> None:
        """One rewrite: (the old rows whose `column` is not in `values`, lacking columns as
        NULL) union all (`rows`), both cast to the layout, written by `write_table`."""
        schema = ibis_schema(columns)
        new = _conform(rows, schema)
        if self.has_table(table):
            new = _conform(_rows_not_in(backend.table(table), column, values), schema).union(new, distinct=False)
        self.write_table(table, new)

    def output_folder(self, what: str = "tables") -> Path:
        """The folder written tables go to, created if need be; `EngineConfigError` when
        there is none (catalog tables only and no `[engine] output`)."""
        if self.output is None:
            raise EngineConfigError(
                f"{self.path}: nowhere to write {what} on Spark: set [engine] output to a folder "
                "(written tables go there as <table>.parquet). Nothing was written.")
        folder = Path(self.output)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write_table(self, name: str, expr: ibis.Table) -> ibis.Table:
        """Write `expr` as the table `name`, replacing it: Spark writes Parquet to a staging
        folder in `output` (reading the old table's files while they are still in place),
        the folder is then renamed to `<output>/<name>.parquet` (the old one moved aside,
        then removed) and registered as the view `name`. Not atomic: a reader of the folder
        between the two renames finds no table. `output` is a local folder."""
        folder = self.output_folder(name)
        target = folder / f"{_identifier(name)}.parquet"
        token = uuid.uuid4().hex[:12]
        staging, aside = folder / f"_{name}.writing-{token}", folder / f"_{name}.replaced-{token}"
        self._backend.to_parquet(expr, staging)
        if target.exists():
            target.rename(aside)
        staging.rename(target)
        table = self._backend.read_parquet(str(target), table_name=name)
        if aside.is_dir():
            shutil.rmtree(aside)
        elif aside.exists():
            aside.unlink()
        self.forget_tables()
        self.read_only_facts.clear()
        return table

    def close(self) -> None:
        if self._owns_session:
            self._backend.disconnect()


def _rows_not_in(table: ibis.Table, column: str, values) -> ibis.Table:
    """The rows of `table` whose `column` is NULL or not one of `values` (what a SQL
    `delete ... where column = value` per value leaves)."""
    return table.filter(table[column].isnull() | ~table[column].isin(list(values)))


def _conform(table: ibis.Table, schema: dict[str, str]) -> ibis.Table:
    """`table` in the layout `schema`: its columns cast, a column it lacks as NULL."""
    return table.select(**{c: (table[c] if c in table.columns else ibis.null()).cast(dtype)
                           for c, dtype in schema.items()})


def _identifier(name: str) -> str:
    """`name` when it is a plain table name (letters, digits, underscores); DDL that Ibis
    cannot write takes only our own table names, never user text."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {name!r}")
    return name


class EngineConfigError(DatabaseError):
    """`[engine]` in the config file is incomplete or names something that is not there."""


_PARQUET_SUFFIXES = (".parquet", ".pq")


def _flatten(table: dict, prefix: str = "") -> dict:
    """TOML reads an unquoted `spark.sql.x = 1` as nested tables; Spark wants the dotted key."""
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def spark_session(spark_settings: dict):
    """A SparkSession from `[engine.spark]`: `master` (default "local[2]"), `app_name`,
    `log_level` (default "ERROR") and any `spark.*` key as Spark configuration. An existing
    session of this process is reused (`getOrCreate`)."""
    from pyspark.sql import SparkSession

    settings = _flatten(spark_settings)
    builder = SparkSession.builder.master(str(settings.pop("master", "local[2]")))
    builder = builder.appName(str(settings.pop("app_name", "retention-radar")))
    log_level = str(settings.pop("log_level", "ERROR"))
    # no progress bars on the terminal of `make run` or a command, unless asked for
    settings.setdefault("spark.ui.showConsoleProgress", "false")
    for key, value in settings.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(log_level)
    return session


def _parquet_location(location) -> Path | None:
    """The path an `[engine.tables]` entry names (relative to the project root), or None
    for a catalog table name: a path ends in .parquet/.pq, has a slash, or exists."""
    from analytics.config import _from_root

    location = str(location)
    path = _from_root(location)
    return path if location.endswith(_PARQUET_SUFFIXES) or "/" in location or path.exists() else None


def spark_output_folder(tables: dict[str, str], output: str | Path | None = None) -> Path | None:
    """Where tables written on Spark go: `[engine] output` (relative to the project root),
    else the folder of the `customers` Parquet (of the first Parquet table when customers
    is a catalog table), else None (nowhere: catalog tables only)."""
    from analytics.config import _from_root

    if output is not None:
        return _from_root(output)
    paths = {name: path for name, path in ((n, _parquet_location(loc)) for n, loc in tables.items())
             if path is not None}
    if not paths:
        return None
    return paths.get("customers", next(iter(paths.values()))).parent


def open_spark(tables: dict[str, str], spark_settings: dict | None = None, *, session=None,
               config_path: Path | None = None, read_only: bool = True,
               output: str | Path | None = None) -> SparkDatabase:
    """Open the data model on Spark and check it as `open_database` checks a file.

    `tables` maps each table name to a Parquet path (relative to the project root) or a
    catalog table name; `session` reuses an existing SparkSession (tests), else one is
    built from `spark_settings`. `output` is the folder tables written on Spark go to
    (`SparkDatabase.write_table`; default: the folder of the first Parquet table, the
    `customers` one when it is Parquet — next to the inputs); a table written there before,
    `<output>/<name>.parquet` for a table that is not required, is read in place of its
    `[engine.tables]` entry (it holds the later scores, model runs, ...). Raises
    `EngineConfigError` for a missing table location, `SchemaMismatch` as for a DuckDB file."""
    where = config_path or Path("[engine.tables]")
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise EngineConfigError(
            f"{where}: [engine.tables] lacks {', '.join(missing)}; give each table's Parquet path "
            "or catalog table name (`python -m analytics.engine export-parquet` writes both).")
    owns = session is None
    if session is None:
        session = spark_session(spark_settings or {})
    backend = ibis.pyspark.connect(session)
    parquet: dict[str, Path] = {}
    for name, location in tables.items():
        path = _parquet_location(location)
        if path is not None:
            if not path.exists():
                raise EngineConfigError(f"{where}: [engine.tables] {name} = {location!r}: no such file "
                                        f"or directory ({path}). Nothing was read.")
            parquet[name] = path
        else:
            backend.create_view(name, backend.table(str(location)), overwrite=True)
    folder = spark_output_folder(tables, output)
    if folder is not None and folder.is_dir():
        for written in sorted(folder.glob("*.parquet")):
            name = written.name[:-len(".parquet")]
            if name.replace("_", "").isalnum() and name not in REQUIRED_TABLES:
                parquet[name] = written
    for name, path in parquet.items():
        backend.read_parquet(str(path), table_name=name)
    db = SparkDatabase(where, backend, read_only=read_only, owns_session=owns, output=folder)
    check_ibis_schema(db, where)
    return db


# Ibis type families for the required columns on an engine without DuckDB's type names.
_IBIS_FAMILIES = {
    "BIGINT": "is_integer", "INTEGER": "is_integer", "TINYINT": "is_integer",
    "DOUBLE": "is_numeric", "DATE": "is_date", "TIMESTAMP": "is_timestamp",
    "BOOLEAN": "is_boolean", "VARCHAR": "is_string",
}


def check_ibis_schema(db: Database, where: Path) -> dict[str, str]:
    """`check_schema` through Ibis: required tables and columns, schema version, as-of
    dates, and each required column's type family (Ibis's type predicates)."""
    missing = [t for t in REQUIRED_TABLES if not db.has_table(t)]
    if missing:
        raise SchemaMismatch(f"{where}: missing table(s) {', '.join(missing)}. "
                             "See docs/data-model.md for the expected tables.")
    info = db.schema_info()
    version = info.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SchemaMismatch(f"{where} has schema version {version or 'none'}, this version of "
                             f"Retention Radar reads version {SCHEMA_VERSION}.")
    _schema_info_dates(info, where)
    problems = []
    for table in REQUIRED_TABLES:
        schema = db.table(table).schema()
        absent = [c for c in TABLES[table] if c not in schema]
        if absent:
            raise SchemaMismatch(f"{where}: table {table} lacks column(s) {', '.join(absent)} "
                                 f"required by schema version {SCHEMA_VERSION} (docs/data-model.md).")
        for column, wanted in TABLES[table].items():
            if not getattr(schema[column], _IBIS_FAMILIES[wanted])():
                problems.append(f"{table}.{column} is {schema[column]}; it must be {TYPE_FAMILIES[wanted][0]}.")
    if problems:
        raise SchemaMismatch(f"{where} has column(s) of the wrong type: " + " ".join(problems))
    return info


def open_engine(read_only: bool = True) -> Database:
    """The configured database: `open_spark` when `[engine] kind = "spark"`, else the
    DuckDB file `analytics.config.database_path()` names (`open_database`)."""
    from analytics import config

    try:
        engine = config.engine_settings()
    except ValueError as err:
        raise EngineConfigError(str(err)) from None
    if engine["kind"] == "spark":
        return open_spark(engine["tables"], engine["spark"], config_path=config.config_path(),
                          read_only=read_only, output=engine["output"])
    return open_database(config.database_path(), read_only=read_only)
