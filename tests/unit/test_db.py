"""The database seam: every way a file can be unusable is a `DatabaseError` with a message
that says what is wrong and what to do, opening never changes the file, read-only really is
read-only, threads get their own cursors, and the configured path resolves as documented."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from analytics import config
from analytics.db import (
    DatabaseCorrupt,
    DatabaseError,
    DatabaseIsDirectory,
    DatabaseLocked,
    DatabaseMissing,
    NotDuckDB,
    SchemaMismatch,
    open_database,
)
from analytics.schema import REQUIRED_TABLES, SCHEMA_VERSION
from tests.builders import build_database


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _customers(n: int) -> list[dict]:
    from datetime import date

    segments = ("consumer", "small_business", "enterprise")
    return [
        {"customer_id": i, "segment": segments[i % 3], "signup_date": date(2024, 1, 1 + i % 28)}
        for i in range(1, n + 1)
    ]


# ---------------------------------------------------------------------------- open errors
def test_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "radar.duckdb"
    with pytest.raises(DatabaseMissing) as exc:
        open_database(path)
    message = str(exc.value)
    assert str(path) in message
    assert "make sample" in message and "RETENTION_DB" in message
    assert not path.exists() and not path.parent.exists()


def test_random_bytes_are_corrupt_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "noise.duckdb"
    path.write_bytes(random.Random(3).randbytes(64 * 1024))
    before = _sha(path)
    with pytest.raises(DatabaseCorrupt) as exc:
        open_database(path)
    assert str(path) in str(exc.value)
    assert _sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.duckdb"]  # no .wal created


def test_duckdb_file_of_another_application_names_the_missing_tables(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table orders (id int)")
    con.close()
    before = _sha(path)
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    message = str(exc.value)
    for table in REQUIRED_TABLES:
        assert table in message
    assert "docs/data-model.md" in message
    assert _sha(path) == before


def test_wrong_schema_version_names_found_and_expected(tmp_path: Path) -> None:
    path = build_database(tmp_path / "v99.duckdb", schema_info={"schema_version": "99"})
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    message = str(exc.value)
    assert "version 99" in message
    assert f"version {SCHEMA_VERSION}" in message


def test_missing_schema_version_says_none(tmp_path: Path) -> None:
    path = build_database(tmp_path / "nov.duckdb")
    con = duckdb.connect(str(path))
    con.execute("delete from schema_info where key = 'schema_version'")
    con.close()
    with pytest.raises(SchemaMismatch, match="version none"):
        open_database(path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = build_database(tmp_path / "nocol.duckdb")
    con = duckdb.connect(str(path))
    con.execute("alter table touchpoints drop column first_contact_resolution")
    con.close()
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    assert "touchpoints" in str(exc.value)
    assert "first_contact_resolution" in str(exc.value)


def test_file_held_for_writing_by_another_process_is_locked(tmp_path: Path) -> None:
    path = build_database(tmp_path / "busy.duckdb", customers=_customers(3))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         "con = duckdb.connect(sys.argv[1])\n"
         "con.execute('select count(*) from customers').fetchall()\n"
         "print('ready', flush=True)\n"
         "time.sleep(60)\n",
         str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = holder.stdout.readline()  # blocks until the writer holds the file
        assert line.strip() == "ready", holder.stderr.read()
        before = _sha(path)
        with pytest.raises(DatabaseLocked) as exc:
            open_database(path)
        assert str(path) in str(exc.value)
        assert "lock" in str(exc.value).lower()
        assert _sha(path) == before
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # once the writer is gone the same file opens fine
    open_database(path).close()


def test_every_open_error_is_a_database_error() -> None:
    for cls in (DatabaseMissing, DatabaseLocked, DatabaseCorrupt, SchemaMismatch, DatabaseIsDirectory, NotDuckDB):
        assert issubclass(cls, DatabaseError)


# ---------------------------------------------------------------------------- what an import guarantees
def _alter(path: Path, *statements: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


def _no_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything connects: a foreign file must be judged by its header."""
    def refuse(*args, **kwargs):
        raise AssertionError("duckdb.connect called on a file that is not DuckDB")
    monkeypatch.setattr("analytics.db.duckdb.connect", refuse)


