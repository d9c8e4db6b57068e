"""AppTest: the Model page — the latest scoring run's model card."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb

from analytics.risk.model_card import load_model_card
from analytics.schema import OPTIONAL_TABLES
from tests.app.apptest import chart_count, metric_values, no_exception, no_match_database, run_page
from tests.builders import build_database

PAGE = "model.py"
KPIS = ["ROC AUC", "PR AUC", "Top-decile lift", "Top-decile capture", "Brier score", "Customers scored",
        "Backtest customers", "Backtest churners", "Training rows"]


def test_page_shows_the_model_card(monkeypatch, scored_db, scored_db_path):
    card = load_model_card(scored_db)
    at = run_page(monkeypatch, scored_db_path, PAGE)
    no_exception(at)
    assert at.title[0].value == "Model"
    assert card.headline() in [m.value.strip("*") for m in at.markdown]
    values = metric_values(at)
    assert list(values) == KPIS
    # the KPIs are the scorer in use (the rule on the card picked it), both candidates in the table
    assert values["ROC AUC"] == f"{card.metrics[card.chosen]['roc_auc']:.3f}"
    assert card.choice_summary() in [i.value for i in at.info]
    assert values["Customers scored"] == f"{card.population['scored_customers']:,}"
    assert any(card.model_version in c.value for c in at.caption)
    # calibration, lift by decile, driver importance
    assert chart_count(at) == 3
    headers = [s.value for s in at.subheader]
    for header in ("Backtest: the model against the baselines", "What drives the ranking",
                   "Reading agents' notes: lexicon quality", "Data window", "Limitations"):
        assert header in headers
    # the verdict on logistic regression states the bootstrap interval; a tie is said plainly
    diff = card.auc_difference["logistic"]
    verdicts = [*at.warning, *at.success, *at.error]
    assert len(verdicts) == 1
    assert f"{diff['ci_low']:+.4f} to {diff['ci_high']:+.4f}" in verdicts[0].value
    if diff["ci_low"] <= 0 <= diff["ci_high"]:
        assert "only ties logistic regression" in at.warning[0].value
    backtest = at.dataframe[0].value
    in_use = {"model": "Gradient-boosted trees (in use)", "logistic": "Logistic regression (in use)"}[card.chosen]
    assert in_use in list(backtest["Scorer"])
    assert [n.removesuffix(" (in use)") for n in backtest["Scorer"]] == [
        "Gradient-boosted trees", "Logistic regression", "Rule", "Base rate"]
    assert backtest.loc[1, "Model's AUC gain"] == f"{card.improvement['logistic']['roc_auc']:+.4f}"
    assert backtest.loc[0, "Model's AUC gain"] == "—"
    lexicon = next(d.value for d in at.dataframe if "Signal" in d.value.columns)
    assert list(lexicon["Signal"]) == ["Cancel intent", "Competitor", "Price", "Moving", "Dissatisfaction", "Billing"]
    holdout = card.text_signals["handwritten_holdout"]["price"]["recall"] * 100
    assert lexicon.loc[2, "Hand-written holdout recall"] == holdout
    assert card.limitations[0] in at.markdown[-1].value


def test_sidebar_filters_leave_the_card_alone(monkeypatch, scored_db_path):
    at = run_page(monkeypatch, scored_db_path, PAGE)
    everyone = metric_values(at)
    at.sidebar.multiselect(key="flt_segments").select("enterprise").run()
    no_exception(at)
    assert metric_values(at) == everyone
    assert any("the sidebar filters do not change it" in c.value for c in at.caption)


def test_no_model_run_yet(monkeypatch, sample_db_path):
    at = run_page(monkeypatch, sample_db_path, PAGE)
    no_exception(at)
    assert "No churn-risk model has been run" in at.info[0].value
    assert "python -m analytics.score" in at.info[0].value and "make scores" in at.info[0].value
    assert chart_count(at) == 0 and not at.metric


def test_filter_matching_nothing(monkeypatch, tmp_path):
    path = no_match_database(tmp_path)
    at = run_page(monkeypatch, path, PAGE, {"segment": "enterprise", "region": "north"})
    no_exception(at)
    assert "No churn-risk model has been run" in at.info[0].value
    assert chart_count(at) == 0


def test_a_card_from_an_older_scorer_is_reported_not_raised(monkeypatch, tmp_path):
    old_card = {"model_version": "old", "model_name": "churn-hgb", "as_of_date": "2024-12-31"}
    path = build_database(
        tmp_path / "old.duckdb",
        customers=[{"customer_id": 1, "signup_date": datetime(2024, 1, 5).date()}],
        schema_info={"as_of_date": "2024-12-31", "history_start": "2024-01-01"},
        extra_tables={"model_runs": (OPTIONAL_TABLES["model_runs"], [
            {"model_version": "old", "trained_at": datetime(2025, 1, 1), "as_of_date": datetime(2024, 12, 31).date(),
             "card_json": json.dumps(old_card)}])},
    )
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    assert "cannot be read" in at.error[0].value and "python -m analytics.score" in at.error[0].value
    assert chart_count(at) == 0


def test_feature_groups_left_out_for_lack_of_data_are_said_in_one_line(monkeypatch, scored_db_path, tmp_path):
    # The session sample has surveys, so its card drops nothing and the page shows no such
    # line; a card whose run had no survey answers (as `analytics.score` writes it on such
    # data, tests/unit/risk/test_real_data.py) gets one info line naming the group and why.
    at = run_page(monkeypatch, scored_db_path, PAGE)
    assert not any("Left out for lack of data" in i.value for i in at.info)
    path = tmp_path / "no_surveys_card.duckdb"
    shutil.copy(scored_db_path, path)
    con = duckdb.connect(str(path))
    card = json.loads(con.execute("select card_json from model_runs").fetchone()[0])
    card["dropped_features"] = [{"source": "surveys", "label": "satisfaction (last CSAT, last NPS, CSAT trend)",
                                 "reason": "no survey answers in the data",
                                 "features": ["last_csat", "last_nps", "csat_trend"], "groups": ["satisfaction"]}]
    con.execute("update model_runs set card_json = ?", [json.dumps(card)])
    con.close()
    at = run_page(monkeypatch, path, PAGE)
    no_exception(at)
    assert [i.value for i in at.info if "Left out" in i.value] == [
        "Left out for lack of data: satisfaction (last CSAT, last NPS, CSAT trend) — no survey answers in the data."]
