"""The customers behind a KPI card: the same people the card counts, capped with the count."""

from __future__ import annotations

import pytest

from analytics.filters import RetentionFilter
from analytics.kpi_customers import churned_customers, customers_behind, saved_customer_list
from analytics.metrics import churn_summary, saved_customers
from tests.unit.metrics.conftest import d, dt

Q2 = RetentionFilter(d("2024-04-01"), d("2024-06-30"))


@pytest.fixture
def db(make_db):
    return make_db(
        customers=[
            dict(customer_id=1, signup_date=d("2023-01-01"), churn_date=d("2024-04-01")),  # first day: in
            dict(customer_id=2, signup_date=d("2023-01-01"), churn_date=d("2024-06-30")),  # last day: in
            dict(customer_id=3, signup_date=d("2023-01-01"), churn_date=d("2024-03-31")),  # before: out
            dict(customer_id=4, signup_date=d("2024-05-01"), churn_date=d("2024-06-01")),  # new in Q2: out
            dict(customer_id=5, signup_date=d("2023-01-01")),                               # saved
            dict(customer_id=6, signup_date=d("2023-01-01"), full_name="Test Customer", email="x@y.com"),
        ],
        touchpoints=[
            dict(touchpoint_id=10, customer_id=5, occurred_at=dt("2024-05-02 10:00"), kind="cancellation_request"),
            dict(touchpoint_id=11, customer_id=5, occurred_at=dt("2024-05-03 10:00"), kind="retention_call",
                 outcome="offer_accepted", related_touchpoint_id=10),
        ],
    )


def test_churned_are_the_cards_churners_latest_first(db):
    got = churned_customers(db, Q2)
    assert got.customers["customer_id"].tolist() == [2, 1]
    assert got.total == churn_summary(db, Q2)["churned_from_start"].iloc[0] == 2


def test_the_list_is_capped_with_the_full_count(db):
    got = churned_customers(db, Q2, limit=1)
    assert got.customers["customer_id"].tolist() == [2] and got.total == 2 and got.capped


def test_saved_are_the_cards_saves(db):
    got = saved_customer_list(db, Q2)
    assert got.customers["customer_id"].tolist() == [5]
    assert got.total == saved_customers(db, Q2) == 1
    assert str(got.customers["event_date"].iloc[0])[:10] == "2024-05-02"


def test_a_kpi_without_a_list_says_so(db):
    with pytest.raises(ValueError, match="no customer list for KPI 'nrr'"):
        customers_behind(db, "nrr", Q2)
