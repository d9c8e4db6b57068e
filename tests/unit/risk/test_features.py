"""Risk features on a tiny hand-checked database: values, population, label, no leakage."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analytics.risk.features import FEATURES, LABEL, NUMERIC_FEATURES, snapshot_features

AS_OF = date(2024, 12, 31)  # tests.builders' default schema_info as_of_date


def d(text: str) -> date:
    return date.fromisoformat(text)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


CUSTOMERS = [
    # 1: active, the worked example below
    dict(customer_id=1, signup_date=d("2024-01-15"), contract_type="month_to_month", plan="basic",
         segment="consumer", loyalty_member=False, margin_rate=0.5),
    # 2: churned on the as-of date itself -> not active on it
    dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-12-31")),
    # 3: signs up after the as-of date -> not in the population
    dict(customer_id=3, signup_date=d("2025-01-05")),
    # 4: churns 46 days later -> label 1; no history at all
    dict(customer_id=4, signup_date=d("2024-06-01"), churn_date=d("2025-02-15"), loyalty_member=True,
         contract_type="two_year", plan="premium", segment="enterprise"),
    # 5: churns 105 days later, outside the 90-day window -> label 0
    dict(customer_id=5, signup_date=d("2024-06-01"), churn_date=d("2025-04-15")),
]

TOUCHPOINTS = [
    # customer 1, inside the look-back windows
    dict(customer_id=1, occurred_at=ts("2024-06-01 10:00"), kind="service_request", subject="general",
         wait_seconds=100, resolved=True),
    dict(customer_id=1, occurred_at=ts("2024-10-01 12:00"), kind="survey", direction="outbound", csat=4, nps=8),
    dict(customer_id=1, occurred_at=ts("2024-11-01 10:00"), kind="service_request", channel="chat",
         subject="billing", resolved=False, note="Competitor offered 30 NIS less per month"),
    dict(customer_id=1, occurred_at=ts("2024-12-20 10:00"), kind="complaint", subject="technical",
         wait_seconds=600, resolved=False, note="הלקוח רוצה לבטל את השירות"),
    dict(customer_id=1, occurred_at=ts("2024-12-24 09:00"), kind="service_request", subject="technical",
         wait_seconds=100, resolved=True),
    dict(customer_id=1, occurred_at=ts("2024-12-25 18:00"), kind="survey", direction="outbound", csat=2, nps=3),
    dict(customer_id=1, occurred_at=ts("2024-12-28 10:00"), kind="cancellation_request", subject="cancellation"),
    dict(customer_id=1, occurred_at=ts("2024-12-30 11:00"), kind="marketing", direction="outbound", subject="sales"),
]
REVENUE = [
    dict(customer_id=1, month=d("2024-09-01"), mrr=100.0),
    dict(customer_id=1, month=d("2024-12-01"), mrr=107.0),
    dict(customer_id=5, month=d("2024-12-01"), mrr=50.0),
]

# rows dated after the as-of date: none of them may change a feature
LATE_TOUCHPOINTS = [
    dict(customer_id=1, occurred_at=ts("2025-01-01 00:00"), kind="complaint", subject="technical",
         wait_seconds=9999, resolved=False, note="Competitor offered 50 NIS less"),
    dict(customer_id=1, occurred_at=ts("2025-01-01 08:00"), kind="retention_call", direction="outbound",
         subject="cancellation", outcome="offer_accepted"),
    dict(customer_id=1, occurred_at=ts("2025-01-02 09:00"), kind="survey", direction="outbound", csat=5, nps=10),
    dict(customer_id=1, occurred_at=ts("2025-01-03 09:00"), kind="cancellation_request", subject="cancellation",
         note="wants to cancel"),
    dict(customer_id=4, occurred_at=ts("2025-01-10 09:00"), kind="billing_issue", subject="billing",
         resolved=False, note="Charged twice this month, wants a refund"),
    dict(customer_id=5, occurred_at=ts("2025-02-01 09:00"), kind="service_request", subject="technical",
         wait_seconds=50, resolved=False),
]
LATE_REVENUE = [
    dict(customer_id=1, month=d("2025-01-01"), mrr=999.0),
    dict(customer_id=4, month=d("2025-01-01"), mrr=10.0),
]


@pytest.fixture
def features(tiny_db) -> pd.DataFrame:
    db = tiny_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=[dict(t) for t in TOUCHPOINTS],
                 monthly_revenue=[dict(r) for r in REVENUE])
    return snapshot_features(db, AS_OF).set_index("customer_id")


def test_population_is_customers_active_on_the_as_of_date(features):
    assert list(features.index) == [1, 4, 5]


def test_label_is_churn_within_90_days_after_the_as_of_date(features):
    assert features[LABEL].to_dict() == {1: 0, 4: 1, 5: 0}


def test_worked_example(features):
    c = features.loc[1]
    assert c["contract_type"] == "month_to_month" and c["plan"] == "basic" and c["segment"] == "consumer"
    assert c["tenure_months"] == pytest.approx(351 / (365.25 / 12))  # 2024-01-15 -> 2024-12-31
    assert c["loyalty_member"] == 0
    assert c["mrr"] == 107.0
    assert c["mrr_change_3m_pct"] == pytest.approx(0.07)  # Dec 107 vs Sep 100
    # counts: last 30 days = Dec 2..31, last 90 days = Oct 3..Dec 31
    assert c["complaints_30d"] == 1 and c["complaints_90d"] == 1
    assert c["service_requests_30d"] == 1 and c["service_requests_90d"] == 2  # Dec 24, Nov 1
    assert c["cancellation_requests_30d"] == 1
    assert c["unresolved_contacts_30d"] == 1  # the Dec 20 complaint
    assert c["unresolved_contacts_90d"] == 2  # + Nov 1
    assert c["unresolved_complaints_30d"] == 1
    assert c["service_contacts_365d"] == 4 and c["unresolved_contacts_365d"] == 2
    # Dec 24 repeats the Dec 20 technical contact (4 days); Nov 1 is billing: no repeat
    assert c["repeat_contacts_90d"] == 1
    # phone waits in the year: 100, 600, 100 -> median 100; 600 > 3 x 100 is a long wait
    assert c["long_waits_90d"] == 1
    # open request: Dec 28, no accepted retention offer after it; 3.6 days -> 3 whole days
    assert c["open_cancellation_request"] == 1
    assert c["days_since_cancellation_request"] == 3
    # last service contact Dec 24 09:00 -> 7.6 days before midnight after the as-of date
    assert c["days_since_last_contact"] == 7
    assert c["last_csat"] == 2 and c["last_nps"] == 3
    assert c["csat_trend"] == pytest.approx(2 - 3)  # last minus the year's mean (4 + 2) / 2
    assert c["note_cancel_intent_90d"] == 1 and c["note_competitor_90d"] == 1
    assert c["note_price_90d"] == 0 and c["note_billing_90d"] == 0


def test_customer_without_history_gets_zeros_and_unknowns(features):
    c = features.loc[4]
    assert c["contract_type"] == "two_year" and c["loyalty_member"] == 1
    counts = [f for f in NUMERIC_FEATURES if f.endswith(("_30d", "_90d", "_180d", "_365d"))]
    assert (c[counts] == 0).all()
    assert np.isnan(c["mrr"]) and np.isnan(c["mrr_change_3m_pct"])
    assert np.isnan(c["last_csat"]) and np.isnan(c["last_nps"]) and c["csat_trend"] == 0
    assert c["days_since_last_contact"] == 365 and c["days_since_cancellation_request"] == 365


def test_no_leakage_rows_after_the_as_of_date_change_no_feature(tiny_db):
    base = tiny_db(customers=[dict(c) for c in CUSTOMERS], touchpoints=[dict(t) for t in TOUCHPOINTS],
                   monthly_revenue=[dict(r) for r in REVENUE])
    late = tiny_db(customers=[dict(c) for c in CUSTOMERS],
                   touchpoints=[dict(t) for t in TOUCHPOINTS + LATE_TOUCHPOINTS],
                   monthly_revenue=[dict(r) for r in REVENUE + LATE_REVENUE])
    before = snapshot_features(base, AS_OF)
    after = snapshot_features(late, AS_OF)
    pd.testing.assert_frame_equal(before[["customer_id", *FEATURES, LABEL]], after[["customer_id", *FEATURES, LABEL]])
    # ...while the same late rows are visible to a later snapshot (the test is not vacuous)
    later = snapshot_features(late, date(2025, 1, 31)).set_index("customer_id")
    assert later.loc[1, "complaints_90d"] == 2 and later.loc[1, "last_csat"] == 5  # Dec 20 + Jan 1


def test_feature_frame_types_are_stable(features):
    assert features["contract_type"].dtype == "category"
    # the data's own values, sorted (every customer record, not only the active ones): the
    # builder's default month_to_month and customer 4's two_year; no "annual" in this file
    assert list(features["contract_type"].cat.categories) == ["month_to_month", "two_year"]
    assert list(features["plan"].cat.categories) == ["basic", "premium", "standard"]
    assert all(features[f].dtype == "float64" for f in NUMERIC_FEATURES)