def test_missing_as_of_date_says_what_to_add(tmp_path: Path) -> None:
    # old: opened fine, then every page raised KeyError: 'as_of_date'
    path = build_database(tmp_path / "noasof.duckdb", customers=_customers(2))
    _alter(path, "delete from schema_info where key = 'as_of_date'")
    before = _sha(path)
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    message = str(exc.value)
    assert str(path) in message and "schema_info has no as_of_date" in message
    assert "INSERT INTO schema_info VALUES ('as_of_date', 'YYYY-MM-DD')" in message
    assert _sha(path) == before


@pytest.mark.parametrize("key, value, expected", [
    # old: opened fine, then the app raised "Invalid isoformat string: '31/12/2024'"
    ("as_of_date", "31/12/2024", "schema_info.as_of_date is '31/12/2024', not a date in YYYY-MM-DD form"),
    ("history_start", "sometime", "schema_info.history_start is 'sometime', not a date in YYYY-MM-DD form"),
    # as_of_date is the builder's 2024-12-31: a history starting after it is impossible
    ("history_start", "2025-01-01", "history_start (2025-01-01) is after as_of_date (2024-12-31)"),
])
def test_schema_info_dates_must_parse(tmp_path: Path, key: str, value: str, expected: str) -> None:
    path = build_database(tmp_path / "dates.duckdb", customers=_customers(2), schema_info={key: value})
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    assert expected in str(exc.value)


def test_history_start_may_be_absent(tmp_path: Path) -> None:
    path = build_database(tmp_path / "nohist.duckdb", customers=_customers(2))  # builder sets none
    open_database(path).close()


def test_text_signup_date_is_named_with_the_cast_that_fixes_it(tmp_path: Path) -> None:
    # old: opened fine, then the Overview raised IbisTypeError
    # "Arguments churn_date:date and signup_date:string are not comparable"
    path = build_database(tmp_path / "textdate.duckdb", customers=_customers(3))
    _alter(path, "alter table customers alter signup_date type varchar")
    before = _sha(path)
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    message = str(exc.value)
    assert ("customers.signup_date is VARCHAR; it must be a DATE. Re-import with the date format set, "
            "or cast it: `ALTER TABLE customers ALTER signup_date TYPE DATE USING "
            "strptime(signup_date, '%d/%m/%Y')::DATE`") in message
    assert _sha(path) == before
    # the statement the message gives does fix a copy (with this file's text format)
    fixed = tmp_path / "fixed.duckdb"
    shutil.copy(path, fixed)
    statement = re.search(r"`(ALTER TABLE customers[^`]*)`", message).group(1)
    _alter(fixed, statement.replace("%d/%m/%Y", "%Y-%m-%d"))
    db = open_database(fixed)
    try:
        assert db.cursor().execute("select min(signup_date) from customers").fetchone()[0].isoformat() == "2024-01-02"
    finally:
        db.close()


def test_timestamp_signup_date_is_refused(tmp_path: Path) -> None:
    # A TIMESTAMP signup_date passes the Overview but the survival curve (Retention by
    # segment) raises "signup_date ... TimestampColumn is not coercible to a Value[Date]":
    # DATE columns must be DATE.
    path = build_database(tmp_path / "ts.duckdb", customers=_customers(2))
    _alter(path, "alter table customers alter signup_date type timestamp")
    with pytest.raises(SchemaMismatch, match=r"customers\.signup_date is TIMESTAMP; it must be a DATE"):
        open_database(path)


def test_every_wrong_type_is_named_in_one_message(tmp_path: Path) -> None:
    path = build_database(tmp_path / "types.duckdb", customers=_customers(2))
    _alter(path,
           "alter table touchpoints alter customer_id type varchar",  # text ids
           "alter table touchpoints alter occurred_at type date",     # no time of day
           "alter table monthly_revenue alter mrr type decimal(12, 2)",
           "alter table customers alter loyalty_member type varchar")
    with pytest.raises(SchemaMismatch) as exc:
        open_database(path)
    message = str(exc.value)
    assert "touchpoints.customer_id is VARCHAR; it must be a whole number (BIGINT)" in message
    assert "touchpoints.occurred_at is DATE; it must be a TIMESTAMP" in message
    assert "monthly_revenue.mrr is DECIMAL(12,2); it must be a number (DOUBLE)" in message
    assert "customers.loyalty_member is VARCHAR; it must be a BOOLEAN (true/false)" in message
    assert "ALTER TABLE touchpoints ALTER occurred_at TYPE TIMESTAMP" in message


