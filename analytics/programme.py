"""The retention programme measured against its control group (issue 16; decision 022;
docs/metrics.md#measured-programme).

When the team works an at-risk list, a share of it is held out at random and not contacted
(`analytics.actions.assign_holdout`). Over the follow-up window the held-out customers
churn as the list would have without the programme; the worked ones churn as it did with
it. The difference is the programme's effect — measured, not assumed.

Definitions (each assignment is one customer in one programme period):

- **Worked** customers: assigned and not held out — *intention to treat*: every one of
  them counts, whether or not an agent reached them (counting only the reached would
  compare the easy-to-reach with everyone). **Held out**: the control group.
- **Measured** assignments: those whose follow-up window, ``(assigned_on, assigned_on +
  follow_up_days]``, has ended by the data's as-of date, whose customer is in the
  analytics data and had not churned by ``assigned_on``. The others are *pending* (window
  still open) or *not found*.
- **Churned in the window**: ``assigned_on < churn_date <= assigned_on + follow_up_days``.
  Churn rate of a group = its churners ÷ its measured assignments.
- **Uplift** = held-out churn − worked churn (points of churn the programme prevented),
  with the **Newcombe hybrid score interval** for a difference of two independent
  proportions (Newcombe 1998, method 10: each rate's Wilson score interval, combined as
  ``d − √((p₁−l₁)² + (u₂−p₂)²)``, ``d + √((u₁−p₁)² + (p₂−l₂)²)``). Chosen over Wald because
  a control group is small and its churn rate can be near 0 or 1, where Wald's interval is
  too narrow or leaves [−1, 1].
- **Saves attributable to the programme** = uplift × worked customers (with the same
  interval, scaled).
- **Programme cost** = actions × cost per action + offers × cost per offer, counted from the
  action store over the worked customers' windows (``assigned_on <= day of created_at <=
  assigned_on + follow_up_days``). An *action* is a logged row that did something: its
  status differs from the case's previous row (a case starts at "new"), or it carries an
  outcome or a note — a pure reassignment costs nothing. An *offer* is a row that moved a
  case to "saved" (a save is an accepted offer; an offer costs only when taken, as in
  `analytics.roi.programme_roi`).
- **Measured ROI** = (saves × value per saved customer − cost) ÷ cost, NaN when the cost is
  0. Its interval maps the uplift's: the cost and the value per saved customer are taken
  as known, so the ROI is a straight line in the uplift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

import ibis
import numpy as np
import pandas as pd

from analytics import actions
from analytics.db import Database

DEFAULT_CONFIDENCE = 0.95


# --- intervals -----------------------------------------------------------------------------------

def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _count(x: int, n: int) -> None:
    if n <= 0 or x < 0 or x > n or int(x) != x or int(n) != n:
        raise ValueError(f"need whole counts with 0 <= x <= n and n > 0, got x={x!r}, n={n!r}")


def wilson_interval(x: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of the proportion x/n (Newcombe 1998, method 3):

        (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) ÷ (1 + z²/n)"""
    _count(x, n)
    z = _z(confidence)
    p = x / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int,
                      confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float, float]:
    """(d, low, high): d = x1/n1 − x2/n2 and Newcombe's hybrid score interval for it
    (Newcombe, R. G. (1998), "Interval estimation for the difference between independent
    proportions: comparison of eleven methods", Statistics in Medicine 17, 873–890,
    method 10), from the Wilson intervals (l₁, u₁) and (l₂, u₂):

        low  = d − √((p₁ − l₁)² + (u₂ − p₂)²)
        high = d + √((u₁ − p₁)² + (p₂ − l₂)²)"""
    _count(x1, n1)
    _count(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


# --- the measurement -----------------------------------------------------------------------------

@dataclass(frozen=True)
class MeasuredProgramme:
    """The programme against its control group (module docstring). When it cannot be
    measured, `needs` says what is missing in one line and the rates are NaN."""

    follow_up_days: int
    confidence: float
    as_of: date
    assigned: int            # assignments in the store
    pending: int             # follow-up window not over by `as_of`
    not_found: int           # customer not in the data, or churned before the assignment
    worked: int              # measured, worked (intention to treat)
    held_out: int            # measured, held out
    worked_churned: int
    held_out_churned: int
    worked_churn: float
    held_out_churn: float
    uplift: float            # held_out_churn − worked_churn
    uplift_low: float
    uplift_high: float
    saves: float             # uplift × worked
    saves_low: float
    saves_high: float
    actions: int             # logged actions on worked customers in their windows
    offers: int              # cases moved to "saved" in those windows
    cost_per_action: float
    cost_per_offer: float
    cost: float
    value_per_saved: float
    value: float             # saves × value_per_saved
    net_benefit: float
    roi: float
    roi_low: float
    roi_high: float
    held_out_contacted: int  # held-out customers with an action in their window (should be 0)
    needs: str | None = None

    @property
    def measured(self) -> bool:
        return self.needs is None


def _effective_actions(log: pd.DataFrame) -> pd.DataFrame:
    """The rows of an action log that did something (module docstring), with ``day`` (the
    date of ``created_at``) and ``saved`` (the row moved the case to "saved")."""
    if log.empty:
        return log.assign(day=pd.Series(dtype="datetime64[ns]"), saved=pd.Series(dtype=bool))
    ordered = log.sort_values("id", kind="mergesort").copy()
    previous = ordered.groupby("customer_id", sort=False)["status"].shift(1).fillna("new")
    changed = ordered["status"] != previous
    ordered["saved"] = changed & (ordered["status"] == "saved")
    ordered["day"] = ordered["created_at"].dt.normalize()
    return ordered[changed | ordered["outcome"].notna() | ordered["note"].notna()]


def measure_programme(assignments: pd.DataFrame, customers: pd.DataFrame, log: pd.DataFrame, *, as_of: date,
                      follow_up_days: int = 90, cost_per_action: float = 20.0, cost_per_offer: float = 100.0,
                      value_per_saved: float = 0.0, confidence: float = DEFAULT_CONFIDENCE,
                      holdout_share: float | None = None) -> MeasuredProgramme:
    """Measure the programme (definitions in the module docstring).

    `assignments`: ``customer_id``, ``held_out``, ``assigned_on`` (one row per customer and
    programme period, as `analytics.actions.holdout_groups`). `customers`: ``customer_id``,
    ``churn_date`` (NaT = active) from the analytics data. `log`: the action store's rows
    (`analytics.actions.ACTION_COLUMNS`). `as_of`: the data's as-of date. `holdout_share`
    only words the message when there is nothing to measure."""
    if follow_up_days < 1 or int(follow_up_days) != follow_up_days:
        raise ValueError(f"follow_up_days must be whole days >= 1, got {follow_up_days!r}")
    for name, value in (("cost_per_action", cost_per_action), ("cost_per_offer", cost_per_offer),
                        ("value_per_saved", value_per_saved)):
        if value is None or not value >= 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    window = pd.Timedelta(days=int(follow_up_days))
    end = pd.Timestamp(as_of)
    a = assignments[["customer_id", "held_out", "assigned_on"]].copy()
    a["assigned_on"] = pd.to_datetime(a["assigned_on"]).dt.normalize()
    a["held_out"] = a["held_out"].astype(bool)
    churn = customers[["customer_id", "churn_date"]].drop_duplicates("customer_id")
    churn = churn.assign(churn_date=pd.to_datetime(churn["churn_date"]))
    a = a.merge(churn, on="customer_id", how="left", indicator=True)
    done = (a["assigned_on"] + window) <= end
    found = (a["_merge"] == "both") & ~(a["churn_date"] <= a["assigned_on"])
    m = a[done & found].copy()
    m["churned"] = (m["churn_date"] > m["assigned_on"]) & (m["churn_date"] <= m["assigned_on"] + window)
    worked, held = m[~m["held_out"]], m[m["held_out"]]
    nw, nh = len(worked), len(held)
    xw, xh = int(worked["churned"].sum()), int(held["churned"].sum())

    # actions and offers in each assignment's window (an action counts once)
    did = _effective_actions(log)
    windows = m[["customer_id", "held_out", "assigned_on"]].merge(did, on="customer_id")
    windows = windows[(windows["day"] >= windows["assigned_on"]) & (windows["day"] <= windows["assigned_on"] + window)]
    windows = windows.drop_duplicates("id")
    on_worked = windows[~windows["held_out"]]
    n_actions, n_offers = len(on_worked), int(on_worked["saved"].sum())
    held_out_contacted = int(windows.loc[windows["held_out"], "customer_id"].nunique())
    cost = n_actions * cost_per_action + n_offers * cost_per_offer

    needs = None
    share = f"{holdout_share:.0%}" if holdout_share is not None else "a share"
    if a.empty:
        needs = (f"The measured programme needs a control group: work an at-risk list (the At-risk page holds out "
                 f"{share} of it at random and records who), then let {follow_up_days} days of follow-up pass in the data.")
    elif m.empty:
        first = a["assigned_on"].min()
        needs = (f"The measured programme needs {follow_up_days} days of follow-up after a list is worked: "
                 f"{len(a):,} customers are assigned (the first on {first:%d %b %Y}, window over on "
                 f"{first + window:%d %b %Y}) and the data runs to {end:%d %b %Y} — import newer data.")
    elif nw == 0 or nh == 0:
        needs = (f"The measured programme needs customers in both groups: {nw:,} worked and {nh:,} held out have "
                 "completed their follow-up (is [actions] holdout_share 0?).")
    nan = math.nan
    if needs:
        d = lo = hi = nan
    else:
        d, lo, hi = newcombe_interval(xh, nh, xw, nw, confidence)
    saves, saves_lo, saves_hi = d * nw, lo * nw, hi * nw

    def roi_at(s: float) -> float:
        return (s * value_per_saved - cost) / cost if cost > 0 and not needs else nan

    value = saves * value_per_saved
    return MeasuredProgramme(
        follow_up_days=int(follow_up_days), confidence=confidence, as_of=end.date(), assigned=len(a),
        pending=int((~done).sum()), not_found=int((done & ~found).sum()), worked=nw, held_out=nh,
        worked_churned=xw, held_out_churned=xh, worked_churn=xw / nw if nw else nan,
        held_out_churn=xh / nh if nh else nan, uplift=d, uplift_low=lo, uplift_high=hi,
        saves=saves, saves_low=saves_lo, saves_high=saves_hi, actions=n_actions, offers=n_offers,
        cost_per_action=float(cost_per_action), cost_per_offer=float(cost_per_offer), cost=float(cost),
        value_per_saved=float(value_per_saved), value=value, net_benefit=value - cost,
        roi=roi_at(saves), roi_low=roi_at(saves_lo), roi_high=roi_at(saves_hi),
        held_out_contacted=held_out_contacted, needs=needs)


# --- from the store and the analytics data --------------------------------------------------------

def churn_dates(db: Database, customer_ids) -> pd.DataFrame:
    """``customer_id``, ``churn_date`` (NaT = active) of `customer_ids` from the analytics
    data's customers table (ids it lacks are absent)."""
    ids = ibis.memtable(pd.DataFrame({"customer_id": np.asarray(list(customer_ids), dtype="int64")}))
    c = db.table("customers")
    expr = c.semi_join(ids, c.customer_id == ids.customer_id).select("customer_id", "churn_date")
    out = db.ibis().to_pandas(expr)
    return out.assign(churn_date=pd.to_datetime(out["churn_date"]))


def measured_programme(db: Database, store: actions.ActionStore, *, as_of: date, value_per_saved: float,
                       settings: dict | None = None, confidence: float = DEFAULT_CONFIDENCE) -> MeasuredProgramme:
    """`measure_programme` over the action store's holdout assignments and logged actions
    and the analytics data's churn dates. `settings`: `analytics.config.programme_settings()`
    (None: read it)."""
    from analytics import config

    s = settings if settings is not None else config.programme_settings()
    groups = actions.holdout_groups(store)
    ids = groups["customer_id"].unique().tolist()
    customers = churn_dates(db, ids) if ids else pd.DataFrame({"customer_id": pd.Series(dtype="int64"),
                                                               "churn_date": pd.Series(dtype="datetime64[ns]")})
    log = actions.programme_action_log(store)
    return measure_programme(groups, customers, log, as_of=as_of, follow_up_days=int(s["follow_up_days"]),
                             cost_per_action=s["cost_per_action"], cost_per_offer=s["cost_per_offer"],
                             value_per_saved=value_per_saved, confidence=confidence,
                             holdout_share=s["holdout_share"])

