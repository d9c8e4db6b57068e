"""Subscription CLV and expected loss against hand computations."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from analytics.risk.clv import (
    clv_inputs,
    customer_value,
    expected_loss,
    expected_remaining_margin,
    historical_clv,
    monthly_hazard,
    predicted_clv,
)


def test_monthly_hazard_reproduces_the_90_day_probability():
    # 1 - 0.729 = 0.271 over three months is 10 % a month: 0.9^3 = 0.729
    assert monthly_hazard(0.271) == pytest.approx(0.1)
    p = np.array([0.0, 0.05, 0.5, 1.0])
    assert np.allclose(1 - (1 - monthly_hazard(p)) ** 3, p)


def test_remaining_margin_by_hand_two_months():
    # M = 100, h = 0.1, d = 10 %/year: 100·0.9·1.1^(-1/12) + 100·0.81·1.1^(-2/12)
    by_hand = 100 * 0.9 * 1.1 ** (-1 / 12) + 100 * 0.81 * 1.1 ** (-2 / 12)
    assert expected_remaining_margin(100.0, 0.271, horizon_months=2, annual_discount=0.10) == pytest.approx(by_hand)


def test_closed_form_equals_the_sum_over_24_months():
    margin, p, d = 57.5, 0.08, 0.10
    h = 1 - (1 - p) ** (1 / 3)
    total = sum(margin * (1 - h) ** t * (1 + d) ** (-t / 12) for t in range(1, 25))
    assert expected_remaining_margin(margin, p) == pytest.approx(total)


def test_no_churn_no_discount_is_margin_times_horizon():
    assert expected_remaining_margin(10.0, 0.0, horizon_months=24, annual_discount=0.0) == pytest.approx(240.0)
    assert expected_remaining_margin(10.0, 1.0) == pytest.approx(0.0)
    assert expected_remaining_margin(10.0, 0.3, horizon_months=0) == 0.0


def test_expected_loss_weighs_the_future_value_not_the_margin_already_earned():
    # Margin rate 0.5 on 1,000 recurring + 200 purchases to date: CLV_hist = 600 (banked).
    # M = 100 a month, p90 = 0.271 (h = 0.1), H = 2 months, d = 10 %/year:
    #   CLV_future = 100·0.9·1.1^(-1/12) + 100·0.81·1.1^(-2/12)
    #              = 100·0.9·0.992089 + 100·0.81·0.984240 = 89.288 + 79.723 = 169.011
    #   CLV_pred   = 600 + 169.011 = 769.011
    #   expected loss = 0.271 × 169.011 = 45.80
    # The old definition, p × CLV_pred = 0.271 × 769.011 = 208.40, counted the banked 600.
    hist = historical_clv(np.array([1000.0]), np.array([200.0]), np.array([0.5]))
    assert hist[0] == 600.0
    future = expected_remaining_margin(np.array([100.0]), np.array([0.271]), horizon_months=2, annual_discount=0.10)
    assert future[0] == pytest.approx(169.011, abs=1e-3)
    pred = predicted_clv(hist, future)
    assert pred[0] == pytest.approx(769.011, abs=1e-3)
    loss = expected_loss(np.array([0.271]), future)[0]
    assert loss == pytest.approx(45.80, abs=0.01)
    assert loss != pytest.approx(0.271 * pred[0])  # the old p × CLV_pred, 208.40


def test_customer_value_stores_the_future_value_and_ranks_by_it():
    # Two customers with the same p90 = 0.271, H = 2, d = 10 % (factor 0.9·0.992089 + 0.81·0.984240
    # = 1.690115 per unit of monthly margin):
    #   A: margin 0.5 on 20,000 earned (hist 10,000), M = 0.5·20 = 10   -> future 16.90
    #   B: margin 0.5 on 200 earned (hist 100),       M = 0.5·200 = 100 -> future 169.01
    # New losses: A 0.271·16.90 = 4.58, B 0.271·169.01 = 45.80 -> B first.
    # Old losses (p × CLV_pred): A 0.271·10,016.90 = 2,714.58, B 0.271·269.01 = 72.90 -> A first.
    inputs = pd.DataFrame({"customer_id": [1, 2], "margin_rate": [0.5, 0.5], "mrr": [20.0, 200.0],
                           "recurring_revenue": [20_000.0, 200.0], "purchase_revenue": [0.0, 0.0]})
    value = customer_value(inputs, np.array([0.271, 0.271]), horizon_months=2).set_index("customer_id")
    assert value["clv_historical"].tolist() == [10_000.0, 100.0]
    assert value["clv_future"].tolist() == pytest.approx([16.901, 169.011], abs=1e-3)
    assert (value["clv_predicted"] - value["clv_historical"]).tolist() == pytest.approx(value["clv_future"].tolist())
    assert value["expected_loss"].tolist() == pytest.approx([4.580, 45.802], abs=1e-3)
    assert value["expected_loss"].idxmax() == 2
    assert (0.271 * value["clv_predicted"]).idxmax() == 1  # what the old definition ranked first


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_probabilities_outside_0_1_are_rejected(bad):
    with pytest.raises(ValueError, match="churn probabilities"):
        monthly_hazard(np.array([0.1, bad]))


def test_bad_horizon_and_discount_are_rejected():
    with pytest.raises(ValueError, match="horizon_months"):
        expected_remaining_margin(1.0, 0.1, horizon_months=-1)
    with pytest.raises(ValueError, match="annual_discount"):
        expected_remaining_margin(1.0, 0.1, annual_discount=-1.0)


def test_clv_inputs_from_the_database(tiny_db):
    db = tiny_db(
        customers=[
            dict(customer_id=1, signup_date=date(2024, 9, 10), margin_rate=0.4, monthly_revenue=130.0),
            dict(customer_id=2, signup_date=date(2024, 1, 1), margin_rate=0.5, monthly_revenue=80.0),
            dict(customer_id=3, signup_date=date(2024, 1, 1), churn_date=date(2024, 11, 1)),  # not active
        ],
        monthly_revenue=[
            dict(customer_id=1, month=date(2024, 9, 1), mrr=100.0),
            dict(customer_id=1, month=date(2024, 10, 1), mrr=100.0),
            dict(customer_id=1, month=date(2024, 11, 1), mrr=120.0),
            dict(customer_id=1, month=date(2024, 12, 1), mrr=120.0),
            dict(customer_id=1, month=date(2025, 1, 1), mrr=999.0),  # after the as-of month
        ],
        touchpoints=[
            dict(customer_id=1, occurred_at=datetime(2024, 10, 5, 12), kind="purchase", amount=50.0),
            dict(customer_id=1, occurred_at=datetime(2024, 12, 31, 23, 59), kind="purchase", amount=25.0),
            dict(customer_id=1, occurred_at=datetime(2025, 1, 1, 0, 0), kind="purchase", amount=1000.0),
            dict(customer_id=1, occurred_at=datetime(2024, 11, 5, 12), kind="billing_issue", amount=-30.0),
        ],
    )
    inputs = clv_inputs(db, date(2024, 12, 31)).set_index("customer_id")
    assert list(inputs.index) == [1, 2]
    assert inputs.loc[1, "recurring_revenue"] == 440.0
    assert inputs.loc[1, "purchase_revenue"] == 75.0
    assert inputs.loc[1, "mrr"] == 120.0  # the as-of month's billed MRR
    assert inputs.loc[2, "mrr"] == 80.0  # no billing row: the customer's stated MRR
    assert inputs.loc[2, "recurring_revenue"] == 0.0

    value = customer_value(inputs.reset_index(), np.array([0.271, 0.0]), horizon_months=2).set_index("customer_id")
    assert value.loc[1, "clv_historical"] == pytest.approx(0.4 * (440 + 75))
    remaining = 120 * 0.4 * (0.9 * 1.1 ** (-1 / 12) + 0.81 * 1.1 ** (-2 / 12))
    assert value.loc[1, "clv_future"] == pytest.approx(remaining)
    assert value.loc[1, "clv_predicted"] == pytest.approx(0.4 * 515 + remaining)
    assert value.loc[1, "expected_loss"] == pytest.approx(0.271 * remaining)  # not × the 206 already earned
    assert value.loc[2, "expected_loss"] == 0.0
