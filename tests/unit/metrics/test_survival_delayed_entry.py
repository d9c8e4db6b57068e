"""Survival with delayed entry (left truncation): customers who signed up before the data's
history starts enter the risk set at the history start (docs/metrics.md#survival-curve,
docs/decisions/013-left-truncated-survival.md)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatError
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import chi2

from analytics.catalog import history_start
from analytics.filters import RetentionFilter
from analytics.metrics.survival import (
    kaplan_meier,
    kaplan_meier_from_durations,
    logrank_from_durations,
    median_lifetime,
    survival_durations,
    survival_logrank,
)
from tests.unit.metrics.conftest import d

HISTORY = {"as_of_date": "2024-12-31", "history_start": "2024-01-01"}
FLT = RetentionFilter(d("2024-12-31"), d("2024-12-31"))
# entry = days from signup to the history start (0 when signing up within it);
# duration = days from signup to churn, or to the as-of date 2024-12-31 when active.
CUSTOMERS = [
    # signed up within the history: entry 0
    dict(customer_id=2, signup_date=d("2024-01-01"), churn_date=d("2024-01-11")),  # 10, churn
    dict(customer_id=3, signup_date=d("2024-01-01"), churn_date=d("2024-01-21")),  # 20, churn
    dict(customer_id=4, signup_date=d("2024-01-01"), churn_date=d("2024-01-31"), segment="enterprise"),  # 30, churn
    dict(customer_id=5, signup_date=d("2024-01-01")),  # 365, active (censored)
    # signed up before the history start: seen only from 2024-01-01 on
    dict(customer_id=6, signup_date=d("2023-12-17"), churn_date=d("2024-01-26"), segment="enterprise"),  # entry 15, 40, churn
    dict(customer_id=1, signup_date=d("2020-01-01"), segment="enterprise"),  # A: entry 1461, 1826, active
    dict(customer_id=7, signup_date=d("2021-01-01"), segment="enterprise"),  # G: entry 1095, 1460, active
]


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], schema_info=HISTORY)


def test_durations_carry_the_entry(db):
    df = survival_durations(db, FLT)
    got = {(r.entry_days, r.duration_days, r.event): r.customers for r in df.itertuples()}
    assert got == {(0, 10, 1): 1, (0, 20, 1): 1, (0, 30, 1): 1, (0, 365, 0): 1,
                   (15, 40, 1): 1, (1461, 1826, 0): 1, (1095, 1460, 0): 1}


def test_kaplan_meier_enters_late_customers_at_the_history_start(db):
    curve = kaplan_meier(db, FLT).set_index("timeline")
    # Risk sets n_i = customers with entry < t_i <= duration:
    #   t=10: the four 2024 signups (6 enters at 15, A at 1461, G at 1095)  n=4 d=1 -> 3/4
    #   t=20: 3, 4, 5 and 6 (entered at 15)                                 n=4 d=1 -> 3/4 · 3/4 = 9/16
    #   t=30: 4, 5, 6                                                        n=3 d=1 -> 9/16 · 2/3 = 3/8
    #   t=40: 5, 6                                                           n=2 d=1 -> 3/8 · 1/2 = 3/16
    #   365: 5 censored (n=1); 1460: G censored (n=1, entered at 1095); 1826: A censored (n=1).
    # The old definition (everyone at risk from signup) gave n = 7, 6, 5, 4 and
    # S = 6/7, 5/7, 4/7, 3/7: more than half "survive" 30 days, where really 3/8 do.
    assert curve.loc[[0.0, 10.0, 20.0, 30.0, 40.0, 365.0], "survival"].tolist() == pytest.approx(
        [1.0, 3 / 4, 9 / 16, 3 / 8, 3 / 16, 3 / 16])
    assert curve.loc[[10.0, 20.0, 30.0, 40.0, 365.0, 1460.0, 1826.0], "at_risk"].tolist() == [4, 4, 3, 2, 1, 1, 1]
    assert curve.loc[[10.0, 20.0, 30.0, 40.0], "events"].tolist() == [1, 1, 1, 1]
    assert curve.loc[[365.0, 1460.0, 1826.0], "censored"].tolist() == [1, 1, 1]


def test_median_lifetime_with_delayed_entry(db):
    med = median_lifetime(db, FLT, unit="days").iloc[0]
    # S first reaches 0.5 at 30 days (3/8); the old definition gave 40 days (S(30) = 4/7).
    assert (med["customers"], med["churned"], med["median_lifetime"]) == (7, 4, 30.0)


def test_logrank_with_delayed_entry(db):
    res = survival_logrank(db, FLT, "segment")
    # consumer = 2, 3, 5; enterprise = 4, 6 (entry 15), A (entry 1461), G (entry 1095).
    #  t=10: n_c=3 n_e=1 (only 4) d=1 (c)  E_c = 3/4  V = d(n-d)/(n-1) · n_c n_e / n² = 1 · 3/16
    #  t=20: n_c=2 n_e=2 (4, 6)   d=1 (c)  E_c = 1/2  V = 1 · 4/16 = 1/4
    #  t=30: n_c=1 n_e=2 (4, 6)   d=1 (e)  E_c = 1/3  V = 1 · 2/9
    #  t=40: n_c=1 n_e=1 (6)      d=1 (e)  E_c = 1/2  V = 1 · 1/4
    #  O_c - E_c = 2 - 25/12 = -1/12; V = 131/144; chi2 = (1/144) / (131/144) = 1/131.
    # The old definition (A and G at risk from signup) gave chi2 = 109561/143699 = 0.762.
    assert res.groups == ("consumer", "enterprise") and res.degrees_of_freedom == 1
    assert res.test_statistic == pytest.approx(1 / 131)
    assert res.p_value == pytest.approx(chi2.sf(1 / 131, 1))


def test_customer_gone_before_the_history_start_is_left_out(make_db):
    # 8 signed up before the history start and churned before it: inconsistent with a
    # history that starts 2024-01-01 (it would not hold him), and never at risk in the
    # observed window, so he is left out. 9 churned on the history start day itself: he
    # would enter just after 2024-01-01 and is gone by then, so he is left out too.
    # The old definition counted 8 as a churn at 516 days and 9 at 730 days.
    gone = [dict(customer_id=8, signup_date=d("2022-01-01"), churn_date=d("2023-06-01")),
            dict(customer_id=9, signup_date=d("2022-01-01"), churn_date=d("2024-01-01"))]
    db = make_db(customers=[dict(c) for c in CUSTOMERS] + gone, schema_info=HISTORY)
    clean = make_db(customers=[dict(c) for c in CUSTOMERS], schema_info=HISTORY)
    assert survival_durations(db, FLT).equals(survival_durations(clean, FLT))
    assert survival_durations(db, FLT)["customers"].sum() == 7
    pd.testing.assert_frame_equal(kaplan_meier(db, FLT), kaplan_meier(clean, FLT))


def test_history_start_falls_back_to_the_earliest_signup(make_db):
    # Without schema_info.history_start the history starts at the first signup, so nobody
    # has a delayed entry (an import that holds every customer from signup).
    db = make_db(customers=[dict(c) for c in CUSTOMERS], schema_info={"as_of_date": "2024-12-31"})
    assert history_start(db) == d("2020-01-01")
    assert (survival_durations(db, FLT)["entry_days"] == 0).all()
    assert history_start(make_db(customers=[dict(c) for c in CUSTOMERS], schema_info=HISTORY)) == d("2024-01-01")
    # a file without customers starts at its as-of date (and has no survival rows)
    empty = make_db(schema_info={"as_of_date": "2024-12-31"})
    assert history_start(empty) == d("2024-12-31")
    assert survival_durations(empty, FLT).empty and kaplan_meier(empty, FLT).empty


def _frame(entry, duration, event, customers, group=None) -> pd.DataFrame:
    n = len(duration)
    return pd.DataFrame({"group": group if group is not None else ["all"] * n, "entry_days": entry,
                         "duration_days": duration, "event": event, "customers": customers})


def _random_rows(seed: int, n: int = 400, groups: int = 3, late: bool = True) -> pd.DataFrame:
    """Aggregated rows with ties, same-day churns (duration 0) and late entrants."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.random(n) < 0.4, rng.integers(1, 60, n), 0) if late else np.zeros(n, dtype=int)
    duration = entry + rng.integers(0, 80, n)
    duration = np.where((duration == entry) & (entry > 0), duration + 1, duration)
    return _frame(entry, duration, rng.integers(0, 2, n), rng.integers(1, 5, n),
                  np.array(["a", "b", "c", "d"])[rng.integers(0, groups, n)])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_logrank_without_late_entrants_equals_lifelines(seed):
    rows = _random_rows(seed, late=False)
    assert (rows["duration_days"] == 0).any()  # same-day churns are in
    ours = logrank_from_durations(rows, "group")
    ref = multivariate_logrank_test(rows["duration_days"].to_numpy(float), rows["group"].to_numpy(),
                                    rows["event"].to_numpy(), weights=rows["customers"].to_numpy(float))
    assert abs(ours.test_statistic - ref.test_statistic) < 1e-9
    assert abs(ours.p_value - ref.p_value) < 1e-9
    assert ours.degrees_of_freedom == ref.degrees_of_freedom == 2


