"""The churn-risk model card: what the model was trained on, how well it did, how to read it.

`build_model_card` turns a training run into a `ModelCard` (plain data, JSON-ready);
`analytics.score` stores it in `model_runs.card_json`; `load_model_card(db)` reads the
latest one back for the dashboard's Model page. Every number on the card comes from the
held-out backtest (the same recipe one step earlier, `analytics.risk.model`), never from
the data the production model was fitted on.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from analytics.db import Database
from analytics.risk.clv import DEFAULT_ANNUAL_DISCOUNT, DEFAULT_HORIZON_MONTHS
from analytics.risk.drivers import DRIVER_GROUPS, MIN_CONTRIBUTION
from analytics.risk.features import FEATURE_DESCRIPTIONS, HORIZON_DAYS
from analytics.risk.linear import C_GRID, CV_FOLDS, LOGISTIC_NAME, N_BINS
from analytics.risk.model import (
    HGB_PARAMS,
    MODEL_NAME,
    RULE_DESCRIPTION,
    STAYER_SAMPLE_SHARE,
    TrainingResult,
    metrics_json,
)
from analytics.risk.note_signals import NOTE_SIGNALS, SignalScore, evaluate_labelled_notes

CARD_FORMAT = 1

TREES_METHOD = ("HistGradientBoostingClassifier, features interacting only within their driver group "
                "(additive over groups), monotone constraints from domain knowledge")
LOGISTIC_METHOD = (f"L2-regularised logistic regression: categoricals one-hot, numerics in up to {N_BINS} "
                   f"quantile bins (one-hot) plus a linear term and a missing indicator, C from {list(C_GRID)} by "
                   f"{CV_FOLDS}-fold cross-validation by customer on the backtest's training rows only "
                   "(the production fit keeps that C)")

LIMITATIONS = (
    "Contract, plan, segment and loyalty are the customers table's current values; earlier "
    "snapshots cannot see past changes (MRR history is dated and used for price changes).",
    "Probabilities are calibrated on the latest month end whose 90-day outcome is known; a "
    "change in the business after it (a new retention programme, a price rise) shifts the "
    "level until the next run.",
    "Drivers are contributions against the training population's typical customer: they "
    "explain the model's risk, they are not proof of cause.",
    "The note lexicon is precise but misses phrasings it has not seen: see the hand-written "
    "holdout recall; in the generated sample every note comes from known templates.",
    "Predictive CLV projects recurring margin only, at today's MRR, with a constant monthly "
    "hazard from the 90-day probability.",
)


@dataclass
class ModelCard:
    """A page-ready description of one scoring run (all JSON-serialisable values)."""

    model_version: str
    model_name: str
    trained_at: str  # ISO timestamp
    as_of_date: str  # the date scored
    horizon_days: int
    data_window: dict[str, Any]
    population: dict[str, Any]
    features: list[dict[str, str]]
    metrics: dict[str, dict[str, float]]  # model / logistic / rule / base_rate
    improvement: dict[str, dict[str, float]]  # model minus each baseline (Brier: baseline minus model)
    auc_difference: dict[str, dict[str, float]]  # model minus baseline ROC AUC, paired-bootstrap 95 % CI
    calibration: list[dict[str, float]]  # binned reliability curve on the test date
    lift: list[dict[str, float]]  # deciles on the test date
    importance: list[dict[str, Any]]  # grouped permutation importance on the test date
    text_signals: dict[str, dict[str, dict[str, float]]]  # source -> class -> precision/recall/support
    method: dict[str, Any]
    limitations: list[str] = field(default_factory=lambda: list(LIMITATIONS))
    card_format: int = CARD_FORMAT
    # feature groups left out because the data lacks them: {"source", "reason", "features",
    # "groups"} each (`analytics.risk.model.dropped_feature_groups`); empty on older cards
    dropped_features: list[dict[str, Any]] = field(default_factory=list)
    # which scorer the product uses and why (`analytics.risk.model.choose_model`): "chosen" is
    # "model" (the gradient-boosted trees) or "logistic"; both figures are in `metrics`.
    # Empty on older cards (the trees were always used).
    model_choice: dict[str, Any] = field(default_factory=dict)
    # how the held-out rows were drawn: {"kind": "backtest" | "cross_sectional", "label", ...};
    # empty on older cards (always a backtest)
    evaluation: dict[str, Any] = field(default_factory=dict)
    # the customer_attributes used as features (`analytics.risk.attributes.AttributeSpec`):
    # attribute, column, kind ("text" = top values + "other"; "numeric" = quantile bins), categories
    custom_attributes: list[dict[str, Any]] = field(default_factory=list)
    # the categories of contract type, plan and segment the model was trained with (from the
    # data, `analytics.risk.features.feature_categories`); empty on older cards
    feature_categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def chosen(self) -> str:
        """The metrics key of the scorer in use ("model" = the trees, or "logistic")."""
        return self.model_choice.get("chosen", "model")

    @property
    def cross_sectional(self) -> bool:
        return self.evaluation.get("kind") == "cross_sectional"

    def choice_summary(self) -> str | None:
        """One line: which model scores and why, or None on cards from before the choice."""
        if not self.model_choice:
            return None
        return f"Scoring with {self.model_choice['reason']}. Rule: {self.model_choice['rule']}."

    def dropped_summary(self) -> str | None:
        """One line naming the left-out feature groups and why, or None when none was
        ("Left out for lack of data: satisfaction (last CSAT, last NPS, CSAT trend) — no survey
        answers in the data.")."""
        if not self.dropped_features:
            return None
        parts = [f"{d.get('label') or ', '.join(d['groups'])} — {d['reason']}" for d in self.dropped_features]
        return "Left out for lack of data: " + "; ".join(parts) + "."

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelCard":
        data = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        required = {name for name, f in cls.__dataclass_fields__.items()
                    if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - set(data))
        if missing:  # written by an older scorer: say what to do rather than fail on a field
            raise ValueError(f"the stored model card predates fields {', '.join(missing)}; re-run "
                             "python -m analytics.score to store a current one")
        return cls(**{k: v for k, v in data.items() if k in known})

    def headline(self) -> str:
        """One sentence for the page title: the held-out discrimination of the scorer in use
        vs the other candidate and the rule."""
        m, tree, lr, rule = (self.metrics[self.chosen], self.metrics["model"], self.metrics["logistic"],
                             self.metrics["rule"])
        name = "logistic regression" if self.chosen == "logistic" else "model"
        if self.cross_sectional:
            return (f"On a stratified holdout of one snapshot (cross-sectional, not a backtest over time) the "
                    f"{name} ranked churned customers with ROC AUC {m['roc_auc']:.3f} (trees {tree['roc_auc']:.3f}, "
                    f"logistic {lr['roc_auc']:.3f}, rule {rule['roc_auc']:.3f}); the riskiest 10% held "
                    f"{m['top_decile_capture']:.0%} of them.")
        return (f"On {self.data_window['backtest']['target_date']} the {name} ranked churners with ROC AUC "
                f"{m['roc_auc']:.3f} (trees {tree['roc_auc']:.3f}, logistic {lr['roc_auc']:.3f}, rule "
                f"{rule['roc_auc']:.3f}); the riskiest 10% held {m['top_decile_capture']:.0%} of the next "
                f"90 days' churners.")


def _signal_json(scores: dict[str, dict[str, SignalScore]]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for source, per_class in scores.items():
        out[source] = {s: {"precision": per_class[s].precision, "recall": per_class[s].recall,
                           "support": per_class[s].support, "predicted": per_class[s].predicted}
                       for s in NOTE_SIGNALS}
    return out


def _described(feature: str, categories: dict[str, list[str]]) -> str:
    """The feature's description, with the categories the model knows for a categorical one
    ("plan (current): basic, premium, standard")."""
    text = FEATURE_DESCRIPTIONS[feature]
    known = categories.get(feature)
    return f"{text}: {', '.join(known)}" if known else text


def build_model_card(
    result: TrainingResult,
    scored_customers: int,
    trained_at: datetime,
    history_start: str | None = None,
) -> ModelCard:
    """The card of one run: production plan, backtest metrics, text-signal quality."""
    bt = result.backtest
    model = result.model
    group_of = {c: g.name for g in DRIVER_GROUPS for c in g.columns}
    return ModelCard(
        model_version=result.model_version,
        model_name=getattr(model, "name", MODEL_NAME),
        trained_at=trained_at.isoformat(timespec="seconds"),
        as_of_date=result.plan.target_date.isoformat(),
        horizon_days=HORIZON_DAYS,
        data_window={
            "history_start": history_start,
            "production": result.plan.to_json(),
            "backtest": bt.plan.to_json(),
            "rule": "snapshot d: features from data dated on or before d; label = churn in (d, d + 90 days]",
        },
        population={
            "definition": "customers active on the as-of date: signup_date <= d and (churn_date is null or > d)",
            "scored_customers": scored_customers,
            "training_sample_customers": result.sample_customers,
            "training_rows": model.train_rows_,
            "training_rows_fitted": model.fitted_rows_,
            "training_churn_rate": model.train_base_rate_,
            "calibration_rows": model.calibration_rows_,
            "calibration_churn_rate": model.calibration_base_rate_,
            "test_customers": bt.metrics["model"].customers,
            "test_churners": bt.metrics["model"].churners,
        },
        features=[{"name": f, "group": group_of[f], "description": _described(f, result.categories)}
                  for f in model.features if f in FEATURE_DESCRIPTIONS]
                 + [{"name": a["column"], "group": a["column"],
                     "description": f"custom attribute “{a['attribute']}” ({a['kind']}: "
                                    f"{', '.join(a['categories'])})"} for a in result.attributes],
        custom_attributes=list(result.attributes),
        feature_categories=result.categories,
        metrics={name: metrics_json(m) for name, m in bt.metrics.items()},
        improvement=bt.improvement(),
        auc_difference=bt.auc_difference,
        calibration=bt.reliability,
        lift=bt.lift,
        importance=bt.importance,
        text_signals=_signal_json(evaluate_labelled_notes()),
        dropped_features=list(result.dropped),
        model_choice=dict(bt.choice),
        evaluation=dict(bt.evaluation),
        method={
            "model": (LOGISTIC_METHOD + f" (C = {getattr(model, 'C_', float('nan')):g})"
                      if model.name == LOGISTIC_NAME else TREES_METHOD),
            "candidates": {"model": TREES_METHOD, "logistic": LOGISTIC_METHOD},
            "params": {k: v for k, v in HGB_PARAMS.items()},
            "stayer_sample_share": STAYER_SAMPLE_SHARE,
            "calibration": (f"Platt (sigmoid) on the snapshot {result.plan.calibration_date.isoformat()}"
                            + (" (its stratified calibration rows)" if bt.evaluation.get("kind") == "cross_sectional"
                               else "")),
            "baselines": {"logistic": LOGISTIC_METHOD + ", same calibration",
                          "rule": RULE_DESCRIPTION, "base_rate": "the calibration snapshot's churn rate for everyone"},
            "drivers": ("exact by construction for the logistic regression: sum over the group's design columns "
                        "of coefficient x (value - reference value); " if model.name == LOGISTIC_NAME else "")
                       + f"exact per-group contribution to the log-odds vs the training population "
                       f"(category mix / medians); shown when >= {MIN_CONTRIBUTION} log-odds",
            "clv": {"horizon_months": DEFAULT_HORIZON_MONTHS, "annual_discount": DEFAULT_ANNUAL_DISCOUNT,
                    "formula": "clv_future = sum_{t=1..H} mrr*margin*(1-h)^t*(1+d)^(-t/12), h = 1-(1-p90)^(1/3); "
                               "clv_predicted = clv_historical + clv_future; "
                               "expected_loss = p90 * clv_future (margin still to come, never margin earned)"},
            "timings_s": {k: round(v, 2) for k, v in result.timings.items()},
            "training_seconds": round(result.seconds, 1),
        },
    )


def load_model_card(db: Database, as_of: date | str | None = None) -> ModelCard | None:
    """The card of the latest scoring run (for `as_of`, or the latest as-of date scored);
    None when no run was stored yet (no `model_runs` table, or no row)."""
    if not db.has_table("model_runs"):
        return None
    t = db.table("model_runs")
    if as_of is not None:
        t = t.filter(t.as_of_date == (as_of if isinstance(as_of, date) else date.fromisoformat(as_of)))
    t = t.order_by([t.as_of_date.desc(), t.trained_at.desc()]).limit(1).select("card_json")
    rows = db.ibis().to_pandas(t)
    if rows.empty:
        return None
    return ModelCard.from_json(rows["card_json"].iloc[0])