def test_compatible_types_are_accepted(tmp_path: Path) -> None:
    # INTEGER ids for BIGINT, whole-number or FLOAT amounts for DOUBLE, INTEGER survey
    # answers for TINYINT, TIMESTAMP_NS for TIMESTAMP: the analytics read them unchanged.
    # (A check demanding the exact schema type would refuse this file.)
    path = build_database(tmp_path / "compatible.duckdb", customers=_customers(3),
                          monthly_revenue=[{"customer_id": 1, "month": "2024-02-01", "mrr": 40.0}])
    _alter(path,
           "alter table customers alter customer_id type integer",
           "alter table customers alter acquisition_cost type bigint",
           "alter table monthly_revenue alter mrr type float",
           "alter table touchpoints alter csat type integer",
           "alter table touchpoints alter occurred_at type timestamp_ns")
    db = open_database(path)
    try:
        assert int(db.table("customers").count().execute()) == 3
        assert float(db.table("monthly_revenue").mrr.sum().execute()) == 40.0
    finally:
        db.close()


def test_directory_is_named_as_a_directory(tmp_path: Path) -> None:
    # old: DatabaseMissing "No database at …" (and the set-up page offered to generate the
    # sample at a directory's path)
    folder = tmp_path / "exports.duckdb"
    folder.mkdir()
    with pytest.raises(DatabaseIsDirectory) as exc:
        open_database(folder)
    message = str(exc.value)
    assert f"{folder} is a directory, not a database file" in message
    assert "RETENTION_DB" in message
    assert list(folder.iterdir()) == []


def test_sqlite_file_is_named_and_never_handed_to_duckdb(tmp_path: Path, monkeypatch) -> None:
    # old: DatabaseCorrupt '… (IO Error: Failed to download extension "sqlite_scanner" at URL
    # "http://extensions.duckdb.org/…")': DuckDB took the file for SQLite and tried a download
    path = tmp_path / "crm.duckdb"
    con = sqlite3.connect(path)
    con.execute("create table customers (id integer, signup text)")
    con.execute("insert into customers values (1, '2024-01-01')")
    con.commit()
    con.close()
    before = _sha(path)
    _no_connect(monkeypatch)
    with pytest.raises(NotDuckDB) as exc:
        open_database(path)
    message = str(exc.value)
    assert f"{path} is an SQLite database, not a DuckDB database" in message
    assert "download" not in message.lower() and "http" not in message
    assert _sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.duckdb"]


@pytest.mark.parametrize("content, expected", [
    (b"PAR1" + bytes(60), "is a Parquet file, not a DuckDB database"),
    (b"", "is an empty file, not a DuckDB database"),
    (b"customer_id,signup_date\n1,2024-01-01\n", "is not a readable DuckDB database"),
])
def test_other_formats_are_named_from_their_header(tmp_path: Path, monkeypatch, content: bytes,
                                                   expected: str) -> None:
    path = tmp_path / "export.duckdb"
    path.write_bytes(content)
    _no_connect(monkeypatch)
    with pytest.raises(NotDuckDB, match=expected):
        open_database(path)
    assert path.read_bytes() == content


# ---------------------------------------------------------------------------- read-only
def test_read_only_database_refuses_writes(tmp_path: Path) -> None:
    path = build_database(tmp_path / "ro.duckdb", customers=_customers(2))
    before = _sha(path)
    db = open_database(path)
    try:
        assert db.read_only
        with pytest.raises(duckdb.Error):
            db.cursor().execute("create table x(i int)")
        with pytest.raises(duckdb.Error):
            db.cursor().execute("delete from customers")
        assert db.cursor().execute("select count(*) from customers").fetchone()[0] == 2
    finally:
        db.close()
    assert _sha(path) == before