def test_logrank_without_late_entrants_equals_lifelines_on_the_sample(sample_db):
    as_of = d(sample_db.schema_info()["as_of_date"])
    rows = survival_durations(sample_db, RetentionFilter(as_of, as_of), "contract_type")
    assert (rows["entry_days"] > 0).any()  # the sample has customers from before its history
    rows = rows.assign(entry_days=0)
    ours = logrank_from_durations(rows, "contract_type")
    ref = multivariate_logrank_test(rows["duration_days"].to_numpy(float), rows["group"].to_numpy(),
                                    rows["event"].to_numpy(), weights=rows["customers"].to_numpy(float))
    assert abs(ours.test_statistic - ref.test_statistic) < 1e-9 * max(1.0, ref.test_statistic)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kaplan_meier_equals_lifelines_with_entry(seed):
    rows = _random_rows(seed, groups=1)
    ours = kaplan_meier_from_durations(rows).set_index("timeline")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' note on weighted Greenwood intervals
        kmf = KaplanMeierFitter().fit(rows["duration_days"], rows["event"], entry=rows["entry_days"],
                                      weights=rows["customers"])
    ref = kmf.survival_function_.iloc[:, 0].reindex(ours.index)
    band = kmf.confidence_interval_.reindex(ours.index)
    assert np.abs(ours["survival"] - ref).max() < 1e-9
    assert np.abs(ours["ci_lower"] - band.iloc[:, 0]).max() < 1e-9
    assert np.abs(ours["ci_upper"] - band.iloc[:, 1]).max() < 1e-9
    # lifelines' event_table.at_risk also counts customers entering *at* t; the risk set
    # its estimate divides by leaves them out (but for the first time on the timeline).
    table = kmf.event_table
    population = table["at_risk"] - table["entrance"].where(table.index != table.index[0], 0)
    assert (ours["at_risk"] == population.reindex(ours.index)).all()


