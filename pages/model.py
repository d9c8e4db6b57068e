"""Model (reference): the card of the latest churn-risk scoring run — what the model was
trained on, how it did in the backtest against a logistic regression, a rule and the base
rate, how well its probabilities are calibrated, what drives it, how well the note lexicon
reads agents' notes, the method and its known limits (docs/model-card.md)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from charts import risk as risk_charts
from dashboard import data, glossary as g, score_progress, tables, ui
from analytics import formatting as fmt

RUN_SCORER = ("Stop the dashboard, run `python -m analytics.score` (or `make scores`) on this database, "
              "then start the dashboard again.")

st.title("Model")
try:
    card = data.model_card()
except (TypeError, KeyError, ValueError) as err:  # a card written by an older scorer
    st.error(f"The stored model card cannot be read ({type(err).__name__}: {err}); it was probably written by "
             f"an older version of the scorer. {RUN_SCORER}")
    st.stop()
if card is None and score_progress.show("The model card"):  # scores being computed in the background
    st.stop()
if card is None:
    ui.empty(f"No churn-risk model has been run on this database yet, so there is no model card to show. "
             f"{RUN_SCORER}")
    st.stop()

st.markdown(f"**{card.headline()}**")
st.caption(f"{card.model_name} · version `{card.model_version}` · trained {card.trained_at.replace('T', ' ')} · "
           f"scores customers active on {card.as_of_date} for churn in the next {card.horizon_days} days. "
           "The card describes the whole scored population: the sidebar filters do not change it. "
           + g.help_link(g.RISK_MODEL))
if card.dropped_features:  # feature groups the data lacks (no surveys, notes, touchpoints, revenue)
    st.info(card.dropped_summary(), icon=":material/info:")
if card.model_choice:  # which candidate scores, and the rule that picked it
    st.info(card.choice_summary(), icon=":material/rule:")
if card.cross_sectional:  # no history of when customers left: one snapshot, stratified holdout
    st.warning(f"**Evaluation: {card.evaluation['label']}.** No time-split backtest is possible: "
               f"{card.evaluation['reason']}. The model separates customers who had churned by {card.as_of_date} "
               f"from those still active; {card.evaluation.get('caveat', '')}.", icon=":material/history_toggle_off:")

# the KPIs describe the scorer in use ("model" = the gradient-boosted trees, or "logistic")
model, logistic = card.metrics[card.chosen], card.metrics.get("logistic", {})
other = "logistic" if card.chosen == "model" else "model"
population = card.population

# --- headline numbers ----------------------------------------------------------------------
cols = st.columns(5)
auc_gain = (model["roc_auc"] - card.metrics[other]["roc_auc"]) if other in card.metrics else None
ui.kpi(cols[0], "ROC AUC", f"{model['roc_auc']:.3f}",
       f"{auc_gain:+.4f} vs {'logistic' if other == 'logistic' else 'trees'}" if auc_gain is not None else None,
       help_text="Chance that a random churner is ranked above a random stayer (0.5 = chance), on the held-out "
       "data, for the model in use; change = it minus the other candidate.", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[1], "PR AUC", f"{model['pr_auc']:.3f}",
       help_text=f"Average precision on the backtest; a random ranking scores the churn rate "
       f"({fmt.percent(model['base_rate'])}).", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[2], "Top-decile lift", fmt.multiple(model["top_decile_lift"], 2),
       help_text="Churn rate of the riskiest 10% ÷ the overall churn rate, on the backtest.", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[3], "Top-decile capture", fmt.percent(model["top_decile_capture"], 0),
       help_text="Share of the backtest's churners who were in the riskiest 10%.", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[4], "Brier score", f"{model['brier']:.4f}",
       help_text="Mean squared error of the probabilities on the backtest; lower is better.", anchor=g.MODEL_BACKTEST)

cols = st.columns(4)
ui.kpi(cols[0], "Customers scored", fmt.count(population.get("scored_customers")),
       help_text=f"Customers active on {card.as_of_date}: {population.get('definition', '')}.", anchor=g.RISK_MODEL)
ui.kpi(cols[1], "Backtest customers", fmt.count(population.get("test_customers")),
       help_text=f"Customers active on the backtest date {card.data_window['backtest']['target_date']}, "
       "whose next 90 days are known.", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[2], "Backtest churners", fmt.count(population.get("test_churners")),
       help_text=f"Of them, churned within 90 days ({fmt.percent(model['base_rate'])}).", anchor=g.MODEL_BACKTEST)
ui.kpi(cols[3], "Training rows", fmt.count(population.get("training_rows")),
       help_text=f"Customer × month-end snapshots in the training window; "
       f"{fmt.count(population.get('training_rows_fitted'))} fitted (every churner and a sample of stayers, weighted).",
       anchor=g.RISK_MODEL)

# --- backtest ------------------------------------------------------------------------------
if card.cross_sectional:
    ui.section("Stratified holdout: the candidates against the baselines", g.MODEL_BACKTEST,
               f"{card.evaluation['label']}: a quarter of the customers of the snapshot "
               f"{card.evaluation.get('snapshot_date')}, with each outcome's share kept, held out from training "
               "and calibration.")
else:
    ui.section("Backtest: the model against the baselines", g.MODEL_BACKTEST,
               "Tested on the last month end whose 90-day outcome is known, with models trained and calibrated "
               "only on earlier month ends.")


def auc_difference_text(baseline: str) -> str | None:
    diff = card.auc_difference.get(baseline)
    if not diff:
        return None
    return f"{diff['difference']:+.4f} (95% CI {diff['ci_low']:+.4f} to {diff['ci_high']:+.4f})"


vs_logistic = card.auc_difference.get("logistic")
if vs_logistic:
    text = auc_difference_text("logistic")
    if vs_logistic["ci_low"] <= 0 <= vs_logistic["ci_high"]:
        st.warning(f"**The boosted model only ties logistic regression.** ROC AUC {model['roc_auc']:.4f} against "
                   f"{logistic.get('roc_auc', float('nan')):.4f}: a difference of {text}. The interval includes 0, "
                   "so this backtest cannot tell the boosted model from a logistic regression on the same features. "
                   "What it adds is exact per-customer drivers and monotone, domain-checked shapes, not accuracy.",
                   icon=":material/balance:")
    elif vs_logistic["ci_low"] > 0:
        st.success(f"The model beats logistic regression: ROC AUC difference {text}.", icon=":material/check_circle:")
    else:
        st.error(f"Logistic regression ranks churners better than the model: ROC AUC difference {text}.",
                 icon=":material/warning:")
vs_rule = auc_difference_text("rule")
if vs_rule:
    st.markdown(f"Against the rule *“{card.method.get('baselines', {}).get('rule', 'rule')}”* the model's ROC AUC "
                f"is {vs_rule} higher; the base rate (everyone gets the churn rate) ranks no better than chance.")
backtest = tables.backtest_table(card.metrics, card.improvement, chosen=card.chosen if card.model_choice else None)
ui.table(backtest, "model_backtest", column_config={
    "ROC AUC": st.column_config.NumberColumn("ROC AUC", format="%.4f"),
    "PR AUC": st.column_config.NumberColumn("PR AUC", format="%.4f"),
    "Top-decile lift": st.column_config.NumberColumn("Top-decile lift", format="%.2f×"),
    "Top-decile capture": tables.percent_column("Top-decile capture", 1),
    "Brier score": st.column_config.NumberColumn("Brier score", format="%.5f"),
    "Model's AUC gain": st.column_config.TextColumn(
        "Model's AUC gain", help="Model − this scorer, ROC AUC (positive = model better)"),
    "Model's Brier gain": st.column_config.TextColumn(
        "Model's Brier gain", help="This scorer − model, Brier score (positive = model better)"),
})

left, right = st.columns(2)
with left:
    calibration = pd.DataFrame(card.calibration)
    ui.chart(risk_charts.calibration_chart(calibration), "model_calibration", data=calibration,
             help_anchor=g.MODEL_CALIBRATION, width="half")
with right:
    lift = pd.DataFrame(card.lift)
    ui.chart(risk_charts.lift_chart(lift), "model_lift", data=lift, help_anchor=g.MODEL_BACKTEST, width="half")

# --- drivers -------------------------------------------------------------------------------
ui.section("What drives the ranking", g.MODEL_IMPORTANCE,
           "Grouped permutation importance on the backtest: how much ROC AUC falls when a driver group is shuffled.")
importance = pd.DataFrame(card.importance)
ui.chart(risk_charts.importance_chart(importance), "model_importance",
         data=importance.assign(features=importance["features"].map(", ".join)) if "features" in importance else importance,
         help_anchor=g.MODEL_IMPORTANCE)
with st.expander(f"The {len(card.features)} model inputs"):
    ui.table(tables.labelled(pd.DataFrame(card.features), {"name": "Feature", "group": "Driver group",
                                                           "description": "Description"},
                             value_columns=("group",)), "model_features", height=tables.list_height(len(card.features)),
             column_config={"Feature": st.column_config.TextColumn("Feature", width=220, pinned=True),
                            "Driver group": st.column_config.TextColumn("Driver group", width=150),
                            "Description": st.column_config.TextColumn("Description", width=560)})

# --- note lexicon ----------------------------------------------------------------------------
ui.section("Reading agents' notes: lexicon quality", g.NOTE_LEXICON,
           "Precision and recall of the Hebrew/English note lexicon on labelled notes.")
lexicon = tables.lexicon_quality_table(card.text_signals)
if lexicon.empty:
    ui.empty("The labelled notes were not available when this run was scored, so the lexicon was not measured.")
else:
    st.caption("Template notes are rendered from the sample generator's own phrasings, so they flatter the lexicon; "
               "the hand-written holdout was written after the lexicon was frozen and is the honest estimate for "
               "phrasings it has not seen.")
    ui.table(lexicon, "model_lexicon", column_config={
        **{c: tables.percent_column(c, 0) for c in lexicon.columns if c.endswith(("precision", "recall"))},
        "Holdout notes": tables.count_column("Holdout notes", "Hand-written holdout notes labelled with the signal"),
    })

# --- data window, method, limitations ------------------------------------------------------
ui.section("Data window", g.RISK_MODEL)
window = card.data_window
plans = []
for name, key in (("Production (scores today)", "production"), ("Backtest (numbers above)", "backtest")):
    plan = window.get(key, {})
    train = plan.get("train_dates", [])
    plans.append({"Run": name,
                  "Training month ends": f"{train[0]} … {train[-1]} ({len(train)})" if train else "—",
                  "Calibration month end": plan.get("calibration_date", "—"),
                  "Scored / tested on": plan.get("target_date", "—")})
ui.table(pd.DataFrame(plans), "model_data_window")
st.caption(f"History starts {window.get('history_start') or 'at the earliest signup'}. "
           f"Rule: {window.get('rule', '')}.")

with st.expander("Method"):
    method = card.method
    st.markdown(f"- **Model**: {method.get('model', '')}\n"
                f"- **Parameters**: `{json.dumps(method.get('params', {}))}`; stayers sampled at "
                f"{fmt.percent(method.get('stayer_sample_share', float('nan')), 0)} and weighted back\n"
                f"- **Calibration**: {method.get('calibration', '')}\n"
                f"- **Drivers**: {method.get('drivers', '')}\n"
                + "".join(f"- **Baseline — {tables.SCORER_NAMES.get(k, k)}**: {v}\n"
                          for k, v in method.get("baselines", {}).items()))
    clv = method.get("clv", {})
    if clv:
        st.markdown(f"**Predicted CLV** (horizon {clv.get('horizon_months')} months, "
                    f"{fmt.percent(clv.get('annual_discount'), 0)} annual discount): " + g.help_link(g.PREDICTIVE_CLV))
        st.code(clv.get("formula", ""), language=None)
    if method.get("training_seconds") is not None:
        st.caption(f"Training took {method['training_seconds']} s ("
                   + ", ".join(f"{k.removesuffix('_s').replace('_', ' ')} {v} s"
                               for k, v in method.get("timings_s", {}).items()) + ").")

ui.section("Limitations", g.RISK_MODEL)
st.markdown("\n".join(f"- {item}" for item in card.limitations))
