"""A read-only database reads its rollup_info and source fingerprint once, whatever rollups
are asked about; a writable one every time (its data may change under the same connection)."""

from __future__ import annotations

import shutil
from pathlib import Path

from analytics import rollups
from analytics.db import open_database


def _count_fingerprints(monkeypatch) -> list[int]:
    calls = [0]
    original = rollups.source_fingerprint

    def counted(con):
        calls[0] += 1
        return original(con)

    monkeypatch.setattr(rollups, "source_fingerprint", counted)
    return calls


def test_read_only_database_checks_freshness_once(sample_db_path: Path, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ro.duckdb"
    shutil.copy(sample_db_path, path)
    calls = _count_fingerprints(monkeypatch)
    db = open_database(path)
    try:
        for _ in range(3):
            assert rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is not None
        assert calls[0] == 1
        # another question (other rollups) reads the same fingerprint: still one scan a file
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS) is not None
        assert rollups.fresh_rollup(db, rollups.TOUCHPOINT_DAILY) is not None
        assert calls[0] == 1
    finally:
        db.close()


def test_writable_database_checks_every_time_and_sees_a_change(sample_db_path: Path, tmp_path: Path,
                                                               monkeypatch) -> None:
    path = tmp_path / "rw.duckdb"
    shutil.copy(sample_db_path, path)
    calls = _count_fingerprints(monkeypatch)
    db = open_database(path, read_only=False)
    try:
        assert rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is not None
        db.cursor().execute("delete from monthly_revenue where customer_id = (select min(customer_id) "
                            "from monthly_revenue)")
        assert rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is None
        assert calls[0] == 2
    finally:
        db.close()
