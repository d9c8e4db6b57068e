"""Kaplan–Meier curves, median lifetime and the log-rank test against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy.stats import chi2, norm

from analytics.filters import RetentionFilter
from analytics.metrics.survival import (
    CURVE_COLUMNS,
    MEDIAN_COLUMNS,
    kaplan_meier,
    median_lifetime,
    survival_durations,
    survival_logrank,
)
from tests.unit.metrics.conftest import d

AS_OF = d("2024-01-31")
FLT = RetentionFilter(d("2024-01-01"), AS_OF)
# duration (days to churn, or to the as-of date when censored):
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2024-01-01"), churn_date=d("2024-01-11")),  # 10, event
    dict(customer_id=2, signup_date=d("2024-01-01"), churn_date=d("2024-01-21"), segment="enterprise"),  # 20, event
    dict(customer_id=3, signup_date=d("2024-01-01")),  # 30, censored
    dict(customer_id=4, signup_date=d("2024-01-01"), churn_date=d("2024-01-21")),  # 20, event
    dict(customer_id=5, signup_date=d("2024-01-06"), churn_date=d("2024-03-01"), segment="enterprise"),  # 25, censored (leaves after as-of)
    dict(customer_id=6, signup_date=d("2024-01-11")),  # 20, censored (tied with two events)
    dict(customer_id=7, signup_date=d("2024-02-05")),  # signs up after the as-of date: not in
    dict(customer_id=8, signup_date=d("2024-01-10"), churn_date=d("2024-01-02")),  # inconsistent: left out
]
Z = norm.ppf(0.975)


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS])


def _exp_greenwood(s: float, greenwood_sum: float) -> tuple[float, float]:
    """The log(-log) interval: exp(-exp(log(-log S) ± z·sqrt(Σ d/(n(n-d))) / |log S|))."""
    log_s = math.log(s)
    se = math.sqrt(greenwood_sum) / abs(log_s)
    return (
        math.exp(-math.exp(math.log(-log_s) + Z * se)),
        math.exp(-math.exp(math.log(-log_s) - Z * se)),
    )


def test_durations_are_aggregated(db):
    df = survival_durations(db, FLT)
    got = {(r.duration_days, r.event): r.customers for r in df.itertuples()}
    assert got == {(10, 1): 1, (20, 1): 2, (20, 0): 1, (25, 0): 1, (30, 0): 1}


def test_kaplan_meier_matches_hand_computation(db):
    km = kaplan_meier(db, FLT)
    assert list(km.columns) == list(CURVE_COLUMNS)
    curve = km.set_index("timeline")
    # Risk sets: t=10 n=6 d=1; t=20 n=5 d=2 (+1 censored, still at risk at 20); t=25 n=2
    # censored; t=30 n=1 censored.
    # S(10) = 1 - 1/6 = 5/6;  S(20) = 5/6 · (1 - 2/5) = 1/2;  flat afterwards.
    assert curve.loc[[0.0, 10.0, 20.0, 25.0, 30.0], "survival"].tolist() == pytest.approx(
        [1.0, 5 / 6, 0.5, 0.5, 0.5]
    )
    assert curve.loc[[10.0, 20.0, 25.0, 30.0], "at_risk"].tolist() == [6, 5, 2, 1]
    assert curve.loc[[10.0, 20.0, 25.0, 30.0], "events"].tolist() == [1, 2, 0, 0]
    assert curve.loc[[20.0, 25.0, 30.0], "censored"].tolist() == [1, 1, 1]
    # Greenwood sums: 1/(6·5) = 1/30 at t=10; + 2/(5·3) = 5/30 at t=20.
    lo10, hi10 = _exp_greenwood(5 / 6, 1 / 30)
    lo20, hi20 = _exp_greenwood(0.5, 5 / 30)
    assert (curve.loc[10.0, "ci_lower"], curve.loc[10.0, "ci_upper"]) == (pytest.approx(lo10), pytest.approx(hi10))
    assert (curve.loc[20.0, "ci_lower"], curve.loc[20.0, "ci_upper"]) == (pytest.approx(lo20), pytest.approx(hi20))


def test_kaplan_meier_in_months_and_by_group(db):
    months = kaplan_meier(db, FLT, unit="months")
    assert months["timeline"].tolist() == pytest.approx([0, 10 / 30.4375, 20 / 30.4375, 25 / 30.4375, 30 / 30.4375])
    by = kaplan_meier(db, FLT, by="segment")
    consumer = by[by["group"] == "consumer"].set_index("timeline")["survival"]
    enterprise = by[by["group"] == "enterprise"].set_index("timeline")["survival"]
    # consumer = 1, 3, 4, 6: t=10 n=4 d=1 -> 3/4; t=20 n=3 d=1 (+1 censored) -> 3/4 · 2/3 = 1/2.
    assert consumer.loc[[10.0, 20.0, 30.0]].tolist() == pytest.approx([0.75, 0.5, 0.5])
    # enterprise = 2, 5: t=20 n=2 d=1 -> 1/2; 25 censored.
    assert enterprise.loc[[20.0, 25.0]].tolist() == pytest.approx([0.5, 0.5])


def test_weighted_fit_equals_one_row_per_customer(db):
    # The aggregated (weighted) input must give lifelines' result on the raw rows.
    durations = np.array([10, 20, 30, 20, 25, 20], dtype=float)
    events = np.array([1, 1, 0, 1, 0, 0])
    raw = KaplanMeierFitter().fit(durations, events)
    km = kaplan_meier(db, FLT).set_index("timeline")
    assert km["survival"].to_numpy() == pytest.approx(raw.survival_function_.iloc[:, 0].to_numpy())
    assert km["ci_lower"].iloc[1:].to_numpy() == pytest.approx(raw.confidence_interval_.iloc[1:, 0].to_numpy())


def test_median_lifetime(db):
    med = median_lifetime(db, FLT, unit="days")
    assert list(med.columns) == list(MEDIAN_COLUMNS)
    # S first reaches 0.5 at t = 20 days.
    assert med[["group", "customers", "churned", "median_lifetime"]].values.tolist() == [["all", 6, 3, 20.0]]
    by = median_lifetime(db, FLT, by="segment", unit="days").set_index("group")
    assert by.loc["consumer", "median_lifetime"] == 20.0
    assert by.loc["enterprise", "median_lifetime"] == 20.0


def test_median_is_infinite_when_curve_stays_above_half(make_db):
    db = make_db(customers=[dict(customer_id=1, signup_date=d("2024-01-01")),
                            dict(customer_id=2, signup_date=d("2024-01-01"), churn_date=d("2024-01-05")),
                            dict(customer_id=3, signup_date=d("2024-01-01"))])
    assert math.isinf(median_lifetime(db, FLT)["median_lifetime"].iloc[0])


def test_logrank_matches_hand_computation(db):
    res = survival_logrank(db, FLT, "segment")
    # Consumer vs enterprise, event times 10 and 20:
    #  t=10: n=6 (4 consumer), d=1 -> E = 4/6, V = 1·(4/6)(2/6)·(5/5) = 2/9
    #  t=20: n=5 (3 consumer), d=2 -> E = 2·3/5, V = 2·(3/5)(2/5)·(3/4) = 0.36
    #  O(consumer) = 2, E = 2/3 + 6/5 = 28/15, chi2 = (2 - 28/15)^2 / (2/9 + 0.36)
    stat = (2 - 28 / 15) ** 2 / (2 / 9 + 0.36)
    assert res.groups == ("consumer", "enterprise") and res.degrees_of_freedom == 1
    assert res.test_statistic == pytest.approx(stat)
    assert res.p_value == pytest.approx(chi2.sf(stat, 1))
    # and lifelines on one row per customer agrees
    raw = multivariate_logrank_test(
        [10, 20, 30, 20, 25, 20], ["c", "e", "c", "c", "e", "c"], [1, 1, 0, 1, 0, 0]
    )
    assert res.test_statistic == pytest.approx(raw.test_statistic)


def test_signed_up_in_period_restricts_the_population(db):
    flt = RetentionFilter(d("2024-01-05"), AS_OF)
    df = survival_durations(db, flt, signed_up_in_period=True)
    # Only 5 (Jan 6) and 6 (Jan 11) signed up in Jan 5 .. Jan 31.
    assert df["customers"].sum() == 2


def test_empty_selection_and_bad_arguments(db):
    flt = RetentionFilter(FLT.start, FLT.end, segments=("none",))
    km = kaplan_meier(db, flt, by="plan")
    assert km.empty and list(km.columns) == list(CURVE_COLUMNS)
    med = median_lifetime(db, flt)
    assert med.empty and list(med.columns) == list(MEDIAN_COLUMNS)
    res = survival_logrank(db, flt, "segment")
    assert res.groups == () and math.isnan(res.p_value)
    one_group = survival_logrank(db, FLT, "plan")
    assert one_group.groups == ("standard",) and math.isnan(one_group.test_statistic)
    with pytest.raises(ValueError, match="split by"):
        kaplan_meier(db, FLT, by="email")
    with pytest.raises(ValueError, match="unit"):
        kaplan_meier(db, FLT, unit="weeks")


def test_durations_are_slices_of_a_cube_kept_per_as_of_date(make_db):
    # a customer without a segment: the '(missing)' group, counted under every segment
    # only when no segment is chosen
    db = make_db(customers=[dict(c) for c in CUSTOMERS]
                 + [dict(customer_id=9, signup_date=d("2024-01-01"), churn_date=d("2024-01-16"), segment=None)])
    rows = lambda df: [tuple(r) for r in df.itertuples(index=False)]  # noqa: E731
    by_segment = survival_durations(db, FLT, "segment")
    assert list(by_segment.columns) == ["group", "entry_days", "duration_days", "event", "customers"]
    assert rows(by_segment) == [
        ("(missing)", 0, 15, 1, 1),
        ("consumer", 0, 10, 1, 1), ("consumer", 0, 20, 0, 1), ("consumer", 0, 20, 1, 1), ("consumer", 0, 30, 0, 1),
        ("enterprise", 0, 20, 1, 1), ("enterprise", 0, 25, 0, 1),
    ]
    assert survival_durations(db, FLT)["customers"].sum() == 7
    # another segment and another start (same as-of date): slices of the same kept cubes
    later = RetentionFilter(d("2024-01-20"), AS_OF, segments=("enterprise",))
    assert rows(survival_durations(db, later, "segment")) == [("enterprise", 0, 20, 1, 1), ("enterprise", 0, 25, 0, 1)]
    assert rows(survival_durations(db, later)) == [("all", 0, 20, 1, 1), ("all", 0, 25, 0, 1)]
    from analytics.cubes import _kept
    kept = lambda: sum(1 for key in _kept(db)._frames if key[1] == "_survival_counts")  # noqa: E731
    assert kept() == 1  # one cube of cells answers "all" and "by segment" for the as-of date
    # signed_up_in_period: the start cuts signups, so it is part of the cube's period
    assert survival_durations(db, later, signed_up_in_period=True).empty
    assert survival_durations(db, RetentionFilter(d("2024-01-05"), AS_OF), signed_up_in_period=True)[
        "customers"].sum() == 2
    assert kept() == 3
