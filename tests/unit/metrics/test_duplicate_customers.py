"""Duplicate customer records count once (analytics/duplicates.py, analytics/filters.py,
docs/decisions/014-duplicate-customers.md), checked by hand: customer counts, logo churn,
MRR, the rollups against the live queries, and the Data quality page's sentence."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

import analytics.metrics as metrics
from analytics import rollups
from analytics.db import open_database
from analytics.duplicates import superseded_count, superseded_from_candidates, superseded_records
from analytics.filters import RetentionFilter, customers
from analytics.metrics.customer_base import active_customers, churn_summary
from analytics.metrics._common import execute
from analytics.metrics.data_quality import duplicate_policy_note
from analytics.metrics.revenue import mrr_by_month
from tests.builders import build_database
from tests.unit.metrics.conftest import d

# Two duplicate pairs among six records:
#   1 "Dana Levi" dana@example.com         churns Feb 10 2024
#   2 "dana  levi " DANA@example.com       a copy of 1 (name and e-mail normalised equal): superseded
#   3, 4                                    other people, active throughout
#   5 "Avi Cohen" phone 052-1234567         active
#   6 "Avi Cohen" other e-mail, same phone  a copy of 5 (name + valid phone): superseded, with its
#                                           own revenue (100 a month, Jan-Mar) and two contacts
CUSTOMERS = [
    dict(customer_id=1, full_name="Dana Levi", email="dana@example.com", signup_date=d("2023-01-01"),
         churn_date=d("2024-02-10")),
    dict(customer_id=2, full_name="dana  levi ", email="DANA@example.com", signup_date=d("2023-01-01"),
         churn_date=d("2024-02-10")),
    dict(customer_id=3, full_name="Noa Bar", email="noa@example.com", signup_date=d("2023-01-01")),
    dict(customer_id=4, full_name="Eli Tal", email="eli@example.com", signup_date=d("2023-01-01")),
    dict(customer_id=5, full_name="Avi Cohen", email="avi@example.com", phone="052-1234567",
         signup_date=d("2023-01-01"), segment="enterprise"),
    dict(customer_id=6, full_name="Avi Cohen", email="avi.cohen@work.example", phone="052-1234567",
         signup_date=d("2023-01-01"), segment="enterprise"),
]
MONTHS = [d("2024-01-01"), d("2024-02-01"), d("2024-03-01")]
REVENUE = (
    [dict(customer_id=1, month=d("2024-01-01"), mrr=100.0)]
    + [dict(customer_id=c, month=m, mrr=100.0) for c in (3, 4, 5, 6) for m in MONTHS]
)
TOUCHPOINTS = [
    dict(touchpoint_id=1, customer_id=6, occurred_at=datetime(2024, 1, 5, 10), kind="service_request"),
    dict(touchpoint_id=2, customer_id=6, occurred_at=datetime(2024, 1, 8, 10), kind="service_request"),
    dict(touchpoint_id=3, customer_id=3, occurred_at=datetime(2024, 1, 6, 10), kind="service_request"),
]
Q1 = RetentionFilter(d("2024-01-01"), d("2024-03-31"))
INFO = {"as_of_date": "2024-03-31", "history_start": "2023-01-01"}


@pytest.fixture
def db(make_db):
    return make_db(customers=[dict(c) for c in CUSTOMERS], monthly_revenue=[dict(r) for r in REVENUE],
                   touchpoints=[dict(t) for t in TOUCHPOINTS], schema_info=INFO)


def test_superseded_records_are_the_higher_ids_of_each_pair(db):
    assert superseded_count(db) == 2
    assert sorted(execute(db, customers(db, Q1))["customer_id"]) == [1, 3, 4, 5]
    # the data-quality check still sees every record, and fails exactly the superseded ones
    report = metrics.data_quality_report(db, Q1).set_index("check")
    assert report.loc["duplicate_customer", "failing"] == 2
    assert report.loc["duplicate_customer", "examples"] == [2, 6]
    assert report.loc["duplicate_customer", "checked"] == 6


def test_a_duplicate_pair_is_one_active_customer(db):
    # Active on Mar 31: 3, 4, 5 (1 left Feb 10). Both records counted (old): 3, 4, 5, 6 = 4.
    assert active_customers(db, Q1) == 3
    assert active_customers(db, RetentionFilter(Q1.start, Q1.end, segments=("enterprise",))) == 1  # 5, not 6


def test_logo_churn_counts_the_pair_once(db):
    # Q1: active at the start 1, 3, 4, 5 = 4; churned 1 (Feb 10) -> 1/4 = 25%.
    # Both records counted (old): start 1..6 = 6, churned 1 and 2 -> 2/6 = 33.3%.
    row = churn_summary(db, Q1).iloc[0]
    assert (row.active_start, row.churned) == (4, 1)
    assert row.churn_rate == pytest.approx(0.25)


def test_the_superseded_records_revenue_and_contacts_are_left_out(db):
    # March MRR: 3, 4, 5 at 100 = 300 (old, with 6's copy of the bill: 400).
    mrr = mrr_by_month(db, Q1).set_index("month")
    assert mrr.loc[pd.Timestamp("2024-03-01"), "mrr"] == pytest.approx(300.0)
    assert mrr.loc[pd.Timestamp("2024-01-01"), "paying_customers"] == 4  # 1, 3, 4, 5
    note = duplicate_policy_note(db)
    assert (note.records, note.touchpoints, note.revenue_months) == (2, 2, 3)
    assert note.text.startswith("2 duplicate customer records are counted once (policy: records with the same "
                                "name and e-mail, or the same name and valid phone, are one person;")
    assert note.text.endswith("with their 2 contacts and 3 revenue months).")


def test_no_duplicates_no_change(make_db):
    db = make_db(customers=[dict(c) for c in CUSTOMERS if c["customer_id"] not in (2, 6)], schema_info=INFO)
    assert superseded_count(db) == 0
    assert duplicate_policy_note(db).text.startswith("No duplicate customer records found")
    assert active_customers(db, Q1) == 3


def test_rollups_equal_the_live_path_with_duplicates(tmp_path):
    path = build_database(tmp_path / "dupes.duckdb", customers=[dict(c) for c in CUSTOMERS],
                          monthly_revenue=[dict(r) for r in REVENUE], touchpoints=[dict(t) for t in TOUCHPOINTS],
                          schema_info=INFO)
    writer = open_database(path, read_only=False)
    try:
        assert rollups.build_rollups(writer).skipped is None
    finally:
        writer.close()
    db = open_database(path)
    try:
        assert rollups.fresh_rollups(db, *rollups.ROLLUPS, as_of=date(2024, 3, 31)) is not None
        for flt in (Q1, RetentionFilter(Q1.start, Q1.end, segments=("enterprise",)),
                    RetentionFilter(d("2024-03-01"), d("2024-03-31"))):
            for name, call in (
                ("mrr_movements", metrics.mrr_movements),
                ("revenue_retention", lambda db, f: metrics.revenue_retention(db, f, "month")),
                ("customer_clv", metrics.customer_clv),
                ("value_tiers", metrics.value_tiers),
                ("average_clv_at", lambda db, f: metrics.average_clv_at(db, f, (f.end, f.start))),
                ("repeat_contact_rate", metrics.repeat_contact_rate),
                ("data_quality_report", metrics.data_quality_report),
            ):
                from_rollup = call(db, flt)
                with rollups.disabled():
                    live = call(db, flt)
                pd.testing.assert_frame_equal(from_rollup, live, check_exact=False, rtol=1e-9, atol=1e-6,
                                              obj=f"{name} {flt}")
        # and the rollup left the copy's bill out: March MRR of 3, 4, 5 (no new, no churn)
        march = metrics.mrr_movements(db, RetentionFilter(d("2024-03-01"), d("2024-03-31")))
        assert march["end_mrr"].sum() == pytest.approx(300.0)
        # the customer value rollup holds 1, 3, 4, 5 only
        assert sorted(metrics.customer_clv(db, Q1)["customer_id"]) == [1, 3, 4, 5]
        # the superseded ids read from the duplicate-candidate rollup (what a fresh file
        # uses) are the ones normalising every name and e-mail gives: 2 and 6
        from_rollup = execute(db, superseded_from_candidates(db.table(rollups.DQ_DUPLICATES)))
        live = execute(db, superseded_records(db.table("customers")))
        assert sorted(from_rollup["record_id"]) == sorted(live["record_id"]) == [2, 6]
    finally:
        db.close()
