"""The pages that need churn scores while `make run` computes them in the background
(`analytics.score --swap`): a progress note instead of "not computed", the list once the
scored file has been swapped in — in the same session, without a restart — and the
reason when the run could not train."""

from __future__ import annotations

import json
import os
import shutil
import time

from analytics.score import scoring_status_path
from tests.app.apptest import no_exception, run_page

PAGE = "at_risk.py"


def _status(db_path, state: str, message: str, fraction: float = 0.4) -> None:
    scoring_status_path(db_path).write_text(json.dumps({
        "state": state, "message": message, "fraction": fraction, "pid": os.getpid(),  # a live process
        "started": time.time() - 12, "updated": time.time()}))


def _progress_texts(at) -> list[str]:
    return [el.proto.text for el in at.get("progress")]


def test_at_risk_list_shows_progress_then_appears_when_the_scores_are_swapped_in(
        monkeypatch, tmp_path, sample_db_path, scored_db_path):
    db = tmp_path / "sample.duckdb"
    shutil.copy(sample_db_path, db)  # not scored yet
    _status(db, "running", "features as of 2026-03-31: 6,000 active customers")
    at = run_page(monkeypatch, db, PAGE)
    no_exception(at)
    [text] = _progress_texts(at)
    assert "Computing churn scores in the background — features as of 2026-03-31" in text
    assert "The at-risk list appears here when they are ready" in text
    assert not at.dataframe and not at.info  # no "not computed, stop the dashboard"

    # the run ends: the scored copy is renamed over the file and the status removed
    shutil.copy(scored_db_path, tmp_path / "scored.tmp")
    os.replace(tmp_path / "scored.tmp", db)
    scoring_status_path(db).unlink()
    at.run()
    no_exception(at)
    assert not _progress_texts(at)
    assert at.dataframe  # the call list, in the same session


def test_model_page_and_overview_say_scoring_is_under_way(monkeypatch, tmp_path, sample_db_path):
    db = tmp_path / "sample.duckdb"
    shutil.copy(sample_db_path, db)
    _status(db, "running", "held out: trees AUC 0.71", fraction=0.55)
    at = run_page(monkeypatch, db, "model.py")
    no_exception(at)
    assert "The model card appears here" in _progress_texts(at)[0]
    at = run_page(monkeypatch, db, None)  # the Overview: its margin-at-risk card waits for the scores
    no_exception(at)
    assert "Margin at risk appears here" in _progress_texts(at)[0]


def test_a_run_that_could_not_train_says_why(monkeypatch, tmp_path, sample_db_path):
    db = tmp_path / "sample.duckdb"
    shutil.copy(sample_db_path, db)
    _status(db, "failed", "Only 4 customers churned in the training snapshots; at least 20 are needed.")
    at = run_page(monkeypatch, db, PAGE)
    no_exception(at)
    assert not _progress_texts(at)
    assert "could not make them: Only 4 customers churned" in at.warning[0].value
