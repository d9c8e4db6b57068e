"""Quarterly targets: loading config/targets.toml and comparing with actuals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.targets import (
    COMPARISON_COLUMNS,
    DEFAULT_TARGETS_PATH,
    TARGET_METRICS,
    load_targets,
    quarter_actuals,
    quarter_window,
    targets_vs_actuals,
)
from tests.unit.metrics.conftest import d, dt

TOML = """
[quarters."2024Q1"]
churn_rate = 0.30
retention_rate = 0.70
nrr = 0.90
saved_customers = 2

[quarters."2024Q2"]
churn_rate = 0.10
"""
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-06-01")),
    dict(customer_id=2, signup_date=d("2023-06-01"), churn_date=d("2024-02-10")),
    dict(customer_id=3, signup_date=d("2023-06-01")),
    dict(customer_id=4, signup_date=d("2023-06-01")),
]
REVENUE = [
    dict(customer_id=c, month=d(m), mrr=v)
    for c, m, v in [
        (1, "2023-12-01", 100), (1, "2024-03-01", 120),
        (2, "2023-12-01", 100),
        (3, "2023-12-01", 100), (3, "2024-03-01", 100),
        (4, "2023-12-01", 100), (4, "2024-03-01", 60),
    ]
]
TOUCHPOINTS = [
    dict(touchpoint_id=1, customer_id=3, occurred_at=dt("2024-01-05 10:00"), kind="cancellation_request"),
    dict(touchpoint_id=2, customer_id=3, occurred_at=dt("2024-01-05 12:00"), kind="retention_call",
         related_touchpoint_id=1, outcome="offer_accepted", direction="outbound"),
]


@pytest.fixture
def targets_file(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(TOML)
    return path


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=REVENUE,
                   touchpoints=[dict(t) for t in TOUCHPOINTS])


def test_load_targets(targets_file):
    df = load_targets(targets_file)
    assert df[df["quarter"] == "2024Q1"].set_index("metric")["target"].to_dict() == {
        "churn_rate": 0.30, "retention_rate": 0.70, "nrr": 0.90, "saved_customers": 2.0,
    }
    assert len(df) == 5


def test_project_targets_cover_2025_to_2026():
    df = load_targets(DEFAULT_TARGETS_PATH)
    quarters = {f"{y}Q{q}" for y in (2025, 2026) for q in range(1, 5)}
    assert quarters <= set(df["quarter"])
    for q in quarters:
        assert set(df.loc[df["quarter"] == q, "metric"]) == set(TARGET_METRICS)
    rates = df[df["metric"].isin(["churn_rate", "retention_rate"])]
    assert rates["target"].between(0, 1).all()


@pytest.mark.parametrize(
    "text, message",
    [
        ('[quarters."2024Q5"]\nnrr = 1.0\n', "quarter number"),
        ('[quarters."2024Q1"]\nchurn = 0.1\n', "not a known target"),
        ('[quarters."2024Q1"]\nnrr = "high"\n', "must be a number"),
    ],
)
def test_bad_target_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_targets(path)


def test_targets_vs_actuals(db, targets_file):
    flt = RetentionFilter(d("2024-01-01"), d("2024-06-30"))
    df = targets_vs_actuals(db, flt, "2024q1", path=targets_file)
    assert list(df.columns) == list(COMPARISON_COLUMNS)
    got = df.set_index("metric")
    # Logo churn Q1: 4 active at the start, c2 leaves -> 0.25 (target 0.30: met, lower is better).
    # NRR: book Dec 400 -> March 120 + 0 + 100 + 60 = 280 -> 0.70 (target 0.90: missed).
    # Saves: c3 asked to cancel, accepted an offer and is active on Mar 31 -> 1 (target 2: missed).
    assert got["actual"].to_dict() == pytest.approx(
        {"churn_rate": 0.25, "retention_rate": 0.75, "nrr": 0.70, "saved_customers": 1.0}
    )
    assert got["gap"].to_dict() == pytest.approx(
        {"churn_rate": -0.05, "retention_rate": 0.05, "nrr": -0.20, "saved_customers": -1.0}
    )
    assert got["met"].tolist() == [True, True, False, False]
    assert not got["partial"].any()


def test_partial_future_and_missing_targets(db, targets_file):
    # As of May 15, Q2 is partial; only its churn target exists.
    flt = RetentionFilter(d("2024-01-01"), d("2024-05-15"))
    q2 = targets_vs_actuals(db, flt, "2024Q2", path=targets_file).set_index("metric")
    assert q2["partial"].all()
    assert q2.loc["churn_rate", "actual"] == 0.0 and bool(q2.loc["churn_rate", "met"]) is True
    assert math.isnan(q2.loc["nrr", "target"]) and pd.isna(q2.loc["nrr", "met"])
    # A quarter after the as-of date has no actuals yet.
    q3 = targets_vs_actuals(db, flt, "2024Q3", path=targets_file)
    assert q3["actual"].isna().all() and q3["met"].isna().all()


def test_actuals_computed_elsewhere_give_the_same_comparison(db, targets_file):
    """The dashboard passes actuals it built from its cached results over `quarter_window`."""
    flt = RetentionFilter(d("2024-01-01"), d("2024-05-15"))
    assert quarter_window(flt, "2024Q1") == flt.with_period(d("2024-01-01"), d("2024-03-31"))
    assert quarter_window(flt, "2024Q2") == flt.with_period(d("2024-04-01"), d("2024-05-15"))  # to the as-of date
    assert quarter_window(flt, "2024Q3") is None
    for quarter in ("2024Q1", "2024Q2", "2024Q3"):
        given = targets_vs_actuals(db, flt, quarter, path=targets_file, actuals=quarter_actuals(db, flt, quarter))
        pd.testing.assert_frame_equal(given, targets_vs_actuals(db, flt, quarter, path=targets_file))
