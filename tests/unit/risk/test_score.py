"""`python -m analytics.score`: writes both tables, replaces a date's rows atomically,
`--if-missing`, and a clear error when another program holds the database."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from analytics.db import open_database
from analytics.risk.model_card import ModelCard, load_model_card
from analytics.score import EXIT_ERROR, EXIT_LOCKED, EXIT_OK, SCORE_COLUMNS, main, write_scores


@pytest.fixture
def db_copy(sample_db_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copy(sample_db_path, target)
    return target


def _counts(path: Path) -> tuple[int, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return (con.execute("select count(*) from churn_scores").fetchone()[0],
                con.execute("select count(*) from model_runs").fetchone()[0])
    finally:
        con.close()


def test_write_scores_replaces_the_dates_rows_and_is_idempotent(db_copy, risk_run):
    db = open_database(db_copy, read_only=False)
    try:
        write_scores(db, risk_run)
        write_scores(db, risk_run)  # again: replaced, not appended
        stored = db.cursor().execute(
            "select * from churn_scores order by customer_id").df()
        runs = db.cursor().execute("select model_version, as_of_date from model_runs").fetchall()
    finally:
        db.close()
    assert len(stored) == len(risk_run.scores)
    assert list(stored.columns) == list(SCORE_COLUMNS)
    assert stored["customer_id"].tolist() == risk_run.scores["customer_id"].tolist()
    assert (stored["expected_loss"] == risk_run.scores["expected_loss"].to_numpy()).all()
    assert runs == [(risk_run.training.model_version, risk_run.as_of)]


def test_model_card_round_trips_through_the_database(db_copy, risk_run):
    db = open_database(db_copy, read_only=False)
    try:
        assert load_model_card(db) is None or isinstance(load_model_card(db), ModelCard)
        write_scores(db, risk_run)
    finally:
        db.close()
    db = open_database(db_copy)
    try:
        card = load_model_card(db)
    finally:
        db.close()
    assert card == risk_run.card
    assert card.metrics["model"]["roc_auc"] > card.metrics["rule"]["roc_auc"]
    assert set(card.text_signals) >= {"template", "handwritten_dev", "handwritten_holdout", "all_handwritten"}
    assert len(card.calibration) == 10 and len(card.lift) == 10 and card.importance
    assert "ROC AUC" in card.headline()


def test_command_writes_tables_then_if_missing_does_nothing(db_copy, capsys):
    args = ["--db", str(db_copy), "--train-snapshots", "2", "--quiet"]
    assert main(args) == EXIT_OK
    scores, runs = _counts(db_copy)
    assert scores > 1000 and runs == 1
    assert main([*args, "--if-missing"]) == EXIT_OK
    assert "already present; nothing to do" in capsys.readouterr().out
    assert _counts(db_copy) == (scores, runs)


def test_locked_database_is_a_clear_error_and_changes_nothing(db_copy, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(db_copy)!r})  # read-write: DuckDB's exclusive lock
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["--db", str(db_copy), "--quiet"]) == EXIT_LOCKED
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    err = capsys.readouterr().err
    assert "open in another program" in err and "dashboard" in err and "Nothing was changed" in err
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "churn_scores" in tables:  # the generator may create the optional tables empty
            assert con.execute("select count(*) from churn_scores").fetchone()[0] == 0
    finally:
        con.close()


def test_as_of_after_the_history_is_rejected(db_copy, capsys):
    assert main(["--db", str(db_copy), "--as-of", "2030-01-01", "--quiet"]) == EXIT_ERROR
    assert "after the database's last day of history" in capsys.readouterr().err


def test_missing_database_is_rejected(tmp_path, capsys):
    assert main(["--db", str(tmp_path / "nope.duckdb"), "--quiet"]) == EXIT_ERROR
    assert "No database at" in capsys.readouterr().err


def test_swap_scores_beside_a_reader_in_another_process(db_copy, capsys):
    # a running dashboard: another process holding the file read-only (DuckDB's shared lock),
    # which a direct run cannot write past (status 3); --swap scores a copy and renames it over
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(db_copy)!r}, read_only=True)
            count = lambda: con.execute("select count(*) from customers").fetchone()[0]
            print(count(), flush=True)
            sys.stdin.read()
            print(count(), flush=True)
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        customers = int(reader.stdout.readline())
        assert main(["--db", str(db_copy), "--train-snapshots", "2", "--history-months", "1", "--quiet"]) == EXIT_LOCKED
        assert main(["--db", str(db_copy), "--train-snapshots", "2", "--history-months", "1", "--quiet",
                     "--swap"]) == EXIT_OK
        reader.stdin.close()
        assert int(reader.stdout.readline()) == customers  # the reader kept reading its (old) file
    finally:
        reader.wait(timeout=30)
    scores, runs = _counts(db_copy)
    assert scores > 1000 and runs == 1  # the new file has the scores
    assert sorted(p.name for p in db_copy.parent.iterdir()) == ["copy.duckdb"]  # no copy or status left
    assert main(["--db", str(db_copy), "--swap", "--if-missing", "--quiet"]) == EXIT_OK
    assert "already present; nothing to do" in capsys.readouterr().out


def test_status_file_says_progress_and_a_dead_run_is_stopped(tmp_path):
    from analytics.score import StatusFile, read_scoring_status, scoring_status_path

    db = tmp_path / "x.duckdb"
    assert read_scoring_status(db) is None
    status = StatusFile(db, snapshots=4, history_months=2)
    status.say("training sample: all customers")
    status.say("  features as of 2026-01-31: 10 active customers")
    now = read_scoring_status(db)
    assert now.state == "running" and now.message.startswith("features as of 2026-01-31")
    assert now.fraction == pytest.approx(0.03 + 0.40 / 4)
    status.say("  fitting the logistic regression (the trees took 40 s)")  # the fits move the bar too
    assert read_scoring_status(db).fraction == pytest.approx(0.50)
    status.say("backfilling score history for 2026-08-31")
    assert read_scoring_status(db).fraction == pytest.approx(0.72 + 0.2 / 2)
    path = scoring_status_path(db)
    path.write_text(path.read_text().replace(f'"pid": {__import__("os").getpid()}', '"pid": 999999999'))
    assert read_scoring_status(db).state == "stopped"  # its process is gone (interrupted)
    status.write("failed", "Too few churners.")
    assert read_scoring_status(db).state == "failed"
    path.write_text("{not json")
    assert read_scoring_status(db) is None
