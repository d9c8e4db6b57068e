"""The churn-risk model: P(churn within 90 days) for every active customer, validated over time.

Recipe (docs/decisions/006-churn-risk-model.md):

1. **Snapshots.** Features and labels are taken at month-end as-of dates
   (`analytics.risk.features`). For a target date T (the date to score, or the test date
   of a backtest), the *calibration* snapshot is the last month end C with C + 90 days ≤ T
   and the *training* snapshots are the `n_train` month ends ending at the last one with
   date + 90 days ≤ C. Every label used is therefore fully observed by T: nothing after T
   is read, and training, calibration and test outcomes do not overlap in time.
2. **Model.** `HistGradientBoostingClassifier` (native categorical support, NaN-aware,
   seeded) on the stacked training snapshots.
3. **Calibration.** Platt scaling (`CalibratedClassifierCV(FrozenEstimator(...),
   method="sigmoid")`) fitted on the calibration snapshot only. The sigmoid is monotone,
   so it keeps the booster's ranking, and linear on the log-odds, so driver contributions
   computed on the booster's log-odds are those of the calibrated model up to one
   positive factor.
4. **Backtest and model choice.** The same recipe one step earlier: T = the last month end
   whose 90-day outcome is fully observed before the scoring date; the booster is compared
   with a regularised logistic regression (`analytics.risk.linear`, same calibration) and
   the rule "had an unresolved complaint in the last 30 days" on that held-out date, and
   the production fit uses whichever of booster / logistic regression `choose_model` picks
   (near-ties go to the logistic regression).
5. **Single snapshot.** When the data has no history of when customers left
   (`single_snapshot_reason`), a cross-sectional model on one snapshot with a stratified
   holdout instead (`train_cross_sectional`), labelled as such on the card.

Everything random is seeded (`random_state`), so a run is reproducible.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Callable, Sequence

import ibis
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from analytics.catalog import single_churn_date
from analytics.db import Database
from analytics.risk.attributes import fit_attribute_specs, read_attributes, with_attributes
from analytics.risk.linear import LogisticRiskModel
from analytics.risk.defaults import (DEFAULT_SAMPLE_SIZE, DEFAULT_SEED, DEFAULT_TRAIN_SNAPSHOTS,
                                     MIN_CHURNERS, MIN_STAYERS, CannotTrain)
from analytics.risk.drivers import (
    DRIVER_GROUPS,
    Baseline,
    DriverGroup,
    additive_contributions,
    fit_baselines,
    top_drivers,
)
from analytics.risk.features import (
    FEATURE_SOURCES,
    FEATURES,
    HORIZON_DAYS,
    LABEL,
    SOURCE_LABELS,
    absent_sources,
    feature_categories,
    frame_categories,
    snapshot_features,
)

MODEL_NAME = "churn-hgb"
RECIPE_VERSION = "1"
RULE_DESCRIPTION = "had an unresolved complaint in the last 30 days"

# Small trees, many rounds, no early stopping: the snapshots repeat customers, so a random
# validation split would leak and stop too late anyway.
HGB_PARAMS = dict(
    learning_rate=0.1,
    max_iter=200,
    max_leaf_nodes=8,
    min_samples_leaf=200,
    l2_regularization=1.0,
    early_stopping=False,
)
# Training keeps every churner and this share of the stayers (seeded), each kept stayer
# weighing 1/share, so the booster's log-odds stay unbiased at a third of the cost; the
# calibration snapshot is never down-sampled.
STAYER_SAMPLE_SHARE = 1 / 3

# Directions the risk may move in as a feature grows, from the domain, not the data: more
# unresolved contacts, complaints, cancellation requests, waits or churn-intent notes never
# lower the risk; more tenure, satisfaction, loyalty or accepted retention offers never
# raise it. This regularises the trees and keeps the drivers consistent ("3 unresolved
# contacts" always counts against the customer). Unlisted features are unconstrained.
MONOTONE_INCREASING = (
    "complaints_30d", "complaints_90d", "billing_issues_30d", "billing_issues_90d",
    "cancellation_requests_30d", "cancellation_requests_90d", "unresolved_contacts_30d",
    "unresolved_contacts_90d", "unresolved_complaints_30d", "unresolved_contacts_365d",
    "open_cancellation_request", "repeat_contacts_90d", "long_waits_90d",
    *(f"note_{s}_90d" for s in ("cancel_intent", "competitor", "price", "moving",
                                 "dissatisfaction", "billing")),
)
MONOTONE_DECREASING = (
    "loyalty_member", "tenure_months", "last_csat", "last_nps", "saved_by_offer_180d",
    "proactively_retained_180d", "days_since_cancellation_request",
)
MONOTONE_CONSTRAINTS = {**{c: 1 for c in MONOTONE_INCREASING}, **{c: -1 for c in MONOTONE_DECREASING}}


def model_groups(features: Sequence[str] = FEATURES) -> tuple[DriverGroup, ...]:
    """The driver groups a model on `features` explains (every group whose columns are
    all among them; a dropped data source drops whole groups)."""
    kept = set(features)
    return tuple(g for g in DRIVER_GROUPS if set(g.columns) <= kept)


def interaction_constraints(groups: Sequence[DriverGroup] = DRIVER_GROUPS,
                            features: Sequence[str] = FEATURES) -> list[list[int]]:
    """Features may interact only within their driver group, so the booster's log-odds are
    a sum of one function per group, f(x) = Σ_g f_g(x_g) (a boosted generalised additive
    model over groups, like an Explainable Boosting Machine): each group's contribution to
    a customer's risk is then exact, not an approximation."""
    index = {name: i for i, name in enumerate(features)}
    covered = [c for g in groups for c in g.columns]
    missing = sorted(set(features) - set(covered))
    if missing or len(covered) != len(set(covered)):
        raise ValueError(f"every feature must be in exactly one driver group; missing {missing}")
    return [[index[c] for c in g.columns] for g in groups]