def test_kaplan_meier_across_a_gap_in_the_risk_set():
    # 1 and 2 signed up within the history and are gone by day 20; 3 and 4 signed up 30
    # days before the history start, so nobody is at risk between day 20 and day 30.
    # t=10 n=2 d=1 -> 1/2; t=20 censored; t=40 n=2 (3, 4) d=1 -> 1/4; t=50 censored.
    rows = _frame([0, 0, 30, 30], [10, 20, 40, 50], [1, 0, 1, 0], [1, 1, 1, 1])
    curve = kaplan_meier_from_durations(rows).set_index("timeline")
    assert curve["survival"].tolist() == pytest.approx([1, 0.5, 0.5, 0.25, 0.25])
    assert curve["at_risk"].tolist() == [2, 2, 1, 2, 1]
    # lifelines refuses this small group (the page would fail on it)
    with pytest.raises(StatError):
        KaplanMeierFitter().fit(rows["duration_days"], rows["event"], entry=rows["entry_days"])


def test_rows_that_leave_before_they_enter_are_refused():
    with pytest.raises(ValueError, match="entry"):
        kaplan_meier_from_durations(_frame([30], [20], [1], [1]))
    with pytest.raises(ValueError, match="entry"):
        logrank_from_durations(_frame([30, 0], [30, 5], [1, 1], [1, 1], ["a", "b"]), "group")
