"""The regularised logistic regression the booster must beat (docs/decisions/006, "Model choice").

Design: every feature is expanded on its own — a categorical into one-hot columns
(unknown categories → all zeros), a numeric into one-hot quantile bins (`N_BINS`, ties
merged), its standardised value as a linear term, and a missing-value indicator
(median-imputed first) — and an L2-penalised
`LogisticRegression` is fitted on the expansion. Its log-odds are therefore

    f(x) = β₀ + Σ_j β_j · φ_j(x),   each design column φ_j built from exactly one feature,

a sum of one step function per feature, hence per driver group. The driver contribution
of group g is then exact by construction, with no re-prediction:

    c_g(x) = Σ_{j ∈ g} β_j · (φ_j(x) − r_j),   r_j = Σ_k w_k φ_j(b_k)

with the same population baselines b_k (category mix / medians, weights w_k) as the
booster's drivers (`analytics.risk.drivers.fit_baselines`), so Σ_g c_g(x) = f(x) − f_ref,
f_ref = β₀ + Σ_j β_j r_j being the log-odds of the reference customer (`reference_logit_`).

The penalty C is chosen from `C_GRID` by a 3-fold cross-validation on the training rows
only (folds by customer, so a customer's snapshots never sit on both sides; weighted log
loss; at most `CV_MAX_ROWS` rows); ties go to the smaller C (the stronger penalty).
Probabilities are Platt-calibrated on the calibration snapshot, exactly like the booster.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

from analytics.risk.defaults import DEFAULT_SEED
from analytics.risk.drivers import Baseline, DriverGroup, _set, fit_baselines, top_drivers
from analytics.risk.features import CATEGORICAL_FEATURES, FEATURES, LABEL, frame_categories

LOGISTIC_NAME = "churn-logistic"
N_BINS = 6  # quantile bins per numeric feature (ties merged: a count that is mostly 0 gets fewer)
C_GRID = (0.01, 0.1, 1.0, 10.0)  # inverse L2 penalty strengths tried by the cross-validation
CV_FOLDS = 3
CV_MAX_ROWS = 40_000
# Newton-Cholesky: a few exact Newton steps on a dense design of a few hundred columns and
# far more rows, where lbfgs needed hundreds of iterations (the same optimum, to tolerance).
SOLVER = "newton-cholesky"


def _feature_expansion(feature: str, categorical: bool):
    if categorical:
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    bins = KBinsDiscretizer(n_bins=N_BINS, encode="onehot-dense", strategy="quantile",
                            quantile_method="averaged_inverted_cdf", subsample=None)
    # column 0 = the imputed value, binned and also kept as a standardised linear term (a count
    # that is 0 for most customers has all its quantile bins merged into one, and the linear
    # term still carries "more contacts, more risk"); column 1, when the training rows had a
    # missing value, = the missing indicator (passed through)
    return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                     ("basis", ColumnTransformer([("bins", bins, [0]), ("linear", StandardScaler(), [0])],
                                                 remainder="passthrough"))])


def design(features: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """One transformer per feature (named after it), so every design column has one source."""
    return ColumnTransformer([(f, _feature_expansion(f, f in categorical), [f]) for f in features],
                             sparse_threshold=0.0)


class LogisticRiskModel:
    """Binned/one-hot logistic regression + Platt calibration, with exact drivers. Same
    interface as `analytics.risk.model.ChurnRiskModel` (`fit` returns self; `logit`,
    `predict_proba`, `contributions`, `explain`; fitted attributes end in `_`)."""

    name = LOGISTIC_NAME

    def __init__(self, random_state: int = DEFAULT_SEED, stayer_share: float = 1 / 3,
                 features: Sequence[str] = FEATURES, extra_groups: Sequence[DriverGroup] = (),
                 categorical: Sequence[str] = tuple(CATEGORICAL_FEATURES), c_grid: Sequence[float] = C_GRID) -> None:
        from analytics.risk.model import model_groups

        self.random_state = random_state
        self.stayer_share = stayer_share
        base = model_groups(features)
        self.groups = (*base, *extra_groups)  # extra: custom attributes, one categorical column each
        grouped = {c for g in base for c in g.columns}
        self.features = (*(c for c in features if c in grouped),  # whole groups only
                         *(c for g in extra_groups for c in g.columns))
        self.categorical = (*(c for c in categorical if c in self.features),
                            *(c for g in extra_groups for c in g.columns))
        self.c_grid = tuple(sorted(c_grid))

    # ------------------------------------------------------------------ fitting
    def choose_c(self, z: np.ndarray, y: np.ndarray, w: np.ndarray, customers: np.ndarray) -> tuple[float, dict]:
        """C from `c_grid` with the lowest mean weighted log loss over customer-grouped,
        stratified folds of the training rows' design matrix `z`; ties (within 1e-9) go to
        the smaller C. (The bin edges come from all training rows, not per fold: they use
        no label, so the folds' losses still judge only the penalty.)"""
        if len(self.c_grid) == 1:  # nothing to choose (a refit with the C the backtest chose)
            return self.c_grid[0], {}
        rng = np.random.default_rng(self.random_state)
        if len(y) > CV_MAX_ROWS:
            keep = np.sort(rng.choice(len(y), CV_MAX_ROWS, replace=False))
            z, y, w, customers = z[keep], y[keep], w[keep], customers[keep]
        n_groups_each = min(len(np.unique(customers[y == 1])), len(np.unique(customers[y == 0])))
        if n_groups_each < CV_FOLDS:
            return 1.0, {}  # too few customers of one class to cross-validate: sklearn's default
        folds = list(StratifiedGroupKFold(CV_FOLDS, shuffle=True, random_state=self.random_state)
                     .split(z, y, customers))
        losses: dict[float, float] = {}
        for c in self.c_grid:
            fold_losses = []
            for fit_idx, held_idx in folds:
                if y[fit_idx].min() == y[fit_idx].max():
                    continue
                fitted = LogisticRegression(C=c, max_iter=2000, solver=SOLVER).fit(z[fit_idx], y[fit_idx], sample_weight=w[fit_idx])
                p = fitted.predict_proba(z[held_idx])[:, 1]
                fold_losses.append(log_loss(y[held_idx], p, sample_weight=w[held_idx], labels=[0, 1]))
            losses[c] = float(np.mean(fold_losses)) if fold_losses else float("inf")
        best = min(losses.values())
        return next(c for c in self.c_grid if losses[c] <= best + 1e-9), losses

    def fit(self, train: pd.DataFrame, calibration: pd.DataFrame) -> "LogisticRiskModel":
        from analytics.risk.model import _check_frame, stayer_sample

        _check_frame(train, "training", self.features)
        _check_frame(calibration, "calibration", self.features)
        y = train[LABEL].to_numpy()
        keep, weight = stayer_sample(y, self.stayer_share, self.random_state)
        self.categories_ = frame_categories(train)  # what scoring conforms to (analytics.score)
        x = train.loc[keep, list(self.features)]
        customers = (train.loc[keep, "customer_id"].to_numpy() if "customer_id" in train.columns
                     else np.arange(int(keep.sum())))
        with warnings.catch_warnings():  # merged quantile bins of count features are expected
            warnings.filterwarnings("ignore", category=UserWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            expansion = design(self.features, self.categorical).fit(x)
        z = expansion.transform(x)
        self.C_, self.cv_log_loss_ = self.choose_c(z, y[keep], weight, customers)
        regression = LogisticRegression(C=self.C_, max_iter=2000, solver=SOLVER).fit(z, y[keep], sample_weight=weight)
        self.estimator_ = Pipeline([("design", expansion), ("logistic", regression)])
        self.fitted_rows_ = int(keep.sum())
        self.calibrator_ = CalibratedClassifierCV(FrozenEstimator(self.estimator_), method="sigmoid")
        self.calibrator_.fit(calibration.loc[:, list(self.features)], calibration[LABEL].to_numpy())
        self.baselines_: dict[str, Baseline] = fit_baselines(train, self.groups)
        self._fit_reference(train)
        self.train_rows_ = len(train)
        self.train_base_rate_ = float(train[LABEL].mean())
        self.calibration_rows_ = len(calibration)
        self.calibration_base_rate_ = float(calibration[LABEL].mean())
        return self

    def _fit_reference(self, train: pd.DataFrame) -> None:
        """r_j per design column (module docstring) and which driver group each column explains."""
        ct: ColumnTransformer = self.estimator_.named_steps["design"]
        self.coef_ = self.estimator_.named_steps["logistic"].coef_[0].copy()
        self.intercept_ = float(self.estimator_.named_steps["logistic"].intercept_[0])
        group_of = {c: j for j, g in enumerate(self.groups) for c in g.columns}
        self.column_group_ = np.full(len(self.coef_), -1, dtype=int)
        for feature, where in ct.output_indices_.items():
            if feature in group_of:
                self.column_group_[where] = group_of[feature]
        row = train.iloc[[0]].loc[:, list(self.features)]
        probes, owners, weights = [], [], []
        for j, g in enumerate(self.groups):
            for values, w in self.baselines_[g.name].points:
                probes.append(_set(row, g.columns, values))
                owners.append(j)
                weights.append(w)
        z = self._design(pd.concat(probes, ignore_index=True))  # one transform for every baseline point
        self.reference_ = np.zeros(len(self.coef_))
        for i, (j, w) in enumerate(zip(owners, weights)):
            cols = self.column_group_ == j
            self.reference_[cols] += w * z[i, cols]
        self.reference_logit_ = float(self.intercept_ + self.coef_ @ self.reference_)

    # ------------------------------------------------------------------ predicting
    def _design(self, features: pd.DataFrame) -> np.ndarray:
        return self.estimator_.named_steps["design"].transform(features.loc[:, list(self.features)])

    def logit(self, features: pd.DataFrame) -> np.ndarray:
        """The regression's log-odds f(x) (before calibration)."""
        return self.estimator_.decision_function(features.loc[:, list(self.features)])

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated P(churn within 90 days)."""
        return self.calibrator_.predict_proba(features.loc[:, list(self.features)])[:, 1]

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """c_g(x) = Σ_{j∈g} β_j (φ_j(x) − r_j) per customer and driver group, in log-odds;
        the row sums are f(x) − `reference_logit_` exactly."""
        names = [g.name for g in self.groups]
        if features.empty:
            return pd.DataFrame(np.zeros((0, len(names))), columns=names)
        terms = (self._design(features) - self.reference_) * self.coef_
        out = np.zeros((len(features), len(self.groups)))
        for j in range(len(self.groups)):
            out[:, j] = terms[:, self.column_group_ == j].sum(axis=1)
        return pd.DataFrame(out, columns=names, index=features.index)

    def explain(self, features: pd.DataFrame, contributions: pd.DataFrame | None = None) -> pd.DataFrame:
        """Per-customer top drivers in words (`analytics.risk.drivers.top_drivers`)."""
        if contributions is None:
            contributions = self.contributions(features)
        return top_drivers(contributions, features, groups=self.groups)
