"""Why a customer is at risk: per-customer driver contributions in plain words.

Features are explained in *groups* (the three unresolved-contact counts together, the
three survey answers together, ...), because a retention agent acts on "3 unresolved
contacts", not on a 30-day and a 90-day count separately.

Contribution of group g for customer x, on the model's log-odds scale f (docs/decisions/
006-churn-risk-model.md, "Driver attribution"):

    c_g(x) = f(x) − Σ_k w_k · f(x with g's features set to baseline b_k)

- numeric groups have one baseline, the training population's median of each feature
  (for counts that is "none"), weight 1;
- categorical groups (contract, plan, segment, loyalty) are compared with the population
  *mix*: one baseline per category, weighted by its share, so "month-to-month contract"
  is a driver even where month-to-month is the most common contract.

This is feature substitution against a population baseline (a one-sample, one-group
interventional attribution, cf. SHAP's "leave-one-out" special case); it explains the very
model that produced the probability, costs one extra prediction per group and category on
the customers whose value differs from the baseline, and needs no extra library.

A customer's top drivers are the groups with the largest positive contributions above
`MIN_CONTRIBUTION` (fewer than three when fewer push risk up). Each is rendered from the
customer's own feature values, so the words always match the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from analytics.risk.features import kind_count
from analytics.risk.note_signals import NOTE_SIGNALS, SIGNAL_PHRASES

# Contributions below this (log-odds; exp(0.05) ≈ +5 % odds) are not shown as drivers.
MIN_CONTRIBUTION = 0.05
TOP_DRIVERS = 3


def _n(value: float) -> int:
    return int(round(float(value)))


def _times(count: int, singular: str, plural: str | None = None) -> str:
    plural = plural or singular + "s"
    return f"{count} {singular if count == 1 else plural}"


def _count_pair(row: Mapping, col30: str, col90: str, singular: str, plural: str | None = None) -> str:
    n90, n30 = _n(row[col90]), _n(row[col30])
    text = f"{_times(n90, singular, plural)} in 90 days"
    if n30 and n30 != n90:
        text += f" ({n30} in the last 30)"
    elif n30 and n30 == n90:
        text = f"{_times(n30, singular, plural)} in 30 days"
    return text


# Contract, plan and segment values come from the data (an export's "Fiber optic" plan or
# "SMB" segment): the sample business's values get a phrase, any other value is said as it
# is, and a missing one — blank, or a value the model never saw — as unknown.
def _category(row: Mapping, column: str) -> str | None:
    value = row[column]
    return None if value is None or pd.isna(value) else str(value)


def _contract(row: Mapping) -> str:
    value = _category(row, "contract_type")
    if value is None:
        return "contract type unknown"
    return {"month_to_month": "month-to-month contract", "annual": "annual contract",
            "two_year": "two-year contract"}.get(value, f"{value} contract")


def _plan(row: Mapping) -> str:
    value = _category(row, "plan")
    return "plan unknown" if value is None else f"{value} plan"


def _segment(row: Mapping) -> str:
    value = _category(row, "segment")
    if value is None:
        return "segment unknown"
    return {"consumer": "consumer customer", "small_business": "small-business customer",
            "enterprise": "enterprise customer"}.get(value, f"{value} segment")


def _loyalty(row: Mapping) -> str:
    return "loyalty-club member" if _n(row["loyalty_member"]) else "not a loyalty-club member"


def _tenure(row: Mapping) -> str:
    months = float(row["tenure_months"])
    if months < 1:
        return "joined less than a month ago"
    if months < 24:
        return f"customer for {_times(int(months), 'month')}"
    return f"customer for {_times(int(months // 12), 'year')}"


def _mrr(row: Mapping) -> str:
    value = row["mrr"]
    return "no billing this month" if pd.isna(value) else f"MRR {float(value):,.0f} a month"


def _mrr_change(row: Mapping) -> str:
    pct = row["mrr_change_3m_pct"]
    if pd.isna(pct):
        return "no MRR history 3 months back"
    pct = 100 * float(pct)
    if abs(pct) < 0.5:
        return "MRR unchanged in 3 months"
    return f"MRR {'up' if pct > 0 else 'down'} {abs(pct):.0f}% in 3 months"


def _unresolved(row: Mapping) -> str:
    text = _count_pair(row, "unresolved_contacts_30d", "unresolved_contacts_90d", "unresolved contact")
    complaints = _n(row["unresolved_complaints_30d"])
    if complaints:
        text += f", {_times(complaints, 'unresolved complaint')} in 30 days"
    return text


def _satisfaction(row: Mapping) -> str:
    csat, nps = row["last_csat"], row["last_nps"]
    if pd.isna(csat):
        return "no satisfaction survey answered"
    text = f"last CSAT {_n(csat)}/5"
    if not pd.isna(nps):
        text += f", NPS {_n(nps)}/10"
    trend = float(row["csat_trend"])
    if trend <= -0.5:
        text += f" (down {abs(trend):.1f} on the year)"
    return text


def _ago(days: int) -> str:
    return "today" if days == 0 else f"{_times(days, 'day')} ago"


def _cancellation(row: Mapping) -> str:
    n90 = _n(row["cancellation_requests_90d"])
    days = _n(row["days_since_cancellation_request"])
    if _n(row["open_cancellation_request"]):
        return f"open cancellation request ({_ago(days)}, no offer accepted)"
    if n90:
        return f"{_times(n90, 'cancellation request')} in 90 days (last {_ago(days)})"
    if days < 365:
        return f"last cancellation request {_ago(days)}"
    return "no cancellation request in the last year"


def _contact_history(row: Mapping) -> str:
    issues, unresolved = _n(row["service_contacts_365d"]), _n(row["unresolved_contacts_365d"])
    text = f"{_times(issues, 'service contact')} in the past year"
    return text + (f", {unresolved} unresolved" if unresolved else "")


def _recency(row: Mapping) -> str:
    days = _n(row["days_since_last_contact"])
    if days >= 365:
        return "no service contact in the last year"
    if days == 0:
        return "contacted service today"
    return f"last service contact {_times(days, 'day')} ago"


def _note(signal: str) -> Callable[[Mapping], str]:
    col = f"note_{signal}_90d"
    phrase = SIGNAL_PHRASES[signal]

    def describe(row: Mapping) -> str:
        n = _n(row[col])
        if n == 0:
            return f"no note {phrase.replace('mentions', 'mentioning')} in 90 days"
        if n == 1:
            return f"agent note {phrase}"
        return f"{n} agent notes: customer {phrase}"

    return describe


@dataclass(frozen=True)
class DriverGroup:
    """Features explained together, and how to say their values in words."""

    name: str
    columns: tuple[str, ...]
    describe: Callable[[Mapping], str] = field(compare=False)
    categorical: bool = False


DRIVER_GROUPS: tuple[DriverGroup, ...] = (
    DriverGroup("contract", ("contract_type",), _contract, categorical=True),
    DriverGroup("plan", ("plan",), _plan, categorical=True),
    DriverGroup("segment", ("segment",), _segment, categorical=True),
    DriverGroup("loyalty", ("loyalty_member",), _loyalty, categorical=True),
    DriverGroup("tenure", ("tenure_months",), _tenure),
    DriverGroup("mrr", ("mrr",), _mrr),
    DriverGroup("mrr_change", ("mrr_change_3m_pct",), _mrr_change),
    DriverGroup("unresolved_contacts", ("unresolved_contacts_30d", "unresolved_contacts_90d",
                                        "unresolved_complaints_30d"), _unresolved),
    DriverGroup("service_requests", (kind_count("service_request", 30), kind_count("service_request", 90)),
                lambda r: _count_pair(r, "service_requests_30d", "service_requests_90d", "service request")),
    DriverGroup("complaints", (kind_count("complaint", 30), kind_count("complaint", 90)),
                lambda r: _count_pair(r, "complaints_30d", "complaints_90d", "complaint")),
    DriverGroup("billing_issues", (kind_count("billing_issue", 30), kind_count("billing_issue", 90)),
                lambda r: _count_pair(r, "billing_issues_30d", "billing_issues_90d", "billing issue")),
    DriverGroup("cancellation_requests",
                (kind_count("cancellation_request", 30), kind_count("cancellation_request", 90),
                 "open_cancellation_request", "days_since_cancellation_request"), _cancellation),
    DriverGroup("contact_history", ("service_contacts_365d", "unresolved_contacts_365d"), _contact_history),
    DriverGroup("retention_calls", (kind_count("retention_call", 90),),
                lambda r: f"{_times(_n(r['retention_calls_90d']), 'retention call')} in 90 days"),
    DriverGroup("saved_by_offer", ("saved_by_offer_180d",),
                lambda r: (f"accepted {_times(_n(r['saved_by_offer_180d']), 'retention offer')} in 6 months"
                           if _n(r["saved_by_offer_180d"]) else "no retention offer accepted in 6 months")),
    DriverGroup("proactive_outreach", (kind_count("proactive_outreach", 90), "proactively_retained_180d"),
                lambda r: (f"{_times(_n(r['proactive_outreaches_90d']), 'proactive outreach', 'proactive outreaches')}"
                           f" in 90 days, {_n(r['proactively_retained_180d'])} accepted in 6 months")),
    DriverGroup("purchases", (kind_count("purchase", 90),),
                lambda r: (f"{_times(_n(r['purchases_90d']), 'purchase')} in 90 days"
                           if _n(r["purchases_90d"]) else "no purchases in 90 days")),
    DriverGroup("repeat_contacts", ("repeat_contacts_90d",),
                lambda r: f"{_times(_n(r['repeat_contacts_90d']), 'repeat contact')} (same subject within 7 days) in 90 days"),
    DriverGroup("long_waits", ("long_waits_90d",),
                lambda r: f"{_times(_n(r['long_waits_90d']), 'long wait')} in 90 days"),
    DriverGroup("contact_recency", ("days_since_last_contact",), _recency),
    DriverGroup("satisfaction", ("last_csat", "last_nps", "csat_trend"), _satisfaction),
    *(DriverGroup(f"note_{s}", (f"note_{s}_90d",), _note(s)) for s in NOTE_SIGNALS),
)
GROUPS_BY_NAME: dict[str, DriverGroup] = {g.name: g for g in DRIVER_GROUPS}


@dataclass(frozen=True)
class Baseline:
    """Baseline values of one group: (values per column, weight) pairs, weights sum to 1."""

    group: str
    points: tuple[tuple[tuple[object, ...], float], ...]


def _isnan(v: object) -> bool:
    return isinstance(v, float) and np.isnan(v)


def fit_baselines(train: pd.DataFrame, groups: Sequence[DriverGroup] = DRIVER_GROUPS) -> dict[str, Baseline]:
    """Population baselines from the training rows: category mix for categorical groups,
    per-feature medians for numeric groups."""
    out: dict[str, Baseline] = {}
    for g in groups:
        if g.categorical:
            (col,) = g.columns
            shares = train[col].value_counts(normalize=True, dropna=True).sort_index()
            points = tuple(((_py(value),), float(w)) for value, w in shares.items() if w > 0)
        else:
            medians = tuple(_py(train[c].median(skipna=True)) for c in g.columns)
            points = ((medians, 1.0),)
        out[g.name] = Baseline(g.name, points)
    return out


def _py(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def _set(frame: pd.DataFrame, columns: Sequence[str], values: Sequence[object]) -> pd.DataFrame:
    out = frame.copy()
    for col, value in zip(columns, values):
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = pd.Categorical([value] * len(out), categories=out[col].cat.categories)
        else:
            out[col] = np.float64(np.nan if value is None else value)
    return out


def _differs(frame: pd.DataFrame, columns: Sequence[str], values: Sequence[object]) -> np.ndarray:
    mask = np.zeros(len(frame), dtype=bool)
    for col, value in zip(columns, values):
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            mask |= (series.astype(object) != value).to_numpy()
        else:
            arr = series.to_numpy(dtype="float64")
            if value is None or _isnan(value):
                mask |= ~np.isnan(arr)
            else:
                mask |= ~(arr == float(value))  # NaN differs from any number
    return mask


def additive_contributions(
    logit: Callable[[pd.DataFrame], np.ndarray],
    features: pd.DataFrame,
    baselines: Mapping[str, Baseline],
    groups: Sequence[DriverGroup] = DRIVER_GROUPS,
) -> pd.DataFrame:
    """c_g(x) for a model that is additive across groups, f(x) = Σ_g f_g(x_g) (features
    interact only within their group, `interaction_cst` in the booster).

    Then c_g(x) = f_g(x_g) − Σ_k w_k f_g(b_k) exactly, whatever the other features are, so
    it is evaluated once per *distinct* value of the group's features on a fixed reference
    row and mapped back: the cost grows with the number of distinct values, not customers.
    Equal to `driver_contributions` for such a model (a unit test checks it).
    """
    if features.empty:
        return pd.DataFrame(np.zeros((0, len(groups))), columns=[g.name for g in groups])
    reference = features.iloc[[0]]
    out = np.zeros((len(features), len(groups)))
    for j, g in enumerate(groups):
        cols = list(g.columns)
        codes = features.groupby(cols, dropna=False, observed=True, sort=False).ngroup().to_numpy()
        first = np.unique(codes, return_index=True)[1]  # first row of each distinct value, by code
        distinct = features.iloc[first][cols]
        probe = reference.loc[reference.index.repeat(len(distinct))].reset_index(drop=True)
        for c in cols:
            probe[c] = distinct[c].to_numpy() if not isinstance(features[c].dtype, pd.CategoricalDtype) \
                else pd.Categorical(distinct[c].astype(object), categories=features[c].cat.categories)
        f_distinct = logit(probe)
        expected = sum(weight * logit(_set(reference, cols, values))[0]
                       for values, weight in baselines[g.name].points)
        out[:, j] = (f_distinct - expected)[codes]
    return pd.DataFrame(out, columns=[g.name for g in groups], index=features.index)


def driver_contributions(
    logit: Callable[[pd.DataFrame], np.ndarray],
    features: pd.DataFrame,
    baselines: Mapping[str, Baseline],
    groups: Sequence[DriverGroup] = DRIVER_GROUPS,
    base_logit: np.ndarray | None = None,
) -> pd.DataFrame:
    """c_g(x) for every row and group (module docstring), as an (n × groups) frame.

    `logit` maps a feature frame to the model's log-odds. Only rows that differ from a
    baseline point are re-predicted; a row equal to the baseline gets exactly 0.
    """
    fx = logit(features) if base_logit is None else base_logit
    out = np.zeros((len(features), len(groups)))
    for j, g in enumerate(groups):
        expected = np.zeros(len(features))
        for values, weight in baselines[g.name].points:
            sub = _differs(features, g.columns, values)
            substituted = fx.copy()
            if sub.any():
                substituted[sub] = logit(_set(features.loc[sub], g.columns, values))
            expected += weight * substituted
        out[:, j] = fx - expected
    return pd.DataFrame(out, columns=[g.name for g in groups], index=features.index)


def top_drivers(
    contributions: pd.DataFrame,
    features: pd.DataFrame,
    k: int = TOP_DRIVERS,
    min_contribution: float = MIN_CONTRIBUTION,
    groups: Sequence[DriverGroup] = (),
) -> pd.DataFrame:
    """The k largest positive contributions per row, in words: columns `driver_1..k`
    (None where fewer groups raise the risk by at least `min_contribution`) and
    `driver_group_1..k` (the group names, for tests and filters). `groups` adds groups
    beyond `DRIVER_GROUPS` (a custom attribute's, `analytics.risk.attributes`)."""
    by_name = {**GROUPS_BY_NAME, **{g.name: g for g in groups}}
    values = contributions.to_numpy()
    names = list(contributions.columns)
    n = len(values)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    top_values = np.take_along_axis(values, order, axis=1)
    shown = top_values >= min_contribution
    texts = np.full((n, k), None, dtype=object)
    group_names = np.full((n, k), None, dtype=object)
    for j, name in enumerate(names):
        where = (order == j) & shown
        rows = np.flatnonzero(where.any(axis=1))
        if len(rows) == 0:
            continue
        g = by_name[name]
        sub = features.iloc[rows][list(g.columns)]
        cache: dict[tuple, str] = {}
        described = []
        for key in sub.itertuples(index=False, name=None):
            text = cache.get(key)
            if text is None:
                text = cache[key] = g.describe(dict(zip(g.columns, key)))
            described.append(text)
        rank = where[rows].argmax(axis=1)
        texts[rows, rank] = described
        group_names[rows, rank] = name
    out = {f"driver_{r + 1}": texts[:, r] for r in range(k)}
    out.update({f"driver_group_{r + 1}": group_names[:, r] for r in range(k)})
    return pd.DataFrame(out, index=features.index)
