"""A database file replaced while the dashboard runs (an import's atomic swap, a
regenerated sample) shows on the next page view, without a restart.

DuckDB hands a new connection to a path the database instance still open for it, so
before dashboard/data.py closed the old one on a changed modification time, the next view
kept showing the old file's numbers (the issue-13 report)."""

from __future__ import annotations

import os
from datetime import date

from analytics.db import open_database
from analytics.filters import RetentionFilter
from dashboard import data
from sample_data.generate import generate


def _active(path, flt) -> int:
    db = open_database(path)
    try:
        from analytics import metrics

        return metrics.active_customers(db, flt)
    finally:
        db.close()


def test_a_swapped_file_is_read_on_the_next_call(tmp_path, monkeypatch) -> None:
    live = tmp_path / "live.duckdb"
    generate(live, customers=300, seed=3)
    monkeypatch.setenv("RETENTION_DB", str(live))
    as_of = data.as_of_date()
    flt = RetentionFilter(date(as_of.year, 1, 1), as_of)
    before = data.active_customers(flt)

    replacement = tmp_path / "import.duckdb"
    generate(replacement, customers=700, seed=4)
    expected = _active(replacement, flt)
    assert expected != before  # the two files differ, or the test proves nothing
    os.replace(replacement, live)
    stat = live.stat()  # a same-second swap on a coarse clock must still look new
    os.utime(live, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert data.active_customers(flt) == expected
    assert data.database().path == live
    data.forget_database()


def test_on_spark_a_table_written_to_the_output_folder_changes_the_cache_key(tmp_path, monkeypatch) -> None:
    """Scoring on Spark renames the rewritten table into the output folder (next to the
    Parquet inputs by default): the key moves to the folder's time, so the dashboard
    reopens the engine instead of reading the removed files. No Spark needed: the key
    is file times only."""
    inputs = tmp_path / "parquet"
    inputs.mkdir()
    config = tmp_path / "retention-spark.toml"
    config.write_text(f'[engine]\nkind = "spark"\n[engine.tables]\ncustomers = "{inputs / "customers.parquet"}"\n')
    monkeypatch.delenv("RETENTION_DB", raising=False)
    monkeypatch.setenv("RETENTION_CONFIG", str(config))
    os.utime(config, (1_000, 1_000))
    os.utime(inputs, (500, 500))
    assert data.db_key() == (str(config), 1_000)
    (inputs / "_churn_scores.writing-1").mkdir()
    (inputs / "_churn_scores.writing-1").rename(inputs / "churn_scores.parquet")
    assert data.db_key()[1] == inputs.stat().st_mtime > 1_000
