"""Historical CLV, its distribution, Pareto share, tiers and CLV : CAC, checked by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from analytics.filters import RetentionFilter
from analytics.metrics.value import (
    CAC_COLUMNS,
    CUSTOMER_VALUE_COLUMNS,
    QUANTILE_COLUMNS,
    TIER_COLUMNS,
    average_clv_at,
    clv_cac_ratio,
    clv_pareto,
    clv_pareto_curve,
    clv_quantiles,
    clv_quantiles_by,
    customer_clv,
    split_groups,
    value_tiers,
)
from analytics import rollups
from analytics.db import open_database
from tests.builders import build_database
from tests.unit.metrics.conftest import d, dt

Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))  # as-of Mar 31
CUSTOMERS = [
    dict(customer_id=1, signup_date=d("2023-12-01"), acquisition_channel="web", acquisition_cost=100.0, margin_rate=0.5),
    dict(customer_id=2, signup_date=d("2023-12-01"), acquisition_channel="store", acquisition_cost=50.0, margin_rate=0.4),
    dict(customer_id=3, signup_date=d("2023-12-01"), segment="enterprise", acquisition_channel="web",
         acquisition_cost=400.0, margin_rate=0.5),
    dict(customer_id=4, signup_date=d("2024-01-01"), acquisition_channel="web", acquisition_cost=0.0, margin_rate=0.3),
    dict(customer_id=5, signup_date=d("2024-04-05"), segment="enterprise", acquisition_channel="partner",
         acquisition_cost=200.0, margin_rate=0.5),  # signs up after the as-of date
    dict(customer_id=6, signup_date=d("2024-01-01"), acquisition_channel="web", acquisition_cost=100.0,
         margin_rate=None),  # unknown margin counts as 0
]
REVENUE = [
    dict(customer_id=c, month=d(m), mrr=v)
    for c, m, v in [
        (1, "2024-01-01", 100), (1, "2024-02-01", 100), (1, "2024-03-01", 100), (1, "2024-04-01", 100),
        (2, "2024-01-01", 50),
        (3, "2023-12-01", 500), (3, "2024-01-01", 500), (3, "2024-02-01", 500), (3, "2024-03-01", 500),
        (6, "2024-01-01", 10),
    ]
]
TOUCHPOINTS = [
    dict(customer_id=1, occurred_at=dt("2024-02-10 12:00"), kind="purchase", channel="web", amount=40.0),
    dict(customer_id=1, occurred_at=dt("2024-04-02 12:00"), kind="purchase", channel="web", amount=60.0),  # after as-of
    dict(customer_id=1, occurred_at=dt("2024-02-11 12:00"), kind="billing_issue", channel="phone", amount=-10.0),
    dict(customer_id=4, occurred_at=dt("2024-03-31 23:00"), kind="purchase", channel="store", amount=100.0),
]
# CLV = margin × (MRR months up to March + purchases up to Mar 31):
#   c1 0.5 × (300 + 40) = 170;  c2 0.4 × 50 = 20;  c3 0.5 × 2000 = 1000;  c4 0.3 × 100 = 30;
#   c6 0 × 10 = 0;  c5 not yet a customer.  Ranked: c3, c1, c4, c2, c6; total 1220.
CLV = {3: 1000.0, 1: 170.0, 4: 30.0, 2: 20.0, 6: 0.0}


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=REVENUE,
                   touchpoints=[dict(t) for t in TOUCHPOINTS])


@pytest.fixture(params=["live", "rollup"])
def db_either_path(request, tmp_path):
    """The same data, without rollups (live queries) and with fresh rollups."""
    path = tmp_path / f"value-{request.param}.duckdb"
    build_database(path, customers=[dict(c) for c in CUSTOMERS], monthly_revenue=REVENUE,
                   touchpoints=[dict(t) for t in TOUCHPOINTS])
    if request.param == "rollup":
        assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    db = open_database(path)
    assert (rollups.fresh_rollup(db, rollups.CLV_ACCRUAL) is not None) == (request.param == "rollup")
    yield db
    db.close()


def test_average_clv_at_several_dates(db_either_path):
    dates = [d("2024-03-31"), d("2023-12-31"), d("2024-02-15"), d("2024-04-30"), d("2023-11-30")]
    df = average_clv_at(db_either_path, Q1, dates).set_index(pd.Index(sorted(dates)))
    # 2023-11-30: nobody yet.  2023-12-31: c1, c2, c3; c3's December 0.5 × 500 = 250.
    # 2024-02-15: + c4, c6 (Jan 1); c1 0.5 × (200 + 40 on Feb 10) = 120, c2 20, c3 0.5 × 1500 = 750.
    # 2024-03-31: the CLV table above, 1220 over 5.  2024-04-30: + c5 (Apr 5, nothing earned);
    # c1 0.5 × (400 + 40 + 60 on Apr 2) = 250 -> 1220 - 170 + 250 = 1300 over 6.
    assert df["customers"].tolist() == [0, 3, 5, 5, 6]
    assert df["total_clv"].tolist() == pytest.approx([0, 250, 890, 1220, 1300])
    assert math.isnan(df["average_clv"].iloc[0])
    assert df["average_clv"].iloc[1:].tolist() == pytest.approx([250 / 3, 890 / 5, 1220 / 5, 1300 / 6])
    enterprise = average_clv_at(db_either_path, RetentionFilter(Q1.start, Q1.end, segments=("enterprise",)),
                                [d("2024-03-31"), d("2024-04-30")])
    assert enterprise["customers"].tolist() == [1, 2] and enterprise["total_clv"].tolist() == pytest.approx([1000, 1000])


def test_customer_clv(db):
    df = customer_clv(db, Q1)
    assert list(df.columns) == list(CUSTOMER_VALUE_COLUMNS)
    assert dict(zip(df["customer_id"], df["clv"])) == pytest.approx(CLV)
    assert df["customer_id"].tolist() == [3, 1, 4, 2, 6]
    # Tiers for N = 5 by rank r: platinum r < 0.5, gold r < 1.5, silver r < 3, bronze the rest.
    assert df["value_tier"].tolist() == ["platinum", "gold", "silver", "bronze", "bronze"]


def test_channel_filter_does_not_change_value(db):
    store_only = RetentionFilter(Q1.start, Q1.end, channels=("store",))
    df = customer_clv(db, store_only)
    assert dict(zip(df["customer_id"], df["clv"]))[1] == pytest.approx(170.0)  # web purchase still counts


def test_quantiles_and_pareto(db):
    q = clv_quantiles(db, Q1, quantiles=(0.25, 0.5, 0.9))
    assert list(q.columns) == list(QUANTILE_COLUMNS)
    # sorted 0, 20, 30, 170, 1000: q.25 at position 1 = 20; median 30;
    # q.9 at position 3.6 = 170 + 0.6 · 830 = 668.
    assert q["clv"].tolist() == pytest.approx([20.0, 30.0, 668.0])
    p = clv_pareto(db, Q1)
    # top ceil(0.2 · 5) = 1 customer (c3) holds 1000 of 1220.
    assert (p.customers, p.top_customers, p.total_clv, p.top_clv) == (5, 1, pytest.approx(1220), pytest.approx(1000))
    assert p.top_value_share == pytest.approx(1000 / 1220)
    # top 50% = ceil(2.5) = 3 customers: 1000 + 170 + 30.
    assert clv_pareto(db, Q1, top_share=0.5).top_clv == pytest.approx(1200)


def test_quantiles_by_segment_in_one_query_equal_each_segment_alone(db):
    long = clv_quantiles_by(db, Q1, "segment", (0.25, 0.5, 0.9))
    groups = split_groups(long, ["consumer", "enterprise", "small_business"], QUANTILE_COLUMNS)
    for segment in ("consumer", "enterprise"):
        alone = clv_quantiles(db, RetentionFilter(Q1.start, Q1.end, segments=(segment,)), (0.25, 0.5, 0.9))
        assert len(alone) == 3
        pd.testing.assert_frame_equal(groups[segment], alone)
    assert groups["small_business"].empty
    # one group when not split: the same numbers as test_quantiles_and_pareto
    assert clv_quantiles_by(db, Q1, None, (0.5,))[["group", "clv"]].values.tolist() == [["all", 30.0]]
    with pytest.raises(ValueError):
        clv_quantiles_by(db, Q1, "favourite_colour")


def test_clv_pareto_curve_by_hand(db_either_path):
    # ranked c3 1000, c1 170, c4 30, c2 20, c6 0 of 1220; five points: one customer each
    curve = clv_pareto_curve(db_either_path, Q1, points=5)
    assert curve["customer_share"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert curve["value_share"].tolist() == pytest.approx(
        [0, 1000 / 1220, 1170 / 1220, 1200 / 1220, 1220 / 1220, 1.0])
    # two points for five customers: at x = 0.5 the ⌈2.5⌉ = 3 most valuable, as clv_pareto counts them
    two = clv_pareto_curve(db_either_path, Q1, points=2)
    assert two["customer_share"].tolist() == pytest.approx([0, 0.5, 1.0])
    assert two["value_share"].tolist() == pytest.approx([0, 1200 / 1220, 1.0])
    assert two["value_share"].iloc[1] == pytest.approx(clv_pareto(db_either_path, Q1, 0.5).top_value_share)
    # more points than customers: every point still there, steps where a customer is added
    ten = clv_pareto_curve(db_either_path, Q1, points=10)
    assert len(ten) == 11 and ten["value_share"].tolist() == pytest.approx(
        [0, 1000 / 1220, 1000 / 1220, 1170 / 1220, 1170 / 1220, 1200 / 1220, 1200 / 1220, 1220 / 1220,
         1220 / 1220, 1, 1])
    # a filter re-ranks its selection: consumers c1 170, c4 30, c2 20, c6 0 of 220
    consumers = clv_pareto_curve(db_either_path, replace(Q1, segments=("consumer",)), points=4)
    assert consumers["value_share"].tolist() == pytest.approx([0, 170 / 220, 200 / 220, 1.0, 1.0])
    # the curve's point at the Pareto share is `clv_pareto`'s figure
    assert curve["value_share"].iloc[1] == pytest.approx(clv_pareto(db_either_path, Q1, 0.2).top_value_share)
    assert clv_pareto_curve(db_either_path, replace(Q1, segments=("nobody",))).empty


def test_value_tiers(db):
    df = value_tiers(db, Q1)
    assert list(df.columns) == list(TIER_COLUMNS)
    assert df[["value_tier", "customers"]].values.tolist() == [
        ["platinum", 1], ["gold", 1], ["silver", 1], ["bronze", 2],
    ]
    assert df["total_clv"].tolist() == pytest.approx([1000, 170, 30, 20])
    assert df["share_of_value"].sum() == pytest.approx(1.0)


def test_clv_cac_ratio(db):
    seg = clv_cac_ratio(db, Q1, "segment").set_index("group")
    assert list(clv_cac_ratio(db, Q1).columns) == list(CAC_COLUMNS)
    # consumer c1 c2 c4 c6: CLV 170 + 20 + 30 + 0 = 220, CAC 100 + 50 + 0 + 100 = 250.
    assert seg.loc["consumer", "clv_cac_ratio"] == pytest.approx(220 / 250)
    assert seg.loc["enterprise", "clv_cac_ratio"] == pytest.approx(1000 / 400)
    ch = clv_cac_ratio(db, Q1, "acquisition_channel").set_index("group")
    # web c1 c3 c4 c6: 1200 / 600; store c2: 20 / 50.
    assert ch["clv_cac_ratio"].to_dict() == pytest.approx({"store": 0.4, "web": 2.0})
    plan = clv_cac_ratio(db, Q1, "plan")
    assert plan[["group", "customers"]].values.tolist() == [["standard", 5]]


def test_segment_filter(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))
    assert customer_clv(db, flt)[["customer_id", "value_tier"]].values.tolist() == [[3, "platinum"]]
    assert clv_pareto(db, flt).top_value_share == pytest.approx(1.0)


def test_empty_selection(db):
    flt = RetentionFilter(Q1.start, Q1.end, segments=("none",))
    for df, cols in (
        (customer_clv(db, flt), CUSTOMER_VALUE_COLUMNS),
        (clv_quantiles(db, flt), QUANTILE_COLUMNS),
        (value_tiers(db, flt), TIER_COLUMNS),
        (clv_cac_ratio(db, flt, "acquisition_channel"), CAC_COLUMNS),
    ):
        assert df.empty and list(df.columns) == list(cols)
    p = clv_pareto(db, flt)
    assert p.customers == 0 and math.isnan(p.top_value_share)
    with pytest.raises(ValueError):
        clv_pareto(db, Q1, top_share=0)
    with pytest.raises(ValueError, match="split by"):
        clv_cac_ratio(db, Q1, "email")


# --- historical CLV truncated by the history start (issue 14) --------------------------------
#
# History starts 2024-01-01 (schema_info). As of 2024-03-31: customers 1-3 signed up on
# 2023-12-01, before it (their December margin is not in the data), 4 and 6 on 2024-01-01
# (the start itself: complete), 5 after the as-of date (not in the population).
# Share truncated = 3 / 5 = 60 %; consumers only (1, 2, 4, 6): 2 / 4 = 50 %.
# Without schema_info.history_start the first billed month is the start.

def test_history_truncation_share(make_db):
    from analytics.metrics import history_truncation

    db = make_db(customers=CUSTOMERS, schema_info={"history_start": "2024-01-01"})
    t = history_truncation(db, Q1)
    assert (t.customers, t.truncated, t.history_start, t.source) == (5, 3, d("2024-01-01"), "schema_info")
    assert t.share == pytest.approx(0.6)
    assert t.sentence() == ("60% of these customers signed up before the history starts (2024-01-01); their "
                            "historical CLV counts only the margin since then.")
    consumers = history_truncation(db, RetentionFilter(Q1.start, Q1.end, segments=("consumer",)))
    assert (consumers.customers, consumers.truncated) == (4, 2)

    # no recorded start: the first billed month (2024-02-01) -> 1-4 and 6 all signed up before it
    unrecorded = make_db(customers=CUSTOMERS, monthly_revenue=[dict(customer_id=1, month=d("2024-02-01"), mrr=10.0)])
    t = history_truncation(unrecorded, Q1)
    assert (t.truncated, t.history_start, t.source) == (5, d("2024-02-01"), "first billed month")
    # no billing rows either: the earliest signup, so nobody is truncated and nothing is said
    bare = history_truncation(make_db(customers=CUSTOMERS), Q1)
    assert bare.source == "earliest signup" and bare.truncated == 0 and bare.sentence() == ""
