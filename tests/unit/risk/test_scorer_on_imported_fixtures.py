"""The scorer on each committed import fixture (tests/data/import/), imported with the real
pipeline: it trains (exit 0) or says in one sentence why it cannot and what data would fix
it (exit 4, nothing written) — never a library traceback, never another status."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import analytics.load as load
from analytics import score
from tests.app.test_imported_fixtures import DATA, FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_the_scorer_trains_or_explains_on_each_imported_fixture(tmp_path: Path, name: str, capsys) -> None:
    db = tmp_path / f"{name}.duckdb"
    load.run_import(load.read_mapping(DATA / name / "mapping.toml"), db)
    capsys.readouterr()
    status = score.main(["--db", str(db), "--sample-size", "2000"])
    out, err = capsys.readouterr()
    assert status in (score.EXIT_OK, score.EXIT_CANNOT_TRAIN), (status, out, err)
    assert "Traceback" not in out + err
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        scored = con.execute("select count(*) from churn_scores").fetchall()[0][0] if "churn_scores" in tables else 0
    finally:
        con.close()
    if status == score.EXIT_CANNOT_TRAIN:
        # the progress lines, then the reason: one line saying why and what data would fix it
        reason = err.strip().splitlines()[-1]
        assert reason.startswith("Cannot train the churn-risk model: "), err
        assert scored == 0  # nothing written
    else:
        assert scored > 0