Progress = Callable[[str], None] | None


# ----------------------------------------------------------------------------- dates
def month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def last_month_end_on_or_before(d: date) -> date:
    end = month_end(d)
    return end if end <= d else d.replace(day=1) - timedelta(days=1)


def previous_month_end(d: date) -> date:
    return d.replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class SnapshotPlan:
    """Which as-of dates train, calibrate and are predicted (see the module docstring)."""

    train_dates: tuple[date, ...]
    calibration_date: date
    target_date: date

    def all_dates(self) -> tuple[date, ...]:
        return (*self.train_dates, self.calibration_date, self.target_date)

    def to_json(self) -> dict:
        return {"train_dates": [d.isoformat() for d in self.train_dates],
                "calibration_date": self.calibration_date.isoformat(),
                "target_date": self.target_date.isoformat()}


def snapshot_plan(target: date, n_train: int = DEFAULT_TRAIN_SNAPSHOTS) -> SnapshotPlan:
    """Training and calibration snapshots for predicting at `target`, all labels observed
    by `target` (label window of a snapshot d is (d, d + 90 days])."""
    if n_train < 1:
        raise ValueError(f"n_train must be at least 1, got {n_train}")
    horizon = timedelta(days=HORIZON_DAYS)
    calibration = last_month_end_on_or_before(target - horizon)
    last_train = last_month_end_on_or_before(calibration - horizon)
    dates = [last_train]
    while len(dates) < n_train:
        dates.append(previous_month_end(dates[-1]))
    return SnapshotPlan(tuple(sorted(dates)), calibration, target)


def clip_plan(plan: SnapshotPlan, first_usable: date) -> SnapshotPlan:
    """Drop training snapshots dated before `first_usable` (too early in the recorded
    history for the look-back windows); raise if nothing is left to train on."""
    kept = tuple(d for d in plan.train_dates if d >= first_usable)
    if not kept or plan.calibration_date < first_usable:
        start = first_usable - timedelta(days=HORIZON_DAYS)
        needed = plan.train_dates[-1] - timedelta(days=HORIZON_DAYS)
        raise CannotTrain(
            f"Cannot train the churn-risk model: not enough history — it starts on {start}, and a "
            f"model tested on {plan.target_date} needs a training month end ({plan.train_dates[-1]}) "
            f"and a calibration month end ({plan.calibration_date}) at least {HORIZON_DAYS} days after "
            f"the start, each with its {HORIZON_DAYS}-day outcome known; import customers, churn dates "
            f"and touchpoints going back to {needed} or earlier.")
    return SnapshotPlan(kept, plan.calibration_date, plan.target_date)


def first_usable_snapshot(db: Database) -> date:
    """Earliest as-of date worth a snapshot: 90 days after the history starts
    (`schema_info.history_start`, else the first touchpoint)."""
    start = db.schema_info().get("history_start")
    if start:
        first = date.fromisoformat(start)
    else:
        earliest = db.ibis().execute(db.table("touchpoints").occurred_at.min())
        first = pd.Timestamp(earliest).date() if earliest is not None and not pd.isna(earliest) else date.min
    return first + timedelta(days=HORIZON_DAYS) if first != date.min else first


def check_trainable(labelled: Sequence[tuple[str, pd.DataFrame]], first_snapshot: date, as_of: date) -> None:
    """Raise `CannotTrain` (one sentence: why, and what data would fix it) unless every
    labelled set — (description, frame) pairs — has at least `MIN_CHURNERS` customers who
    churned within 90 days of their snapshot and `MIN_STAYERS` who did not. With fewer
    the fit, the Platt calibration or the backtest would rest on a handful of events (or
    fail outright on one class); see `analytics.risk.defaults.MIN_CHURNERS`."""
    for what, frame in labelled:
        churners = int(frame[LABEL].sum()) if len(frame) else 0
        stayers = len(frame) - churners
        if churners < MIN_CHURNERS:
            raise CannotTrain(
                f"Cannot train the churn-risk model: in {what} "
                f"{'only ' if churners else ''}{churners:,} of {len(frame):,} active customer snapshots churned within "
                f"{HORIZON_DAYS} days, and it needs at least {MIN_CHURNERS} churners in each training, "
                f"calibration and test snapshot set; import the churn dates of the customers who left "
                f"between {first_snapshot} and {as_of} (or more customers).")
        if stayers < MIN_STAYERS:
            raise CannotTrain(
                f"Cannot train the churn-risk model: in {what} only {stayers:,} of {len(frame):,} active customer "
                f"snapshots stayed {HORIZON_DAYS} days, and it needs at least {MIN_STAYERS} stayers in each "
                f"snapshot set; import the customers who are still active (without a churn date) too.")


