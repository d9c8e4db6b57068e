"""The one place that opens the Retention Radar DuckDB file.

The dashboard opens the file read-only. A `Database` owns one DuckDB connection and hands
every thread its own cursor (and an Ibis backend over that cursor): duckdb 2.x refuses
concurrent calls on one connection ("connection is busy with another call"), while
cursors of one connection share the database and its cache and may run in parallel.

Every failure to open is raised as a `DatabaseError` subclass whose message tells the user
what is wrong and what to do, so the pages can show it instead of a traceback. Opening
never writes: a missing, locked, corrupt or wrong-version file is left exactly as it was.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
from ibis.backends.duckdb import Backend as IbisDuckDBBackend

from analytics import compiled
from analytics.schema import REQUIRED_TABLES, SCHEMA_VERSION, TABLES


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
    """The file is a DuckDB database but not one of ours, or of another schema version."""


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


@dataclass
class Database:
    """An open database: one DuckDB connection, a cursor and Ibis backend per thread."""

    path: Path
    read_only: bool
    connection: duckdb.DuckDBPyConnection
    _local: threading.local = field(default_factory=threading.local, repr=False)
    # Facts about the file that cannot change while a read-only connection holds it (DuckDB
    # admits no writer meanwhile), e.g. whether the rollups are fresh; shared by threads.
    read_only_facts: dict = field(default_factory=dict, repr=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's own cursor (created on first use, then reused by the thread)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self.connection.cursor()
            self._local.cursor = cur
        return cur

    def ibis(self) -> IbisDuckDBBackend:
        """This thread's Ibis backend, on a second cursor of its own for this thread."""
        backend = getattr(self._local, "ibis", None)
        if backend is None:
            # its own cursor: a raw query left half-fetched on `cursor()` must not block Ibis
            # compiles each query shape once and binds filter values (analytics/compiled.py)
            backend = compiled.Backend.from_connection(self.connection.cursor())
            self._local.ibis = backend
        return backend

    def table(self, name: str) -> ibis.Table:
        """This thread's Ibis table expression for `name`. Kept per thread: building one
        asks DuckDB for the schema (≈ 3 ms), and a page builds 20–40 of them. Tables do not
        change shape while a read-only dashboard has the file open; a writer that alters a
        table through this object calls `forget_tables()`."""
        tables = getattr(self._local, "tables", None)
        if tables is None:
            tables = self._local.tables = {}
        table = tables.get(name)
        if table is None:
            table = tables[name] = self.ibis().table(name)
        return table

    def forget_tables(self) -> None:
        """Drop this thread's cached table expressions (after DDL through this object)."""
        self._local.tables = {}

    def has_table(self, name: str) -> bool:
        rows = self.cursor().execute(
            "select 1 from information_schema.tables where table_name = ?", [name]
        ).fetchall()
        return bool(rows)

    def schema_info(self) -> dict[str, str]:
        """The key/value rows of `schema_info` (schema_version, as_of_date, seed, ...)."""
        return dict(self.cursor().execute("select key, value from schema_info").fetchall())

    def close(self) -> None:
        self.connection.close()


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Raise `SchemaMismatch` naming what is missing or incompatible; return schema_info."""
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
    return info


def open_database(path: str | Path, read_only: bool = True) -> Database:
    """Open and validate the database at `path`.

    Raises `DatabaseMissing`, `DatabaseLocked`, `DatabaseCorrupt` or `SchemaMismatch`;
    never creates or modifies a file when `read_only` (the dashboard's mode).
    """
    path = Path(path)
    if not path.is_file():
        raise DatabaseMissing(
            f"No database at {path}. Generate the sample with `make sample` (or the "
            "button below), or set RETENTION_DB to your own DuckDB file."
        )
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
    return Database(path=path, read_only=read_only, connection=con)