# ---------------------------------------------------------------------------- concurrency
def test_threads_query_one_database_concurrently(tmp_path: Path) -> None:
    rows = _customers(60)  # (builders insert row by row: keep the file small)
    touchpoints = [{"customer_id": 1 + i % 60, "kind": ("service_request", "complaint")[i % 2],
                    "occurred_at": f"2024-03-{1 + i % 28:02d} 10:00:00"} for i in range(200)]
    path = build_database(tmp_path / "conc.duckdb", customers=rows, touchpoints=touchpoints)
    expected_by_segment = {s: sum(r["segment"] == s for r in rows) for s in ("consumer", "small_business", "enterprise")}
    db = open_database(path)
    n_threads, n_queries = 8, 25
    barrier = threading.Barrier(n_threads)
    cursors: list[object] = [None] * n_threads
    results: list[list[tuple]] = [[] for _ in range(n_threads)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            cursors[k] = db.cursor()
            barrier.wait(timeout=30)
            for q in range(n_queries):
                if q % 3 == 0:  # raw SQL on this thread's cursor
                    kind = ("service_request", "complaint")[(k + q) % 2]
                    got = db.cursor().execute(
                        "select count(*) from touchpoints where kind = ?", [kind]).fetchall()[0][0]
                    results[k].append((kind, got, 100))
                else:  # Ibis through this thread's backend
                    segment = ("consumer", "small_business", "enterprise")[(k + q) % 3]
                    c = db.table("customers")
                    got = int(c.filter(c.segment == segment).count().execute())
                    results[k].append((segment, got, expected_by_segment[segment]))
                assert db.cursor() is cursors[k]  # the thread keeps its own cursor
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        db.close()
    assert not errors, errors[:3]
    assert all(len(r) == n_queries for r in results)
    wrong = [(what, got, want) for r in results for what, got, want in r if got != want]
    assert wrong == []
    assert len({id(c) for c in cursors}) == n_threads
    assert all(c is not db.connection for c in cursors)


# ---------------------------------------------------------------------------- configured path
@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.delenv("RETENTION_DB", raising=False)
    monkeypatch.setenv("RETENTION_CONFIG", str(tmp_path / "absent.toml"))
    return monkeypatch


def test_default_path_is_the_embedded_sample(clean_env) -> None:
    assert config.database_path() == config.PROJECT_ROOT / "data" / "sample.duckdb"


def test_env_var_wins_and_relative_paths_start_at_the_project_root(clean_env, tmp_path: Path) -> None:
    toml = tmp_path / "retention.toml"
    toml.write_text('[database]\npath = "from/config.duckdb"\n')
    clean_env.setenv("RETENTION_CONFIG", str(toml))
    clean_env.setenv("RETENTION_DB", str(tmp_path / "abs.duckdb"))
    assert config.database_path() == tmp_path / "abs.duckdb"
    clean_env.setenv("RETENTION_DB", "elsewhere/mine.duckdb")
    assert config.database_path() == config.PROJECT_ROOT / "elsewhere" / "mine.duckdb"


def test_config_file_path_is_used_without_the_env_var(clean_env, tmp_path: Path) -> None:
    toml = tmp_path / "retention.toml"
    toml.write_text('[database]\npath = "from/config.duckdb"\n')
    clean_env.setenv("RETENTION_CONFIG", str(toml))
    assert config.database_path() == config.PROJECT_ROOT / "from" / "config.duckdb"
    toml.write_text(f'[database]\npath = "{(tmp_path / "abs.duckdb").as_posix()}"\n')
    assert config.database_path() == tmp_path / "abs.duckdb"
    toml.write_text('[display]\ncurrency = "$"\n')  # no [database] section: the default
    assert config.database_path() == config.DEFAULT_DB_PATH
    clean_env.setenv("RETENTION_DB", "")  # an empty variable does not count
    assert config.database_path() == config.DEFAULT_DB_PATH


def test_partial_raw_fetch_does_not_break_the_threads_ibis_queries(tmp_path: Path) -> None:
    path = build_database(tmp_path / "mix.duckdb", customers=_customers(3))
    db = open_database(path)
    try:
        assert int(db.table("customers").count().execute()) == 3
        assert db.cursor().execute("select count(*) from customers").fetchone() == (3,)
        assert int(db.table("customers").count().execute()) == 3
    finally:
        db.close()


def test_open_connections_are_closed_at_exit_so_nothing_leaks(sample_db_path):
    # A Python function registered on a connection leads back to it (through the script's
    # globals): a cycle through C++ that the garbage collector cannot free, which DuckDB's
    # bindings reported at exit as ~40 "nanobind: leaked instance ..." lines. The atexit
    # hook of analytics.db closes what is still open, so the exit is quiet.
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        from analytics.db import open_database
        db = open_database({str(sample_db_path)!r})
        db.connection.create_function("plus_one", lambda x: x + 1, ["BIGINT"], "BIGINT")
        db.cursor().create_function("plus_two", lambda x: x + 2, ["BIGINT"], "BIGINT")
        print(db.connection.execute("select plus_one(1)").fetchone()[0],
              db.cursor().execute("select plus_two(1)").fetchone()[0])
        db.ibis().to_pandas(db.table("customers").limit(1))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "3"]
    assert "leaked" not in done.stderr, done.stderr