def dropped_feature_groups(absent: dict[str, str], train_frames: Sequence[pd.DataFrame],
                           last_train: date) -> list[dict]:
    """What the model leaves out and why: each absent data source (`absent_sources`) drops
    its features, and so does any remaining driver group with a feature that has no value
    at all in the training rows (e.g. surveys that started after the last training
    snapshot) — an all-missing column carries no signal and breaks the booster's binning.
    One entry per drop: {"source", "reason", "features", "groups"}."""
    out: list[dict] = []
    dropped: set[str] = set()
    for source, reason in absent.items():
        columns = [c for c in FEATURE_SOURCES[source] if c not in dropped]
        if not columns:  # surveys and notes are touchpoints: already gone with them
            continue
        groups = [g.name for g in DRIVER_GROUPS if set(g.columns) & set(columns)]
        dropped |= {c for g in DRIVER_GROUPS if g.name in groups for c in g.columns}
        out.append({"source": source, "label": SOURCE_LABELS[source], "reason": reason,
                    "features": columns, "groups": groups})
    for g in model_groups([c for c in FEATURES if c not in dropped]):
        empty = [c for c in g.columns if any(frame[c].isna().all() for frame in train_frames)]
        if empty:
            dropped |= set(g.columns)
            out.append({"source": g.name, "label": g.name.replace("_", " "), "features": list(g.columns),
                        "groups": [g.name],
                        "reason": f"no value of {', '.join(empty)} in the training snapshots up to {last_train}"})
    return out


def backtest_plan(as_of: date, n_train: int = DEFAULT_TRAIN_SNAPSHOTS) -> SnapshotPlan:
    """The plan one step earlier: the target is the last month end whose 90-day outcome
    is fully observed on `as_of`, so the model can be tested on it."""
    test = last_month_end_on_or_before(as_of - timedelta(days=HORIZON_DAYS))
    return snapshot_plan(test, n_train)


# ----------------------------------------------------------------------------- models
def _features_only(frame: pd.DataFrame, features: Sequence[str] = FEATURES) -> pd.DataFrame:
    return frame.loc[:, list(features)]


