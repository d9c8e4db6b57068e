"""The MRR waterfall (opening MRR -> new, expansion, contraction, churned -> closing MRR),
ARR and ARPA, worked by hand on six customers, each a trap for a plausible wrong rule."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from analytics import rollups
from analytics.db import open_database
from analytics.filters import RetentionFilter
from analytics.metrics.revenue import WATERFALL_COLUMNS, mrr_waterfall
from tests.builders import build_database
from tests.unit.metrics.conftest import d

HISTORY = d("2023-12-01")
SAME = dict(email="e@example.com", phone=None)
CUSTOMERS = [
    dict(customer_id=1, full_name="New", signup_date=d("2024-02-10")),
    dict(customer_id=2, full_name="Expands", signup_date=d("2023-12-01"), email="exp@example.com"),
    dict(customer_id=3, full_name="Contracts", signup_date=d("2023-12-01")),
    # billed in its churn month: still a March row, but gone from 2 March
    dict(customer_id=4, full_name="Churns", signup_date=d("2023-12-01"), churn_date=d("2024-03-02")),
    # signed up before the history starts (left truncation): paying all along, never "new"
    dict(customer_id=5, full_name="Old", signup_date=d("2023-06-15")),
    # the same person as customer 2 (same name and e-mail): superseded, counted once
    dict(customer_id=6, full_name="Expands", signup_date=d("2023-12-01"), email="exp@example.com"),
]
# MRR by month       Dec  Jan  Feb  Mar
MRR = {1: [None, None, 50, 50],
       2: [100, 100, 150, 150],
       3: [200, 200, 200, 120],
       4: [80, 80, 80, 80],
       5: [60, 60, 60, 60],
       6: [100, 100, 100, 100]}
MONTHS = [d("2023-12-01"), d("2024-01-01"), d("2024-02-01"), d("2024-03-01")]
Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))


@pytest.fixture(params=["live", "rollup"])
def db(request, make_db, tmp_path):
    """The six customers, queried live, or with the rollups built (whole-month steps then
    come from ``rollup_mrr_movements``): the hand-worked figures hold on both paths."""
    rows = [dict(customer_id=c, month=m, mrr=v) for c, vs in MRR.items() for m, v in zip(MONTHS, vs) if v is not None]
    tables = dict(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=rows,
                  schema_info={"history_start": "2023-12-01", "as_of_date": "2024-03-31"})
    if request.param == "live":
        return make_db(**tables)
    path = tmp_path / "with-rollups.duckdb"
    build_database(path, **tables)
    assert rollups.main(["--db", str(path)]) == rollups.EXIT_OK
    db = open_database(path)
    request.addfinalizer(db.close)
    assert rollups.fresh_rollup(db, rollups.MRR_MOVEMENTS) is not None
    return db


def test_q1_waterfall_by_hand(db):
    w = mrr_waterfall(db, Q1, HISTORY).iloc[0]
    # opening = MRR on 31 Dec: 2 (100) + 3 (200) + 4 (80) + 5 (60); customer 6 is a duplicate
    assert w["opening_mrr"] == 440
    assert w["new_mrr"] == 50          # customer 1 in February
    assert w["expansion_mrr"] == 50    # customer 2: 100 -> 150
    assert w["contraction_mrr"] == 80  # customer 3: 200 -> 120
    assert w["churned_mrr"] == 80      # customer 4 in March, though March was billed
    assert w["reactivation_mrr"] == 0  # customer 5 was paying before the window: no movement
    # closing = MRR on 31 Mar of the customers active then: 1 (50) + 2 (150) + 3 (120) + 5 (60)
    assert w["closing_mrr"] == 380
    assert w["opening_mrr"] + w["new_mrr"] + w["expansion_mrr"] + w["reactivation_mrr"] \
        - w["contraction_mrr"] - w["churned_mrr"] == w["closing_mrr"]
    assert w["paying_customers"] == 4
    assert w["arpa"] == 95
    assert w["arr"] == 12 * 380


def test_churn_on_the_2nd_counts_from_that_day(db):
    # a window ending 1 March: customer 4 is still active and paying (80) on its last day
    w = mrr_waterfall(db, RetentionFilter(d("2024-01-01"), d("2024-03-01")), HISTORY).iloc[0]
    assert w["churned_mrr"] == 0
    assert w["contraction_mrr"] == 80  # customer 3's March MRR is read in March
    assert w["closing_mrr"] == 50 + 150 + 120 + 80 + 60


def test_a_window_from_the_history_start_opens_after_its_first_month(db):
    # before December nobody's MRR is known: customer 5 (signed up in June) and the
    # December signups would all look new; the waterfall opens on 31 Dec instead
    w = mrr_waterfall(db, RetentionFilter(HISTORY, d("2024-03-31")), HISTORY).iloc[0]
    assert w["opening_day"].date() == d("2023-12-31")
    assert w["opening_mrr"] == 440 and w["new_mrr"] == 50 and w["reactivation_mrr"] == 0
    assert mrr_waterfall(db, RetentionFilter(HISTORY, d("2023-12-31")), HISTORY).empty


def test_a_population_filter_slices_the_cube(db):
    assert mrr_waterfall(db, replace(Q1, segments=("enterprise",)), HISTORY).iloc[0]["closing_mrr"] == 0
    w = mrr_waterfall(db, replace(Q1, segments=("consumer",)), HISTORY).iloc[0]
    assert w["closing_mrr"] == 380


def test_nobody_paying_gives_nan_arpa(make_db):
    db = make_db(customers=[dict(customer_id=1, signup_date=d("2023-01-01"))],
                 schema_info={"history_start": "2023-01-01"})
    w = mrr_waterfall(db, Q1, d("2023-01-01"))
    assert list(w.columns) == list(WATERFALL_COLUMNS)
    assert w.iloc[0]["closing_mrr"] == 0 and math.isnan(w.iloc[0]["arpa"])
