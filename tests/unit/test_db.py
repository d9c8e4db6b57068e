"""The database seam: every way a file can be unusable is a `DatabaseError` with a message
that says what is wrong and what to do, opening never changes the file, read-only really is
read-only, threads get their own cursors, and the configured path resolves as documented."""

from __future__ import annotations

import hashlib
import random
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
    DatabaseLocked,
    DatabaseMissing,
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
    for cls in (DatabaseMissing, DatabaseLocked, DatabaseCorrupt, SchemaMismatch):
        assert issubclass(cls, DatabaseError)


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