def stayer_sample(y: np.ndarray, share: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows kept for fitting (every churner, a seeded `share` of the stayers) and their
    weights (1 for churners, 1/share for stayers), so weighted rates stay unbiased."""
    if not 0 < share <= 1:
        raise ValueError(f"stayer share must be in (0, 1], got {share}")
    rng = np.random.default_rng(random_state)
    keep = (y == 1) | (rng.random(len(y)) < share)
    return keep, np.where(y[keep] == 1, 1.0, 1.0 / share)


class ChurnRiskModel:
    """Gradient-boosted trees + Platt calibration; `fit` returns self, fitted attributes
    end in `_`."""

    name = MODEL_NAME

    def __init__(self, random_state: int = DEFAULT_SEED, stayer_share: float = STAYER_SAMPLE_SHARE,
                 features: Sequence[str] = FEATURES, extra_groups: Sequence[DriverGroup] = (), **params) -> None:
        if not 0 < stayer_share <= 1:
            raise ValueError(f"stayer_share must be in (0, 1], got {stayer_share}")
        self.random_state = random_state
        self.stayer_share = stayer_share
        base = model_groups(features)
        self.groups = (*base, *extra_groups)  # extra: custom attributes, one categorical column each
        # in FEATURES order, whole groups only (a dropped source takes its groups with it)
        self.features = (*(c for c in FEATURES if c in {c for g in base for c in g.columns}),
                         *(c for g in extra_groups for c in g.columns))
        self.params = {**HGB_PARAMS,
                       "monotonic_cst": {c: v for c, v in MONOTONE_CONSTRAINTS.items() if c in self.features},
                       "interaction_cst": interaction_constraints(self.groups, self.features), **params}

    def fit(self, train: pd.DataFrame, calibration: pd.DataFrame) -> "ChurnRiskModel":
        _check_frame(train, "training", self.features)
        _check_frame(calibration, "calibration", self.features)
        y = train[LABEL].to_numpy()
        keep, weight = stayer_sample(y, self.stayer_share, self.random_state)
        # the categories the model knows: scoring conforms its features to them
        # (analytics.score.score_snapshot), whatever values a later file holds
        self.categories_ = frame_categories(train)
        self.estimator_ = HistGradientBoostingClassifier(
            categorical_features="from_dtype", random_state=self.random_state, **self.params)
        self.estimator_.fit(_features_only(train.loc[keep], self.features), y[keep], sample_weight=weight)
        self.fitted_rows_ = int(keep.sum())
        self.calibrator_ = CalibratedClassifierCV(FrozenEstimator(self.estimator_), method="sigmoid")
        self.calibrator_.fit(_features_only(calibration, self.features), calibration[LABEL].to_numpy())
        self.baselines_: dict[str, Baseline] = fit_baselines(train, self.groups)
        self.train_rows_ = len(train)
        self.train_base_rate_ = float(train[LABEL].mean())
        self.calibration_rows_ = len(calibration)
        self.calibration_base_rate_ = float(calibration[LABEL].mean())
        return self

    def logit(self, features: pd.DataFrame) -> np.ndarray:
        """The booster's log-odds (before calibration)."""
        return self.estimator_.decision_function(_features_only(features, self.features))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated P(churn within 90 days)."""
        return self.calibrator_.predict_proba(_features_only(features, self.features))[:, 1]

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each driver group's exact contribution to each customer's log-odds, against the
        training population's baseline (`analytics.risk.drivers.additive_contributions`)."""
        return additive_contributions(self.logit, features, self.baselines_, self.groups)

    def explain(self, features: pd.DataFrame, contributions: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-customer top drivers in words (`analytics.risk.drivers.top_drivers`)."""
        if contributions is None:
            contributions = self.contributions(features)
        return top_drivers(contributions, features, groups=self.groups)


class UnresolvedComplaintRule:
    """The simple rule: flagged when the customer had an unresolved complaint in the last
    30 days. Its "probability" is the churn rate of flagged / unflagged customers in the
    calibration snapshot, so it can be scored with the Brier score too."""

    def fit(self, train: pd.DataFrame, calibration: pd.DataFrame) -> "UnresolvedComplaintRule":
        flag = self.flag(calibration)
        y = calibration[LABEL].to_numpy()
        self.rate_flagged_ = float(y[flag].mean()) if flag.any() else float(y.mean())
        self.rate_unflagged_ = float(y[~flag].mean()) if (~flag).any() else float(y.mean())
        return self

    @staticmethod
    def flag(features: pd.DataFrame) -> np.ndarray:
        return features["unresolved_complaints_30d"].to_numpy() > 0

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        return np.where(self.flag(features), self.rate_flagged_, self.rate_unflagged_)


def _check_frame(frame: pd.DataFrame, what: str, features: Sequence[str] = FEATURES) -> None:
    missing = [c for c in (*features, LABEL) if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks column(s) {missing}")
    if frame.empty:
        raise ValueError(f"{what} frame is empty: no active customers on its as-of date(s)")
    if frame[LABEL].nunique() < 2:
        raise ValueError(f"{what} frame has only one outcome class; need churners and stayers")


# ----------------------------------------------------------------------------- metrics
@dataclass(frozen=True)
class Metrics:
    """Discrimination and calibration of one scorer on one snapshot."""

    roc_auc: float
    pr_auc: float  # average precision
    top_decile_lift: float  # churn rate in the riskiest 10 % ÷ overall churn rate
    top_decile_capture: float  # share of all churners found in the riskiest 10 %
    brier: float
    customers: int
    churners: int

    @property
    def base_rate(self) -> float:
        return self.churners / self.customers if self.customers else float("nan")


def top_share_capture(y: np.ndarray, score: np.ndarray, share: float = 0.1) -> float:
    """Expected number of churners among the top `share` of customers by score; customers
    tied at the cut-off count pro rata (a binary rule has huge ties)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    k = int(np.ceil(share * len(y)))
    if k == 0:
        return 0.0
    cut = np.sort(score)[::-1][k - 1]
    above = score > cut
    tied = score == cut
    room = k - int(above.sum())
    return float(y[above].sum() + (y[tied].sum() * room / tied.sum() if tied.any() else 0.0))


def score_metrics(y: np.ndarray, p: np.ndarray) -> Metrics:
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    churners = int(y.sum())
    base = churners / len(y)
    captured = top_share_capture(y, p, 0.1)
    k = int(np.ceil(0.1 * len(y)))
    return Metrics(
        roc_auc=float(roc_auc_score(y, p)),
        pr_auc=float(average_precision_score(y, p)),
        top_decile_lift=float((captured / k) / base) if base else float("nan"),
        top_decile_capture=float(captured / churners) if churners else float("nan"),
        brier=float(brier_score_loss(y, p)),
        customers=len(y),
        churners=churners,
    )


def paired_bootstrap_auc_difference(
    y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, n_resamples: int = 200,
    random_state: int = DEFAULT_SEED, max_rows: int = 50_000,
) -> dict[str, float]:
    """ROC AUC of scorer a minus scorer b, with a 95 % percentile interval from a paired
    bootstrap over customers (both scorers see the same resampled customers)."""
    rng = np.random.default_rng(random_state)
    y, p_a, p_b = np.asarray(y), np.asarray(p_a), np.asarray(p_b)
    if len(y) > max_rows:
        keep = rng.choice(len(y), max_rows, replace=False)
        y, p_a, p_b = y[keep], p_a[keep], p_b[keep]
    diffs = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        diffs.append(roc_auc_score(y[idx], p_a[idx]) - roc_auc_score(y[idx], p_b[idx]))
    point = roc_auc_score(y, p_a) - roc_auc_score(y, p_b)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {"difference": float(point), "ci_low": float(lo), "ci_high": float(hi),
            "share_of_resamples_model_better": float(np.mean(np.asarray(diffs) > 0))}


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Binned reliability curve: customers split into `bins` equal-size groups by predicted
    probability; mean predicted vs observed churn rate in each."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
    out = frame.groupby("bin").agg(customers=("y", "size"), mean_predicted=("p", "mean"),
                                   observed_rate=("y", "mean"), p_min=("p", "min"), p_max=("p", "max"))
    return [{"bin": int(b) + 1, **{k: (int(v) if k == "customers" else float(v)) for k, v in row.items()}}
            for b, row in out.iterrows()]


def lift_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Deciles by predicted risk, riskiest first: churners, churn rate, lift and the
    cumulative share of all churners captured down to that decile."""
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)})
    frame["decile"] = bins - pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
    base = frame["y"].mean()
    total = frame["y"].sum()
    out = frame.groupby("decile").agg(customers=("y", "size"), churners=("y", "sum"),
                                      mean_predicted=("p", "mean")).sort_index()
    out["churn_rate"] = out["churners"] / out["customers"]
    out["lift"] = out["churn_rate"] / base if base else np.nan
    out["cumulative_capture"] = out["churners"].cumsum() / total if total else np.nan
    return [{"decile": int(d), "customers": int(r.customers), "churners": int(r.churners),
             "churn_rate": float(r.churn_rate), "mean_predicted": float(r.mean_predicted),
             "lift": float(r.lift), "cumulative_capture": float(r.cumulative_capture)}
            for d, r in out.iterrows()]


def additive_permutation_importance(
    logits: np.ndarray,
    contributions: pd.DataFrame,
    y: np.ndarray,
    n_repeats: int = 5,
    random_state: int = DEFAULT_SEED,
    groups: Sequence[DriverGroup] = DRIVER_GROUPS,
) -> list[dict]:
    """`grouped_permutation_importance` for a model additive across groups, without
    re-predicting: shuffling group g's columns replaces its term f_g(x_g) by another
    customer's, so the shuffled log-odds are f − c_g + c_g[perm]. ROC AUC is unchanged by
    the monotone calibration map, so it is computed on the log-odds directly."""
    rng = np.random.default_rng(random_state)
    y = np.asarray(y)
    reference = roc_auc_score(y, logits)
    out = []
    for g in groups:
        c = contributions[g.name].to_numpy()
        drops = [reference - roc_auc_score(y, logits - c + c[rng.permutation(len(c))])
                 for _ in range(n_repeats)]
        out.append({"group": g.name, "features": list(g.columns),
                    "auc_drop": float(np.mean(drops)), "auc_drop_std": float(np.std(drops))})
    out.sort(key=lambda r: -r["auc_drop"])
    return out


def grouped_permutation_importance(
    predict: Callable[[pd.DataFrame], np.ndarray],
    features: pd.DataFrame,
    y: np.ndarray,
    groups: Sequence[DriverGroup] = DRIVER_GROUPS,
    n_repeats: int = 3,
    random_state: int = DEFAULT_SEED,
    max_rows: int = 50_000,
) -> list[dict]:
    """Permutation importance per driver group: the drop in ROC AUC when the group's
    columns are shuffled together across customers (Breiman 2001; sklearn's
    `permutation_importance` shuffles one column at a time, which understates correlated
    columns such as the 30- and 90-day counts). Mean and std over `n_repeats` shuffles."""
    rng = np.random.default_rng(random_state)
    y = np.asarray(y)
    if len(features) > max_rows:
        keep = np.sort(rng.choice(len(features), max_rows, replace=False))
        features, y = features.iloc[keep].reset_index(drop=True), y[keep]
    else:
        features = features.reset_index(drop=True)
    reference = roc_auc_score(y, predict(features))
    out = []
    for g in groups:
        drops = []
        for _ in range(n_repeats):
            perm = rng.permutation(len(features))
            shuffled = features.copy()
            for col in g.columns:
                shuffled[col] = features[col].to_numpy()[perm]
                if isinstance(features[col].dtype, pd.CategoricalDtype):
                    shuffled[col] = pd.Categorical(shuffled[col], categories=features[col].cat.categories)
            drops.append(reference - roc_auc_score(y, predict(shuffled)))
        out.append({"group": g.name, "features": list(g.columns),
                    "auc_drop": float(np.mean(drops)), "auc_drop_std": float(np.std(drops))})
    out.sort(key=lambda r: -r["auc_drop"])
    return out


# ----------------------------------------------------------------------------- training
def sample_customer_ids(db: Database, as_of: date, size: int, seed: int = DEFAULT_SEED) -> np.ndarray | None:
    """A seeded random sample of `size` customers who signed up by `as_of` (None = all,
    when there are no more than `size`)."""
    c = db.table("customers")
    ids = db.ibis().to_pandas(
        c.filter(c.signup_date <= as_of).select("customer_id").order_by("customer_id"))["customer_id"].to_numpy()
    if len(ids) <= size:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(np.asarray(ids), size, replace=False))


@dataclass
class Backtest:
    """The held-out evaluation of the recipe (one step before the production fit)."""

    plan: SnapshotPlan
    metrics: dict[str, Metrics]  # "model", "logistic", "rule", "base_rate"
    reliability: list[dict]
    lift: list[dict]
    importance: list[dict]
    auc_difference: dict[str, dict[str, float]] = field(default_factory=dict)  # vs logistic / rule
    calibration_method: str = "sigmoid"
    # which of booster / logistic regression the scorer uses, and why (`choose_model`)
    choice: dict = field(default_factory=dict)
    # how the held-out data was drawn: {"kind": "backtest" | "cross_sectional", "label", "reason"}
    evaluation: dict = field(default_factory=dict)

    def improvement(self) -> dict[str, dict[str, float]]:
        """Model minus each baseline, per metric (Brier: baseline minus model, so positive
        always means the model is better)."""
        m = self.metrics["model"]
        out = {}
        for name in ("logistic", "rule", "base_rate"):
            b = self.metrics[name]
            out[name] = {
                "roc_auc": m.roc_auc - b.roc_auc,
                "pr_auc": m.pr_auc - b.pr_auc,
                "top_decile_lift": m.top_decile_lift - b.top_decile_lift,
                "top_decile_capture": m.top_decile_capture - b.top_decile_capture,
                "brier": b.brier - m.brier,
            }
        return out


@dataclass
class TrainingResult:
    model: ChurnRiskModel
    plan: SnapshotPlan  # production: its target_date is the scoring date
    backtest: Backtest
    sample_customers: int | None  # None = every customer
    seconds: float
    model_version: str
    timings: dict[str, float] = field(default_factory=dict)
    dropped: list[dict] = field(default_factory=list)  # `dropped_feature_groups`
    attributes: list[dict] = field(default_factory=list)  # custom attributes used (`AttributeSpec.to_json`)

    @property
    def categories(self) -> dict[str, list[str]]:
        """The categories of contract type, plan and segment the model was trained with."""
        return {name: list(values) for name, values in getattr(self.model, "categories_", {}).items()}


def _version(plan: SnapshotPlan, sample_size: int | None, seed: int,
             features: Sequence[str] = FEATURES, name: str = MODEL_NAME) -> str:
    recipe = {"recipe": RECIPE_VERSION, "features": list(features), "params": HGB_PARAMS,
              "plan": plan.to_json(), "sample": sample_size, "seed": seed, "model": name}
    digest = hashlib.sha1(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{name}-{RECIPE_VERSION}+{plan.target_date.isoformat()}.{digest}"


def train_risk_model(
    db: Database,
    as_of: date,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    n_train: int = DEFAULT_TRAIN_SNAPSHOTS,
    seed: int = DEFAULT_SEED,
    progress: Progress = None,
) -> TrainingResult:
    """Backtest the recipe on the last fully observed month end before `as_of`, then fit
    the production model whose calibration snapshot is that month end (module docstring).

    Training uses a seeded sample of at most `sample_size` customers (all snapshots of a
    sampled customer), so the cost does not grow with the customer base.

    Features of data the database lacks (no surveys, notes, touchpoints or revenue rows)
    are left out (`dropped_feature_groups`, listed on the model card). Raises `CannotTrain`
    when the history is too short or a labelled set has too few churners or stayers
    (`check_trainable`), before anything is fitted."""
    reason = single_snapshot_reason(db, as_of)
    if reason:
        return train_cross_sectional(db, as_of, reason, sample_size=sample_size, seed=seed, progress=progress)
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    first = first_usable_snapshot(db)
    test_plan = clip_plan(backtest_plan(as_of, n_train), first)
    prod_plan = clip_plan(snapshot_plan(as_of, n_train), first)
    ids = sample_customer_ids(db, as_of, sample_size, seed)
    say(f"training sample: {'all' if ids is None else f'{len(ids):,}'} customers; "
        f"backtest on {test_plan.target_date}, scoring {as_of}")

    frames: dict[date, pd.DataFrame] = {}
    t0 = time.perf_counter()
    categories = feature_categories(db)  # read once: every snapshot gets the same categories
    for d in sorted(set(test_plan.all_dates()) | set(prod_plan.train_dates) | {prod_plan.calibration_date}):
        frames[d] = snapshot_features(db, d, ids, categories)
        say(f"  features as of {d}: {len(frames[d]):,} active customers, "
            f"{frames[d][LABEL].mean():.1%} churn in 90 days")
    timings["features_s"] = time.perf_counter() - t0

    def stack(dates: Sequence[date]) -> pd.DataFrame:
        return pd.concat([frames[d] for d in dates], ignore_index=True)

    def span(dates: Sequence[date]) -> str:
        return f"{dates[0]}" if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"

    train, calib, test = stack(test_plan.train_dates), frames[test_plan.calibration_date], frames[test_plan.target_date]
    prod_train, prod_calib = stack(prod_plan.train_dates), frames[prod_plan.calibration_date]
    check_trainable([
        (f"the backtest's training snapshots ({span(test_plan.train_dates)})", train),
        (f"the backtest's calibration snapshot ({test_plan.calibration_date})", calib),
        (f"the backtest's test snapshot ({test_plan.target_date})", test),
        (f"the training snapshots ({span(prod_plan.train_dates)})", prod_train),
        (f"the calibration snapshot ({prod_plan.calibration_date})", prod_calib),
    ], first_snapshot=min(frames), as_of=as_of)
    dropped = dropped_feature_groups(absent_sources(db, as_of), [train, prod_train], prod_plan.train_dates[-1])
    gone = {c for d in dropped for c in d["features"]}
    features = tuple(c for c in FEATURES if c not in gone)
    for d in dropped:
        say(f"  left out {d['label']}: {d['reason']}")

    # ---- backtest, then the production fit of the chosen model (the same recipe, one step later)
    evaluation = {"kind": "backtest", "label": f"backtest over time: trained on earlier month ends, "
                                                f"tested on {test_plan.target_date}"}
    rows = read_attributes(db, ids)
    specs = fit_attribute_specs(rows, prod_train["customer_id"].unique())
    if specs:
        say(f"  custom attributes as features: {', '.join(s.attribute for s in specs)}")
        train, calib, test, prod_train, prod_calib = (with_attributes(f, rows, specs)
                                                      for f in (train, calib, test, prod_train, prod_calib))
    extra = tuple(s.group() for s in specs)
    backtest, chosen = evaluate_and_choose(train, calib, test, features, seed, test_plan, evaluation, say, timings,
                                           extra)
    t0 = time.perf_counter()
    # the logistic regression keeps the penalty its backtest cross-validation chose: the
    # production fit is the same recipe one step later, not a second search
    refit = {"c_grid": (backtest.choice["logistic_C"],)} if chosen is LogisticRiskModel else {}
    production = chosen(random_state=seed, features=features, extra_groups=extra, **refit).fit(prod_train, prod_calib)
    production.attributes_ = specs
    timings["production_fit_s"] = time.perf_counter() - t0
    say(f"  production {production.name} fitted on {production.train_rows_:,} rows "
        f"({timings['production_fit_s']:.0f} s)")
    return TrainingResult(
        model=production,
        plan=prod_plan,
        backtest=backtest,
        sample_customers=None if ids is None else len(ids),
        seconds=time.perf_counter() - started,
        model_version=_version(prod_plan, None if ids is None else len(ids), seed, production.features,
                               production.name),
        timings=timings,
        dropped=dropped,
        attributes=[s.to_json() for s in specs],
    )


# ----------------------------------------------------------------------------- model choice
# The primary metric is the held-out ROC AUC (the at-risk list is a ranking); the booster is
# used only when it beats the logistic regression by at least NEAR_TIE_AUC, otherwise the
# simpler logistic regression is (docs/decisions/006-churn-risk-model.md, "Model choice").
PRIMARY_METRIC = "roc_auc"
NEAR_TIE_AUC = 0.005
MODEL_LABELS = {"model": "gradient-boosted trees", "logistic": "logistic regression"}
CHOICE_RULE = (f"the gradient-boosted trees are used only when their held-out ROC AUC beats the logistic "
               f"regression's by at least {NEAR_TIE_AUC}; a smaller gain, a tie or a loss goes to the simpler "
               f"logistic regression")


def choose_model(metrics: dict[str, Metrics]) -> dict:
    """Which scorer the product uses, from the held-out figures of "model" (the booster) and
    "logistic" (`CHOICE_RULE`): {"chosen", "chosen_label", "primary_metric", "margin",
    "booster_minus_logistic", "rule", "reason"}."""
    booster, logistic = metrics["model"].roc_auc, metrics["logistic"].roc_auc
    gain = booster - logistic
    chosen = "model" if gain >= NEAR_TIE_AUC else "logistic"
    if chosen == "model":
        reason = (f"gradient-boosted trees: held-out ROC AUC {booster:.4f} against the logistic regression's "
                  f"{logistic:.4f}, a gain of {gain:+.4f}, at least the required {NEAR_TIE_AUC}")
    elif gain > 0:
        reason = (f"logistic regression: the trees' held-out ROC AUC {booster:.4f} beats its {logistic:.4f} by only "
                  f"{gain:+.4f}, under the required {NEAR_TIE_AUC}, so the near-tie goes to the simpler model")
    else:
        reason = (f"logistic regression: its held-out ROC AUC {logistic:.4f} is at least the trees' {booster:.4f} "
                  f"({-gain:+.4f})")
    return {"chosen": chosen, "chosen_label": MODEL_LABELS[chosen], "primary_metric": PRIMARY_METRIC,
            "margin": NEAR_TIE_AUC, "booster_minus_logistic": float(gain), "rule": CHOICE_RULE, "reason": reason}


def evaluate_and_choose(train: pd.DataFrame, calib: pd.DataFrame, test: pd.DataFrame, features: Sequence[str],
                        seed: int, plan: SnapshotPlan, evaluation: dict, say: Callable[[str], None],
                        timings: dict[str, float], extra_groups: Sequence[DriverGroup] = ()) -> tuple[Backtest, type]:
    """Fit the booster, the logistic regression and the rule on `train` (+ `calib`), score
    the held-out `test` rows, pick the scorer (`choose_model`) and describe the chosen one
    (reliability, lift, importance). Returns the `Backtest` and the chosen class."""
    t0 = time.perf_counter()
    # the two fits are most of a run's time (minutes on a busy box): say each one starts
    say(f"  fitting the gradient-boosted trees on {len(train):,} rows")
    booster = ChurnRiskModel(random_state=seed, features=features, extra_groups=extra_groups).fit(train, calib)
    say(f"  fitting the logistic regression (the trees took {time.perf_counter() - t0:.0f} s)")
    logistic = LogisticRiskModel(random_state=seed, features=features, extra_groups=extra_groups).fit(train, calib)
    rule = UnresolvedComplaintRule().fit(train, calib)
    y = test[LABEL].to_numpy()
    p_model, p_logistic, p_rule = booster.predict_proba(test), logistic.predict_proba(test), rule.predict_proba(test)
    metrics = {
        "model": score_metrics(y, p_model),
        "logistic": score_metrics(y, p_logistic),
        "rule": score_metrics(y, p_rule),
        "base_rate": score_metrics(y, np.full(len(y), calib[LABEL].mean())),
    }
    auc_difference = {"logistic": paired_bootstrap_auc_difference(y, p_model, p_logistic, random_state=seed),
                      "rule": paired_bootstrap_auc_difference(y, p_model, p_rule, random_state=seed)}
    timings["backtest_fit_s"] = time.perf_counter() - t0
    choice = choose_model(metrics)
    choice["logistic_C"] = logistic.C_
    say(f"  held out: trees AUC {metrics['model'].roc_auc:.3f}, logistic {metrics['logistic'].roc_auc:.3f}, "
        f"rule {metrics['rule'].roc_auc:.3f} ({time.perf_counter() - t0:.0f} s); using {choice['reason']}")
    chosen, p_chosen = (booster, p_model) if choice["chosen"] == "model" else (logistic, p_logistic)
    t0 = time.perf_counter()
    importance = additive_permutation_importance(chosen.logit(test), chosen.contributions(test), y,
                                                 random_state=seed, groups=chosen.groups)
    timings["importance_s"] = time.perf_counter() - t0
    backtest = Backtest(plan, metrics, reliability_table(y, p_chosen), lift_table(y, p_chosen), importance,
                        auc_difference, choice=choice, evaluation=evaluation)
    return backtest, type(chosen)


# ----------------------------------------------------------------------------- single snapshot
CROSS_SECTIONAL_LABEL = "cross-sectional, stratified holdout — not a backtest over time"
HOLDOUT_SHARES = (0.5, 0.25, 0.25)  # training / calibration / test, each stratified by outcome


def single_snapshot_reason(db: Database, as_of: date) -> str | None:
    """Why no time-split backtest is possible, or None when one is: every churned customer
    has the same churn date (the data says who left, not when), or the history holds no
    month end whose 90-day outcome is known by `as_of`."""
    one_date = single_churn_date(db, as_of)  # the rule the pages' churn-dates notes use too
    if one_date:
        n, when = one_date
        return (f"every churned customer ({n:,}) has the same churn date, {when}: the data records who has "
                f"left, not when, so no model can be trained on earlier months and tested on a later one")
    first = first_usable_snapshot(db)
    if first != date.min:
        start = first - timedelta(days=HORIZON_DAYS)
        if last_month_end_on_or_before(as_of - timedelta(days=HORIZON_DAYS)) < start:
            return (f"the history starts on {start}, so no month end before {as_of} has its "
                    f"{HORIZON_DAYS}-day outcome on record: there is only the one snapshot of who has left")
    return None


def cross_sectional_frame(db: Database, as_of: date, ids: np.ndarray | None) -> tuple[date, pd.DataFrame]:
    """Features of the customers active the day before the first churn date on or before
    `as_of` (everyone who later churned is still active then), labelled 1 when the customer
    churned on or before `as_of`, 0 when still active. Returns (snapshot date, frame)."""
    c = db.table("customers")
    lost = c.filter(c.churn_date.notnull() & (c.churn_date <= ibis.literal(as_of)))
    first = db.ibis().to_pandas(lost.aggregate(first=lost.churn_date.min()))["first"].iloc[0]
    snapshot = (pd.Timestamp(first).date() - timedelta(days=1)) if pd.notna(first) else as_of
    frame = snapshot_features(db, snapshot, ids, feature_categories(db))
    churn = db.ibis().to_pandas(c.select("customer_id", "churn_date"))
    churn_date = frame["customer_id"].map(churn.set_index("customer_id")["churn_date"])
    frame[LABEL] = (pd.to_datetime(churn_date).notna() & (pd.to_datetime(churn_date) <= pd.Timestamp(as_of))
                    ).astype("int8").to_numpy()
    return snapshot, frame


def stratified_holdout(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Training, calibration and test rows (`HOLDOUT_SHARES`), each with the frame's churn
    share (seeded shuffle within each outcome class)."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(frame[LABEL].to_numpy() == label))
        cuts = np.round(np.cumsum(HOLDOUT_SHARES)[:-1] * len(rows)).astype(int)
        for part, chunk in zip(parts, np.split(rows, cuts)):
            part.append(chunk)
    return tuple(frame.iloc[np.sort(np.concatenate(p))].reset_index(drop=True) for p in parts)


def train_cross_sectional(db: Database, as_of: date, reason: str, sample_size: int = DEFAULT_SAMPLE_SIZE,
                          seed: int = DEFAULT_SEED, progress: Progress = None) -> TrainingResult:
    """The single-snapshot recipe (`single_snapshot_reason` says why): churned vs active on
    `as_of` from one snapshot (`cross_sectional_frame`), evaluated on a stratified holdout
    (`stratified_holdout`) — the same comparison and choice as the backtest, labelled
    `CROSS_SECTIONAL_LABEL`; the chosen model is then refitted on training + test rows and
    calibrated on the calibration rows."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    ids = sample_customer_ids(db, as_of, sample_size, seed)
    say(f"no time-split backtest possible ({reason}); training a cross-sectional model")
    t0 = time.perf_counter()
    snapshot, frame = cross_sectional_frame(db, as_of, ids)
    timings["features_s"] = time.perf_counter() - t0
    train, calib, test = stratified_holdout(frame, seed)
    check_trainable([(f"the cross-sectional training rows (snapshot {snapshot})", train),
                     (f"the cross-sectional calibration rows (snapshot {snapshot})", calib),
                     (f"the cross-sectional test rows (snapshot {snapshot})", test)],
                    first_snapshot=snapshot, as_of=as_of)
    dropped = dropped_feature_groups(absent_sources(db, snapshot), [train], snapshot)
    gone = {c for d in dropped for c in d["features"]}
    features = tuple(c for c in FEATURES if c not in gone)
    plan = SnapshotPlan((snapshot,), snapshot, snapshot)
    evaluation = {"kind": "cross_sectional", "label": CROSS_SECTIONAL_LABEL, "reason": reason,
                  "snapshot_date": snapshot.isoformat(),
                  "outcome": f"churned between {snapshot} and {as_of} (not a 90-day window)",
                  "caveat": "the features are taken the day before the churned customers left, so they include "
                            "their last contacts (a cancellation request, say): the held-out figures overstate "
                            "how early the model can see churn coming, and the probabilities are the share "
                            "churned by the as-of date, not a 90-day rate",
                  "shares": {"training": HOLDOUT_SHARES[0], "calibration": HOLDOUT_SHARES[1],
                             "test": HOLDOUT_SHARES[2]}}
    rows = read_attributes(db, ids)
    specs = fit_attribute_specs(rows, frame["customer_id"].unique())
    if specs:
        say(f"  custom attributes as features: {', '.join(s.attribute for s in specs)}")
        train, calib, test = (with_attributes(f, rows, specs) for f in (train, calib, test))
    extra = tuple(s.group() for s in specs)
    backtest, chosen = evaluate_and_choose(train, calib, test, features, seed, plan, evaluation, say, timings,
                                           extra)
    t0 = time.perf_counter()
    production = chosen(random_state=seed, features=features, extra_groups=extra).fit(
        pd.concat([train, test], ignore_index=True), calib)
    production.attributes_ = specs
    timings["production_fit_s"] = time.perf_counter() - t0
    prod_plan = SnapshotPlan((snapshot,), snapshot, as_of)
    return TrainingResult(
        model=production, plan=prod_plan, backtest=backtest,
        sample_customers=None if ids is None else len(ids), seconds=time.perf_counter() - started,
        model_version=_version(prod_plan, None if ids is None else len(ids), seed, production.features,
                               production.name),
        timings=timings, dropped=dropped, attributes=[s.to_json() for s in specs])


def metrics_json(m: Metrics) -> dict:
    return {**asdict(m), "base_rate": m.base_rate}
